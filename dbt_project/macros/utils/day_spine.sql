{#- Every date from start_date to end_date inclusive (up to 10^digits days: 4 digits ~27 years),
    without engine-specific generate_series, so it runs anywhere dbt's cross-database macros do. -#}
{% macro day_spine(start_date, end_date, digits=4) -%}
    with digits as (
        {% for d in range(10) %}select {{ d }} as d{{ ' union all ' if not loop.last }}{% endfor %}
    ),
    numbers as (
        select {% for i in range(digits) %}p{{ i }}.d * {{ 10 ** i }}{{ ' + ' if not loop.last }}{% endfor %} as n
        from {% for i in range(digits) %}digits as p{{ i }}{{ ' cross join ' if not loop.last }}{% endfor %}
    )
    select cast({{ dbt.dateadd('day', 'n', start_date) }} as date) as day
    from numbers
    where {{ dbt.dateadd('day', 'n', start_date) }} <= {{ end_date }}
{%- endmacro %}

{#- The run's notion of now (UTC): var ccq_now pins it (unit tests, a backfill), else the process's
    CCQ_NOW (tests, benchmarks), else the clock. CCQ_NOW is read here, not in dbt_project.yml: an
    environment variable of the project file invalidates dbt's whole saved parse state when it
    changes, one read by a model only that model's. -#}
{% macro ccq_now() -%}
    {%- set pinned = var('ccq_now') or env_var('CCQ_NOW', '') -%}
    {%- if pinned -%}
        cast('{{ pinned }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}
