-- The KPI parts of fct_pbx_call_legs, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('pbx_call_legs', ref('fct_pbx_call_legs')) }}
