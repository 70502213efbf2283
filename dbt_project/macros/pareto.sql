{#- Pareto table of the rows of `items_sql` (a select with columns month, category; one row per
    counted item): per month and for all time (month null), categories ranked by count, their
    share and cumulative share, and the vital few: every category up to and including the one
    whose cumulative share first reaches `vital_share`. Ties rank by category name so the table
    is the same on every run. The vital-few test is in whole numbers (percent x count), so a category reaching
    exactly 80% is in and the next one is out, with no floating-point doubt. -#}
{% macro pareto(items_sql, vital_share=0.8) -%}
    with pareto_items as (

        {{ items_sql }}

    ),

    pareto_counts as (

        select month, category, count(*) as items
        from pareto_items
        group by month, category

        union all

        select cast(null as date) as month, category, count(*) as items
        from pareto_items
        group by category

    ),

    pareto_ranked as (

        select
            month,
            category,
            items,
            sum(items) over (partition by month) as total_items,
            row_number() over (partition by month order by items desc, category) as rank
        from pareto_counts

    ),

    pareto_cumulated as (

        select
            pareto_ranked.*,
            sum(items) over (
                partition by month order by rank
                rows between unbounded preceding and current row
            ) as cumulative_items
        from pareto_ranked

    )

    select
        month,
        category,
        items,
        cast(items as {{ dbt.type_float() }}) / total_items as share,
        cast(cumulative_items as {{ dbt.type_float() }}) / total_items as cumulative_share,
        rank,
        case when 100 * (cumulative_items - items) < {{ (vital_share * 100) | round | int }} * total_items then true else false end as is_vital_few,
        total_items
    from pareto_cumulated
{%- endmacro %}
