-- Every KPI as defined in the semantic layer (docs/semantic_layer.md), for the app's metric
-- catalogue and for certification: generated from dbt's graph, never retyped.
{%- if execute %}
{%- set semantic_models = ccq.kpi_semantic_models() %}
{%- set kpi_names = ccq.kpi_metrics() | map(attribute='kpi') | list %}
{%- for kpi in ccq.kpi_metrics() %}{% for driver in kpi.meta.get('drivers', []) if driver not in kpi_names %}
    {{ exceptions.raise_compiler_error("KPI " ~ kpi.kpi ~ ": driver " ~ driver ~ " is not a KPI (meta drivers)") }}
{%- endfor %}{% endfor %}
{%- for kpi in ccq.kpi_metrics() %}{% for key in ['description_zh', 'formula_zh', 'booked_by_zh'] if not ((kpi.meta.get(key) or '') | string | trim) %}
    {{ exceptions.raise_compiler_error("KPI " ~ kpi.kpi ~ ": meta " ~ key ~ " (the Simplified Chinese " ~ key[:-3] ~ " for the catalogue, in config.meta.ccq) is missing or empty") }}
{%- endfor %}
{%- if kpi.meta.get('zero_note') and not kpi.meta.get('zero_note_zh') %}
    {{ exceptions.raise_compiler_error("KPI " ~ kpi.kpi ~ ": meta zero_note needs its Simplified Chinese, zero_note_zh") }}
{%- endif %}
{%- if (kpi.meta.get('variants') or []) | length != (kpi.meta.get('variants_zh') or []) | length %}
    {{ exceptions.raise_compiler_error("KPI " ~ kpi.kpi ~ ": meta variants_zh must translate each of meta variants, in order") }}
{%- endif %}{% endfor %}
{%- for kpi in ccq.kpi_metrics() %}
{%- set sm = semantic_models[kpi.semantic_model] %}
{%- set aggs = [sm.measures[kpi.numerator].agg] + ([sm.measures[kpi.denominator].agg] if kpi.denominator else []) %}
{%- set range = kpi.meta.get('range') or ([0, 1] if kpi.meta.get('unit') == 'ratio' else [0, none]) %}
select
    {{ ccq.sql_literal(kpi.kpi) }} as kpi,
    {{ ccq.sql_literal(kpi.label) }} as label,
    {{ ccq.sql_literal(kpi.meta.get('label_zh')) }} as label_zh,
    {{ ccq.sql_literal(kpi.description) }} as description,
    {{ ccq.sql_literal(kpi.meta.get('description_zh')) }} as description_zh,
    {{ ccq.sql_literal(kpi.meta.get('formula')) }} as formula,
    {{ ccq.sql_literal(kpi.meta.get('formula_zh')) }} as formula_zh,
    {{ ccq.sql_literal(kpi.meta.get('unit')) }} as unit,
    {{ ccq.sql_literal(kpi.meta.get('area')) }} as area,
    {{ ccq.sql_literal(kpi.meta.get('booked_by')) }} as booked_by,
    {{ ccq.sql_literal(kpi.meta.get('booked_by_zh')) }} as booked_by_zh,
    {{ ccq.sql_literal(kpi.meta.get('parameters', []) | join(', ')) }} as parameters,
    {{ ccq.sql_literal((kpi.meta.get('variants') or []) | join('; ') or none) }} as variants,
    {{ ccq.sql_literal((kpi.meta.get('variants_zh') or []) | join('; ') or none) }} as variants_zh,
    {{ ccq.sql_literal(kpi.meta.get('zero_note')) }} as zero_note,
    {{ ccq.sql_literal(kpi.meta.get('zero_note_zh')) }} as zero_note_zh,
    {{ ccq.sql_literal(kpi.meta.get('provisional_note', 'records whose outcome is not known yet') if kpi.provisional else none) }} as provisional_note,
    {{ ccq.sql_literal(ccq.kpi_raw_lineage(sm.model_unique_id, sm.descriptive_sources) | join(', ')) }} as lineage,
    {{ ccq.sql_literal(kpi.scopes | join(', ')) }} as scopes,
    {{ ccq.sql_literal((kpi.grains or ccq.kpi_grains() | map(attribute='grain') | list) | join(', ')) }} as grains,
    {{ 'true' if kpi.meta.get('headline') else 'false' }} as is_headline,
    {{ ccq.sql_literal(kpi.meta.get('drivers', []) | join(', ')) }} as drivers,
    {{ loop.index }} as display_order,
    {{ ccq.sql_literal(kpi.metric_type) }} as metric_type,
    {{ ccq.sql_literal(kpi.numerator) }} as numerator_measure,
    {{ ccq.sql_literal(kpi.denominator) }} as denominator_measure,
    {{ ccq.sql_literal(kpi.semantic_model) }} as semantic_model,
    {{ ccq.sql_literal(sm.model_unique_id.split('.')[-1]) }} as model,
    {{ 'true' if aggs | reject('in', ['sum', 'count', 'sum_boolean']) | list | length == 0 else 'false' }} as is_additive,
    cast({{ range[0] if range[0] is not none else 'null' }} as {{ ccq.type_double() }}) as plausible_min,
    cast({{ range[1] if range[1] is not none else 'null' }} as {{ ccq.type_double() }}) as plausible_max
{{ 'union all' if not loop.last }}
{%- endfor %}
{%- else %}
select 1 as parsing_only
{%- endif %}
