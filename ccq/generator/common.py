"""The source systems' codes the generator writes, and small helpers its parts share."""
from __future__ import annotations

import numpy as np

from ccq.contract import tables

# The simulation's own numbering of the codes it writes (its probabilities and state codes index
# these tuples); the contract decides which codes exist (check_codes, when a generator is made).
WRAP_CODES = ("RESOLVED", "FOLLOW_UP", "TRANSFERRED", "INFO")  # the CRM's wrap-up codes (free text in the contract)
RESOLVED, FOLLOW_UP, TRANSFERRED, INFO = range(4)
IVR_OUTCOMES = ("TO_AGENT", "SELF_SERVED", "HANGUP", "ERROR")
TO_AGENT, SELF_SERVED, HANGUP, ERROR = range(4)
DISPOSITIONS = ("ANSWERED", "BUSY", "CONGESTION", "FAILED", "NO ANSWER")
EVENT_TYPES = ("ENTERQUEUE", "RINGNOANSWER", "CONNECT", "HOLD", "UNHOLD", "COMPLETE", "TRANSFER", "ACWEND", "ABANDON",
               "EXITTIMEOUT")
EV = {name: i for i, name in enumerate(EVENT_TYPES)}
STATES = ("LOGIN", "READY", "NOT_READY", "LOGOUT")
SEVERITIES = ("LOW", "MEDIUM", "HIGH")
CONTRACT_CODES = {("ivr_sessions", "outcome"): IVR_OUTCOMES, ("pbx_call_legs", "disposition"): DISPOSITIONS,
                  ("acd_queue_events", "event_type"): EVENT_TYPES, ("agent_state_events", "state"): STATES,
                  ("crm_complaints", "severity"): SEVERITIES}


def check_codes() -> None:
    """A code the contract does not allow, or one it allows that the simulation does not number,
    stops the generator before it writes anything."""
    for (table, column), numbered in CONTRACT_CODES.items():
        allowed = tables()[table].column(column).allowed
        if set(numbered) != set(allowed):
            raise ValueError(f"{table}.{column}: the generator numbers {sorted(numbered)}, the contract allows "
                             f"{sorted(allowed)}")


DAILY_TABLES = (
    "pbx_call_legs", "acd_queue_events", "agent_state_events", "ivr_sessions", "crm_cases",
    "crm_interactions", "crm_complaints", "survey_responses", "qa_evaluations", "qa_evaluation_items",
    "wfm_schedules", "wfm_forecasts", "hr_roster", "hr_training", "hr_staff_survey",
)


def _lognormal(rng: np.random.Generator, median, sigma, n, lo, hi) -> np.ndarray:
    return np.clip(np.exp(rng.normal(np.log(median), sigma, n)), lo, hi).astype(np.int64)


def _choice_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category per row from row-wise weights."""
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cdf[:, -1]
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


