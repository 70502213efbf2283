"""Arrival rates, opening hours, forecasts and the Erlang C staffing requirement."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccq.generator import model
from ccq.generator.timeutil import DAY, Zone, index_date

SLOTS = 96  # 15-minute intervals in a day
WEEKDAY_WEIGHT = np.array([1.22, 1.08, 1.0, 0.98, 0.95, 0.55, 0.30])


@dataclass(frozen=True)
class QueueInfo:
    index: int
    queue_id: str
    call_type: str
    site_id: str
    priority: int
    sl_threshold: int
    ct: model.CallType

    @property
    def aht(self) -> float:
        ct = self.ct
        talk = ct.talk_median * np.exp(ct.talk_sigma**2 / 2)
        hold = ct.hold_p * 1.25 * model.HOLD_MEDIAN * np.exp(model.HOLD_SIGMA**2 / 2)
        acw = ct.acw_median * np.exp(model.ACW_SIGMA**2 / 2)
        return float(talk + hold + acw)

    @property
    def to_agent_share(self) -> float:
        return max(0.0, 1.0 - self.ct.self_serve - self.ct.ivr_hangup - 0.004)


def _curve(hours: np.ndarray, weekend: bool) -> np.ndarray:
    p1, p2 = (11.0, 14.5) if weekend else (10.0, 14.0)
    c = (
        np.exp(-((hours - p1) ** 2) / (2 * 1.3**2))
        + 0.85 * np.exp(-((hours - p2) ** 2) / (2 * 1.7**2))
        + (0.15 if weekend else 0.28) * np.exp(-((hours - 19.0) ** 2) / (2 * 1.5**2))
    )
    night = 1.0 / (1.0 + np.exp(-(hours - 7.0) * 2.5))  # quiet before 07:00
    late = 1.0 / (1.0 + np.exp((hours - 22.5) * 2.0))
    return 0.012 + c * night * late


_H = (np.arange(SLOTS) + 0.5) / 4.0
CURVE_FRAC = np.stack([_curve(_H, False), _curve(_H, True)])
CURVE_FRAC /= CURVE_FRAC.sum(axis=1, keepdims=True)


def season(local_day: int) -> float:
    """Yearly cycle of demand: high in January (bills, new contracts), low in midsummer."""
    doy = index_date(local_day).timetuple().tm_yday
    return float(1 + 0.10 * np.cos(2 * np.pi * (doy - 20) / 365.25))


def annual_leave_share(local_day: int) -> float:
    """Share of agents on annual leave in a week: most in summer, least in the January peak."""
    return float(np.clip(model.ANNUAL_LEAVE - 0.9 * (season(local_day) - 1), 0.0, 0.18))


def open_hours(ct: model.CallType, dow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(open, close) local hours for days of week (0=Monday)."""
    table = np.array([ct.hours[0]] * 5 + [ct.hours[1], ct.hours[2]], dtype=float)
    return table[dow, 0], table[dow, 1]


def erlang_required(load: np.ndarray, aht: np.ndarray, threshold: np.ndarray, target: float,
                    occ_cap: float = 0.85) -> np.ndarray:
    """Smallest N meeting the SL target by Erlang C and the occupancy cap, per interval."""
    load = np.asarray(load, dtype=float)
    aht = np.broadcast_to(np.asarray(aht, dtype=float), load.shape)
    threshold = np.broadcast_to(np.asarray(threshold, dtype=float), load.shape)
    req = np.zeros(load.shape, dtype=np.int64)
    todo = load > 1e-9
    if not todo.any():
        return req
    a = load[todo]
    h = aht[todo]
    t = threshold[todo]
    out = np.zeros(a.shape, dtype=np.int64)
    b = np.ones_like(a)  # Erlang B recursion
    n_max = int(np.ceil(a.max() * 1.6 + 10 * np.sqrt(a.max()) + 5))
    left = np.ones(a.shape, dtype=bool)
    for n in range(1, n_max + 1):
        b = a * b / (n + a * b)
        ok_n = n > a
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(ok_n, n * b / (n - a * (1 - b)), 1.0)
            sl = 1.0 - c * np.exp(-(n - a) * t / h)
        meet = left & ok_n & (sl >= target) & (a / n <= occ_cap)
        out[meet] = n
        left &= ~meet
        if not left.any():
            break
    out[left] = n_max
    req[todo] = out
    return req


class Demand:
    def __init__(self, queues: list[QueueInfo], zones: dict[str, Zone], seed: int):
        self.queues = queues
        self.zones = zones
        self.seed = seed
        shares = np.array([q.ct.share for q in queues])
        self.share = shares / shares.sum()
        self.base = 1.0  # inbound calls per day at weekday weight 1, season 1 (set by calibrate)
        self.aht = np.array([q.aht for q in queues])
        self.offered_share = np.array([q.to_agent_share for q in queues]) * (1 - model.BLOCKED_P)
        self.thresholds = np.array([q.sl_threshold for q in queues], dtype=float)
        self.extra = self._extra_legs()
        self._cache: dict = {}

    def _extra_legs(self) -> np.ndarray:
        """Offered legs per first call beyond the first call itself: repeats, redials, transfers in.

        The planners know these ratios from history, so the forecast is unbiased on average.
        """
        ids = {q.queue_id: q.index for q in self.queues}
        first = self.share * self.offered_share
        extra = np.zeros(len(self.queues))
        for q in self.queues:
            res = q.ct.resolve_p
            extra[q.index] += 0.38 * (1 - res) + 0.05 * res + 0.015  # repeats and redials
            targets = [ids[t] for t in q.ct.transfer_to if t in ids]
            for t in targets:
                extra[t] += first[q.index] * q.ct.transfer_p / len(targets) / max(first[t], 1e-9)
        return extra

    def rng(self, *keys: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *keys])

    # -- calendar factors per local date -------------------------------------------------
    def expected_day_factor(self, local_day: int) -> np.ndarray:
        d = index_date(local_day)
        f = WEEKDAY_WEIGHT[d.weekday()] * season(local_day)
        f *= {(12, 24): 0.6, (12, 25): 0.15, (12, 26): 0.4, (12, 31): 0.7, (1, 1): 0.3}.get((d.month, d.day), 1.0)
        out = np.full(len(self.queues), f)
        for q in self.queues:
            if q.call_type == "billing":  # bills land in the first days of the month
                out[q.index] *= 1 + 0.35 * np.exp(-((d.day - 3) ** 2) / 4.0)
        return out

    def actual_day(self, local_day: int) -> tuple[np.ndarray, tuple[int, float, float] | None]:
        """Noise on the expected day (what the forecast cannot know) and a possible incident."""
        key = ("actual", local_day)
        if key not in self._cache:
            r = self.rng(11, local_day)
            noise = np.exp(r.normal(0, 0.05, len(self.queues)) + r.normal(0, 0.04))
            incident = None
            tech = [q.index for q in self.queues if q.call_type == "technical"]
            if tech and r.random() < 0.04:
                incident = (tech[0], float(r.uniform(8, 17)), float(r.uniform(1.4, 2.0)))
            self._cache[key] = (noise, incident)
        return self._cache[key]

    # -- per UTC day grids ---------------------------------------------------------------
    def _local_grid(self, utc_day: int, q: QueueInfo):
        zone = self.zones[q.site_id]
        t = utc_day * DAY + np.arange(SLOTS, dtype=np.int64) * 900
        local = zone.to_local(t)
        lday = local // DAY
        hours = (local - lday * DAY) / 3600.0
        dow = (lday + 3) % 7  # 1970-01-01 was a Thursday
        return lday, hours, dow

    def grid(self, utc_day: int):
        """(expected inbound, actual inbound, open mask) per queue and UTC 15-minute interval."""
        key = ("grid", utc_day)
        if key in self._cache:
            return self._cache[key]
        nq = len(self.queues)
        exp_rate = np.zeros((nq, SLOTS))
        act_rate = np.zeros((nq, SLOTS))
        is_open = np.zeros((nq, SLOTS), dtype=bool)
        for q in self.queues:
            lday, hours, dow = self._local_grid(utc_day, q)
            slot = np.minimum((hours * 4).astype(int), SLOTS - 1)
            weekend = (dow >= 5).astype(int)
            frac = CURVE_FRAC[weekend, slot]
            f_exp = np.array([self.expected_day_factor(int(d))[q.index] for d in np.unique(lday)])
            f_act = np.array([self.actual_day(int(d))[0][q.index] for d in np.unique(lday)])
            pos = np.searchsorted(np.unique(lday), lday)
            exp_rate[q.index] = self.base * self.share[q.index] * f_exp[pos] * frac
            act_rate[q.index] = exp_rate[q.index] * f_act[pos]
            for j, d in enumerate(np.unique(lday)):
                inc = self.actual_day(int(d))[1]
                if inc and inc[0] == q.index:
                    m = (pos == j) & (hours >= inc[1]) & (hours < inc[1] + 3)
                    act_rate[q.index, m] *= inc[2]
            o, c = open_hours(q.ct, dow)
            is_open[q.index] = (hours >= o) & (hours < c)
        self._cache[key] = (exp_rate, act_rate, is_open)
        for k in [k for k in self._cache if k[0] == "grid" and k[1] < utc_day - 3]:
            del self._cache[k]
        return self._cache[key]

    def forecast(self, utc_day: int) -> tuple[np.ndarray, np.ndarray]:
        """Forecast offered queue contacts and AHT per queue and UTC interval."""
        key = ("fc", utc_day)
        if key in self._cache:
            return self._cache[key]
        exp_rate, _, is_open = self.grid(utc_day)
        r = self.rng(12, utc_day)
        nq = len(self.queues)
        bias = np.exp(r.normal(0, 0.05, nq))
        if r.random() < 0.12:  # some days the planners misjudge the whole day
            bias *= np.exp(r.choice([-1, 1]) * r.uniform(0.06, 0.12))
        noise = np.exp(r.normal(0, 0.08, (nq, SLOTS)))
        offered = exp_rate * (self.offered_share * (1 + self.extra))[:, None] * is_open
        fc = offered * bias[:, None] * noise
        aht = self.aht * np.exp(r.normal(0, 0.04, nq))
        self._cache[key] = (fc, aht)
        for k in [k for k in self._cache if k[0] == "fc" and k[1] < utc_day - 3]:
            del self._cache[k]
        return fc, aht

    # -- staffing --------------------------------------------------------------------------
    def typical_requirement(self) -> np.ndarray:
        """Required agents per queue, weekday (Mon..Sun) and local slot at base volume, season 1."""
        nq = len(self.queues)
        hours = np.arange(SLOTS) / 4.0
        dows = np.arange(7)
        frac = CURVE_FRAC[(dows >= 5).astype(int)]  # (7, SLOTS)
        load = np.zeros((nq, 7, SLOTS))
        for q in self.queues:
            o, c = open_hours(q.ct, dows)
            is_open = (hours[None, :] >= o[:, None]) & (hours[None, :] < c[:, None])
            lam = self.base * self.share[q.index] * WEEKDAY_WEIGHT[:, None] * frac
            lam = lam * self.offered_share[q.index] * (1 + self.extra[q.index]) * is_open
            load[q.index] = lam * q.aht / 900.0
        return erlang_required(load, self.aht[:, None, None], self.thresholds[:, None, None], model.SL_PLAN_TARGET)

    def calibrate(self, capacity_hours_per_week: float, ratio: float = model.STAFFING_RATIO) -> None:
        """Choose the base volume so the Erlang requirement uses `ratio` of the capacity."""
        lo, hi = 1.0, 1.0
        self.base = hi
        while self.typical_requirement().sum() / 4.0 < capacity_hours_per_week * ratio:
            lo, hi = hi, hi * 2
            self.base = hi
        for _ in range(30):
            mid = (lo + hi) / 2
            self.base = mid
            if self.typical_requirement().sum() / 4.0 < capacity_hours_per_week * ratio:
                lo = mid
            else:
                hi = mid
            if hi / lo < 1.002:
                break
        self.base = lo
        self._cache.clear()
