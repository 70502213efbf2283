"""Progress of a run on the terminal of `ccq`, from Dagster's own event stream: a logger that
prints each step's start and end (with its time) and the steps' own `progress: ...` messages.
Runs `ccq` starts in its own process configure it (orchestration/runs.py); daemon runs keep
Dagster's console logger."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Callable

from dagster import logger

PROGRESS_PREFIX = "progress: "
_sink: list[Callable[[str], None]] = []
_lock = threading.Lock()


@contextmanager
def reporting_to(progress: Callable[[str], None]):
    """Send the progress of the runs executed in this process to `progress` meanwhile."""
    with _lock:
        _sink.append(progress)
    try:
        yield
    finally:
        with _lock:
            _sink.remove(progress)


class _StepProgress(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.started: dict[str, float] = {}

    def _say(self, message: str) -> None:
        for progress in list(_sink):
            progress(message)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event, step = meta.get("dagster_event"), meta.get("step_key")
        if event is not None:
            kind = event.event_type_value
            if kind == "STEP_START":
                self.started[step] = record.created
                self._say(f"  {step} ...")
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                took = record.created - self.started.pop(step, record.created)
                self._say(f"  {step} {'done' if kind == 'STEP_SUCCESS' else 'FAILED'} ({took:.1f}s)")
        elif str(meta.get("orig_message", "")).startswith(PROGRESS_PREFIX):
            self._say("    " + meta["orig_message"][len(PROGRESS_PREFIX):])


@logger(description="Step starts and ends and the steps' progress messages, on the terminal of `ccq`.")
def terminal_progress(_init_context) -> logging.Logger:
    log = logging.Logger("ccq_progress", level=logging.DEBUG)
    log.addHandler(_StepProgress())
    return log
