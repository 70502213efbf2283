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
    {%- elif measure.agg == 'median' -%} {{ ccq.percentile(expr, 0.5, false) }}
    {%- elif measure.agg == 'percentile' -%}
        {{ ccq.percentile(expr, measure.agg_params.percentile, measure.agg_params.use_discrete_percentile) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("measure " ~ measure.name ~ ": aggregation " ~ measure.agg ~ " is not supported for KPIs; use a ratio of two sums") }}
    {%- endif -%}
{%- endmacro %}

{% macro percentile(expr, fraction, discrete=false) -%}
    {{ return(adapter.dispatch('percentile', 'ccq')(expr, fraction, discrete)) }}
{%- endmacro %}

{% macro default__percentile(expr, fraction, discrete) -%}
    percentile_{{ 'disc' if discrete else 'cont' }}({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__percentile(expr, fraction, discrete) -%}
    quantile_{{ 'disc' if discrete else 'cont' }}({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro bigquery__percentile(expr, fraction, discrete) -%}
    approx_quantiles({{ expr }}, 100)[offset({{ (fraction * 100) | int }})]
{%- endmacro %}

{#- A double-precision float (dbt.type_float() is single precision on some engines). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'ccq')()) }}
{%- endmacro %}

{% macro default__type_double() -%} double precision {%- endmacro %}

{% macro bigquery__type_double() -%} float64 {%- endmacro %}

{% macro spark__type_double() -%} double {%- endmacro %}
