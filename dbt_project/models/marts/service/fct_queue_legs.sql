-- One row per queue leg, at the level of the individual contact so that medians, percentiles
-- and maxima of the wait can be recomputed at any grain and scope (docs/semantic_layer.md).
-- Incremental on the same contacts as int_contacts__queue_legs (macros/incremental.sql): the macro reads
-- this model's own _loaded_at and entered_at, so a build that skipped this model catches up;
-- plus the contacts whose agent legs a roster file loaded since then gives another team.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    incremental_predicates=["contact_id in ({{ ccq.queue_legs_contacts_to_rebuild() }} union {{ ccq.queue_legs_roster_contacts_to_rebuild() }})"],
    on_schema_change='fail',
) }}

with legs as (

    -- A leg whose ENTERQUEUE has not arrived cannot be booked; it joins the fact when it does.
    select * from {{ ref('int_contacts__queue_legs') }}
    where entered_at is not null
    {% if is_incremental() %}
      and contact_id in ({{ ccq.queue_legs_contacts_to_rebuild() }} union {{ ccq.queue_legs_roster_contacts_to_rebuild() }})
    {% endif %}

),

-- The roster row in force on the local day of the leg: the agent's latest daily snapshot on
-- or before that day. The first snapshot also covers the days before it, so legs older than
-- the roster history still get the earliest known team rather than none
-- (int_people__roster_periods).
roster as (

    select agent_id, team_id, supervisor_id, valid_from, valid_until
    from {{ ref('int_people__roster_periods') }}

)

select
    legs.contact_id,
    legs.queue_leg,
    legs.entered_at,
    legs.entered_at_local,
    cast(legs.entered_at_local as date) as local_date,
    legs.time_zone,
    legs.queue_id,
    queues.call_type,
    queues.direction,
    queues.channel,
    legs.site_id,
    legs.agent_id,
    roster.team_id,
    roster.supervisor_id,
    legs.caller_number_hash,
    legs.customer_id_hash,
    legs.connected_at,
    legs.abandoned_at,
    legs.exited_at,
    legs.talk_ended_at,
    legs.acw_ended_at,

    legs.is_answered,
    legs.is_abandoned,
    legs.is_short_abandoned,
    legs.is_overflowed,
    legs.is_handled,
    legs.is_transferred,
    case when legs.holds > 0 then 1 else 0 end as is_held,
    legs.holds,
    legs.ring_no_answers,
    legs.is_answered_within_threshold,
    legs.is_abandoned_within_threshold,
    legs.sl_met,
    legs.sl_offered,

    legs.wait_seconds,
    -- Null outside the outcome, so that sums, medians and percentiles over the column see the
    -- waits of that outcome only.
    case when legs.is_answered = 1 then legs.wait_seconds end as answered_wait_seconds,
    case when legs.is_abandoned = 1 then legs.wait_seconds end as abandoned_wait_seconds,
    legs.talk_seconds,
    legs.hold_seconds,
    legs.acw_seconds,
    legs.talk_seconds + legs.hold_seconds + legs.acw_seconds as handle_seconds,

    legs.sl_threshold_seconds,
    legs.sl_variant,
    legs.short_abandon_seconds,
    legs._loaded_at
from legs
left join {{ ref('int_reference__queues') }} as queues on legs.queue_id = queues.queue_id
left join roster
    on legs.agent_id = roster.agent_id
    and cast(legs.entered_at_local as date) >= roster.valid_from
    and cast(legs.entered_at_local as date) < roster.valid_until
