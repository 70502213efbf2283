-- The KPI parts of fct_complaints_daily, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('complaints_daily', ref('fct_complaints_daily')) }}
