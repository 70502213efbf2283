-- The models and seeds each KPI's value passes through (its fact, everything upstream of it,
-- and int_kpi_parts, which computes every KPI), from dbt's graph: a failed check on one of
-- them uncertifies the KPI; a failed check on a model outside its path does not.
{%- if execute %}
{%- set semantic_models = ccq.kpi_semantic_models() %}
{%- set rows = [] %}
{%- for kpi in ccq.kpi_metrics() %}
{%- for name in ccq.kpi_model_lineage(semantic_models[kpi.semantic_model].model_unique_id) + ['int_kpi_parts'] %}
{%- do rows.append((kpi.kpi, name)) %}
{%- endfor %}
{%- endfor %}
{{ ccq.string_rows(['kpi', 'model_name'], rows) }}
{%- else %}
select 1 as parsing_only
{%- endif %}
