-- One row per raw table and UTC day that was expected or delivered, with what is wrong with it.
-- An extract for day D is expected once D has ended and its delivery hour on D + 1 has passed.

with schedule as (

    select * from {{ ref('source_schedule') }} where cadence = 'daily'

),

files as (

    select * from {{ ref('stg_audit__load_files') }}

),

centre_start as (

    select min(file_date) as first_day from files

),

expected as (

    select
        schedule.table_name,
        spine.day
    from schedule
    cross join centre_start
    cross join ({{ ccq.day_spine('(select min(file_date) from ' ~ ref('stg_audit__load_files') ~ ')', ccq.ccq_now()) }}) as spine
    where spine.day >= centre_start.first_day
      and spine.day <= cast({{ dbt.dateadd('hour', '-24 - schedule.expected_by_hour_utc', ccq.ccq_now()) }} as date)

),

delivered as (

    select
        table_name,
        file_date as day,
        count(*) as files,
        sum(rows_read) as rows_read,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        max(loaded_at) as loaded_at
    from files
    where file_date is not null
    group by table_name, file_date

)

select
    coalesce(expected.table_name, delivered.table_name) as table_name,
    coalesce(expected.day, delivered.day) as day,
    case when expected.day is not null then true else false end as is_expected,
    case when delivered.day is not null then true else false end as is_delivered,
    coalesce(delivered.rows_read, 0) as rows_read,
    coalesce(delivered.rows_loaded, 0) as rows_loaded,
    coalesce(delivered.rows_quarantined, 0) as rows_quarantined,
    delivered.loaded_at,
    case
        when delivered.day is null
            then coalesce(expected.table_name, delivered.table_name) || ' extract missing for ' || cast(expected.day as {{ dbt.type_string() }})
        when delivered.rows_read <> delivered.rows_loaded + delivered.rows_quarantined
            then delivered.table_name || ' extract for ' || cast(delivered.day as {{ dbt.type_string() }}) || ' does not reconcile'
        when delivered.rows_quarantined > 0
            then delivered.table_name || ' ' || cast(delivered.rows_quarantined as {{ dbt.type_string() }})
                 || ' rows quarantined on ' || cast(delivered.day as {{ dbt.type_string() }})
    end as problem
from expected
full outer join delivered
    on expected.table_name = delivered.table_name
    and expected.day = delivered.day
