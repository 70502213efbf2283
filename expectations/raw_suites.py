"""The raw suites: the generic part comes from the raw contract (the one place columns, types,
required columns, codes and ranges are written down; the loader enforces the row rules), the table-specific part from
suites/raw_<table>.json.

Two suites per raw table (three for the ACD events, with the queue-leg order of
raw_acd_queue_legs), run per extract file (day) by expectations.runner.validate_raw_days:

- raw_<table>: row-level Great Expectations checks of what the loader cannot see in one row.
  Generated: the column set, timestamps not in the future, and key uniqueness across the whole
  table (a warning: staging keeps the latest delivery, so a repeat does not double count). From
  the JSON: plausible durations, event order, conditional rules (`expectations`,
  `derived_columns`). Required columns, allowed codes and ranges are the loader's: a row that
  breaks one never reaches the raw table (it is quarantined with the reason), so they are not
  checked again here.
- raw_<table>_integrity: table-level DuckDB checks, no GX. Generated: column types against the
  contract, and the day's volume against the norm. From the JSON (`meta.ccq.integrity_checks`):
  references to other raw tables.

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


def build_raw_suite(table_name: str) -> dict:
    t = tables()[table_name]
    spec = specific(table_name)
    meta = (spec.get("meta") or {}).get("ccq") or {}
    vkey = version_key(t, meta)
    key_check = {
        "name": "_".join(vkey) + "_unique",
        "kind": "key_unique",
        "columns": vkey,
        "scope": "table",
        "severity": "warning",
        "locate": True,
        "notes": (f"Every {', '.join(vkey)} of the partition occurs once in the whole table. A warning: staging "
                  "keeps the latest delivery of a record, so a repeat does not double count."),
    }
    ccq_meta = {
        "target": f"raw.{table_name}",
        "contract_table": table_name,
        "index_columns": meta.get("index_columns") or [*t.key, *LINE_COLUMNS],
        "table_checks": [key_check, *meta.get("table_checks", [])],
    }
    if meta.get("derived_columns"):
        ccq_meta["derived_columns"] = meta["derived_columns"]
    notes = f"Row-level checks of raw.{table_name} as loaded: generated from the raw contract"
    notes += " (dbt_project/models/staging/*/_*__sources.yml)"
    if spec.get("notes"):
        notes += "; table-specific: " + spec["notes"]
    return {
        "name": raw_suite_name(table_name),
        "id": None,
        "notes": notes,
        "meta": {"ccq": ccq_meta},
        "expectations": generic_expectations(t, list(meta.get("derived_columns") or {})) + list(spec.get("expectations", [])),
    }


def build_integrity_suite(table_name: str) -> dict:
    t = tables()[table_name]
    meta = (specific(table_name).get("meta") or {}).get("ccq") or {}
    volume = {"table": table_name, "weeks": VOLUME_WEEKS, "min_history": VOLUME_MIN_HISTORY,
              "min_rows": meta.get("volume_min_rows", VOLUME_MIN_ROWS)}
    checks = [
        {"name": "column_types_match_contract", "kind": "column_types",
         "types": {**{c.name: c.data_type for c in t.columns}, **LOAD_COLUMNS},
         "notes": "Column types of the raw table as the contract declares them (a contract change needs a migration)."},
        {"name": "volume_not_below_norm", "kind": "volume_norm", **volume, "bound": "low", "ratio": VOLUME_LOW,
         "notes": f"Rows read on the day >= {VOLUME_LOW:.0%} of the median of the same weekday in the previous "
                  f"{VOLUME_WEEKS} weeks. Critical: a partial extract reconciles and arrives on time."},
        {"name": "volume_not_above_norm", "kind": "volume_norm", **volume, "bound": "high", "ratio": VOLUME_HIGH,
         "severity": "warning",
         "notes": f"Rows read on the day <= {VOLUME_HIGH:.0%} of the same norm. A warning: surges are real."},
        *meta.get("integrity_checks", []),
    ]
    return {
        "name": integrity_suite_name(table_name),
        "id": None,
        "notes": f"Table-level checks of raw.{table_name}: types, volume against the norm, references to other sources.",
        "meta": {"ccq": {"target": f"raw.{table_name}", "contract_table": table_name, "table_checks": checks}},
        "expectations": [],
    }
