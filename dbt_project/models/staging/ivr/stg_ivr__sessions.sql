-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('ivr', 'ivr_sessions', key=['session_id'])) }}

with

source as (

    {{ ccq.staged_versions('ivr', 'ivr_sessions', key=['session_id']) }}

),

renamed as (

    select
        session_id,
        contact_id,
        {{ hash_pii('caller_number') }} as caller_number_hash,
        {{ hash_pii('customer_id') }} as customer_id_hash,
        entered_at,
        exited_at,
        nullif({{ ccq.trim_text('menu_path') }}, '') as menu_path,
        {{ ccq.upper_text(ccq.trim_text('outcome')) }} as outcome,

        {{ dbt.datediff('entered_at', 'exited_at', 'second') }} as duration_seconds,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
