{#- Agent ids from what an ACD logs as the agent (docs/agent_names.md).

    An Asterisk queue_log can name its agents by their member name ("Anna Schmidt"). Names are
    personal data: staging turns every logged value into an agent id, through the lookup
    stg_acd__agent_ids, and the clear name stays in raw and in restricted.dim_agent_names only.

    Rule, on the trimmed value:
      1. printable ASCII without whitespace and with a digit or a '/' (A0001, SIP/1001,
         Local/1001@agents, Agent/1001): an id, kept as it is;
      2. otherwise the value may be a name, and its key is the keyed hash (hash_pii, HMAC-SHA-256) of the
         value lower-cased with its whitespace collapsed. Then, in the lookup:
         a. equal (same key) to a roster agent_id: that id;
         b. equal (same key) to the name of exactly one agent in any roster snapshot: that agent's id;
         c. else the pseudonym 'agent-' + the first 12 hex digits of the key.
    A member's id is fixed when the lookup first sees it (incremental builds never change it,
    so every layer holds one id per member); a full refresh resolves every member again with
    the roster of the day. -#}

{#- Lower case, every run of whitespace (Unicode separators too) one space, trimmed. -#}
{% macro agent_member_normalised(column) -%}
    {{ return(adapter.dispatch('agent_member_normalised', 'ccq')(column)) }}
{%- endmacro %}

{% macro default__agent_member_normalised(column) -%}
    trim(lower(regexp_replace({{ column }}, '[\s\pZ]+', ' ', 'g')))
{%- endmacro %}

{#- True when the (trimmed) value is an id by rule 1. -#}
{% macro agent_value_is_id(column) -%}
    {{ return(adapter.dispatch('agent_value_is_id', 'ccq')(column)) }}
{%- endmacro %}

{% macro default__agent_value_is_id(column) -%}
    regexp_full_match({{ column }}, '[!-~]*[0-9/][!-~]*')
{%- endmacro %}

{#- The key of a value that may be a name (rule 2). -#}
{% macro agent_member_key(column) -%}
    {{ ccq.hash_pii(ccq.agent_member_normalised(column)) }}
{%- endmacro %}

{#- The pseudonymous id of a key (rule 2c). -#}
{% macro agent_pseudonym(key) -%}
    {{ dbt.concat(["'agent-'", "left(" ~ key ~ ", 12)"]) }}
{%- endmacro %}

{#- Staging: the agent id of `column` (a raw agent value), given the lookup joined as `ids`
    on ccq.agent_member_join_key(column). -#}
{% macro agent_id_from_member(column, ids='agent_ids') -%}
    case
        when nullif({{ ccq.trim_text(column) }}, '') is null then null
        when {{ ccq.agent_value_is_id(ccq.trim_text(column)) }} then {{ ccq.trim_text(column) }}
        else coalesce({{ ids }}.agent_id, {{ ccq.agent_pseudonym(ccq.agent_member_key(column)) }})
    end
{%- endmacro %}

{#- The join key to the lookup: the member key of a value that may be a name, else null (ids
    are not hashed: nothing to look up). -#}
{% macro agent_member_join_key(column) -%}
    case
        when nullif({{ ccq.trim_text(column) }}, '') is not null and not {{ ccq.agent_value_is_id(ccq.trim_text(column)) }}
            then {{ ccq.agent_member_key(column) }}
    end
{%- endmacro %}

{#- Every agent value logged in the raw ACD tables (queue events and agent states), trimmed, with
    the load time of its newest row; in an incremental build only the files loaded since
    `relation` (a model with _loaded_at) was last built. -#}
{#- The raw tables are named directly, not as dbt sources: the lookup only names agents, and as
    sources both event tables would enter the certification lineage of every KPI that reads
    either (a late agent-state extract would uncertify the queue KPIs). -#}
{% macro agent_members_logged(relation=none) -%}
    {%- set load_files = source('audit', 'load_files') -%}
    select member, max(_loaded_at) as _loaded_at
    from (
        {%- for table in ['acd_queue_events', 'agent_state_events'] %}
        select {{ ccq.trim_text('agent_id') }} as member, _loaded_at
        from {{ api.Relation.create(database=this.database, schema='raw', identifier=table) }}
        where nullif({{ ccq.trim_text('agent_id') }}, '') is not null
        {%- if relation is not none %}
          and _file_id in (
              select file_id from {{ load_files }}
              where table_name = '{{ table }}'
                and loaded_at > ({{ ccq.loaded_through(relation) }})
          )
        {%- endif %}
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    ) as logged
    group by member
{%- endmacro %}

{#- Spark: Java regular expressions, written out to match RE2's \s (which has no vertical tab),
    and anchored at the very end (\z: Java's $ also matches before a final line break). -#}
{% macro spark__agent_member_normalised(column) -%}
    {%- set spaced %}regexp_replace({{ column }}, '[\\t\\n\\f\\r \\p{Z}]+', ' '){% endset %}
    trim({{ ccq.lower_text(spaced) }})
{%- endmacro %}

{% macro spark__agent_value_is_id(column) -%}
    ({{ column }} rlike '^[!-~]*[0-9/][!-~]*\\z')
{%- endmacro %}
