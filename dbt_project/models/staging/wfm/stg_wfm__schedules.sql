with

source as (

    {{ deduplicate(source('wfm', 'wfm_schedules'), key=['agent_id', 'starts_at'], latest_by='published_at') }}

),

renamed as (

    select
        agent_id,
        schedule_date,
        upper(trim(activity)) as activity,
        starts_at,
        ends_at,
        published_at,

        {{ dbt.datediff('starts_at', 'ends_at', 'second') }} as duration_seconds,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
