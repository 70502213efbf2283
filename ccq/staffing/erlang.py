"""Erlang C (M/M/N) and Erlang A (M/M/N+M, Palm) staffing maths, vectorised over intervals.

Every function takes numpy arrays (or scalars) and broadcasts, so one call sizes all
queue x interval rows of a warehouse at once. Times are in seconds.

Numerical stability: Erlang B is computed with the recursion
B(n) = a B(n-1) / (n + a B(n-1)), whose terms stay in [0, 1] (no factorials, no a**n);
Erlang C follows from B. The Erlang A tail sums are evaluated through the regularised
incomplete gamma function in log space (scipy.special.gammainc / gammaln), which stays
finite for the loads and patience values of real queues (y = lambda / theta in the
thousands).

Erlang A (Palm's M/M/N+M; Mandelbaum and Zeltyn, "Service engineering in action: the
Palm/Erlang-A queue", 2007), with load a = lambda/mu, x = N mu / theta, y = lambda / theta:
  P(wait > 0) = J / (1/B(N, a) - 1 + J),  J = Gamma(x+1) y**-x e**y P(x, y)
  an arrival who waits is served after a wait in (t, t+dt) with density
  pi_N N mu exp(-(N mu + theta) t + y (1 - exp(-theta t))),   pi_N = 1 / (1/B - 1 + J),
which integrates in closed form with the incomplete gamma function (see _served_after_wait).
As theta -> 0 this is Erlang C: J -> 1/(1 - rho) and the density -> pi_N N mu exp(-(N mu - lambda) t).
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammainc, gammaln

__all__ = [
    "offered_load",
    "erlang_b",
    "erlang_c",
    "service_level_erlang_c",
    "erlang_a",
    "required_agents",
    "required_agents_of_columns",
]


def _search_limit(load):
    """Largest N tried: far above any SL target below 100% (at A + 6 sqrt(A) + 60 agents the
    Erlang C SL is 1 to machine precision); rows meeting no target by then stay null."""
    return np.ceil(load + 6.0 * np.sqrt(load) + 60.0)


def offered_load(calls, aht_seconds, interval_seconds):
    """Offered load in Erlangs: calls x AHT / interval length."""
    return np.asarray(calls, dtype=float) * np.asarray(aht_seconds, dtype=float) / np.asarray(
        interval_seconds, dtype=float
    )


def erlang_b(agents, load):
    """Erlang B blocking probability B(N, a), by the stable recursion (broadcasts)."""
    agents = np.asarray(agents)
    load = np.asarray(load, dtype=float)
    n_max = int(np.max(agents)) if agents.size else 0
    shape = np.broadcast(agents, load).shape
    b = np.ones(shape)
    out = np.ones(shape)
    a = np.broadcast_to(load, shape)
    n_b = np.broadcast_to(agents, shape)
    for n in range(1, n_max + 1):
        b = a * b / (n + a * b)
        out = np.where(n_b == n, b, out)
    return out


def _erlang_c_from_b(n, a, b):
    rho = a / n
    with np.errstate(divide="ignore", invalid="ignore"):
        c = b / (1.0 - rho * (1.0 - b))
    # An unstable queue (a >= N) waits with certainty.
    return np.where(a >= n, 1.0, np.clip(c, 0.0, 1.0))


def erlang_c(agents, load):
    """Erlang C probability of waiting P(W > 0) for N agents and load a Erlangs."""
    agents = np.asarray(agents, dtype=float)
    load = np.asarray(load, dtype=float)
    return _erlang_c_from_b(agents, load, erlang_b(agents.astype(int), load))


def _sl_erlang_c(n, a, b, aht, threshold):
    p_wait = _erlang_c_from_b(n, a, b)
    sl = 1.0 - p_wait * np.exp(-(n - a) * threshold / aht)
    return np.where(a >= n, 0.0, np.clip(sl, 0.0, 1.0))


def service_level_erlang_c(agents, load, aht_seconds, threshold_seconds):
    """Share answered within T: 1 - P(W > 0) exp(-(N - a) T / AHT)."""
    agents = np.asarray(agents, dtype=float)
    load = np.asarray(load, dtype=float)
    b = erlang_b(agents.astype(int), load)
    return _sl_erlang_c(agents, load, b, np.asarray(aht_seconds, float), np.asarray(threshold_seconds, float))


def _log_j(x, y):
    """log of J(x, y) = sum_k y**k / ((x+1)...(x+k)) = Gamma(x+1) y**-x e**y P(x, y)."""
    return gammaln(x + 1.0) - x * np.log(y) + y + np.log(gammainc(x, y))


def _erlang_a_parts(n, a, b, aht, patience, threshold):
    """P(wait > 0), P(answered within T) and P(abandon) of M/M/N+M; patience in seconds."""
    with np.errstate(all="ignore"):
        return _erlang_a_parts_raw(n, a, b, aht, patience, threshold)


def _erlang_a_parts_raw(n, a, b, aht, patience, threshold):
    mu = 1.0 / aht
    lam = a * mu
    theta = 1.0 / patience
    x = n * mu / theta
    y = lam / theta
    log_j = _log_j(x, y)
    # pi_N = 1 / (1/B - 1 + J); computed as exp(-log(1/B - 1 + J)) to keep huge J finite.
    inv_b_minus_1 = (1.0 - b) / b
    log_denom = np.logaddexp(np.log(np.maximum(inv_b_minus_1, 1e-300)), log_j)
    log_pi_n = -log_denom
    p_wait = np.exp(log_j - log_denom)

    def _served_after_wait(t):
        # integral_0^t pi_N N mu exp(-(N mu + theta) s + y (1 - e^{-theta s})) ds
        # = pi_N N mu e^y y^-(x+1) Gamma(x+1) [P(x+1, y) - P(x+1, y e^{-theta t})] / theta
        upper = gammainc(x + 1.0, y)
        lower = gammainc(x + 1.0, y * np.exp(-theta * t)) if np.isfinite(t).all() else 0.0
        log_scale = log_pi_n + np.log(n * mu / theta) + y - (x + 1.0) * np.log(y) + gammaln(x + 1.0)
        return np.exp(log_scale) * np.maximum(upper - lower, 0.0)

    served_waited_within_t = _served_after_wait(threshold)
    served_waited_all = _served_after_wait(np.full(np.shape(threshold), np.inf))
    sl = (1.0 - p_wait) + served_waited_within_t
    p_abandon = np.clip(p_wait - served_waited_all, 0.0, 1.0)
    # With a patience thousands of times the AHT the incomplete gamma underflows (log P(x, y)
    # below -700); that is the theta -> 0 limit, where Erlang A is Erlang C to 1e-4.
    finite = np.isfinite(p_wait) & np.isfinite(sl) & np.isfinite(p_abandon) & np.isfinite(log_j)
    if not np.all(finite):
        p_wait = np.where(finite, p_wait, _erlang_c_from_b(n, a, b))
        sl = np.where(finite, sl, _sl_erlang_c(n, a, b, aht, threshold))
        p_abandon = np.where(finite, p_abandon, 0.0)
    return np.clip(p_wait, 0, 1), np.clip(sl, 0, 1), p_abandon


def erlang_a(agents, load, aht_seconds, patience_seconds, threshold_seconds):
    """Erlang A measures for N agents: (P(wait > 0), SL = P(answered within T), P(abandon)).

    SL counts every arrival in the denominator (abandons, at any wait, are not answered
    within T), matching the `standard` service-level variant without short abandons.
    """
    agents = np.asarray(agents, dtype=float)
    load = np.asarray(load, dtype=float)
    b = erlang_b(agents.astype(int), load)
    shape = np.broadcast(agents, load, aht_seconds, patience_seconds, threshold_seconds).shape
    return _erlang_a_parts(
        np.broadcast_to(agents, shape),
        np.broadcast_to(load, shape),
        np.broadcast_to(b, shape),
        np.broadcast_to(np.asarray(aht_seconds, float), shape),
        np.broadcast_to(np.asarray(patience_seconds, float), shape),
        np.broadcast_to(np.asarray(threshold_seconds, float), shape),
    )


def required_agents(calls, aht_seconds, interval_seconds, threshold_seconds, sl_target,
                    occupancy_cap, patience_seconds=None, model="erlang_c"):
    """Smallest N meeting the SL target with occupancy <= cap, per row (broadcasts).

    Occupancy is offered load / N for Erlang C and carried load (answered share x load) / N
    for Erlang A, where abandoned calls take no agent time. Rows with no load need 0 agents;
    rows whose inputs are missing (NaN) give NaN. For Erlang A, a missing or infinite
    patience falls back to Erlang C (nobody abandons).
    """
    calls, aht, interval, threshold, target, cap = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (calls, aht_seconds, interval_seconds,
                                               threshold_seconds, sl_target, occupancy_cap))
    )
    shape = calls.shape
    if patience_seconds is None:
        patience = np.full(shape, np.inf)
    else:
        patience = np.broadcast_to(np.asarray(patience_seconds, dtype=float), shape)
    use_a = np.broadcast_to(np.asarray(model) == "erlang_a", shape) & np.isfinite(patience) & (patience > 0)

    # No calls need no agents, whatever the (then often missing) AHT.
    load = np.where(calls == 0, 0.0, offered_load(calls, aht, interval))
    valid = np.isfinite(load) & np.isfinite(threshold) & np.isfinite(target) & np.isfinite(cap)
    valid &= (aht > 0) | (calls == 0)
    result = np.full(shape, np.nan)
    result[valid & (load <= 0)] = 0.0
    todo = valid & (load > 0)
    if not todo.any():
        return result

    with np.errstate(all="ignore"):
        return _search(result, todo, load, aht, threshold, target, cap, patience, use_a)


def _search(result, todo, load, aht, threshold, target, cap, patience, use_a):
    a = load[todo]
    h = aht[todo]
    t = threshold[todo]
    tgt = target[todo]
    cp = cap[todo]
    pat = np.where(use_a[todo], patience[todo], 1.0)
    ua = use_a[todo]
    found = np.full(a.shape, np.nan)
    n_max = int(np.max(_search_limit(a)))
    b = np.ones(a.shape)
    for n in range(1, n_max + 1):
        b = a * b / (n + a * b)
        open_ = np.isnan(found)
        if not open_.any():
            break
        sl_c = _sl_erlang_c(float(n), a, b, h, t)
        ok = (sl_c >= tgt) & (a / n <= cp)
        if ua.any():
            _, sl_a, p_ab = _erlang_a_parts(float(n), a, b, h, pat, t)
            ok_a = (sl_a >= tgt) & (a * (1.0 - p_ab) / n <= cp)
            ok = np.where(ua, ok_a, ok)
        found = np.where(open_ & ok, float(n), found)
    result[todo] = found
    return result


def required_agents_of_columns(model, calls, aht_seconds, interval_seconds, threshold_seconds,
                               sl_target, occupancy_cap, patience_seconds):
    """`required_agents` as the warehouse's SQL function ccq_required_agents(model, calls, ...),
    one column per argument (pandas Series from Spark, Arrow arrays from DuckDB; nulls arrive
    as NaN): the agents needed, as floats, NaN where no N qualifies or an input is missing."""
    def floats(column):
        if hasattr(column, "to_numpy") and not hasattr(column, "dtype"):  # an Arrow array
            column = column.to_numpy(zero_copy_only=False)
        return np.asarray(column, dtype=float)

    models = model.to_numpy(zero_copy_only=False) if hasattr(model, "to_pylist") else np.asarray(model)
    return required_agents(floats(calls), floats(aht_seconds), floats(interval_seconds),
                           floats(threshold_seconds), floats(sl_target), floats(occupancy_cap),
                           patience_seconds=floats(patience_seconds), model=models.astype(str))
