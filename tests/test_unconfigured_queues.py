"""A centre's own queue names work on the first try: queues and sites the seeds have never seen
are registered from the data, measured with the default definition, published uncertified with
the reason, listed by `ccq status` and the data-trust page, and `ccq configure --write-missing`
writes the seed rows to review. One truth for time zones: a site's zone, from --time-zone or
the configuration, and an error naming both when they disagree.

The Asterisk fixture (tests/fixtures/asterisk/queue_log, see its README) with Q_GENERAL renamed
`support` and Q_BILLING renamed to a name that looks like SQL; Q_PREMIUM stays configured (LON,
Europe/London). Defaults (dbt_project.yml queue_defaults): service level at 20 s, short abandon
under 5 s: Q_GENERAL's and Q_BILLING's own values, so the hand computation of
tests/test_adapter_asterisk.py holds for them:
  support   offered 8, answered 5, abandoned 2 (1 short); SL 4/6; abandonment 1/7; ASA 55/5; AHT 840/5
  SQL queue offered 3, answered 1; SL 1/1; abandonment 0/3; ASA 15/1; AHT 180/1
Plus a GB18030 queue_log ingested with --time-zone Asia/Shanghai (UTC+8, no DST), queue 客服热线:
  s1 enters 15:50:00 UTC = 23:50 on 14 Jan in Shanghai, answered after 25 s, talk 60 s (agent hangs up)
  s2 enters 16:30:00 UTC = 00:30 on 15 Jan, answered after 8 s, talk 120 s
  s3 enters 16:40:00 UTC = 00:40 on 15 Jan, abandons after 30 s
  In Shanghai's calendar: 14 Jan offered 1, answered 1, SL 0/1, ASA 25, AHT 60;
  15 Jan offered 2, answered 1, abandoned 1, SL 1/2, abandonment 1/2, ASA 8, AHT 120.
  (Read in London's calendar all three would fall on 14 Jan.)
Centre, 14 Jan: every queue's legs on their queue's own local day (the centre adds the sites'
calendars), so s1 and not s2, s3: the fixture's 14 offered, 9 answered, 2 abandoned (1 short), plus s1:
  offered 15, answered 10; SL = (7 + 0) / (10 + 2 - 1) = 7/11; abandonment = (2 - 1) / (15 - 1) = 1/14;
  ASA = (100 + 25) / 10; AHT = (1680 + 60) / 10. Centre, 15 Jan: s2 and s3, as the queue.
Site LON, 14 Jan: support, the SQL queue and Q_PREMIUM: the fixture's centre, offered 14, SL 7/10.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from tests.conftest import restored_env, run_pipeline

pytestmark = pytest.mark.xdist_group("unconfigured_queues")

FIXTURES = Path(__file__).parent / "fixtures"
QUEUE_LOG = FIXTURES / "asterisk" / "queue_log"
SQL_QUEUE = "x'; DROP TABLE raw.acd_queue_events; --"
HOTLINE = "客服热线"
SHANGHAI = "Asia/Shanghai"
DAY, DAY2 = "2026-01-14", "2026-01-15"
NOW = "2026-01-16T12:00:00"
T0 = 1768348800  # 2026-01-14 00:00:00 UTC
SHANGHAI_LOG = "\n".join([
    f"{T0 + 57000}|{T0 + 57000}.301|{HOTLINE}|NONE|ENTERQUEUE||13800138001|1",
    f"{T0 + 57025}|{T0 + 57000}.301|{HOTLINE}|李娜|CONNECT|25|{T0 + 57020}.302|5",
    f"{T0 + 57085}|{T0 + 57000}.301|{HOTLINE}|李娜|COMPLETEAGENT|25|60|1",
    f"{T0 + 59400}|{T0 + 59400}.303|{HOTLINE}|NONE|ENTERQUEUE||13800138002|1",
    f"{T0 + 59408}|{T0 + 59400}.303|{HOTLINE}|李娜|CONNECT|8|{T0 + 59405}.304|3",
    f"{T0 + 59528}|{T0 + 59400}.303|{HOTLINE}|李娜|COMPLETECALLER|8|120|1",
    f"{T0 + 60000}|{T0 + 60000}.305|{HOTLINE}|NONE|ENTERQUEUE||13800138003|1",
    f"{T0 + 60030}|{T0 + 60000}.305|{HOTLINE}|NONE|ABANDON|1|1|30",
]) + "\n"

EXPECTED = {  # (kpi, day, scope_id) -> (numerator, denominator)
    ("offered", DAY, "support"): (8, None), ("answered", DAY, "support"): (5, None),
    ("abandoned", DAY, "support"): (2, None), ("service_level", DAY, "support"): (4, 6),
    ("abandonment_rate", DAY, "support"): (1, 7), ("asa", DAY, "support"): (55, 5), ("aht", DAY, "support"): (840, 5),
    ("offered", DAY, SQL_QUEUE): (3, None), ("answered", DAY, SQL_QUEUE): (1, None),
    ("service_level", DAY, SQL_QUEUE): (1, 1), ("abandonment_rate", DAY, SQL_QUEUE): (0, 3),
    ("asa", DAY, SQL_QUEUE): (15, 1), ("aht", DAY, SQL_QUEUE): (180, 1),
    ("offered", DAY, HOTLINE): (1, None), ("answered", DAY, HOTLINE): (1, None),
    ("service_level", DAY, HOTLINE): (0, 1), ("asa", DAY, HOTLINE): (25, 1), ("aht", DAY, HOTLINE): (60, 1),
    ("offered", DAY2, HOTLINE): (2, None), ("answered", DAY2, HOTLINE): (1, None),
    ("abandoned", DAY2, HOTLINE): (1, None), ("service_level", DAY2, HOTLINE): (1, 2),
    ("abandonment_rate", DAY2, HOTLINE): (1, 2), ("asa", DAY2, HOTLINE): (8, 1), ("aht", DAY2, HOTLINE): (120, 1),
    ("offered", DAY2, SHANGHAI): (2, None), ("service_level", DAY2, SHANGHAI): (1, 2),
    ("offered", DAY, "LON"): (14, None), ("service_level", DAY, "LON"): (7, 10),
    ("offered", DAY, "*"): (15, None), ("answered", DAY, "*"): (10, None), ("abandoned", DAY, "*"): (2, None),
    ("service_level", DAY, "*"): (7, 11), ("abandonment_rate", DAY, "*"): (1, 14),
    ("asa", DAY, "*"): (125, 10), ("aht", DAY, "*"): (1740, 10),
    ("offered", DAY2, "*"): (2, None), ("service_level", DAY2, "*"): (1, 2), ("aht", DAY2, "*"): (120, 1),
}


@pytest.fixture(autouse=True)
def _restore_env():
    """`ccq` commands run in-process point the environment at their home: put it back after."""
    with restored_env():
        yield


def renamed_queue_log(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for f in QUEUE_LOG.iterdir():
        text = f.read_text(encoding="utf-8")
        (folder / f.name).write_text(text.replace("|Q_GENERAL|", "|support|").replace("|Q_BILLING|", f"|{SQL_QUEUE}|"),
                                     encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("unconfigured")
    home = work / "home"
    london = renamed_queue_log(work / "london")
    shanghai = work / "shanghai" / "queue_log"
    shanghai.parent.mkdir()
    shanghai.write_bytes(SHANGHAI_LOG.encode("gb18030"))
    with restored_env():
        assert main(["--home", str(home), "ingest", "--format", "asterisk-queue-log", "--no-refresh", str(london)]) == 0
        assert main(["--home", str(home), "ingest", "--format", "asterisk-queue-log", "--encoding", "gb18030",
                     "--time-zone", SHANGHAI, "--no-refresh", str(shanghai)]) == 0
        (work / "nothing-more").mkdir()
        paths, info = run_pipeline(home, work / "nothing-more", NOW)  # the ingests' landing files are in home
    yield work, paths, info
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def kpis(built):
    _, _, info = built
    con = duckdb.connect(info["snapshot"], read_only=True)
    rows = con.execute(
        """SELECT kpi, strftime(period_start, '%Y-%m-%d'), scope_id, numerator, denominator, certified, certification_reason
           FROM marts.kpi_values WHERE grain = 'day'"""
    ).fetchall()
    con.close()
    return {(r[0], r[1], r[2]): r[3:] for r in rows}


def test_the_scopes_were_registered_where_their_files_were_ingested(built):
    _, paths, _ = built
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        assert con.execute("SELECT queue_id, site_id FROM audit.ingested_queues ORDER BY 1").fetchall() == sorted(
            [("Q_PREMIUM", "LON"), ("support", "LON"), (SQL_QUEUE, "LON"), (HOTLINE, SHANGHAI)])
        assert con.execute("SELECT site_id, time_zone FROM audit.ingested_sites ORDER BY 1").fetchall() == [
            (SHANGHAI, SHANGHAI), ("LON", "Europe/London")]
        # The SQL-looking name is data: the raw table it names is still there, and holds it.
        assert con.execute("SELECT count(*) FROM raw.acd_queue_events WHERE queue_id = ?", [SQL_QUEUE]).fetchone()[0] > 0
    finally:
        con.close()


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: "-".join(k))
def test_kpis_of_unconfigured_queues_are_published_as_computed_by_hand(kpis, key):
    got = kpis.get(key)
    assert got is not None, f"missing KPI row {key}"
    assert got[:2] == EXPECTED[key]


def test_they_are_uncertified_with_what_is_missing_and_how_to_add_it(kpis):
    note = ("queue support is not configured in seeds/queues.csv; defaults used: service level at 20 s, short "
            "abandon under 5 s, FCR window 7 days, occupancy cap 85%, Erlang C staffing model, site LON; add it with "
            "`ccq configure --write-missing`")
    certified, reason = kpis[("service_level", DAY, "support")][2:]
    assert certified is False and note in reason
    assert kpis[("offered", DAY, SQL_QUEUE)][2] is False
    assert f"queue {SQL_QUEUE} is not configured" in kpis[("offered", DAY, SQL_QUEUE)][3]
    site_note = f"site {SHANGHAI} is not configured in seeds/sites.csv; its calendar is drawn in {SHANGHAI}"
    assert site_note in kpis[("offered", DAY2, SHANGHAI)][3]
    for scope in ("*", "LON"):
        certified, reason = kpis[("offered", DAY, scope)][2:]
        assert certified is False and "includes queue support, which is not configured (defaults used)" in reason
    # A configured queue is not blamed for its neighbours.
    assert "not configured" not in (kpis[("offered", DAY, "Q_PREMIUM")][3] or "")


def test_dimensions_are_published_with_their_configuration(built):
    _, _, info = built
    con = duckdb.connect(info["snapshot"], read_only=True)
    try:
        assert con.execute(
            "SELECT queue_id, site_id, time_zone, is_configured FROM marts.dim_queues WHERE queue_id IN (?, ?, ?, ?) "
            "ORDER BY queue_id", ["support", SQL_QUEUE, HOTLINE, "Q_PREMIUM"]).fetchall() == sorted([
                ("Q_PREMIUM", "LON", "Europe/London", True), ("support", "LON", "Europe/London", False),
                (SQL_QUEUE, "LON", "Europe/London", False), (HOTLINE, SHANGHAI, SHANGHAI, False)])
        assert con.execute("SELECT site_id, time_zone FROM marts.dim_sites WHERE NOT is_configured").fetchall() == [
            (SHANGHAI, SHANGHAI)]
    finally:
        con.close()


def test_status_lists_them(built):
    from dagster import DagsterInstance

    from orchestration.status import status

    work, paths, _ = built
    (work / "dagster-status").mkdir(exist_ok=True)
    st = status(paths, DagsterInstance.local_temp(str(work / "dagster-status")))
    assert st["unconfigured"] == sorted([
        ("queue", "support", "LON", "Europe/London"), ("queue", SQL_QUEUE, "LON", "Europe/London"),
        ("queue", HOTLINE, SHANGHAI, SHANGHAI), ("site", SHANGHAI, None, SHANGHAI)])


def test_configure_write_missing_appends_the_rows_to_review(built, tmp_path, monkeypatch, capsys):
    import ccq.reference as reference

    work, paths, _ = built
    seeds = tmp_path / "seeds"
    shutil.copytree(reference.SEEDS_DIR, seeds)
    before = {n: (seeds / f"{n}.csv").read_text(encoding="utf-8") for n in ("queues", "sites", "queue_parameters")}
    monkeypatch.setattr(reference, "SEEDS_DIR", seeds)
    reference.seed_rows.cache_clear()
    try:
        assert main(["--home", str(paths.home), "configure"]) == 0
        listed = capsys.readouterr().out
        assert "seeds/queues.csv: 3 row(s) missing" in listed and "--write-missing" in listed
        assert {n: (seeds / f"{n}.csv").read_text(encoding="utf-8") for n in before} == before  # a listing writes nothing

        assert main(["--home", str(paths.home), "configure", "--write-missing"]) == 0
        assert "seeds/sites.csv: 1 row(s) appended" in capsys.readouterr().out

        def added(name):
            with (seeds / f"{name}.csv").open(encoding="utf-8", newline="") as f:
                rows = list(csv.DictReader(f))
            return rows[len(list(csv.DictReader(before[name].splitlines()))):]

        assert added("sites") == [{"site_id": SHANGHAI, "site_name": SHANGHAI, "time_zone": SHANGHAI, "country_code": ""}]
        assert [(r["queue_id"], r["site_id"], r["direction"]) for r in added("queues")] == sorted(
            [("support", "LON", "inbound"), (SQL_QUEUE, "LON", "inbound"), (HOTLINE, SHANGHAI, "inbound")])
        assert [(r["queue_id"], r["sl_threshold_seconds"], r["short_abandon_seconds"], r["erlang_model"])
                for r in added("queue_parameters")] == sorted(
            [("support", "20", "5", "erlang_c"), (SQL_QUEUE, "20", "5", "erlang_c"), (HOTLINE, "20", "5", "erlang_c")])
        # Nothing left to add: a second run appends nothing.
        assert main(["--home", str(paths.home), "configure", "--write-missing"]) == 0
        assert "Every queue and site in the published data is configured" in capsys.readouterr().out
    finally:
        reference.seed_rows.cache_clear()


# ---------------------------------------------------------------- one truth for time zones

def test_a_time_zone_that_contradicts_a_configured_site_is_an_error_naming_both(tmp_path, capsys):
    log = tmp_path / "queue_log"
    log.write_text(f"{T0 + 36000}|{T0 + 36000}.9|Q_PREMIUM|NONE|ENTERQUEUE||447700900999|1\n", encoding="utf-8")
    code = main(["--home", str(tmp_path / "home"), "ingest", "--format", "asterisk-queue-log", "--time-zone", SHANGHAI,
                 "--no-refresh", str(log)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert f"--time-zone {SHANGHAI} contradicts site LON of queue Q_PREMIUM" in err and "Europe/London" in err
    # Nothing was kept: the same file with the right zone ingests.
    assert main(["--home", str(tmp_path / "home"), "ingest", "--format", "asterisk-queue-log", "--time-zone",
                 "Europe/London", "--no-refresh", str(log)]) == 0


def test_an_unconfigured_queue_keeps_the_zone_it_was_first_ingested_in(tmp_path, capsys):
    home = str(tmp_path / "home")
    first, second = tmp_path / "a" / "queue_log", tmp_path / "b" / "queue_log"
    for f, t in ((first, T0 + 36000), (second, T0 + 40000)):
        f.parent.mkdir()
        f.write_text(f"{t}|{t}.9|support|NONE|ENTERQUEUE||447700900999|1\n", encoding="utf-8")
    assert main(["--home", home, "ingest", "--format", "asterisk-queue-log", "--no-refresh", str(first)]) == 0
    capsys.readouterr()
    assert main(["--home", home, "ingest", "--format", "asterisk-queue-log", "--time-zone", SHANGHAI,
                 "--no-refresh", str(second)]) == 1
    err = capsys.readouterr().err
    assert f"--time-zone {SHANGHAI} contradicts site LON of queue support" in err and "Europe/London" in err


def test_the_bank_reads_in_its_own_site_zone_and_refuses_another(tmp_path, capsys):
    from ccq.ingest.adapters.registry import resolve_time_zone

    assert resolve_time_zone("anonymous-bank", None) == "Asia/Jerusalem"
    assert resolve_time_zone("anonymous-bank", "Asia/Jerusalem") == "Asia/Jerusalem"
    with pytest.raises(ValueError, match="--time-zone Europe/London contradicts site AB, configured in seeds/sites.csv "
                                         "with time zone Asia/Jerusalem"):
        resolve_time_zone("anonymous-bank", "Europe/London")
    # Other formats: the zone given, else the default site's (LON).
    assert resolve_time_zone("asterisk-cdr", None) == "Europe/London"
    assert resolve_time_zone("asterisk-cdr", SHANGHAI) == SHANGHAI
