-- Everything that stops a KPI from being certified, per raw table and UTC day
-- (day is null when the problem concerns the whole table, e.g. a failed dbt test).
{{ config(tags=['certification']) }}

select table_name, day, problem
from {{ ref('int_certification__extract_days') }}
where problem is not null

union all

select
    table_name,
    partition_date as day,
    suite || ': ' || check_name || ' failed'
        || case when unexpected_count is not null
                then ' (' || cast(unexpected_count as {{ dbt.type_string() }}) || ' unexpected)' else '' end as problem
from {{ ref('stg_audit__check_results') }}
where not success and severity = 'critical'
