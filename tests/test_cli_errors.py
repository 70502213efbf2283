"""Errors a person can read: a bad option or argument of `ccq` is one line naming it and what is
allowed, exit code 2, no traceback and no usage block; an error raised inside a command is one line
`ccq <command>: <message>`; `ccq refresh` with nothing to load says where files go and exits 0."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import cli, commands
from ccq.ingest.loader import LoadError


@pytest.fixture
def src(tmp_path) -> Path:
    """A file that exists, for the commands that need a PATH."""
    f = tmp_path / "queue_log"
    f.write_text("1772611200|c1|Q_GENERAL|NONE|ENTERQUEUE||1001|1\n", encoding="utf-8")
    return f


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The CLI points these at its home; restore them after the test."""
    for var in ("CCQ_HOME", "CCQ_DUCKDB_PATH", "DAGSTER_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "unused" / var.lower()))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:  # nothing may exit past main
        raise AssertionError(f"main exited with {e.code!r} instead of returning") from e
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code: int, out: str, err: str, expected_code: int = 2) -> str:
    assert code == expected_code, (code, out, err)
    assert out == ""
    assert "Traceback" not in err and "usage:" not in err.lower()
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


INGEST = ("ingest", "--format", "asterisk-queue-log", "--no-refresh")
TZ_HELP = "is not an IANA time zone name (e.g. Europe/London, Asia/Shanghai, UTC)"


@pytest.mark.parametrize("zone", ["../../etc/passwd", "Europe/Lon'don", "Mars/Olympus", "/etc/localtime",
                                  'Europe/"London"', "Europe/../Europe/London", "", "BST"])
def test_bad_time_zone(capsys, src, zone):
    line = one_line(*run(capsys, *INGEST, "--time-zone", zone, src))
    assert line == f"ccq ingest: --time-zone {zone!r} {TZ_HELP}"


def test_time_zone_message_as_documented(capsys, src):
    line = one_line(*run(capsys, *INGEST, "--time-zone", "Mars/Olympus", src))
    assert line == ("ccq ingest: --time-zone 'Mars/Olympus' is not an IANA time zone name "
                    "(e.g. Europe/London, Asia/Shanghai, UTC)")


def test_good_time_zones_and_encodings_pass(src):
    parse = cli.parse
    assert parse([*INGEST, "--time-zone", "Asia/Shanghai", str(src)])["time_zone"] == "Asia/Shanghai"
    assert parse([*INGEST, "--time-zone", "europe/london", str(src)])["time_zone"] == "Europe/London"
    assert parse([*INGEST, str(src)])["time_zone"] is None  # the configured site's zone, resolved by the adapter
    assert parse([*INGEST, "--encoding", "gb18030", str(src)])["encoding"] == "gb18030"
    args = parse(["backfill", "--from", "2026-03-01", "--to", "2026-03-04"])
    assert (args["start"], args["end"]) == ("2026-03-01", "2026-03-04")


@pytest.mark.parametrize("argv, option, allowed", [
    ((*INGEST, "--encoding", "klingon"), "--encoding 'klingon'", "is not a text encoding"),
    ((*INGEST, "--encoding", "rot13"), "--encoding 'rot13'", "is not a text encoding"),
    (("ingest", "--format", "nope"), "--format 'nope'", "is not one of 'amazon-connect', 'anonymous-bank'"),
    (("backfill", "--from", "2026-13-01", "--to", "2026-03-04"), "--from '2026-13-01'", "YYYY-MM-DD"),
    (("backfill", "--from", "2026-03-01", "--to", "yesterday"), "--to 'yesterday'", "YYYY-MM-DD"),
    (("kpis", "--period", "March"), "--period 'March'", "YYYY-MM-DD"),
    (("generate", "--start", "2026-02-30"), "--start '2026-02-30'", "YYYY-MM-DD"),
    (("app", "--port", "0"), "--port '0'", "1 to 65535"),
    (("app", "--port", "70000"), "--port '70000'", "1 to 65535"),
    (("dagster", "--port", "abc"), "--port 'abc'", "1 to 65535"),
    (("demo", "--port", "-1"), "--port '-1'", "1 to 65535"),
    (("generate", "--days", "0"), "--days '0'", "1 or more"),
    (("generate", "--agents", "-5"), "--agents '-5'", "1 or more"),
    (("demo", "--queues", "x"), "--queues 'x'", "1 or more"),
    (("status", "--runs", "0"), "--runs '0'", "1 or more"),
    (("kpis", "--grain", "year"), "--grain 'year'", "is not one of 'interval', 'interval_30', 'hour'"),
])
def test_bad_option(capsys, src, argv, option, allowed):
    argv = (*argv, src) if argv[0] == "ingest" and "nope" not in argv else argv
    line = one_line(*run(capsys, *argv))
    assert line.startswith(f"ccq {argv[0]}: {option}"), line
    assert allowed in line


def test_ingest_path_that_does_not_exist(capsys, tmp_path):
    missing = tmp_path / "no" / "queue_log"
    line = one_line(*run(capsys, *INGEST, missing))
    assert line == f"ccq ingest: PATH {str(missing)!r} does not exist (give the files or folders to read)"


def test_from_after_to(capsys, env):
    line = one_line(*run(capsys, "backfill", "--from", "2026-03-05", "--to", "2026-03-01"))
    assert line == "ccq backfill: --from 2026-03-05 is after --to 2026-03-01"


def test_raw_only_with_csv(capsys, env):
    line = one_line(*run(capsys, "kpis", "--raw"))
    assert line == "ccq kpis: --raw goes with --format csv only"


@pytest.mark.parametrize("argv, expected", [
    (("frobnicate",), "ccq: no such command 'frobnicate'"),
    (("kpis", "--bogus"), "ccq kpis: no such option '--bogus'"),
    (("ingest", "/tmp"), "ccq ingest: missing option --format"),
    (("ingest", "--format", "contract"), "ccq ingest: missing argument PATH"),
    ((), "ccq: missing command (ccq --help lists them)"),
])
def test_unknown_or_missing(capsys, argv, expected):
    assert one_line(*run(capsys, *argv)).startswith(expected)


@pytest.mark.parametrize("error", [LoadError("acd_queue_events_x.csv: not a contract file name"),
                                   ValueError("acd_queue_events_x.csv: not a contract file name"),
                                   SystemExit("acd_queue_events_x.csv: not a contract file name")])
def test_errors_inside_a_command_are_one_line(capsys, monkeypatch, error):
    def command(args):
        raise error

    monkeypatch.setattr(commands, "cmd_contract", command)
    line = one_line(*run(capsys, "contract"), expected_code=1)
    assert line == "ccq contract: acd_queue_events_x.csv: not a contract file name"


def test_contract_files_in_another_encoding_go_through_the_loaders_transcoder(capsys, tmp_path, env):
    """`ccq ingest --format contract --encoding gb18030` converts as the loader does: the file
    is copied, and the value with bytes not valid GB18030 is quarantined at load with its file,
    line and field, while the rest of the file loads."""
    import duckdb as db

    from ccq.ingest import ensure_warehouse
    from ccq.ingest.loader import load_file

    f = tmp_path / "in" / "hr_roster_2026-03-02.csv"
    f.parent.mkdir()
    header = b"agent_id,agent_name,team_id,supervisor_id,site_id,hire_date,leave_date,employment_type,weekly_hours,snapshot_date\n"
    f.write_bytes(header + "A0001,王芳,T01,S001,LON,2025-01-06,,FT,37.5,2026-03-02\n".encode("gb18030")
                  + b"A0002,\xff\xfe,T01,S001,LON,2025-01-06,,FT,37.5,2026-03-02\n")
    code, out, err = run(capsys, "--home", tmp_path / "home", "ingest", "--format", "contract", "--encoding", "gb18030",
                         "--no-refresh", f)
    assert code == 0, err
    landed = tmp_path / "home" / "landing" / "hr_roster" / f.name
    with db.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_warehouse(con)
        result = load_file(con, landed)
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
        assert con.execute("SELECT agent_name FROM raw.hr_roster").fetchall() == [("王芳",)]
        assert con.execute("SELECT line_no, field, rule, message FROM audit.quarantine").fetchall() == [
            (3, "agent_name", "encoding", "hr_roster_2026-03-02.csv line 3: agent_name: bytes that are not valid in the encoding "
                                          "the file was converted from "
                                          "(shown as U+FFFD): '\ufffd\ufffd'")]


def _ccq(*argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CCQ_HOME", "CCQ_DUCKDB_PATH", "DAGSTER_HOME")}
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *argv], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.parametrize("warehouse", ["none", "empty"])
def test_refresh_with_nothing_to_load(tmp_path, warehouse):
    home = tmp_path / "home"
    if warehouse == "empty":  # a warehouse file that never loaded anything
        (home / "warehouse").mkdir(parents=True)
        duckdb.connect(str(home / "warehouse" / "ccq.duckdb")).close()
    r = _ccq("--home", str(home), "refresh")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "does not exist" not in r.stdout + r.stderr
    assert "nothing to load" in r.stdout
    assert str(home / "landing") in r.stdout
    assert "<table>/<table>_<YYYY-MM-DD>.csv" in r.stdout and "ccq ingest" in r.stdout
    assert not list((home / "publish").glob("ccq-*.duckdb")), "nothing was built or published"


def test_engine_option(capsys, env, monkeypatch):
    monkeypatch.setenv("CCQ_SPARK_PYTHON", "/nowhere/bin/python")
    assert one_line(*run(capsys, "--engine", "spark", "status")) == (
        "ccq: --engine spark: the Spark engine's environment is missing (/nowhere/bin/ccq-spark-dbt); "
        "`./dev ccq --engine spark ...` makes .venv-spark, or set CCQ_SPARK_PYTHON")
    assert one_line(*run(capsys, "--engine", "sparky", "status")) == "ccq: --engine 'sparky' is not one of 'duckdb', 'spark'"
    # The environment's engine is checked as the option is.
    monkeypatch.setenv("CCQ_ENGINE", "spark")
    assert one_line(*run(capsys, "status")).startswith("ccq: --engine spark: the Spark engine's environment is missing")
