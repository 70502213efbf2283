-- One row per agent per roster period, for the app and for models that need an agent's team,
-- supervisor, site or calendar on a day: join with `day >= valid_from and day < valid_until`.
-- The calendar of an agent is the site's time zone, else UTC (an agent whose site no seed and no
-- ingest names): the one place that rule lives for agents.
select
    periods.agent_id,
    periods.valid_from,
    periods.valid_until,
    periods.team_id,
    periods.supervisor_id,
    periods.site_id,
    {{ ccq.calendar_time_zone('sites.time_zone') }} as time_zone,
    periods.is_latest
from {{ ref('int_people__roster_periods') }} as periods
left join {{ ref('int_reference__sites') }} as sites
    on periods.site_id = sites.site_id
