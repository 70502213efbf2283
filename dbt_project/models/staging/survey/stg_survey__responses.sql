with

source as (

    {{ deduplicate(source('survey', 'survey_responses'), key=['survey_id']) }}

),

renamed as (

    select
        survey_id,
        contact_id,
        nullif(trim(agent_id), '') as agent_id,
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
