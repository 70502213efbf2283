-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('pbx', 'pbx_call_legs', key=['leg_id'])) }}

with

source as (

    {{ ccq.staged_versions('pbx', 'pbx_call_legs', key=['leg_id']) }}

),

renamed as (

    select
        leg_id,
        call_id,
        {{ ccq.lower_text(ccq.trim_text('direction')) }} as direction,
        {{ hash_pii('caller_number') }} as caller_number_hash,
        {{ hash_pii('dialled_number') }} as dialled_number_hash,
        nullif({{ ccq.trim_text('trunk_id') }}, '') as trunk_id,
        site_id,
        nullif({{ ccq.trim_text('agent_id') }}, '') as agent_id,
        started_at,
        answered_at,
        ended_at,
        {{ ccq.upper_text(ccq.trim_text('disposition')) }} as disposition,

        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds,
        {{ dbt.datediff('answered_at', 'ended_at', 'second') }} as answered_seconds,
        {{ ccq.upper_text(ccq.trim_text('disposition')) }} = 'ANSWERED' as is_answered,
        {{ ccq.upper_text(ccq.trim_text('disposition')) }} in ('BUSY', 'CONGESTION', 'FAILED') as is_blocked,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
