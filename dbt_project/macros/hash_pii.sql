{#- Pseudonym of personal data (caller numbers, customer ids, names): a keyed hash, HMAC-SHA-256
    of the trimmed value with the installation's key, as 64 hex characters; null when empty.
    Staging is the only layer that sees the clear value; everything downstream joins on the
    pseudonym, which the same key keeps stable from one refresh to the next.

    The key is never in the SQL: ccq/pii.py keeps it (CCQ_PII_KEY, else
    $CCQ_HOME/secrets/pii.key, generated on first use) and the dbt-duckdb plugin ccq.warehouse_plugin
    (profiles.yml) sets HMAC's inner and outer padded keys as session variables of every
    connection, so HMAC(key, v) = sha256(opad || unhex(sha256(ipad || v))) stays vectorised SQL.
    Without the key the macro raises an error; it never falls back to an unkeyed hash.
    Rotating the key changes every pseudonym: the next build is a full refresh (README). -#}
{% macro hash_pii(column) -%}
    {{ return(adapter.dispatch('hash_pii', 'ccq')(column)) }}
{%- endmacro %}

{#- trim() is trim_text on DuckDB; written out so that tests/test_pseudonyms.py can run this body as it stands. -#}
{% macro duckdb__hash_pii(column) -%}
    case when getvariable('ccq_pii_hmac_ipad') is null
              then error(coalesce(getvariable('ccq_pii_key_error'),
                   'hash_pii: no personal-data key on this DuckDB connection; run dbt with dbt_project/profiles.yml, whose plugin ccq.warehouse_plugin loads CCQ_PII_KEY or $CCQ_HOME/secrets/pii.key'))
         when nullif(trim({{ column }}), '') is null then null
         else sha256(getvariable('ccq_pii_hmac_opad')
                     || unhex(sha256(getvariable('ccq_pii_hmac_ipad') || encode(trim({{ column }}))))) end
{%- endmacro %}

{#- The same construction on Spark, the pads being session variables that ccq.spark binds as
    parameters when it makes the session. -#}
{% macro spark__hash_pii(column) -%}
    case when ccq_pii_hmac_ipad is null
              then raise_error(coalesce(ccq_pii_key_error,
                   'hash_pii: no personal-data key in this Spark session; run dbt through ccq-spark-dbt (ccq.spark), which loads CCQ_PII_KEY or $CCQ_HOME/secrets/pii.key'))
         when nullif({{ ccq.trim_text(column) }}, '') is null then null
         else sha2(concat(ccq_pii_hmac_opad,
                          unhex(sha2(concat(ccq_pii_hmac_ipad, encode({{ ccq.trim_text(column) }}, 'UTF-8')), 256))), 256) end
{%- endmacro %}

{#- Another engine writes <adapter>__hash_pii with the same construction and the pads supplied by
    the session, never compiled into the SQL. Until it has one, compiling fails: there is no
    unkeyed fallback. -#}
{% macro default__hash_pii(column) -%}
    {{ exceptions.raise_compiler_error("hash_pii: no keyed (HMAC-SHA-256) implementation for the '" ~ adapter.type() ~ "' adapter; write " ~ adapter.type() ~ "__hash_pii in macros/hash_pii.sql") }}
{%- endmacro %}
