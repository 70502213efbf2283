-- Agent x local day employed, with only additive parts: attrition and training hours per
-- agent are recomputed from summed parts at any grain (day, week, month; agent to centre).
with agent_days as (

    select * from {{ ref('int_people__agent_days') }}

),

training_days as (

    select
        agent_id,
        started_local_date as local_date,
        count(*) as training_sessions,
        sum(training_seconds) as training_seconds
    from {{ ref('int_people__trainings') }}
    where started_local_date is not null
    group by agent_id, started_local_date

)

select
    agent_days.local_date,
    agent_days.agent_id,
    agent_days.team_id,
    agent_days.supervisor_id,
    agent_days.site_id,
    agent_days.employment_type,
    1 as headcount,
    agent_days.fte,
    agent_days.is_hire as hires,
    agent_days.is_leaver as leavers,
    agent_days.days_per_year,
    agent_days.full_time_weekly_hours,
    coalesce(training_days.training_sessions, 0) as training_sessions,
    coalesce(training_days.training_seconds, 0) as training_seconds,
    coalesce(training_days.training_seconds, 0) / 3600.0 as training_hours
from agent_days
left join training_days
    on agent_days.agent_id = training_days.agent_id
   and agent_days.local_date = training_days.local_date
