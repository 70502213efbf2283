"""The raw suites: the generic part comes from the raw contract (the one place columns, types,
required columns, codes and ranges are written down; the loader enforces the row rules), the table-specific part from
suites/raw_<table>.json.

Two suites per raw table (three for the ACD events, with the queue-leg order of
raw_acd_queue_legs), run per extract file (day) by expectations.runner.validate_raw_days:

- raw_<table>: Great Expectations checks of what the loader cannot see in one row. Generated:
  the column set, timestamps not in the future, and key uniqueness across the whole table (on
  the frame of the key's copies, expectations.frames; a warning: staging keeps the latest
  delivery, so a repeat does not double count). From the JSON: plausible durations, event order,
  conditional rules (`expectations`, `derived_columns`) and references to other raw tables
  (`meta.ccq.references`: each value beside the one the other table holds, looked up by DuckDB).
  Required columns, allowed codes and ranges are the loader's: a row that breaks one never
  reaches the raw table (it is quarantined with the reason), so they are not checked again here.
- raw_<table>_integrity: table-level Great Expectations checks on frames DuckDB prepares:
  column types against the contract, and each day's volume against its norm.

Severity of references: a reference into the same source system, delivered in the same cycle,
is critical (the two extracts must agree); a reference into another system is a warning, because
systems deliver at different hours and the referenced side is certified on its own completeness
(a missing ACD file already uncertifies its days). The dbt relationship tests between systems
say the same (`meta: {ccq: {severity: warning}}`, read by ccq.quality). The demo's known gaps
are not references: supervisors and QA evaluators are not agents (not checked), and an empty
reference (a complaint without a contact or case) is not checked.

Volume: a day's rows read are compared with the median of the same weekday in the previous four
weeks (call centres have a strong weekly cycle, so a trailing 7-day median would flag every
Sunday). Checked only with two or more such days and a median of at least 200 rows (small,
lumpy extracts such as QA or complaints have no useful norm). Below half the norm is critical:
a partial extract reconciles and is on time, and nothing else would catch it. Above twice the
norm is a warning: surges are real, and duplicates are caught by the key checks.
"""
from __future__ import annotations

import json
from pathlib import Path

from ccq.contract import LOAD_COLUMNS, Table, tables

SUITES_DIR = Path(__file__).resolve().parent / "suites"
LINE_COLUMNS = ["_file_id", "_line_no"]  # every raw sample names its file and line

VOLUME_WEEKS = 4
VOLUME_MIN_HISTORY = 2
VOLUME_MIN_ROWS = 200
VOLUME_LOW = 0.5
VOLUME_HIGH = 2.0


def raw_suite_name(table_name: str) -> str:
    return f"raw_{table_name}"


def integrity_suite_name(table_name: str) -> str:
    return f"raw_{table_name}_integrity"


def specific_path(table_name: str) -> Path:
    return SUITES_DIR / f"{raw_suite_name(table_name)}.json"


def specific(table_name: str) -> dict:
    """The table-specific part of the raw suite (empty when the table has no JSON)."""
    p = specific_path(table_name)
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def version_key(t: Table, meta: dict) -> list[str]:
    """The columns that identify one version of a record: the key, plus latest_by when a later
    version of the same key is expected in another delivery (cases, roster snapshots)."""
    if meta.get("version_key"):
        return list(meta["version_key"])
    return list(t.key) + ([t.latest_by] if t.latest_by != "_loaded_at" and t.latest_by not in t.key else [])


def generic_expectations(t: Table, derived: list[str] | None = None) -> list[dict]:
    notes = "The table has exactly the contract's columns plus the loader's columns"
    out: list[dict] = [{
        "type": "expect_table_columns_to_match_set",
        "kwargs": {"column_set": t.column_names + list(LOAD_COLUMNS) + list(derived or []), "exact_match": True},
        "meta": {"name": "columns_match_contract"},
        "notes": notes + (" (and the suite's derived columns, computed by the runner)." if derived else "."),
    }]
    for c in t.columns:
        if c.data_type == "TIMESTAMP":
            out.append({"type": "expect_column_values_to_be_between",
                        "kwargs": {"column": c.name, "max_value": {"$PARAMETER": "now_utc"}},
                        "meta": {"name": f"{c.name}_not_in_future"},
                        "notes": "now_utc is the validation time, UTC."})
    return out


def _frame(name: str, expectation: dict, column: str | None = None) -> dict:
    """An expectation judged on one of the frames DuckDB prepares (expectations.frames), not on
    the partition. `column` is the raw column its outcome is recorded against (none: the table),
    not the frame's."""
    return {**expectation, "meta": {**expectation.get("meta", {}), "frame": name, "column": column}}


def key_expectation(vkey: list[str]) -> dict:
    unique = ({"type": "expect_column_values_to_be_unique", "kwargs": {"column": vkey[0]}} if len(vkey) == 1 else
              {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": vkey}})
    return _frame("key_copies", {
        **unique,
        "meta": {"name": "_".join(vkey) + "_unique"},
        "severity": "warning",
        "notes": (f"Every {', '.join(vkey)} of the partition occurs once in the whole table. A warning: staging "
                  "keeps the latest delivery of a record, so a repeat does not double count."),
    }, column=", ".join(vkey))


def reference_expectation(check: dict) -> tuple[dict, dict]:
    """A reference to another source (`meta.ccq.references` of the JSON): the expectation, and the
    derived column it compares with: the value again when the other table holds it, else null
    (DuckDB looks it up for the whole partition in one semi-join; a value set of the other
    table's keys would be millions of values, which GX copies for every metric it computes)."""
    col, to_col = check["column"], check.get("to_column", check["column"])
    # Contract column names are plain identifiers (ccq.contract), so they need no quoting.
    found = f"case when exists (select 1 from {check['to']} as t where t.{to_col} = frame.{col}) then frame.{col} end"
    kwargs: dict = {"column_A": col, "column_B": check["name"], "ignore_row_if": "both_values_are_missing"}
    if check.get("row_condition"):
        kwargs["row_condition"] = check["row_condition"]
    expectation = {"type": "expect_column_pair_values_to_be_equal", "kwargs": kwargs,
                   "meta": {"name": check["name"], "column": col},
                   "severity": check.get("severity", "critical"), "notes": check.get("notes", "")}
    return expectation, {check["name"]: found}


def build_raw_suite(table_name: str) -> dict:
    t = tables()[table_name]
    spec = specific(table_name)
    meta = (spec.get("meta") or {}).get("ccq") or {}
    vkey = version_key(t, meta)
    references, derived = [], dict(meta.get("derived_columns") or {})
    for check in meta.get("references", []):
        e, lookup = reference_expectation(check)
        references.append(e)
        derived.update(lookup)
    ccq_meta = {
        "target": f"raw.{table_name}",
        "contract_table": table_name,
        "index_columns": meta.get("index_columns") or [*t.key, *LINE_COLUMNS],
        "frames": {"key_copies": {"kind": "key_copies", "columns": vkey}},
    }
    if derived:
        ccq_meta["derived_columns"] = derived
    notes = f"Row-level checks of raw.{table_name} as loaded: generated from the raw contract"
    notes += " (dbt_project/models/staging/*/_*__sources.yml)"
    if spec.get("notes"):
        notes += "; table-specific: " + spec["notes"]
    return {
        "name": raw_suite_name(table_name),
        "id": None,
        "notes": notes,
        "meta": {"ccq": ccq_meta},
        "expectations": [*generic_expectations(t, list(derived)),
                         *spec.get("expectations", []), key_expectation(vkey), *references],
    }


def build_integrity_suite(table_name: str) -> dict:
    t = tables()[table_name]
    meta = (specific(table_name).get("meta") or {}).get("ccq") or {}
    volume = {"kind": "volume", "table": table_name, "weeks": VOLUME_WEEKS, "min_history": VOLUME_MIN_HISTORY,
              "min_rows": meta.get("volume_min_rows", VOLUME_MIN_ROWS), "low": VOLUME_LOW, "high": VOLUME_HIGH}
    types = {"kind": "column_types", "types": {**{c.name: c.data_type for c in t.columns}, **LOAD_COLUMNS}}
    # A day without a norm (too little history, too small an extract) has no bound: not judged.
    unjudged = {"or_equal": True, "ignore_row_if": "either_value_is_missing"}
    no_norm = (f"day(s) without a norm (fewer than {VOLUME_MIN_HISTORY} earlier same weekdays, or a median "
               f"below {volume['min_rows']:,} rows)")
    expectations = [
        _frame("column_types", {
            "type": "expect_column_pair_values_to_be_equal",
            "kwargs": {"column_A": "data_type", "column_B": "declared_type"},
            "meta": {"name": "column_types_match_contract"},
            "notes": "Column types of the raw table as the contract declares them (a contract change needs a migration)."}),
        _frame("volume", {
            "type": "expect_column_pair_values_a_to_be_greater_than_b",
            "kwargs": {"column_A": "rows_read", "column_B": "volume_floor", **unjudged},
            "meta": {"name": "volume_not_below_norm", "missing_label": no_norm},
            "notes": f"Rows read on the day >= {VOLUME_LOW:.0%} of the median of the same weekday in the previous "
                     f"{VOLUME_WEEKS} weeks. Critical: a partial extract reconciles and arrives on time."}),
        _frame("volume", {
            "type": "expect_column_pair_values_a_to_be_greater_than_b",
            "kwargs": {"column_A": "volume_ceiling", "column_B": "rows_read", **unjudged},
            "meta": {"name": "volume_not_above_norm", "missing_label": no_norm},
            "severity": "warning",
            "notes": f"Rows read on the day <= {VOLUME_HIGH:.0%} of the same norm. A warning: surges are real."}),
    ]
    return {
        "name": integrity_suite_name(table_name),
        "id": None,
        "notes": f"Table-level checks of raw.{table_name}: column types, and the volume of each day against the norm.",
        "meta": {"ccq": {"target": f"raw.{table_name}", "contract_table": table_name,
                         "frames": {"column_types": types, "volume": volume}}},
        "expectations": expectations,
    }
