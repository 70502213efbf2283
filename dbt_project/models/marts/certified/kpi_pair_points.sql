-- Paired KPI values for the scatter plots listed in the kpi_pairs seed: one row per pair,
-- scope and period where both KPIs have a value. Pairs whose KPIs do not exist yet simply
-- have no rows.

with pairs as (

    select * from {{ ref('kpi_pairs') }}

),

kpi_values as (

    select * from {{ ref('kpi_values') }}
    where value is not null

)

select
    pairs.kpi_x,
    pairs.kpi_y,
    pairs.grain,
    x.scope_type,
    x.scope_id,
    x.period_start,
    x.period_start_utc,
    x.value as value_x,
    y.value as value_y,
    x.unit as unit_x,
    y.unit as unit_y,
    -- A pair is only as trustworthy as its weaker half; correlations use certified pairs only.
    coalesce(x.certified, false) and coalesce(y.certified, false) as certified
from pairs
join kpi_values as x
    on x.kpi = pairs.kpi_x
    and x.grain = pairs.grain
    and x.scope_type = pairs.scope_type
join kpi_values as y
    on y.kpi = pairs.kpi_y
    and y.grain = x.grain
    and y.scope_type = x.scope_type
    and y.scope_id = x.scope_id
    and y.period_start = x.period_start
    -- null for day and longer grains, where period_start alone identifies the period
    and coalesce(y.period_start_utc, y.period_start) = coalesce(x.period_start_utc, x.period_start)
