{#- The scorecard's publish checks (kpi_values): structural rules whose failure means the models
    are wrong for the whole snapshot, so they run with severity error and stop the publish (the
    app keeps the last good snapshot). The data faults they could see (an implausible value,
    answered above offered) are withheld value by value by kpi_certification: a certified one
    here is a defect of the certification. -#}

{#- Fails for every value that is not its parts: numerator / denominator for a ratio KPI (null
    when the denominator is 0), the numerator itself for a simple one (kpi_catalogue.metric_type),
    within a relative 1e-6. -#}
{% test value_matches_parts(model, catalogue) %}

with expected as (

    select
        v.kpi, v.grain, v.period_start, v.period_start_utc, v.scope_type, v.scope_id,
        c.metric_type, v.numerator, v.denominator, v.value,
        case when c.metric_type = 'simple' then v.numerator
             else v.numerator / nullif(v.denominator, 0) end as expected_value
    from {{ model }} as v
    join {{ catalogue }} as c on c.kpi = v.kpi

)

select * from expected
where value is distinct from expected_value
  and (value is null or expected_value is null
       or abs(value - expected_value) > 1e-6 * greatest(1, abs(expected_value)))

{% endtest %}

{#- Fails for every row of `parts` whose key (`columns`, compared null-safe) has no row in the
    model: nothing lost on the way to the scorecard. -#}
{% test publishes_every_row_of(model, parts, columns) %}

-- A set difference, which matches nulls as equal like `is not distinct from` does, but as one
-- hash on all the columns: a correlated not-exists on six null-safe comparisons took 4x longer
-- at M. The parts' key is unique (its own test), so each missing row is one failure either way.
select {{ columns | join(', ') }} from {{ parts }}
except
select {{ columns | join(', ') }} from {{ model }}

{% endtest %}

{#- Fails for every certified value outside its KPI's plausible range (kpi_catalogue
    plausible_min / plausible_max, null = no bound). -#}
{% test certified_values_plausible(model, catalogue) %}

select v.kpi, v.grain, v.period_start, v.period_start_utc, v.scope_type, v.scope_id, v.value,
       c.plausible_min, c.plausible_max
from {{ model }} as v
join {{ catalogue }} as c on c.kpi = v.kpi
where v.certified and (v.value < c.plausible_min or v.value > c.plausible_max)

{% endtest %}

{#- Fails for every period and scope where the certified value of `kpi` is above the value of
    `bound` (answered above offered). -#}
{% test certified_not_above(model, kpi, bound) %}

select b.grain, b.period_start, b.period_start_utc, b.scope_type, b.scope_id,
       b.value as bound_value, k.value as kpi_value
from {{ model }} as b
join {{ model }} as k
  on k.grain = b.grain and k.period_start = b.period_start and k.scope_type = b.scope_type
 and k.scope_id = b.scope_id and k.period_start_utc is not distinct from b.period_start_utc
where b.kpi = '{{ bound }}' and k.kpi = '{{ kpi }}' and k.certified and k.value > b.value

{% endtest %}
