"""The raw contract, read from the dbt sources YAML (the one place it is written down).

Each dbt source table under dbt_project/models/staging/<system>/_<system>__sources.yml is a
raw table the warehouse loads: its columns with `data_type`, and `meta.ccq` with the key,
which version wins on re-delivery, and per column whether it is required, personal data,
its allowed codes and range.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ccq.settings import DBT_PROJECT_DIR

RAW_SCHEMA = "raw"
# Columns every loaded row carries, added by the loader (not part of the extract files).
LOAD_COLUMNS = {
    "_file_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_line_no": "BIGINT",
    "_loaded_at": "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str = ""
    required: bool = False
    pii: bool = False
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Table:
    system: str
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    latest_by: str
    time_zone: str
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl(self, schema: str = RAW_SCHEMA) -> str:
        cols = [f'"{c.name}" {c.data_type}' for c in self.columns]
        cols += [f'"{k}" {t}' for k, t in LOAD_COLUMNS.items()]
        return f"CREATE TABLE IF NOT EXISTS {schema}.{self.name} (\n  " + ",\n  ".join(cols) + "\n)"


def _source_files(dbt_dir: Path) -> list[Path]:
    return sorted((dbt_dir / "models" / "staging").glob("*/_*__sources.yml"))


@lru_cache(maxsize=None)
def tables(dbt_dir: Path = DBT_PROJECT_DIR) -> dict[str, Table]:
    out: dict[str, Table] = {}
    for path in _source_files(dbt_dir):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for source in doc.get("sources", []):
            if source.get("schema") != RAW_SCHEMA:
                continue
            for t in source["tables"]:
                meta = (t.get("meta") or {}).get("ccq") or {}
                cols = []
                for c in t["columns"]:
                    cm = (c.get("meta") or {}).get("ccq") or {}
                    cols.append(
                        Column(
                            name=c["name"],
                            data_type=c["data_type"].upper(),
                            description=c.get("description", ""),
                            required=bool(cm.get("required", False)),
                            pii=bool(cm.get("pii", False)),
                            allowed=tuple(str(a) for a in cm["allowed"]) if "allowed" in cm else None,
                            min=cm.get("min"),
                            max=cm.get("max"),
                        )
                    )
                out[t["name"]] = Table(
                    system=source["name"],
                    name=t["name"],
                    description=" ".join(str(t.get("description", "")).split()),
                    columns=tuple(cols),
                    key=tuple(meta["key"]),
                    latest_by=meta.get("latest_by", "_loaded_at"),
                    time_zone=str(meta.get("time_zone", "UTC")),
                )
    if not out:
        raise RuntimeError(f"no raw contract found under {dbt_dir}/models/staging")
    return out


def table(name: str) -> Table:
    try:
        return tables()[name]
    except KeyError:
        raise KeyError(f"unknown raw table {name!r}; known: {', '.join(sorted(tables()))}") from None
