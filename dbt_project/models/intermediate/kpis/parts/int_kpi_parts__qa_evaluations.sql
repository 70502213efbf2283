-- The KPI parts of fct_qa_evaluations, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('qa_evaluations', ref('fct_qa_evaluations')) }}
