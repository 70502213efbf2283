-- The previous month's KPI parts up to the same day of the month as the data's last day, per KPI
-- and scope: the base the current month to date is compared with in kpi_values, like for like.
-- Generated with the other grains (macros/kpi_parts.sql): no formula is written here.
{{ config(materialized='view') }}

{% for name in ccq.kpi_parts_models() %}
select kpi, period_start, scope_type, scope_id, numerator, denominator
from {{ ref(name) }}
where grain = 'month_to_date'
{{ 'union all' if not loop.last }}
{%- endfor %}
