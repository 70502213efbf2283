-- Lookup: what the ACD logged as the agent (a value that may be a name, by its hashed key) ->
-- the agent id the warehouse uses (macros/agent_ids.sql, docs/agent_names.md). Staging joins
-- it where it builds agent_id, so the clear name never passes staging.
--
-- Incremental and sticky: a build adds the members logged in the files loaded since the last
-- build and keeps the id of every member already known, so every layer (the incremental
-- staging, legs, intervals and KPI parts) holds one id per member. A roster that names a member
-- only after the member was first seen takes effect at the next full refresh (the nightly
-- run); until then roster_agent_id differs from agent_id and the warning test
-- stg_acd__agent_ids_follow_roster says so. Ids (rule 1) are listed too, as their own key and
-- never looked up, so that the watermark (_loaded_at) moves with every file that names an agent.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='member_key',
    on_schema_change='fail',
) }}

with

logged as (

    {{ ccq.agent_members_logged(this if is_incremental() else none) }}

),

members_logged as (

    select
        case when {{ ccq.agent_value_is_id('member') }} then member
             else {{ ccq.agent_member_key('member') }} end as member_key,
        max(case when {{ ccq.agent_value_is_id('member') }} then 1 else 0 end) as is_id,
        max(_loaded_at) as _loaded_at
    from logged
    group by 1

),

-- Every member that may be a name is resolved again on every build (a few hundred at most), so
-- roster_agent_id always says what the roster says today.
members as (

    select member_key, max(is_id) as is_id, max(_loaded_at) as _loaded_at
    from (
        select member_key, is_id, _loaded_at from members_logged
        {% if is_incremental() -%}
        union all
        select member_key, is_id, _loaded_at from {{ this }} where is_id = 0
        {%- endif %}
    ) as all_members
    group by member_key

),

-- raw.hr_roster is named directly, not as a dbt source: as a source it would put the roster into
-- the certification lineage of every KPI built on ACD events (kpi_raw_lineage follows dbt's
-- graph), so a late HR extract would uncertify the queue KPIs. The roster only names agents here,
-- as fct_queue_legs' descriptive_sources says of its team columns.
{%- set hr_roster = api.Relation.create(database=this.database, schema='raw', identifier='hr_roster') %}
roster as (

    select agent_id, agent_name from {{ hr_roster }}

),

-- Rule 2a: a roster agent_id logged in another spelling (case, spaces).
roster_ids as (

    select {{ ccq.agent_member_key('agent_id') }} as member_key, min(agent_id) as agent_id
    from roster
    group by 1

),

-- Rule 2b: a name of exactly one agent in any roster snapshot (an agent renamed keeps the old
-- name's match; two agents of the same name match neither).
roster_names as (

    select
        {{ ccq.agent_member_key('agent_name') }} as member_key,
        min(agent_id) as agent_id,
        count(distinct agent_id) as agents
    from roster
    where nullif({{ ccq.trim_text('agent_name') }}, '') is not null
    group by 1

),

resolved as (

    select
        members.member_key,
        members.is_id,
        case
            when members.is_id = 1 then members.member_key
            when roster_ids.agent_id is not null then roster_ids.agent_id
            when roster_names.agents = 1 then roster_names.agent_id
            else {{ ccq.agent_pseudonym('members.member_key') }}
        end as roster_agent_id,
        case
            when members.is_id = 1 then 'id'
            when roster_ids.agent_id is not null then 'roster_id'
            when roster_names.agents = 1 then 'roster_name'
            when roster_names.agents > 1 then 'pseudonym_ambiguous_name'
            else 'pseudonym'
        end as roster_resolution,
        members._loaded_at
    from members
    left join roster_ids on members.is_id = 0 and members.member_key = roster_ids.member_key
    left join roster_names on members.is_id = 0 and members.member_key = roster_names.member_key

)

select
    resolved.member_key,
    resolved.is_id,
    {% if is_incremental() -%}
    coalesce(known.agent_id, resolved.roster_agent_id) as agent_id,
    coalesce(known.resolution, resolved.roster_resolution) as resolution,
    {%- else -%}
    resolved.roster_agent_id as agent_id,
    resolved.roster_resolution as resolution,
    {%- endif %}
    resolved.roster_agent_id,
    resolved._loaded_at
from resolved
{% if is_incremental() -%}
left join {{ this }} as known on resolved.member_key = known.member_key
{%- endif %}
