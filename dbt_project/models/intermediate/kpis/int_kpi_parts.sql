-- Long format: one row per KPI, grain, period and scope with the KPI's numerator and
-- denominator, each aggregated from the fact rows of the KPI's semantic model at that grain.
-- The SQL is generated from the metric definitions (docs/semantic_layer.md): no formula is
-- written here. Value = numerator / denominator (ratio) or the numerator (simple) is taken in
-- kpi_values.
--
-- dbt cannot see which facts the generated SQL reads at parse time; every fact with KPIs is
-- listed here (the run fails, naming the missing one, if a semantic model is not):
-- depends_on: {{ ref('fct_queue_legs') }}
-- depends_on: {{ ref('fct_pbx_call_legs') }}
-- depends_on: {{ ref('fct_ivr_sessions') }}
-- depends_on: {{ ref('fct_agent_intervals') }}
-- depends_on: {{ ref('fct_staffing_intervals') }}
-- depends_on: {{ ref('fct_fcr_contacts') }}
-- depends_on: {{ ref('fct_crm_cases') }}
-- depends_on: {{ ref('fct_complaints_daily') }}
-- depends_on: {{ ref('fct_qa_evaluations') }}
-- depends_on: {{ ref('fct_survey_responses') }}
-- depends_on: {{ ref('fct_agent_days') }}
-- depends_on: {{ ref('fct_trainings') }}
-- depends_on: {{ ref('fct_staff_survey_answers') }}
-- depends_on: {{ ref('fct_site_cost_days') }}
--
-- Incremental: the periods from the first one a file loaded since the last build can touch
-- are recomputed whole (macros/incremental.sql, kpi_parts_rebuild_from); the nightly full
-- refresh recomputes everything.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    incremental_predicates=["period_start >= ({{ ccq.kpi_parts_rebuild_from() }})"],
    on_schema_change='fail',
) }}

{%- if execute %}
{%- set semantic_models = ccq.kpi_semantic_models() %}
{%- set kpis = ccq.kpi_metrics() %}
{%- set sub_day_scopes = ccq.kpi_sub_day_scopes() %}
{%- set used = kpis | map(attribute='semantic_model') | unique | list | sort %}
{%- for name in used %}
    {%- if semantic_models[name].model_unique_id not in model.depends_on.nodes %}
        {{ exceptions.raise_compiler_error("int_kpi_parts: add `-- depends_on: {{ ref('" ~ semantic_models[name].model_unique_id.split('.')[-1] ~ "') }}` for semantic model " ~ name) }}
    {%- endif %}
{%- endfor %}

with
{%- for name in used %}
{%- set sm = semantic_models[name] %}
{%- set sm_kpis = kpis | selectattr('semantic_model', 'equalto', name) | list %}
{%- set measure_names = (sm_kpis | map(attribute='numerator') | list)
        + (sm_kpis | selectattr('denominator') | map(attribute='denominator') | list)
        + (sm_kpis | selectattr('provisional') | map(attribute='provisional') | list) %}
{%- set measure_names = measure_names | unique | list | sort %}

{#- The fact's rows with their booking time and scope columns, read again by every grain rather
    than shared as one CTE: a CTE read six times is materialised whole (every column of the
    fact) and held in memory, while a subquery streams only the columns the grain uses. #}
{%- set rows_sql %}
    select
        {{ sm.time_expr }} as booked_at_local,
        {%- if sm.sub_day %}
        {{ ccq.seconds_between(sm.utc_time, sm.time_expr) }} as utc_offset_seconds,
        {%- endif %}
        {%- for scope in sm.scopes %}
        cast({{ scope.expr }} as {{ dbt.type_string() }}) as scope__{{ scope.scope_type }},
        {%- endfor %}
        *
    from {{ ref(sm.model_unique_id.split('.')[-1]) }}
    {%- if is_incremental() %}
    where {{ sm.time_expr }} >= ({{ ccq.kpi_parts_rebuild_from() }})
    {%- endif %}
{%- endset %}

{%- for grain in ccq.kpi_grains() if sm.sub_day or not grain.minutes %}
{%- set scopes = sm.scopes if not grain.minutes else sm.scopes | selectattr('scope_type', 'in', sub_day_scopes) | list %}

{{ name }}__{{ grain.grain }} as (

    select
        '{{ grain.grain }}' as grain,
        period_start,
        period_start_utc,
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
        end as scope_id,
        {%- for m in measure_names %}
        {{ ccq.measure_aggregate(sm.measures[m]) }} as {{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
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
        from ({{ rows_sql }}) as fact_rows
    ) as periods
    group by grouping sets (
        (period_start, period_start_utc){% for scope in scopes %},
        (period_start, period_start_utc, scope__{{ scope.scope_type }}){% endfor %}
    )

),
{%- endfor %}

{{ name }}__parts as (
    {%- for grain in ccq.kpi_grains() if sm.sub_day or not grain.minutes %}
    select * from {{ name }}__{{ grain.grain }}
    -- Rows without the dimension (e.g. unanswered legs have no agent) belong to no scope of it.
    where scope_type = 'all' or scope_id is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),
{%- endfor %}

kpi_parts as (
{%- for kpi in kpis %}
select
    '{{ kpi.kpi }}' as kpi,
    grain,
    period_start,
    period_start_utc,
    scope_type,
    scope_id,
    -- Rounded to 1e-6 (a microsecond, a millionth of an agent): sums of fractional parts run in
    -- parallel add up in any order, and the same data must give the same value and status every run.
    round(cast({{ kpi.numerator }} as {{ ccq.type_double() }}), 6) as numerator,
    round(cast({{ kpi.denominator or 'null' }} as {{ ccq.type_double() }}), 6) as denominator,
    cast({{ kpi.provisional or 'null' }} as {{ ccq.type_double() }}) as provisional
from {{ kpi.semantic_model }}__parts
where scope_type in ({% for s in kpi.scopes %}'{{ s }}'{{ ', ' if not loop.last }}{% endfor %})
{{ 'union all' if not loop.last }}
{%- endfor %}
)

select
    kpi_parts.*,
    -- Newest extract load this build saw: the next incremental build starts from the files loaded after it.
    loads.loaded_at as _loaded_at
from kpi_parts
cross join (
    select max(loaded_at) as loaded_at
    from {{ api.Relation.create(database=this.database, schema='audit', identifier='load_files') }}
) as loads
{%- if is_incremental() %}
-- The rows read start at the first period rebuilt; a week or month begun before it came out
-- partial, holds no day touched since the last build, and keeps its stored row.
where kpi_parts.period_start >= ({{ ccq.kpi_parts_rebuild_from() }})
{%- endif %}

{%- else %}
select 1 as parsing_only
{%- endif %}
