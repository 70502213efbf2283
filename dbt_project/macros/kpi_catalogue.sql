{#- The KPI catalogue as dbt knows it: every metric whose config.meta.ccq carries a unit is a KPI
    (docs/semantic_layer.md). These macros read dbt's graph, so the formulas stay in the
    semantic models and metrics and nowhere else. Call them only when `execute` is true. -#}

{#- Scope type of each scope dimension name, in the order scopes are listed. -#}
{% macro kpi_scope_dimensions() -%}
    {{ return([
        ('queue_id', 'queue'), ('call_type', 'call_type'), ('direction', 'direction'), ('site_id', 'site'),
        ('team_id', 'team'), ('supervisor_id', 'supervisor'), ('agent_id', 'agent')]) }}
{%- endmacro %}

{#- Scopes materialised at sub-day grains, besides the centre: the intraday views are per queue
    and per site. The others (call type, direction, people) stop at the day (docs/semantic_layer.md). -#}
{% macro kpi_sub_day_scopes() -%}
    {{ return(['queue', 'site']) }}
{%- endmacro %}

{#- Grains: name -> minutes for sub-day grains, or the date_trunc part for calendar grains. -#}
{% macro kpi_grains() -%}
    {{ return([
        {'grain': 'interval', 'minutes': var('interval_minutes')},
        {'grain': 'interval_30', 'minutes': 30},
        {'grain': 'hour', 'minutes': 60},
        {'grain': 'day', 'part': 'day'},
        {'grain': 'week', 'part': 'week'},
        {'grain': 'month', 'part': 'month'},
    ]) }}
{%- endmacro %}

{% macro _ccq_meta(node) -%}
    {%- set config_meta = (node.get('config') or {}).get('meta') or {} -%}
    {%- set meta = config_meta.get('ccq') or (node.get('meta') or {}).get('ccq') or {} -%}
    {{ return(meta) }}
{%- endmacro %}

{#- Semantic models by name, with what the parts generator needs. -#}
{% macro kpi_semantic_models() -%}
    {%- set models = {} -%}
    {%- for node in graph.semantic_models.values() if node.package_name == project_name -%}
        {%- set meta = ccq._ccq_meta(node) -%}
        {%- set time_dim = node.defaults.agg_time_dimension -%}
        {%- set ns = namespace(time_expr=time_dim, granularity='day', scopes=[]) -%}
        {%- for dim in node.dimensions -%}
            {%- if dim.name == time_dim -%}
                {%- set ns.time_expr = dim.expr or dim.name -%}
                {%- set ns.granularity = dim.type_params.time_granularity -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for dim_name, scope_type in ccq.kpi_scope_dimensions() -%}
            {%- for dim in node.dimensions if dim.name == dim_name and dim.type == 'categorical' -%}
                {%- do ns.scopes.append({'scope_type': scope_type, 'expr': dim.expr or dim.name}) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set measures = {} -%}
        {%- for m in node.measures -%}
            {%- do measures.update({m.name: m}) -%}
        {%- endfor -%}
        {%- do models.update({node.name: {
            'name': node.name,
            'unique_id': node.unique_id,
            'model_unique_id': node.depends_on.nodes[0],
            'relation': node.node_relation.relation_name,
            'time_expr': ns.time_expr,
            'sub_day': ns.granularity not in ('day', 'week', 'month', 'quarter', 'year'),
            'utc_time': meta.get('utc_time'),
            'scopes': ns.scopes,
            'measures': measures,
            'descriptive_sources': meta.get('descriptive_sources', []),
        }}) -%}
    {%- endfor -%}
    {{ return(models) }}
{%- endmacro %}

{#- The measure behind a metric name (a simple metric, possibly created from a measure). -#}
{% macro _kpi_measure_of(metric_name) -%}
    {%- set metric = graph.metrics.get('metric.' ~ project_name ~ '.' ~ metric_name) -%}
    {%- if metric is none or metric.type != 'simple' -%}
        {{ exceptions.raise_compiler_error("KPI parts must be simple metrics built on one measure; '" ~ metric_name ~ "' is not (docs/semantic_layer.md)") }}
    {%- endif -%}
    {{ return(metric.type_params.measure.name) }}
{%- endmacro %}

{#- The KPIs, in scorecard order: kpi, label, description, meta, metric type, the semantic model and
    the measures of its numerator and denominator. -#}
{% macro kpi_metrics() -%}
    {%- set semantic_models = ccq.kpi_semantic_models() -%}
    {%- set kpis = [] -%}
    {%- for metric in graph.metrics.values() if metric.package_name == project_name -%}
        {%- set meta = ccq._ccq_meta(metric) -%}
        {%- if meta.get('unit') -%}
            {%- if metric.type == 'ratio' -%}
                {%- set numerator = ccq._kpi_measure_of(metric.type_params.numerator.name) -%}
                {%- set denominator = ccq._kpi_measure_of(metric.type_params.denominator.name) -%}
            {%- elif metric.type == 'simple' -%}
                {%- set numerator = metric.type_params.measure.name -%}
                {%- set denominator = none -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error("KPI " ~ metric.name ~ " must be a simple or ratio metric, not " ~ metric.type) }}
            {%- endif -%}
            {%- set ns = namespace(model=none) -%}
            {%- for sm in semantic_models.values() if numerator in sm.measures -%}
                {%- set ns.model = sm -%}
            {%- endfor -%}
            {%- if ns.model is none or (denominator and denominator not in ns.model.measures) -%}
                {{ exceptions.raise_compiler_error("KPI " ~ metric.name ~ ": numerator and denominator must be measures of one semantic model") }}
            {%- endif -%}
            {%- set provisional = meta.get('provisional_measure') -%}
            {%- if provisional and provisional not in ns.model.measures -%}
                {{ exceptions.raise_compiler_error("KPI " ~ metric.name ~ ": provisional_measure " ~ provisional ~ " is not a measure of " ~ ns.model.name) }}
            {%- endif -%}
            {%- set until = meta.get('provisional_until_measure') -%}
            {%- if (provisional and not until) or (until and (not provisional or until not in ns.model.measures)) -%}
                {{ exceptions.raise_compiler_error("KPI " ~ metric.name ~ ": provisional_measure and provisional_until_measure (when the open outcomes close) go together, both measures of " ~ ns.model.name) }}
            {%- endif -%}
            {%- set all_grains = ccq.kpi_grains() | map(attribute='grain') | list -%}
            {%- set grains = meta.get('grains') or all_grains -%}
            {%- for g in grains if g not in all_grains -%}
                {{ exceptions.raise_compiler_error("KPI " ~ metric.name ~ ": grain " ~ g ~ " is not one of " ~ all_grains | join(', ')) }}
            {%- endfor -%}
            {%- set allowed = ['all'] + ns.model.scopes | map(attribute='scope_type') | list -%}
            {%- set scopes = meta.get('scopes') or allowed -%}
            {%- for s in scopes if s not in allowed -%}
                {{ exceptions.raise_compiler_error("KPI " ~ metric.name ~ ": scope " ~ s ~ " has no dimension in " ~ ns.model.name) }}
            {%- endfor -%}
            {%- do kpis.append({
                'kpi': metric.name,
                'label': metric.label or metric.name,
                'description': metric.description,
                'meta': meta,
                'metric_type': metric.type,
                'semantic_model': ns.model.name,
                'numerator': numerator,
                'denominator': denominator,
                'provisional': provisional,
                'provisional_until': until,
                'scopes': scopes,
                'grains': grains if meta.get('grains') else none,
                'order': meta.get('order', 1000),
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(kpis | sort(attribute='kpi') | sort(attribute='order')) }}
{%- endmacro %}

{#- Every node upstream of a node (itself included), following dbt's graph to the sources. -#}
{% macro kpi_upstream_nodes(unique_id) -%}
    {%- set ns = namespace(frontier=[unique_id], seen=[]) -%}
    {%- for depth in range(40) if ns.frontier -%}
        {%- set next = [] -%}
        {%- for uid in ns.frontier if uid not in ns.seen -%}
            {%- do ns.seen.append(uid) -%}
            {%- if uid in graph.nodes -%}
                {%- for parent in graph.nodes[uid].depends_on.nodes -%}
                    {%- do next.append(parent) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set ns.frontier = next -%}
    {%- endfor -%}
    {{ return(ns.seen) }}
{%- endmacro %}

{#- Raw tables upstream of a node (audit and the excluded descriptive sources left out). -#}
{% macro kpi_raw_lineage(unique_id, excludes=[]) -%}
    {%- set tables = [] -%}
    {%- for uid in ccq.kpi_upstream_nodes(unique_id) if uid.startswith('source.') -%}
        {%- set source = graph.sources[uid] -%}
        {%- if source.source_name != 'audit' and source.name not in excludes and source.name not in tables -%}
            {%- do tables.append(source.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tables | sort) }}
{%- endmacro %}

{#- Models and seeds a KPI's value passes through: its fact and everything upstream of it. -#}
{% macro kpi_model_lineage(unique_id) -%}
    {%- set names = [] -%}
    {%- for uid in ccq.kpi_upstream_nodes(unique_id) if uid.startswith('model.') or uid.startswith('seed.') -%}
        {%- do names.append(uid.split('.')[-1]) -%}
    {%- endfor -%}
    {{ return(names | unique | list | sort) }}
{%- endmacro %}

{#- A SQL string literal. -#}
{% macro sql_literal(value) -%}
    {{ return(adapter.dispatch('sql_literal', 'ccq')(value)) }}
{%- endmacro %}

{% macro default__sql_literal(value) -%}
    {%- if value is none -%}null{%- else -%}'{{ (value | string).replace("'", "''") }}'{%- endif -%}
{%- endmacro %}

{#- Spark reads a backslash in a literal as an escape, and 'a''b' as two literals side by side. -#}
{% macro spark__sql_literal(value) -%}
    {%- if value is none -%}null{%- else -%}'{{ (value | string).replace("\\", "\\\\").replace("'", "\\'") }}'{%- endif -%}
{%- endmacro %}

{#- A table of string columns from rows generated at compile time (typed and empty when there are
    none). One VALUES list: a UNION ALL of hundreds of selects overflows Spark's parser. -#}
{% macro string_rows(columns, rows) -%}
    {%- if rows %}
select {% for column in columns %}cast({{ column }} as {{ dbt.type_string() }}) as {{ column }}{{ ', ' if not loop.last }}{% endfor %}
from (values
    {%- for row in rows %}
    ({% for value in row %}{{ ccq.sql_literal(value) }}{{ ', ' if not loop.last }}{% endfor %}){{ ',' if not loop.last }}
    {%- endfor %}
) as string_rows ({{ columns | join(', ') }})
    {%- else %}
select {% for column in columns %}cast(null as {{ dbt.type_string() }}) as {{ column }}{{ ', ' if not loop.last }}{% endfor %} where 1 = 0
    {%- endif %}
{%- endmacro %}
