with

source as (

    -- Every daily snapshot is kept (not only the latest, as in stg_hr__agents): the team,
    -- supervisor and site an agent had on a day come from the snapshot of that day.
    {{ deduplicate(source('hr', 'hr_roster'), key=['agent_id', 'snapshot_date']) }}

),

renamed as (

    select
        agent_id,
        snapshot_date,
        team_id,
        nullif(trim(supervisor_id), '') as supervisor_id,
        site_id,
        hire_date,
        leave_date,
        nullif(upper(trim(employment_type)), '') as employment_type,
        weekly_hours,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
