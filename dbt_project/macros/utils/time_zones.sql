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

{#- A local time that happened twice (the hour the clocks go back) is read at its later offset,
    standard time, as DuckDB's ICU reads it; Spark (java.time) reads the earlier one. So: take
    the offset six hours after Spark's reading (no zone changes its clocks twice in six hours),
    and keep the time it gives when it reads back as the same local time. A time that never
    happened moves forward by the gap on both engines. -#}
{% macro spark__local_to_utc(ts, tz) -%}
    {%- set earlier = 'to_utc_timestamp(' ~ ts ~ ', ' ~ tz ~ ')' -%}
    {%- set probe = 'timestamp_micros(unix_micros(' ~ earlier ~ ') + 21600000000L)' -%}
    {%- set later = 'timestamp_micros(unix_micros(' ~ ts ~ ') - (unix_micros(from_utc_timestamp(' ~ probe ~ ', ' ~ tz ~ ')) - unix_micros(' ~ probe ~ ')))' -%}
    case when from_utc_timestamp({{ later }}, {{ tz }}) = {{ ts }} then {{ later }} else {{ earlier }} end
{%- endmacro %}

{#- The calendar a row is drawn in: the first of the site time zones that place it (the
    contact's site, then the agent's, ...), else UTC, for a row no site places (an agent missing
    from the roster, a case with neither contact nor agent). The one place the fallback lives. -#}
{% macro calendar_time_zone() -%}
    coalesce({{ varargs | join(', ') }}, 'UTC')
{%- endmacro %}
