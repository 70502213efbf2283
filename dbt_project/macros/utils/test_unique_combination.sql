{#- Fails for every combination of the given columns that occurs more than once (the key of
    a table whose grain is several columns). Stand-in for dbt_utils.unique_combination_of_columns,
    which cannot be installed here; same argument name so switching back is a rename. -#}
{% test unique_combination(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
