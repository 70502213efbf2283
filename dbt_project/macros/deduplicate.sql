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

{#- staging versions -#}

{#- The staging models of the high-volume sources are incremental tables of deduplicated
    versions, so that their window over every delivery runs once per load, not once per reader
    (each downstream model and data test read the whole window again when they were views).

    A model keeps _loaded_at. Its keys to rebuild are the keys of the raw rows in the files
    loaded after the model's newest _loaded_at, plus the keys of its own rows from those files:
    a corrected re-delivery keeps its file id, and the loader deletes that file's old raw rows
    first, so a record it no longer has must leave the model (or fall back to an older version).
    The batch is the latest version, from every delivery, of exactly those keys; replace_where
    deletes the keys and inserts the batch, so any sequence of builds gives the full refresh.
    Keys are matched with IN, which never matches a null: the contracts require every key
    column, so the loader quarantines a record without one.

    A model says the same thing twice, in its config and in its source CTE:
        {{ config(ccq.staged_versions_config('acd', 'acd_queue_events', key=['event_id'])) }}
        with source as ({{ ccq.staged_versions('acd', 'acd_queue_events', key=['event_id']) }}), ...
    -#}

{% macro staged_versions_config(source_name, table_name, key, latest_by='_loaded_at') -%}
    {%- set key = [key] if key is string else key -%}
    {#- Same arguments as staged_versions (latest_by unused here), so a model can pass them twice.
        The predicate is Jinja text, rendered by the replace_where strategy at run time. -#}
    {%- set keys_to_rebuild = "ccq.staged_keys_to_rebuild(source('" ~ source_name ~ "', '" ~ table_name ~ "'), ['"
        ~ key | join("', '") ~ "'])" -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'replace_where',
        'incremental_predicates': ['(' ~ key | join(', ') ~ ') in ({{ ' ~ keys_to_rebuild ~ ' }})'],
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- The source CTE: every key's latest version in a full refresh, the keys to rebuild otherwise. -#}
{% macro staged_versions(source_name, table_name, key, latest_by='_loaded_at') -%}
    {%- set key = [key] if key is string else key -%}
    {%- set versions = source(source_name, table_name) -%}
    {%- if is_incremental() -%}
        {%- set versions -%}
            (select * from {{ versions }}
             where ({{ key | join(', ') }}) in ({{ ccq.staged_keys_to_rebuild(versions, key) }}))
        {%- endset -%}
    {%- endif -%}
    {{ ccq.deduplicate(versions, key, latest_by) }}
{%- endmacro %}

{#- Keys of `this` to rebuild from `relation` (its raw table), as described above. -#}
{% macro staged_keys_to_rebuild(relation, key) -%}
    {%- set load_files = source('audit', 'load_files') -%}
    {%- set new_files -%}
        select file_id from {{ load_files }}
        where table_name = '{{ relation.identifier }}'
          and loaded_at > ({{ ccq.loaded_through(this) }})
    {%- endset -%}
    select {{ key | join(', ') }} from {{ relation }} where _file_id in ({{ new_files }})
    union
    select {{ key | join(', ') }} from {{ this }} where _file_id in ({{ new_files }})
{%- endmacro %}
