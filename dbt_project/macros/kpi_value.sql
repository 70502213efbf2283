{#- A KPI's value from its parts: numerator / denominator for ratios (null when nothing was
    counted), the numerator itself for simple KPIs. The one formula the scorecard and its
    certification share. -#}
{% macro kpi_value(metric_type, numerator, denominator) -%}
    case when {{ metric_type }} = 'ratio' then {{ numerator }} / nullif({{ denominator }}, 0) else {{ numerator }} end
{%- endmacro %}
