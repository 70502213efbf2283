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
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ccq.generator import model
from ccq.generator.common import DAILY_TABLES, _Registry, check_codes
from ccq.generator.contacts import ContactsMixin
from ccq.generator.customer import CustomerMixin
from ccq.generator.demand import Demand, QueueInfo
from ccq.generator.output import Outbox, ids
from ccq.generator.people import PeopleMixin
from ccq.generator.queue_sim import BIG, SimState
from ccq.generator.timeutil import DAY, Zone, day_index, index_date
from ccq.generator.workforce import Workforce, build_roster
from ccq.settings import SEEDS_DIR


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
    rows = [r for r in _read_seed("queues.csv") if r["call_type"] in model.CALL_TYPES]
    if n < 1 or n > len(rows):
        raise ValueError(f"queues={n}: seeds/queues.csv defines {len(rows)} queues the demo can simulate; ask for 1..{len(rows)}")
    sites = {r["site_id"]: r["time_zone"] for r in _read_seed("sites.csv")}
    params = {}
    for p in _read_seed("queue_parameters.csv"):
        if date.fromisoformat(p["effective_from"]) <= on <= date.fromisoformat(p["effective_to"]):
            params[p["queue_id"]] = int(p["sl_threshold_seconds"])
    out = []
    for i, r in enumerate(rows[:n]):
        if r["call_type"] not in model.CALL_TYPES:
            raise ValueError(f"queue {r['queue_id']}: no behaviour defined for call type {r['call_type']!r}")
        if r["site_id"] not in sites:
            raise ValueError(f"queue {r['queue_id']}: unknown site {r['site_id']!r}")
        out.append(QueueInfo(i, r["queue_id"], r["call_type"], r["site_id"], int(r["priority"]),
                             params.get(r["queue_id"], 20), model.CALL_TYPES[r["call_type"]]))
    return out, sites


class Generator(ContactsMixin, CustomerMixin, PeopleMixin):
    """The simulation's state and its day loop; what each system records is in the mixins."""

    def __init__(self, landing: Path, cfg: DemoConfig, progress: Callable[[str], None] | None):
        if cfg.days < 1:
            raise ValueError("days must be at least 1")
        check_codes()
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
        open_h = (1 - model.PT_SHARE) * 5 * 7.0 + model.PT_SHARE * 5 * 3.75
        self.demand.calibrate(cfg.agents * open_h * (1 - model.ABSENCE_MEAN) * (1 - model.ANNUAL_LEAVE) * 0.97)
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
        self.categories = list(model.CATEGORIES)
        self.cat_mix = np.zeros((self.nq, len(self.categories)))
        for q in self.queues:
            for c, w in model.CATEGORY_MIX[q.call_type].items():
                self.cat_mix[q.index, self.categories.index(c)] = w
        reasons = [r for c in self.categories for r in model.CATEGORIES[c]]
        self.reason_names = pa.array(reasons, pa.string())
        self.reason_start = np.cumsum([0] + [len(model.CATEGORIES[c]) for c in self.categories])[:-1]
        self.reason_count = np.array([len(model.CATEGORIES[c]) for c in self.categories])
        menus = []
        for q in self.queues:
            menus += list(model.MENUS[q.call_type])
        self.menu_paths = pa.array(menus + [model.CLOSED_SELF, model.CLOSED_HANGUP, model.ERROR_PATH], pa.string())
        self.front_door = pa.array([model.SERVICE_NUMBERS[model.FRONT_DOOR[q.call_type]] for q in self.queues])
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


    def _flush(self, extract_day: int) -> None:
        self._crm(extract_day)
        self._forecast(extract_day)
        self._roster(extract_day)
        d = index_date(extract_day)
        if extract_day == self.first or d.day == 1:
            self._staff_survey(extract_day)
            self._finance(extract_day)
        for t in DAILY_TABLES:
            self.out.flush(t, extract_day)


def generate(landing_dir: Path, config: DemoConfig,
             progress: Callable[[str], None] | None = None) -> GenerationSummary:
    """Write `config.days` days of extracts for every raw table under landing_dir."""
    return Generator(Path(landing_dir), config, progress).run()
