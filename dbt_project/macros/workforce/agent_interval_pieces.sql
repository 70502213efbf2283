{#- Cutting spans into pieces (fct_agent_intervals): every span of the CTE `spans` (stream,
    code, agent_id, started_at, ended_at, _loaded_at, first_interval_utc) becomes one piece per
    interval of `minutes` minutes it overlaps, clipped to the interval. Emits the CTEs
    piece_numbers, pieces and clipped (the last one filtered to the days or agents being
    rebuilt when the calling model runs incrementally: days_to_rebuild, agents_to_rebuild). -#}
{% macro agent_interval_pieces(minutes) %}

-- 0, 1, 2, ... up to the most intervals one span covers (at most 100,000: over 1,000 days of
-- 15-minute intervals, far beyond any state, contact or shift).
piece_numbers as (

    select n
    from (
        select {% for i in range(5) %}p{{ i }}.d * {{ 10 ** i }}{{ ' + ' if not loop.last }}{% endfor %} as n
        from {% for i in range(5) %}(
            {%- for d in range(10) %}select {{ d }} as d{{ ' union all ' if not loop.last }}{% endfor -%}
        ) as p{{ i }}{{ ' cross join ' if not loop.last }}{% endfor %}
    ) as numbers
    where n < (
        select max({{ ccq.seconds_between('first_interval_utc', 'ended_at') }}) / {{ minutes * 60 }}
        from spans
    )

),

-- One piece per interval a span overlaps, clipped to the interval.
pieces as (

    select
        spans.stream,
        spans.code,
        spans.agent_id,
        {{ dbt.dateadd('minute', 'piece_numbers.n * ' ~ minutes, 'spans.first_interval_utc') }} as interval_start_utc,
        spans.started_at,
        spans.ended_at,
        spans._loaded_at
    from spans
    inner join piece_numbers
        on piece_numbers.n * {{ minutes * 60 }} < {{ ccq.seconds_between('spans.first_interval_utc', 'spans.ended_at') }}

),

clipped as (

    select
        stream,
        code,
        agent_id,
        interval_start_utc,
        case when started_at > interval_start_utc then started_at else interval_start_utc end as started_at,
        case when ended_at < {{ dbt.dateadd('minute', minutes, 'interval_start_utc') }} then ended_at
             else {{ dbt.dateadd('minute', minutes, 'interval_start_utc') }} end as ended_at,
        _loaded_at
    from pieces
    {% if is_incremental() %}
    where cast(interval_start_utc as date) in (select day from days_to_rebuild)
       or agent_id in (select agent_id from agents_to_rebuild)
    {% endif %}

),

{% endmacro %}
