-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('acd', 'agent_state_events', key=['event_id'])) }}

with

source as (

    {{ ccq.staged_versions('acd', 'agent_state_events', key=['event_id']) }}

),

renamed as (

    select
        event_id,
        agent_id,
        event_at,
        upper(trim(state)) as state,
        nullif(upper(trim(reason)), '') as reason,

        _file_id,
        _loaded_at,
        _line_no

    from source

)

select * from renamed
