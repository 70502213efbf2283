-- Handled contacts by the reason they ended with, per local month of the contact.
{{ ccq.pareto("
    select
        cast(" ~ dbt.date_trunc('month', 'contact_date_local') ~ " as date) as month,
        contact_reason as category
    from " ~ ref('int_customer__contacts') ~ "
    where is_handled = 1
      and contact_reason is not null
") }}
