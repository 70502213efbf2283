-- Long format: one row per KPI, grain, period and scope with the KPI's numerator and
-- denominator, each aggregated from the fact rows of the KPI's semantic model at that grain.
-- The SQL is generated from the metric definitions (docs/semantic_layer.md), one model per
-- fact (parts/, macros/kpi_parts.sql): no formula is written here. Value = numerator /
-- denominator (ratio) or the numerator (simple) is taken in kpi_values. A view: the parts are
-- stored once, in the facts' incremental models.
{{ config(materialized='view') }}

{%- set parts = [] %}
{%- for name in ccq.kpi_parts_models() %}{% do parts.append(ref(name)) %}{% endfor %}

{%- if execute %}
{%- set listed = parts | map(attribute='identifier') | list %}
{%- for name in ccq.kpi_metrics() | map(attribute='semantic_model') | unique | sort %}
    {%- if 'int_kpi_parts__' ~ name not in listed %}
        {{ exceptions.raise_compiler_error("int_kpi_parts: semantic model " ~ name ~ " has KPIs but no parts model: add models/intermediate/kpis/parts/int_kpi_parts__" ~ name ~ ".sql and list it in kpi_parts_models() (macros/kpi_parts.sql)") }}
    {%- endif %}
{%- endfor %}
{%- endif %}

{% for relation in parts %}
select kpi, grain, period_start, period_start_utc, scope_type, scope_id, numerator, denominator, provisional, provisional_until, _loaded_at
from {{ relation }}
-- The previous month to date is the month-to-date comparison's (int_kpi_parts_to_date), not a period of its own.
where grain <> 'month_to_date'
{{ 'union all' if not loop.last }}
{%- endfor %}
