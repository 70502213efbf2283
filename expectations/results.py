"""What a validation returns: one outcome per check, one result per suite run."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SAMPLE_LIMIT = 5


@dataclass
class CheckOutcome:
    """One expectation (or table-level check), aggregated over batches."""

    name: str
    column: str | None
    success: bool
    unexpected_count: int
    element_count: int
    details: str
    expectation: str = ""
    notes: str = ""
    severity: str = "critical"  # GX FailureSeverity: critical, warning or info


@dataclass
class SuiteResult:
    suite: str
    target: str
    success: bool
    batches: int
    rows: int
    outcomes: list[CheckOutcome]
    started_at: datetime
    seconds: float
    where: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def critical_failed(self) -> list[CheckOutcome]:
        """Failed checks of severity critical; the others (warning, info) need not block."""
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    def summary(self) -> str:
        head = f"{self.suite} on {self.target}"
        if self.where:
            head += f" [{partition_label(self.where)}]"
        size = (
            f"{self.rows:,} row{'s' if self.rows != 1 else ''}, "
            f"{self.batches} batch{'es' if self.batches != 1 else ''}, {self.seconds:.1f}s"
        )
        failed = self.failed
        if not failed:
            return f"{head}: all {len(self.outcomes)} checks passed ({size})"
        shown = "; ".join(f"{o.name}: {_failure_brief(o)}" for o in failed[:SAMPLE_LIMIT])
        if len(failed) > SAMPLE_LIMIT:
            shown += f"; +{len(failed) - SAMPLE_LIMIT} more"
        return f"{head}: {len(failed)} of {len(self.outcomes)} checks failed ({shown}) ({size})"


def _failure_brief(o: CheckOutcome) -> str:
    brief = "error" if o.details.startswith("error") else f"{o.unexpected_count:,} unexpected"
    return brief if o.severity == "critical" else f"{brief}, {o.severity}"


def partition_label(where: str) -> str:
    """The partition's date when the filter names exactly one ISO date, else the filter itself."""
    dates = set(re.findall(r"'(\d{4}-\d{2}-\d{2})'", where))
    return dates.pop() if len(dates) == 1 else where


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "null"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return str(v)


def _file_line(file_id: Any, line_no: Any) -> str:
    """'<file name> line <n>', as the loader words its quarantine messages."""
    name = str(file_id).rsplit("/", 1)[-1] if file_id is not None and _fmt(file_id) != "null" else ""
    line = "" if line_no is None or _fmt(line_no) in ("null", "nan") else f"line {int(float(line_no))}"
    return " ".join(p for p in (name, line) if p)


def _format_sample(row: Any, index_columns: list[str]) -> str:
    if not isinstance(row, dict):
        return _fmt(row)
    where = _file_line(row.get("_file_id"), row.get("_line_no")) if {"_file_id", "_line_no"} & set(row) else ""
    index_columns = [c for c in index_columns if c not in ("_file_id", "_line_no")]
    values = [f"{k}={_fmt(v)}" for k, v in row.items() if k not in index_columns and k not in ("_file_id", "_line_no")]
    ids = [f"{k}={_fmt(row[k])}" for k in index_columns if k in row]
    if not values:
        text = ", ".join(ids)
    elif not ids:
        text = ", ".join(values)
    else:
        text = ", ".join(values) + " (" + ", ".join(ids) + ")"
    return f"{where}: {text}" if where else text
