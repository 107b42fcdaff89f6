"""The backlog counted from owed periods (desk.store.backlog) equals counting each instant's
owed periods one by one, on random periods that start and end before, inside and after the
window, with ties, with and without targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from desk.store.backlog import NEVER, Periods, backlog_at

HOUR = 3_600_000


def one_by_one(instants: np.ndarray, frame: pd.DataFrame) -> list[tuple]:
    """Each instant's owed periods, counted directly."""
    until = frame["owed_until_ms"].fillna(NEVER).to_numpy(np.int64)
    rows = []
    for instant in instants:
        owed = (frame["owed_from_ms"].to_numpy() < instant) & (until >= instant)
        ages = (instant - frame["waiting_ms"].to_numpy()[owed]) / 60_000
        targets = frame["target_minutes"].to_numpy(dtype=float, na_value=np.nan)[owed]
        rows.append((int(owed.sum()), int(np.sum(ages > targets)),
                     float(ages.max()) if len(ages) else None,
                     float(np.median(ages)) if len(ages) else None))
    return rows


def random_periods(rng: np.random.Generator, n: int) -> pd.DataFrame:
    start = rng.integers(-50, 60, n) * HOUR // 2 + rng.integers(0, 3, n) * 1000
    length = rng.integers(1, 80, n) * HOUR // 4
    still_owed = rng.random(n) < 0.4
    waiting = start - rng.integers(0, 3, n) * HOUR
    targets = pd.array(np.where(rng.random(n) < 0.3, pd.NA, rng.integers(30, 600, n)),
                       dtype=pd.Int64Dtype())
    return pd.DataFrame({
        "owed_from_ms": start,
        "owed_until_ms": pd.array(np.where(still_owed, pd.NA, start + length),
                                  dtype=pd.Int64Dtype()),
        "waiting_ms": waiting,
        "target_minutes": targets,
    })


@pytest.mark.parametrize("seed", range(6))
def test_the_backlog_equals_counting_each_instant(seed):
    rng = np.random.default_rng(seed)
    frame = random_periods(rng, int(rng.integers(0, 400)))
    instants = np.arange(0, 24) * HOUR

    got = backlog_at(instants, Periods.from_frame(frame))

    expected = one_by_one(instants, frame)
    assert got["backlog"].tolist() == [row[0] for row in expected]
    assert got["over_target"].tolist() == [row[1] for row in expected]
    for column, index in (("oldest_minutes", 2), ("median_age_minutes", 3)):
        values = [None if np.isnan(v) else v for v in got[column]]
        assert values == pytest.approx([row[index] for row in expected])


def test_an_instant_at_a_period_s_end_still_counts_it_and_one_at_its_start_does_not():
    frame = pd.DataFrame({"owed_from_ms": [HOUR], "owed_until_ms": pd.array([2 * HOUR]),
                          "waiting_ms": [0], "target_minutes": pd.array([90])})

    got = backlog_at(np.array([HOUR, 2 * HOUR, 3 * HOUR]), Periods.from_frame(frame))

    assert got["backlog"].tolist() == [0, 1, 0]
    assert got["over_target"].tolist() == [0, 1, 0]  # 120 minutes waited, 90 allowed
    assert got["oldest_minutes"].tolist()[1] == 120.0
