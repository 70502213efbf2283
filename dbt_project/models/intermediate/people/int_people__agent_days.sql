-- One row per agent per local day employed, over the days the roster was observed. Headcount
-- history is rebuilt from daily snapshots (team, supervisor, site and contract as of the day)
-- and from the latest hire and leave dates (a corrected date applies to the past as well).
with snapshots as (

    select * from {{ ref('stg_hr__roster_snapshots') }}

),

agents as (

    select agent_id, hire_date, leave_date from {{ ref('stg_hr__agents') }}

),

bounds as (

    select min(snapshot_date) as first_day, max(snapshot_date) as last_day
    from snapshots

),

days as (

    {{ ccq.day_spine('(select first_day from bounds)', '(select last_day from bounds)') }}

),

-- A snapshot holds until the agent's next one, so a missed extract day carries the previous
-- day's roster forward; an agent's first snapshot also covers the days before it, so an agent
-- added to the roster late is not missing from headcount on the days before.
snapshot_spans as (

    select
        snapshots.*,
        case
            when row_number() over (partition by agent_id order by snapshot_date) = 1
                then bounds.first_day
            else snapshot_date
        end as valid_from,
        coalesce(
            cast({{ dbt.dateadd('day', -1, 'lead(snapshot_date) over (partition by agent_id order by snapshot_date)') }} as date),
            bounds.last_day
        ) as valid_to
    from snapshots
    cross join bounds

),

agent_days as (

    select
        days.day as local_date,
        spans.agent_id,
        spans.team_id,
        spans.supervisor_id,
        spans.site_id,
        spans.employment_type,
        spans.weekly_hours,
        agents.hire_date,
        agents.leave_date
    from snapshot_spans as spans
    inner join days
        on days.day between spans.valid_from and spans.valid_to
    inner join agents
        on spans.agent_id = agents.agent_id
    where days.day >= agents.hire_date
      and (agents.leave_date is null or days.day <= agents.leave_date)

)

select
    agent_days.local_date,
    agent_days.agent_id,
    agent_days.team_id,
    agent_days.supervisor_id,
    agent_days.site_id,
    sites.time_zone,
    agent_days.employment_type,
    agent_days.weekly_hours,
    params.full_time_weekly_hours,
    params.days_per_year,
    params.training_effect_weeks,
    coalesce(agent_days.weekly_hours, params.full_time_weekly_hours) / params.full_time_weekly_hours as fte,
    case when agent_days.local_date = agent_days.hire_date then 1 else 0 end as is_hire,
    -- leave_date is the last working day: the agent counts in headcount that day and leaves on it.
    case when agent_days.local_date = agent_days.leave_date then 1 else 0 end as is_leaver
from agent_days
left join {{ ref('sites') }} as sites
    on agent_days.site_id = sites.site_id
left join {{ ref('people_parameters') }} as params
    on agent_days.local_date between params.effective_from and params.effective_to
