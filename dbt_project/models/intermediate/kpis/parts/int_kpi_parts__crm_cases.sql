-- The KPI parts of fct_crm_cases, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('crm_cases', ref('fct_crm_cases')) }}
