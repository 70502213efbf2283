-- Long format: one row per KPI, grain, period and scope with the summed parts of the KPI.
-- The KPI formulas are the numerator/denominator pairs below and nowhere else; value =
-- numerator / denominator (or the numerator itself for counts) is applied in kpi_values.
{%- set kpis = [
    {'kpi': 'offered',          'numerator': 'offered',                           'denominator': 'null'},
    {'kpi': 'answered',         'numerator': 'answered',                          'denominator': 'null'},
    {'kpi': 'abandoned',        'numerator': 'abandoned',                         'denominator': 'null'},
    {'kpi': 'service_level',    'numerator': 'sl_numerator',                      'denominator': 'sl_denominator'},
    {'kpi': 'abandonment_rate', 'numerator': 'abandoned - short_abandoned',       'denominator': 'offered - short_abandoned'},
    {'kpi': 'asa',              'numerator': 'wait_seconds_answered',             'denominator': 'answered'},
    {'kpi': 'aht',              'numerator': 'handle_seconds',                    'denominator': 'handled'},
] %}
{%- set parts = ['offered', 'answered', 'abandoned', 'short_abandoned', 'sl_numerator', 'sl_denominator',
                 'wait_seconds_answered', 'handled', 'handle_seconds'] %}

with facts as (

    select * from {{ ref('fct_queue_intervals') }}

),

by_period as (

    select 'interval' as grain, interval_start_local as period_start, interval_start_utc as period_start_utc, facts.* from facts
    union all
    select 'day', cast(local_date as timestamp), null, facts.* from facts
    union all
    select 'week', cast({{ dbt.date_trunc('week', 'local_date') }} as timestamp), null, facts.* from facts
    union all
    select 'month', cast({{ dbt.date_trunc('month', 'local_date') }} as timestamp), null, facts.* from facts

),

scoped as (

    select grain, period_start, period_start_utc, 'queue' as scope_type, queue_id as scope_id,
        {% for p in parts %}sum({{ p }}) as {{ p }}{{ ',' if not loop.last }}
        {% endfor %}
    from by_period
    group by grain, period_start, period_start_utc, queue_id

    union all

    select grain, period_start, period_start_utc, 'all' as scope_type, '*' as scope_id,
        {% for p in parts %}sum({{ p }}) as {{ p }}{{ ',' if not loop.last }}
        {% endfor %}
    from by_period
    group by grain, period_start, period_start_utc

)

{% for k in kpis %}
select
    '{{ k.kpi }}' as kpi,
    grain,
    period_start,
    period_start_utc,
    scope_type,
    scope_id,
    cast({{ k.numerator }} as double) as numerator,
    cast({{ k.denominator }} as double) as denominator
from scoped
{% if not loop.last %}union all{% endif %}
{% endfor %}
