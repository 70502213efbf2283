
select
    run_id,
    check_kind,
    suite,
    check_name,
    target,
    table_name,
    partition_date,
    success,
    severity,
    unexpected_count,
    element_count,
    details,
    checked_at
from {{ source('audit', 'check_results') }}
