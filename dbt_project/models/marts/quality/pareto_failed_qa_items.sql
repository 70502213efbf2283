-- Failed QA form items (scored below the pass threshold's share of their points), per local
-- month of the evaluation. Not-applicable items never fail.
{{ ccq.pareto("
    select
        cast(" ~ dbt.date_trunc('month', 'evaluated_date_local') ~ " as date) as month,
        item_name as category
    from " ~ ref('int_customer__qa_evaluation_items') ~ "
    where is_failed = 1
") }}
