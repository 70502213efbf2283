-- One row per local day and queue with complaints received and contacts handled, so that the
-- complaint rate's two parts come from the same rows and add up at every grain and scope.
with complaints as (

    select
        received_date_local as local_date,
        queue_id,
        call_type,
        direction,
        site_id,
        count(*) as complaints,
        0 as handled_contacts
    from {{ ref('int_customer__complaints') }}
    group by received_date_local, queue_id, call_type, direction, site_id

),

handled as (

    select
        contact_date_local as local_date,
        queue_id,
        call_type,
        direction,
        site_id,
        0 as complaints,
        count(*) as handled_contacts
    from {{ ref('int_customer__contacts') }}
    where is_handled = 1
    group by contact_date_local, queue_id, call_type, direction, site_id

),

combined as (

    select * from complaints
    union all
    select * from handled

)

select
    local_date,
    queue_id,
    max(call_type) as call_type,
    max(direction) as direction,
    max(site_id) as site_id,
    sum(complaints) as complaints,
    sum(handled_contacts) as handled_contacts
from combined
group by local_date, queue_id
