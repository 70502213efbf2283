-- Queue x interval staffing: forecast against actual, agents required by the queue's Erlang
-- model, scheduled and actually available, and the gap. Additive columns only: averages per
-- interval and forecast accuracy are recomputed from sums at the grain asked for.

with requirements as (

    select * from {{ ref('int_workforce__staffing_requirements') }}

),

sized as (

    select
        *,
        case when erlang_model = 'erlang_a' then required_agents_erlang_a
             else required_agents_erlang_c end as required_agents,
        site_scheduled_agents * agent_share as scheduled_agents,
        site_available_agents * agent_share as available_agents
    from requirements

)

select
    queue_id,
    site_id,
    call_type,
    direction,
    interval_start_utc,
    interval_start_local,
    local_date,
    interval_minutes,
    forecast_contacts,
    forecast_aht_seconds,
    offered,
    case when handled > 0 then handle_seconds / handled end as actual_aht_seconds,
    handled,
    handle_seconds,
    abs(offered - forecast_contacts) as abs_forecast_error,
    erlang_model,
    sl_threshold_seconds,
    sl_target,
    occupancy_cap,
    patience_window_days,
    patience_seconds,
    required_agents_erlang_c,
    required_agents_erlang_a,
    required_agents,
    -- What the required agents mean in scheduled heads at the site's actual shrinkage of the
    -- interval (kpis.md: scheduled = ceil(N / (1 - shrinkage))).
    case when coalesce(site_shrinkage, 0) < 1
         then cast(ceil(required_agents / (1 - coalesce(site_shrinkage, 0))) as {{ ccq.type_double() }}) end as required_scheduled_agents,
    agent_share,
    scheduled_agents,
    available_agents,
    available_agents - required_agents as staffing_gap
from sized
