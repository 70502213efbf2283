with

source as (

    {{ deduplicate(source('hr', 'hr_training'), key=['training_id']) }}

),

renamed as (

    select
        training_id,
        agent_id,
        course_id,
        nullif({{ ccq.trim_text('course_name') }}, '') as course_name,
        started_at,
        ended_at,
        completed,

        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds,
        {{ dbt.datediff('started_at', 'ended_at', 'second') }} / 3600.0 as training_hours,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
