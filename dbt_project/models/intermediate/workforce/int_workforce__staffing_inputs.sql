-- Queue x interval inputs of the staffing model: WFM forecast, actuals, the definition
-- parameters in force, the Erlang A patience estimate and the site's agents apportioned to the
-- queue. The Erlang maths itself runs in int_workforce__staffing_requirements (Python).
{% set minutes = var('interval_minutes') %}

with forecasts as (

    select
        queue_id,
        {{ ccq.interval_start('interval_start', minutes) }} as interval_start_utc,
        sum(forecast_contacts) as forecast_contacts,
        -- Workload-weighted, in case the WFM publishes finer intervals than ours.
        sum(forecast_contacts * forecast_aht_seconds) as forecast_workload_seconds,
        sum(case when forecast_aht_seconds is not null then forecast_contacts else 0 end) as contacts_with_aht,
        avg(forecast_aht_seconds) as mean_aht_seconds
    from {{ ref('stg_wfm__forecasts') }}
    group by queue_id, {{ ccq.interval_start('interval_start', minutes) }}

),

-- Only forecast queues are sized, within the span their forecast covers: a queue nobody
-- forecasts has no accuracy to measure and no plan to compare with.
forecast_span as (

    select queue_id, min(interval_start_utc) as first_interval, max(interval_start_utc) as last_interval
    from forecasts
    group by queue_id

),

actuals as (

    select
        intervals.queue_id,
        intervals.interval_start_utc,
        intervals.offered,
        intervals.handled,
        intervals.handle_seconds
    from {{ ref('fct_queue_intervals') }} as intervals
    inner join forecast_span
        on intervals.queue_id = forecast_span.queue_id
        and intervals.interval_start_utc >= forecast_span.first_interval
        and intervals.interval_start_utc <= forecast_span.last_interval

),

grid as (

    select queue_id, interval_start_utc from forecasts
    union
    select queue_id, interval_start_utc from actuals

),

located as (

    select
        grid.queue_id,
        queues.site_id,
        queues.call_type,
        queues.direction,
        grid.interval_start_utc,
        {{ ccq.utc_to_local('grid.interval_start_utc', ccq.calendar_time_zone('sites.time_zone')) }} as interval_start_local
    from grid
    left join {{ ref('int_reference__queues') }} as queues on grid.queue_id = queues.queue_id
    left join {{ ref('int_reference__sites') }} as sites on queues.site_id = sites.site_id

),

rows_with_date as (

    select located.*, cast(interval_start_local as date) as local_date
    from located

),

params as (

    select
        rows_with_date.queue_id,
        rows_with_date.interval_start_utc,
        queue_parameters.sl_threshold_seconds,
        queue_parameters.occupancy_cap,
        queue_parameters.erlang_model,
        queue_parameters.patience_window_days
    from rows_with_date
    inner join {{ ref('int_reference__queue_parameters') }} as queue_parameters
        on rows_with_date.queue_id = queue_parameters.queue_id
        and rows_with_date.local_date >= queue_parameters.effective_from
        and rows_with_date.local_date <= queue_parameters.effective_to

),

-- The service-level target in force: a queue's own standard beats the centre-wide one.
sl_targets as (

    select
        rows_with_date.queue_id,
        rows_with_date.interval_start_utc,
        kpi_targets.target,
        row_number() over (
            partition by rows_with_date.queue_id, rows_with_date.interval_start_utc
            order by case when kpi_targets.scope_type = 'queue' then 0 else 1 end
        ) as preference
    from rows_with_date
    inner join {{ ref('kpi_targets') }} as kpi_targets
        on kpi_targets.kpi = 'service_level'
        and (kpi_targets.scope_type = 'all'
             or (kpi_targets.scope_type = 'queue' and kpi_targets.scope_id = rows_with_date.queue_id))
        and rows_with_date.local_date >= kpi_targets.effective_from
        and rows_with_date.local_date <= kpi_targets.effective_to

),

-- Mean patience by the standard estimator for exponential patience: total queue wait of all
-- offered legs (answered, abandoned or overflowed: each waited while exposed to abandoning)
-- divided by the number of abandoned legs, over the patience_window_days ending on the day.
leg_days as (

    select
        queue_id,
        cast(entered_at_local as date) as local_date,
        sum(wait_seconds) as wait_seconds,
        sum(is_abandoned) as abandoned
    from {{ ref('int_contacts__queue_legs') }}
    where entered_at is not null
    group by queue_id, cast(entered_at_local as date)

),

queue_days as (

    select distinct rows_with_date.queue_id, rows_with_date.local_date, params.patience_window_days
    from rows_with_date
    inner join params
        on rows_with_date.queue_id = params.queue_id
        and rows_with_date.interval_start_utc = params.interval_start_utc

),

patience as (

    select
        queue_days.queue_id,
        queue_days.local_date,
        sum(leg_days.wait_seconds) as window_wait_seconds,
        sum(leg_days.abandoned) as window_abandoned
    from queue_days
    left join leg_days
        on queue_days.queue_id = leg_days.queue_id
        and leg_days.local_date <= queue_days.local_date
        and leg_days.local_date > {{ dbt.dateadd('day', '-queue_days.patience_window_days', 'queue_days.local_date') }}
    group by queue_days.queue_id, queue_days.local_date

),

-- Agents are scheduled and signed in per site, not per queue: the site's agents in an
-- interval are shared among its forecast queues by their share of the forecast workload
-- (contacts x AHT); with no workload forecast at the site, equally.
site_agents as (

    select
        site_id,
        interval_start_utc,
        sum(scheduled_open_seconds) as scheduled_open_seconds,
        sum(productive_seconds) as available_seconds,
        sum(scheduled_seconds) as paid_seconds,
        sum(shrinkage_seconds) as shrinkage_seconds
    from {{ ref('fct_agent_intervals') }}
    group by site_id, interval_start_utc

),

shares as (

    select
        rows_with_date.queue_id,
        rows_with_date.interval_start_utc,
        coalesce(forecasts.forecast_workload_seconds, 0) as workload,
        sum(coalesce(forecasts.forecast_workload_seconds, 0)) over (
            partition by rows_with_date.site_id, rows_with_date.interval_start_utc) as site_workload,
        count(*) over (partition by rows_with_date.site_id, rows_with_date.interval_start_utc) as site_queues
    from rows_with_date
    left join forecasts
        on rows_with_date.queue_id = forecasts.queue_id
        and rows_with_date.interval_start_utc = forecasts.interval_start_utc

)

select
    rows_with_date.queue_id,
    rows_with_date.site_id,
    rows_with_date.call_type,
    rows_with_date.direction,
    rows_with_date.interval_start_utc,
    rows_with_date.interval_start_local,
    rows_with_date.local_date,
    {{ minutes }} as interval_minutes,
    coalesce(forecasts.forecast_contacts, 0) as forecast_contacts,
    case when forecasts.contacts_with_aht > 0
         then forecasts.forecast_workload_seconds / forecasts.contacts_with_aht
         else forecasts.mean_aht_seconds end as forecast_aht_seconds,
    coalesce(actuals.offered, 0) as offered,
    coalesce(actuals.handled, 0) as handled,
    coalesce(actuals.handle_seconds, 0) as handle_seconds,
    params.sl_threshold_seconds,
    sl_targets.target as sl_target,
    params.occupancy_cap,
    params.erlang_model,
    params.patience_window_days,
    patience.window_wait_seconds as patience_wait_seconds,
    patience.window_abandoned as patience_abandoned,
    case when patience.window_abandoned > 0
         then patience.window_wait_seconds / patience.window_abandoned end as patience_seconds,
    case when shares.site_workload > 0 then shares.workload / shares.site_workload
         else 1.0 / shares.site_queues end as agent_share,
    coalesce(site_agents.scheduled_open_seconds, 0) / ({{ minutes }} * 60.0) as site_scheduled_agents,
    coalesce(site_agents.available_seconds, 0) / ({{ minutes }} * 60.0) as site_available_agents,
    case when site_agents.paid_seconds > 0
         then site_agents.shrinkage_seconds / site_agents.paid_seconds end as site_shrinkage
from rows_with_date
left join forecasts
    on rows_with_date.queue_id = forecasts.queue_id
    and rows_with_date.interval_start_utc = forecasts.interval_start_utc
left join actuals
    on rows_with_date.queue_id = actuals.queue_id
    and rows_with_date.interval_start_utc = actuals.interval_start_utc
left join params
    on rows_with_date.queue_id = params.queue_id
    and rows_with_date.interval_start_utc = params.interval_start_utc
left join sl_targets
    on rows_with_date.queue_id = sl_targets.queue_id
    and rows_with_date.interval_start_utc = sl_targets.interval_start_utc
    and sl_targets.preference = 1
left join patience
    on rows_with_date.queue_id = patience.queue_id
    and rows_with_date.local_date = patience.local_date
left join shares
    on rows_with_date.queue_id = shares.queue_id
    and rows_with_date.interval_start_utc = shares.interval_start_utc
left join site_agents
    on rows_with_date.site_id = site_agents.site_id
    and rows_with_date.interval_start_utc = site_agents.interval_start_utc
