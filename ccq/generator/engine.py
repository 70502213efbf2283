"""The demo call centre: a day-by-day simulation that writes every source system's extracts.

For UTC day d: schedules for local days up to d+1 (night shifts, and the READY windows the
routing needs), the day's calls (PBX attempts, IVR, queue legs), routing, then the records
each system derives from them. Day d-1's files are written only after day d is simulated:
a call or shift that starts on d-1 may end on d, and its rows are dated by their own times.
State that outlives a day (agents' free times, open CRM cases, customers due to call again,
legs still queued at midnight) is carried over, so memory stays bounded by a few days.
"""
from __future__ import annotations

import csv
import math
import random
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ccq.generator import model as M
from ccq.generator.demand import SLOTS, WEEKDAY_WEIGHT, Demand, QueueInfo
from ccq.generator.output import Outbox, ids, take
from ccq.generator.queue_sim import (ABANDONED, BIG, CONNECTED, TIMEOUT, VIA_TRANSFER, SimState,
                                     run_until)
from ccq.generator.timeutil import DAY, Zone, day_index, index_date
from ccq.generator.workforce import (ACTIVITY_NAMES, NO_DAY, REASON_NAMES, DaySchedule, Workforce,
                                     build_roster)
from ccq.settings import SEEDS_DIR

WRAP_CODES = ("RESOLVED", "FOLLOW_UP", "TRANSFERRED", "INFO")
RESOLVED, FOLLOW_UP, TRANSFERRED, INFO = range(4)
IVR_OUTCOMES = ("TO_AGENT", "SELF_SERVED", "HANGUP", "ERROR")
TO_AGENT, SELF_SERVED, HANGUP, ERROR = range(4)
DISPOSITIONS = ("ANSWERED", "BUSY", "CONGESTION", "FAILED", "NO ANSWER")
EVENT_TYPES = ("ENTERQUEUE", "RINGNOANSWER", "CONNECT", "HOLD", "UNHOLD", "COMPLETE", "TRANSFER",
               "ACWEND", "ABANDON", "EXITTIMEOUT")
EV = {name: i for i, name in enumerate(EVENT_TYPES)}
STATES = ("LOGIN", "READY", "NOT_READY", "LOGOUT")
SEVERITIES = ("LOW", "MEDIUM", "HIGH")
DAILY_TABLES = (
    "pbx_call_legs", "acd_queue_events", "agent_state_events", "ivr_sessions", "crm_cases",
    "crm_interactions", "crm_complaints", "survey_responses", "qa_evaluations", "qa_evaluation_items",
    "wfm_schedules", "wfm_forecasts", "hr_roster", "hr_training", "hr_staff_survey",
)


@dataclass(frozen=True)
class DemoConfig:
    """Size of the demo centre. Same config (seed included) -> byte-identical files."""

    start_date: date
    days: int = 42
    agents: int = 60
    queues: int = 5
    seed: int = 7


@dataclass
class GenerationSummary:
    rows: dict[str, int]  # rows written per raw table
    files: int
    seconds: float
    calls: int = 0  # inbound call attempts offered to the PBX
    queue_legs: int = 0


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_queues(n: int, on: date) -> tuple[list[QueueInfo], dict[str, str]]:
    # Only queues whose call type the generator knows how to simulate (the seed also holds
    # the queues of real data sets, e.g. the Anonymous Bank's).
    rows = [r for r in _read_seed("queues.csv") if r["call_type"] in M.CALL_TYPES]
    if n < 1 or n > len(rows):
        raise ValueError(f"queues={n}: seeds/queues.csv defines {len(rows)} queues the demo can simulate; ask for 1..{len(rows)}")
    sites = {r["site_id"]: r["time_zone"] for r in _read_seed("sites.csv")}
    params = {}
    for p in _read_seed("queue_parameters.csv"):
        if date.fromisoformat(p["effective_from"]) <= on <= date.fromisoformat(p["effective_to"]):
            params[p["queue_id"]] = int(p["sl_threshold_seconds"])
    out = []
    for i, r in enumerate(rows[:n]):
        if r["call_type"] not in M.CALL_TYPES:
            raise ValueError(f"queue {r['queue_id']}: no behaviour defined for call type {r['call_type']!r}")
        if r["site_id"] not in sites:
            raise ValueError(f"queue {r['queue_id']}: unknown site {r['site_id']!r}")
        out.append(QueueInfo(i, r["queue_id"], r["call_type"], r["site_id"], int(r["priority"]),
                             params.get(r["queue_id"], 20), M.CALL_TYPES[r["call_type"]]))
    return out, sites


def _lognormal(r: np.random.Generator, median, sigma, n, lo, hi) -> np.ndarray:
    return np.clip(np.exp(r.normal(np.log(median), sigma, n)), lo, hi).astype(np.int64)


def _choice_rows(r: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category per row from row-wise weights."""
    cdf = np.cumsum(weights, axis=1)
    u = r.random(len(weights)) * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=1), weights.shape[1] - 1)


class _Registry:
    """Contacts (PBX calls) created on one simulated UTC day, by global contact number."""

    def __init__(self, base: int, cols: dict[str, np.ndarray]):
        self.base = base
        self.cols = cols

    @property
    def n(self) -> int:
        return len(self.cols["start"])

    def append(self, cols: dict[str, np.ndarray]) -> None:
        for k in self.cols:
            self.cols[k] = np.concatenate([self.cols[k], cols[k].astype(self.cols[k].dtype)])


class Generator:
    def __init__(self, landing: Path, cfg: DemoConfig, progress: Callable[[str], None] | None):
        if cfg.days < 1:
            raise ValueError("days must be at least 1")
        self.cfg = cfg
        self.progress = progress or (lambda _msg: None)
        self.first = day_index(cfg.start_date)
        self.last = self.first + cfg.days - 1
        self.queues, site_tz = load_queues(cfg.queues, cfg.start_date)
        if cfg.agents < 3 * len(self.queues):
            raise ValueError(f"agents={cfg.agents}: need at least 3 per queue ({3 * len(self.queues)})")
        self.nq = len(self.queues)
        self.zones = {s: Zone(tz, self.first - 2, self.last + 2) for s, tz in site_tz.items()}
        self.demand = Demand(self.queues, self.zones, cfg.seed)
        open_h = (1 - M.PT_SHARE) * 5 * 7.0 + M.PT_SHARE * 5 * 3.75
        self.demand.calibrate(cfg.agents * open_h * (1 - M.ABSENCE_MEAN) * (1 - M.ANNUAL_LEAVE) * 0.97)
        weekly = self.demand.typical_requirement().sum(axis=(1, 2)).astype(float)
        self.R = build_roster(cfg.agents, self.queues, np.maximum(weekly, 1.0), self.rng(1), self.first, self.last)
        self.wf = Workforce(self.R, self.queues, self.demand, self.zones, cfg.seed)
        self.sim = SimState(self.R.size, self.R.skills, self.queues)
        self.out = Outbox(landing, self.first, self.last)

        R = self.R
        self.agent_ids = pa.array(R.agent_id, pa.string())
        self.queue_ids = pa.array([q.queue_id for q in self.queues], pa.string())
        self.site_list = sorted(site_tz)
        self.agent_site_idx = np.array([self.site_list.index(s) for s in R.site])
        self.n_cust = max(20_000, cfg.agents * 3000)
        self.n_premium = max(1000, self.n_cust // 16)
        self.categories = list(M.CATEGORIES)
        self.cat_mix = np.zeros((self.nq, len(self.categories)))
        for q in self.queues:
            for c, w in M.CATEGORY_MIX[q.call_type].items():
                self.cat_mix[q.index, self.categories.index(c)] = w
        reasons = [r for c in self.categories for r in M.CATEGORIES[c]]
        self.reason_names = pa.array(reasons, pa.string())
        self.reason_start = np.cumsum([0] + [len(M.CATEGORIES[c]) for c in self.categories])[:-1]
        self.reason_count = np.array([len(M.CATEGORIES[c]) for c in self.categories])
        menus = []
        for q in self.queues:
            menus += list(M.MENUS[q.call_type])
        self.menu_paths = pa.array(menus + [M.CLOSED_SELF, M.CLOSED_HANGUP, M.ERROR_PATH], pa.string())
        self.front_door = pa.array([M.SERVICE_NUMBERS[M.FRONT_DOOR[q.call_type]] for q in self.queues])
        self.q_site_idx = np.array([self.site_list.index(q.site_id) for q in self.queues])
        self.q_arr = {k: np.array(v) for k, v in dict(
            identified=[q.ct.identified_p for q in self.queues],
            self_serve=[q.ct.self_serve for q in self.queues],
            hangup=[q.ct.ivr_hangup for q in self.queues],
            pat_mu=[math.log(q.ct.patience_median) for q in self.queues],
            talk_mu=[math.log(q.ct.talk_median) for q in self.queues],
            talk_sig=[q.ct.talk_sigma for q in self.queues],
            hold_p=[q.ct.hold_p for q in self.queues],
            acw_mu=[math.log(q.ct.acw_median) for q in self.queues],
            resolve=[q.ct.resolve_p for q in self.queues],
            is_billing=[q.call_type == "billing" for q in self.queues],
            is_tech=[q.call_type == "technical" for q in self.queues],
        ).items()}
        self.n_eval = max(2, cfg.agents // 40)
        self.evaluators = pa.array([f"QA{j + 1:02d}" for j in range(self.n_eval)])
        self.team_effect = self.rng(2).normal(0, 0.3, len(R.team_id))

        self.registries: dict[int, _Registry] = {}
        self.next_gid = 0
        self.repeats: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.crm_raw: dict[int, list[dict[str, np.ndarray]]] = {}
        self.win: dict[str, np.ndarray] | None = None
        self.trainings: list[tuple[np.ndarray, np.ndarray]] = []  # (end time, agent) of courses
        self.courses_done = np.zeros(R.size)
        self.quality_today = R.quality.copy()
        self.tenure_today = np.ones(R.size)
        self.counters = {k: 0 for k in ("event", "state", "leg", "session", "case", "interaction",
                                        "complaint", "survey", "evaluation", "training", "response", "outcall")}
        # CRM open cases, sorted by key = customer * 64 + category
        self.open_keys = np.zeros(0, np.int64)
        self.open_case = np.zeros(0, np.int64)
        self.open_opened = np.zeros(0, np.int64)
        self.open_last = np.zeros(0, np.int64)
        self.calls = 0
        self.queue_legs = 0

    # -- helpers ----------------------------------------------------------------------------
    def rng(self, *keys: int) -> np.random.Generator:
        return np.random.default_rng([self.cfg.seed, *keys])

    def _ids(self, kind: str, prefix: str, n: int, width: int) -> pa.Array:
        start = self.counters[kind]
        self.counters[kind] += n
        return ids(prefix, np.arange(start + 1, start + n + 1), width)

    def customer_ids(self, cust: np.ndarray, known: np.ndarray | None = None) -> pa.Array:
        s = ids("CU", cust + 1, 8)
        if known is not None and not known.all():
            s = pc.if_else(pa.array(known), s, pa.scalar(None, pa.string()))
        return s

    def phones(self, cust: np.ndarray) -> pa.Array:
        num = (cust.astype(np.int64) * 387420489 + 100000007) % 1_000_000_000
        s = ids("+447", num, 9)
        withheld = (cust.astype(np.int64) * 2654435761 % 997) < 27
        if withheld.any():
            s = pc.if_else(pa.array(withheld), pa.scalar(None, pa.string()), s)
        return s

    def contact_ids(self, gid: np.ndarray) -> pa.Array:
        return ids("C", gid + 1, 10)

    def _lookup(self, gids: np.ndarray, field: str) -> np.ndarray:
        out = None
        for reg in self.registries.values():
            m = (gids >= reg.base) & (gids < reg.base + reg.n)
            if m.any():
                col = reg.cols[field]
                if out is None:
                    out = np.zeros(len(gids), dtype=col.dtype)
                out[m] = col[gids[m] - reg.base]
        return out if out is not None else np.zeros(len(gids), dtype=np.int64)

    def _update_end(self, gids: np.ndarray, end: np.ndarray) -> None:
        for reg in self.registries.values():
            m = (gids >= reg.base) & (gids < reg.base + reg.n)
            if m.any():
                np.maximum.at(reg.cols["end"], gids[m] - reg.base, end[m])

    # -- main loop ------------------------------------------------------------------------
    def run(self) -> GenerationSummary:
        t_start = time.perf_counter()
        next_sched = self.first - 1
        for d in range(self.first, self.last + 1):
            while next_sched <= d + 1:
                self._schedule(next_sched)
                next_sched += 1
            if (d - self.first) % 7 == 6:
                self.sim.prune()
            self._agent_day(d)
            n_calls, legs = self._simulate(d)
            if d - 1 >= self.first:
                self._pbx_ivr(d - 1)
            self._finalize_shifts((d + 1) * DAY)
            if d - 1 >= self.first:
                self._flush(d - 1)
            for k in [k for k in self.registries if k < d - 1]:
                del self.registries[k]
            self.progress(f"{index_date(d).isoformat()}: {n_calls} calls, {legs} queue legs")
        self._pbx_ivr(self.last)
        self._finalize_shifts(BIG)
        self._flush(self.last)
        self.out.close()
        return GenerationSummary(dict(self.out.rows), self.out.files, time.perf_counter() - t_start,
                                 self.calls, self.queue_legs)

    # -- workforce --------------------------------------------------------------------------
    def _schedule(self, L: int) -> None:
        s: DaySchedule = self.wf.schedule_day(L)
        if self.first <= L <= self.last and len(s.seg_agent):
            self.out.add(
                "wfm_schedules", np.full(len(s.seg_agent), L), s.seg_start,
                agent_id=take(self.agent_ids, s.seg_agent),
                schedule_date=np.full(len(s.seg_agent), L),
                activity=take(ACTIVITY_NAMES, s.seg_act),
                starts_at=s.seg_start, ends_at=s.seg_end, published_at=s.seg_published,
            )
        if len(s.tr_agent):
            course_ids = [c[0] for c in M.COURSES] + [M.INDUCTION[0]]
            course_names = [c[1] for c in M.COURSES] + [M.INDUCTION[1]]
            ci = np.where(s.tr_course < 0, len(M.COURSES), s.tr_course)
            self.out.add(
                "hr_training", s.tr_start // DAY, s.tr_start,
                training_id=self._ids("training", "TR", len(s.tr_agent), 7),
                agent_id=take(self.agent_ids, s.tr_agent),
                course_id=take(course_ids, ci), course_name=take(course_names, ci),
                started_at=s.tr_start, ended_at=s.tr_end, completed=s.tr_completed,
            )
            done = s.tr_completed & (s.tr_course >= 0)
            self.trainings.append((s.tr_end[done], s.tr_agent[done]))
        if len(s.w_agent):
            gids = self.sim.add_windows(s.w_agent, s.w_start, s.w_end)
            uniq, inv = np.unique(s.w_shift, return_inverse=True)
            mx = np.zeros(len(uniq), dtype=np.int64)
            np.maximum.at(mx, inv, s.w_end)
            shift_end = mx[inv]
            new = dict(gid=gids, agent=s.w_agent, shift=s.w_shift, ws=s.w_start, we=s.w_end, reason=s.w_reason,
                       first=s.w_first, last=s.w_last, lead=s.w_lead, lag=s.w_lag, shift_end=shift_end)
            self.win = new if self.win is None else {k: np.concatenate([self.win[k], new[k]]) for k in new}

    def _agent_day(self, d: int) -> None:
        R = self.R
        keep = []
        for end, agent in self.trainings:
            m = end < d * DAY
            np.add.at(self.courses_done, agent[m], 1)
            if (~m).any():
                keep.append((end[~m], agent[~m]))
        self.trainings = keep
        self.tenure_today = R.tenure_factor(d)
        nesting = 1 - self.tenure_today
        self.quality_today = np.clip(R.quality + M.TRAINING_QUALITY_GAIN * np.minimum(self.courses_done, 3)
                                     - 0.08 * nesting, 0.4, 0.995)
        self.sim.mult[:] = (R.aht_mult * (1 + 0.35 * nesting)).tolist()

    def _finalize_shifts(self, limit: int) -> None:
        W = self.win
        if W is None or len(W["gid"]) == 0:
            return
        done = W["shift_end"] <= limit
        if not done.any():
            return
        S = {k: v[done] for k, v in W.items()}
        self.win = {k: v[~done] for k, v in W.items()}
        ae = np.frombuffer(self.sim.w_ae, dtype=np.int64)[S["gid"]]
        ae = np.maximum(ae, S["we"])
        rank = S["shift"] - S["shift"].min()
        ae = np.maximum.accumulate(rank * (1 << 41) + ae) - rank * (1 << 41)
        next_ws = np.append(S["ws"][1:], BIG)
        merged = ~S["last"] & (ae >= next_ws)  # a call ran through the whole pause
        prev_merged = np.append(False, merged[:-1])
        ev_t, ev_a, ev_s, ev_r, ev_o = [], [], [], [], []

        def emit(mask, t, state, reason, order):
            ev_t.append(t[mask])
            ev_a.append(S["agent"][mask])
            ev_s.append(np.full(int(mask.sum()), state))
            ev_r.append(reason[mask] if isinstance(reason, np.ndarray) else np.full(int(mask.sum()), reason))
            ev_o.append(np.full(int(mask.sum()), order))

        emit(S["first"], S["ws"] - S["lead"], 0, 0, 0)
        emit(~prev_merged, S["ws"], 1, 0, 1)
        emit(~S["last"] & ~merged, ae, 2, S["reason"], 2)
        emit(S["last"], ae + S["lag"], 3, 0, 3)
        t = np.concatenate(ev_t)
        a = np.concatenate(ev_a)
        st = np.concatenate(ev_s)
        rs = np.concatenate(ev_r)
        o = np.lexsort((np.concatenate(ev_o), a, t))
        t, a, st, rs = t[o], a[o], st[o], rs[o]
        self.out.add(
            "agent_state_events", t // DAY, t,
            event_id=self._ids("state", "S", len(t), 10),
            agent_id=take(self.agent_ids, a), event_at=t,
            state=take(STATES, st), reason=take(REASON_NAMES, np.where(st == 2, rs, -1)),
        )

    # -- calls ------------------------------------------------------------------------------
    def _contacts(self, d: int) -> tuple[_Registry, dict[str, list]]:
        r = self.rng(31, d)
        _, act, is_open = self.demand.grid(d)
        nq = self.nq
        counts = r.poisson(act)
        flat = counts.ravel()
        q = np.repeat(np.repeat(np.arange(nq), SLOTS), flat)
        slot = np.repeat(np.tile(np.arange(SLOTS), nq), flat)
        n_new = len(q)
        cust = r.integers(0, self.n_cust, n_new)
        prem = np.array([qi.call_type == "premium" for qi in self.queues])[q]
        cust[prem] = r.integers(0, self.n_premium, int(prem.sum()))
        cat = _choice_rows(r, self.cat_mix[q])
        rep = np.zeros(n_new, dtype=bool)
        if d in self.repeats:
            parts = self.repeats.pop(d)
            rq = np.concatenate([p[0] for p in parts])
            rc = np.concatenate([p[1] for p in parts])
            rcat = np.concatenate([p[2] for p in parts])
            w = act * is_open + 1e-9
            rslot = np.zeros(len(rq), dtype=np.int64)
            for qi in range(nq):
                m = rq == qi
                if m.any():
                    cdf = np.cumsum(w[qi]) / w[qi].sum()
                    rslot[m] = np.minimum(np.searchsorted(cdf, r.random(int(m.sum()))), SLOTS - 1)
            q = np.concatenate([q, rq])
            slot = np.concatenate([slot, rslot])
            cust = np.concatenate([cust, rc])
            cat = np.concatenate([cat, rcat])
            rep = np.concatenate([rep, np.ones(len(rq), dtype=bool)])
        n = len(q)
        t = d * DAY + slot * 900 + r.integers(0, 900, n)
        o = np.argsort(t, kind="stable")
        q, slot, cust, cat, rep, t = q[o], slot[o], cust[o], cat[o], rep[o], t[o]

        lam = act.sum(axis=0)
        peak = lam >= 0.85 * lam.max() if lam.max() > 0 else np.zeros(SLOTS, bool)
        blocked = r.random(n) < (M.BLOCKED_P + M.BLOCKED_PEAK_P * peak[slot])
        block_code = np.where(blocked, 1 + _choice_rows(r, np.tile([0.5, 0.35, 0.15], (n, 1))), 0)
        opened = is_open[q, slot]
        u = r.random(n)
        hang = self.q_arr["hangup"][q]
        selfs = self.q_arr["self_serve"][q] * np.where(rep, 0.3, 1.0)
        outcome = np.where(u < 0.004, ERROR, np.where(u < 0.004 + hang, HANGUP,
                           np.where(u < 0.004 + hang + selfs, SELF_SERVED, TO_AGENT)))
        closed_self = r.random(n) < 0.35
        outcome = np.where(opened, outcome, np.where(closed_self, SELF_SERVED, HANGUP))
        outcome = np.where(blocked, -1, outcome)
        k_close = 3 * nq
        path = np.select(
            [~opened & (outcome == SELF_SERVED), ~opened, outcome == ERROR],
            [k_close, k_close + 1, k_close + 2],
            3 * q + np.where(outcome == TO_AGENT, 0, np.where(outcome == SELF_SERVED, 1, 2)),
        )
        ring = r.integers(1, 5, n)
        dur = np.select(
            [outcome == TO_AGENT, outcome == SELF_SERVED, outcome == ERROR, ~opened],
            [_lognormal(r, 35, 0.4, n, 8, 240), _lognormal(r, 110, 0.5, n, 20, 900),
             r.integers(5, 40, n), _lognormal(r, 18, 0.5, n, 4, 120)],
            _lognormal(r, 22, 0.7, n, 3, 300),
        )
        ivr_in = t + ring
        ivr_out = ivr_in + dur
        end = np.where(blocked, t + r.integers(1, 4, n), ivr_out)
        identified = r.random(n) < self.q_arr["identified"][q]
        base = self.next_gid
        reg = _Registry(base, dict(
            start=t, q=q, cust=cust, cat=cat, rep=rep, identified=identified, block=block_code,
            outcome=outcome, path=path, ivr_in=ivr_in, ivr_out=ivr_out, end=end,
        ))

        a = np.flatnonzero(outcome == TO_AGENT)
        a = a[np.argsort(ivr_out[a], kind="stable")]
        k = len(a)
        qa = q[a]
        short = r.random(k) < M.SHORT_ABANDON_SHARE
        pat = np.where(short, r.integers(1, 5, k),
                       np.maximum(1, np.exp(r.normal(self.q_arr["pat_mu"][qa], M.PATIENCE_SIGMA)))).astype(np.int64)
        talk = np.clip(np.exp(r.normal(self.q_arr["talk_mu"][qa], self.q_arr["talk_sig"][qa])), 15, 3600).astype(np.int64)
        has_hold = r.random(k) < self.q_arr["hold_p"][qa]
        two = r.random(k) < 0.25
        h1 = _lognormal(r, M.HOLD_MEDIAN, M.HOLD_SIGMA, k, 5, 900)
        h2 = _lognormal(r, M.HOLD_MEDIAN, M.HOLD_SIGMA, k, 5, 900)
        hold_n = np.where(has_hold, np.where(two, 2, 1), 0)
        hold = np.where(has_hold, h1 + np.where(two, h2, 0), 0)
        acw = np.clip(np.exp(r.normal(self.q_arr["acw_mu"][qa], M.ACW_SIGMA)), 3, 600).astype(np.int64)
        xfer = np.full(k, -1)
        ux = r.random(k)
        uy = r.random(k)
        for qi in range(nq):
            targets = self.sim.xfer_targets[qi]
            m = (qa == qi) & (ux < self.sim.xfer_p[qi])
            if targets and m.any():
                xfer[m] = np.array(targets)[(uy[m] * len(targets)).astype(int)]
        rna = r.random(k) < M.RNA_P
        prim = dict(gid=(base + a).tolist(), q=qa.tolist(), t=ivr_out[a].tolist(), patience=pat.tolist(),
                    talk=talk.tolist(), hold_n=hold_n.tolist(), hold=hold.tolist(), acw=acw.tolist(),
                    xfer=xfer.tolist(), rna=rna.tolist())
        return reg, prim

    def _simulate(self, d: int) -> tuple[int, int]:
        reg, prim = self._contacts(d)
        self.registries[d] = reg
        self.next_gid = reg.base + reg.n
        self.sim.next_gid = self.next_gid
        pyr = random.Random(int(self.rng(32, d).integers(1 << 62)))
        legs, redials, outbound = run_until(self.sim, prim, (d + 1) * DAY, pyr)
        if redials:
            rd = np.array(redials, dtype=np.int64)
            parent = rd[:, 1]
            reg.append(dict(
                start=rd[:, 2], q=self._lookup(parent, "q"), cust=self._lookup(parent, "cust"),
                cat=self._lookup(parent, "cat"), rep=np.zeros(len(rd), bool),
                identified=self._lookup(parent, "identified"), block=np.zeros(len(rd), np.int64),
                outcome=np.full(len(rd), TO_AGENT), path=3 * self._lookup(parent, "q"),
                ivr_in=rd[:, 2] + 2, ivr_out=rd[:, 3], end=rd[:, 3],
            ))
        self.next_gid = self.sim.next_gid
        self.calls += reg.n
        self.queue_legs += len(legs["gid"])
        if len(legs["gid"]):
            self._after_routing(d, legs, redials, outbound)
        return reg.n, len(legs["gid"])

    def _after_routing(self, d: int, L: dict[str, np.ndarray], redials, outbound) -> None:
        r = self.rng(33, d)
        n = len(L["gid"])
        gid, q, agent, outc = L["gid"], L["q"], L["agent"], L["outcome"]
        con = outc == CONNECTED
        s = L["t_out"]
        line_end = np.where(con, s + L["talk"] + L["hold"], s)
        acw_end = line_end + L["acw"]
        self._update_end(gid, line_end)
        cust = self._lookup(gid, "cust")
        identified = self._lookup(gid, "identified")
        cat = self._lookup(gid, "cat")
        rep = self._lookup(gid, "rep")
        wait = s - L["t0"]

        # ACD queue events
        hn = L["hold_n"]
        talk = L["talk"]
        f1 = 0.1 + 0.35 * r.random(n)
        f2 = 0.55 + 0.35 * r.random(n)
        h1 = np.where(hn == 2, np.maximum(5, (L["hold"] * (0.3 + 0.4 * r.random(n))).astype(np.int64)), L["hold"])
        h2 = L["hold"] - h1
        hold1 = s + np.maximum(1, (f1 * talk).astype(np.int64))
        hold2 = s + np.maximum(2, (f2 * talk).astype(np.int64)) + h1
        xf = L["xfer"] >= 0
        parts = [
            (np.ones(n, bool), L["t0"], EV["ENTERQUEUE"], 0),
            (L["rna_agent"] >= 0, L["rna_t"], EV["RINGNOANSWER"], 1),
            (con, s, EV["CONNECT"], 2),
            (outc == ABANDONED, s, EV["ABANDON"], 2),
            (outc == TIMEOUT, s, EV["EXITTIMEOUT"], 2),
            (con & (hn >= 1), hold1, EV["HOLD"], 3),
            (con & (hn >= 1), hold1 + h1, EV["UNHOLD"], 4),
            (con & (hn == 2), hold2, EV["HOLD"], 5),
            (con & (hn == 2), hold2 + h2, EV["UNHOLD"], 6),
            (con & ~xf, line_end, EV["COMPLETE"], 7),
            (con & xf, line_end, EV["TRANSFER"], 7),
            (con, acw_end, EV["ACWEND"], 8),
        ]
        rows = [np.flatnonzero(m) for m, *_ in parts]
        li = np.concatenate(rows)
        et = np.concatenate([p[1][rw] for p, rw in zip(parts, rows)])
        ety = np.concatenate([np.full(len(rw), p[2]) for p, rw in zip(parts, rows)])
        eo = np.concatenate([np.full(len(rw), p[3]) for p, rw in zip(parts, rows)])
        o = np.lexsort((eo, L["leg"][li], gid[li], et))
        li, et, ety = li[o], et[o], ety[o]
        ev_agent = np.where(ety == EV["RINGNOANSWER"], L["rna_agent"][li],
                            np.where(np.isin(ety, [EV["ENTERQUEUE"], EV["ABANDON"], EV["EXITTIMEOUT"]]), -1, agent[li]))
        is_enter = ety == EV["ENTERQUEUE"]
        hangup_side = np.where(r.random(n) < 0.7, 0, 1)
        detail_idx = np.select(
            [ety == EV["TRANSFER"], ety == EV["EXITTIMEOUT"], ety == EV["COMPLETE"]],
            [L["xfer"][li], np.full(len(li), self.nq), self.nq + 1 + hangup_side[li]], -1,
        )
        details = pa.array([qi.queue_id for qi in self.queues] + ["timeout", "caller", "agent"], pa.string())
        ev_cust = cust[li]
        phone = self.phones(ev_cust)
        enter_mask = pa.array(is_enter)
        null = pa.scalar(None, pa.string())
        self.out.add(
            "acd_queue_events", et // DAY, et,
            event_id=self._ids("event", "E", len(li), 12),
            contact_id=self.contact_ids(gid[li]),
            queue_leg=L["leg"][li], event_at=et, event_type=take(EVENT_TYPES, ety),
            queue_id=take(self.queue_ids, q[li]), agent_id=take(self.agent_ids, ev_agent),
            caller_number=pc.if_else(enter_mask, phone, null),
            customer_id=pc.if_else(pa.array(is_enter & identified[li].astype(bool)),
                                           self.customer_ids(ev_cust), null),
            detail=take(details, detail_idx),
        )

        # PBX: internal legs for transfers, outbound legs placed in idle time
        tv = np.flatnonzero(L["via"] == VIA_TRANSFER)
        if len(tv):
            st = L["t0"][tv]
            self.out.add(
                "pbx_call_legs", st // DAY, st,
                leg_id=self._ids("leg", "L", len(tv), 10), call_id=self.contact_ids(gid[tv]),
                direction="internal",
                caller_number=ids("2", L["from_agent"][tv] + 1, 4),
                dialled_number=ids("7", q[tv] + 1, 3),
                trunk_id=None, site_id=take(self.site_list, self.q_site_idx[q[tv]]), agent_id=None,
                started_at=st, answered_at=np.where(con[tv], s[tv], -1), ended_at=line_end[tv],
                disposition=take(DISPOSITIONS, np.where(con[tv], 0, 4)),
            )
        final = con & ~xf
        unresolved_custs = cust[final]
        if outbound:
            ob = np.array(outbound, dtype=np.int64)
            self._outbound(r, ob, unresolved_custs)

        # CRM interactions (case ids are given when the day's CRM extract is built)
        ci = np.flatnonzero(con)
        ca = agent[ci]
        qual = self.quality_today[ca]
        p_res = np.clip(self.q_arr["resolve"][q[ci]] + 0.8 * (qual - 0.86) + 0.1 * rep[ci]
                        - 0.12 * (1 - self.tenure_today[ca]), 0.25, 0.97)
        resolved = r.random(len(ci)) < p_res
        ccat = cat[ci]
        info_cat = self.categories.index("GENERAL_INFO")
        wrap = np.where(xf[ci], TRANSFERRED,
                        np.where(resolved, np.where((ccat == info_cat) & (r.random(len(ci)) < 0.7), INFO, RESOLVED),
                                 FOLLOW_UP))
        created = line_end[ci] + (L["acw"][ci] * (0.3 + 0.65 * r.random(len(ci)))).astype(np.int64)
        reason = self.reason_start[ccat] + np.minimum(
            (r.random(len(ci)) ** 1.6 * self.reason_count[ccat]).astype(np.int64), self.reason_count[ccat] - 1)
        is_final = ~xf[ci]
        unres = is_final & (wrap == FOLLOW_UP)
        total_wait = L["prior_wait"][ci] + wait[ci]
        w_term = 0.012 * np.minimum(total_wait / 300.0, 3.0)
        terms = np.stack([
            w_term + 1e-4, 0.025 * unres, 0.01 * (L["leg"][ci] > 1), 0.15 * np.maximum(0, 0.84 - qual) + 5e-4,
            0.002 * self.q_arr["is_billing"][q[ci]], 0.002 * self.q_arr["is_tech"][q[ci]], np.full(len(ci), 0.001),
        ], axis=1)
        complaint = is_final & (r.random(len(ci)) < 0.0008 + 0.3 * terms.sum(axis=1))
        comp_cat = _choice_rows(r, terms)
        delay = np.where(r.random(len(ci)) < 0.7, 0, _lognormal(r, 20 * 3600, 1.0, len(ci), 600, 20 * DAY))
        raw = dict(created=created, gid=gid[ci], agent=ca, cust=cust[ci], cat=ccat, reason=reason, wrap=wrap,
                   complaint=complaint, comp_cat=comp_cat,
                   comp_sev=_choice_rows(r, np.tile([0.55, 0.35, 0.10], (len(ci), 1)) + np.where(rep[ci], 0.1, 0)[:, None] * [0, 0, 1]),
                   comp_at=created + delay, comp_contact=(delay == 0) | (r.random(len(ci)) < 0.8))
        cday = created // DAY
        for day in np.unique(cday):
            m = cday == day
            self.crm_raw.setdefault(int(day), []).append({k: v[m] for k, v in raw.items()})

        # complaints about abandoned calls (no case)
        ab = np.flatnonzero((outc == ABANDONED) & (wait >= 180))
        ab = ab[r.random(len(ab)) < 0.01]
        if len(ab):
            rec = s[ab] + _lognormal(r, 6 * 3600, 0.8, len(ab), 300, 5 * DAY)
            self.out.add(
                "crm_complaints", rec // DAY, rec,
                complaint_id=self._ids("complaint", "CP", len(ab), 8), case_id=None,
                customer_id=self.customer_ids(cust[ab]), contact_id=self.contact_ids(gid[ab]),
                received_at=rec, category="LONG_WAIT", severity=take(SEVERITIES, r.integers(0, 2, len(ab))),
            )

        # surveys after the final handled leg of a contact
        fi = ci[is_final]
        f_unres = unres[is_final]
        f_qual = qual[is_final]
        f_wait = total_wait[is_final]
        f_rep = rep[fi].astype(bool)
        sent_m = r.random(len(fi)) < 0.4
        si = np.flatnonzero(sent_m)
        if len(si):
            k = len(si)
            sent = line_end[fi[si]] + r.integers(120, 1200, k)
            p_resp = np.clip(0.23 + 0.06 * f_unres[si] + 0.04 * (f_wait[si] > 120), 0, 1)
            resp = r.random(k) < p_resp
            resp_at = sent + _lognormal(r, 2700, 1.2, k, 30, 3 * DAY)
            latent = (4.35 - 0.45 * (f_wait[si] > 60) - np.minimum(0.004 * np.maximum(f_wait[si] - 60, 0), 1.2)
                      - 1.3 * f_unres[si] - 0.35 * (L["leg"][fi[si]] > 1) + 2.0 * (f_qual[si] - 0.86)
                      + r.normal(0, 0.55, k))
            csat = np.clip(np.rint(latent), 1, 5).astype(np.int64)
            nps = np.clip(np.rint(2.2 * latent - 1.0 + r.normal(0, 1.0, k)), 0, 10).astype(np.int64)
            yes_p = np.where(f_unres[si], 0.05, np.where(f_rep[si], 0.4, 0.92))
            rft = np.where(r.random(k) < 0.05, -1, (r.random(k) < yes_p).astype(np.int64))
            survey_ids = self._ids("survey", "SV", k, 9)
            sent_day, resp_day = sent // DAY, resp_at // DAY
            same = resp & (resp_day == sent_day)
            sv = dict(survey_id=survey_ids, contact_id=self.contact_ids(gid[fi[si]]),
                      agent_id=take(self.agent_ids, agent[fi[si]]), sent_at=sent)
            self.out.add("survey_responses", sent_day, sent, **sv,
                         responded_at=np.where(same, resp_at, -1), csat_score=np.where(same, csat, -1),
                         nps_score=np.where(same, nps, -1), resolved_first_time=np.where(same, rft, -1))
            late = np.flatnonzero(resp & ~same)  # the answer arrives in a later day's extract
            if len(late):
                lt = pa.array(late)
                self.out.add("survey_responses", resp_day[late], resp_at[late],
                             **{c: v.take(lt) for c, v in sv.items() if c != "sent_at"}, sent_at=sent[late],
                             responded_at=resp_at[late], csat_score=csat[late], nps_score=nps[late],
                             resolved_first_time=rft[late])

        # QA: about two evaluations per agent and week, from the handled legs
        if len(ci):
            perm = r.permutation(len(ci))
            _, first_idx = np.unique(ca[perm], return_index=True)
            pick = perm[first_idx]
            pick = pick[r.random(len(pick)) < 0.4]
            if len(pick):
                self._qa(r, ci[pick], ca[pick], qual[pick], L, ccat[pick], wrap[pick])

        # customers call again: often after an unresolved contact, rarely after a resolved one
        redialed = set(p for _, p, _, _ in redials)
        ab_final = (outc == ABANDONED) & ~np.isin(gid, np.fromiter(redialed, np.int64, len(redialed)))
        rp = np.concatenate([np.where(f_unres, 0.5, 0.06), np.full(int(ab_final.sum()), 0.25)])
        rg = np.concatenate([gid[fi], gid[ab_final]])
        go = r.random(len(rp)) < rp
        if go.any():
            rg = rg[go]
            offs = np.arange(1, 11)
            w = 0.55 ** offs * WEEKDAY_WEIGHT[(d + offs + 3) % 7]  # soon, and less at the weekend
            rday = d + r.choice(offs, len(rg), p=w / w.sum())
            rq_, rc_, rcat_ = self._lookup(rg, "q"), self._lookup(rg, "cust"), self._lookup(rg, "cat")
            for day in np.unique(rday):
                m = rday == day
                self.repeats.setdefault(int(day), []).append((rq_[m], rc_[m], rcat_[m]))

    def _outbound(self, r, ob: np.ndarray, custs: np.ndarray) -> None:
        a, idle_from, idle_to = ob[:, 0], ob[:, 1], ob[:, 2]
        k = len(a)
        start = idle_from + r.integers(5, 60, k)
        room = idle_to - 30 - start
        keep = room >= 60
        a, start, room = a[keep], start[keep], room[keep]
        k = len(a)
        if k == 0:
            return
        disp = _choice_rows(r, np.tile([0.62, 0.07, 0.0, 0.03, 0.28], (k, 1)))
        ring = np.minimum(r.integers(5, 25, k), room // 3)
        talk = np.minimum(_lognormal(r, 150, 0.7, k, 10, 3600), room - ring)
        no_ans = np.minimum(r.integers(20, 45, k), room)
        end = np.select([disp == 0, disp == 4, disp == 1], [start + ring + talk, start + no_ans, start + r.integers(2, 6, k)],
                        start + r.integers(1, 3, k))
        who = custs[r.integers(0, len(custs), k)] if len(custs) else r.integers(0, self.n_cust, k)
        self.out.add(
            "pbx_call_legs", start // DAY, start,
            leg_id=self._ids("leg", "L", k, 10), call_id=self._ids("outcall", "X", k, 10),
            direction="outbound", caller_number=M.SERVICE_NUMBERS["main"], dialled_number=self.phones(who),
            trunk_id=take([f"TRK-{s}-OUT" for s in self.site_list], self.agent_site_idx[a]),
            site_id=take(self.site_list, self.agent_site_idx[a]), agent_id=take(self.agent_ids, a),
            started_at=start, answered_at=np.where(disp == 0, start + ring, -1), ended_at=end,
            disposition=take(DISPOSITIONS, disp),
        )

    def _qa(self, r, legs_i, agents, qual, L, cat, wrap) -> None:
        k = len(legs_i)
        day = L["t_out"][legs_i] // DAY
        ev_at = (day + r.integers(1, 5, k)) * DAY + r.integers(8 * 3600, 17 * 3600, k)
        eval_ids = self._ids("evaluation", "QE", k, 8)
        self.out.add(
            "qa_evaluations", ev_at // DAY, ev_at,
            evaluation_id=eval_ids, contact_id=self.contact_ids(L["gid"][legs_i]),
            agent_id=take(self.agent_ids, agents), evaluator_id=self.evaluators.take(pa.array(r.integers(0, self.n_eval, k))),
            form_id=M.QA_FORM_ID, evaluated_at=ev_at,
        )
        ni = len(M.QA_ITEMS)
        ev = np.repeat(np.arange(k), ni)
        item = np.tile(np.arange(ni), k)
        weight = np.array([it[2] for it in M.QA_ITEMS])[item]
        mx = np.array([it[3] for it in M.QA_ITEMS])[item]
        crit = np.array([it[4] for it in M.QA_ITEMS])[item]
        rule = np.array([it[5] or "" for it in M.QA_ITEMS])[item]
        no_hold = L["hold_n"][legs_i][ev] == 0
        info = (wrap[ev] == INFO) | (cat[ev] == self.categories.index("GENERAL_INFO"))
        na = ((rule == "no_hold") & no_hold) | ((rule == "info_only") & info)
        qv = qual[ev]
        p = np.clip(qv + r.normal(0.0, 0.09, len(ev)), 0, 1)
        score = np.rint(p * mx)
        crit_fail = r.random(len(ev)) < 0.015 + 0.5 * np.maximum(0, 0.84 - qv)
        score = np.where(crit, np.where(crit_fail, 0.0, mx), score)
        score = np.where(na, np.nan, score)
        self.out.add(
            "qa_evaluation_items", ev_at[ev] // DAY, ev_at[ev],
            evaluation_id=eval_ids.take(pa.array(ev)), item_id=take([it[0] for it in M.QA_ITEMS], item),
            item_name=take([it[1] for it in M.QA_ITEMS], item), weight=weight, is_critical=crit,
            not_applicable=na, score=score, max_score=mx,
        )

    def _pbx_ivr(self, d: int) -> None:
        reg = self.registries.get(d)
        if reg is None or reg.n == 0:
            return
        c = reg.cols
        n = reg.n
        gids = reg.base + np.arange(n)
        o = np.argsort(c["start"], kind="stable")
        gids = gids[o]
        C = {k: v[o] for k, v in c.items()}
        blocked = C["block"] > 0
        cid = self.contact_ids(gids)
        phone = self.phones(C["cust"])
        self.out.add(
            "pbx_call_legs", C["start"] // DAY, C["start"],
            leg_id=self._ids("leg", "L", n, 10), call_id=cid, direction="inbound",
            caller_number=phone, dialled_number=self.front_door.take(pa.array(C["q"])),
            trunk_id=take([f"TRK-{s}-{j}" for s in self.site_list for j in (1, 2)],
                          2 * self.q_site_idx[C["q"]] + (gids % 2)),
            site_id=take(self.site_list, self.q_site_idx[C["q"]]), agent_id=None,
            started_at=C["start"], answered_at=np.where(blocked, -1, C["ivr_in"]),
            ended_at=np.maximum(C["end"], C["start"]), disposition=take(DISPOSITIONS, C["block"]),
        )
        v = np.flatnonzero(~blocked)
        if len(v):
            va = pa.array(v)
            self.out.add(
                "ivr_sessions", C["ivr_in"][v] // DAY, C["ivr_in"][v],
                session_id=self._ids("session", "V", len(v), 10), contact_id=cid.take(va),
                caller_number=phone.take(va),
                customer_id=self.customer_ids(C["cust"][v], C["identified"][v].astype(bool)),
                entered_at=C["ivr_in"][v], exited_at=C["ivr_out"][v],
                menu_path=self.menu_paths.take(pa.array(C["path"][v])),
                outcome=take(IVR_OUTCOMES, C["outcome"][v]),
            )

    # -- daily extracts -------------------------------------------------------------------
    def _crm(self, X: int) -> None:
        r = self.rng(41, X)
        parts = self.crm_raw.pop(X, [])
        day0 = X * DAY
        rows = []  # case versions: (case no, customer, opened, category, status, resolved_at, updated_at)
        touched = np.zeros(0, np.int64)
        if parts:
            raw = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            o = np.argsort(raw["created"], kind="stable")
            raw = {k: v[o] for k, v in raw.items()}
            n = len(o)
            key = raw["cust"] * 64 + raw["cat"]
            uk, first, inv = np.unique(key, return_index=True, return_inverse=True)
            last = np.zeros(len(uk), dtype=np.int64)
            np.maximum.at(last, inv, np.arange(n))
            case_no = np.full(len(uk), -1, dtype=np.int64)
            opened = raw["created"][first]
            if len(self.open_keys):
                pos = np.minimum(np.searchsorted(self.open_keys, uk), len(self.open_keys) - 1)
                found = self.open_keys[pos] == uk
                case_no[found] = self.open_case[pos[found]]
                opened[found] = self.open_opened[pos[found]]
            new = np.flatnonzero(case_no < 0)
            new = new[np.argsort(first[new], kind="stable")]
            case_no[new] = self.counters["case"] + 1 + np.arange(len(new))
            self.counters["case"] += len(new)
            case_ids = ids("CS", case_no[inv], 9)
            self.out.add(
                "crm_interactions", np.full(n, X), raw["created"],
                interaction_id=self._ids("interaction", "I", n, 10), case_id=case_ids,
                contact_id=self.contact_ids(raw["gid"]), customer_id=self.customer_ids(raw["cust"]),
                agent_id=take(self.agent_ids, raw["agent"]), created_at=raw["created"],
                contact_reason=self.reason_names.take(pa.array(raw["reason"])),
                wrap_up_code=take(WRAP_CODES, raw["wrap"]),
            )
            cp = np.flatnonzero(raw["complaint"])
            if len(cp):
                cpa = pa.array(cp)
                self.out.add(
                    "crm_complaints", raw["comp_at"][cp] // DAY, raw["comp_at"][cp],
                    complaint_id=self._ids("complaint", "CP", len(cp), 8), case_id=case_ids.take(cpa),
                    customer_id=self.customer_ids(raw["cust"][cp]),
                    contact_id=pc.if_else(pa.array(raw["comp_contact"][cp]),
                                                  self.contact_ids(raw["gid"][cp]), pa.scalar(None, pa.string())),
                    received_at=raw["comp_at"][cp], category=take(M.COMPLAINT_CATEGORIES, raw["comp_cat"][cp]),
                    severity=take(SEVERITIES, raw["comp_sev"][cp]),
                )
            upd = raw["created"][last]
            closed = np.isin(raw["wrap"][last], [RESOLVED, INFO])
            rows.append((case_no, uk // 64, opened, uk % 64, closed.astype(np.int64), np.where(closed, upd, -1), upd))
            keep = ~np.isin(self.open_keys, uk)
            still = ~closed
            self._set_open(np.concatenate([self.open_keys[keep], uk[still]]),
                           np.concatenate([self.open_case[keep], case_no[still]]),
                           np.concatenate([self.open_opened[keep], opened[still]]),
                           np.concatenate([self.open_last[keep], upd[still]]))
            touched = uk
        # the back office resolves some open cases; a nightly job closes stale ones
        k = len(self.open_keys)
        if k:
            untouched = ~np.isin(self.open_keys, touched)
            stale = untouched & (self.open_last < day0 - 14 * DAY)
            bo = untouched & ~stale & (r.random(k) < 0.10)
            bo_at = day0 + r.integers(8 * 3600, 18 * 3600, k)
            for m, status, at in ((stale, 2, np.full(k, day0 + 2 * 3600)), (bo, 1, bo_at)):
                if m.any():
                    rows.append((self.open_case[m], self.open_keys[m] // 64, self.open_opened[m],
                                 self.open_keys[m] % 64, np.full(int(m.sum()), status), at[m], at[m]))
            gone = stale | bo
            if gone.any():
                self._set_open(self.open_keys[~gone], self.open_case[~gone], self.open_opened[~gone],
                               self.open_last[~gone])
        if rows:
            cno, cust, opened, cat, status, res, upd = (np.concatenate(x) for x in zip(*rows))
            self.out.add(
                "crm_cases", upd // DAY, upd,
                case_id=ids("CS", cno, 9), customer_id=self.customer_ids(cust), opened_at=opened,
                category=take(self.categories, cat), status=take(("OPEN", "RESOLVED", "CLOSED_UNRESOLVED"), status),
                resolved_at=res, updated_at=upd,
            )

    def _set_open(self, keys, case, opened, last) -> None:
        o = np.argsort(keys, kind="stable")
        self.open_keys, self.open_case = keys[o], case[o]
        self.open_opened, self.open_last = opened[o], last[o]

    def _roster(self, X: int) -> None:
        R = self.R
        m = np.flatnonzero(R.hire_day <= X)
        leave = np.where(R.notice_day[m] <= X, R.leave_day[m], -1)
        ft = R.ft[m]
        self.out.add(
            "hr_roster", np.full(len(m), X), np.arange(len(m)),
            agent_id=take(self.agent_ids, m), agent_name=take(R.name, m),
            team_id=take(R.team_id, R.team[m]), supervisor_id=take(R.team_supervisor, R.team[m]),
            site_id=take(R.site, m), hire_date=R.hire_day[m], leave_date=np.where(leave >= NO_DAY, -1, leave),
            employment_type=take(("PT", "FT"), ft.astype(int)),
            weekly_hours=np.where(ft, M.FT_HOURS, M.PT_HOURS), snapshot_date=np.full(len(m), X),
        )

    def _forecast(self, X: int) -> None:
        fc, aht = self.demand.forecast(X)
        nq = self.nq
        qi = np.repeat(np.arange(nq), SLOTS)
        start = X * DAY + np.tile(np.arange(SLOTS), nq) * 900
        dow = (X + 3) % 7
        made = (X - dow - 5) * DAY + 10 * 3600
        o = np.lexsort((qi, start))
        self.out.add(
            "wfm_forecasts", np.full(len(qi), X), start[o],
            queue_id=take(self.queue_ids, qi[o]), interval_start=start[o], interval_minutes=np.full(len(qi), 15),
            forecast_contacts=np.round(fc.ravel()[o], 2), forecast_aht_seconds=np.round(aht[qi[o]], 1),
            forecast_made_at=np.full(len(qi), made),
        )

    def _staff_survey(self, X: int) -> None:
        """Monthly pulse survey, answered in the first week of the month."""
        R = self.R
        d = index_date(X)
        month0 = X - (d.day - 1)
        r = self.rng(51, month0)
        active = np.flatnonzero((R.hire_day <= month0 + 6) & (R.leave_day >= month0) & (R.hire_day <= self.last))
        answer = active[r.random(len(active)) < 0.65]
        day = month0 + r.integers(0, 7, len(answer))
        day = np.maximum(day, np.maximum(R.hire_day[answer], X))
        ok = day <= np.minimum(R.leave_day[answer], month0 + 6)
        answer, day = answer[ok], day[ok]
        k = len(answer)
        if k == 0:
            return
        o = np.argsort(day, kind="stable")
        answer, day = answer[o], day[o]
        nqst = len(M.STAFF_QUESTIONS)
        resp = np.repeat(np.arange(k), nqst)
        qq = np.tile(np.arange(nqst), k)
        mood = 3.5 + self.team_effect[R.team[answer]] + r.normal(0, 0.1)  # team climate plus this month's drift
        question_effect = np.array([0.2, -0.3, 0.1, 0.0, -0.2])
        score = np.clip(np.rint(mood[resp] + question_effect[qq] + r.normal(0, 0.9, len(resp))), 1, 5)
        rid = self._ids("response", "R", k, 8)
        self.out.add(
            "hr_staff_survey", day[resp], day[resp] * DAY + resp,
            response_id=rid.take(pa.array(resp)), question_id=take(M.STAFF_QUESTIONS, qq),
            team_id=take(R.team_id, R.team[answer][resp]), site_id=take(R.site, answer[resp]),
            survey_date=day[resp], score=score.astype(np.int64),
        )

    def _finance(self, X: int) -> None:
        d = index_date(X)
        month = date(d.year, d.month, 1)
        raise_steps = (d.year - 2024) + (1 if d.month >= 4 else 0)
        rows_site, rows_item, rows_amt = [], [], []
        R = self.R
        for s in self.site_list:
            heads = int(((R.hire_day <= X) & (R.leave_day >= X) & (np.array(R.site) == s)).sum())
            if heads == 0:
                continue
            rows_site += [s, s]
            rows_item += ["AGENT_HOURLY_LOADED", "FIXED"]
            rows_amt += [round(M.HOURLY_COST.get(s, 29.0) * 1.035 ** raise_steps, 2),
                         round(M.FIXED_PER_SITE + M.FIXED_PER_SEAT * math.ceil(heads * 1.1), 2)]
        k = len(rows_site)
        self.out.add(
            "finance_costs", np.full(k, X), np.arange(k),
            period_month=np.full(k, day_index(month)), site_id=pa.array(rows_site), cost_item=pa.array(rows_item),
            amount=np.array(rows_amt), currency="GBP",
        )
        self.out.flush("finance_costs", X)

    def _flush(self, X: int) -> None:
        self._crm(X)
        self._forecast(X)
        self._roster(X)
        d = index_date(X)
        if X == self.first or d.day == 1:
            self._staff_survey(X)
            self._finance(X)
        for t in DAILY_TABLES:
            self.out.flush(t, X)


def generate(landing_dir: Path, config: DemoConfig,
             progress: Callable[[str], None] | None = None) -> GenerationSummary:
    """Write `config.days` days of extracts for every raw table under landing_dir."""
    return Generator(Path(landing_dir), config, progress).run()
