-- The KPI parts of fct_queue_legs, generated from its semantic model (macros/kpi_parts.sql).
{{ config(ccq.kpi_parts_config()) }}

{{ ccq.kpi_parts('queue_legs', ref('fct_queue_legs')) }}
