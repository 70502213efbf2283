"""The demo generator writes contract-conformant daily extracts of a plausible call centre."""
from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ccq.contract import tables
from ccq.generator import DemoConfig, generate

START = date(2024, 3, 30)  # spans the UK clock change (31 March) and a month start
SMALL = DemoConfig(start_date=START, days=3, agents=20, queues=3, seed=7)
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAIN_TIME = {
    "acd_queue_events": "event_at", "agent_state_events": "event_at", "pbx_call_legs": "started_at",
    "ivr_sessions": "entered_at", "crm_cases": "updated_at", "crm_interactions": "created_at",
    "crm_complaints": "received_at", "qa_evaluations": "evaluated_at", "wfm_schedules": "schedule_date",
    "wfm_forecasts": "interval_start", "hr_roster": "snapshot_date", "hr_training": "started_at",
    "hr_staff_survey": "survey_date",
}


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    summary = generate(out, SMALL)
    assert summary.files > 0 and summary.rows["acd_queue_events"] > 0
    return out


@pytest.fixture(scope="module")
def bigger(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bigger")
    generate(out, DemoConfig(start_date=date(2024, 5, 6), days=7, agents=45, queues=3, seed=11))
    return out


def read(landing: Path, table: str) -> pd.DataFrame:
    """Every file of a table as text (empty field = null), with the file's day."""
    return _read(str(landing), table).copy()


@lru_cache(maxsize=None)
def _read(landing: str, table: str) -> pd.DataFrame:
    con = duckdb.connect()
    df = con.sql(
        f"select * from read_csv('{landing}/{table}/*.csv', header=true, all_varchar=true, filename=true)"
    ).df()
    df["_day"] = df["filename"].str.extract(r"_(\d{4}-\d{2}-\d{2})\.csv$")[0]
    return df.drop(columns="filename")


def ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="%Y-%m-%dT%H:%M:%SZ")


def all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.csv"))}


def test_every_table_has_a_file_per_day_with_the_contract_header(landing):
    days = [(START + timedelta(days=i)).isoformat() for i in range(SMALL.days)]
    for name, t in tables().items():
        files = sorted((landing / name).glob("*.csv"))
        expected = ["2024-03-30", "2024-04-01"] if name == "finance_costs" else days
        assert [f.name for f in files] == [f"{name}_{d}.csv" for d in expected], name
        for f in files:
            header = f.read_text(encoding="utf-8").split("\n", 1)[0]
            assert header == ",".join(t.column_names), f.name
    assert not list(landing.rglob("*.partial"))


def test_values_respect_the_contract(landing):
    for name, t in tables().items():
        df = read(landing, name)
        assert len(df) > 0 or name in ("hr_staff_survey",), f"{name} is empty"
        for c in t.columns:
            col = df[c.name]
            present = col.dropna()
            if c.required:
                assert col.notna().all(), f"{name}.{c.name} has nulls"
            if c.allowed:
                assert set(present) <= set(c.allowed), f"{name}.{c.name}: {set(present) - set(c.allowed)}"
            if c.data_type == "TIMESTAMP":
                assert present.str.match(TS.pattern).all(), f"{name}.{c.name} format"
            elif c.data_type == "DATE":
                assert present.str.match(DATE.pattern).all(), f"{name}.{c.name} format"
            elif c.data_type == "BOOLEAN":
                assert set(present) <= {"true", "false"}, f"{name}.{c.name}"
            elif c.data_type in ("INTEGER", "BIGINT", "DOUBLE"):
                num = pd.to_numeric(present, errors="raise")
                if c.data_type != "DOUBLE":
                    assert (num == np.floor(num)).all()
                if c.min is not None:
                    assert (num >= c.min).all(), f"{name}.{c.name} below {c.min}"
                if c.max is not None:
                    assert (num <= c.max).all(), f"{name}.{c.name} above {c.max}"


def test_keys_are_unique_and_rows_sit_in_the_file_of_their_day(landing):
    for name, t in tables().items():
        df = read(landing, name)
        if name in ("crm_cases", "survey_responses", "hr_roster"):
            # re-delivered per day by design: unique within a file, latest wins across files
            assert not df.duplicated(list(t.key) + ["_day"]).any(), name
        else:
            assert not df.duplicated(list(t.key)).any(), name
        col = MAIN_TIME.get(name)
        if col and len(df):
            assert (df[col].str[:10] == df["_day"]).all(), name
    s = read(landing, "survey_responses")
    assert ((s["sent_at"].str[:10] == s["_day"]) | (s["responded_at"].str[:10] == s["_day"])).all()
    f = read(landing, "finance_costs")
    assert (f["period_month"] == f["_day"].str[:8] + "01").all()


def test_same_seed_same_bytes_other_seed_differs(landing, tmp_path):
    generate(tmp_path / "again", SMALL)
    assert all_files(tmp_path / "again") == all_files(landing)
    other = DemoConfig(start_date=START, days=SMALL.days, agents=SMALL.agents, queues=SMALL.queues, seed=8)
    generate(tmp_path / "other", other)
    assert all_files(tmp_path / "other") != all_files(landing)


def _legs(ev: pd.DataFrame) -> pd.DataFrame:
    ev = ev.assign(t=ts(ev["event_at"]), leg=ev["queue_leg"].astype(int))
    g = ev.groupby(["contact_id", "leg"])
    first = lambda kind: ev[ev.event_type == kind].groupby(["contact_id", "leg"])["t"].min()  # noqa: E731
    legs = pd.DataFrame({
        "q": ev[ev.event_type == "ENTERQUEUE"].groupby(["contact_id", "leg"])["queue_id"].first(),
        "enter": first("ENTERQUEUE"), "connect": first("CONNECT"), "abandon": first("ABANDON"),
        "exit": first("EXITTIMEOUT"), "talk_end": ev[ev.event_type.isin(["COMPLETE", "TRANSFER"])]
        .groupby(["contact_id", "leg"])["t"].min(), "acw_end": first("ACWEND"),
        "agent": ev[ev.event_type == "CONNECT"].groupby(["contact_id", "leg"])["agent_id"].first(),
        "first_type": g["event_type"].first(), "n": g.size(),
    })
    return legs.reset_index()


def test_queue_events_follow_the_leg_life_cycle(landing):
    ev = read(landing, "acd_queue_events")
    legs = _legs(ev)
    assert (legs["first_type"] == "ENTERQUEUE").all()
    ends = legs[["connect", "abandon", "exit"]].notna().sum(axis=1)
    assert (ends <= 1).all()
    con = legs[legs.connect.notna()]
    assert (con.connect >= con.enter).all()
    done = con[con.talk_end.notna()]
    assert (done.talk_end >= done.connect).all()
    with_acw = done[done.acw_end.notna()]
    assert (with_acw.acw_end >= with_acw.talk_end).all()
    assert legs.abandon.notna().any() and (legs.abandon.dropna() >= legs.enter[legs.abandon.notna()]).all()
    # holds sit between CONNECT and the end of talk, in HOLD/UNHOLD pairs
    h = ev[ev.event_type.isin(["HOLD", "UNHOLD"])].assign(t=lambda d: ts(d.event_at), leg=lambda d: d.queue_leg.astype(int))
    h = h.merge(legs, left_on=["contact_id", "leg"], right_on=["contact_id", "leg"])
    h = h[h.talk_end.notna()]
    assert ((h.t >= h.connect) & (h.t <= h.talk_end)).all()
    counts = h.groupby(["contact_id", "leg", "event_type"]).size().unstack(fill_value=0)
    assert (counts["HOLD"] == counts["UNHOLD"]).all()
    # agent on every agent event, never on ENTERQUEUE / ABANDON / EXITTIMEOUT
    assert ev.loc[ev.event_type.isin(["CONNECT", "COMPLETE", "TRANSFER", "ACWEND", "RINGNOANSWER"]), "agent_id"].notna().all()
    assert ev.loc[ev.event_type.isin(["ENTERQUEUE", "ABANDON", "EXITTIMEOUT"]), "agent_id"].isna().all()
    assert set(ev.loc[ev.event_type == "COMPLETE", "detail"]) <= {"caller", "agent"}
    assert (ev.loc[ev.event_type == "EXITTIMEOUT", "detail"] == "timeout").all()


def test_transfers_and_overflows_open_the_next_leg(bigger):
    ev = read(bigger, "acd_queue_events")
    legs = _legs(ev).set_index(["contact_id", "leg"])
    xfer = ev[ev.event_type == "TRANSFER"].assign(leg=lambda d: d.queue_leg.astype(int))
    assert len(xfer) > 0
    ovf = ev[ev.event_type == "EXITTIMEOUT"].assign(leg=lambda d: d.queue_leg.astype(int))
    assert len(ovf) > 0
    last_day = (date(2024, 5, 6) + timedelta(days=6)).isoformat()
    for frame, target in ((xfer, "detail"), (ovf, None)):
        for row in frame.itertuples():
            nxt = (row.contact_id, row.leg + 1)
            if nxt not in legs.index:
                assert row.event_at[:10] == last_day  # its next leg falls after the generated range
                continue
            assert legs.loc[nxt, "enter"] >= ts(pd.Series([row.event_at]))[0]
            if target:
                assert legs.loc[nxt, "q"] == row.detail
            else:
                assert legs.loc[nxt, "q"] != row.queue_id


def test_no_agent_is_on_two_calls_and_calls_happen_while_ready(bigger):
    legs = _legs(read(bigger, "acd_queue_events"))
    busy = legs[legs.connect.notna() & legs.acw_end.notna()].sort_values(["agent", "connect"])
    prev_end = busy.groupby("agent")["acw_end"].shift()
    assert not (busy.connect < prev_end).any()
    st = read(bigger, "agent_state_events").assign(t=lambda d: ts(d.event_at))
    order = {"LOGIN": 0, "READY": 1, "NOT_READY": 2, "LOGOUT": 3}
    st = st.assign(o=st.state.map(order)).sort_values(["agent_id", "t", "o"])
    st["next_state"] = st.groupby("agent_id")["state"].shift(-1)
    allowed = {("LOGIN", "READY"), ("READY", "NOT_READY"), ("NOT_READY", "READY"), ("READY", "LOGOUT"),
               ("NOT_READY", "NOT_READY"), ("LOGOUT", "LOGIN")}
    pairs = set(zip(st.state, st.next_state.dropna().reindex(st.index)))
    pairs = {p for p in pairs if isinstance(p[1], str)}
    assert pairs <= allowed, pairs - allowed
    assert st.loc[st.state == "NOT_READY", "reason"].notna().all()
    assert st.loc[st.state != "NOT_READY", "reason"].isna().all()
    # each CONNECT falls inside one of the agent's READY spans
    ready = st[st.state == "READY"][["agent_id", "t"]].rename(columns={"t": "ready_at"})
    nxt = st.groupby("agent_id")["t"].shift(-1)
    ready["until"] = nxt[st.state == "READY"].values
    c = busy[["agent", "connect"]].sort_values("connect")
    m = pd.merge_asof(c, ready.sort_values("ready_at"), left_on="connect", right_on="ready_at",
                      left_by="agent", right_by="agent_id", direction="backward")
    inside = (m.connect >= m.ready_at) & (m.connect < m.until.fillna(pd.Timestamp.max))
    assert inside.mean() > 0.999


def test_abandonment_rises_with_waiting(bigger):
    legs = _legs(read(bigger, "acd_queue_events"))
    legs = legs[legs.connect.notna() | legs.abandon.notna()]
    legs["wait"] = (legs.connect.fillna(legs.abandon) - legs.enter).dt.total_seconds()
    legs["interval"] = legs.enter.dt.floor("30min")
    per = legs.groupby(["q", "interval"]).agg(n=("wait", "size"), wait=("wait", "mean"),
                                             ab=("abandon", lambda s: s.notna().mean()))
    per = per[per.n >= 10]
    low, high = per.wait.quantile([0.25, 0.75])
    assert per[per.wait >= high].ab.mean() > 2 * per[per.wait <= low].ab.mean()
    assert 0.0 < legs.abandon.notna().mean() < 0.2


def test_contacts_agree_across_systems(landing):
    ev = read(landing, "acd_queue_events")
    ivr = read(landing, "ivr_sessions")
    pbx = read(landing, "pbx_call_legs")
    acd_contacts = set(ev.contact_id)
    assert acd_contacts <= set(ivr.loc[ivr.outcome == "TO_AGENT", "contact_id"])
    assert set(ivr.contact_id) <= set(pbx.loc[pbx.direction == "inbound", "call_id"])
    assert {"SELF_SERVED", "HANGUP", "TO_AGENT"} <= set(ivr.outcome)
    assert (ts(pbx.ended_at) >= ts(pbx.started_at)).all()
    assert (ts(ivr.exited_at) >= ts(ivr.entered_at)).all()
    blocked = pbx[pbx.disposition.isin(["BUSY", "CONGESTION", "FAILED"]) & (pbx.direction == "inbound")]
    assert blocked.answered_at.isna().all()
    # one phone number per customer, wherever the customer shows up
    enter = ev[ev.event_type == "ENTERQUEUE"].dropna(subset=["customer_id", "caller_number"])
    pairs = pd.concat([enter[["customer_id", "caller_number"]],
                       ivr.dropna(subset=["customer_id", "caller_number"])[["customer_id", "caller_number"]]])
    assert (pairs.groupby("customer_id")["caller_number"].nunique() == 1).all()
    # every CRM interaction is a handled leg of that agent
    it = read(landing, "crm_interactions")
    handled = set(zip(ev.loc[ev.event_type == "CONNECT", "contact_id"], ev.loc[ev.event_type == "CONNECT", "agent_id"]))
    assert set(zip(it.contact_id, it.agent_id)) <= handled
    sched = read(landing, "wfm_schedules")
    assert (ts(sched.ends_at) > ts(sched.starts_at)).all()
    tr = read(landing, "hr_training")
    assert (ts(tr.ended_at) >= ts(tr.started_at)).all()


def test_roster_is_a_daily_snapshot_with_utf8_names(landing):
    ro = read(landing, "hr_roster")
    by_day = [set(g.agent_id) for _, g in ro.groupby("_day")]
    assert all(a <= b for a, b in zip(by_day, by_day[1:]))  # everyone ever employed stays listed
    assert (ro.snapshot_date == ro._day).all()
    assert (ro.leave_date.dropna() >= ro.hire_date[ro.leave_date.notna()]).all()
    assert ro.agent_name.map(lambda s: not s.isascii()).any()
    assert ro.supervisor_id.str.match(r"^S\d{3}$").all()
    assert ro.agent_id.str.match(r"^A\d{4,}$").all()


def test_invalid_configs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="queues"):
        generate(tmp_path, DemoConfig(start_date=START, days=1, agents=100, queues=99))
    with pytest.raises(ValueError, match="agents"):
        generate(tmp_path, DemoConfig(start_date=START, days=1, agents=4, queues=3))


def test_local_times_keep_their_order_across_clock_changes():
    from ccq.generator.timeutil import DAY, Zone, day_index

    zone = Zone("Europe/London", day_index(date(2024, 3, 1)), day_index(date(2024, 11, 30)))
    for d in (date(2024, 3, 31), date(2024, 10, 27)):
        local = day_index(d) * DAY + np.arange(0, 6 * 3600, 300)
        utc = zone.to_utc(local)
        assert (np.diff(utc) >= 0).all()
        assert (zone.to_local(utc[local < day_index(d) * DAY + 3600]) == local[local < day_index(d) * DAY + 3600]).all()


def test_round_the_clock_queue_with_night_shifts_over_the_clock_change(tmp_path):
    generate(tmp_path, DemoConfig(start_date=date(2024, 3, 30), days=2, agents=60, queues=6, seed=5))
    sched = read(tmp_path, "wfm_schedules")
    assert (ts(sched.ends_at) > ts(sched.starts_at)).all()
    assert (ts(sched.starts_at).dt.hour >= 21).any()  # night shifts for the 24/7 card line
    ev = read(tmp_path, "acd_queue_events")
    night = ev[(ev.queue_id == "Q_CARDS") & (ev.event_type == "ENTERQUEUE")]
    assert ts(night.event_at).dt.hour.isin([23, 0, 1, 2, 3, 4, 5]).any()  # quiet, but not closed
    legs = _legs(ev)
    busy = legs[legs.connect.notna() & legs.acw_end.notna()].sort_values(["agent", "connect"])
    assert not (busy.connect < busy.groupby("agent")["acw_end"].shift()).any()


def test_the_contract_decides_which_codes_exist(tmp_path, monkeypatch):
    from ccq.generator import common

    common.check_codes()  # every code the simulation numbers is a contract code, and the other way round
    monkeypatch.setitem(common.CONTRACT_CODES, ("pbx_call_legs", "disposition"), (*common.DISPOSITIONS, "ON HOLD"))
    with pytest.raises(ValueError, match=r"pbx_call_legs.disposition: the generator numbers .*'ON HOLD'"):
        generate(tmp_path / "landing", SMALL)
    assert not (tmp_path / "landing").exists() or not any((tmp_path / "landing").rglob("*.csv"))
