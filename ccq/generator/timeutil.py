"""Epoch-second arithmetic with a site time zone, vectorised.

Everything inside the generator is int64 seconds since 1970-01-01 UTC. Local time is "local
seconds": the wall clock read as if it were UTC, so local midnight of a date is
days_since_epoch * 86400 whatever the zone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

DAY = 86400
EPOCH = date(1970, 1, 1)


def day_index(d: date) -> int:
    return (d - EPOCH).days


def index_date(i: int) -> date:
    return EPOCH + timedelta(days=int(i))


class Zone:
    """UTC offsets of one IANA zone over a range, looked up with searchsorted."""

    def __init__(self, name: str, first_day: int, last_day: int):
        self.name = name
        zi = ZoneInfo(name)
        t0, t1 = (first_day - 3) * DAY, (last_day + 4) * DAY
        hours = np.arange(t0, t1 + 1, 3600, dtype=np.int64)
        offs = np.array(
            [int(datetime.fromtimestamp(int(h), timezone.utc).astimezone(zi).utcoffset().total_seconds()) for h in hours],
            dtype=np.int64,
        )
        change = np.flatnonzero(np.diff(offs)) + 1
        # offsets change on hour boundaries in every zone we use; the hour grid finds them
        self._starts = np.concatenate(([np.iinfo(np.int64).min], hours[change]))
        self._offs = np.concatenate((offs[:1], offs[change]))

    def offset(self, utc) -> np.ndarray:
        utc = np.asarray(utc, dtype=np.int64)
        return self._offs[np.searchsorted(self._starts, utc, side="right") - 1]

    def to_local(self, utc) -> np.ndarray:
        utc = np.asarray(utc, dtype=np.int64)
        return utc + self.offset(utc)

    def to_utc(self, local) -> np.ndarray:
        local = np.asarray(local, dtype=np.int64)
        guess = local - self.offset(local)
        utc = local - self.offset(guess)
        # wall-clock times skipped by a spring-forward change collapse onto the change itself,
        # so that the order of local times is kept
        gap = self.to_local(utc) != local
        if gap.any():
            utc[gap] = self._starts[np.searchsorted(self._starts, utc[gap], side="right") - 1]
        return utc
