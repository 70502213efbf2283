{#- ccq_required_agents(model, calls, AHT s, interval s, threshold s, SL target, occupancy cap,
    patience s) is ccq.staffing.erlang, registered as a function of the engine's session (DuckDB:
    ccq.warehouse_plugin; Spark: ccq.spark): the sizing is a search over N with Erlang B
    recursions and incomplete gamma functions, one tested implementation on both engines.
    The plan is sized on the forecast: required agents answer "what did the forecast need". -#}
{%- set arguments -%}
    cast(forecast_contacts as double), cast(forecast_aht_seconds as double),
    cast(interval_minutes * 60 as double), cast(sl_threshold_seconds as double),
    cast(sl_target as double), cast(occupancy_cap as double), cast(patience_seconds as double)
{%- endset %}
select
    staffing_inputs.*,
    ccq_required_agents('erlang_c', {{ arguments }}) as required_agents_erlang_c,
    ccq_required_agents('erlang_a', {{ arguments }}) as required_agents_erlang_a
from {{ ref('int_workforce__staffing_inputs') }} as staffing_inputs
