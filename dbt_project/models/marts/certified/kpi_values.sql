-- The scorecard's single table: every KPI value with its parts, the target in force, status,
-- change against the previous period and the same period a year earlier, and certification.
-- Values are numerator / denominator of parts aggregated at the row's own grain (or the
-- aggregate itself for simple KPIs), never an average of averages.

with parts as (

    select * from {{ ref('int_kpi_parts') }}

),

catalogue as (

    select kpi, unit, metric_type, zero_note is not null as zero_has_no_status from {{ ref('kpi_catalogue') }}

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
        parts.provisional,
        parts.provisional_until,
        catalogue.unit,
        catalogue.zero_has_no_status,
        {{ ccq.kpi_value('catalogue.metric_type', 'parts.numerator', 'parts.denominator') }} as value
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
        end as year_ago_start,
        -- The row before of the same KPI, grain and scope, and where it starts: the previous period
        -- when it starts where that period would (a period without data leaves a gap). A window,
        -- not a self-join: a year of a large centre's values twice in hash tables did not fit the
        -- memory budget, while a window spills.
        lag(value) over history as row_before_value,
        lag(coalesce(period_start_utc, period_start)) over history as row_before_start,
        -- Sites in several time zones give a centre-wide sub-day period one row per local start,
        -- sharing the UTC start: then which row is "the previous" is ambiguous, and none is taken.
        lag(coalesce(period_start_utc, period_start), 2) over history as two_rows_before_start,
        lead(coalesce(period_start_utc, period_start)) over history as row_after_start
    from valued
    window history as (
        partition by kpi, grain, scope_type, scope_id
        order by coalesce(period_start_utc, period_start), period_start
    )

),

-- The previous month up to the same day as the data's last day, valued like the periods: the base
-- a month still in progress is compared with (1-5 May against 1-5 April, not all of April).
previous_to_date as (

    select
        to_date.kpi,
        to_date.period_start,
        to_date.scope_type,
        to_date.scope_id,
        {{ ccq.kpi_value('catalogue.metric_type', 'to_date.numerator', 'to_date.denominator') }} as value
    from {{ ref('int_kpi_parts_to_date') }} as to_date
    join catalogue on to_date.kpi = catalogue.kpi

),

with_history as (

    select
        compared.*,
        case
            when compared.row_before_start = compared.previous_start
                and compared.two_rows_before_start is distinct from compared.previous_start
                and compared.row_after_start is distinct from coalesce(compared.period_start_utc, compared.period_start)
            then compared.row_before_value
        end as previous_value,
        year_ago.value as year_ago_value,
        previous_to_date.value as previous_to_date_value
    from compared
    left join valued as year_ago
        on compared.kpi = year_ago.kpi
        and compared.grain = year_ago.grain
        and compared.scope_type = year_ago.scope_type
        and compared.scope_id = year_ago.scope_id
        and compared.year_ago_start = coalesce(year_ago.period_start_utc, year_ago.period_start)
    left join previous_to_date
        on compared.grain = 'month'
        and compared.kpi = previous_to_date.kpi
        and compared.scope_type = previous_to_date.scope_type
        and compared.scope_id = previous_to_date.scope_id
        and compared.previous_start = previous_to_date.period_start

),

-- The standard in force on each day in use, per KPI and scope of the seed: the one with the latest
-- effective_from. Resolved on the few days and seed rows rather than on every value.
days_in_use as (

    select distinct kpi, cast(period_start as date) as day from valued

),

targets_in_force as (

    select *
    from (
        select
            days_in_use.kpi,
            days_in_use.day,
            targets.scope_type,
            targets.scope_id,
            targets.direction,
            targets.target,
            targets.warning,
            targets.owner_role,
            targets.first_action,
            targets.owner_role_zh,
            targets.first_action_zh,
            row_number() over (
                partition by days_in_use.kpi, days_in_use.day, targets.scope_type, targets.scope_id
                order by targets.effective_from desc
            ) as target_rank
        from days_in_use
        join targets
            on days_in_use.kpi = targets.kpi
            and days_in_use.day >= targets.effective_from
            and days_in_use.day <= targets.effective_to
    ) as ranked
    where target_rank = 1

),

-- A target for the exact scope beats the centre-wide one; the one in force on the period's first day applies.
targeted as (

    select
        with_history.*,
        coalesce(exact.direction, centre.direction) as direction,
        coalesce(exact.target, centre.target) as target,
        coalesce(exact.warning, centre.warning) as warning,
        coalesce(exact.owner_role, centre.owner_role) as owner_role,
        coalesce(exact.first_action, centre.first_action) as first_action,
        coalesce(exact.owner_role_zh, centre.owner_role_zh) as owner_role_zh,
        coalesce(exact.first_action_zh, centre.first_action_zh) as first_action_zh
    from with_history
    left join targets_in_force as exact
        on with_history.kpi = exact.kpi
        and cast(with_history.period_start as date) = exact.day
        and with_history.scope_type = exact.scope_type
        and with_history.scope_id = exact.scope_id
        and exact.scope_type <> 'all'
    left join targets_in_force as centre
        on with_history.kpi = centre.kpi
        and cast(with_history.period_start as date) = centre.day
        and centre.scope_type = 'all'

),

as_of as (

    select max(loaded_at) as as_of, max(file_date) as data_through
    from {{ ref('stg_audit__load_files') }}

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
        -- An outcome still open (FCR's re-contact window) is not judged against its target yet.
        when targeted.provisional > 0 then null
        -- A percentile of 0 s from the data (most waits 0, cases closed as they open) measures nothing.
        when targeted.value = 0 and targeted.zero_has_no_status then null
        when targeted.direction = 'higher_is_better' then
            case when targeted.value >= targeted.target then 'met'
                 when targeted.value >= targeted.warning then 'at_risk'
                 else 'missed' end
        else
            case when targeted.value <= targeted.target then 'met'
                 when targeted.value <= targeted.warning then 'at_risk'
                 else 'missed' end
    end as status,
    case when targeted.provisional > 0 then targeted.provisional_until end as provisional_until,
    -- Why a value with a target has no status: its outcome is still open, or it is a 0 the catalogue explains.
    case
        when targeted.value is null or targeted.target is null then null
        when targeted.provisional > 0 then 'provisional'
        when targeted.value = 0 and targeted.zero_has_no_status then 'zero_from_data'
    end as status_withheld,
    targeted.owner_role,
    targeted.first_action,
    targeted.owner_role_zh,
    targeted.first_action_zh,
    targeted.previous_value,
    targeted.value - targeted.previous_value as change_vs_previous,
    targeted.year_ago_value,
    targeted.value - targeted.year_ago_value as change_vs_year_ago,
    -- Only on the month that holds the data's last day; through the same day of the month before.
    targeted.previous_to_date_value,
    targeted.value - targeted.previous_to_date_value as change_vs_previous_to_date,
    case when targeted.previous_to_date_value is not null
        then cast({{ dbt.dateadd('month', -1, 'as_of.data_through') }} as date) end as previous_to_date_through,
    -- kpi_certification lists only the values a problem touches.
    certification.kpi is null as certified,
    certification.certification_reason,
    as_of.as_of,
    as_of.data_through
from targeted
cross join as_of
left join {{ ref('kpi_certification') }} as certification
    on targeted.kpi = certification.kpi
    and targeted.grain = certification.grain
    and targeted.period_start = certification.period_start
    and targeted.scope_type = certification.scope_type
    and targeted.scope_id = certification.scope_id
    and coalesce(targeted.period_start_utc, targeted.period_start) = coalesce(certification.period_start_utc, certification.period_start)
