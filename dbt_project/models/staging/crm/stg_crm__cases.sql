-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('crm', 'crm_cases', key=['case_id'], latest_by='updated_at')) }}

with

source as (

    {{ ccq.staged_versions('crm', 'crm_cases', key=['case_id'], latest_by='updated_at') }}

),

renamed as (

    select
        case_id,
        {{ hash_pii('customer_id') }} as customer_id_hash,
        opened_at,
        category,
        {{ ccq.upper_text(ccq.trim_text('status')) }} as status,
        resolved_at,
        updated_at,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
