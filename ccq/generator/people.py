"""The workforce side: schedules and training (WFM, HR), the agents' day (tenure, quality),
shift ends, the roster snapshots, forecasts, the staff survey and finance lines.

A mixin of ccq.generator.engine.Generator: the methods use its state (self.R, self.out, ...)."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import pyarrow as pa

from ccq.generator import model
from ccq.generator.common import STATES
from ccq.generator.demand import SLOTS
from ccq.generator.output import take
from ccq.generator.queue_sim import BIG
from ccq.generator.timeutil import DAY, day_index, index_date
from ccq.generator.workforce import ACTIVITY_NAMES, NO_DAY, REASON_NAMES, DaySchedule


class PeopleMixin:
    # -- workforce --------------------------------------------------------------------------
    def _schedule(self, local_day: int) -> None:
        s: DaySchedule = self.wf.schedule_day(local_day)
        if self.first <= local_day <= self.last and len(s.seg_agent):
            self.out.add(
                "wfm_schedules", np.full(len(s.seg_agent), local_day), s.seg_start,
                agent_id=take(self.agent_ids, s.seg_agent),
                schedule_date=np.full(len(s.seg_agent), local_day),
                activity=take(ACTIVITY_NAMES, s.seg_act),
                starts_at=s.seg_start, ends_at=s.seg_end, published_at=s.seg_published,
            )
        if len(s.tr_agent):
            course_ids = [c[0] for c in model.COURSES] + [model.INDUCTION[0]]
            course_names = [c[1] for c in model.COURSES] + [model.INDUCTION[1]]
            ci = np.where(s.tr_course < 0, len(model.COURSES), s.tr_course)
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
        self.quality_today = np.clip(R.quality + model.TRAINING_QUALITY_GAIN * np.minimum(self.courses_done, 3)
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

    def _roster(self, extract_day: int) -> None:
        R = self.R
        m = np.flatnonzero(R.hire_day <= extract_day)
        leave = np.where(R.notice_day[m] <= extract_day, R.leave_day[m], -1)
        ft = R.ft[m]
        self.out.add(
            "hr_roster", np.full(len(m), extract_day), np.arange(len(m)),
            agent_id=take(self.agent_ids, m), agent_name=take(R.name, m),
            team_id=take(R.team_id, R.team[m]), supervisor_id=take(R.team_supervisor, R.team[m]),
            site_id=take(R.site, m), hire_date=R.hire_day[m], leave_date=np.where(leave >= NO_DAY, -1, leave),
            employment_type=take(("PT", "FT"), ft.astype(int)),
            weekly_hours=np.where(ft, model.FT_HOURS, model.PT_HOURS), snapshot_date=np.full(len(m), extract_day),
        )

    def _forecast(self, extract_day: int) -> None:
        fc, aht = self.demand.forecast(extract_day)
        nq = self.nq
        qi = np.repeat(np.arange(nq), SLOTS)
        start = extract_day * DAY + np.tile(np.arange(SLOTS), nq) * 900
        dow = (extract_day + 3) % 7
        made = (extract_day - dow - 5) * DAY + 10 * 3600
        o = np.lexsort((qi, start))
        self.out.add(
            "wfm_forecasts", np.full(len(qi), extract_day), start[o],
            queue_id=take(self.queue_ids, qi[o]), interval_start=start[o], interval_minutes=np.full(len(qi), 15),
            forecast_contacts=np.round(fc.ravel()[o], 2), forecast_aht_seconds=np.round(aht[qi[o]], 1),
            forecast_made_at=np.full(len(qi), made),
        )

    def _staff_survey(self, extract_day: int) -> None:
        """Monthly pulse survey, answered in the first week of the month."""
        R = self.R
        d = index_date(extract_day)
        month0 = extract_day - (d.day - 1)
        rng = self.rng(51, month0)
        active = np.flatnonzero((R.hire_day <= month0 + 6) & (R.leave_day >= month0) & (R.hire_day <= self.last))
        answer = active[rng.random(len(active)) < 0.65]
        day = month0 + rng.integers(0, 7, len(answer))
        day = np.maximum(day, np.maximum(R.hire_day[answer], extract_day))
        ok = day <= np.minimum(R.leave_day[answer], month0 + 6)
        answer, day = answer[ok], day[ok]
        k = len(answer)
        if k == 0:
            return
        o = np.argsort(day, kind="stable")
        answer, day = answer[o], day[o]
        nqst = len(model.STAFF_QUESTIONS)
        resp = np.repeat(np.arange(k), nqst)
        qq = np.tile(np.arange(nqst), k)
        mood = 3.5 + self.team_effect[R.team[answer]] + rng.normal(0, 0.1)  # team climate plus this month's drift
        question_effect = np.array([0.2, -0.3, 0.1, 0.0, -0.2])
        score = np.clip(np.rint(mood[resp] + question_effect[qq] + rng.normal(0, 0.9, len(resp))), 1, 5)
        rid = self._ids("response", "R", k, 8)
        self.out.add(
            "hr_staff_survey", day[resp], day[resp] * DAY + resp,
            response_id=rid.take(pa.array(resp)), question_id=take(model.STAFF_QUESTIONS, qq),
            team_id=take(R.team_id, R.team[answer][resp]), site_id=take(R.site, answer[resp]),
            survey_date=day[resp], score=score.astype(np.int64),
        )

    def _finance(self, extract_day: int) -> None:
        d = index_date(extract_day)
        month = date(d.year, d.month, 1)
        raise_steps = (d.year - 2024) + (1 if d.month >= 4 else 0)
        rows_site, rows_item, rows_amt = [], [], []
        R = self.R
        for s in self.site_list:
            heads = int(((R.hire_day <= extract_day) & (R.leave_day >= extract_day) & (np.array(R.site) == s)).sum())
            if heads == 0:
                continue
            rows_site += [s, s]
            rows_item += ["AGENT_HOURLY_LOADED", "FIXED"]
            rows_amt += [round(model.HOURLY_COST.get(s, 29.0) * 1.035 ** raise_steps, 2),
                         round(model.FIXED_PER_SITE + model.FIXED_PER_SEAT * math.ceil(heads * 1.1), 2)]
        k = len(rows_site)
        self.out.add(
            "finance_costs", np.full(k, extract_day), np.arange(k),
            period_month=np.full(k, day_index(month)), site_id=pa.array(rows_site), cost_item=pa.array(rows_item),
            amount=np.array(rows_amt), currency="GBP",
        )
        self.out.flush("finance_costs", extract_day)
