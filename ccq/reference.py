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


@lru_cache(maxsize=None)
def project_vars() -> dict:
    """The dbt project's vars (dbt_project.yml), read as plain YAML: the few settings the ingest
    shares with the models (the default site, the defaults of unconfigured queues)."""
    import yaml

    from ccq.settings import DBT_PROJECT_DIR

    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as f:
        return dict((yaml.safe_load(f) or {}).get("vars") or {})


def site_zones() -> dict[str, str]:
    """Configured site -> its IANA time zone (seeds/sites.csv)."""
    return {r["site_id"]: r["time_zone"] for r in seed_rows("sites")}


def default_site() -> str:
    """The site of data that names none: queues not in seeds/queues.csv, local times read
    without --time-zone (var default_site_id)."""
    return str(project_vars().get("default_site_id") or next(iter(site_zones())))


def queue_sites() -> dict[str, str]:
    """Configured queue -> its site (seeds/queues.csv)."""
    return {r["queue_id"]: r["site_id"] for r in seed_rows("queues")}


def missing_rows(snapshot) -> dict[str, list[dict]]:
    """The seed rows that would configure every queue and site the published snapshot measures
    with defaults (marts.dim_queues / dim_sites, is_configured false): seed name -> rows, filled
    with what the warehouse used (the site the files were ingested for, the default parameters)."""
    import duckdb

    defaults = project_vars().get("queue_defaults") or {}
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        sites = con.execute("SELECT site_id, time_zone FROM marts.dim_sites WHERE NOT is_configured ORDER BY 1").fetchall()
        queues = con.execute(
            "SELECT queue_id, direction, channel, site_id FROM marts.dim_queues WHERE NOT is_configured ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    have = {name: {r[key] for r in seed_rows(name)} for name, key in
            (("sites", "site_id"), ("queues", "queue_id"), ("queue_parameters", "queue_id"))}
    out: dict[str, list[dict]] = {
        "sites": [{"site_id": s, "site_name": s, "time_zone": tz, "country_code": ""}
                  for s, tz in sites if s not in have["sites"]],
        "queues": [{"queue_id": q, "queue_name": q, "queue_name_zh": q, "call_type": "", "direction": d,
                    "channel": c, "priority": "", "site_id": s} for q, d, c, s in queues if q not in have["queues"]],
        "queue_parameters": [{"queue_id": q, "effective_from": "2000-01-01", "effective_to": "9999-12-31", **defaults}
                             for q, _, _, _ in queues if q not in have["queue_parameters"]],
    }
    return {name: rows for name, rows in out.items() if rows}


def append_seed_rows(name: str, rows: list[dict]) -> None:
    """Append rows to seeds/<name>.csv in its own column order (a value the seed has no column
    for is an error: the seed and the defaults disagree)."""
    path = SEEDS_DIR / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    unknown = {k for r in rows for k in r} - set(header)
    if unknown:
        raise ValueError(f"seeds/{name}.csv has no column {', '.join(sorted(unknown))}")
    text = path.read_text(encoding="utf-8")
    with path.open("a", encoding="utf-8", newline="") as f:
        if text and not text.endswith("\n"):
            f.write("\n")
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writerows(rows)
    seed_rows.cache_clear()
