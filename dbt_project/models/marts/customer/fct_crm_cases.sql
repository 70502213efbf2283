-- One row per CRM case, booked by the local day it was opened. Cases carry no site: they are
-- placed by the contact they were opened on (the case's first logged interaction).
with cases as (

    select * from {{ ref('stg_crm__cases') }}

),

first_interactions as (

    select
        case_id,
        contact_id,
        agent_id,
        row_number() over (
            partition by case_id
            order by created_at, interaction_id
        ) as interaction_order
    from {{ ref('stg_crm__interactions') }}

),

agents as (

    select agent_id, team_id, supervisor_id, site_id from {{ ref('stg_hr__agents') }}

),

placed as (

    select
        cases.case_id,
        cases.category,
        cases.status,
        cases.opened_at,
        cases.resolved_at,
        contacts.queue_id,
        contacts.call_type,
        contacts.direction,
        coalesce(contacts.site_id, agents.site_id) as site_id,
        first_interactions.agent_id,
        agents.team_id,
        agents.supervisor_id,
        -- No contact and no agent to place the case by: its day is the UTC day.
        {{ ccq.calendar_time_zone('contacts.time_zone', 'agent_sites.time_zone') }} as time_zone
    from cases
    left join first_interactions
        on cases.case_id = first_interactions.case_id
        and first_interactions.interaction_order = 1
    left join {{ ref('int_customer__contacts') }} as contacts
        on first_interactions.contact_id = contacts.contact_id
    left join agents
        on first_interactions.agent_id = agents.agent_id
    left join {{ ref('int_reference__sites') }} as agent_sites
        on agents.site_id = agent_sites.site_id

)

select
    case_id,
    category,
    status,
    opened_at,
    cast({{ ccq.utc_to_local('opened_at', 'time_zone') }} as date) as opened_date_local,
    resolved_at,
    queue_id,
    call_type,
    direction,
    site_id,
    agent_id,
    team_id,
    supervisor_id,
    1 as is_opened,
    case when status = 'RESOLVED' then 1 else 0 end as is_resolved,
    case when status = 'OPEN' then 1 else 0 end as is_open,
    -- Closed without a resolution has no time to resolution: it was never resolved.
    case when status = 'RESOLVED' then {{ ccq.seconds_between('opened_at', 'resolved_at') }} end as resolution_seconds
from placed
