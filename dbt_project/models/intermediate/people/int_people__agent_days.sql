-- One row per agent per local day employed, over the days the roster was observed. Headcount
-- history is rebuilt from daily snapshots (team, supervisor, site and contract as of the day)
-- and from the latest hire and leave dates (a corrected date applies to the past as well).
with periods as (

    select * from {{ ref('int_people__roster_periods') }}

),

agents as (

    select agent_id, hire_date, leave_date from {{ ref('stg_hr__agents') }}

),

-- The days the roster was observed: first to last snapshot.
bounds as (

    select min(snapshot_date) as first_day, max(snapshot_date) as last_day
    from periods

),

days as (

    {{ ccq.day_spine('(select first_day from bounds)', '(select last_day from bounds)') }}

),

-- The roster row in force on each day (int_people__roster_periods): a snapshot holds until the
-- agent's next one, so a missed extract day carries the previous day's roster forward; an
-- agent's first snapshot also covers the days before it, so an agent added to the roster late
-- is not missing from headcount on the days before.
agent_days as (

    select
        days.day as local_date,
        periods.agent_id,
        periods.team_id,
        periods.supervisor_id,
        periods.site_id,
        periods.employment_type,
        periods.weekly_hours,
        agents.hire_date,
        agents.leave_date
    from periods
    inner join days
        on days.day >= periods.valid_from
        and days.day < periods.valid_until
    inner join agents
        on periods.agent_id = agents.agent_id
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
left join {{ ref('int_reference__sites') }} as sites
    on agent_days.site_id = sites.site_id
left join {{ ref('people_parameters') }} as params
    on agent_days.local_date between params.effective_from and params.effective_to
