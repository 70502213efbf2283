-- The KPI values that are not certified, one row each with why; kpi_values certifies every
-- value without a row here. A value is certified when every expected extract of every raw
-- table in its lineage arrived, reconciled and loaded without quarantined rows for the UTC days
-- the (local) period covers, and every check on that lineage passed (per day for partitioned
-- checks, whole-table for the others).
--
-- Problems are few and values many (tens of millions for a large centre), so the problems are
-- mapped to the periods they touch, and only those periods are looked up: no value's UTC span
-- is computed unless a problem may touch it.

with kpi_rows as (

    select kpi, grain, period_start, period_start_utc, scope_type, scope_id, provisional, numerator, denominator
    from {{ ref('int_kpi_parts') }}

),

-- A value outside its KPI's plausible range (a ratio above 1, a negative duration), or more
-- answered than offered: a data error no check upstream saw. Only those values are withheld.
implausible as (

    select kpi_rows.kpi, grain, period_start, period_start_utc, scope_type, scope_id,
        'value ' || cast(round({{ ccq.kpi_value('catalogue.metric_type', 'numerator', 'denominator') }}, 4)
                         as {{ dbt.type_string() }})
            || ' is outside the plausible range of ' || kpi_rows.kpi || ' ('
            || coalesce(cast(catalogue.plausible_min as {{ dbt.type_string() }}), 'no minimum') || ' to '
            || coalesce(cast(catalogue.plausible_max as {{ dbt.type_string() }}), 'no maximum') || ')' as problem
    from kpi_rows
    join {{ ref('kpi_catalogue') }} as catalogue on kpi_rows.kpi = catalogue.kpi
    where {{ ccq.kpi_value('catalogue.metric_type', 'numerator', 'denominator') }} < catalogue.plausible_min
       or {{ ccq.kpi_value('catalogue.metric_type', 'numerator', 'denominator') }} > catalogue.plausible_max

    union all

    select counted.kpi, counted.grain, counted.period_start, counted.period_start_utc, counted.scope_type,
        counted.scope_id,
        'answered ' || cast(cast(answered.numerator as bigint) as {{ dbt.type_string() }}) || ' exceeds offered '
            || cast(cast(offered.numerator as bigint) as {{ dbt.type_string() }}) || ' in the same period' as problem
    from kpi_rows as answered
    join kpi_rows as offered
        on offered.kpi = 'offered' and offered.grain = answered.grain and offered.period_start = answered.period_start
        and offered.scope_type = answered.scope_type and offered.scope_id = answered.scope_id
        and offered.period_start_utc is not distinct from answered.period_start_utc
    join kpi_rows as counted
        on counted.kpi in ('offered', 'answered') and counted.grain = answered.grain
        and counted.period_start = answered.period_start and counted.scope_type = answered.scope_type
        and counted.scope_id = answered.scope_id
        and counted.period_start_utc is not distinct from answered.period_start_utc
    where answered.kpi = 'answered' and answered.numerator > offered.numerator

),

scopes as (

    select distinct scope_type, scope_id from kpi_rows where scope_type in ('queue', 'site')

),

-- Only sites and queues that have data: the seeds also list those of other centres and data
-- sets, whose time zones must not widen the periods.
zones_in_use as (

    select queues.queue_id as zone_of, 'queue' as zone_scope, sites.time_zone
    from {{ ref('int_reference__queues') }} as queues
    join {{ ref('int_reference__sites') }} as sites on queues.site_id = sites.site_id
    where queues.queue_id in (select scope_id from scopes where scope_type = 'queue')

    union all

    select sites.site_id, 'site', sites.time_zone
    from {{ ref('int_reference__sites') }} as sites
    where sites.site_id in (select scope_id from scopes where scope_type = 'site')

),

-- Queues and sites the data names but the seeds do not: measured with defaults, never certified.
unconfigured as (

    select 'queue' as scope_type, queue_id as scope_id, site_id, direction, configuration_note
    from {{ ref('int_reference__queues') }}
    where not is_configured

    union all

    select 'site', site_id, site_id, cast(null as {{ dbt.type_string() }}), configuration_note
    from {{ ref('int_reference__sites') }}
    where not is_configured

),

all_zones as (

    select distinct time_zone from zones_in_use

),

-- The problems in each KPI's path: its raw tables, and the models and seeds it is computed through.
kpi_problems as (

    select lineage.kpi, problems.day, problems.problem
    from {{ ref('int_certification__problems') }} as problems
    join {{ ref('kpi_lineage') }} as lineage
        on problems.table_name = lineage.table_name or problems.table_name = '*'

    union

    select models.kpi, problems.day, problems.problem
    from {{ ref('int_certification__problems') }} as problems
    join {{ ref('int_certification__kpi_models') }} as models
        on problems.model_name = models.model_name

),

-- Per time zone in use, the local days whose UTC span [local midnight, next local midnight)
-- contains a problem day: the day before, the day itself or the day after, tested exactly.
problem_local_days as (

    select distinct
        kpi_problems.kpi,
        kpi_problems.problem,
        all_zones.time_zone,
        cast({{ dbt.dateadd('day', 'shifts.shift', 'kpi_problems.day') }} as date) as local_day
    from kpi_problems
    cross join all_zones
    cross join (select -1 as shift union all select 0 union all select 1) as shifts
    where kpi_problems.day is not null
      and kpi_problems.day >= cast({{ ccq.local_to_utc(
              'cast(' ~ dbt.dateadd('day', 'shifts.shift', 'kpi_problems.day') ~ ' as ' ~ dbt.type_timestamp() ~ ')',
              'all_zones.time_zone') }} as date)
      and kpi_problems.day <= cast({{ dbt.dateadd('second', -1, ccq.local_to_utc(
              'cast(' ~ dbt.dateadd('day', 'shifts.shift + 1', 'kpi_problems.day') ~ ' as ' ~ dbt.type_timestamp() ~ ')',
              'all_zones.time_zone')) }} as date)

),

-- A day, week or month covers a problem day when one of its local days does.
problem_periods as (

    {%- for grain in ccq.kpi_grains() if not grain.minutes %}
    select distinct kpi, problem, time_zone, '{{ grain.grain }}' as grain,
        cast({{ dbt.date_trunc(grain.part, 'local_day') }} as {{ dbt.type_timestamp() }}) as period_start
    from problem_local_days
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

calendar_rows as (

    select kpi_rows.*, zones_in_use.time_zone
    from kpi_rows
    left join zones_in_use
        on kpi_rows.scope_type = zones_in_use.zone_scope and kpi_rows.scope_id = zones_in_use.zone_of
    where kpi_rows.period_start_utc is null

),

-- A sub-day period covers the UTC days from its start to one second before its end (an hour of
-- a half-hour zone can straddle UTC midnight): one row per UTC day it covers.
sub_day_rows as (

    select
        kpi, grain, period_start, period_start_utc, scope_type, scope_id,
        cast(period_start_utc as date) as first_utc_day,
        cast(case grain
            {%- for grain in ccq.kpi_grains() if grain.minutes %}
            when '{{ grain.grain }}' then {{ dbt.dateadd('second', grain.minutes * 60 - 1, 'period_start_utc') }}
            {%- endfor %}
        end as date) as last_utc_day
    from kpi_rows
    where period_start_utc is not null

),

sub_day_utc_days as (

    select kpi, grain, period_start, period_start_utc, scope_type, scope_id, first_utc_day as utc_day
    from sub_day_rows
    union all
    select kpi, grain, period_start, period_start_utc, scope_type, scope_id, last_utc_day
    from sub_day_rows
    where last_utc_day <> first_utc_day

),

problems as (

    -- A queue or site missing from the reference data has no time zone: never certify it; a
    -- data set without any queue or site has no calendar for the other scopes either.
    select kpi, grain, period_start, period_start_utc, scope_type, scope_id,
        scope_type || ' ' || scope_id || ' is not in the reference data (no time zone)' as problem
    from calendar_rows
    where (scope_type in ('queue', 'site') and time_zone is null)
       or (scope_type not in ('queue', 'site') and not exists (select 1 from all_zones))

    union all

    select kpi_rows.kpi, grain, period_start, period_start_utc, kpi_rows.scope_type, kpi_rows.scope_id,
        unconfigured.configuration_note
    from kpi_rows
    join unconfigured
        on kpi_rows.scope_type = unconfigured.scope_type and kpi_rows.scope_id = unconfigured.scope_id

    union all

    -- The centre, and the site and direction of an unconfigured queue, include its values of the
    -- same period. People (teams, agents) are scopes of their own: not flagged for the queues they served.
    select centre.kpi, centre.grain, centre.period_start, centre.period_start_utc, centre.scope_type, centre.scope_id,
        'includes ' || unconfigured.scope_type || ' ' || unconfigured.scope_id
            || ', which is not configured (defaults used)' as problem
    from unconfigured
    join kpi_rows as part
        on part.scope_type = unconfigured.scope_type and part.scope_id = unconfigured.scope_id
    join kpi_rows as centre
        on centre.kpi = part.kpi and centre.grain = part.grain and centre.period_start = part.period_start
        and (centre.scope_type = 'all'
             or (unconfigured.scope_type = 'queue'
                 and ((centre.scope_type = 'site' and centre.scope_id = unconfigured.site_id)
                      or (centre.scope_type = 'direction' and centre.scope_id = unconfigured.direction))))

    union all

    select * from implausible

    union all

    -- KPIs whose outcome is only known later (FCR's re-contact window) stay provisional.
    select kpi_rows.kpi, grain, period_start, period_start_utc, scope_type, scope_id,
        'provisional: ' || cast(cast(provisional as integer) as {{ dbt.type_string() }}) || ' ' || catalogue.provisional_note as problem
    from kpi_rows
    join {{ ref('kpi_catalogue') }} as catalogue on kpi_rows.kpi = catalogue.kpi
    where kpi_rows.provisional > 0

    union all

    -- Problems of the whole relation (a failed dbt test): every value of the KPI.
    select kpi_rows.kpi, grain, period_start, period_start_utc, scope_type, scope_id, kpi_problems.problem
    from kpi_rows
    join kpi_problems on kpi_rows.kpi = kpi_problems.kpi
    where kpi_problems.day is null

    union all

    -- A queue's or a site's period is in its own time zone; any other scope spans every zone in use.
    select calendar_rows.kpi, calendar_rows.grain, calendar_rows.period_start, calendar_rows.period_start_utc,
        calendar_rows.scope_type, calendar_rows.scope_id, problem_periods.problem
    from calendar_rows
    join problem_periods
        on calendar_rows.kpi = problem_periods.kpi
        and calendar_rows.grain = problem_periods.grain
        and calendar_rows.period_start = problem_periods.period_start
        and (calendar_rows.time_zone = problem_periods.time_zone
             or calendar_rows.scope_type not in ('queue', 'site'))

    union all

    select sub_day_utc_days.kpi, sub_day_utc_days.grain, sub_day_utc_days.period_start,
        sub_day_utc_days.period_start_utc, sub_day_utc_days.scope_type, sub_day_utc_days.scope_id,
        kpi_problems.problem
    from sub_day_utc_days
    join kpi_problems
        on sub_day_utc_days.kpi = kpi_problems.kpi
        and sub_day_utc_days.utc_day = kpi_problems.day

)

select
    kpi, grain, period_start, period_start_utc, scope_type, scope_id,
    count(distinct problem) as problem_count,
    {{ ccq.sorted_distinct_list('problem', "'; '") }} as certification_reason
from problems
group by kpi, grain, period_start, period_start_utc, scope_type, scope_id
