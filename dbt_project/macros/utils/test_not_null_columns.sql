{#- Fails for every row with a null in any of the given columns, and names those columns (the
    row's other columns come along, so a failure can be traced to its day). One test per model
    instead of one per column: a build ran ~480 separate not_null queries, each a dbt node with
    its own compile, connection and Dagster event, for checks that one scan answers
    (DECISIONLOG.md). -#}
{% test not_null_columns(model, column_names) %}

select
    *,
    concat_ws(', ',
        {%- for c in column_names %}
        case when {{ c }} is null then '{{ c }}' end{{ ',' if not loop.last }}
        {%- endfor %}
    ) as null_columns
from {{ model }}
where {% for c in column_names %}{{ c }} is null{{ ' or ' if not loop.last }}{% endfor %}

{% endtest %}
