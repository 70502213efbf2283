-- The scorecard's single table: every KPI value with its parts, the target in force, status,
-- change against the previous period and the same period a year earlier, and certification.
-- Values are numerator / denominator of parts aggregated at the row's own grain (or the
-- aggregate itself for simple KPIs), never an average of averages.
{{ config(tags=['certification']) }}

with parts as (

    select * from {{ ref('int_kpi_parts') }}

),

catalogue as (

    select kpi, unit, metric_type from {{ ref('kpi_catalogue') }}

),

targets as (

    select * from {{ ref('kpi_targets') }}

),

valued as (

    select
        parts.kpi,
        parts.grain,
        parts.period_start,
        parts.period_start_utc,
        parts.scope_type,
        parts.scope_id,
        parts.numerator,
        parts.denominator,
        catalogue.unit,
        case when catalogue.metric_type = 'ratio' then parts.numerator / nullif(parts.denominator, 0)
             else parts.numerator end as value
    from parts
    join catalogue on parts.kpi = catalogue.kpi

),

-- The period before, and the same period a year earlier: calendar grains step back in local
-- time (a week 52 weeks, so weeks stay ISO weeks); sub-day grains step back in UTC (364 days
-- a year earlier, the same weekday and time), so the fall-back hour's two intervals stay apart.
compared as (

    select
        valued.*,
        case grain
            when 'interval' then {{ dbt.dateadd('minute', -1 * var('interval_minutes'), 'period_start_utc') }}
            when 'interval_30' then {{ dbt.dateadd('minute', -30, 'period_start_utc') }}
            when 'hour' then {{ dbt.dateadd('minute', -60, 'period_start_utc') }}
            when 'day' then {{ dbt.dateadd('day', -1, 'period_start') }}
            when 'week' then {{ dbt.dateadd('day', -7, 'period_start') }}
            when 'month' then {{ dbt.dateadd('month', -1, 'period_start') }}
        end as previous_start,
        case grain
            when 'week' then {{ dbt.dateadd('day', -364, 'period_start') }}
            when 'day' then {{ dbt.dateadd('year', -1, 'period_start') }}
            when 'month' then {{ dbt.dateadd('year', -1, 'period_start') }}
            else {{ dbt.dateadd('day', -364, 'period_start_utc') }}
        end as year_ago_start
    from valued

),

with_history as (

    select
        compared.*,
        previous.value as previous_value,
        year_ago.value as year_ago_value
    from compared
    left join valued as previous
        on compared.kpi = previous.kpi
        and compared.grain = previous.grain
        and compared.scope_type = previous.scope_type
        and compared.scope_id = previous.scope_id
        and compared.previous_start = coalesce(previous.period_start_utc, previous.period_start)
    left join valued as year_ago
        on compared.kpi = year_ago.kpi
        and compared.grain = year_ago.grain
        and compared.scope_type = year_ago.scope_type
        and compared.scope_id = year_ago.scope_id
        and compared.year_ago_start = coalesce(year_ago.period_start_utc, year_ago.period_start)

),

-- A target for the exact scope beats the centre-wide one; the one in force on the period's first day applies.
targeted as (

    select
        with_history.*,
        targets.direction,
        targets.target,
        targets.warning,
        targets.owner_role,
        targets.first_action,
        row_number() over (
            partition by with_history.kpi, with_history.grain, with_history.period_start, with_history.period_start_utc,
                with_history.scope_type, with_history.scope_id
            order by case when targets.scope_type = 'all' then 1 else 0 end, targets.effective_from desc
        ) as target_rank
    from with_history
    left join targets
        on with_history.kpi = targets.kpi
        and cast(with_history.period_start as date) >= targets.effective_from
        and cast(with_history.period_start as date) <= targets.effective_to
        and (targets.scope_type = 'all'
             or (targets.scope_type = with_history.scope_type and targets.scope_id = with_history.scope_id))

)

select
    targeted.kpi,
    targeted.grain,
    targeted.period_start,
    targeted.period_start_utc,
    targeted.scope_type,
    targeted.scope_id,
    targeted.numerator,
    targeted.denominator,
    targeted.value,
    targeted.unit,
    targeted.target,
    targeted.warning,
    targeted.direction,
    case
        when targeted.value is null or targeted.target is null then null
        when targeted.direction = 'higher_is_better' then
            case when targeted.value >= targeted.target then 'met'
                 when targeted.value >= targeted.warning then 'at_risk'
                 else 'missed' end
        else
            case when targeted.value <= targeted.target then 'met'
                 when targeted.value <= targeted.warning then 'at_risk'
                 else 'missed' end
    end as status,
    targeted.owner_role,
    targeted.first_action,
    targeted.previous_value,
    targeted.value - targeted.previous_value as change_vs_previous,
    targeted.year_ago_value,
    targeted.value - targeted.year_ago_value as change_vs_year_ago,
    certification.certified,
    certification.certification_reason,
    certification.as_of,
    certification.data_through
from targeted
left join {{ ref('kpi_certification') }} as certification
    on targeted.kpi = certification.kpi
    and targeted.grain = certification.grain
    and targeted.period_start = certification.period_start
    and targeted.scope_type = certification.scope_type
    and targeted.scope_id = certification.scope_id
    and coalesce(targeted.period_start_utc, targeted.period_start) = coalesce(certification.period_start_utc, certification.period_start)
where targeted.target_rank = 1
