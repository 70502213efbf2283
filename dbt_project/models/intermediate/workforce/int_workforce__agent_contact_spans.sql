-- One row per stretch of an agent's work on a handled queue leg: TALK (connect to talk end,
-- holds included), each HOLD, and ACW (talk end to ACWEND). Holds are spans of their own so
-- that an interval boundary or midnight falling inside a hold splits it exactly; the agent
-- fact gives HOLD precedence over the TALK span around it.
with legs as (

    select contact_id, queue_leg, agent_id, connected_at, talk_ended_at, acw_ended_at, _loaded_at
    from {{ ref('int_contacts__queue_legs') }}
    where is_handled = 1
      and agent_id is not null

),

hold_events as (

    select
        contact_id,
        queue_leg,
        event_type,
        event_at,
        row_number() over (
            partition by contact_id, queue_leg, event_type
            order by event_at, _line_no
        ) as hold_no
    from {{ ref('stg_acd__queue_events') }}
    where event_type in ('HOLD', 'UNHOLD')

),

-- The n-th HOLD pairs with the n-th UNHOLD; a hold never released closes at the end of talk,
-- as in int_contacts__queue_legs, so the seconds here add up to its hold_seconds.
holds as (

    select
        hold_on.contact_id,
        hold_on.queue_leg,
        hold_on.hold_no,
        hold_on.event_at as started_at,
        hold_off.event_at as released_at
    from hold_events as hold_on
    left join hold_events as hold_off
        on hold_on.contact_id = hold_off.contact_id
        and hold_on.queue_leg = hold_off.queue_leg
        and hold_off.event_type = 'UNHOLD'
        and hold_on.hold_no = hold_off.hold_no
    where hold_on.event_type = 'HOLD'

),

spans as (

    select contact_id, queue_leg, agent_id, 'TALK' as activity, 0 as span_no,
           connected_at as started_at, talk_ended_at as ended_at, _loaded_at
    from legs

    union all

    select legs.contact_id, legs.queue_leg, legs.agent_id, 'HOLD' as activity, holds.hold_no as span_no,
           holds.started_at, coalesce(holds.released_at, legs.talk_ended_at) as ended_at, legs._loaded_at
    from legs
    inner join holds
        on legs.contact_id = holds.contact_id
        and legs.queue_leg = holds.queue_leg

    union all

    select contact_id, queue_leg, agent_id, 'ACW' as activity, 0 as span_no,
           talk_ended_at as started_at, acw_ended_at as ended_at, _loaded_at
    from legs
    where acw_ended_at is not null

)

select *
from spans
where ended_at > started_at
