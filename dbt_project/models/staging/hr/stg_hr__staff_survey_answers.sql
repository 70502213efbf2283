with

source as (

    {{ deduplicate(source('hr', 'hr_staff_survey'), key=['response_id', 'question_id']) }}

),

renamed as (

    select
        response_id,
        question_id,
        team_id,
        nullif({{ ccq.trim_text('site_id') }}, '') as site_id,
        survey_date,
        score,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
