"""Great Expectations suites (JSON under suites/) and the batch runner that applies them to DuckDB."""
from expectations.runner import (
    SUITES,
    CheckOutcome,
    SuiteResult,
    SuiteSpec,
    load_suite,
    validate,
    validate_acd_events,
    validate_queue_intervals,
    write_report,
)

__all__ = [
    "SUITES",
    "CheckOutcome",
    "SuiteResult",
    "SuiteSpec",
    "load_suite",
    "validate",
    "validate_acd_events",
    "validate_queue_intervals",
    "write_report",
]
