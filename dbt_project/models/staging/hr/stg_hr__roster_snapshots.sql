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
        nullif({{ ccq.trim_text('supervisor_id') }}, '') as supervisor_id,
        site_id,
        hire_date,
        leave_date,
        nullif({{ ccq.upper_text(ccq.trim_text('employment_type')) }}, '') as employment_type,
        weekly_hours,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
