"""Great Expectations suites (JSON under suites/) and the batch runner that applies them to DuckDB."""
from expectations.runner import (
    SUITES,
    CheckOutcome,
    SuiteResult,
    SuiteSpec,
    load_suite,
    raw_file_filter,
    validate,
    validate_acd_events,
    validate_kpi_parts,
    validate_kpi_values,
    validate_queue_intervals,
    validate_raw,
    validate_raw_days,
    write_report,
)

__all__ = [
    "SUITES",
    "CheckOutcome",
    "SuiteResult",
    "SuiteSpec",
    "load_suite",
    "raw_file_filter",
    "validate",
    "validate_acd_events",
    "validate_kpi_parts",
    "validate_kpi_values",
    "validate_queue_intervals",
    "validate_raw",
    "validate_raw_days",
    "write_report",
]
