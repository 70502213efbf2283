-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('crm', 'crm_interactions', key=['interaction_id'])) }}

with

source as (

    {{ ccq.staged_versions('crm', 'crm_interactions', key=['interaction_id']) }}

),

renamed as (

    select
        interaction_id,
        case_id,
        contact_id,
        {{ hash_pii('customer_id') }} as customer_id_hash,
        agent_id,
        created_at,
        contact_reason,
        {{ ccq.upper_text(ccq.trim_text('wrap_up_code')) }} as wrap_up_code,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
