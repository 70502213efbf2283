-- One row per stretch of signed-in time an agent spent in one ACD state. The state log only
-- records changes, so a state lasts until the agent's next event; LOGOUT opens no span (the
-- agent is signed out until the next event).
with events as (

    select agent_id, event_at, state, reason, _line_no, _loaded_at
    from {{ ref('stg_acd__agent_state_events') }}

),

sequenced as (

    select
        events.*,
        -- Events of one agent logged in the same second keep their file order.
        lead(event_at) over (partition by agent_id order by event_at, _line_no) as next_event_at,
        lead(state) over (partition by agent_id order by event_at, _line_no) as next_state
    from events

),

located as (

    select
        sequenced.*,
        agents.site_id,
        -- An agent missing from the roster (reported by the relationships test) is drawn in UTC
        -- rather than dropped.
        {{ ccq.calendar_time_zone('sites.time_zone') }} as time_zone
    from sequenced
    left join {{ ref('stg_hr__agents') }} as agents on sequenced.agent_id = agents.agent_id
    left join {{ ref('int_reference__sites') }} as sites on agents.site_id = sites.site_id

),

with_day_end as (

    select
        located.*,
        {{ ccq.local_to_utc(
            dbt.dateadd('day', 1, 'cast(cast(' ~ ccq.utc_to_local('event_at', 'time_zone') ~ ' as date) as ' ~ dbt.type_timestamp() ~ ')'),
            'time_zone') }} as local_day_ends_at
    from located
    where state <> 'LOGOUT'

),

closed as (

    select
        agent_id,
        site_id,
        time_zone,
        state,
        reason,
        case
            when state = 'LOGIN' then 'OTHER'
            when state = 'READY' then 'READY'
            when reason in ('BREAK', 'LUNCH', 'TRAINING', 'MEETING', 'SYSTEM', 'PERSONAL') then reason
            else 'OTHER'
        end as state_code,
        event_at as started_at,
        -- No sign-out before the agent's next sign-in, or none at all yet: the sign-out is
        -- missing, and counting the agent as staffed overnight would inflate every ratio, so
        -- the state closes at the end of the local day it began in.
        case
            when next_event_at is not null and next_state <> 'LOGIN' then next_event_at
            when next_event_at is not null and next_event_at < local_day_ends_at then next_event_at
            else local_day_ends_at
        end as ended_at,
        case
            when next_event_at is not null and next_state <> 'LOGIN' then 'next_event'
            when next_event_at is not null and next_event_at < local_day_ends_at then 'next_sign_in'
            else 'end_of_local_day'
        end as closed_by,
        _loaded_at
    from with_day_end

)

select *
from closed
where ended_at > started_at
