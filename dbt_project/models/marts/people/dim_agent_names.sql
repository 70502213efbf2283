-- The one place where agents' names are kept in clear (docs/agent_names.md): agent id ->
-- display name. Schema `restricted`, which publish does not copy (ccq/publish.py copies marts
-- and reference only), so the snapshot and the app never hold it; an access-control layer can
-- grant it to the roles that may see names. Every other model carries agent ids only.
--
-- Roster agents: the name of their latest roster snapshot. Members that no roster names
-- (pseudonymous ids, stg_acd__agent_ids): the name as the ACD logged it, read from the raw rows of
-- the member's latest load only (the lookup's _loaded_at), not from a scan of every event.
{{ config(schema='restricted') }}

with

roster as (

    {{ ccq.deduplicate(source('hr', 'hr_roster'), key=['agent_id'], latest_by='snapshot_date') }}

),

pseudonymous as (

    select member_key, agent_id, _loaded_at
    from {{ ref('stg_acd__agent_ids') }}
    where resolution in ('pseudonym', 'pseudonym_ambiguous_name')

),

logged as (

    {%- for table in ['acd_queue_events', 'agent_state_events'] %}
    select distinct {{ ccq.trim_text('agent_id') }} as member
    from {{ source('acd', table) }}
    where _loaded_at in (select _loaded_at from pseudonymous)
    {{ 'union' if not loop.last }}
    {%- endfor %}

),

members as (

    select
        pseudonymous.agent_id,
        min(logged.member) as display_name
    from logged
    inner join pseudonymous
        on {{ ccq.agent_member_join_key('logged.member') }} = pseudonymous.member_key
    group by pseudonymous.agent_id

)

select
    agent_id,
    nullif({{ ccq.trim_text('agent_name') }}, '') as display_name,
    'hr_roster' as name_source
from roster
union all
select
    agent_id,
    display_name,
    'acd' as name_source
from members
