-- One row per post-contact survey invitation, booked by the local day it was sent. Every
-- survey KPI divides by the answers to its own question; only the response rate divides by
-- the invitations, so a non-response lowers the response rate and nothing else.
with surveys as (

    select * from {{ ref('stg_survey__responses') }}

),

agents as (

    select agent_id, team_id, supervisor_id, site_id from {{ ref('stg_hr__agents') }}

),

placed as (

    select
        surveys.*,
        contacts.queue_id,
        contacts.call_type,
        contacts.direction,
        -- The survey's own agent first: it names who the customer is rating.
        coalesce(surveys.agent_id, contacts.agent_id) as rated_agent_id,
        {{ ccq.calendar_time_zone('contacts.time_zone', 'agent_sites.time_zone') }} as time_zone,
        contacts.site_id as contact_site_id
    from surveys
    left join {{ ref('int_customer__contacts') }} as contacts
        on surveys.contact_id = contacts.contact_id
    left join agents as survey_agents
        on surveys.agent_id = survey_agents.agent_id
    left join {{ ref('int_reference__sites') }} as agent_sites
        on survey_agents.site_id = agent_sites.site_id

)

select
    placed.survey_id,
    placed.contact_id,
    placed.sent_at,
    cast({{ ccq.utc_to_local('placed.sent_at', 'placed.time_zone') }} as date) as sent_date_local,
    placed.responded_at,
    placed.queue_id,
    placed.call_type,
    placed.direction,
    coalesce(placed.contact_site_id, agents.site_id) as site_id,
    placed.rated_agent_id as agent_id,
    agents.team_id,
    agents.supervisor_id,
    placed.csat_score,
    placed.nps_score,
    placed.resolved_first_time,
    1 as is_sent,
    case when placed.is_responded then 1 else 0 end as is_responded,
    case when placed.csat_score is not null then 1 else 0 end as is_csat_answered,
    case when placed.csat_score >= 4 then 1 else 0 end as is_csat_top_two,
    case when placed.nps_score is not null then 1 else 0 end as is_nps_answered,
    case when placed.nps_score >= 9 then 1 else 0 end as is_promoter,
    case when placed.nps_score <= 6 then 1 else 0 end as is_detractor,
    case when placed.resolved_first_time is not null then 1 else 0 end as is_fcr_answered,
    case when placed.resolved_first_time then 1 else 0 end as is_fcr_yes
from placed
left join agents
    on placed.rated_agent_id = agents.agent_id
