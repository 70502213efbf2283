-- One row per handled contact with its first-contact-resolution outcome. The window is in
-- local calendar days so "within N days" means the same thing at every grain: a re-contact
-- on local day D + N still counts, one on D + N + 1 does not.
with contacts as (

    select * from {{ ref('int_customer__contacts') }}

),

-- The window can only be judged up to the last queue entry delivered and the run's now,
-- whichever is earlier: a re-contact not yet loaded must not read as a resolution.
as_of as (

    select
        case when max(entered_at) < {{ ccq.ccq_now() }} then max(entered_at)
             else {{ ccq.ccq_now() }} end as as_of_at
    from {{ ref('int_contacts__queue_legs') }}
    where entered_at is not null

),

handled as (

    select
        contacts.*,
        params.fcr_window_days
    from contacts
    left join {{ ref('int_reference__queue_parameters') }} as params
        on contacts.queue_id = params.queue_id
        and contacts.contact_date_local >= params.effective_from
        and contacts.contact_date_local <= params.effective_to
    where contacts.is_handled = 1

),

windowed as (

    select
        handled.*,
        {{ ccq.local_to_utc(
            'cast(' ~ dbt.dateadd('day', 'fcr_window_days + 1', 'contact_date_local') ~ ' as ' ~ dbt.type_timestamp() ~ ')',
            'time_zone') }} as window_closes_at
    from handled

),

-- A later contact of the same customer inside the window; reasons must match only when both
-- are known (a contact that was never handled has no logged reason and always counts).
recontacts as (

    select
        windowed.contact_id,
        later.contact_id as recontact_id,
        later.entered_at as recontact_at,
        row_number() over (
            partition by windowed.contact_id
            order by later.entered_at, later.contact_id
        ) as recontact_order
    from windowed
    inner join contacts as later
        on later.customer_id_hash = windowed.customer_id_hash
        and later.contact_id <> windowed.contact_id
        and later.entered_at > windowed.entered_at
        and later.entered_at < windowed.window_closes_at
        and (
            windowed.contact_reason is null
            or later.contact_reason is null
            or later.contact_reason = windowed.contact_reason
        )

)

select
    windowed.contact_id,
    windowed.entered_at,
    windowed.entered_at_local,
    windowed.contact_date_local,
    windowed.queue_id,
    windowed.call_type,
    windowed.direction,
    windowed.site_id,
    windowed.agent_id,
    windowed.team_id,
    windowed.supervisor_id,
    windowed.contact_reason,
    windowed.fcr_window_days,
    windowed.window_closes_at,
    recontacts.recontact_id,
    recontacts.recontact_at,
    1 as is_handled,
    windowed.is_identified,
    case when windowed.is_identified = 1 and recontacts.recontact_id is null then 1 else 0 end as is_resolved,
    case when windowed.is_identified = 1 and recontacts.recontact_id is not null then 1 else 0 end as is_recontacted,
    case when windowed.is_identified = 1 and windowed.window_closes_at > as_of.as_of_at then 1 else 0 end as is_provisional,
    as_of.as_of_at
from windowed
cross join as_of
left join recontacts
    on windowed.contact_id = recontacts.contact_id
    and recontacts.recontact_order = 1
