"""Pseudonyms of personal data (issue 13): a keyed hash, HMAC-SHA-256 with the installation's key
(ccq/pii.py, the dbt-duckdb plugin ccq/warehouse_plugin.py, macro hash_pii).

(a) the caller-number and customer-id pseudonyms a snapshot publishes cannot be matched by hashing
    the clear values with anything in the repository (its text tokens as MD5/SHA-256 salt or as
    HMAC key), and they are the HMAC with the installation's key;
(b) the key file is created once, 0600 in a 0700 folder, and reused (stable pseudonyms);
    CCQ_PII_KEY overrides it; without a key hashing fails loudly; the SQL equals Python's hmac;
(c) the key is nowhere in the working folder (dbt's target/ and logs/, Dagster's storage, the
    warehouse, the snapshot) but its own file.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from ccq import pii
from ccq.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from tests.conftest import FIXTURES, run_dbt

LANDING = FIXTURES / "hand_calls" / "landing"
PSEUDONYM_COLUMNS = ("caller_number_hash", "customer_id_hash", "dialled_number_hash", "agent_name_hash")
PII_FIELDS = ("caller_number", "customer_id", "dialled_number", "agent_name")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _macro_sql(column: str) -> str:
    """The DuckDB body of macro hash_pii, applied to `column` (the SQL dbt compiles)."""
    text = (DBT_PROJECT_DIR / "macros" / "hash_pii.sql").read_text(encoding="utf-8")
    body = re.search(r"macro duckdb__hash_pii\(column\) -%\}(.*?)\{%- endmacro", text, re.S)
    assert body, "macros/hash_pii.sql has no duckdb__hash_pii"
    return body.group(1).replace("{{ column }}", column)


def _hash_in_duckdb(values: list[str | None]) -> list[str | None]:
    """hash_pii over `values` on a connection configured by the dbt plugin, as dbt's would be."""
    from ccq.warehouse_plugin import Plugin

    plugin = Plugin("warehouse_plugin", {})
    con = duckdb.connect()
    try:
        plugin.configure_connection(con)
        cur = con.cursor()  # dbt runs every statement on a cursor: the plugin configures it too
        plugin.configure_cursor(cur)
        return [h for (h,) in cur.execute(
            f"SELECT {_macro_sql('v')} FROM (SELECT unnest(?::VARCHAR[]) AS v, generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i",
            [values, values]).fetchall()]
    finally:
        con.close()


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv(pii.KEY_ENV, raising=False)


# --- (a) published pseudonyms ------------------------------------------------------------

def _published(snapshot: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    cols = snapshot.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE column_name IN ?",
        [list(PSEUDONYM_COLUMNS)]).fetchall()
    out: dict[str, set[str]] = {}
    for schema, table, column in cols:
        values = snapshot.execute(
            f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL').fetchall()
        out.setdefault(column, set()).update(v for (v,) in values)
    return out


def _clear_candidates() -> set[str]:
    """Every personal value of the fixture's extracts, as staging trims it."""
    out: set[str] = set()
    for f in LANDING.rglob("*.csv"):
        with f.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out.update(row[k].strip() for k in PII_FIELDS if (row.get(k) or "").strip())
    return out


def _repository_tokens() -> set[str]:
    """Every text token of the repository's files (tracked, plus new ones not ignored), split on
    non-word characters (and keeping hyphenated words), the old demo salt and the empty string."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    tokens = {"ccq-demo-salt", ""}
    for name in filter(None, listed.stdout.split("\0")):
        try:
            text = (PROJECT_ROOT / name).read_bytes().decode("utf-8", "replace")
        except OSError:  # listed but deleted in the working tree
            continue
        tokens.update(re.split(r"\W+", text))
        tokens.update(re.split(r"[^\w-]+", text))
    return tokens


@pytest.mark.xdist_group("hand_built")
def test_published_pseudonyms_resist_every_repository_token_and_are_the_installations_hmac(hand_built, hand_built_snapshot):
    paths, _ = hand_built
    published = _published(hand_built_snapshot)
    assert published.get("caller_number_hash") and published.get("customer_id_hash"), published.keys()
    everything = set().union(*published.values())
    assert all(HEX64.match(h) for h in everything)
    clear = _clear_candidates()
    assert clear

    # Whatever the repository holds, used as salt (before or after) or as HMAC key, matches nothing.
    values = [v.encode() for v in clear]
    matches = []
    for token in _repository_tokens():
        t = token.encode()
        for algo in (hashlib.md5, hashlib.sha256):
            prefixed = algo(t)
            for v in values:
                h = prefixed.copy()
                h.update(v)
                if h.hexdigest() in everything or algo(v + t).hexdigest() in everything:
                    matches.append((algo.__name__, token, v))
        keyed = hmac.new(t, digestmod=hashlib.sha256)
        for v in values:
            h = keyed.copy()
            h.update(v)
            if h.hexdigest() in everything:
                matches.append(("hmac", token, v))
    assert not matches, matches[:10]

    # ... while the installation's key gives every one of them (so the check above can fail).
    key = pii.load_key(paths.home, create=False)
    keyed = {pii.pseudonym(v, key) for v in clear}
    for column, hashes in published.items():
        assert hashes <= keyed, (column, sorted(hashes - keyed)[:5])


# --- (b) the key: created once, reused, overridden ------------------------------------------

def test_key_file_is_created_once_owner_only_and_reused(tmp_path, no_env_key):
    home = tmp_path / "home"
    key = pii.load_key(home)
    f = pii.key_file(home)
    assert f == home / "secrets" / "pii.key"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert stat.S_IMODE(f.parent.stat().st_mode) == 0o700
    assert re.fullmatch(rb"[0-9a-f]{64}", key)
    before = f.stat()
    assert pii.load_key(home) == key  # the next run reads it, does not make another
    after = f.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in f.parent.iterdir()] == ["pii.key"]  # no temporary file left behind
    assert pii.load_key(tmp_path / "other") != key  # each installation its own


def test_first_runs_at_once_agree_on_one_key(tmp_path, no_env_key):
    home = tmp_path / "home"
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(pii.load_key(home))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert keys[0] == pii.key_file(home).read_bytes().strip()


def test_environment_key_overrides_the_file(tmp_path, monkeypatch, no_env_key):
    home = tmp_path / "home"
    file_key = pii.load_key(home)
    monkeypatch.setenv(pii.KEY_ENV, "  a-key-from-the-environment-of-40-chars  ")
    assert pii.load_key(home) == b"a-key-from-the-environment-of-40-chars"
    assert pii.key_file(home).read_bytes().strip() == file_key  # untouched
    monkeypatch.setenv(pii.KEY_ENV, "too-short")
    with pytest.raises(pii.PiiKeyError, match="shorter than"):
        pii.load_key(home)


def test_fingerprint_follows_the_key_and_does_not_reveal_it(tmp_path, monkeypatch, no_env_key):
    home = tmp_path / "home"
    first = pii.key_fingerprint(home)
    assert first == pii.key_fingerprint(home)
    assert pii.load_key(home).decode() not in first
    monkeypatch.setenv(pii.KEY_ENV, "x" * 40)
    assert pii.key_fingerprint(home) != first  # rotating the key changes the project's fingerprint


def test_no_key_is_an_error_never_nulls_or_an_unkeyed_hash(tmp_path, monkeypatch, no_env_key):
    with pytest.raises(pii.PiiKeyError, match="no personal-data key"):
        pii.load_key(tmp_path / "home", create=False)
    con = duckdb.connect()  # a connection dbt's plugin never configured
    with pytest.raises(duckdb.Error, match="no personal-data key"):
        con.execute(f"SELECT {_macro_sql('v')} FROM (SELECT '+447700900001' AS v)").fetchall()
    monkeypatch.setenv(pii.KEY_ENV, "too-short")  # the plugin cannot load the key: the SQL says why
    with pytest.raises(duckdb.Error, match="shorter than 32"):
        _hash_in_duckdb(["+447700900001"])


def test_sql_hash_equals_python_hmac_and_is_stable_across_runs(tmp_path, monkeypatch, no_env_key):
    monkeypatch.setenv("CCQ_HOME", str(tmp_path / "home"))
    values = ["+447700900001", " CUST01 ", "王芳", "\u00a0Alice Example\u3000", "a\tb", "", "   ", None, "x" * 300]
    first = _hash_in_duckdb(values)  # generates the key
    key = pii.load_key()
    assert first == [pii.pseudonym(v, key) for v in values]
    assert first[0] == hmac.new(key, b"+447700900001", "sha256").hexdigest()
    assert first[5:8] == [None, None, None]
    assert _hash_in_duckdb(values) == first  # the next run: same key, same pseudonyms
    long_key = "k" * 100  # longer than SHA-256's block: HMAC hashes it first
    monkeypatch.setenv(pii.KEY_ENV, long_key)
    rotated = _hash_in_duckdb(values)
    assert rotated[0] == hmac.new(long_key.encode(), b"+447700900001", "sha256").hexdigest() != first[0]


def test_importing_touches_no_file(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != pii.KEY_ENV}
    env["CCQ_HOME"] = str(home)
    run = subprocess.run([sys.executable, "-c", "import ccq.pii, ccq.warehouse_plugin, ccq.fingerprint, ccq.ingest.landing"],
                         cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert not home.exists()


def test_dbt_finds_the_environment_key_through_the_profile(tmp_path, monkeypatch, no_env_key):
    """dbt itself (profile -> plugin -> macro), with CCQ_PII_KEY beating the working folder's file,
    and neither key in what dbt writes."""
    home = tmp_path / "home"
    file_key = pii.load_key(home)
    env_key = "an-environment-key-" + "0123456789abcdef" * 2
    monkeypatch.setenv("CCQ_HOME", str(home))
    monkeypatch.setenv(pii.KEY_ENV, env_key)
    work = tmp_path / "dbt"
    work.mkdir()
    run = run_dbt(work, "show", "--output", "json", "--inline", "select {{ hash_pii(\"' +447700900001 '\") }} as h")
    assert hmac.new(env_key.encode(), b"+447700900001", "sha256").hexdigest() in run.stdout
    assert hmac.new(file_key, b"+447700900001", "sha256").hexdigest() not in run.stdout
    leaks = _files_holding([work / "target", work / "logs"], [env_key.encode(), file_key, *pii.hmac_pads(env_key.encode())])
    assert not leaks, leaks


# --- (c) the key stays in its file --------------------------------------------------------

def _files_holding(roots: list[Path], secrets: list[bytes], skip: Path | None = None) -> list[str]:
    needles = set()
    for s in secrets:
        needles.update({s, s.hex().encode(), s.hex().upper().encode()})
    found, scanned = [], 0
    for root in roots:
        for f in [root] if root.is_file() else root.rglob("*"):
            if not f.is_file() or (skip is not None and skip in f.parents):
                continue
            data = f.read_bytes()
            scanned += 1
            found += [f"{f}: {n[:6]!r}..." for n in needles if n in data]
    assert scanned, roots
    return found


@pytest.mark.xdist_group("hand_built")
def test_key_is_in_no_file_of_the_working_folder_but_its_own(hand_built):
    paths, info = hand_built
    key = pii.load_key(paths.home, create=False)
    snapshot = Path(info["snapshot"])
    assert snapshot.is_file() and paths.home in snapshot.parents
    # dbt's target/ and logs/ of this run are in the working folder: dbt_target/<op>-<run id>/
    dbt_dirs = sorted(paths.dbt_target_dir.glob(f"*-{info['run_id'][:8]}"))
    assert {d.name.split("-")[0] for d in dbt_dirs} == {"warehouse_models", "certified_kpis"}
    assert all((d / "run_results.json").is_file() for d in dbt_dirs)
    leaks = _files_holding([paths.home], [key, *pii.hmac_pads(key)], skip=paths.secrets)
    assert not leaks, leaks


def test_the_plugin_refuses_a_warehouse_dbt_cannot_name(tmp_path, monkeypatch):
    """dbt names every relation with the catalog of the profile's placeholder (`ccq`), and DuckDB
    names a file's catalog after the file: another name would fail on the first model, so the
    plugin says so before opening it."""
    from types import SimpleNamespace

    from dbt_common.exceptions import DbtRuntimeError

    from ccq.warehouse_plugin import Plugin

    plugin = Plugin("warehouse_plugin", {})
    creds, config = SimpleNamespace(database="ccq", path="ccq.duckdb"), {}
    monkeypatch.setenv("CCQ_DUCKDB_PATH", str(tmp_path / "copy.duckdb"))
    with pytest.raises(DbtRuntimeError, match=r"copy\.duckdb: the warehouse file must be named ccq\.duckdb"):
        plugin.update_connection_config(creds, config)
    monkeypatch.setenv("CCQ_DUCKDB_PATH", str(tmp_path / "ccq.duckdb"))
    plugin.update_connection_config(creds, config)
    assert creds.path == str(tmp_path / "ccq.duckdb") and config["memory_limit"]
