"""The models are written once for every engine (issue 18): a SQL function whose result differs
between DuckDB and Spark (trim, lower, epoch, regexp..., listagg) is called through a project macro
that adapter.dispatch gives a version per engine (dbt_project/macros/utils), never bare in a model
or in a macro that is not dispatched. This scans their SQL, Jinja removed, for the functions it
calls and allows only the ones below. The Spark test (test_spark_engine) then builds every model
on Spark, compares what both engines publish, and runs the dispatched text, time and key
functions on both engines over values that tell them apart."""
from __future__ import annotations

import re

from ccq.settings import DBT_PROJECT_DIR

# Functions both engines define alike on the types the models pass them, with the conditions
# under which that holds. docs/scale-out.md, "Known differences", has the rest.
PORTABLE = {
    "abs", "avg", "coalesce", "corr", "count", "covar_samp", "greatest", "grouping", "lag", "lead",
    "max", "min", "nullif", "replace", "row_number", "sqrt", "sum", "var_samp",
    # cast: to an integer type only of whole values (DuckDB rounds 2.7 to 3, Spark truncates).
    "cast",
    # ceil, floor: a double on DuckDB, a bigint on Spark: cast where the result is served.
    "ceil", "floor",
    # round: DuckDB rounds the double's exact binary value, Spark its shortest decimal form; they
    # differ only on a tie in that form (2.675 to 2 places: 2.67, 2.68).
    "round",
    # ccq_required_agents: the project's own function, registered on both engines (ccq.staffing).
    "ccq_required_agents",
}
# Words that open a parenthesis without being a function.
KEYWORDS = {"as", "in", "over", "values", "exists", "on", "and", "or", "not", "from", "join", "using",
            "select", "when", "then", "else", "with", "where", "filter", "within", "union", "all", "into", "sets"}

# A Jinja block becomes a statement break, so that text on either side of an {% if %} does not
# read as one call.
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
STRING_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|--[^\n]*")
# `as name (columns)` names a relation's columns; it is not a call.
CALL = re.compile(r"(?<!\bas )\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)\(.*?%\}(.*?)\{%-?\s*endmacro\s*-?%\}", re.S)
ENGINE_VERSION = re.compile(r"^(default|duckdb|spark|bigquery)__")


def _functions(sql: str) -> set[str]:
    bare = STRING_OR_COMMENT.sub(lambda m: "''" if m.group().startswith("'") else "", JINJA.sub(" ; ", sql))
    return {name.lower() for name in CALL.findall(bare)} - KEYWORDS


def test_models_and_shared_macros_call_only_portable_sql_functions():
    models = sorted((DBT_PROJECT_DIR / "models").rglob("*.sql"))
    assert len(models) > 70
    found = {str(p.relative_to(DBT_PROJECT_DIR)): _functions(p.read_text(encoding="utf-8")) for p in models}
    macros = 0
    for path in sorted((DBT_PROJECT_DIR / "macros").rglob("*.sql")):
        for name, body in MACRO.findall(path.read_text(encoding="utf-8")):
            if not ENGINE_VERSION.match(name):
                macros += 1
                found[f"{path.relative_to(DBT_PROJECT_DIR)}: {name}"] = _functions(body)
    assert macros > 60
    assert {where: sorted(names - PORTABLE) for where, names in found.items() if names - PORTABLE} == {}


def test_the_scan_sees_a_bare_engine_function():
    # The scan itself: a bare trim is found; the same call through the macro, a string, a
    # comment, a column list and text either side of a Jinja block are not.
    assert _functions("select trim(agent_id) as a, count(*) from t") == {"trim", "count"}
    assert _functions("select {{ ccq.trim_text('agent_id') }} as a -- lower(x)\nwhere s = 'upper(y)'") == set()
    assert _functions("select * from (values (1)) as rows (n) where a = b {% if x %} (c) {% endif %}") == set()
