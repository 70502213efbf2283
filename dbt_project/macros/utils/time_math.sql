{#- Seconds since the epoch, exact to the fraction where the engine keeps it. -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'ccq')(ts)) }}
{%- endmacro %}

{% macro default__epoch_seconds(ts) -%}
    unix_timestamp({{ ts }})
{%- endmacro %}

{% macro duckdb__epoch_seconds(ts) -%}
    epoch({{ ts }})
{%- endmacro %}

{% macro seconds_between(start_ts, end_ts) -%}
    ({{ ccq.epoch_seconds(end_ts) }} - {{ ccq.epoch_seconds(start_ts) }})
{%- endmacro %}

{#- Start of the fixed-length interval (minutes dividing an hour) that contains ts. Bucketing is
    done on UTC so a fall-back hour keeps its two distinct intervals. -#}
{% macro interval_start(ts, minutes) -%}
    {{ return(adapter.dispatch('interval_start', 'ccq')(ts, minutes)) }}
{%- endmacro %}

{% macro default__interval_start(ts, minutes) -%}
    {{ dbt.dateadd('minute',
        'cast(floor(' ~ dbt.date_part('minute', ts) ~ ' / ' ~ minutes ~ ') * ' ~ minutes ~ ' as integer)',
        dbt.date_trunc('hour', ts)) }}
{%- endmacro %}

{% macro duckdb__interval_start(ts, minutes) -%}
    time_bucket(interval '{{ minutes }} minutes', {{ ts }})
{%- endmacro %}
