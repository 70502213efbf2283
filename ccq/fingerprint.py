"""One detector of "the dbt project changed": a digest of the files dbt parses and the models
compute with (project file, models, macros, tests, seeds). It answers two questions:

- is the parsed manifest stale, so the project must be parsed again (`manifest_stale`);
- were the incremental models' rows built with another project or personal-data key, so the next
  build starts from scratch (`project_changed`: the digest plus the key's fingerprint).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ccq.settings import DBT_PROJECT_DIR, PROJECT_ROOT, SEEDS_DIR, Paths

# Beside the manifest it describes (dbt_project/target, which git ignores).
MANIFEST_STAMP = DBT_PROJECT_DIR / "target" / "ccq_project.sha256"


def files_fingerprint() -> str:
    h = hashlib.sha256()
    files = [DBT_PROJECT_DIR / "dbt_project.yml", *DBT_PROJECT_DIR.glob("models/**/*"),
             *DBT_PROJECT_DIR.glob("macros/**/*"), *DBT_PROJECT_DIR.glob("tests/**/*"), *SEEDS_DIR.glob("*")]
    for f in sorted(p for p in files if p.is_file()):
        h.update(f.relative_to(PROJECT_ROOT).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def project_fingerprint() -> str:
    """What the incremental models' rows are computed with: the project's files and the
    personal-data key (an HMAC of a fixed label, never the key: a rotated key rebuilds)."""
    from ccq.pii import key_fingerprint

    return hashlib.sha256(f"{files_fingerprint()}:{key_fingerprint()}".encode()).hexdigest()


def _write(f: Path, text: str) -> None:
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, f)


def _read(f: Path) -> str | None:
    try:
        return f.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def manifest_stale(manifest: Path, fingerprint: str) -> bool:
    """`fingerprint`: files_fingerprint() of the files now (the caller keeps it to remember)."""
    return not manifest.exists() or _read(MANIFEST_STAMP) != fingerprint


def remember_manifest(fingerprint: str) -> None:
    _write(MANIFEST_STAMP, fingerprint)


def _built_stamp(paths: Paths) -> Path:
    return paths.warehouse.parent / "dbt_project.sha256"


def project_changed(paths: Paths, fingerprint: str | None = None) -> bool:
    return _read(_built_stamp(paths)) != (fingerprint or project_fingerprint())


def remember_project(paths: Paths, fingerprint: str | None = None) -> None:
    """After a successful build: the incremental models now hold rows of this project."""
    _write(_built_stamp(paths), fingerprint or project_fingerprint())
