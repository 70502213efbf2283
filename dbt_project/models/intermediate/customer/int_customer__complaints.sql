-- One row per CRM complaint, placed on the queue of the contact it is about, so that
-- complaints and handled contacts can be compared per queue and per site's local day.
with complaints as (

    select * from {{ ref('stg_crm__complaints') }}

),

-- Without a contact on the complaint, the contact its case was opened on stands in.
case_contacts as (

    select
        case_id,
        contact_id,
        row_number() over (
            partition by case_id
            order by created_at, interaction_id
        ) as interaction_order
    from {{ ref('stg_crm__interactions') }}

),

placed as (

    select
        complaints.complaint_id,
        complaints.case_id,
        coalesce(complaints.contact_id, case_contacts.contact_id) as contact_id,
        complaints.received_at,
        complaints.category,
        complaints.severity,
        contacts.queue_id,
        contacts.call_type,
        contacts.direction,
        contacts.site_id,
        -- Tied to no contact: booked on its UTC day, under no queue.
        {{ ccq.calendar_time_zone('contacts.time_zone') }} as time_zone
    from complaints
    left join case_contacts
        on complaints.case_id = case_contacts.case_id
        and case_contacts.interaction_order = 1
    left join {{ ref('int_customer__contacts') }} as contacts
        on coalesce(complaints.contact_id, case_contacts.contact_id) = contacts.contact_id

)

select
    complaint_id,
    case_id,
    contact_id,
    received_at,
    cast({{ ccq.utc_to_local('received_at', 'time_zone') }} as date) as received_date_local,
    category,
    severity,
    queue_id,
    call_type,
    direction,
    site_id
from placed
