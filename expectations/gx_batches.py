"""Great Expectations, batch by batch: an ephemeral context validates each Arrow batch as a pandas
frame, and the outcomes of the batches are added up per expectation."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from expectations.catalog import expectation_name
from expectations.results import CheckOutcome, SAMPLE_LIMIT, _fmt, _format_sample


@dataclass
class Accumulator:
    name: str
    expectation: str
    column: str | None
    notes: str
    severity: str = "critical"
    missing_label: str | None = None  # what a row GX skips for a missing value is, when worth saying
    map_metric: bool = False
    success: bool = True
    unexpected: int = 0
    elements: int = 0
    failed_batches: int = 0
    samples: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    observed: str | None = None
    observed_count: int = 0
    missing: int = 0

    def add(self, r, batch_rows: int, index_columns: list[str]) -> None:
        res = r.result or {}
        errors = _exception_messages(r.exception_info)
        if errors:
            self.success = False
            for m in errors:
                if m not in self.errors:
                    self.errors.append(m)
        if not r.success:
            self.success = False
            self.failed_batches += 1
        if "unexpected_count" in res:
            self.map_metric = True
            self.unexpected += int(res.get("unexpected_count") or 0)
            self.elements += int(res.get("element_count") or 0)
            self.missing += int(res.get("missing_count") or 0)
            if not r.success:
                rows = res.get("partial_unexpected_index_list") or [
                    {"value": v} for v in (res.get("partial_unexpected_list") or [])
                ]
                for row in rows:
                    if len(self.samples) >= SAMPLE_LIMIT:
                        break
                    s = _format_sample(row, index_columns)
                    if s not in self.samples:
                        self.samples.append(s)
        else:
            self.elements += batch_rows
            if not r.success and not errors and self.observed is None:
                self.observed, self.observed_count = _describe_observed(res)

    def outcome(self) -> CheckOutcome:
        if self.map_metric:
            unexpected = self.unexpected
        elif self.success:
            unexpected = 0
        else:
            unexpected = self.observed_count or self.failed_batches or 1
        parts = []
        if self.errors:
            parts.append("error: " + " | ".join(self.errors[:3]))
        if self.map_metric and (self.unexpected or not self.success):
            pct = self.unexpected / self.elements if self.elements else 0.0
            s = f"{self.unexpected:,} of {self.elements:,} unexpected ({pct:.2%})"
            if self.samples:
                s += "; e.g. " + "; ".join(self.samples)
            parts.append(s)
        elif not self.map_metric and not self.success and self.observed:
            parts.append(self.observed)
        if not parts:
            skipped = f", {self.missing:,} {self.missing_label}" if self.missing and self.missing_label else ""
            parts.append(f"ok ({self.elements:,} checked{skipped})")
        return CheckOutcome(
            name=self.name,
            column=self.column,
            success=self.success,
            unexpected_count=unexpected,
            element_count=self.elements,
            details="; ".join(parts),
            expectation=self.expectation,
            notes=self.notes,
            severity=self.severity,
        )


def _exception_messages(info: Any) -> list[str]:
    # GX 1.x reports either one {raised_exception, exception_message} or one such dict per metric.
    if not info:
        return []
    if isinstance(info, dict) and "raised_exception" in info:
        info = {"": info}
    out = []
    for v in (info.values() if isinstance(info, dict) else []):
        if isinstance(v, dict) and v.get("raised_exception"):
            out.append(str(v.get("exception_message") or "exception")[:300])
    return out


def _describe_observed(res: dict) -> tuple[str, int]:
    mismatched = (res.get("details") or {}).get("mismatched")
    if isinstance(mismatched, dict):
        missing = list(mismatched.get("missing") or [])
        extra = list(mismatched.get("unexpected") or [])
        parts = []
        if missing:
            parts.append("missing columns: " + ", ".join(map(str, missing)))
        if extra:
            parts.append("unexpected columns: " + ", ".join(map(str, extra)))
        return "; ".join(parts) or "mismatch", len(missing) + len(extra)
    observed = res.get("observed_value")
    return f"observed {_fmt(observed)[:300]}", 0


# GX keeps a process-wide "current project"; one validation at a time per process keeps contexts apart.
GX_LOCK = threading.Lock()
_BATCH_DEFINITION: list = []


def batch_definition():
    """The batch definition every frame is validated through (call under GX_LOCK): one ephemeral
    context per process, made on first use. Adding a data source or an asset re-serialises the
    context's whole configuration to YAML; made once per validation, that was a third of the
    time of a day's raw suites."""
    if not _BATCH_DEFINITION:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx = gx.get_context(mode="ephemeral")
        # GX draws a tqdm bar per metric calculation unless told not to.
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        _BATCH_DEFINITION.append(ctx.data_sources.add_pandas("ccq_duckdb").add_dataframe_asset("frame")
                                 .add_batch_definition_whole_dataframe("arrow_batch"))
    return _BATCH_DEFINITION[0]


def rebatch(reader, batch_rows: int, keep_together: list[str] | None = None):
    """Arrow tables of batch_rows rows (the last may be shorter); DuckDB caps its chunks at a row group.

    With keep_together (a frame ordered by those columns), a batch runs on to the end of the group
    of its last row, so rows equal on those columns are always judged in the same batch."""
    import pyarrow as pa

    pending: list = []
    pending_rows = 0
    for rb in reader:
        if rb.num_rows == 0:
            continue
        pending.append(rb)
        pending_rows += rb.num_rows
        while pending_rows >= batch_rows:
            table = pa.Table.from_batches(pending)
            cut = _group_end(table, batch_rows, keep_together) if keep_together else batch_rows
            if cut is None:
                break  # the last group may go on in the next chunk
            yield table.slice(0, cut)
            rest = table.slice(cut)
            pending, pending_rows = rest.to_batches(), rest.num_rows
    if pending_rows:
        yield pa.Table.from_batches(pending)


def _group_end(table, start: int, columns: list[str]) -> int | None:
    """The first row at or after `start` that differs from row start-1 on `columns`, or None."""
    import pyarrow.compute as pc

    rest = table.slice(start)
    same = None
    for c in columns:
        last = table.column(c)[start - 1]
        eq = pc.fill_null(pc.equal(rest.column(c), last), False)
        same = eq if same is None else pc.and_(same, eq)
    first_other = pc.index(same, False).as_py()
    return None if first_other < 0 else start + first_other


def to_pandas(table):
    import pyarrow as pa
    import pyarrow.compute as pc

    # DuckDB sums are HUGEINT/DECIMAL, which Arrow hands to pandas as Python Decimal objects.
    for i, f in enumerate(table.schema):
        if pa.types.is_decimal(f.type):
            try:
                col = pc.cast(table.column(i), pa.int64() if f.type.scale == 0 else pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                col = pc.cast(table.column(i), pa.float64(), safe=False)
            table = table.set_column(i, f.name, col)
    # GX compares datetimes vectorised only for datetime64[ns] (dates too, so they compare with
    # datetime parameters) and numbers only for int64/float64;
    # Arrow gives datetime64[us] and int32, which GX checks value by value in Python (several times slower).
    try:
        df = table.to_pandas(coerce_temporal_nanoseconds=True, date_as_object=False)
    except (pa.ArrowInvalid, OverflowError, pa.ArrowNotImplementedError):
        df = table.to_pandas()  # a timestamp beyond 2262: correct, only slower
    for col, dtype in df.dtypes.items():
        if getattr(dtype, "kind", "") == "i" and dtype.itemsize < 8:
            df[col] = df[col].astype("int64")
    return df


def validate_frame(df, batch_def, suite, params: dict, index_columns: list[str],
                   by_name: dict[str, Accumulator]) -> None:
    index_columns = [c for c in index_columns if c in df.columns]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_LIMIT}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    batch = batch_def.get_batch(batch_parameters={"dataframe": df})
    res = batch.validate(suite, expectation_parameters=params, result_format=result_format)
    for r in res.results:
        cfg = r.expectation_config
        name = expectation_name({"type": cfg.type, "kwargs": cfg.kwargs, "meta": cfg.meta})
        by_name[name].add(r, len(df), index_columns)


def param_for_report(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (list, tuple)) and len(v) > 20:
        return [*v[:20], f"... {len(v) - 20} more"]
    return v
