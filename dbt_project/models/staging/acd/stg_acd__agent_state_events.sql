-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('acd', 'agent_state_events', key=['event_id'])) }}

with

source as (

    {{ ccq.staged_versions('acd', 'agent_state_events', key=['event_id']) }}

),

renamed as (

    select
        source.event_id,
        {{ ccq.agent_id_from_member('source.agent_id') }} as agent_id,
        source.event_at,
        {{ ccq.upper_text(ccq.trim_text('source.state')) }} as state,
        nullif({{ ccq.upper_text(ccq.trim_text('source.reason')) }}, '') as reason,

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
