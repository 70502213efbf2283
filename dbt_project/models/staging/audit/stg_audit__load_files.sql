
select
    file_id,
    table_name,
    file_date,
    source_file,
    rows_read,
    rows_loaded,
    rows_quarantined,
    loaded_at
from {{ source('audit', 'load_files') }}
