"""The models are written once for every engine (issue 18): a SQL function whose result differs
between DuckDB and Spark (trim, lower, epoch, regexp..., listagg) is called through a project macro
that adapter.dispatch gives a version per engine (dbt_project/macros/utils), never bare in a model.
This scans every model's SQL, Jinja removed, for the functions it calls and allows only the ones
both engines define alike. The Spark test (test_spark_engine) then builds every model on Spark and
runs the dispatched functions on both engines over values that tell them apart."""
from __future__ import annotations

import re

from ccq.settings import DBT_PROJECT_DIR

# Standard SQL both engines implement alike on the types the models pass them (doubles, integers,
# ASCII codes), checked by test_spark_engine's comparison of every published value.
PORTABLE = {
    "abs", "avg", "cast", "ceil", "coalesce", "concat", "corr", "count", "covar_samp", "greatest",
    "lag", "lead", "max", "min", "nullif", "replace", "round", "row_number", "sqrt", "sum", "var_samp",
    # ccq_required_agents: the project's own function, registered on both engines (ccq.staffing).
    "ccq_required_agents",
}
# Words that open a parenthesis without being a function.
KEYWORDS = {"as", "in", "over", "values", "exists", "on", "and", "or", "not", "from", "join", "using",
            "select", "when", "then", "else", "with", "where", "filter", "within", "union", "all"}

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
COMMENT = re.compile(r"--[^\n]*")
STRING = re.compile(r"'(?:[^']|'')*'")
CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _functions(sql: str) -> set[str]:
    bare = STRING.sub("''", COMMENT.sub("", JINJA.sub(" ", sql)))
    return {name.lower() for name in CALL.findall(bare)} - KEYWORDS


def test_models_call_only_portable_sql_functions():
    models = sorted((DBT_PROJECT_DIR / "models").rglob("*.sql"))
    assert len(models) > 70
    found = {str(p.relative_to(DBT_PROJECT_DIR)): sorted(_functions(p.read_text(encoding="utf-8")) - PORTABLE)
             for p in models}
    assert {path: names for path, names in found.items() if names} == {}


def test_the_scan_sees_a_bare_engine_function():
    # The scan itself: a bare trim is found, the same call through the macro is not.
    assert _functions("select trim(agent_id) as a, count(*) from t") == {"trim", "count"}
    assert _functions("select {{ ccq.trim_text('agent_id') }} as a -- lower(x)\nwhere s = 'upper(y)'") == set()
