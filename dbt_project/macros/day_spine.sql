{#- Every date from start_date to end_date inclusive (up to ~27 years), without engine-specific
    generate_series, so it runs anywhere dbt's cross-database macros do. -#}
{% macro day_spine(start_date, end_date) -%}
    with digits as (
        {% for d in range(10) %}select {{ d }} as d{{ ' union all ' if not loop.last }}{% endfor %}
    ),
    numbers as (
        select a.d + 10 * b.d + 100 * c.d + 1000 * e.d as n
        from digits a cross join digits b cross join digits c cross join digits e
    )
    select cast({{ dbt.dateadd('day', 'n', start_date) }} as date) as day
    from numbers
    where {{ dbt.dateadd('day', 'n', start_date) }} <= {{ end_date }}
{%- endmacro %}

{#- The run's notion of now (UTC): var ccq_now pins it (tests, backfills), else the clock. -#}
{% macro ccq_now() -%}
    {%- if var('ccq_now', none) -%}
        cast('{{ var("ccq_now") }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}
