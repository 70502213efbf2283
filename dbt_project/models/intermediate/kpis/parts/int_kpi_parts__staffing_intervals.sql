-- The KPI parts of fct_staffing_intervals, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('staffing_intervals', ref('fct_staffing_intervals')) }}
