-- One row per PBX call leg, booked by seize time, with the parts of the switch's access KPIs.
-- Incremental: only the legs whose staged version changed since the last build, and the
-- agent legs when a roster arrived (macros/incremental.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    incremental_predicates=["leg_id in ({{ ccq.pbx_legs_to_rebuild() }})"],
    on_schema_change='fail',
) }}

with legs as (

    select * from {{ ref('stg_pbx__call_legs') }}
    {% if is_incremental() %}
    where leg_id in ({{ ccq.pbx_legs_to_rebuild() }})
    {% endif %}

),

-- Roster in force on the local day of the leg, as in fct_queue_legs (only outbound legs
-- carry an agent).
roster as (

    select agent_id, team_id, supervisor_id, valid_from, valid_until
    from {{ ref('int_people__roster_periods') }}

),

localised as (

    select
        legs.*,
        sites.time_zone,
        {{ ccq.utc_to_local('legs.started_at', 'sites.time_zone') }} as started_at_local
    from legs
    left join {{ ref('int_reference__sites') }} as sites on legs.site_id = sites.site_id

)

select
    localised.leg_id,
    localised.call_id,
    localised.direction,
    localised.started_at,
    localised.started_at_local,
    cast(localised.started_at_local as date) as local_date,
    localised.time_zone,
    localised.site_id,
    localised.trunk_id,
    localised.agent_id,
    roster.team_id,
    roster.supervisor_id,
    localised.caller_number_hash,
    localised.dialled_number_hash,
    localised.answered_at,
    localised.ended_at,
    localised.disposition,
    localised.duration_seconds,
    -- Blocking is an access measure: callers the switch could not let in (busy trunk,
    -- congestion, failure). On an outbound leg BUSY is the called party's line, so outbound
    -- results count in the outbound connection rate instead. Internal legs (transfers
    -- between agents) are in neither KPI; the ACD counts them as queue legs.
    case when localised.direction = 'inbound' then 1 else 0 end as is_inbound_attempt,
    case when localised.direction = 'inbound' and localised.disposition in ('BUSY', 'CONGESTION', 'FAILED')
         then 1 else 0 end as is_inbound_blocked,
    case when localised.direction = 'outbound' then 1 else 0 end as is_outbound_dialled,
    case when localised.direction = 'outbound' and localised.disposition = 'ANSWERED'
         then 1 else 0 end as is_outbound_connected,
    localised._loaded_at
from localised
left join roster
    on localised.agent_id = roster.agent_id
    and cast(localised.started_at_local as date) >= roster.valid_from
    and cast(localised.started_at_local as date) < roster.valid_until
-- A leg of a site missing from seed sites has no local calendar; it is left out (the
-- relationships test on stg_pbx__call_legs.site_id reports the site).
where localised.time_zone is not null
