"""What the CRM and QA systems record of the calls: cases, interactions, complaints, surveys'
links, and QA evaluations with their items.

A mixin of ccq.generator.engine.Generator: the methods use its state (self.R, self.out, ...)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ccq.generator import model
from ccq.generator.common import INFO, RESOLVED, SEVERITIES, WRAP_CODES
from ccq.generator.output import ids, take
from ccq.generator.timeutil import DAY


class CustomerMixin:
    def _qa(self, rng, legs_i, agents, qual, routed, cat, wrap) -> None:
        k = len(legs_i)
        day = routed["t_out"][legs_i] // DAY
        ev_at = (day + rng.integers(1, 5, k)) * DAY + rng.integers(8 * 3600, 17 * 3600, k)
        eval_ids = self._ids("evaluation", "QE", k, 8)
        self.out.add(
            "qa_evaluations", ev_at // DAY, ev_at,
            evaluation_id=eval_ids, contact_id=self.contact_ids(routed["gid"][legs_i]),
            agent_id=take(self.agent_ids, agents), evaluator_id=self.evaluators.take(pa.array(rng.integers(0, self.n_eval, k))),
            form_id=model.QA_FORM_ID, evaluated_at=ev_at,
        )
        ni = len(model.QA_ITEMS)
        ev = np.repeat(np.arange(k), ni)
        item = np.tile(np.arange(ni), k)
        weight = np.array([it[2] for it in model.QA_ITEMS])[item]
        mx = np.array([it[3] for it in model.QA_ITEMS])[item]
        crit = np.array([it[4] for it in model.QA_ITEMS])[item]
        rule = np.array([it[5] or "" for it in model.QA_ITEMS])[item]
        no_hold = routed["hold_n"][legs_i][ev] == 0
        info = (wrap[ev] == INFO) | (cat[ev] == self.categories.index("GENERAL_INFO"))
        na = ((rule == "no_hold") & no_hold) | ((rule == "info_only") & info)
        qv = qual[ev]
        p = np.clip(qv + rng.normal(0.0, 0.09, len(ev)), 0, 1)
        score = np.rint(p * mx)
        crit_fail = rng.random(len(ev)) < 0.015 + 0.5 * np.maximum(0, 0.84 - qv)
        score = np.where(crit, np.where(crit_fail, 0.0, mx), score)
        score = np.where(na, np.nan, score)
        self.out.add(
            "qa_evaluation_items", ev_at[ev] // DAY, ev_at[ev],
            evaluation_id=eval_ids.take(pa.array(ev)), item_id=take([it[0] for it in model.QA_ITEMS], item),
            item_name=take([it[1] for it in model.QA_ITEMS], item), weight=weight, is_critical=crit,
            not_applicable=na, score=score, max_score=mx,
        )

    # -- daily extracts -------------------------------------------------------------------
    def _crm(self, extract_day: int) -> None:
        rng = self.rng(41, extract_day)
        parts = self.crm_raw.pop(extract_day, [])
        day0 = extract_day * DAY
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
                "crm_interactions", np.full(n, extract_day), raw["created"],
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
                    received_at=raw["comp_at"][cp], category=take(model.COMPLAINT_CATEGORIES, raw["comp_cat"][cp]),
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
            bo = untouched & ~stale & (rng.random(k) < 0.10)
            bo_at = day0 + rng.integers(8 * 3600, 18 * 3600, k)
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
