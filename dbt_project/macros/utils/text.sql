{#- Text cleaning that gives the same string on every engine. Ids, codes and names pass through
    these before they are compared, joined or pseudonymised, so an engine that trims or folds
    case differently would give a member another id, or another pseudonym. -#}

{#- Strip leading and trailing space separators (Unicode Zs: the space, the no-break space of
    spreadsheet exports, the ideographic space). Tabs and line breaks are kept. -#}
{% macro trim_text(column) -%}
    {{ return(adapter.dispatch('trim_text', 'ccq')(column)) }}
{%- endmacro %}

{#- DuckDB's trim() strips exactly the 17 Zs characters. -#}
{% macro default__trim_text(column) -%}
    trim({{ column }})
{%- endmacro %}

{#- Spark's trim() strips only U+0020; Java's \p{Zs} is DuckDB's set. \z, not $: Java's $ also
    matches before a final line break, which would strip the spaces before it. -#}
{% macro spark__trim_text(column) -%}
    regexp_replace({{ column }}, '^\\p{Zs}+|\\p{Zs}+\\z', '')
{%- endmacro %}

{#- Lower case, one character for one character (Unicode's simple case mapping). -#}
{% macro lower_text(column) -%}
    {{ return(adapter.dispatch('lower_text', 'ccq')(column)) }}
{%- endmacro %}

{% macro default__lower_text(column) -%}
    lower({{ column }})
{%- endmacro %}

{#- Java's lower() adds the two context rules of Unicode's special casing: a capital sigma that
    ends a word becomes a final sigma, and a dotted capital I becomes i plus a combining dot.
    Mapping both first leaves only the simple mapping, as on DuckDB. -#}
{% macro spark__lower_text(column) -%}
    lower(replace(replace({{ column }}, 'Σ', 'σ'), 'İ', 'i'))
{%- endmacro %}

{#- Upper case, one character for one character (Unicode's simple case mapping). -#}
{% macro upper_text(column) -%}
    {{ return(adapter.dispatch('upper_text', 'ccq')(column)) }}
{%- endmacro %}

{% macro default__upper_text(column) -%}
    upper({{ column }})
{%- endmacro %}

{#- Java's upper() expands the sharp s to SS (and about a hundred rarer letters, ligatures and
    Greek with iota subscript, to two or three). The sharp s is mapped to its capital first, as
    DuckDB does; the rarer ones still differ (docs/scale-out.md, "Known differences"). -#}
{% macro spark__upper_text(column) -%}
    upper(replace({{ column }}, 'ß', 'ẞ'))
{%- endmacro %}
