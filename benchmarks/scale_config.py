"""The sizes, stages and targets of the scale benchmark and the folder layout of each size: what
scale_benchmark.py (the stages) and scale_report.py (the report) both need."""
from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The year ends the day before the clock of the base demo, so no date is in the future.
END = date(2026, 11, 25)  # the incremental day; the full load covers the days before it
SIZES = {
    "S": {"days": 31, "agents": 50, "queues": 5},
    "M": {"days": 365, "agents": 200, "queues": 5},
    "L": {"days": 365, "agents": 1000, "queues": 5},
}
STAGES = ["generate", "load", "validate", "build", "incremental", "queries", "floor"]
TARGETS = {  # issue 8, on L
    "full_build_seconds": 300,
    "incremental_seconds": 20,
    "peak_rss_mb": 8192,
    "page_p95_ms": 300,
    "build_floor_ratio": 5,
}


# ---------------------------------------------------------------- layout


def size_dirs(out: Path, size: str) -> dict[str, Path]:
    base = out / size
    return {"base": base, "source": base / "source", "home": base / "home", "stages": base / "stages"}


def start_date(size: str) -> date:
    return END - timedelta(days=SIZES[size]["days"])


def clock(day_after: date) -> str:
    """CCQ_NOW for a warehouse whose last extract day is the day before `day_after`."""
    return f"{day_after.isoformat()}T06:00:00"


def extract_day(p: Path) -> str:
    return p.stem.rsplit("_", 1)[1]


# ---------------------------------------------------------------- load of the machine


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
