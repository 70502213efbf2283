with

source as (

    {{ deduplicate(source('hr', 'hr_roster'), key=['agent_id'], latest_by='snapshot_date') }}

),

renamed as (

    select
        agent_id,
        {{ hash_pii('agent_name') }} as agent_name_hash,
        team_id,
        nullif({{ ccq.trim_text('supervisor_id') }}, '') as supervisor_id,
        site_id,
        hire_date,
        leave_date,
        nullif({{ ccq.upper_text(ccq.trim_text('employment_type')) }}, '') as employment_type,
        weekly_hours,
        snapshot_date,

        _file_id,
        _loaded_at

    from source

)

select * from renamed
