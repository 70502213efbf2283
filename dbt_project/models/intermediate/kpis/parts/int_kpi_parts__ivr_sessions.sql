-- The KPI parts of fct_ivr_sessions, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('ivr_sessions', ref('fct_ivr_sessions')) }}
