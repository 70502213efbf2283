{#- Timestamps are stored in UTC; local calendars apply only for grains. These wrap the
    engine-specific time-zone functions so models stay portable (DuckDB needs its ICU
    functions, Spark has from/to_utc_timestamp). -#}

{% macro utc_to_local(ts, tz) -%}
    {{ return(adapter.dispatch('utc_to_local', 'ccq')(ts, tz)) }}
{%- endmacro %}

{% macro default__utc_to_local(ts, tz) -%}
    from_utc_timestamp({{ ts }}, {{ tz }})
{%- endmacro %}

{% macro duckdb__utc_to_local(ts, tz) -%}
    timezone({{ tz }}, timezone('UTC', {{ ts }}))
{%- endmacro %}

{% macro local_to_utc(ts, tz) -%}
    {{ return(adapter.dispatch('local_to_utc', 'ccq')(ts, tz)) }}
{%- endmacro %}

{% macro default__local_to_utc(ts, tz) -%}
    to_utc_timestamp({{ ts }}, {{ tz }})
{%- endmacro %}

{% macro duckdb__local_to_utc(ts, tz) -%}
    timezone('UTC', timezone({{ tz }}, {{ ts }}))
{%- endmacro %}

{#- The calendar a row is drawn in: the first of the site time zones that place it (the
    contact's site, then the agent's, ...), else UTC, for a row no site places (an agent missing
    from the roster, a case with neither contact nor agent). The one place the fallback lives. -#}
{% macro calendar_time_zone() -%}
    coalesce({{ varargs | join(', ') }}, 'UTC')
{%- endmacro %}
