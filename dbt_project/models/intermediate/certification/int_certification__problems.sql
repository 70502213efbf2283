-- Everything that stops a KPI from being certified, per UTC day (null when the problem concerns
-- the whole relation, e.g. a failed dbt test). Extract problems and checks on raw tables
-- concern a raw table (table_name); dbt tests and the suites of models concern a model or seed
-- (model_name) and so only the KPIs computed through it.

select table_name, cast(null as {{ dbt.type_string() }}) as model_name, day, problem
from {{ ref('int_certification__extract_days') }}
where problem is not null

union all

select distinct
    case when target_kind = 'raw' then table_name end as table_name,
    case when target_kind = 'model' then model_name end as model_name,
    partition_date as day,
    suite || ': ' || check_name || ' failed'
        || case when unexpected_count is not null
                then ' (' || cast(unexpected_count as {{ dbt.type_string() }}) || ' unexpected)' else '' end as problem
from (
    select
        *,
        -- Raw suites target raw.<table>; dbt tests the model or seed they are attached to.
        case when target like 'raw.%' or target is null or target = '' then 'raw' else 'model' end as target_kind,
        case when target like '%.%' then {{ dbt.split_part('target', "'.'", 2) }} else target end as model_name
    from {{ ref('stg_audit__check_results') }}
) as checks
where not success and severity = 'critical'
