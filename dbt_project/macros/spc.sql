{#- Constants and helpers of the statistical-process-control marts (spc_points). -#}

{#- Bias-correction constants for moving ranges of two consecutive points (ASTM E2587,
    Wheeler): sigma = mean moving range / d2; the moving-range chart's upper limit is D4 x the
    mean moving range (its lower limit is 0). 3 / d2 = 2.66, the usual XmR limit factor. -#}
{% macro spc_d2() -%} 1.128 {%- endmacro %}
{% macro spc_d4() -%} 3.267 {%- endmacro %}

{#- Published chart numbers are rounded to 1e-9: engines sum doubles in different orders, and
    a value lying exactly on the centre line must not fall on one side or the other by the
    last bit (the run rules read the sign of z). No KPI is read to 9 decimals. -#}
{% macro spc_round(expr) -%}
    round({{ expr }}, 9)
{%- endmacro %}

{#- Clip a p-chart line into [0, 1]: a proportion cannot leave it, so a limit beyond it is no limit. -#}
{% macro spc_clip_proportion(expr) -%}
    case when {{ expr }} < 0 then 0 when {{ expr }} > 1 then 1 else {{ expr }} end
{%- endmacro %}
