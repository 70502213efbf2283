-- Every queue: those configured in seeds/queues.csv, and those the ACD data names that the seeds
-- do not (unconfigured). An unconfigured queue belongs to the site its files were ingested in
-- (audit.ingested_queues), else to the default site (var default_site_id), and is measured with
-- the default definition (int_reference__queue_parameters).
--
-- raw.acd_queue_events is named directly, not as a dbt source: queue ids are looked up here only
-- for their site, and as a source it would enter the certification lineage of every KPI drawn in
-- a queue's or a site's calendar.
{%- set defaults = var('queue_defaults') %}

with

configured as (

    select queue_id, queue_name, queue_name_zh, call_type, direction, channel, priority, site_id
    from {{ ref('queues') }}

),

ingested as (

    select queue_id, site_id from {{ source('audit', 'ingested_queues') }}

),

named as (

    select queue_id from ingested
    union
    select distinct queue_id
    from {{ api.Relation.create(database=this.database, schema='raw', identifier='acd_queue_events') }}

),

discovered as (

    select
        named.queue_id,
        coalesce(ingested.site_id, '{{ var("default_site_id") }}') as site_id
    from named
    left join ingested on named.queue_id = ingested.queue_id
    where named.queue_id is not null
      and named.queue_id not in (select queue_id from configured)

)

select queue_id, queue_name, queue_name_zh, call_type, direction, channel, priority, site_id,
    true as is_configured, cast(null as {{ dbt.type_string() }}) as configuration_note
from configured

union all

select
    queue_id,
    queue_id as queue_name,
    queue_id as queue_name_zh,
    cast(null as {{ dbt.type_string() }}) as call_type,
    'inbound' as direction,
    'voice' as channel,
    cast(null as integer) as priority,
    site_id,
    false as is_configured,
    'queue ' || queue_id || ' is not configured in seeds/queues.csv; defaults used: service level at '
        || '{{ defaults.sl_threshold_seconds }} s, short abandon under {{ defaults.short_abandon_seconds }} s, '
        || 'FCR window {{ defaults.fcr_window_days }} days, occupancy cap {{ (defaults.occupancy_cap * 100) | round | int }}%, '
        || '{{ defaults.erlang_model | replace("_", " ") | title }} staffing model, site ' || site_id
        || '; add it with `ccq configure --write-missing`' as configuration_note
from discovered
