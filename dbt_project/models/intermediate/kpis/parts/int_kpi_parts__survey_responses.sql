-- The KPI parts of fct_survey_responses, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('survey_responses', ref('fct_survey_responses')) }}
