-- One row per course attendance with its local days, drawn in the time zone of the agent's
-- site (latest roster: an agent who changes time zone mid-history is a rare edge accepted here).
with trainings as (

    select * from {{ ref('stg_hr__trainings') }}

),

agents as (

    select agent_id, site_id from {{ ref('stg_hr__agents') }}

)

select
    trainings.training_id,
    trainings.agent_id,
    trainings.course_id,
    trainings.course_name,
    trainings.started_at,
    trainings.ended_at,
    cast({{ ccq.utc_to_local('trainings.started_at', 'sites.time_zone') }} as date) as started_local_date,
    cast({{ ccq.utc_to_local('trainings.ended_at', 'sites.time_zone') }} as date) as ended_local_date,
    -- Attendance of a course not completed still took the agent's time: it counts in hours,
    -- not in the training effect.
    case when trainings.completed then 1 else 0 end as is_completed,
    trainings.duration_seconds as training_seconds,
    trainings.training_hours
from trainings
left join agents
    on trainings.agent_id = agents.agent_id
left join {{ ref('int_reference__sites') }} as sites
    on agents.site_id = sites.site_id
