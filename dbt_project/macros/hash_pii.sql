{#- One-way salted hash of personal data (caller numbers, customer ids, names). Staging is
    the only layer that sees the clear value; everything downstream joins on the hash. -#}
{% macro hash_pii(column) -%}
    {{ return(adapter.dispatch('hash_pii', 'ccq')(column)) }}
{%- endmacro %}

{% macro default__hash_pii(column) -%}
    case when nullif(trim({{ column }}), '') is null then null
         else {{ dbt.hash(dbt.concat(["'" ~ var('pii_salt') ~ "'", "trim(" ~ column ~ ")"])) }} end
{%- endmacro %}
