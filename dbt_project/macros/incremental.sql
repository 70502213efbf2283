{#- Incremental rebuild of the ACD models, driven by the extract files loaded since the last build.

    A model built this way keeps _loaded_at on every row: when the newest source row behind it
    was loaded. The UTC days of the ACD extract files loaded after a model's newest _loaded_at
    (audit.load_files.loaded_at) are rebuilt, widened by var('lookback_days') days back, so
    that legs crossing midnight and rows dropped from a corrected re-delivery are caught too.

    The same scope SQL selects the batch (in the model) and the rows the batch replaces (in
    the replace_where strategy, rendered again after the batch is built): nothing is written
    in between, so both see the same days. `dbt build --full-refresh` gives the same rows. -#}

{% macro acd_days_to_rebuild() -%}
    {{ ccq.loaded_file_days(['acd_queue_events']) }}
{%- endmacro %}

{#- Load time of the newest source row already in `relation` (a model with _loaded_at). -#}
{% macro loaded_through(relation) -%}
    select coalesce(max(_loaded_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) from {{ relation }}
{%- endmacro %}

{#- int_contacts__queue_legs: every contact with an event in an extract file of a day to rebuild (all
    its legs, from all its events, so a leg spanning two days' files is whole), plus every
    contact with a leg booked on such a day (a corrected file may have dropped its events), plus
    every contact with a leg not booked yet (its ENTERQUEUE has not arrived: no day to find it
    by, and a corrected file may have dropped its other events; a handful). -#}
{% macro queue_legs_contacts_to_rebuild() -%}
    {%- set load_files = source('audit', 'load_files') -%}
    select contact_id
    from {{ source('acd', 'acd_queue_events') }}
    where _file_id in (
        select file_id from {{ load_files }}
        where table_name = 'acd_queue_events'
          and file_date in ({{ ccq.acd_days_to_rebuild() }})
    )
    union
    select contact_id
    from {{ this }}
    where cast(entered_at as date) in ({{ ccq.acd_days_to_rebuild() }})
       or entered_at is null
{%- endmacro %}

{#- fct_queue_legs: the contacts whose agent legs take another roster row (team, supervisor)
    after the roster files loaded since the last build. A snapshot of day D is in force from local
    day D on, so the agent legs booked from the earliest such D on; and every leg of an agent
    whose first snapshot is dated D or later (it also covers the days before it, and a corrected
    file may have added or withdrawn the agent's earlier first one), or who is no longer on the
    roster while the leg still carries a team. -#}
{% macro queue_legs_roster_contacts_to_rebuild() -%}
    {%- set load_files = source('audit', 'load_files') -%}
    select legs.contact_id
    from {{ this }} as legs
    inner join (
        select min(files.file_date) as first_day
        from {{ load_files }} as files
        where files.table_name = 'hr_roster'
          and files.file_date is not null
          and files.loaded_at > ({{ ccq.loaded_through(this) }})
    ) as roster_files
        on roster_files.first_day is not null
    left join (
        select agent_id, min(snapshot_date) as first_snapshot_date
        from {{ ref('int_people__roster_periods') }}
        group by agent_id
    ) as firsts
        on legs.agent_id = firsts.agent_id
    where legs.agent_id is not null
      and (legs.local_date >= roster_files.first_day
           or firsts.first_snapshot_date >= roster_files.first_day
           or (firsts.agent_id is null and (legs.team_id is not null or legs.supervisor_id is not null)))
{%- endmacro %}

{#- fct_queue_intervals: the UTC days to rebuild, plus the days of the legs rebuilt since the
    fact was last built (a contact touched on day D can have a leg booked on D + 1). -#}
{% macro queue_interval_days_to_rebuild() -%}
    {{ ccq.acd_days_to_rebuild() }}
    union
    select cast(entered_at as date) as day
    from {{ ref('int_contacts__queue_legs') }}
    where entered_at is not null
      and _loaded_at > ({{ ccq.loaded_through(this) }})
{%- endmacro %}

{#- Custom incremental strategy: delete the rows matching incremental_predicates, then insert
    the batch. Unlike delete+insert on a unique key, rows with no counterpart in the batch go
    too (a contact or interval that a corrected re-delivery no longer has). The predicates
    may hold Jinja, rendered here at run time. Plain SQL, so every adapter can run it. -#}
{% macro get_incremental_replace_where_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set predicates = arg_dict['incremental_predicates'] -%}
    {%- if not predicates -%}
        {{ exceptions.raise_compiler_error('incremental_strategy replace_where needs incremental_predicates: the rows the batch replaces') }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {% for p in predicates %}({{ render(p) }}){% if not loop.last %} and {% endif %}{% endfor %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- int_customer__contacts: the contacts whose newest source row is not the one the model was
    built from (new or changed legs or CRM interactions, or a withdrawn newest one: the newest
    load time behind the contact differs); every contact booked on a UTC day of the ACD or CRM
    files loaded since the last build, back by the lookback (a corrected file may have withdrawn
    an older leg or interaction, or sent a record back to an older version, which leaves the
    newest load time as it was); and the contacts whose label no longer matches the roster
    (agent's team, supervisor) or the queues (call type, direction). A correction that withdraws
    an interaction logged more than the lookback after its contact, and not its newest row,
    reaches the model at the nightly full refresh. -#}
{% macro customer_contacts_to_rebuild() -%}
    select coalesce(sources.contact_id, built.contact_id) as contact_id
    from (
        select contact_id, max(_loaded_at) as _loaded_at
        from (
            select contact_id, _loaded_at from {{ ref('int_contacts__queue_legs') }} where entered_at is not null
            union all
            select interactions.contact_id, interactions._loaded_at
            from {{ ref('stg_crm__interactions') }} as interactions
            where interactions.contact_id in (
                select contact_id from {{ ref('int_contacts__queue_legs') }} where entered_at is not null)
        ) as rows_behind
        group by contact_id
    ) as sources
    full outer join {{ this }} as built on sources.contact_id = built.contact_id
    where sources._loaded_at is distinct from built._loaded_at
    union
    select contact_id
    from {{ this }}
    where cast(entered_at as date) in ({{ ccq.loaded_file_days(['acd_queue_events', 'crm_interactions']) }})
    union
    select built.contact_id
    from {{ this }} as built
    left join {{ ref('stg_hr__agents') }} as agents on built.agent_id = agents.agent_id
    where built.agent_id is not null
      and (built.team_id is distinct from agents.team_id or built.supervisor_id is distinct from agents.supervisor_id)
    union
    select built.contact_id
    from {{ this }} as built
    left join {{ ref('int_reference__queues') }} as queues on built.queue_id = queues.queue_id
    where built.call_type is distinct from queues.call_type or built.direction is distinct from queues.direction
{%- endmacro %}

{#- agent intervals -#}

{#- The UTC days of the files of `tables` loaded since the model was last built, widened by
    var('lookback_days') days back and `days_after` days forward (for facts whose spans can run
    past the end of their file's day). audit.load_files is written by the loader with the raw
    tables (the raw_extracts asset), so the facts that read it run after the load. -#}
{% macro loaded_file_days(tables, days_after=0) -%}
    {%- set load_files = source('audit', 'load_files') -%}
    {%- set lookback = var('lookback_days') | int -%}
    select distinct cast({{ dbt.dateadd('day', '-shift.days_back', 'files.file_date') }} as date) as day
    from {{ load_files }} as files
    cross join (
        {%- for n in range(-days_after, lookback + 1) %}
        select {{ n }} as days_back{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    ) as shift
    where files.table_name in ({% for t in tables %}'{{ t }}'{{ ', ' if not loop.last }}{% endfor %})
      and files.file_date is not null
      and files.loaded_at > ({{ ccq.loaded_through(this) }})
{%- endmacro %}

{#- fct_agent_intervals: the UTC days of the agent-state, schedule and ACD files loaded since
    the last build, back by the lookback and one day forward (a state closed at the end of a
    local day west of UTC, or a call in ACW past midnight, reaches the next UTC day). A roster
    file of day D puts a new roster row in force from local day D on (which starts on UTC day
    D - 1 east of UTC), so every built day from D - 1 on is relabelled. -#}
{% macro agent_interval_days_to_rebuild() -%}
    {%- set load_files = source('audit', 'load_files') -%}
    {{ ccq.loaded_file_days(['agent_state_events', 'wfm_schedules', 'acd_queue_events'], days_after=1) }}
    union
    select distinct cast(interval_start_utc as date) as day
    from {{ this }}
    where interval_start_utc >= (
        select cast({{ dbt.dateadd('day', -1, 'min(files.file_date)') }} as {{ dbt.type_timestamp() }})
        from {{ load_files }} as files
        where files.table_name = 'hr_roster'
          and files.loaded_at > ({{ ccq.loaded_through(this) }})
    )
{%- endmacro %}

{#- fct_agent_intervals: agents whose every interval changes. Their clock (the time zone of the
    site of their latest roster snapshot) differs from the one their rows were built with; or
    their first roster snapshot, which also covers the days before it, is dated on or after the
    earliest roster file loaded since the last build (it came in such a file, or a corrected
    file withdrew the agent's earlier first snapshot). -#}
{% macro agent_interval_agents_to_rebuild() -%}
    {%- set load_files = source('audit', 'load_files') -%}
    select built.agent_id
    from (select distinct agent_id, time_zone from {{ this }}) as built
    left join (
        select periods.agent_id, sites.time_zone
        from {{ ref('int_people__roster_periods') }} as periods
        left join {{ ref('int_reference__sites') }} as sites on periods.site_id = sites.site_id
        where periods.is_latest = 1
    ) as clocks
        on built.agent_id = clocks.agent_id
    where built.time_zone <> coalesce(clocks.time_zone, 'UTC')
    union
    select periods.agent_id
    from {{ ref('int_people__roster_periods') }} as periods
    where periods.valid_from < periods.snapshot_date
      and periods.snapshot_date >= (
          select min(files.file_date)
          from {{ load_files }} as files
          where files.table_name = 'hr_roster'
            and files.loaded_at > ({{ ccq.loaded_through(this) }})
      )
{%- endmacro %}

{#- KPI parts -#}

{#- int_kpi_parts: the first local period start to rebuild. Take the earliest day of the extract
    files (any table) loaded since the parts were last built, back by var('kpi_lookback_days')
    for outcomes that are only known later (FCR's re-contact window, the training effect's QA
    window), then back to the start of its week or month, whichever is earlier: every period
    holding a touched day starts there or later, and every period starting there or later is
    rebuilt whole from the fact rows booked from there on (the one week or month straddling
    that start holds no touched day and keeps its row). Null (nothing rebuilt) when nothing was
    loaded. Later changes to older periods (a case resolved months after it opened) reach the
    scorecard at the nightly full refresh. -#}
{% macro kpi_parts_rebuild_from() -%}
    {%- set load_files = source('audit', 'load_files') -%}
    select
        case
            when {{ dbt.date_trunc('week', 'first_day') }} < {{ dbt.date_trunc('month', 'first_day') }}
                then cast({{ dbt.date_trunc('week', 'first_day') }} as {{ dbt.type_timestamp() }})
            else cast({{ dbt.date_trunc('month', 'first_day') }} as {{ dbt.type_timestamp() }})
        end
    from (
        select cast({{ dbt.dateadd('day', -1 * (var('kpi_lookback_days') | int), 'min(files.file_date)') }} as date) as first_day
        from {{ load_files }} as files
        where files.file_date is not null
          and files.loaded_at > ({{ ccq.loaded_through(this) }})
    ) as touched
{%- endmacro %}

{#- fct_pbx_call_legs: the legs whose staged version is not the one the fact holds (new, corrected,
    dropped by a re-delivery, or back to an older delivery: _loaded_at differs), plus every agent
    leg when a roster extract arrived since the last build (a new snapshot closes the agent's
    roster period, and only agent legs carry a team). The comparison is a join of two tables
    on the key, not a scan of the raw versions; legs with no local calendar, never in the
    fact, are in every batch (a handful: sites missing from the seed). -#}
{% macro pbx_legs_to_rebuild() -%}
    {%- set load_files = source('audit', 'load_files') -%}
    select coalesce(legs.leg_id, facts.leg_id) as leg_id
    from {{ ref('stg_pbx__call_legs') }} as legs
    full outer join {{ this }} as facts on legs.leg_id = facts.leg_id
    where legs._loaded_at is distinct from facts._loaded_at
    union
    select leg_id
    from {{ ref('stg_pbx__call_legs') }}
    where agent_id is not null
      and exists (
          select 1 from {{ load_files }}
          where table_name = 'hr_roster'
            and loaded_at > ({{ ccq.loaded_through(this) }})
      )
{%- endmacro %}

{#- On Spark every build is a full refresh (ccq-spark-dbt passes --full-refresh): parquet
    tables cannot delete rows, so replace_where and delete+insert have no Spark form, and
    dbt-spark rejects them before it looks at the refresh. They are accepted here for a full
    refresh only; an incremental run on Spark stops with this message (DECISIONLOG 2026-12-07). -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy in ['replace_where', 'delete+insert'] -%}
        {%- if not should_full_refresh() -%}
            {{ exceptions.raise_compiler_error("incremental_strategy " ~ raw_strategy ~ " has no Spark form: build with --full-refresh (ccq-spark-dbt does)") }}
        {%- endif -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{% endmacro %}
