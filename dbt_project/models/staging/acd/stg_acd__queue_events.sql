-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('acd', 'acd_queue_events', key=['event_id'])) }}

with

source as (

    {{ ccq.staged_versions('acd', 'acd_queue_events', key=['event_id']) }}

),

renamed as (

    select
        source.event_id,
        source.contact_id,
        source.queue_leg,
        source.event_at,
        {{ ccq.upper_text(ccq.trim_text('source.event_type')) }} as event_type,
        source.queue_id,
        {{ ccq.agent_id_from_member('source.agent_id') }} as agent_id,
        {{ hash_pii('source.caller_number') }} as caller_number_hash,
        {{ hash_pii('source.customer_id') }} as customer_id_hash,
        nullif({{ ccq.trim_text('source.detail') }}, '') as detail,

        source._file_id,
        source._loaded_at,
        source._line_no

    from source
    -- What the ACD logged may be a name: staging keeps the agent id only (macros/agent_ids.sql).
    left join {{ ref('stg_acd__agent_ids') }} as agent_ids
        on agent_ids.is_id = 0
       and agent_ids.member_key = {{ ccq.agent_member_join_key('source.agent_id') }}

)

select * from renamed
