-- One row per contact per queue it entered (queue leg). Overflow and transfers open a new
-- leg, so a contact is offered once per queue it entered and handled once per agent leg.
-- Incremental: only the contacts touched by the extract days loaded since the last build
-- (plus var lookback_days) are rebuilt, whole (macros/incremental.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    incremental_predicates=["contact_id in ({{ ccq.queue_legs_contacts_to_rebuild() }})"],
    on_schema_change='fail',
) }}

with events as (

    select * from {{ ref('stg_acd__queue_events') }}
    {% if is_incremental() %}
    where contact_id in ({{ ccq.queue_legs_contacts_to_rebuild() }})
    {% endif %}

),

legs as (

    select
        contact_id,
        queue_leg,
        coalesce(
            max(case when event_type = 'ENTERQUEUE' then queue_id end),
            max(queue_id)
        ) as queue_id,
        max(case when event_type = 'ENTERQUEUE' then caller_number_hash end) as caller_number_hash,
        max(case when event_type = 'ENTERQUEUE' then customer_id_hash end) as customer_id_hash,
        min(case when event_type = 'ENTERQUEUE' then event_at end) as entered_at,
        min(case when event_type = 'CONNECT' then event_at end) as connected_at,
        max(case when event_type = 'CONNECT' then agent_id end) as agent_id,
        min(case when event_type = 'ABANDON' then event_at end) as abandoned_at,
        min(case when event_type = 'EXITTIMEOUT' then event_at end) as exited_at,
        min(case when event_type in ('COMPLETE', 'TRANSFER') then event_at end) as talk_ended_at,
        max(case when event_type = 'TRANSFER' then 1 else 0 end) as is_transferred,
        min(case when event_type = 'ACWEND' then event_at end) as acw_ended_at,
        sum(case when event_type = 'RINGNOANSWER' then 1 else 0 end) as ring_no_answers,
        sum(case when event_type = 'HOLD' then 1 else 0 end) as holds,
        sum(case when event_type = 'UNHOLD' then 1 else 0 end) as unholds,
        -- Hold time = sum(UNHOLD) - sum(HOLD); a hold still open at the end of talk closes there.
        sum(case when event_type = 'UNHOLD' then {{ ccq.epoch_seconds('event_at') }}
                 when event_type = 'HOLD' then -{{ ccq.epoch_seconds('event_at') }}
                 else 0 end) as hold_epoch_balance,
        max(_loaded_at) as _loaded_at
    from events
    group by contact_id, queue_leg

),

with_site as (

    select
        legs.*,
        queues.site_id,
        sites.time_zone
    from legs
    left join {{ ref('int_reference__queues') }} as queues on legs.queue_id = queues.queue_id
    left join {{ ref('int_reference__sites') }} as sites on queues.site_id = sites.site_id

),

measured as (

    select
        *,
        {{ ccq.utc_to_local('entered_at', 'time_zone') }} as entered_at_local,
        {{ ccq.seconds_between('entered_at', 'coalesce(connected_at, abandoned_at, exited_at)') }} as wait_seconds,
        case
            when holds = 0 then 0
            else hold_epoch_balance
                + (holds - unholds) * {{ ccq.epoch_seconds('coalesce(talk_ended_at, connected_at)') }}
        end as hold_seconds
    from with_site

),

-- The definition in force on the day the contact entered the queue travels with the row.
with_definition as (

    select
        measured.*,
        params.sl_threshold_seconds,
        params.sl_variant,
        params.short_abandon_seconds,
        case when measured.connected_at is not null then 1 else 0 end as is_answered_raw,
        case when measured.connected_at is null and measured.abandoned_at is not null then 1 else 0 end as is_abandoned_raw
    from measured
    left join {{ ref('int_reference__queue_parameters') }} as params
        on measured.queue_id = params.queue_id
        and cast(measured.entered_at_local as date) >= params.effective_from
        and cast(measured.entered_at_local as date) <= params.effective_to

),

flagged as (

    select
        *,
        case when is_answered_raw = 1 and wait_seconds <= sl_threshold_seconds then 1 else 0 end as within_t_answered,
        case when is_abandoned_raw = 1 and wait_seconds <= sl_threshold_seconds then 1 else 0 end as within_t_abandoned,
        case when is_abandoned_raw = 1 and wait_seconds <= sl_threshold_seconds
                  and wait_seconds >= short_abandon_seconds then 1 else 0 end as within_t_abandoned_not_short,
        case when is_abandoned_raw = 1 and wait_seconds < short_abandon_seconds then 1 else 0 end as short_abandon,
        case when connected_at is not null then 1 else 0 end as is_answered,
        case when connected_at is null and abandoned_at is not null then 1 else 0 end as is_abandoned,
        case when connected_at is null and abandoned_at is null and exited_at is not null then 1 else 0 end as is_overflowed,
        case when connected_at is not null and talk_ended_at is not null then 1 else 0 end as is_handled
    from with_definition

)

select
    contact_id,
    queue_leg,
    queue_id,
    site_id,
    time_zone,
    agent_id,
    caller_number_hash,
    customer_id_hash,
    entered_at,
    entered_at_local,
    connected_at,
    abandoned_at,
    exited_at,
    talk_ended_at,
    acw_ended_at,
    is_answered,
    is_abandoned,
    is_overflowed,
    is_handled,
    is_transferred * is_handled as is_transferred,
    ring_no_answers,
    wait_seconds,
    short_abandon as is_short_abandoned,
    within_t_answered as is_answered_within_threshold,
    within_t_abandoned as is_abandoned_within_threshold,
    -- Service-level parts under the variant in force (kpis.md): the standard excludes short
    -- abandons and counts later abandons as missed.
    case when sl_variant = 'abandons_met' then within_t_answered + within_t_abandoned_not_short
         else within_t_answered end as sl_met,
    case sl_variant
        when 'abandons_excluded' then is_answered_raw
        when 'short_abandons_kept' then is_answered_raw + is_abandoned_raw
        else is_answered_raw + is_abandoned_raw - short_abandon
    end as sl_offered,
    case when is_handled = 1
         then {{ ccq.seconds_between('connected_at', 'talk_ended_at') }} - hold_seconds else 0 end as talk_seconds,
    case when is_handled = 1 then hold_seconds else 0 end as hold_seconds,
    case when is_handled = 1 and acw_ended_at is not null
         then {{ ccq.seconds_between('talk_ended_at', 'acw_ended_at') }} else 0 end as acw_seconds,
    sl_threshold_seconds,
    sl_variant,
    short_abandon_seconds,
    _loaded_at,
    -- Appended after _loaded_at so existing columns keep their positions.
    case when is_handled = 1 then holds else 0 end as holds
from flagged
