-- One row per contact (call), whatever its legs: the unit FCR counts and re-contacts are
-- searched in. A transfer or overflow is part of the same contact, never a re-contact.
-- Incremental: only the contacts whose legs or CRM interactions changed, or whose agent's team
-- or queue's type did, are rebuilt (macros/incremental.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    incremental_predicates=["contact_id in ({{ ccq.customer_contacts_to_rebuild() }})"],
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
-- Found once for the legs and the interactions (the delete of the strategy finds it again).
to_rebuild as (

    {{ ccq.customer_contacts_to_rebuild() }}

),
{% endif %}

legs as (

    select * from {{ ref('int_contacts__queue_legs') }}
    where entered_at is not null
    {% if is_incremental() %}
      and contact_id in (select contact_id from to_rebuild)
    {% endif %}

),

-- The leg the contact is attributed to: the last handled leg (the agent who finished it), or
-- the last leg when no agent handled it.
booking_legs as (

    select
        contact_id,
        queue_id,
        site_id,
        time_zone,
        agent_id,
        row_number() over (
            partition by contact_id
            order by is_handled desc, queue_leg desc
        ) as booking_rank
    from legs

),

contact_legs as (

    select
        contact_id,
        min(entered_at) as entered_at,
        max(is_handled) as is_handled,
        sum(is_handled) as handled_legs,
        max(customer_id_hash) as leg_customer_id_hash,
        max(_loaded_at) as _loaded_at
    from legs
    group by contact_id

),

-- The reason logged last is the one the contact ended with (a transfer can change it).
interactions as (

    select
        contact_id,
        customer_id_hash,
        contact_reason,
        row_number() over (
            partition by contact_id
            order by created_at desc, interaction_id desc
        ) as recency,
        max(_loaded_at) over (partition by contact_id) as _loaded_at
    from {{ ref('stg_crm__interactions') }}
    {% if is_incremental() %}
    where contact_id in (select contact_id from to_rebuild)
    {% endif %}

),

agents as (

    select agent_id, team_id, supervisor_id from {{ ref('stg_hr__agents') }}

),

joined as (

    select
        contact_legs.contact_id,
        -- The CRM knows the customer of every logged contact; the IVR only of identified callers.
        coalesce(interactions.customer_id_hash, contact_legs.leg_customer_id_hash) as customer_id_hash,
        contact_legs.entered_at,
        {{ ccq.utc_to_local('contact_legs.entered_at', 'booking_legs.time_zone') }} as entered_at_local,
        booking_legs.time_zone,
        booking_legs.queue_id,
        queues.call_type,
        queues.direction,
        booking_legs.site_id,
        booking_legs.agent_id,
        agents.team_id,
        agents.supervisor_id,
        contact_legs.is_handled,
        contact_legs.handled_legs,
        interactions.contact_reason,
        -- When the newest row behind the contact was loaded (legs or CRM).
        greatest(contact_legs._loaded_at, coalesce(interactions._loaded_at, contact_legs._loaded_at)) as _loaded_at
    from contact_legs
    inner join booking_legs
        on contact_legs.contact_id = booking_legs.contact_id
        and booking_legs.booking_rank = 1
    left join interactions
        on contact_legs.contact_id = interactions.contact_id
        and interactions.recency = 1
    left join {{ ref('int_reference__queues') }} as queues
        on booking_legs.queue_id = queues.queue_id
    left join agents
        on booking_legs.agent_id = agents.agent_id

)

select
    contact_id,
    customer_id_hash,
    case when customer_id_hash is null then 0 else 1 end as is_identified,
    entered_at,
    entered_at_local,
    cast(entered_at_local as date) as contact_date_local,
    time_zone,
    queue_id,
    call_type,
    direction,
    site_id,
    agent_id,
    team_id,
    supervisor_id,
    is_handled,
    handled_legs,
    contact_reason,
    _loaded_at
from joined
