"""Measuring a model against the rule-based priority on the same held-out comments.

**The baseline** is what Comment Desk does without a model, as an order of comments:

- *answer*: the inbox's priority (desk.store.inbox): comments with a priority label
  (question or complaint) first, then the most liked, then the oldest, then the ID. The
  inbox's "past its response-time target" key is left out: it is about waiting, not about
  the comment, and is kept ahead of the score when a model is in use.
- *hide*: comments the classifier labelled spam or toxic first, then the same order.

**The metric** is precision and recall at k, the first k comments of each order, with
k = min(50, the held-out positives): the inbox shows 50 comments a page, and k never
exceeds what a perfect order could fill. precision@k = positives among the first k / k;
recall@k = positives among the first k / all held-out positives. The model's order is its
score, highest first, ties broken as the baseline breaks them. A model **beats the
baseline** when the held-out set has at least `MIN_HELD_OUT_POSITIVES` positives and its
precision@k is higher than the baseline's (at the same k, recall@k moves with it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from desk.store.inbox import PRIORITY_LABELS
from desk.store.learning import Target

TOP_K = 50
MIN_HELD_OUT_POSITIVES = 5
HIDE_LABELS: tuple[str, ...] = ("spam", "toxic")
BASELINE_LABELS: Mapping[Target, tuple[str, ...]] = MappingProxyType(
    {"answer": PRIORITY_LABELS, "hide": HIDE_LABELS})


@dataclass(frozen=True)
class AtK:
    """Precision and recall of the first k of an order."""

    k: int
    precision: float
    recall: float


@dataclass(frozen=True)
class Comparison:
    """A model and the baseline on the same held-out comments."""

    held_out: int
    positives: int
    model: AtK
    baseline: AtK

    @property
    def beats_baseline(self) -> bool:
        return (self.positives >= MIN_HELD_OUT_POSITIVES
                and self.model.precision > self.baseline.precision)


def baseline_order(target: Target, comments: pd.DataFrame) -> np.ndarray:
    """The rows of `comments` (labels, likes, create_time, comment_id) in the baseline's
    order, first first, as positions."""
    first = _has_any(comments["labels"], BASELINE_LABELS[target])
    return _order(np.where(first, 1.0, 0.0), comments)


def model_order(scores: np.ndarray, comments: pd.DataFrame) -> np.ndarray:
    """The rows in the order of the model's scores, highest first; ties as the baseline."""
    return _order(np.asarray(scores, dtype=float), comments)


def at_k(order: np.ndarray, labels: Sequence[bool] | np.ndarray, k: int) -> AtK:
    """Precision and recall of the first `k` rows of `order`."""
    y = np.asarray(labels, dtype=bool)
    positives = int(y.sum())
    k = max(0, min(int(k), len(order)))
    hits = int(y[order[:k]].sum()) if k else 0
    return AtK(k, hits / k if k else 0.0, hits / positives if positives else 0.0)


def compare(target: Target, comments: pd.DataFrame, labels: Sequence[bool] | np.ndarray,
            scores: np.ndarray, top: int = TOP_K) -> Comparison:
    """The model's scores and the baseline, at k = min(top, positives), on these comments."""
    y = np.asarray(labels, dtype=bool)
    positives = int(y.sum())
    k = min(top, max(1, positives))
    return Comparison(len(y), positives, at_k(model_order(scores, comments), y, k),
                      at_k(baseline_order(target, comments), y, k))


def _order(first_key: np.ndarray, comments: pd.DataFrame) -> np.ndarray:
    """Positions sorted by first_key descending, then likes descending, then create_time
    ascending, then comment_id ascending."""
    likes = pd.to_numeric(comments["likes"], errors="coerce").fillna(0).to_numpy(dtype=float)
    times = pd.DatetimeIndex(pd.to_datetime(comments["create_time"], utc=True))
    when = np.where(times.isna(), np.iinfo(np.int64).max, times.asi8)
    ids = comments["comment_id"].astype(str).to_numpy()
    # np.lexsort sorts by the last key first.
    return np.lexsort((ids, when, -likes, -first_key))


def _has_any(labels: pd.Series, wanted: Sequence[str]) -> np.ndarray:
    chosen = set(wanted)
    return np.array([bool(chosen.intersection(_labels(value))) for value in labels],
                    dtype=bool)


def _labels(value: object) -> list[str]:
    if value is None or isinstance(value, float):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]
