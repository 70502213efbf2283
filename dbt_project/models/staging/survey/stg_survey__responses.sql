-- Incremental: the keys of the files loaded since the last build are deduplicated again
-- (macros/deduplicate.sql, staging versions), not the whole raw table on every read.
{{ config(ccq.staged_versions_config('survey', 'survey_responses', key=['survey_id'])) }}

with

source as (

    {{ ccq.staged_versions('survey', 'survey_responses', key=['survey_id']) }}

),

renamed as (

    select
        survey_id,
        contact_id,
        nullif({{ ccq.trim_text('agent_id') }}, '') as agent_id,
        sent_at,
        responded_at,
        csat_score,
        nps_score,
        resolved_first_time,

        responded_at is not null as is_responded,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
