-- Agent x interval (UTC-bucketed, labelled in the local time of the agent's site) with only
-- additive seconds and counts: every workforce ratio is recomputed from sums at the grain asked.
--
-- Method: every moment at which anything about the agent changes (a state, a contact activity,
-- a schedule segment, an interval boundary) cuts the agent's timeline into elementary segments
-- within which nothing changes. Open spans are tracked as running counters of +1 at start and
-- -1 at end, so overlapping or contiguous spans need no pairing, and each segment is classified
-- once: a second is counted in exactly one actual state and at most one scheduled activity,
-- however the sources overlap, and spans crossing interval boundaries or midnight are split to
-- the second. Interval starts are boundaries on every UTC day the agent has a span, so no
-- segment crosses an interval.
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

with state_spans as (

    select agent_id, state_code as code, started_at, ended_at
    from {{ ref('int_agent_state_spans') }}

),

contact_spans as (

    select agent_id, activity as code, started_at, ended_at
    from {{ ref('int_agent_contact_spans') }}

),

schedule_spans as (

    select
        agent_id,
        case when activity in ('OPEN', 'BREAK', 'LUNCH', 'TRAINING', 'MEETING', 'ABSENCE')
             then activity else 'OTHER' end as code,
        starts_at as started_at,
        ends_at as ended_at
    from {{ ref('stg_wfm__schedules') }}
    where ends_at > starts_at

),

spans as (

    select 'state' as stream, state_spans.* from state_spans
    union all
    select 'contact' as stream, contact_spans.* from contact_spans
    union all
    select 'schedule' as stream, schedule_spans.* from schedule_spans

),

-- UTC days each agent has a span on (every day a long span covers, not only its ends).
days as (

    {{ ccq.day_spine(
        '(select min(cast(started_at as date)) from spans)',
        '(select max(cast(ended_at as date)) from spans)') }}

),

agent_days as (

    select distinct spans.agent_id, days.day
    from spans
    inner join days
        on days.day >= cast(spans.started_at as date)
        and days.day <= cast(spans.ended_at as date)

),

offsets as (

    {% for k in range((24 * 60 / minutes) | int) -%}
    select {{ k * minutes }} as minute_of_day{{ ' union all' if not loop.last }}
    {% endfor %}

),

changes as (

    select stream, code, agent_id, started_at as at_utc, 1 as delta from spans
    union all
    select stream, code, agent_id, ended_at as at_utc, -1 as delta from spans
    union all
    select
        'grid' as stream,
        cast(null as {{ dbt.type_string() }}) as code,
        agent_days.agent_id,
        {{ dbt.dateadd('minute', 'offsets.minute_of_day', 'cast(agent_days.day as ' ~ dbt.type_timestamp() ~ ')') }} as at_utc,
        0 as delta
    from agent_days
    cross join offsets

),

points as (

    select
        agent_id,
        at_utc,
        {%- for c in contact_activities %}
        sum(case when stream = 'contact' and code = '{{ c }}' then delta else 0 end) as d_contact_{{ c | lower }},
        {%- endfor %}
        {%- for c in state_codes %}
        sum(case when stream = 'state' and code = '{{ c }}' then delta else 0 end) as d_state_{{ c | lower }},
        {%- endfor %}
        {%- for c in schedule_activities %}
        sum(case when stream = 'schedule' and code = '{{ c }}' then delta else 0 end) as d_schedule_{{ c | lower }}{{ ',' if not loop.last }}
        {%- endfor %}
    from changes
    group by agent_id, at_utc

),

running as (

    select
        agent_id,
        at_utc as started_at,
        lead(at_utc) over (partition by agent_id order by at_utc) as ended_at,
        {%- for c in contact_activities %}
        sum(d_contact_{{ c | lower }}) over (partition by agent_id order by at_utc rows between unbounded preceding and current row) as open_contact_{{ c | lower }},
        {%- endfor %}
        {%- for c in state_codes %}
        sum(d_state_{{ c | lower }}) over (partition by agent_id order by at_utc rows between unbounded preceding and current row) as open_state_{{ c | lower }},
        {%- endfor %}
        {%- for c in schedule_activities %}
        sum(d_schedule_{{ c | lower }}) over (partition by agent_id order by at_utc rows between unbounded preceding and current row) as open_schedule_{{ c | lower }}{{ ',' if not loop.last }}
        {%- endfor %}
    from points

),

classified as (

    select
        agent_id,
        {{ ccq.interval_start('started_at', minutes) }} as interval_start_utc,
        {{ ccq.seconds_between('started_at', 'ended_at') }} as seconds,
        case
            {%- for c in contact_activities %}
            when open_contact_{{ c | lower }} > 0 then '{{ c }}'
            {%- endfor %}
            {%- for c in state_codes %}
            when open_state_{{ c | lower }} > 0 then '{{ 'IDLE' if c == 'READY' else c }}'
            {%- endfor %}
            else 'OUT'
        end as actual,
        case
            {%- for c in schedule_activities %}
            when open_schedule_{{ c | lower }} > 0 then '{{ c }}'
            {%- endfor %}
        end as scheduled
    from running
    where ended_at is not null

),

flagged as (

    select
        classified.*,
        case when actual in ('HOLD', 'TALK', 'ACW', 'IDLE') then 1 else 0 end as is_productive,
        case
            when scheduled = 'OPEN' and actual in ('HOLD', 'TALK', 'ACW', 'IDLE') then 1
            {%- for a in offline_activities %}
            when scheduled = '{{ a }}' and actual in ('{{ a }}', 'OUT') then 1
            {%- endfor %}
            when scheduled = 'ABSENCE' and actual = 'OUT' then 1
            else 0
        end as is_adherent,
        -- Why a paid second was not available for contacts: the agent's own not-ready reason
        -- while signed in; when signed out, the scheduled activity, and absence if the agent
        -- should have been handling contacts (late, left early, did not come).
        case
            when scheduled is null or actual in ('HOLD', 'TALK', 'ACW', 'IDLE') then null
            when actual in ('BREAK', 'LUNCH', 'TRAINING', 'MEETING', 'SYSTEM', 'PERSONAL', 'OTHER') then lower(actual)
            when scheduled in ('BREAK', 'LUNCH', 'TRAINING', 'MEETING') then lower(scheduled)
            else 'absence'
        end as shrinkage_reason
    from classified
    where actual <> 'OUT' or scheduled is not null

),

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
        0 as handled
    from flagged
    group by agent_id, interval_start_utc

),

-- A handled leg is booked to the agent in the interval in which the agent answered it
-- (CONNECT), the moment the agent's work on it began.
handled as (

    select
        agent_id,
        {{ ccq.interval_start('connected_at', minutes) }} as interval_start_utc,
        count(*) as handled
    from {{ ref('int_queue_legs') }}
    where is_handled = 1
      and agent_id is not null
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
        {%- for m in measures %} {{ m }},{% endfor %} handled
    from timeline
    union all
    select agent_id, interval_start_utc,
        {%- for m in measures %} 0 as {{ m }},{% endfor %} handled
    from handled

),

summed as (

    select
        agent_id,
        interval_start_utc,
        {%- for m in measures %}
        sum({{ m }}) as {{ m }},
        {%- endfor %}
        sum(handled) as handled
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
    left join {{ ref('sites') }} as sites on roster.site_id = sites.site_id
    where roster.is_latest = 1

),

labelled as (

    select
        summed.*,
        {{ ccq.utc_to_local('summed.interval_start_utc', "coalesce(clocks.time_zone, 'UTC')") }} as interval_start_local
    from summed
    left join clocks on summed.agent_id = clocks.agent_id

)

select
    labelled.agent_id,
    roster.team_id,
    roster.supervisor_id,
    roster.site_id,
    labelled.interval_start_utc,
    labelled.interval_start_local,
    cast(labelled.interval_start_local as date) as local_date,
    {{ minutes }} as interval_minutes,
    {%- for m in measures %}
    labelled.{{ m }},
    {%- endfor %}
    labelled.handled
from labelled
left join roster
    on labelled.agent_id = roster.agent_id
    and cast(labelled.interval_start_local as date) >= roster.valid_from
    and cast(labelled.interval_start_local as date) < roster.valid_until
