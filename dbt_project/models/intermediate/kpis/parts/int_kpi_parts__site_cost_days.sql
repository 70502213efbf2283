-- The KPI parts of fct_site_cost_days, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('site_cost_days', ref('fct_site_cost_days')) }}
