"""The backlog at a series of instants, from the periods comments were owed an answer: how
many were owed, how many longer than their target, the oldest wait and the median wait.

desk.store.responses reads the periods (its `owed` SQL); this counts them. Joining every
period to every instant in SQL costs instants x periods rows and a median over each
instant's rows: a second or more per chart for an account with a long backlog. Here the
periods owed at every instant of the window (in a long backlog, nearly all of them) are
sorted once, and each instant adds only the periods that start or end inside the window, so
an instant costs a few binary searches and the work on those few periods.

At an instant T a period is owed when owed_from < T <= owed_until (no owed_until: still
owed); its age is T - waiting_since in minutes, from whole milliseconds as the SQL's
epoch_ms; over target when the age exceeds target_minutes (no target: never). The median
is quantile_cont's: linear between the two middle ages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MS_PER_MINUTE = 60_000
NEVER = np.iinfo(np.int64).max
"""owed_until of a period still owed."""


@dataclass(frozen=True)
class Periods:
    """Owed periods as epoch milliseconds (owed_until NEVER when still owed; deadline =
    waiting_since + target, NEVER when there is no target)."""

    owed_from: np.ndarray
    owed_until: np.ndarray
    waiting_since: np.ndarray
    deadline: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Periods:
        """From owed_from_ms, owed_until_ms (NULL: still owed), waiting_ms and target_minutes
        (NULL: none)."""
        waiting = frame["waiting_ms"].to_numpy(np.int64)
        target = frame["target_minutes"]
        deadline = np.where(target.isna(), NEVER,
                            waiting + target.fillna(0).to_numpy(np.int64) * MS_PER_MINUTE)
        return cls(frame["owed_from_ms"].to_numpy(np.int64),
                   frame["owed_until_ms"].fillna(NEVER).to_numpy(np.int64), waiting,
                   deadline.astype(np.int64))

    def take(self, mask: np.ndarray) -> Periods:
        return Periods(self.owed_from[mask], self.owed_until[mask], self.waiting_since[mask],
                       self.deadline[mask])


def backlog_at(instants_ms: np.ndarray, periods: Periods) -> pd.DataFrame:
    """For each instant (epoch ms, ascending): backlog, over_target, oldest_minutes and
    median_age_minutes (NaN when nothing is owed)."""
    instants = np.asarray(instants_ms, dtype=np.int64)
    n = len(instants)
    backlog = np.zeros(n, dtype=np.int64)
    over = np.zeros(n, dtype=np.int64)
    oldest = np.full(n, np.nan)
    median = np.full(n, np.nan)
    if n == 0:
        return _frame(backlog, over, oldest, median)
    first, last = instants.min(), instants.max()
    relevant = (periods.owed_from < last) & (periods.owed_until >= first)
    always = relevant & (periods.owed_from < first) & (periods.owed_until >= last)
    steady = np.sort(periods.waiting_since[always])  # owed at every instant
    steady_deadlines = np.sort(periods.deadline[always])
    moving = periods.take(relevant & ~always)
    for i, instant in enumerate(instants):
        owed = (moving.owed_from < instant) & (moving.owed_until >= instant)
        extra = np.sort(moving.waiting_since[owed])
        count = len(steady) + len(extra)
        backlog[i] = count
        over[i] = (np.searchsorted(steady_deadlines, instant, side="left")
                   + int(np.count_nonzero(moving.deadline[owed] < instant)))
        if count == 0:
            continue
        pick = _order_statistic(steady, extra)
        oldest[i] = (instant - pick(0)) / MS_PER_MINUTE
        # ages ascending are waits descending: the k-th youngest waits since the
        # (count - 1 - k)-th earliest start
        rank = (count - 1) * 0.5
        low = int(np.floor(rank))
        high = int(np.ceil(rank))
        young = (instant - pick(count - 1 - low)) / MS_PER_MINUTE
        older = (instant - pick(count - 1 - high)) / MS_PER_MINUTE
        median[i] = young + (older - young) * (rank - low)
    return _frame(backlog, over, oldest, median)


def _order_statistic(steady: np.ndarray, extra: np.ndarray):  # noqa: ANN202 (a closure)
    """k -> the k-th smallest (from 0) of two sorted arrays together, where `extra` is
    short: each element of `extra` has its place in the union from one binary search."""
    places = np.arange(len(extra)) + np.searchsorted(steady, extra, side="left")

    def pick(k: int) -> int:
        before = int(np.searchsorted(places, k, side="left"))  # extra elements before place k
        if before < len(places) and places[before] == k:
            return int(extra[before])
        return int(steady[k - before])

    return pick


def _frame(backlog: np.ndarray, over: np.ndarray, oldest: np.ndarray,
           median: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "backlog": pd.array(backlog, dtype=pd.Int64Dtype()),
        "over_target": pd.array(over, dtype=pd.Int64Dtype()),
        "oldest_minutes": oldest,
        "median_age_minutes": median,
    })
