-- The KPI parts of fct_fcr_contacts, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('fcr_contacts', ref('fct_fcr_contacts')) }}
