"""The key of the personal-data pseudonyms.

Staging replaces caller numbers, customer ids and agent names with HMAC-SHA-256(key, value), hex
(macro `hash_pii`). The key belongs to the installation, not to the repository: it is the value
of the environment variable CCQ_PII_KEY, else the file `<CCQ_HOME>/secrets/pii.key`, which is
generated (32 random bytes, hex) on first use, atomically, owner-only (file 0600, folder 0700).
It is never written to SQL, dbt's target/ or logs/, the warehouse or the published snapshot:
the dbt-duckdb plugin `ccq.warehouse_plugin` puts the HMAC's padded keys into session variables of
each DuckDB connection, and the SQL reads them with getvariable().

The same key gives the same pseudonyms on every refresh (the FCR and repeat-caller joins rely on
it). Rotating the key (a new CCQ_PII_KEY, or deleting pii.key) changes every pseudonym; the
pipeline notices (`key_fingerprint` is part of `ccq.fingerprint.project_fingerprint`) and rebuilds
everything from scratch.

Nothing here touches a file at import time.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _secrets
import tempfile
import unicodedata
from pathlib import Path

from ccq.settings import paths

KEY_ENV = "CCQ_PII_KEY"
KEY_FILE = "pii.key"
# A shorter key could be found by trying keys; the generated one has 64 characters.
MIN_KEY_CHARS = 32
# DuckDB session variables set by ccq.warehouse_plugin and read by the hash_pii macro.
IPAD_VARIABLE = "ccq_pii_hmac_ipad"
OPAD_VARIABLE = "ccq_pii_hmac_opad"
ERROR_VARIABLE = "ccq_pii_key_error"
_BLOCK = 64  # SHA-256's block size, bytes
_FINGERPRINT_LABEL = b"ccq personal-data key fingerprint v1"


class PiiKeyError(RuntimeError):
    """The key of the pseudonyms is missing, unreadable or too short."""


def key_file(home: str | os.PathLike | None = None) -> Path:
    """Where the installation's key lives: <CCQ_HOME>/secrets/pii.key (home: --home, else CCQ_HOME)."""
    return paths(home).secrets / KEY_FILE


def _check(text: str, where: str) -> bytes:
    text = text.strip()
    if len(text) < MIN_KEY_CHARS:
        raise PiiKeyError(f"the personal-data key in {where} is shorter than {MIN_KEY_CHARS} characters")
    return text.encode("utf-8")


def _create(path: Path) -> None:
    """Write a new random key to `path` unless one is there: written to a private temporary file
    and linked into place, so a concurrent first run never sees a half-written key and never
    replaces another's."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".pii.key.")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(_secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:
            # A file system without hard links: a rename, which a concurrent first run could race.
            if not path.exists():
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_key(home: str | os.PathLike | None = None, *, create: bool = True) -> bytes:
    """The key: CCQ_PII_KEY if set, else <home>/secrets/pii.key, generated if absent (and `create`)."""
    value = os.environ.get(KEY_ENV)
    if value is not None and value.strip():
        return _check(value, f"${KEY_ENV}")
    path = key_file(home)
    try:
        return _check(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        if not create:
            raise PiiKeyError(f"no personal-data key: set {KEY_ENV} or create {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise PiiKeyError(f"cannot read the personal-data key {path}: {e.__class__.__name__}") from None
    try:
        _create(path)
        return _check(path.read_text(encoding="utf-8"), str(path))
    except OSError as e:
        raise PiiKeyError(f"cannot create the personal-data key {path} ({e.__class__.__name__}); "
                          f"set {KEY_ENV} or make {path.parent} writable") from None


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA-256's inner and outer padded keys (RFC 2104): with them,
    HMAC(key, m) = sha256(opad || sha256(ipad || m)), which the SQL computes. Secret like the key."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _trim(value: str) -> str:
    """DuckDB's trim(): strips Unicode space separators (category Zs), not tabs or newlines."""
    start, end = 0, len(value)
    while start < end and unicodedata.category(value[start]) == "Zs":
        start += 1
    while end > start and unicodedata.category(value[end - 1]) == "Zs":
        end -= 1
    return value[start:end]


def pseudonym(value: str | None, key: bytes) -> str | None:
    """What hash_pii publishes for `value` (trimmed; empty is null), computed in Python."""
    if value is None or not _trim(value):
        return None
    return hmac.new(key, _trim(value).encode("utf-8"), hashlib.sha256).hexdigest()


def key_fingerprint(home: str | os.PathLike | None = None) -> str:
    """A public digest that changes when the key does (an HMAC of a fixed label; never the key)."""
    return hmac.new(load_key(home), _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()
