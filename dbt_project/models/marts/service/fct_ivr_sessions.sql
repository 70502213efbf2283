-- One row per IVR session, booked by IVR entry, with the parts of IVR containment.
-- A table rebuilt whole: the optional repeat-caller rule looks at the caller's next session,
-- which a later extract can bring.
{% set repeat_window_hours = var('ivr_repeat_window_hours') | int %}

with sessions as (

    select * from {{ ref('stg_ivr__sessions') }}

),

-- The IVR extract has no site: take the site of the switch that carried the inbound call,
-- else that of the first queue the call entered.
pbx_sites as (

    select call_id, min(site_id) as site_id
    from {{ ref('stg_pbx__call_legs') }}
    where direction = 'inbound'
    group by call_id

),

queue_sites as (

    select contact_id, min(site_id) as site_id
    from {{ ref('int_contacts__queue_legs') }}
    where queue_leg = 1
    group by contact_id

),

located as (

    select
        sessions.*,
        coalesce(pbx_sites.site_id, queue_sites.site_id) as site_id,
        lead(sessions.entered_at) over (
            partition by sessions.caller_number_hash
            order by sessions.entered_at, sessions.session_id
        ) as next_entered_at
    from sessions
    left join pbx_sites on sessions.contact_id = pbx_sites.call_id
    left join queue_sites on sessions.contact_id = queue_sites.contact_id

),

flagged as (

    select
        located.*,
        sites.time_zone,
        {{ ccq.utc_to_local('located.entered_at', 'sites.time_zone') }} as entered_at_local,
        case when outcome = 'SELF_SERVED' then 1 else 0 end as is_self_served,
        -- A caller without a number cannot be recognised calling again.
        case when {{ repeat_window_hours }} > 0
                  and caller_number_hash is not null
                  and next_entered_at is not null
                  and {{ ccq.seconds_between('exited_at', 'next_entered_at') }} <= {{ repeat_window_hours }} * 3600
             then 1 else 0 end as is_repeat_within_window
    from located
    left join {{ ref('int_reference__sites') }} as sites on located.site_id = sites.site_id

)

select
    session_id,
    contact_id,
    caller_number_hash,
    customer_id_hash,
    site_id,
    time_zone,
    entered_at,
    entered_at_local,
    cast(entered_at_local as date) as local_date,
    exited_at,
    duration_seconds,
    menu_path,
    outcome,
    is_self_served,
    case when outcome = 'HANGUP' then 1 else 0 end as is_hangup,
    case when outcome = 'TO_AGENT' then 1 else 0 end as is_to_agent,
    case when outcome = 'ERROR' then 1 else 0 end as is_error,
    is_repeat_within_window,
    is_self_served * (1 - is_repeat_within_window) as is_contained,
    {{ repeat_window_hours }} as repeat_window_hours,
    _loaded_at
from flagged
-- A session can be placed on a local calendar only once its site is known (its PBX or queue
-- leg delivered); until then it is left out, and the missing extract uncertifies the period.
where time_zone is not null
