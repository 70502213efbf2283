{#- Fails for every KPI, scope and period whose additive parts at the `finer` grain do not add up
    to its parts at the `coarser` grain (int_kpi_parts): `finer_period` maps a finer period to
    the coarser one it falls in. With `only_where_finer`, only KPIs and scopes that have rows at
    the finer grain are compared (people scopes start at the day); KPIs defined at only one of
    the two grains (meta grains) are not. A defect of the model, so it
    concerns the whole table. -#}
{% test parts_add_up(model, finer, coarser, finer_period, coarser_period, only_where_finer=false) %}

with additive as (

    -- A KPI defined at some grains only (attrition: months) has no finer rows to add up.
    select kpi from {{ ref('kpi_catalogue') }}
    where is_additive
      and ', ' || grains || ', ' like '%, {{ finer }}, %'
      and ', ' || grains || ', ' like '%, {{ coarser }}, %'

),

finer as (

    select kpi, scope_type, scope_id, {{ finer_period }} as period,
           sum(numerator) as numerator, sum(denominator) as denominator, count(*) as finer_rows
    from {{ model }}
    where kpi in (select kpi from additive) and grain = '{{ finer }}'
    group by kpi, scope_type, scope_id, {{ finer_period }}

),

coarser as (

    select kpi, scope_type, scope_id, {{ coarser_period }} as period, numerator, denominator
    from {{ model }}
    where kpi in (select kpi from additive) and grain = '{{ coarser }}'
    {%- if only_where_finer %}
      and kpi || '|' || scope_type in (select distinct kpi || '|' || scope_type from {{ model }} where grain = '{{ finer }}')
    {%- endif %}

),

compared as (

    select
        kpi, scope_type, scope_id, period,
        finer.numerator as finer_numerator, coarser.numerator as coarser_numerator,
        finer.denominator as finer_denominator, coarser.denominator as coarser_denominator,
        coalesce(finer.finer_rows, 0) as finer_rows
    from finer full outer join coarser using (kpi, scope_type, scope_id, period)

)

select * from compared
where {{ ccq.parts_differ('coalesce(finer_numerator, 0)', 'coalesce(coarser_numerator, 0)') }}
   or {{ ccq.parts_differ('finer_denominator', 'coarser_denominator') }}

{% endtest %}

{#- Two sums of parts differ: one is null and the other not, or they differ by more than a
    relative 1e-6 plus 1e-6 per finer row summed (sums of seconds in floating point). -#}
{% macro parts_differ(a, b) -%}
    ({{ a }} is distinct from {{ b }} and ({{ a }} is null or {{ b }} is null
     or abs({{ a }} - {{ b }}) > 1e-6 * greatest(1, abs({{ b }})) + 1e-6 * finer_rows))
{%- endmacro %}
