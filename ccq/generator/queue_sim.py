"""Multi-queue, multi-skill FCFS call routing with abandonment: the one sequential part.

Queue legs are processed in arrival order over all queues. Each agent has READY windows
(from the schedule, with the adherence deviations already applied) and a free-at time. A
leg goes to an idle agent whose own queue it is (the longest idle first); failing that, to
whichever skilled agent can start earliest, a secondary-skill agent only after idling a
few seconds. So an agent never holds two calls, talk + hold + ACW occupy the agent, and a
queue is work-conserving. A caller whose wait would exceed their patience abandons; a wait
past the queue's overflow limit exits to the overflow queue as the next leg. Transfers,
overflows and redials are new legs on a time-ordered heap. Queue priority is not used in
routing. Per leg the loop does a few heap operations; drawing durations and building the
events around it is vectorised.
"""
from __future__ import annotations

import heapq
import math
import random
from array import array

import numpy as np

from ccq.generator import model
from ccq.generator.demand import QueueInfo

BIG = 1 << 62
CONNECTED, ABANDONED, TIMEOUT = 0, 1, 2
PRIMARY, VIA_TRANSFER, VIA_OVERFLOW, REDIAL = 0, 1, 2, 3


class SimState:
    def __init__(self, n_agents: int, skills: list[tuple[int, ...]], queues: list[QueueInfo]):
        self.nq = len(queues)
        self.heaps: list[list] = [[] for _ in range(2 * self.nq)]  # per queue: primary, secondary agents
        self.ver = [0] * n_agents
        self.free_at = [0] * n_agents
        self.ws: list[list[int]] = [[] for _ in range(n_agents)]
        self.we: list[list[int]] = [[] for _ in range(n_agents)]
        self.wg: list[list[int]] = [[] for _ in range(n_agents)]
        self.wp = [0] * n_agents
        self.parked = set(range(n_agents))
        # (heap, delay): a queue takes an idle agent of its own first; an agent with the queue as a
        # secondary skill only when none is idle and after `delay` seconds idle (skill levels)
        self.skills = [tuple((2 * q + (j > 0), 0 if j == 0 else model.SECONDARY_DELAY) for j, q in enumerate(s))
                       for s in skills]
        self.mult = [1.0] * n_agents
        self.w_ae = array("q")  # actual end of every READY window, by global window id
        self.pending: list[tuple] = []
        self.seq = 0
        self.next_gid = 0
        ct = [q.ct for q in queues]
        ids = {q.queue_id: q.index for q in queues}
        self.ov_to = [ids.get(c.overflow_to, -1) if c.overflow_to else -1 for c in ct]
        self.ov_after = [c.overflow_after if self.ov_to[i] >= 0 else BIG for i, c in enumerate(ct)]
        self.xfer_targets = [tuple(ids[t] for t in c.transfer_to if t in ids) for c in ct]
        self.xfer_p = [c.transfer_p if self.xfer_targets[i] else 0.0 for i, c in enumerate(ct)]
        self.talk_mu = [math.log(c.talk_median) for c in ct]
        self.talk_sig = [c.talk_sigma for c in ct]
        self.hold_p = [c.hold_p for c in ct]
        self.acw_mu = [math.log(c.acw_median) for c in ct]
        self.pat_mu = [math.log(c.patience_median) for c in ct]

    def add_windows(self, agent: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Append READY windows (chronological per agent); returns their global ids."""
        base = len(self.w_ae)
        gids = np.arange(base, base + len(agent))
        self.w_ae.extend(end.tolist())
        for a, s, e, g in zip(agent.tolist(), start.tolist(), end.tolist(), gids.tolist()):
            self.ws[a].append(s)
            self.we[a].append(e)
            self.wg[a].append(g)
        for a in sorted(set(agent.tolist()) & self.parked):
            self.parked.discard(a)
            self._rekey(a, self.free_at[a])
        return gids

    def prune(self) -> None:
        for a in range(len(self.ws)):
            p = self.wp[a]
            if p > 64:
                del self.ws[a][:p], self.we[a][:p], self.wg[a][:p]
                self.wp[a] = 0

    def _rekey(self, a: int, f: int) -> None:
        wsa, wea = self.ws[a], self.we[a]
        n = len(wsa)
        p = self.wp[a]
        while p < n and wea[p] <= f:
            p += 1
        self.wp[a] = p
        v = self.ver[a] + 1
        self.ver[a] = v
        if p == n:
            self.parked.add(a)
            return
        _push_agent(self.heaps, self.skills[a], wsa, wea, p, wsa[p] if wsa[p] > f else f, a, v)

    def draw_leg(self, q: int, pyr: random.Random) -> tuple[int, int, int, int]:
        talk = min(3600, max(15, int(pyr.lognormvariate(self.talk_mu[q], self.talk_sig[q]))))
        hold_n = hold = 0
        if pyr.random() < self.hold_p[q]:
            hold_n = 1 if pyr.random() < 0.75 else 2
            hold = sum(min(900, max(5, int(pyr.lognormvariate(math.log(model.HOLD_MEDIAN), model.HOLD_SIGMA))))
                       for _ in range(hold_n))
        acw = min(600, max(3, int(pyr.lognormvariate(self.acw_mu[q], model.ACW_SIGMA))))
        return talk, hold_n, hold, acw


def _push_agent(heaps, skills, wsa, wea, p, k, a, v) -> None:
    """Offer agent a (free from k, inside window p) to each skilled queue, with the skill's delay."""
    for h, delay in skills:
        kq = k + delay
        if kq >= wea[p]:
            if p + 1 >= len(wsa) or wsa[p + 1] + delay >= wea[p + 1]:
                continue
            kq = wsa[p + 1] + delay
        heapq.heappush(heaps[h], (kq, a, v))


def run_until(st: SimState, prim: dict[str, list], day_end: int, pyr: random.Random):
    """Route the day's first legs (sorted by time) and every pending leg due before day_end."""
    heaps, ver, fa = st.heaps, st.ver, st.free_at
    ws, we, wg, wp, skills, mult, w_ae = st.ws, st.we, st.wg, st.wp, st.skills, st.mult, st.w_ae
    parked = st.parked
    pend = st.pending
    push, pop = heapq.heappush, heapq.heappop
    ov_to, ov_after = st.ov_to, st.ov_after
    xfer_targets, xfer_p, pat_mu = st.xfer_targets, st.xfer_p, st.pat_mu
    rnd = pyr.random
    push_agent = _push_agent

    out = {k: [] for k in ("gid", "leg", "q", "t0", "outcome", "t_out", "agent", "rna_agent", "rna_t",
                           "talk", "hold_n", "hold", "acw", "xfer", "prior_wait", "via", "from_agent")}
    o_gid, o_leg, o_q, o_t0 = out["gid"].append, out["leg"].append, out["q"].append, out["t0"].append
    o_outcome, o_tout, o_agent = out["outcome"].append, out["t_out"].append, out["agent"].append
    o_rna_a, o_rna_t, o_talk = out["rna_agent"].append, out["rna_t"].append, out["talk"].append
    o_hn, o_hold, o_acw, o_xfer = out["hold_n"].append, out["hold"].append, out["acw"].append, out["xfer"].append
    o_pw, o_via, o_from = out["prior_wait"].append, out["via"].append, out["from_agent"].append
    redials: list[tuple[int, int, int, int]] = []  # (gid, parent gid, dial time, queue arrival)
    outbound: list[tuple[int, int, int]] = []  # (agent, idle from, idle until)

    def rekey(a, f):
        wsa, wea = ws[a], we[a]
        n = len(wsa)
        p = wp[a]
        while p < n and wea[p] <= f:
            p += 1
        wp[a] = p
        v = ver[a] + 1
        ver[a] = v
        if p == n:
            parked.add(a)
            return
        push_agent(heaps, skills[a], wsa, wea, p, wsa[p] if wsa[p] > f else f, a, v)

    def pick(h, t):
        while h:
            k, a, v = h[0]
            if v != ver[a]:
                pop(h)
                continue
            if k >= t:
                return k, a
            wsa, wea = ws[a], we[a]
            n = len(wsa)
            p = wp[a]
            while p < n and wea[p] <= t:
                p += 1
            wp[a] = p
            if p < n and wsa[p] <= t:
                return t, a
            pop(h)
            v += 1
            ver[a] = v
            if p == n:
                parked.add(a)
                continue
            push_agent(heaps, skills[a], wsa, wea, p, wsa[p], a, v)
        return BIG, -1

    def select(q, t):
        s1, a1 = pick(heaps[2 * q], t)
        if s1 <= t:
            return s1, a1
        s2, a2 = pick(heaps[2 * q + 1], t)
        return (s2, a2) if s2 < s1 else (s1, a1)

    P_gid, P_q, P_t, P_pat = prim["gid"], prim["q"], prim["t"], prim["patience"]
    P_talk, P_hn, P_hold, P_acw = prim["talk"], prim["hold_n"], prim["hold"], prim["acw"]
    P_xfer, P_rna = prim["xfer"], prim["rna"]
    i, n_prim = 0, len(P_t)
    while True:
        if pend and pend[0][0] < day_end and (i >= n_prim or pend[0][0] < P_t[i]):
            (t0, _, gid, leg, q, pat, talk, hold_n, hold, acw, xfer, rna, prior_wait, via, from_a) = pop(pend)
        elif i < n_prim:
            t0, gid, leg, q, pat = P_t[i], P_gid[i], 1, P_q[i], P_pat[i]
            talk, hold_n, hold, acw, xfer, rna = P_talk[i], P_hn[i], P_hold[i], P_acw[i], P_xfer[i], P_rna[i]
            prior_wait, via, from_a = 0, PRIMARY, -1
            i += 1
        else:
            break

        mx = ov_after[q]
        limit = pat if pat < mx else mx
        t_eff = t0
        rna_a, rna_t = -1, 0
        while True:
            s, a = select(q, t_eff)
            if s - t0 > limit:
                a = -1
                break
            wea, wpa = we[a], wp[a]
            while wea[wpa] <= s:  # a secondary-skill key can sit in the agent's next window
                wpa += 1
            wp[a] = wpa
            if rna and rna_a < 0:
                ring = 8 + int(rnd() * 12)
                if s + ring < t0 + limit - 5:
                    rna_a, rna_t = a, s + ring
                    g = wg[a][wp[a]]
                    if rna_t > w_ae[g]:
                        w_ae[g] = rna_t
                    fa[a] = rna_t
                    rekey(a, rna_t)
                    t_eff = rna_t
                    continue
            break

        o_gid(gid)
        o_leg(leg)
        o_q(q)
        o_t0(t0)
        o_rna_a(rna_a)
        o_rna_t(rna_t)
        o_pw(prior_wait)
        o_via(via)
        o_from(from_a)
        if a < 0:
            o_agent(-1)
            o_talk(0)
            o_hn(0)
            o_hold(0)
            o_acw(0)
            o_xfer(-1)
            if pat <= mx:
                t_ab = t0 + pat
                o_outcome(ABANDONED)
                o_tout(t_ab)
                if pat >= 5 and leg == 1 and rnd() < model.REDIAL_P:
                    rgid = st.next_gid
                    st.next_gid += 1
                    dial = t_ab + min(3600, max(60, int(pyr.lognormvariate(6.4, 0.7))))
                    arrive = dial + 2 + min(240, max(10, int(pyr.lognormvariate(3.55, 0.4))))
                    redials.append((rgid, gid, dial, arrive))
                    r_talk, r_hn, r_hold, r_acw = st.draw_leg(q, pyr)
                    r_xfer = -1
                    if rnd() < xfer_p[q]:
                        r_xfer = xfer_targets[q][int(rnd() * len(xfer_targets[q]))]
                    r_pat = max(1, int(pyr.lognormvariate(pat_mu[q], model.PATIENCE_SIGMA)))
                    st.seq += 1
                    push(pend, (arrive, st.seq, rgid, 1, q, r_pat, r_talk, r_hn, r_hold, r_acw, r_xfer,
                                rnd() < model.RNA_P, 0, REDIAL, -1))
            else:
                t_ex = t0 + mx
                o_outcome(TIMEOUT)
                o_tout(t_ex)
                q2 = ov_to[q]
                n_talk, n_hn, n_hold, n_acw = st.draw_leg(q2, pyr)
                st.seq += 1
                push(pend, (t_ex, st.seq, gid, leg + 1, q2, pat - mx, n_talk, n_hn, n_hold, n_acw, -1,
                            rnd() < model.RNA_P, prior_wait + mx, VIA_OVERFLOW, -1))
            continue

        m = mult[a]
        talk = max(5, int(talk * m))
        acw = max(2, int(acw * m))
        line_end = s + talk + hold
        free = line_end + acw
        pf = fa[a]
        wpa = wp[a]
        if s - pf >= 240 and pf >= ws[a][wpa] and rnd() < model.OUTBOUND_P:
            outbound.append((a, pf, s))
        fa[a] = free
        g = wg[a][wpa]
        if free > w_ae[g]:
            w_ae[g] = free
        rekey(a, free)
        if xfer >= 0 and leg < 3:
            n_talk, n_hn, n_hold, n_acw = st.draw_leg(xfer, pyr)
            n_pat = max(5, int(1.3 * pyr.lognormvariate(pat_mu[xfer], model.PATIENCE_SIGMA)))
            st.seq += 1
            push(pend, (line_end, st.seq, gid, leg + 1, xfer, n_pat, n_talk, n_hn, n_hold, n_acw, -1,
                        rnd() < model.RNA_P, prior_wait + s - t0, VIA_TRANSFER, a))
        else:
            xfer = -1
        o_agent(a)
        o_outcome(CONNECTED)
        o_tout(s)
        o_talk(talk)
        o_hn(hold_n)
        o_hold(hold)
        o_acw(acw)
        o_xfer(xfer)
    legs = {k: np.array(v, dtype=np.int64) for k, v in out.items()}
    return legs, redials, outbound
