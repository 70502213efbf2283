{#- Seconds since the epoch, exact to the fraction where the engine keeps it. -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'ccq')(ts)) }}
{%- endmacro %}

{% macro default__epoch_seconds(ts) -%}
    unix_timestamp({{ ts }})
{%- endmacro %}

{#- unix_timestamp() drops the fraction of a second; 1e6 is a double (1000000.0 would be a
    decimal, and so would every duration computed from it). -#}
{% macro spark__epoch_seconds(ts) -%}
    (unix_micros({{ ts }}) / 1e6)
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
        'cast(floor(extract(minute from ' ~ ts ~ ') / ' ~ minutes ~ ') * ' ~ minutes ~ ' as integer)',
        dbt.date_trunc('hour', ts)) }}
{%- endmacro %}

{#- pmod, not div: div truncates toward zero, which would round a time before 1970 up. -#}
{% macro spark__interval_start(ts, minutes) -%}
    timestamp_micros(unix_micros({{ ts }}) - pmod(unix_micros({{ ts }}), {{ minutes * 60000000 }}L))
{%- endmacro %}

{% macro duckdb__interval_start(ts, minutes) -%}
    time_bucket(interval '{{ minutes }} minutes', {{ ts }})
{%- endmacro %}

{#- dbt.dateadd on Spark, exact to the microsecond like DuckDB's (dbt-spark's drops the fraction
    of a second and multiplies only the last term of an interval expression such as
    '-24 - expected_by_hour_utc'). The microseconds are a bigint literal (L): with ANSI mode off,
    Spark's int arithmetic wraps around silently (3599 * 1000000 gave minus 11 minutes). The warehouse runs in UTC, so a day is 86,400 s; months keep
    the time of day and clamp to the month's end, as DuckDB does. dbt_project.yml's dispatch
    config makes dbt.dateadd find it before dbt-spark's. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set ts = 'cast(' ~ from_date_or_timestamp ~ ' as timestamp)' -%}
    {%- set micros = {'week': 604800000000, 'day': 86400000000, 'hour': 3600000000, 'minute': 60000000,
                      'second': 1000000, 'millisecond': 1000, 'microsecond': 1} -%}
    {%- set months = {'month': 1, 'quarter': 3, 'year': 12} -%}
    {%- if datepart in micros -%}
        timestamp_micros(unix_micros({{ ts }}) + cast(({{ interval }}) * {{ micros[datepart] }}L as bigint))
    {%- elif datepart in months -%}
        timestamp_micros(unix_micros(cast(add_months(cast({{ ts }} as date), cast(({{ interval }}) * {{ months[datepart] }} as int)) as timestamp))
                         + (unix_micros({{ ts }}) - unix_micros(cast(cast({{ ts }} as date) as timestamp))))
    {%- else -%}
        {{ exceptions.raise_compiler_error("dateadd: no Spark form for datepart '" ~ datepart ~ "'") }}
    {%- endif -%}
{%- endmacro %}
