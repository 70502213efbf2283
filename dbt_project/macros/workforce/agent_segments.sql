{#- Classifying the seconds of an agent's interval (fct_agent_intervals): every boundary of a
    piece of the CTE `clipped` cuts the interval into segments within which nothing changes; open
    pieces are running counters (+1 at start, -1 at end), so overlapping or contiguous spans need
    no pairing. Each segment gets one actual state (a contact beats any state, then the agent's
    state, else OUT) and at most one scheduled activity, then whether it is productive, adherent,
    and why it was shrinkage. Emits the CTEs changes, running, classified and flagged. -#}
{% macro agent_segments(contact_activities, state_codes, schedule_activities, offline_activities) %}

changes as (

    select stream, code, agent_id, interval_start_utc, started_at as at_utc, 1 as delta, _loaded_at from clipped
    union all
    select stream, code, agent_id, interval_start_utc, ended_at as at_utc, -1 as delta, _loaded_at from clipped

),

-- Points of one instant are not merged: the running counters are complete at the last of
-- them, and the segments between the others last zero seconds.
running as (

    select
        agent_id,
        interval_start_utc,
        at_utc as started_at,
        lead(at_utc) over (partition by agent_id, interval_start_utc order by at_utc) as ended_at,
        {%- for c in contact_activities %}
        sum(case when stream = 'contact' and code = '{{ c }}' then delta else 0 end) over (partition by agent_id, interval_start_utc order by at_utc rows between unbounded preceding and current row) as open_contact_{{ c | lower }},
        {%- endfor %}
        {%- for c in state_codes %}
        sum(case when stream = 'state' and code = '{{ c }}' then delta else 0 end) over (partition by agent_id, interval_start_utc order by at_utc rows between unbounded preceding and current row) as open_state_{{ c | lower }},
        {%- endfor %}
        {%- for c in schedule_activities %}
        sum(case when stream = 'schedule' and code = '{{ c }}' then delta else 0 end) over (partition by agent_id, interval_start_utc order by at_utc rows between unbounded preceding and current row) as open_schedule_{{ c | lower }},
        {%- endfor %}
        _loaded_at
    from changes

),

classified as (

    select
        agent_id,
        interval_start_utc,
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
        end as scheduled,
        _loaded_at
    from running
    where ended_at is not null

),

-- Signed-out, unscheduled segments (gaps between pieces) count nowhere; every interval here
-- has a piece of positive length, so none is all gap.
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
            when actual in ('BREAK', 'LUNCH', 'TRAINING', 'MEETING', 'SYSTEM', 'PERSONAL', 'OTHER') then {{ ccq.lower_text('actual') }}
            when scheduled in ('BREAK', 'LUNCH', 'TRAINING', 'MEETING') then {{ ccq.lower_text('scheduled') }}
            else 'absence'
        end as shrinkage_reason
    from classified

),

{% endmacro %}
