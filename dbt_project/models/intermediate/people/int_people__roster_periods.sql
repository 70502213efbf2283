-- One row per agent per roster period: the days over which one daily snapshot is the roster
-- row in force. The single place that answers "the agent's team, supervisor, site and
-- contract on a local day"; callers join it with `day >= valid_from and day < valid_until`.
with snapshots as (

    select * from {{ ref('stg_hr__roster_snapshots') }}

),

sequenced as (

    select
        agent_id,
        snapshot_date,
        team_id,
        supervisor_id,
        site_id,
        employment_type,
        weekly_hours,
        row_number() over (partition by agent_id order by snapshot_date) as snapshot_no,
        lead(snapshot_date) over (partition by agent_id order by snapshot_date) as next_snapshot_date
    from snapshots

)

select
    agent_id,
    -- A snapshot holds until the agent's next one, so a missed extract day carries the
    -- previous day's roster forward. The first snapshot also covers the days before it, so
    -- activity older than the roster history (or before an agent was first listed) still gets
    -- the earliest known team rather than none; the last one stays in force until a newer
    -- snapshot arrives. Fixed sentinel dates rather than nulls keep the lookup a plain range
    -- join on every engine.
    case
        when snapshot_no = 1 then cast('1900-01-01' as date)
        else snapshot_date
    end as valid_from,
    coalesce(next_snapshot_date, cast('9999-12-31' as date)) as valid_until,
    team_id,
    supervisor_id,
    site_id,
    employment_type,
    weekly_hours,
    snapshot_date,
    case when next_snapshot_date is null then 1 else 0 end as is_latest
from sequenced
