"""Roster (teams, hires, leavers), weekly work patterns, daily schedules and READY windows.

About 500 lines on purpose: `Workforce` draws the patterns, schedules and READY windows of
the roster built here from one state and one random stream, in this order; apart, the order
(which the generator's byte-identical output depends on) would be implicit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccq.generator import model
from ccq.generator.demand import Demand, QueueInfo, annual_leave_share, erlang_required, open_hours
from ccq.generator.timeutil import DAY, Zone

OPEN, BREAK, LUNCH, TRAINING, MEETING, ABSENCE, SYSTEM, PERSONAL = range(8)
ACTIVITY_NAMES = ("OPEN", "BREAK", "LUNCH", "TRAINING", "MEETING", "ABSENCE")
REASON_NAMES = ("", "BREAK", "LUNCH", "TRAINING", "MEETING", "", "SYSTEM", "PERSONAL")
NSLOT = 128  # local 15-minute slots from midnight, 8 hours into the next day for night shifts
NO_DAY = 10**7

SECONDARY = {
    "general": (("billing", 0.30),),
    "billing": (("general", 0.35),),
    "technical": (("general", 0.15),),
    "premium": (("general", 0.70),),
    "retention": (("billing", 0.40),),
    "cards": (("general", 0.50),),
}


@dataclass
class Roster:
    agent_id: list[str]
    name: list[str]
    team: np.ndarray
    group: np.ndarray  # primary queue index
    site: list[str]
    hire_day: np.ndarray
    leave_day: np.ndarray  # NO_DAY while employed
    notice_day: np.ndarray
    ft: np.ndarray
    quality: np.ndarray
    aht_mult: np.ndarray
    absence_p: np.ndarray
    late_p: np.ndarray
    skills: list[tuple[int, ...]]
    team_id: list[str]
    team_supervisor: list[str]
    team_site: list[str]
    team_meeting_dow: np.ndarray

    @property
    def size(self) -> int:
        return len(self.agent_id)

    def tenure_factor(self, day: int) -> np.ndarray:
        """1 for settled agents, rising to 0 over the first 90 days after hire (nesting)."""
        return np.clip((day - self.hire_day) / 90.0, 0.0, 1.0)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    chinese = rng.random(n) < model.CHINESE_SHARE
    f = rng.integers(0, len(model.FIRST_NAMES), n)
    l_ = rng.integers(0, len(model.LAST_NAMES), n)
    cs = rng.integers(0, len(model.CHINESE_SURNAMES), n)
    cg = rng.integers(0, len(model.CHINESE_GIVEN), n)
    return [
        (model.CHINESE_SURNAMES[cs[i]] + model.CHINESE_GIVEN[cg[i]]) if chinese[i] else f"{model.FIRST_NAMES[f[i]]} {model.LAST_NAMES[l_[i]]}"
        for i in range(n)
    ]


def _largest_remainder(weights: np.ndarray, total: int, minimum: int) -> np.ndarray:
    k = len(weights)
    out = np.full(k, minimum)
    rest = total - minimum * k
    share = weights / weights.sum() * rest
    out += np.floor(share).astype(int)
    short = total - out.sum()
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    out[order[:short]] += 1
    return out


def build_roster(n_agents: int, queues: list[QueueInfo], weekly_hours_by_queue: np.ndarray,
                 rng: np.random.Generator, first_day: int, last_day: int) -> Roster:
    nq = len(queues)
    sizes = _largest_remainder(weekly_hours_by_queue, n_agents, 3)
    by_type = {q.call_type: q.index for q in queues}

    # teams: ~TEAM_SIZE agents sharing a primary queue and a supervisor
    team_group, team_site = [], []
    group_teams: list[list[int]] = []
    for q in queues:
        k = max(1, int(round(sizes[q.index] / model.TEAM_SIZE)))
        group_teams.append(list(range(len(team_group), len(team_group) + k)))
        team_group += [q.index] * k
        team_site += [q.site_id] * k
    n_teams = len(team_group)

    recs: list[dict] = []  # one per person, in creation order

    def person(group: int, team: int, hire: int, initial: bool) -> dict:
        q = queues[group]
        skills = [group]
        if initial:  # new hires start single-skilled
            for other, p in SECONDARY[q.call_type]:
                if other in by_type and rng.random() < p:
                    skills.append(by_type[other])
        return dict(group=group, team=team, hire=hire, leave=NO_DAY, skills=tuple(skills),
                    ft=bool(rng.random() > model.PT_SHARE), site=q.site_id)

    for g in range(nq):
        teams = group_teams[g]
        for i in range(sizes[g]):
            tenure = int(30 + rng.exponential(900))
            recs.append(person(g, teams[i % len(teams)], first_day - tenure, True))
    for _ in range(max(1, n_agents // 25)):  # people who left before the period
        g = int(rng.choice(nq, p=sizes / sizes.sum()))
        r = person(g, int(rng.choice(group_teams[g])), first_day - int(rng.integers(200, 1500)), True)
        r["leave"] = first_day - int(rng.integers(1, 190))
        recs.append(r)

    # attrition: higher hazard while nesting; each leaver is replaced by a Monday cohort hire
    i = 0
    while i < len(recs):
        r = recs[i]
        i += 1
        if r["leave"] != NO_DAY:
            continue
        t = max(first_day, r["hire"])
        nest_end = r["hire"] + 90
        leave = None
        if t < nest_end:
            d = t + rng.exponential(365 / 0.8)
            if d < nest_end:
                leave = int(d)
            t = nest_end
        if leave is None:
            leave = int(t + rng.exponential(365 / 0.28))
        if leave > last_day:
            continue
        r["leave"] = leave
        hire = leave + int(rng.integers(5, 21))
        hire += (-(hire + 3)) % 7  # next Monday (day 0 was a Thursday)
        if hire <= last_day:
            recs.append(person(r["group"], r["team"], hire, False))

    order = sorted(range(len(recs)), key=lambda j: (recs[j]["hire"], j))
    recs = [recs[j] for j in order]
    n = len(recs)
    width = max(4, len(str(n)))
    leave = np.array([r["leave"] for r in recs], dtype=np.int64)
    notice = np.where(leave < NO_DAY, leave - rng.integers(14, 29, n), NO_DAY)
    return Roster(
        agent_id=[f"A{j + 1:0{width}d}" for j in range(n)],
        name=_names(rng, n),
        team=np.array([r["team"] for r in recs]),
        group=np.array([r["group"] for r in recs]),
        site=[r["site"] for r in recs],
        hire_day=np.array([r["hire"] for r in recs], dtype=np.int64),
        leave_day=leave,
        notice_day=notice,
        ft=np.array([r["ft"] for r in recs]),
        quality=np.clip(rng.normal(0.86, 0.05, n), 0.62, 0.98),
        aht_mult=np.exp(rng.normal(0, 0.12, n)),
        absence_p=np.clip(rng.gamma(2.0, model.ABSENCE_MEAN / 2, n), 0.005, 0.25),
        late_p=rng.beta(1.5, 15, n),
        skills=[r["skills"] for r in recs],
        team_id=[f"T{j + 1:02d}" for j in range(n_teams)],
        team_supervisor=[f"S{j + 1:03d}" for j in range(n_teams)],
        team_site=team_site,
        team_meeting_dow=np.arange(n_teams) % 3 + 1,
    )


@dataclass
class DaySchedule:
    local_day: int
    # published schedule segments
    seg_agent: np.ndarray
    seg_act: np.ndarray
    seg_start: np.ndarray
    seg_end: np.ndarray
    seg_published: np.ndarray
    # READY windows the ACD simulation may use
    w_agent: np.ndarray
    w_shift: np.ndarray
    w_start: np.ndarray
    w_end: np.ndarray
    w_reason: np.ndarray  # NOT_READY reason after the window; -1 on the last window
    w_first: np.ndarray
    w_last: np.ndarray
    w_lead: np.ndarray  # LOGIN this many seconds before the first READY
    w_lag: np.ndarray  # LOGOUT this many seconds after the last window ends
    # training attendance
    tr_agent: np.ndarray
    tr_course: np.ndarray  # -1 induction, else index into model.COURSES
    tr_start: np.ndarray
    tr_end: np.ndarray
    tr_completed: np.ndarray


def _merge_segments(shift, act, start, end):
    keep = end > start
    shift, act, start, end = shift[keep], act[keep], start[keep], end[keep]
    if len(shift) == 0:
        return shift, act, start, end
    new = np.ones(len(shift), dtype=bool)
    new[1:] = (shift[1:] != shift[:-1]) | (act[1:] != act[:-1]) | (start[1:] != end[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(shift)) - 1
    return shift[first], act[first], start[first], end[last]


class Workforce:
    def __init__(self, roster: Roster, queues: list[QueueInfo], demand: Demand, zones: dict[str, Zone], seed: int):
        self.R = roster
        self.queues = queues
        self.demand = demand
        self.zones = zones
        self.seed = seed
        n = roster.size
        typ = demand.typical_requirement().sum(axis=2).astype(float)  # (nq, 7) agent-slots
        self.p_work = np.array([self._work_probabilities(row) for row in typ])
        self.last_end = np.full(n, -(10**12), dtype=np.int64)
        self.last_absent = np.full(n, -10, dtype=np.int64)
        self.carry = np.zeros((len(queues), NSLOT - 96))
        self._sites = np.array(roster.site, dtype=object)
        self._patterns: dict[int, np.ndarray] = {}
        self._templates: dict = {}
        self.next_shift = 0

    @staticmethod
    def _work_probabilities(w: np.ndarray) -> np.ndarray:
        w = np.maximum(w, 1e-6)
        p = 5 * w / w.sum()
        for _ in range(10):  # cap at 0.96 and hand the excess to the other days
            over = p > 0.96
            if not over.any():
                break
            excess = (p[over] - 0.96).sum()
            p[over] = 0.96
            p[~over] += excess * p[~over] / p[~over].sum()
        return p

    def rng(self, *keys: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *keys])

    def _pattern(self, monday: int) -> np.ndarray:
        if monday not in self._patterns:
            rng = self.rng(21, monday)
            u = rng.random(self.R.size)[:, None]
            cum = np.concatenate([np.zeros((self.R.size, 1)), np.cumsum(self.p_work[self.R.group], axis=1)], axis=1)
            pattern = (np.floor(cum[:, 1:] - u) - np.floor(cum[:, :-1] - u)) >= 1
            holiday = rng.random(self.R.size) < annual_leave_share(monday + 3)
            pattern[holiday] = False
            self._patterns[monday] = pattern
            for k in [k for k in self._patterns if k < monday - 14]:
                del self._patterns[k]
        return self._patterns[monday]

    def _template(self, g: int, dow: int):
        key = (g, dow)
        if key not in self._templates:
            o, c = open_hours(self.queues[g].ct, np.array([dow]))
            o, c = float(o[0]), float(c[0])
            out = {}
            for ft, span in ((True, 8.0), (False, 4.0)):
                if c - o >= 24:
                    starts = np.arange(0, 24, 0.5) if ft else np.arange(6, 20.01, 0.5)
                else:
                    starts = np.arange(o, max(o, c - span) + 1e-9, 0.5)
                cover = np.zeros((len(starts), NSLOT))
                for i, s in enumerate(starts):
                    a = int(round(s * 4))
                    cover[i, a : a + int(span * 4)] = 1
                    if ft:
                        cover[i, a + 8] = 0
                        cover[i, a + 16 : a + 18] = 0
                        cover[i, a + 25] = 0
                    else:
                        cover[i, a + 8] = 0
                out[ft] = ((starts * 3600).astype(np.int64), cover)
            self._templates[key] = out
        return self._templates[key]

    def _required(self, g: int, local_day: int) -> np.ndarray:
        q = self.queues[g]
        zone = self.zones[q.site_id]
        utc = zone.to_utc(local_day * DAY + np.arange(NSLOT, dtype=np.int64) * 900)
        uday = utc // DAY
        idx = (utc - uday * DAY) // 900
        fc = np.zeros(NSLOT)
        aht = np.zeros(NSLOT)
        for d in np.unique(uday):
            f, a = self.demand.forecast(int(d))
            m = uday == d
            fc[m] = f[g, idx[m]]
            aht[m] = a[g]
        return erlang_required(fc * aht / 900.0, np.maximum(aht, 1.0), q.sl_threshold, model.SL_PLAN_TARGET).astype(float)

    def schedule_day(self, local_day: int) -> DaySchedule:
        R = self.R
        rng = self.rng(22, local_day)
        dow = int((local_day + 3) % 7)
        monday = local_day - dow
        active = (R.hire_day <= local_day) & (R.leave_day >= local_day)
        induction = active & (local_day - R.hire_day < 7) & (dow < 5) & (R.hire_day >= monday - 6)
        working = active & ~induction & self._pattern(monday)[:, dow] & (local_day - R.hire_day >= 7)

        sh_agent, sh_start, sh_breaks = [], [], []  # local seconds; break offsets in slots
        for g in range(len(self.queues)):
            members = np.flatnonzero(working & (R.group == g))
            if len(members) == 0:
                self.carry[g] = 0
                continue
            members = members[rng.permutation(len(members))]
            members = np.concatenate([members[R.ft[members]], members[~R.ft[members]]])
            req = self._required(g, local_day)
            cov = np.zeros(NSLOT)
            cov[: NSLOT - 96] += self.carry[g]
            tmpl = self._template(g, dow)
            inv_req = 1.0 / np.maximum(req, 1.0)
            for a in members:
                starts, cover = tmpl[bool(R.ft[a])]
                allowed = local_day * DAY + starts >= self.last_end[a] + 11 * 3600
                if not allowed.any():
                    continue
                # relative shortfall: when short of people, spread the gap instead of starving the evening
                d = (req - cov) * inv_req
                score = cover @ np.maximum(d, 0) + 1e-3 * (cover @ d)
                score[~allowed] = -np.inf
                k = int(np.argmax(score))
                # breaks and lunch go where this queue is best covered, as a WFM tool places them
                a0 = int(starts[k] // 900)
                ft_a = bool(R.ft[a])
                vec = np.zeros(NSLOT)
                vec[a0 : a0 + (32 if ft_a else 16)] = 1
                surplus = cov - req + rng.random(NSLOT) * 1e-3
                b1 = a0 + 7 + int(np.argmax(surplus[a0 + 7 : a0 + 10]))
                vec[b1] = 0
                if ft_a:
                    lunch2 = surplus[a0 + 15 : a0 + 19] + surplus[a0 + 16 : a0 + 20]
                    lu = a0 + 15 + int(np.argmax(lunch2))
                    b2 = a0 + 25 + int(np.argmax(surplus[a0 + 25 : a0 + 28]))
                    vec[lu : lu + 2] = 0
                    vec[b2] = 0
                else:
                    lu = b2 = a0
                cov += vec
                sh_agent.append(a)
                sh_start.append(local_day * DAY + starts[k])
                sh_breaks.append((b1 - a0, lu - a0, b2 - a0))
            self.carry[g] = cov[96:]
        sh_agent = np.array(sh_agent, dtype=np.int64)
        sh_start = np.array(sh_start, dtype=np.int64)
        sh_breaks = np.array(sh_breaks, dtype=np.int64).reshape(-1, 3) * 900
        ns = len(sh_agent)
        ft = R.ft[sh_agent] if ns else np.zeros(0, dtype=bool)
        span = np.where(ft, 8 * 3600, 4 * 3600)
        if ns:
            self.last_end[sh_agent] = sh_start + span

        # absence (sickness runs over several days), courses and team meetings
        p_abs = np.where(self.last_absent[sh_agent] == local_day - 1, 0.5, R.absence_p[sh_agent])
        absent = rng.random(ns) < p_abs
        self.last_absent[sh_agent[absent]] = local_day
        low_q = R.quality[sh_agent] < 0.82
        train = ~absent & (rng.random(ns) < model.TRAINING_P * np.where(low_q, 1.8, 1.0))
        course = np.where(low_q & (rng.random(ns) < 0.6), 1, rng.integers(0, len(model.COURSES), ns))
        course_min = np.array([c[2] for c in model.COURSES])[course]
        meet = ~absent & ~train & (R.team_meeting_dow[R.team[sh_agent]] == dow) if ns else np.zeros(0, bool)
        x_act = np.where(train, TRAINING, np.where(meet, MEETING, OPEN))
        x_len = np.where(train, course_min * 60, np.where(meet, 1800, 0))

        shift_ids = self.next_shift + np.arange(ns + int(induction.sum()))
        self.next_shift += len(shift_ids)
        segs = []  # (shift_pos, act, local start, local end)

        def add(pos, acts, bounds):
            for j, a in enumerate(acts):
                segs.append((pos, np.full(len(pos), a), bounds[j], bounds[j + 1]))

        m = 60
        normal = ~absent
        ftm = np.flatnonzero(normal & ft)
        if len(ftm):
            S = sh_start[ftm]
            b1 = S + sh_breaks[ftm, 0]
            lu = S + sh_breaks[ftm, 1]
            xs = lu + 45 * m
            xe = xs + x_len[ftm]
            b2 = np.maximum(S + sh_breaks[ftm, 2], xe + 15 * m)
            E = S + 480 * m
            bounds = [S, b1, b1 + 15 * m, lu, lu + 30 * m, xs, xe, b2, b2 + 15 * m, E]
            xa = x_act[ftm]
            pos = ftm
            for j, a in enumerate([OPEN, BREAK, OPEN, LUNCH, OPEN, None, OPEN, BREAK, OPEN]):
                segs.append((pos, xa if a is None else np.full(len(pos), a), bounds[j], bounds[j + 1]))
        ptm = np.flatnonzero(normal & ~ft)
        if len(ptm):
            S = sh_start[ptm]
            xs = S + 15 * m
            xe = xs + x_len[ptm]
            b1 = np.maximum(S + sh_breaks[ptm, 0], xe + 15 * m)
            bounds = [S, xs, xe, b1, b1 + 15 * m, S + 240 * m]
            for j, a in enumerate([OPEN, None, OPEN, BREAK, OPEN]):
                segs.append((ptm, x_act[ptm] if a is None else np.full(len(ptm), a), bounds[j], bounds[j + 1]))
        ab = np.flatnonzero(absent)
        if len(ab):
            segs.append((ab, np.full(len(ab), ABSENCE), sh_start[ab], sh_start[ab] + span[ab]))
        ind_agents = np.flatnonzero(induction)
        ind_pos = ns + np.arange(len(ind_agents))
        if len(ind_agents):
            base = local_day * DAY
            hrs = [9, 10.5, 10.75, 12.5, 13, 15, 15.25, 17]
            bounds = [np.full(len(ind_agents), base + int(h * 3600), dtype=np.int64) for h in hrs]
            add(ind_pos, [TRAINING, BREAK, TRAINING, LUNCH, TRAINING, BREAK, TRAINING], bounds)
        all_agents = np.concatenate([sh_agent, ind_agents]).astype(np.int64)

        if segs:
            pos = np.concatenate([s[0] for s in segs])
            act = np.concatenate([s[1] for s in segs]).astype(np.int64)
            ls = np.concatenate([s[2] for s in segs]).astype(np.int64)
            le = np.concatenate([s[3] for s in segs]).astype(np.int64)
            o = np.lexsort((ls, pos))
            pos, act, ls, le = _merge_segments(pos[o], act[o], ls[o], le[o])
        else:
            pos = act = ls = le = np.zeros(0, dtype=np.int64)
        seg_agent = all_agents[pos]
        us, ue = self._to_utc(seg_agent, ls), self._to_utc(seg_agent, le)
        real = ue > us  # a segment inside a spring-forward gap does not happen
        pos, act, seg_agent, us, ue = pos[real], act[real], seg_agent[real], us[real], ue[real]
        published = np.full(len(pos), (monday - 5) * DAY + 12 * 3600, dtype=np.int64)
        is_abs = act == ABSENCE
        published[is_abs] = us[is_abs] - rng.integers(1800, 4 * 3600, int(is_abs.sum()))

        # training attendance rows
        tr = act == TRAINING
        tr_agent = seg_agent[tr]
        tr_pos = pos[tr]
        tr_course = np.full(len(tr_pos), -1)
        regular = tr_pos < ns
        tr_course[regular] = course[tr_pos[regular]]
        if len(ind_agents):  # one induction row per day, 09:00-17:00
            keep = tr_course >= 0
            tr_agent, tr_course = tr_agent[keep], tr_course[keep]
            t_s, t_e = us[tr][keep], ue[tr][keep]
            tr_agent = np.concatenate([tr_agent, ind_agents])
            tr_course = np.concatenate([tr_course, np.full(len(ind_agents), -1)])
            t_s = np.concatenate([t_s, self._to_utc(ind_agents, np.full(len(ind_agents), local_day * DAY + 9 * 3600))])
            t_e = np.concatenate([t_e, self._to_utc(ind_agents, np.full(len(ind_agents), local_day * DAY + 17 * 3600))])
        else:
            t_s, t_e = us[tr], ue[tr]
        tr_completed = rng.random(len(tr_agent)) > 0.03

        w = self._windows(rng, pos, act, us, ue, seg_agent, shift_ids)
        return DaySchedule(local_day, seg_agent, act, us, ue, published, *w,
                           tr_agent, tr_course, t_s, t_e, tr_completed)

    def _to_utc(self, agents: np.ndarray, local: np.ndarray) -> np.ndarray:
        out = np.empty(len(local), dtype=np.int64)
        sites = self._sites[agents]
        for s in sorted(set(sites.tolist())):
            m = sites == s
            out[m] = self.zones[s].to_utc(local[m])
        return out

    def _windows(self, rng, pos, act, us, ue, seg_agent, shift_ids):
        R = self.R
        idx = np.flatnonzero(act == OPEN)
        n = len(act)
        sh = pos[idx]
        nxt = idx + 1
        has_next = nxt < n
        has_next[has_next] &= pos[nxt[has_next]] == sh[has_next]
        reason = np.where(has_next, act[np.minimum(nxt, n - 1)], -1)
        agent = seg_agent[idx]
        ws, we = us[idx].copy(), ue[idx].copy()
        k = len(idx)
        first = np.ones(k, dtype=bool)
        first[1:] = sh[1:] != sh[:-1]
        last = np.ones(k, dtype=bool)
        last[:-1] = sh[:-1] != sh[1:]
        # adherence: late log-ins, long breaks, early departures
        late = rng.random(k) < R.late_p[agent]
        login_dev = np.where(late, rng.integers(180, 1200, k), np.clip(rng.normal(20, 60, k), -240, 180))
        long_break = rng.random(k) < 0.10
        return_dev = np.where(long_break, rng.integers(180, 720, k), np.clip(rng.normal(40, 50, k), -60, 240))
        ws += np.where(first, login_dev, return_dev).astype(np.int64)
        early = rng.random(k) < 0.04
        logout_dev = np.where(early, -rng.integers(300, 1200, k), np.clip(rng.normal(60, 90, k), -120, 400))
        leave_dev = np.clip(rng.normal(-15, 45, k), -180, 120)
        we += np.where(last, logout_dev, leave_dev).astype(np.int64)
        # unscheduled short pauses split a window in two
        length = we - ws
        split = (length > 2400) & (rng.random(k) < 0.25)
        ps = ws + ((0.2 + 0.6 * rng.random(k)) * length).astype(np.int64)
        pd = np.clip(np.exp(rng.normal(np.log(240), 0.6, k)), 60, 900).astype(np.int64)
        pr = np.where(rng.random(k) < 0.75, PERSONAL, SYSTEM)
        s = np.flatnonzero(split)
        agent = np.concatenate([agent, agent[s]])
        sh = np.concatenate([sh, sh[s]])
        new_ws = np.concatenate([ws, ps[s] + pd[s]])
        new_we = np.concatenate([np.where(split, ps, we), we[s]])
        reason = np.concatenate([np.where(split, pr, reason), reason[s]])
        o = np.lexsort((new_ws, sh))
        agent, sh, ws, we, reason = agent[o], sh[o], new_ws[o], new_we[o], reason[o]
        keep = we - ws >= 60
        agent, sh, ws, we, reason = agent[keep], sh[keep], ws[keep], we[keep], reason[keep]
        k = len(sh)
        first = np.ones(k, dtype=bool)
        first[1:] = sh[1:] != sh[:-1]
        last = np.ones(k, dtype=bool)
        last[:-1] = sh[:-1] != sh[1:]
        reason = np.where(last, -1, reason)
        lead = rng.integers(10, 90, k)
        lag = rng.integers(3, 40, k)
        return agent, shift_ids[sh] if k else sh, ws, we, reason, first, last, lead, lag
