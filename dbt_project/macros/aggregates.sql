{#- The SQL aggregate of a semantic-model measure. Averages are refused: a KPI's average is a
    ratio of two sums, never an average of averages (kpis.md). -#}
{% macro measure_aggregate(measure) -%}
    {%- set expr = measure.expr or measure.name -%}
    {%- if measure.agg == 'sum' -%} sum({{ expr }})
    {%- elif measure.agg == 'count' -%} count({{ expr }})
    {%- elif measure.agg == 'count_distinct' -%} count(distinct {{ expr }})
    {%- elif measure.agg == 'sum_boolean' -%} sum(case when {{ expr }} then 1 else 0 end)
    {%- elif measure.agg == 'max' -%} max({{ expr }})
    {%- elif measure.agg == 'min' -%} min({{ expr }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("measure " ~ measure.name ~ ": aggregation " ~ measure.agg ~ " is not supported for KPIs; use a ratio of two sums") }}
    {%- endif -%}
{%- endmacro %}

{#- Percentiles are taken from counts of each value (macros/kpi_parts.sql, percentile_from_counts),
    not by an aggregate that holds every value of every group until the end. -#}
{% macro is_percentile(measure) -%}
    {{ return(measure.agg in ('median', 'percentile')) }}
{%- endmacro %}

{% macro percentile_fraction(measure) -%}
    {%- if measure.agg == 'median' -%}{{ return(0.5) }}{%- endif -%}
    {%- if measure.agg_params.use_discrete_percentile -%}
        {{ exceptions.raise_compiler_error("measure " ~ measure.name ~ ": discrete percentiles are not supported for KPIs; use use_discrete_percentile: false (interpolated, as quantile_cont)") }}
    {%- endif -%}
    {{ return(measure.agg_params.percentile) }}
{%- endmacro %}

{#- The interpolated percentile (as SQL's percentile_cont) of a group's values, from rows holding
    each distinct value once with how many rows are at or below it (`through`) and in the whole
    group (`total`): the values at positions floor and ceil of fraction * (total - 1), counted
    from 0, and the straight line between them. Exact, and mergeable: counts add up. -#}
{% macro percentile_from_counts(fraction, value='counted_value', through='n_through', total='n_total') -%}
    {%- set position = 'cast(' ~ fraction ~ ' as ' ~ ccq.type_double() ~ ') * (' ~ total ~ ' - 1)' -%}
    {%- set lower = 'min(case when ' ~ through ~ ' > floor(' ~ position ~ ') then ' ~ value ~ ' end)' -%}
    {%- set upper = 'min(case when ' ~ through ~ ' > ceil(' ~ position ~ ') then ' ~ value ~ ' end)' -%}
    {{ lower }} + ({{ upper }} - {{ lower }}) * (max({{ position }}) - floor(max({{ position }})))
{%- endmacro %}

{#- A double-precision float (dbt.type_float() is single precision on some engines). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'ccq')()) }}
{%- endmacro %}

{% macro default__type_double() -%} double precision {%- endmacro %}

{% macro bigquery__type_double() -%} float64 {%- endmacro %}

{% macro spark__type_double() -%} double {%- endmacro %}

{#- The distinct values of a text column, sorted and joined with a separator (a literal).
    dbt-spark's listagg ignores its order. -#}
{% macro sorted_distinct_list(column, separator) -%}
    {{ return(adapter.dispatch('sorted_distinct_list', 'ccq')(column, separator)) }}
{%- endmacro %}

{% macro default__sorted_distinct_list(column, separator) -%}
    {{ dbt.listagg('distinct ' ~ column, separator, 'order by ' ~ column) }}
{%- endmacro %}

{#- collect_set skips nulls; a group of nulls only gives null, as listagg does, not ''. -#}
{% macro spark__sorted_distinct_list(column, separator) -%}
    case when count({{ column }}) > 0 then array_join(array_sort(collect_set({{ column }})), {{ separator }}) end
{%- endmacro %}
