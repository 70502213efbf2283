-- Queue x interval (UTC-bucketed, labelled in the site's local time) with only additive
-- parts: every ratio and average is recomputed from sums at the grain asked for.
-- Incremental: only the UTC days touched since the last build are rebuilt (macros/incremental.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    incremental_predicates=["cast(interval_start_utc as date) in ({{ ccq.queue_interval_days_to_rebuild() }})"],
    on_schema_change='fail',
) }}
{% set minutes = var('interval_minutes') %}

with legs as (

    select * from {{ ref('int_contacts__queue_legs') }}
    where entered_at is not null
    {% if is_incremental() %}
      and cast(entered_at as date) in ({{ ccq.queue_interval_days_to_rebuild() }})
    {% endif %}

),

bucketed as (

    select
        *,
        {{ ccq.interval_start('entered_at', minutes) }} as interval_start_utc
    from legs

)

select
    queue_id,
    max(site_id) as site_id,
    interval_start_utc,
    {{ ccq.utc_to_local('interval_start_utc', 'max(time_zone)') }} as interval_start_local,
    cast({{ ccq.utc_to_local('interval_start_utc', 'max(time_zone)') }} as date) as local_date,
    {{ minutes }} as interval_minutes,
    count(*) as offered,
    sum(is_answered) as answered,
    sum(is_abandoned) as abandoned,
    sum(is_short_abandoned) as short_abandoned,
    sum(is_overflowed) as overflowed,
    sum(is_answered_within_threshold) as answered_within_threshold,
    sum(is_abandoned_within_threshold) as abandoned_within_threshold,
    sum(sl_met) as sl_numerator,
    sum(sl_offered) as sl_denominator,
    sum(is_handled) as handled,
    sum(is_transferred) as transferred,
    sum(case when is_answered = 1 then wait_seconds else 0 end) as wait_seconds_answered,
    sum(case when is_abandoned = 1 then wait_seconds else 0 end) as wait_seconds_abandoned,
    sum(talk_seconds) as talk_seconds,
    sum(hold_seconds) as hold_seconds,
    sum(acw_seconds) as acw_seconds,
    sum(talk_seconds + hold_seconds + acw_seconds) as handle_seconds,
    max(sl_threshold_seconds) as sl_threshold_seconds,
    max(short_abandon_seconds) as short_abandon_seconds,
    max(sl_variant) as sl_variant,
    max(_loaded_at) as _loaded_at
from bucketed
group by queue_id, interval_start_utc
