-- Every site: those configured in seeds/sites.csv, and those the data names that the seeds do
-- not (unconfigured). An unconfigured site's calendar is the time zone the ingest read its files
-- in (audit.ingested_sites), else the default site's (var default_site_id).
--
-- The raw tables are named directly, not as dbt sources: a site id is looked up here only for
-- its calendar, and as sources every raw table naming a site would enter the certification
-- lineage of every KPI drawn in a site's calendar.
{%- set raw_site_columns = [('hr_roster', 'site_id'), ('pbx_call_legs', 'site_id'), ('finance_costs', 'site_id'),
                            ('hr_staff_survey', 'site_id')] %}

with

configured as (

    select site_id, site_name, time_zone, country_code
    from {{ ref('sites') }}

),

default_site as (

    select time_zone from configured where site_id = '{{ var("default_site_id") }}'

),

ingested as (

    select site_id, time_zone from {{ source('audit', 'ingested_sites') }}

),

named as (

    select site_id from ingested
    {%- for table, column in raw_site_columns %}
    union
    select distinct nullif({{ ccq.trim_text(column) }}, '') as site_id
    from {{ api.Relation.create(database=this.database, schema='raw', identifier=table) }}
    {%- endfor %}
    union
    select site_id from {{ source('audit', 'ingested_queues') }}

),

discovered as (

    select
        named.site_id,
        named.site_id as site_name,
        coalesce(ingested.time_zone, (select time_zone from default_site)) as time_zone,
        cast(null as {{ dbt.type_string() }}) as country_code
    from named
    left join ingested on named.site_id = ingested.site_id
    where named.site_id is not null
      and named.site_id not in (select site_id from configured)

)

select site_id, site_name, time_zone, country_code, true as is_configured,
    cast(null as {{ dbt.type_string() }}) as configuration_note
from configured

union all

select site_id, site_name, time_zone, country_code, false as is_configured,
    'site ' || site_id || ' is not configured in seeds/sites.csv; its calendar is drawn in ' || time_zone
        || '; add it with `ccq configure --write-missing`' as configuration_note
from discovered
