-- Pearson correlation and least-squares line of each KPI pair per scope, over its certified
-- periods (kpi_pair_points). Correlation is association, not cause: the app shows it beside
-- the scatter, never alone.

with points as (

    select * from {{ ref('kpi_pair_points') }}
    where certified

),

fitted as (

    select
        kpi_x,
        kpi_y,
        grain,
        scope_type,
        scope_id,
        count(*) as n_periods,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start,
        corr(value_x, value_y) as correlation,
        covar_samp(value_x, value_y) / nullif(var_samp(value_x), 0) as slope,
        avg(value_x) as mean_x,
        avg(value_y) as mean_y
    from points
    group by kpi_x, kpi_y, grain, scope_type, scope_id

)

-- Two points always lie on a line (r = +-1): below three periods there is no correlation to
-- report. Rounded to 1e-9 so results agree across engines' summation orders.
select
    kpi_x,
    kpi_y,
    grain,
    scope_type,
    scope_id,
    n_periods,
    first_period_start,
    last_period_start,
    case when n_periods >= 3 then {{ spc_round('correlation') }} end as correlation,
    case when n_periods >= 3 then {{ spc_round('correlation * correlation') }} end as r_squared,
    case when n_periods >= 3 then {{ spc_round('slope') }} end as slope,
    case when n_periods >= 3 then {{ spc_round('mean_y - slope * mean_x') }} end as intercept
from fitted
