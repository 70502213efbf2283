-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('wfm', 'wfm_schedules', key=['agent_id', 'starts_at'], latest_by='published_at')) }}

with

source as (

    {{ ccq.staged_versions('wfm', 'wfm_schedules', key=['agent_id', 'starts_at'], latest_by='published_at') }}

),

renamed as (

    select
        agent_id,
        schedule_date,
        {{ ccq.upper_text(ccq.trim_text('activity')) }} as activity,
        starts_at,
        ends_at,
        published_at,

        {{ dbt.datediff('starts_at', 'ends_at', 'second') }} as duration_seconds,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
