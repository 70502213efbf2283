"""Calls, queues and routing: the PBX attempts and IVR of each call, the queue legs, the
routing simulation and the ACD events, agent states and outbound calls it yields.

A mixin of ccq.generator.engine.Generator: the methods use its state (self.R, self.out, ...)."""
from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ccq.generator import model
from ccq.generator.common import (DISPOSITIONS, ERROR, EV, EVENT_TYPES, FOLLOW_UP, HANGUP, INFO, IVR_OUTCOMES,
                                  RESOLVED, SELF_SERVED, SEVERITIES, TO_AGENT, TRANSFERRED, _Registry,
                                  _choice_rows, _lognormal)
from ccq.generator.demand import SLOTS, WEEKDAY_WEIGHT
from ccq.generator.output import ids, take
from ccq.generator.queue_sim import ABANDONED, CONNECTED, TIMEOUT, VIA_TRANSFER, run_until
from ccq.generator.timeutil import DAY


class ContactsMixin:
    # -- calls ------------------------------------------------------------------------------
    def _contacts(self, d: int) -> tuple[_Registry, dict[str, list]]:
        rng = self.rng(31, d)
        _, act, is_open = self.demand.grid(d)
        nq = self.nq
        counts = rng.poisson(act)
        flat = counts.ravel()
        q = np.repeat(np.repeat(np.arange(nq), SLOTS), flat)
        slot = np.repeat(np.tile(np.arange(SLOTS), nq), flat)
        n_new = len(q)
        cust = rng.integers(0, self.n_cust, n_new)
        prem = np.array([qi.call_type == "premium" for qi in self.queues])[q]
        cust[prem] = rng.integers(0, self.n_premium, int(prem.sum()))
        cat = _choice_rows(rng, self.cat_mix[q])
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
                    rslot[m] = np.minimum(np.searchsorted(cdf, rng.random(int(m.sum()))), SLOTS - 1)
            q = np.concatenate([q, rq])
            slot = np.concatenate([slot, rslot])
            cust = np.concatenate([cust, rc])
            cat = np.concatenate([cat, rcat])
            rep = np.concatenate([rep, np.ones(len(rq), dtype=bool)])
        n = len(q)
        t = d * DAY + slot * 900 + rng.integers(0, 900, n)
        o = np.argsort(t, kind="stable")
        q, slot, cust, cat, rep, t = q[o], slot[o], cust[o], cat[o], rep[o], t[o]

        lam = act.sum(axis=0)
        peak = lam >= 0.85 * lam.max() if lam.max() > 0 else np.zeros(SLOTS, bool)
        blocked = rng.random(n) < (model.BLOCKED_P + model.BLOCKED_PEAK_P * peak[slot])
        block_code = np.where(blocked, 1 + _choice_rows(rng, np.tile([0.5, 0.35, 0.15], (n, 1))), 0)
        opened = is_open[q, slot]
        u = rng.random(n)
        hang = self.q_arr["hangup"][q]
        selfs = self.q_arr["self_serve"][q] * np.where(rep, 0.3, 1.0)
        outcome = np.where(u < 0.004, ERROR, np.where(u < 0.004 + hang, HANGUP,
                           np.where(u < 0.004 + hang + selfs, SELF_SERVED, TO_AGENT)))
        closed_self = rng.random(n) < 0.35
        outcome = np.where(opened, outcome, np.where(closed_self, SELF_SERVED, HANGUP))
        outcome = np.where(blocked, -1, outcome)
        k_close = 3 * nq
        path = np.select(
            [~opened & (outcome == SELF_SERVED), ~opened, outcome == ERROR],
            [k_close, k_close + 1, k_close + 2],
            3 * q + np.where(outcome == TO_AGENT, 0, np.where(outcome == SELF_SERVED, 1, 2)),
        )
        ring = rng.integers(1, 5, n)
        dur = np.select(
            [outcome == TO_AGENT, outcome == SELF_SERVED, outcome == ERROR, ~opened],
            [_lognormal(rng, 35, 0.4, n, 8, 240), _lognormal(rng, 110, 0.5, n, 20, 900),
             rng.integers(5, 40, n), _lognormal(rng, 18, 0.5, n, 4, 120)],
            _lognormal(rng, 22, 0.7, n, 3, 300),
        )
        ivr_in = t + ring
        ivr_out = ivr_in + dur
        end = np.where(blocked, t + rng.integers(1, 4, n), ivr_out)
        identified = rng.random(n) < self.q_arr["identified"][q]
        base = self.next_gid
        reg = _Registry(base, dict(
            start=t, q=q, cust=cust, cat=cat, rep=rep, identified=identified, block=block_code,
            outcome=outcome, path=path, ivr_in=ivr_in, ivr_out=ivr_out, end=end,
        ))

        a = np.flatnonzero(outcome == TO_AGENT)
        a = a[np.argsort(ivr_out[a], kind="stable")]
        k = len(a)
        qa = q[a]
        short = rng.random(k) < model.SHORT_ABANDON_SHARE
        pat = np.where(short, rng.integers(1, 5, k),
                       np.maximum(1, np.exp(rng.normal(self.q_arr["pat_mu"][qa], model.PATIENCE_SIGMA)))).astype(np.int64)
        talk = np.clip(np.exp(rng.normal(self.q_arr["talk_mu"][qa], self.q_arr["talk_sig"][qa])), 15, 3600).astype(np.int64)
        has_hold = rng.random(k) < self.q_arr["hold_p"][qa]
        two = rng.random(k) < 0.25
        h1 = _lognormal(rng, model.HOLD_MEDIAN, model.HOLD_SIGMA, k, 5, 900)
        h2 = _lognormal(rng, model.HOLD_MEDIAN, model.HOLD_SIGMA, k, 5, 900)
        hold_n = np.where(has_hold, np.where(two, 2, 1), 0)
        hold = np.where(has_hold, h1 + np.where(two, h2, 0), 0)
        acw = np.clip(np.exp(rng.normal(self.q_arr["acw_mu"][qa], model.ACW_SIGMA)), 3, 600).astype(np.int64)
        xfer = np.full(k, -1)
        ux = rng.random(k)
        uy = rng.random(k)
        for qi in range(nq):
            targets = self.sim.xfer_targets[qi]
            m = (qa == qi) & (ux < self.sim.xfer_p[qi])
            if targets and m.any():
                xfer[m] = np.array(targets)[(uy[m] * len(targets)).astype(int)]
        rna = rng.random(k) < model.RNA_P
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

    def _after_routing(self, d: int, routed: dict[str, np.ndarray], redials, outbound) -> None:
        rng = self.rng(33, d)
        n = len(routed["gid"])
        gid, q, agent, outc = routed["gid"], routed["q"], routed["agent"], routed["outcome"]
        con = outc == CONNECTED
        s = routed["t_out"]
        line_end = np.where(con, s + routed["talk"] + routed["hold"], s)
        acw_end = line_end + routed["acw"]
        self._update_end(gid, line_end)
        cust = self._lookup(gid, "cust")
        identified = self._lookup(gid, "identified")
        cat = self._lookup(gid, "cat")
        rep = self._lookup(gid, "rep")
        wait = s - routed["t0"]

        # ACD queue events
        hn = routed["hold_n"]
        talk = routed["talk"]
        f1 = 0.1 + 0.35 * rng.random(n)
        f2 = 0.55 + 0.35 * rng.random(n)
        h1 = np.where(hn == 2, np.maximum(5, (routed["hold"] * (0.3 + 0.4 * rng.random(n))).astype(np.int64)), routed["hold"])
        h2 = routed["hold"] - h1
        hold1 = s + np.maximum(1, (f1 * talk).astype(np.int64))
        hold2 = s + np.maximum(2, (f2 * talk).astype(np.int64)) + h1
        xf = routed["xfer"] >= 0
        parts = [
            (np.ones(n, bool), routed["t0"], EV["ENTERQUEUE"], 0),
            (routed["rna_agent"] >= 0, routed["rna_t"], EV["RINGNOANSWER"], 1),
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
        o = np.lexsort((eo, routed["leg"][li], gid[li], et))
        li, et, ety = li[o], et[o], ety[o]
        ev_agent = np.where(ety == EV["RINGNOANSWER"], routed["rna_agent"][li],
                            np.where(np.isin(ety, [EV["ENTERQUEUE"], EV["ABANDON"], EV["EXITTIMEOUT"]]), -1, agent[li]))
        is_enter = ety == EV["ENTERQUEUE"]
        hangup_side = np.where(rng.random(n) < 0.7, 0, 1)
        detail_idx = np.select(
            [ety == EV["TRANSFER"], ety == EV["EXITTIMEOUT"], ety == EV["COMPLETE"]],
            [routed["xfer"][li], np.full(len(li), self.nq), self.nq + 1 + hangup_side[li]], -1,
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
            queue_leg=routed["leg"][li], event_at=et, event_type=take(EVENT_TYPES, ety),
            queue_id=take(self.queue_ids, q[li]), agent_id=take(self.agent_ids, ev_agent),
            caller_number=pc.if_else(enter_mask, phone, null),
            customer_id=pc.if_else(pa.array(is_enter & identified[li].astype(bool)),
                                           self.customer_ids(ev_cust), null),
            detail=take(details, detail_idx),
        )

        # PBX: internal legs for transfers, outbound legs placed in idle time
        tv = np.flatnonzero(routed["via"] == VIA_TRANSFER)
        if len(tv):
            st = routed["t0"][tv]
            self.out.add(
                "pbx_call_legs", st // DAY, st,
                leg_id=self._ids("leg", "L", len(tv), 10), call_id=self.contact_ids(gid[tv]),
                direction="internal",
                caller_number=ids("2", routed["from_agent"][tv] + 1, 4),
                dialled_number=ids("7", q[tv] + 1, 3),
                trunk_id=None, site_id=take(self.site_list, self.q_site_idx[q[tv]]), agent_id=None,
                started_at=st, answered_at=np.where(con[tv], s[tv], -1), ended_at=line_end[tv],
                disposition=take(DISPOSITIONS, np.where(con[tv], 0, 4)),
            )
        final = con & ~xf
        unresolved_custs = cust[final]
        if outbound:
            ob = np.array(outbound, dtype=np.int64)
            self._outbound(rng, ob, unresolved_custs)

        # CRM interactions (case ids are given when the day's CRM extract is built)
        ci = np.flatnonzero(con)
        ca = agent[ci]
        qual = self.quality_today[ca]
        p_res = np.clip(self.q_arr["resolve"][q[ci]] + 0.8 * (qual - 0.86) + 0.1 * rep[ci]
                        - 0.12 * (1 - self.tenure_today[ca]), 0.25, 0.97)
        resolved = rng.random(len(ci)) < p_res
        ccat = cat[ci]
        info_cat = self.categories.index("GENERAL_INFO")
        wrap = np.where(xf[ci], TRANSFERRED,
                        np.where(resolved, np.where((ccat == info_cat) & (rng.random(len(ci)) < 0.7), INFO, RESOLVED),
                                 FOLLOW_UP))
        created = line_end[ci] + (routed["acw"][ci] * (0.3 + 0.65 * rng.random(len(ci)))).astype(np.int64)
        reason = self.reason_start[ccat] + np.minimum(
            (rng.random(len(ci)) ** 1.6 * self.reason_count[ccat]).astype(np.int64), self.reason_count[ccat] - 1)
        is_final = ~xf[ci]
        unres = is_final & (wrap == FOLLOW_UP)
        total_wait = routed["prior_wait"][ci] + wait[ci]
        w_term = 0.012 * np.minimum(total_wait / 300.0, 3.0)
        terms = np.stack([
            w_term + 1e-4, 0.025 * unres, 0.01 * (routed["leg"][ci] > 1), 0.15 * np.maximum(0, 0.84 - qual) + 5e-4,
            0.002 * self.q_arr["is_billing"][q[ci]], 0.002 * self.q_arr["is_tech"][q[ci]], np.full(len(ci), 0.001),
        ], axis=1)
        complaint = is_final & (rng.random(len(ci)) < 0.0008 + 0.3 * terms.sum(axis=1))
        comp_cat = _choice_rows(rng, terms)
        delay = np.where(rng.random(len(ci)) < 0.7, 0, _lognormal(rng, 20 * 3600, 1.0, len(ci), 600, 20 * DAY))
        raw = dict(created=created, gid=gid[ci], agent=ca, cust=cust[ci], cat=ccat, reason=reason, wrap=wrap,
                   complaint=complaint, comp_cat=comp_cat,
                   comp_sev=_choice_rows(rng, np.tile([0.55, 0.35, 0.10], (len(ci), 1)) + np.where(rep[ci], 0.1, 0)[:, None] * [0, 0, 1]),
                   comp_at=created + delay, comp_contact=(delay == 0) | (rng.random(len(ci)) < 0.8))
        cday = created // DAY
        for day in np.unique(cday):
            m = cday == day
            self.crm_raw.setdefault(int(day), []).append({k: v[m] for k, v in raw.items()})

        # complaints about abandoned calls (no case)
        ab = np.flatnonzero((outc == ABANDONED) & (wait >= 180))
        ab = ab[rng.random(len(ab)) < 0.01]
        if len(ab):
            rec = s[ab] + _lognormal(rng, 6 * 3600, 0.8, len(ab), 300, 5 * DAY)
            self.out.add(
                "crm_complaints", rec // DAY, rec,
                complaint_id=self._ids("complaint", "CP", len(ab), 8), case_id=None,
                customer_id=self.customer_ids(cust[ab]), contact_id=self.contact_ids(gid[ab]),
                received_at=rec, category="LONG_WAIT", severity=take(SEVERITIES, rng.integers(0, 2, len(ab))),
            )

        # surveys after the final handled leg of a contact
        fi = ci[is_final]
        f_unres = unres[is_final]
        f_qual = qual[is_final]
        f_wait = total_wait[is_final]
        f_rep = rep[fi].astype(bool)
        sent_m = rng.random(len(fi)) < 0.4
        si = np.flatnonzero(sent_m)
        if len(si):
            k = len(si)
            sent = line_end[fi[si]] + rng.integers(120, 1200, k)
            p_resp = np.clip(0.23 + 0.06 * f_unres[si] + 0.04 * (f_wait[si] > 120), 0, 1)
            resp = rng.random(k) < p_resp
            resp_at = sent + _lognormal(rng, 2700, 1.2, k, 30, 3 * DAY)
            latent = (4.35 - 0.45 * (f_wait[si] > 60) - np.minimum(0.004 * np.maximum(f_wait[si] - 60, 0), 1.2)
                      - 1.3 * f_unres[si] - 0.35 * (routed["leg"][fi[si]] > 1) + 2.0 * (f_qual[si] - 0.86)
                      + rng.normal(0, 0.55, k))
            csat = np.clip(np.rint(latent), 1, 5).astype(np.int64)
            nps = np.clip(np.rint(2.2 * latent - 1.0 + rng.normal(0, 1.0, k)), 0, 10).astype(np.int64)
            yes_p = np.where(f_unres[si], 0.05, np.where(f_rep[si], 0.4, 0.92))
            rft = np.where(rng.random(k) < 0.05, -1, (rng.random(k) < yes_p).astype(np.int64))
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
            perm = rng.permutation(len(ci))
            _, first_idx = np.unique(ca[perm], return_index=True)
            pick = perm[first_idx]
            pick = pick[rng.random(len(pick)) < 0.4]
            if len(pick):
                self._qa(rng, ci[pick], ca[pick], qual[pick], routed, ccat[pick], wrap[pick])

        # customers call again: often after an unresolved contact, rarely after a resolved one
        redialed = set(p for _, p, _, _ in redials)
        ab_final = (outc == ABANDONED) & ~np.isin(gid, np.fromiter(redialed, np.int64, len(redialed)))
        rp = np.concatenate([np.where(f_unres, 0.5, 0.06), np.full(int(ab_final.sum()), 0.25)])
        rg = np.concatenate([gid[fi], gid[ab_final]])
        go = rng.random(len(rp)) < rp
        if go.any():
            rg = rg[go]
            offs = np.arange(1, 11)
            w = 0.55 ** offs * WEEKDAY_WEIGHT[(d + offs + 3) % 7]  # soon, and less at the weekend
            rday = d + rng.choice(offs, len(rg), p=w / w.sum())
            rq_, rc_, rcat_ = self._lookup(rg, "q"), self._lookup(rg, "cust"), self._lookup(rg, "cat")
            for day in np.unique(rday):
                m = rday == day
                self.repeats.setdefault(int(day), []).append((rq_[m], rc_[m], rcat_[m]))

    def _outbound(self, rng, ob: np.ndarray, custs: np.ndarray) -> None:
        a, idle_from, idle_to = ob[:, 0], ob[:, 1], ob[:, 2]
        k = len(a)
        start = idle_from + rng.integers(5, 60, k)
        room = idle_to - 30 - start
        keep = room >= 60
        a, start, room = a[keep], start[keep], room[keep]
        k = len(a)
        if k == 0:
            return
        disp = _choice_rows(rng, np.tile([0.62, 0.07, 0.0, 0.03, 0.28], (k, 1)))
        ring = np.minimum(rng.integers(5, 25, k), room // 3)
        talk = np.minimum(_lognormal(rng, 150, 0.7, k, 10, 3600), room - ring)
        no_ans = np.minimum(rng.integers(20, 45, k), room)
        end = np.select([disp == 0, disp == 4, disp == 1], [start + ring + talk, start + no_ans, start + rng.integers(2, 6, k)],
                        start + rng.integers(1, 3, k))
        who = custs[rng.integers(0, len(custs), k)] if len(custs) else rng.integers(0, self.n_cust, k)
        self.out.add(
            "pbx_call_legs", start // DAY, start,
            leg_id=self._ids("leg", "L", k, 10), call_id=self._ids("outcall", "X", k, 10),
            direction="outbound", caller_number=model.SERVICE_NUMBERS["main"], dialled_number=self.phones(who),
            trunk_id=take([f"TRK-{s}-OUT" for s in self.site_list], self.agent_site_idx[a]),
            site_id=take(self.site_list, self.agent_site_idx[a]), agent_id=take(self.agent_ids, a),
            started_at=start, answered_at=np.where(disp == 0, start + ring, -1), ended_at=end,
            disposition=take(DISPOSITIONS, disp),
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
