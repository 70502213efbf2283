-- Complaints by category, per local month received.
{{ ccq.pareto("
    select
        cast(" ~ dbt.date_trunc('month', 'received_date_local') ~ " as date) as month,
        category
    from " ~ ref('int_customer__complaints') ~ "
") }}
