"""Required agents per queue x interval by Erlang C and Erlang A (ccq.staffing.erlang).

A Python model because the sizing is a search over N with Erlang B recursions and incomplete
gamma functions: numpy/scipy do it exactly and vectorised over all rows, and the same code is
unit-tested against published examples and an independent implementation (tests/test_erlang.py).
SQL would need engine-specific gamma functions and a recursive search per row.
"""
import pandas as pd

from ccq.staffing.erlang import required_agents


def model(dbt, session):
    dbt.config(materialized="table")
    # Ordered on the key, so the requirements computed from the frame line up with the typed relation.
    staffing_inputs = dbt.ref("int_workforce__staffing_inputs").order("queue_id, interval_start_utc")
    inputs = staffing_inputs.df()
    interval_seconds = inputs["interval_minutes"].astype(float) * 60.0
    # The plan is sized on the forecast: required agents answer "what did the forecast need".
    common = dict(
        calls=inputs["forecast_contacts"].astype(float).to_numpy(),
        aht_seconds=inputs["forecast_aht_seconds"].astype(float).to_numpy(),
        interval_seconds=interval_seconds.to_numpy(),
        threshold_seconds=inputs["sl_threshold_seconds"].astype(float).to_numpy(),
        sl_target=inputs["sl_target"].astype(float).to_numpy(),
        occupancy_cap=inputs["occupancy_cap"].astype(float).to_numpy(),
    )
    erlang_c = required_agents(**common, model="erlang_c")
    erlang_a = required_agents(
        **common,
        patience_seconds=inputs["patience_seconds"].astype(float).to_numpy(),
        model="erlang_a",
    )
    required = pd.DataFrame({
        "required_agents_erlang_c": pd.array(erlang_c, dtype="Int64"),
        "required_agents_erlang_a": pd.array(erlang_a, dtype="Int64"),
    })
    # Joined back to the relation (not returned as the pandas frame) so every column keeps its
    # SQL type even when there is no row to infer one from.
    return session.sql(
        "select staffing_inputs.*, cast(required.required_agents_erlang_c as bigint) as required_agents_erlang_c, "
        "cast(required.required_agents_erlang_a as bigint) as required_agents_erlang_a "
        "from staffing_inputs positional join required"
    )
