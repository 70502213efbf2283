"""Reference data (dbt seeds) read straight from seeds/, for steps that run before dbt
has loaded them into the warehouse (validating raw extracts on a fresh warehouse)."""
from __future__ import annotations

import csv
from functools import lru_cache

from ccq.settings import SEEDS_DIR


@lru_cache(maxsize=None)
def seed_rows(name: str) -> tuple[dict, ...]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


def queue_ids() -> list[str]:
    return sorted(r["queue_id"] for r in seed_rows("queues"))
