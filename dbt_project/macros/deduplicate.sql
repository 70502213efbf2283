{#- Latest version of each source key: the raw tables keep every delivery of a record.
    Order: the contract's latest_by, then load time, then source file (extract files are
    named by date, and one load run can stamp several files with the same _loaded_at), then
    line. Returns a select of every column of `relation`, plus _dedup_row_number (always 1).
    Plain row_number() subquery rather than QUALIFY so it runs on engines without QUALIFY. -#}
{% macro deduplicate(relation, key, latest_by='_loaded_at') -%}
    {{ return(adapter.dispatch('deduplicate', 'ccq')(relation, key, latest_by)) }}
{%- endmacro %}

{% macro default__deduplicate(relation, key, latest_by) -%}
    {%- set key = [key] if key is string else key -%}
    {%- set order_by = [latest_by] if latest_by != '_loaded_at' else [] -%}
    {%- set order_by = order_by + ['_loaded_at', '_source_file', '_line_no'] -%}
    select *
    from (
        select
            versions.*,
            row_number() over (
                partition by {{ key | join(', ') }}
                order by
                    {%- for column in order_by %}
                    {{ column }} desc nulls last{{ ',' if not loop.last }}
                    {%- endfor %}
            ) as _dedup_row_number
        from {{ relation }} as versions
    ) as ranked_versions
    where _dedup_row_number = 1
{%- endmacro %}
