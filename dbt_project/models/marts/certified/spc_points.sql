-- Control charts of the KPIs listed in the spc_charts seed: one row per chart point with the
-- chart's centre line, limits, zones and the Western Electric run rules. Limits come from a
-- baseline of the first N certified periods of each chart (one chart per KPI, grain and
-- scope), so they stay fixed while the process is watched against them; a later change
-- shows as signals instead of being absorbed into moving limits. Chart types: p and Laney p′
-- for proportions of counts, XmR for means (formulas in spc_points.yml).

{%- set series = 'partition by kpi, grain, scope_type, scope_id, certified order by period_order' %}

with charts as (

    select * from {{ ref('spc_charts') }}

),

-- A period without a value (zero denominator) has nothing to plot.
chart_values as (

    select
        kpi_values.kpi,
        charts.chart_type,
        kpi_values.grain,
        kpi_values.scope_type,
        kpi_values.scope_id,
        kpi_values.period_start,
        kpi_values.period_start_utc,
        -- Sub-day periods are ordered on UTC so both fall-back intervals keep their place.
        coalesce(kpi_values.period_start_utc, kpi_values.period_start) as period_order,
        kpi_values.value,
        kpi_values.numerator,
        kpi_values.denominator,
        kpi_values.unit,
        coalesce(kpi_values.certified, false) as certified,
        charts.baseline_periods
    from {{ ref('kpi_values') }} as kpi_values
    join charts
        on kpi_values.kpi = charts.kpi
        and kpi_values.grain = charts.grain
        and kpi_values.scope_type = charts.scope_type
    where kpi_values.value is not null

),

-- Certified and uncertified points are sequenced apart: the baseline, the moving ranges and
-- the run rules read only the certified series, skipping periods whose data is incomplete.
sequenced as (

    select
        chart_values.*,
        row_number() over ({{ series }}) as certified_seq,
        abs(value - lag(value) over ({{ series }})) as series_moving_range
    from chart_values

),

points as (

    select
        kpi,
        chart_type,
        grain,
        scope_type,
        scope_id,
        period_start,
        period_start_utc,
        period_order,
        value,
        numerator,
        denominator,
        unit,
        certified,
        baseline_periods,
        certified and certified_seq <= baseline_periods as in_baseline,
        case when certified then {{ spc_round('series_moving_range') }} end as moving_range
    from sequenced

),

-- p-chart centre: pooled proportion (sum of numerators / sum of denominators), not the mean
-- of daily proportions, so a day with few contacts weighs as little as it should.
baselines as (

    select
        kpi,
        grain,
        scope_type,
        scope_id,
        count(*) as baseline_points,
        min(period_start) as baseline_start,
        max(period_start) as baseline_end,
        sum(numerator) / nullif(sum(denominator), 0) as p_bar,
        avg(value) as x_bar,
        -- The first baseline point has no moving range; avg skips its null.
        avg(moving_range) as mr_bar
    from points
    where in_baseline
    group by kpi, grain, scope_type, scope_id

),

-- Binomial sigma and z of every point of a proportion chart, against the baseline's p̄.
binomial as (

    select
        points.*,
        baselines.baseline_points,
        baselines.baseline_start,
        baselines.baseline_end,
        baselines.p_bar,
        baselines.x_bar,
        baselines.mr_bar,
        sqrt(baselines.p_bar * (1 - baselines.p_bar) / nullif(points.denominator, 0)) as binomial_sigma
    from points
    left join baselines
        on points.kpi = baselines.kpi
        and points.grain = baselines.grain
        and points.scope_type = baselines.scope_type
        and points.scope_id = baselines.scope_id

),

binomial_z as (

    select
        binomial.*,
        abs(
            (value - p_bar) / nullif(binomial_sigma, 0)
            - lag((value - p_bar) / nullif(binomial_sigma, 0)) over ({{ series }})
        ) as binomial_z_moving_range
    from binomial

),

-- Laney's sigma_z: how much more the baseline's proportions vary from period to period than
-- binomial sampling alone explains (1 when they do not). Daily contact volumes in the
-- hundreds make binomial limits so narrow that ordinary day-to-day differences in staffing
-- and mix fall outside them; a laney_p chart widens each point's binomial sigma by sigma_z.
dispersion as (

    select
        kpi,
        grain,
        scope_type,
        scope_id,
        avg(binomial_z_moving_range) / {{ spc_d2() }} as sigma_z
    from binomial_z
    where in_baseline
    group by kpi, grain, scope_type, scope_id

),

limits as (

    select
        binomial_z.kpi,
        binomial_z.chart_type,
        binomial_z.grain,
        binomial_z.scope_type,
        binomial_z.scope_id,
        binomial_z.period_start,
        binomial_z.period_start_utc,
        binomial_z.period_order,
        binomial_z.value,
        binomial_z.numerator,
        binomial_z.denominator,
        binomial_z.unit,
        binomial_z.certified,
        binomial_z.baseline_periods,
        binomial_z.in_baseline,
        binomial_z.moving_range,
        binomial_z.baseline_points,
        binomial_z.baseline_start,
        binomial_z.baseline_end,
        coalesce(binomial_z.baseline_points, 0) >= binomial_z.baseline_periods as baseline_complete,
        case when binomial_z.chart_type <> 'xmr' then {{ spc_round('dispersion.sigma_z') }} end as sigma_z,
        case when binomial_z.chart_type = 'xmr' then binomial_z.x_bar else binomial_z.p_bar end as center_line,
        case binomial_z.chart_type
            when 'p' then binomial_z.binomial_sigma
            when 'laney_p' then binomial_z.binomial_sigma * dispersion.sigma_z
            else binomial_z.mr_bar / {{ spc_d2() }}
        end as sigma,
        case when binomial_z.chart_type = 'xmr' then {{ spc_round('binomial_z.mr_bar') }} end as mr_center_line,
        case when binomial_z.chart_type = 'xmr' then {{ spc_round('binomial_z.mr_bar * ' ~ spc_d4()) }} end as mr_ucl
    from binomial_z
    left join dispersion
        on binomial_z.kpi = dispersion.kpi
        and binomial_z.grain = dispersion.grain
        and binomial_z.scope_type = dispersion.scope_type
        and binomial_z.scope_id = dispersion.scope_id

),

lines as (

    select
        limits.*,
        {%- for name, k in [('ucl', 3), ('upper_2_sigma', 2), ('upper_1_sigma', 1),
                            ('lower_1_sigma', -1), ('lower_2_sigma', -2), ('lcl', -3)] %}
        {{ spc_round("case when chart_type in ('p', 'laney_p') then " ~ spc_clip_proportion('center_line + ' ~ k ~ ' * sigma')
                     ~ " else center_line + " ~ k ~ " * sigma end") }} as {{ name }},
        {%- endfor %}
        -- On a p-chart, z standardises each point by its own sigma, so the zone rules apply
        -- although the limits widen and narrow with the day's volume.
        {{ spc_round('(value - center_line) / nullif(sigma, 0)') }} as z_score
    from limits

),

sides as (

    select
        lines.*,
        case when z_score > 3 or z_score < -3 then 1 else 0 end as beyond_3,
        case when z_score > 2 then 1 else 0 end as above_2,
        case when z_score < -2 then 1 else 0 end as below_2,
        case when z_score > 1 then 1 else 0 end as above_1,
        case when z_score < -1 then 1 else 0 end as below_1,
        case when z_score > 0 then 1 else 0 end as above_0,
        case when z_score < 0 then 1 else 0 end as below_0
    from lines

),

-- Each rule flags the point that completes its pattern (the point itself is on the pattern's
-- side), counting back over the certified series only. Rules apply once the baseline is
-- complete: limits from a shorter baseline are provisional and raise no signal.
rules as (

    select
        sides.*,
        certified and baseline_complete and beyond_3 = 1 as rule_1,
        certified and baseline_complete and (
            (above_2 = 1 and sum(above_2) over ({{ series }} rows between 2 preceding and current row) >= 2)
            or (below_2 = 1 and sum(below_2) over ({{ series }} rows between 2 preceding and current row) >= 2)
        ) as rule_2,
        certified and baseline_complete and (
            (above_1 = 1 and sum(above_1) over ({{ series }} rows between 4 preceding and current row) >= 4)
            or (below_1 = 1 and sum(below_1) over ({{ series }} rows between 4 preceding and current row) >= 4)
        ) as rule_3,
        certified and baseline_complete and (
            sum(above_0) over ({{ series }} rows between 7 preceding and current row) = 8
            or sum(below_0) over ({{ series }} rows between 7 preceding and current row) = 8
        ) as rule_4,
        certified and baseline_complete and coalesce(moving_range > mr_ucl, false) as mr_signal
    from sides

)

select
    kpi,
    chart_type,
    grain,
    scope_type,
    scope_id,
    period_start,
    period_start_utc,
    value,
    numerator,
    denominator,
    unit,
    certified,
    in_baseline,
    baseline_points,
    baseline_periods,
    baseline_complete,
    baseline_start,
    baseline_end,
    {{ spc_round('center_line') }} as center_line,
    {{ spc_round('sigma') }} as sigma,
    sigma_z,
    ucl,
    lcl,
    upper_2_sigma,
    lower_2_sigma,
    upper_1_sigma,
    lower_1_sigma,
    z_score,
    moving_range,
    mr_center_line,
    mr_ucl,
    rule_1,
    rule_2,
    rule_3,
    rule_4,
    mr_signal,
    rule_1 or rule_2 or rule_3 or rule_4 or mr_signal as is_signal,
    {%- set rule_names = dbt.concat([
            "case when rule_1 then 'rule_1 ' else '' end",
            "case when rule_2 then 'rule_2 ' else '' end",
            "case when rule_3 then 'rule_3 ' else '' end",
            "case when rule_4 then 'rule_4 ' else '' end",
            "case when mr_signal then 'mr' else '' end"
        ]) %}
    nullif(replace({{ ccq.trim_text(rule_names) }}, ' ', ','), '') as signal_rules
from rules
