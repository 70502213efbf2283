-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('acd', 'acd_queue_events', key=['event_id'])) }}

with

source as (

    {{ ccq.staged_versions('acd', 'acd_queue_events', key=['event_id']) }}

),

renamed as (

    select
        event_id,
        contact_id,
        queue_leg,
        event_at,
        upper(trim(event_type)) as event_type,
        queue_id,
        nullif(trim(agent_id), '') as agent_id,
        {{ hash_pii('caller_number') }} as caller_number_hash,
        {{ hash_pii('customer_id') }} as customer_id_hash,
        nullif(trim(detail), '') as detail,

        _file_id,
        _loaded_at,
        _line_no

    from source

)

select * from renamed
