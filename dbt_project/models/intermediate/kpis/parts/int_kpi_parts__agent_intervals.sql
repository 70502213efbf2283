-- The KPI parts of fct_agent_intervals, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('agent_intervals', ref('fct_agent_intervals')) }}
