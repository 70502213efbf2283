{#- Fails for every row where the boolean SQL expression is false (rows where it is null pass,
    as in dbt_utils). Stand-in for dbt_utils.expression_is_true, which cannot be installed here;
    same argument name so switching back is a rename. -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
