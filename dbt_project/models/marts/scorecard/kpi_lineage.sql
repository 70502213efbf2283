-- Raw tables each KPI is computed from, following dbt's graph from the KPI's fact to the
-- sources; certification requires every one of them to have arrived complete and checked.
-- Sources a semantic model lists as descriptive_sources only label rows (e.g. the roster's
-- team of an agent) and are left out.
{%- if execute %}
{%- set semantic_models = ccq.kpi_semantic_models() %}
{%- set rows = [] %}
{%- for kpi in ccq.kpi_metrics() %}
{%- set sm = semantic_models[kpi.semantic_model] %}
{%- for table_name in ccq.kpi_raw_lineage(sm.model_unique_id, sm.descriptive_sources) %}
{%- do rows.append((kpi.kpi, table_name)) %}
{%- endfor %}
{%- endfor %}
{{ ccq.string_rows(['kpi', 'table_name'], rows) }}
{%- else %}
select 1 as parsing_only
{%- endif %}
