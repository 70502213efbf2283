-- Per KPI, period and scope: certified or not, and why. A value is certified when every
-- expected extract of every raw table in its lineage arrived, reconciled and loaded without
-- quarantined rows for the UTC days the (local) period covers, and every check on that
-- lineage passed (per day for partitioned checks, whole-table for the others).
{{ config(tags=['certification']) }}

with kpi_rows as (

    select kpi, grain, period_start, period_start_utc, scope_type, scope_id, provisional
    from {{ ref('int_kpi_parts') }}

),

-- Only sites and queues that have data: the seeds also list those of other centres and data
-- sets, whose time zones must not widen the periods.
zones_in_use as (

    select queues.queue_id as zone_of, 'queue' as zone_scope, sites.time_zone
    from {{ ref('queues') }} as queues
    join {{ ref('sites') }} as sites on queues.site_id = sites.site_id
    where queues.queue_id in (select distinct scope_id from kpi_rows where scope_type = 'queue')

    union all

    select sites.site_id, 'site', sites.time_zone
    from {{ ref('sites') }} as sites
    where sites.site_id in (select distinct scope_id from kpi_rows where scope_type = 'site')

),

-- A queue's or a site's period is in its own time zone; any other scope spans every zone in use.
row_zones as (

    select kpi_rows.kpi, kpi_rows.grain, kpi_rows.period_start, kpi_rows.period_start_utc,
        kpi_rows.scope_type, kpi_rows.scope_id, zones_in_use.time_zone
    from kpi_rows
    left join zones_in_use
        on kpi_rows.scope_type = zones_in_use.zone_scope and kpi_rows.scope_id = zones_in_use.zone_of
    where kpi_rows.scope_type in ('queue', 'site')

    union all

    select kpi_rows.kpi, kpi_rows.grain, kpi_rows.period_start, kpi_rows.period_start_utc,
        kpi_rows.scope_type, kpi_rows.scope_id, all_zones.time_zone
    from kpi_rows
    left join (select distinct time_zone from zones_in_use) as all_zones on 1 = 1
    where kpi_rows.scope_type not in ('queue', 'site')

),

utc_ranges as (

    select
        row_zones.*,
        case when period_start_utc is not null then period_start_utc
             else {{ ccq.local_to_utc('period_start', 'time_zone') }} end as utc_from,
        case grain
            when 'interval' then {{ dbt.dateadd('minute', var('interval_minutes'), 'period_start_utc') }}
            when 'interval_30' then {{ dbt.dateadd('minute', 30, 'period_start_utc') }}
            when 'hour' then {{ dbt.dateadd('minute', 60, 'period_start_utc') }}
            when 'day' then {{ ccq.local_to_utc(dbt.dateadd('day', 1, 'period_start'), 'time_zone') }}
            when 'week' then {{ ccq.local_to_utc(dbt.dateadd('day', 7, 'period_start'), 'time_zone') }}
            when 'month' then {{ ccq.local_to_utc(dbt.dateadd('month', 1, 'period_start'), 'time_zone') }}
        end as utc_to
    from row_zones

),

-- The problems in each KPI's path: its raw tables, and the models and seeds it is computed through.
kpi_problems as (

    select lineage.kpi, problems.day, problems.problem
    from {{ ref('int_certification__problems') }} as problems
    join {{ ref('kpi_lineage') }} as lineage
        on problems.table_name = lineage.table_name or problems.table_name = '*'

    union

    select models.kpi, problems.day, problems.problem
    from {{ ref('int_certification__problems') }} as problems
    join {{ ref('int_certification__kpi_models') }} as models
        on problems.model_name = models.model_name

),

problems as (

    -- A queue or site missing from the reference data has no time zone: never certify it.
    select kpi, grain, period_start, period_start_utc, scope_type, scope_id,
        scope_type || ' ' || scope_id || ' is not in the reference data (no time zone)' as problem
    from row_zones
    where time_zone is null

    union all

    -- KPIs whose outcome is only known later (FCR's re-contact window) stay provisional.
    select kpi_rows.kpi, grain, period_start, period_start_utc, scope_type, scope_id,
        'provisional: ' || cast(cast(provisional as integer) as {{ dbt.type_string() }}) || ' ' || catalogue.provisional_note as problem
    from kpi_rows
    join {{ ref('kpi_catalogue') }} as catalogue on kpi_rows.kpi = catalogue.kpi
    where kpi_rows.provisional > 0

    union all

    select
        utc_ranges.kpi, utc_ranges.grain, utc_ranges.period_start, utc_ranges.period_start_utc,
        utc_ranges.scope_type, utc_ranges.scope_id,
        problems.problem
    from utc_ranges
    join kpi_problems as problems
        on utc_ranges.kpi = problems.kpi
        and (
            problems.day is null
            or (problems.day >= cast(utc_ranges.utc_from as date)
                and problems.day <= cast({{ dbt.dateadd('second', -1, 'utc_ranges.utc_to') }} as date))
        )

),

reasons as (

    select
        kpi, grain, period_start, period_start_utc, scope_type, scope_id,
        count(distinct problem) as problem_count,
        {{ dbt.listagg('distinct problem', "'; '", 'order by problem') }} as certification_reason
    from problems
    group by kpi, grain, period_start, period_start_utc, scope_type, scope_id

),

as_of as (

    select max(loaded_at) as as_of, max(file_date) as data_through
    from {{ ref('stg_audit__load_files') }}

)

select
    kpi_rows.kpi,
    kpi_rows.grain,
    kpi_rows.period_start,
    kpi_rows.period_start_utc,
    kpi_rows.scope_type,
    kpi_rows.scope_id,
    case when reasons.problem_count is null then true else false end as certified,
    coalesce(reasons.problem_count, 0) as problem_count,
    reasons.certification_reason,
    as_of.as_of,
    as_of.data_through
from kpi_rows
cross join as_of
left join reasons
    on kpi_rows.kpi = reasons.kpi
    and kpi_rows.grain = reasons.grain
    and kpi_rows.period_start = reasons.period_start
    and kpi_rows.scope_type = reasons.scope_type
    and kpi_rows.scope_id = reasons.scope_id
    and coalesce(kpi_rows.period_start_utc, kpi_rows.period_start) = coalesce(reasons.period_start_utc, reasons.period_start)
