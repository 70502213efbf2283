-- The KPI parts of fct_agent_days, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('agent_days', ref('fct_agent_days')) }}
