-- The KPI parts of fct_staff_survey_answers, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('staff_survey_answers', ref('fct_staff_survey_answers')) }}
