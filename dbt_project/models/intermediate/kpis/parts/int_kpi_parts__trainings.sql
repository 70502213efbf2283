-- The KPI parts of fct_trainings, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('trainings', ref('fct_trainings')) }}
