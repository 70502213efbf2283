{#- The KPI parts of one semantic model (one fact), generated from its measures and metrics
    (docs/semantic_layer.md): one row per KPI, grain, period and scope with the KPI's numerator
    and denominator aggregated from the fact rows at that grain. One model per fact
    (models/intermediate/kpis/parts/): a single statement for every fact held all their
    aggregates at once (percentiles keep every value of every group until the end), 14 GB for a
    year of a large centre, past the memory budget; one fact at a time fits. `fact` is the
    ref() of the semantic model's fact, so dbt sees the dependency when it parses. -#}
{% macro kpi_parts(name, fact) -%}
{%- if execute %}
{%- set semantic_models = ccq.kpi_semantic_models() %}
{%- set kpis = ccq.kpi_metrics() %}
{%- set sub_day_scopes = ccq.kpi_sub_day_scopes() %}
{%- if semantic_models[name].model_unique_id.split('.')[-1] != fact.identifier %}
    {{ exceptions.raise_compiler_error("kpi_parts('" ~ name ~ "'): the semantic model is on " ~ semantic_models[name].model_unique_id ~ ", not " ~ fact.identifier) }}
{%- endif %}

with
{%- if is_incremental() %}

-- The first period to rebuild, asked once and read by every grain and the final filter.
rebuild_from as (

    select ({{ ccq.kpi_parts_rebuild_from() }}) as period_start

),
{%- endif %}

-- The previous month's days up to the same day of the month as the data's last day: the
-- month-to-date scorecard compares like for like (1-5 May with 1-5 April), not with a whole month.
to_date_window as (

    select
        cast({{ dbt.date_trunc('month', 'same_day') }} as date) as first_day,
        same_day as last_day
    from (
        select cast({{ dbt.dateadd('month', -1, 'max(files.file_date)') }} as date) as same_day
        from {{ source('audit', 'load_files') }} as files
        where files.file_date is not null
    ) as through

),
{%- set sm = semantic_models[name] %}
{%- set sm_kpis = kpis | selectattr('semantic_model', 'equalto', name) | list %}
{%- set measure_names = (sm_kpis | map(attribute='numerator') | list)
        + (sm_kpis | selectattr('denominator') | map(attribute='denominator') | list)
        + (sm_kpis | selectattr('provisional') | map(attribute='provisional') | list)
        + (sm_kpis | selectattr('provisional_until') | map(attribute='provisional_until') | list) %}
{%- set measure_names = measure_names | unique | list | sort %}

{#- The fact's rows with their booking time and scope columns, read again by every grain rather
    than shared as one CTE: a CTE read six times is materialised whole (every column of the
    fact) and held in memory, while a subquery streams only the columns the grain uses. #}
{%- set fact_rows_sql %}
    select
        {{ sm.time_expr }} as booked_at_local,
        {%- if sm.sub_day %}
        {{ ccq.seconds_between(sm.utc_time, sm.time_expr) }} as utc_offset_seconds,
        {%- endif %}
        {%- for scope in sm.scopes %}
        cast({{ scope.expr }} as {{ dbt.type_string() }}) as scope__{{ scope.scope_type }},
        {%- endfor %}
        *
    from {{ fact }}
{%- endset %}
{%- set rows_sql %}
    {{ fact_rows_sql }}
    {%- if is_incremental() %}
    -- Rows without a local calendar (a queue or site missing from the seeds) have no period to
    -- fall in: their parts (period_start null) are recomputed in every build, or they would linger.
    where {{ sm.time_expr }} >= (select period_start from rebuild_from)
       or {{ sm.time_expr }} is null
    {%- endif %}
{%- endset %}
{#- Rebuilt whole by every build, incremental or not: the window moves with each day loaded. #}
{%- set to_date_rows_sql %}
    {{ fact_rows_sql }}
    where cast({{ sm.time_expr }} as date) >= (select first_day from to_date_window)
      and cast({{ sm.time_expr }} as date) <= (select last_day from to_date_window)
{%- endset %}
{%- set grains = [] %}
{%- for grain in ccq.kpi_grains() if sm.sub_day or not grain.minutes %}{% do grains.append(grain) %}{% endfor %}
{%- do grains.append({'grain': 'month_to_date', 'part': 'month', 'to_date': true}) %}

{#- Percentiles (median, 90th) come from counts of each value per period and scope, not from an
    aggregate holding every value of every group at once: the counts are an ordinary grouped
    count that spills to disk beyond the memory budget, and waits and durations in whole seconds
    have few distinct values. The result is exact (aggregates.sql, percentile_from_counts). #}
{%- set plain_measures = [] %}
{%- set percentile_measures = [] %}
{%- for m in measure_names %}
    {%- if ccq.is_percentile(sm.measures[m]) %}{% do percentile_measures.append(m) %}{% else %}{% do plain_measures.append(m) %}{% endif %}
{%- endfor %}
{%- set counted = [] %}
{%- for m in percentile_measures %}
    {%- set value = sm.measures[m].expr or m %}
    {%- if value not in counted %}{% do counted.append(value) %}{% endif %}
{%- endfor %}

{%- for grain in grains %}
{%- set scopes = sm.scopes if not grain.minutes else sm.scopes | selectattr('scope_type', 'in', sub_day_scopes) | list %}
{%- set scope_columns %}
        case
            {%- for scope in scopes %}
            when grouping(scope__{{ scope.scope_type }}) = 0 then '{{ scope.scope_type }}'
            {%- endfor %}
            else 'all'
        end as scope_type,
        case
            {%- for scope in scopes %}
            when grouping(scope__{{ scope.scope_type }}) = 0 then scope__{{ scope.scope_type }}
            {%- endfor %}
            else '*'
        end as scope_id
{%- endset %}
{%- set periods_sql %}
        select
            {%- if grain.minutes %}
            {{ ccq.interval_start('booked_at_local', grain.minutes) }} as period_start,
            -- The local bucket moved back by the row's UTC offset: tells the two 01:00 hours of a fall-back day apart.
            {{ dbt.dateadd('second', '-1 * utc_offset_seconds', ccq.interval_start('booked_at_local', grain.minutes)) }} as period_start_utc,
            {%- else %}
            cast({{ dbt.date_trunc(grain.part, 'cast(booked_at_local as date)') }} as {{ dbt.type_timestamp() }}) as period_start,
            cast(null as {{ dbt.type_timestamp() }}) as period_start_utc,
            {%- endif %}
            *
        from ({{ to_date_rows_sql if grain.to_date else rows_sql }}) as fact_rows
{%- endset %}

{{ name }}__{{ grain.grain }}__sums as (

    select
        '{{ grain.grain }}' as grain,
        period_start,
        period_start_utc,
        {{ scope_columns }}
        {%- for m in plain_measures %},
        {{ ccq.measure_aggregate(sm.measures[m]) }} as {{ m }}
        {%- endfor %}
    from ({{ periods_sql }}) as periods
    group by grouping sets (
        (period_start, period_start_utc){% for scope in scopes %},
        (period_start, period_start_utc, scope__{{ scope.scope_type }}){% endfor %}
    )

),
{%- for value in counted %}

-- How many rows of each period and scope have each value of a percentile measure, and how many up to it.
{{ name }}__{{ grain.grain }}__counts_{{ loop.index }} as (

    select
        period_start,
        period_start_utc,
        scope_type,
        scope_id,
        counted_value,
        sum(n) over (partition by period_start, period_start_utc, scope_type, scope_id order by counted_value
                     rows between unbounded preceding and current row) as n_through,
        sum(n) over (partition by period_start, period_start_utc, scope_type, scope_id) as n_total
    from (
        select
            period_start,
            period_start_utc,
            {{ scope_columns }},
            counted_value,
            count(*) as n
        from (select *, {{ value }} as counted_value from ({{ periods_sql }}) as periods) as valued
        where counted_value is not null
        group by grouping sets (
            (period_start, period_start_utc, counted_value){% for scope in scopes %},
            (period_start, period_start_utc, scope__{{ scope.scope_type }}, counted_value){% endfor %}
        )
    ) as counts

),

{{ name }}__{{ grain.grain }}__percentiles_{{ loop.index }} as (

    select
        period_start,
        period_start_utc,
        scope_type,
        scope_id
        {%- for m in percentile_measures if (sm.measures[m].expr or m) == value %},
        {{ ccq.percentile_from_counts(ccq.percentile_fraction(sm.measures[m])) }} as {{ m }}
        {%- endfor %}
    from {{ name }}__{{ grain.grain }}__counts_{{ loop.index }}
    group by period_start, period_start_utc, scope_type, scope_id

),
{%- endfor %}

{{ name }}__{{ grain.grain }} as (

    select
        sums.*
        {%- for value in counted %}
        {%- set i = loop.index %}
        {%- for m in percentile_measures if (sm.measures[m].expr or m) == value %},
        percentiles_{{ i }}.{{ m }}
        {%- endfor %}
        {%- endfor %}
    from {{ name }}__{{ grain.grain }}__sums as sums
    {%- for value in counted %}
    -- A period without a local calendar has a null start, and a day its null UTC start: matched as equal.
    left join {{ name }}__{{ grain.grain }}__percentiles_{{ loop.index }} as percentiles_{{ loop.index }}
        on percentiles_{{ loop.index }}.period_start is not distinct from sums.period_start
        and percentiles_{{ loop.index }}.period_start_utc is not distinct from sums.period_start_utc
        and percentiles_{{ loop.index }}.scope_type = sums.scope_type
        and percentiles_{{ loop.index }}.scope_id = sums.scope_id
    {%- endfor %}

),
{%- endfor %}

{{ name }}__parts as (
    {%- for grain in grains %}
    select * from {{ name }}__{{ grain.grain }}
    -- Rows without the dimension (e.g. unanswered legs have no agent) belong to no scope of it.
    where scope_type = 'all' or scope_id is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

{#- Every KPI of the fact from one read of its parts (a CTE read once per KPI would be
    materialised whole and held in memory, which a year of a large centre does not fit). -#}
{%- set kpi_scopes = [] %}
{%- for kpi in sm_kpis %}{% for scope in kpi.scopes %}{% do kpi_scopes.append([kpi.kpi, scope]) %}{% endfor %}{% endfor %}

{{ name }}__kpis as (

    select
        kpis.kpi,
        parts.grain,
        parts.period_start,
        parts.period_start_utc,
        parts.scope_type,
        parts.scope_id,
        -- Rounded to 1e-6 (a microsecond, a millionth of an agent): sums of fractional parts run in
        -- parallel add up in any order, and the same data must give the same value and status every run.
        round(cast(case kpis.kpi
            {%- for kpi in sm_kpis %} when '{{ kpi.kpi }}' then {{ kpi.numerator }}{% endfor %}
        end as {{ ccq.type_double() }}), 6) as numerator,
        round(cast(case kpis.kpi
            {%- for kpi in sm_kpis %} when '{{ kpi.kpi }}' then {{ kpi.denominator or 'null' }}{% endfor %}
        end as {{ ccq.type_double() }}), 6) as denominator,
        cast(case kpis.kpi
            {%- for kpi in sm_kpis %} when '{{ kpi.kpi }}' then {{ kpi.provisional or 'null' }}{% endfor %}
        end as {{ ccq.type_double() }}) as provisional,
        cast(case kpis.kpi
            {%- for kpi in sm_kpis %} when '{{ kpi.kpi }}' then {{ kpi.provisional_until or 'null' }}{% endfor %}
        end as {{ dbt.type_timestamp() }}) as provisional_until
    from {{ name }}__parts as parts
    join ({{ ccq.string_rows(['kpi', 'scope_type'], kpi_scopes) }}) as kpis
        on parts.scope_type = kpis.scope_type
    {#- A KPI defined for some grains only (meta grains: attrition per month) has no row at the others. #}
    {%- for kpi in sm_kpis if kpi.grains %}
    {%- set kpi_grains = kpi.grains + (['month_to_date'] if 'month' in kpi.grains else []) %}
    {{ 'where' if loop.first else 'and' }} (kpis.kpi <> '{{ kpi.kpi }}' or parts.grain in ('{{ kpi_grains | join("', '") }}'))
    {%- endfor %}

)

select
    {{ name }}__kpis.*,
    -- Newest extract load this build saw: the next incremental build starts from the files loaded after it.
    loads.loaded_at as _loaded_at
from {{ name }}__kpis
cross join (
    select max(loaded_at) as loaded_at
    from {{ source('audit', 'load_files') }}
) as loads
{%- if is_incremental() %}
-- The rows read start at the first period rebuilt; a week or month begun before it came out
-- partial, holds no day touched since the last build, and keeps its stored row.
where {{ name }}__kpis.period_start >= (select period_start from rebuild_from)
   or {{ name }}__kpis.period_start is null
   or {{ name }}__kpis.grain = 'month_to_date'
{%- endif %}

{%- else %}
select 1 as parsing_only
{%- endif %}
{%- endmacro %}

{#- Every fact's parts model: incremental by the periods from the first one a file loaded since
    the last build can touch (macros/incremental.sql, kpi_parts_rebuild_from), plus the parts of
    the rows with no local calendar (period_start null), which no such comparison ever matches:
    without them, rows withdrawn by a re-delivery would stay (and changed ones go stale). -#}
{% macro kpi_parts_config() -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'replace_where',
        'incremental_predicates': ["period_start >= ({{ ccq.kpi_parts_rebuild_from() }}) or period_start is null or grain = 'month_to_date'"],
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- The parts models, one per semantic model with KPIs (int_kpi_parts checks none is missing). -#}
{% macro kpi_parts_models() -%}
    {{ return([
        'int_kpi_parts__queue_legs', 'int_kpi_parts__pbx_call_legs', 'int_kpi_parts__ivr_sessions',
        'int_kpi_parts__agent_intervals', 'int_kpi_parts__staffing_intervals', 'int_kpi_parts__fcr_contacts',
        'int_kpi_parts__crm_cases', 'int_kpi_parts__complaints_daily', 'int_kpi_parts__qa_evaluations',
        'int_kpi_parts__survey_responses', 'int_kpi_parts__agent_days', 'int_kpi_parts__trainings',
        'int_kpi_parts__staff_survey_answers', 'int_kpi_parts__site_cost_days',
    ]) }}
{%- endmacro %}
