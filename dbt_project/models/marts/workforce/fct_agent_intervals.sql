-- Agent x interval (UTC-bucketed, labelled in the local time of the agent's site) with only
-- additive seconds and counts: every workforce ratio is recomputed from sums at the grain asked.
--
-- Method, in three jobs:
-- 1. cut: every span (a state, a contact activity, a schedule segment) is cut into one piece
--    per interval it overlaps, so only the intervals an agent has something in are visited
--    (macros/workforce/agent_interval_pieces.sql);
-- 2. classify: within an agent's interval, every piece boundary cuts the interval into
--    elementary segments within which nothing changes, each classified once: a second is
--    counted in exactly one actual state and at most one scheduled activity, however the
--    sources overlap, and spans crossing interval boundaries or midnight are split to the
--    second (macros/workforce/agent_segments.sql);
-- 3. here: the segments' seconds and the handled contacts summed per agent and interval, then
--    labelled with the local time of the agent's site and the roster row of that local day.
--
-- Incremental: only the UTC days touched by the files loaded since the last build (and every
-- day of an agent whose clock or first roster row changed) are rebuilt, from every span that
-- overlaps them, so a span crossing midnight is whole on both days (macros/incremental.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    incremental_predicates=["cast(interval_start_utc as date) in ({{ ccq.agent_interval_days_to_rebuild() }}) or agent_id in ({{ ccq.agent_interval_agents_to_rebuild() }})"],
    on_schema_change='fail',
) }}
{% set minutes = var('interval_minutes') %}
{#- Precedence, first wins: on a contact beats any state (work on a call counts even if the
    state log disagrees); then the agent's state. -#}
{% set contact_activities = ['HOLD', 'TALK', 'ACW'] %}
{% set state_codes = ['READY', 'BREAK', 'LUNCH', 'TRAINING', 'MEETING', 'SYSTEM', 'PERSONAL', 'OTHER'] %}
{% set schedule_activities = ['OPEN', 'BREAK', 'LUNCH', 'TRAINING', 'MEETING', 'ABSENCE', 'OTHER'] %}
{#- Non-contact activities an agent adheres to by being in the not-ready reason of the same
    name or signed out (agents commonly sign out for lunch or off-phone training). -#}
{% set offline_activities = ['BREAK', 'LUNCH', 'TRAINING', 'MEETING'] %}
{% set shrinkage_reasons = ['break', 'lunch', 'training', 'meeting', 'absence', 'system', 'personal', 'other'] %}

with
{% if is_incremental() %}
days_to_rebuild as (

    {{ ccq.agent_interval_days_to_rebuild() }}

),

agents_to_rebuild as (

    {{ ccq.agent_interval_agents_to_rebuild() }}

),
{% endif %}

state_spans as (

    select agent_id, state_code as code, started_at, ended_at, _loaded_at
    from {{ ref('int_workforce__agent_state_spans') }}

),

contact_spans as (

    select agent_id, activity as code, started_at, ended_at, _loaded_at
    from {{ ref('int_workforce__agent_contact_spans') }}

),

schedule_spans as (

    select
        agent_id,
        case when activity in ('OPEN', 'BREAK', 'LUNCH', 'TRAINING', 'MEETING', 'ABSENCE')
             then activity else 'OTHER' end as code,
        starts_at as started_at,
        ends_at as ended_at,
        _loaded_at
    from {{ ref('stg_wfm__schedules') }}
    where ends_at > starts_at

),

all_spans as (

    select 'state' as stream, state_spans.* from state_spans
    union all
    select 'contact' as stream, contact_spans.* from contact_spans
    union all
    select 'schedule' as stream, schedule_spans.* from schedule_spans

),

spans as (

    select
        all_spans.*,
        {{ ccq.interval_start('started_at', minutes) }} as first_interval_utc
    from all_spans
    {% if is_incremental() %}
    -- Every span overlapping a day to rebuild, whole: a span from the evening before gives the
    -- day its first minutes; its pieces on other days are dropped below. The bounds let the
    -- scan skip row groups; the date tests are exact.
    where started_at < (select {{ dbt.dateadd('day', 1, 'max(day)') }} from days_to_rebuild)
      and ended_at >= (select min(day) from days_to_rebuild)
      and (cast(started_at as date) in (select day from days_to_rebuild)
           or cast(ended_at as date) in (select day from days_to_rebuild)
           or exists (
               select 1 from days_to_rebuild
               where days_to_rebuild.day > cast(all_spans.started_at as date)
                 and days_to_rebuild.day < cast(all_spans.ended_at as date)
           ))
      and not exists (select 1 from agents_to_rebuild where agents_to_rebuild.agent_id = all_spans.agent_id)
    union all
    select
        all_spans.*,
        {{ ccq.interval_start('started_at', minutes) }} as first_interval_utc
    from all_spans
    where agent_id in (select agent_id from agents_to_rebuild)
    {% endif %}

),

{{ ccq.agent_interval_pieces(minutes) }}

{{ ccq.agent_segments(contact_activities, state_codes, schedule_activities, offline_activities) }}

timeline as (

    select
        agent_id,
        interval_start_utc,
        sum(case when actual <> 'OUT' then seconds else 0 end) as staffed_seconds,
        sum(case when actual = 'IDLE' then seconds else 0 end) as available_seconds,
        sum(case when actual = 'TALK' then seconds else 0 end) as talk_seconds,
        sum(case when actual = 'HOLD' then seconds else 0 end) as hold_seconds,
        sum(case when actual = 'ACW' then seconds else 0 end) as acw_seconds,
        sum(case when actual in ('TALK', 'HOLD', 'ACW') then seconds else 0 end) as handle_seconds,
        sum(case when is_productive = 1 then seconds else 0 end) as productive_seconds,
        {%- for c in state_codes if c != 'READY' %}
        sum(case when actual = '{{ c }}' then seconds else 0 end) as not_ready_{{ c | lower }}_seconds,
        {%- endfor %}
        sum(case when scheduled is not null then seconds else 0 end) as scheduled_seconds,
        {%- for a in schedule_activities %}
        sum(case when scheduled = '{{ a }}' then seconds else 0 end) as scheduled_{{ a | lower }}_seconds,
        {%- endfor %}
        sum(case when scheduled is not null and is_productive = 1 then seconds else 0 end) as scheduled_productive_seconds,
        sum(case when is_adherent = 1 then seconds else 0 end) as adherent_seconds,
        sum(case when scheduled = 'OPEN' and is_adherent = 1 then seconds else 0 end) as adherent_open_seconds,
        sum(case when shrinkage_reason is not null then seconds else 0 end) as shrinkage_seconds,
        {%- for r in shrinkage_reasons %}
        sum(case when shrinkage_reason = '{{ r }}' then seconds else 0 end) as shrinkage_{{ r }}_seconds,
        {%- endfor %}
        0 as handled,
        max(_loaded_at) as _loaded_at
    from flagged
    group by agent_id, interval_start_utc

),

-- A handled leg is booked to the agent in the interval in which the agent answered it
-- (CONNECT), the moment the agent's work on it began.
handled as (

    select
        agent_id,
        {{ ccq.interval_start('connected_at', minutes) }} as interval_start_utc,
        count(*) as handled,
        max(_loaded_at) as _loaded_at
    from {{ ref('int_contacts__queue_legs') }}
    where is_handled = 1
      and agent_id is not null
    {% if is_incremental() %}
      and (connected_at >= (select min(day) from days_to_rebuild)
           and cast(connected_at as date) in (select day from days_to_rebuild)
           or agent_id in (select agent_id from agents_to_rebuild))
    {% endif %}
    group by agent_id, {{ ccq.interval_start('connected_at', minutes) }}

),

{% set measures = ['staffed_seconds', 'available_seconds', 'talk_seconds', 'hold_seconds', 'acw_seconds',
                   'handle_seconds', 'productive_seconds'] %}
{% for c in state_codes if c != 'READY' %}{% do measures.append('not_ready_' ~ (c | lower) ~ '_seconds') %}{% endfor %}
{% do measures.append('scheduled_seconds') %}
{% for a in schedule_activities %}{% do measures.append('scheduled_' ~ (a | lower) ~ '_seconds') %}{% endfor %}
{% do measures.extend(['scheduled_productive_seconds', 'adherent_seconds', 'adherent_open_seconds', 'shrinkage_seconds']) %}
{% for r in shrinkage_reasons %}{% do measures.append('shrinkage_' ~ r ~ '_seconds') %}{% endfor %}

combined as (

    select agent_id, interval_start_utc,
        {%- for m in measures %} {{ m }},{% endfor %} handled, _loaded_at
    from timeline
    union all
    select agent_id, interval_start_utc,
        {%- for m in measures %} 0 as {{ m }},{% endfor %} handled, _loaded_at
    from handled

),

summed as (

    select
        agent_id,
        interval_start_utc,
        {%- for m in measures %}
        sum({{ m }}) as {{ m }},
        {%- endfor %}
        sum(handled) as handled,
        max(_loaded_at) as _loaded_at
    from combined
    group by agent_id, interval_start_utc

),

-- The roster row in force on the local day of the interval: the agent's latest daily snapshot
-- on or before that day; the first snapshot also covers the days before it (as in
-- fct_queue_legs, so both facts put an agent-day in the same team; int_people__roster_periods).
roster as (

    select agent_id, team_id, supervisor_id, site_id, valid_from, valid_until, is_latest
    from {{ ref('int_people__roster_periods') }}

),

-- The local day needs a clock before the roster row of the day can be chosen: the site of the
-- latest snapshot gives it (UTC for an agent missing from the roster).
clocks as (

    select roster.agent_id, sites.time_zone
    from roster
    left join {{ ref('int_reference__sites') }} as sites on roster.site_id = sites.site_id
    where roster.is_latest = 1

),

labelled as (

    select
        summed.*,
        {{ ccq.calendar_time_zone('clocks.time_zone') }} as time_zone,
        {{ ccq.utc_to_local('summed.interval_start_utc', ccq.calendar_time_zone('clocks.time_zone')) }} as interval_start_local
    from summed
    left join clocks on summed.agent_id = clocks.agent_id

),

-- The roster range lookup runs once per agent and local day, not once per interval.
agent_days as (

    select
        agent_days.agent_id,
        agent_days.local_date,
        roster.team_id,
        roster.supervisor_id,
        roster.site_id
    from (
        select distinct agent_id, cast(interval_start_local as date) as local_date
        from labelled
    ) as agent_days
    inner join roster
        on agent_days.agent_id = roster.agent_id
        and agent_days.local_date >= roster.valid_from
        and agent_days.local_date < roster.valid_until

)

select
    labelled.agent_id,
    agent_days.team_id,
    agent_days.supervisor_id,
    agent_days.site_id,
    labelled.interval_start_utc,
    labelled.interval_start_local,
    cast(labelled.interval_start_local as date) as local_date,
    labelled.time_zone,
    {{ minutes }} as interval_minutes,
    {%- for m in measures %}
    labelled.{{ m }},
    {%- endfor %}
    labelled.handled,
    labelled._loaded_at
from labelled
left join agent_days
    on labelled.agent_id = agent_days.agent_id
    and cast(labelled.interval_start_local as date) = agent_days.local_date
