"""Training a model on the team's decisions, measuring it on the newest ones, storing it.

The examples (desk.store.learning.decisions) are ordered by the comment's time; the newest
`HELD_OUT` share of them (all the examples from the first held-out comment's moment on, so
one moment is never on both sides) is held out. A model of the same settings is fitted on
the older ones and compared with the baseline on the held-out ones (desk.learning.evaluate);
the model stored is then fitted again on every example, so the newest decisions count too,
and is used only if that comparison said it beats the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from desk.learning.evaluate import Comparison, compare
from desk.learning.features import FeatureSpec
from desk.learning.in_use import CODE_VERSION
from desk.learning.model import C, LinearModel, fit
from desk.store import learning as ldb
from desk.store.learning import Account, Target
from desk.store.sql import Cursor
from desk.store.times import to_utc, utc_now

HELD_OUT = 0.25
MIN_EXAMPLES = 60
MIN_POSITIVES = 15
"""Fewer examples or positives than these and no model is trained for a scope."""


@dataclass(frozen=True)
class Trained:
    """What one training did: the model stored (None: too few decisions), and why not."""

    target: Target
    account: Account | None
    examples: int
    positives: int
    model_id: int | None = None
    comparison: Comparison | None = None
    split_at: datetime | None = None
    reason: str | None = None

    @property
    def beats_baseline(self) -> bool:
        return self.comparison is not None and self.comparison.beats_baseline

    def line(self) -> str:
        scope = "all accounts" if self.account is None else f"{self.account[0]} {self.account[1]}"
        if self.model_id is None:
            return f"{self.target}, {scope}: not trained ({self.reason})"
        assert self.comparison is not None
        return (f"{self.target}, {scope}: model {self.model_id} on {self.examples:,} decisions, "
                f"precision@{self.comparison.model.k} {self.comparison.model.precision:.2f} "
                f"vs baseline {self.comparison.baseline.precision:.2f}"
                f"{' (in use)' if self.beats_baseline else ''}")


@dataclass(frozen=True)
class Fitted:
    """A model fitted on every example, with the held-out comparison of its settings."""

    model: LinearModel
    comparison: Comparison
    split_at: datetime | None
    train_examples: int


def split(examples: pd.DataFrame, held_out: float = HELD_OUT) -> int:
    """The position of the first held-out example (the examples sorted by create_time): the
    newest `held_out` share, widened back to the start of its first moment."""
    n = len(examples)
    cut = min(n - 1, max(1, int(round(n * (1 - held_out)))))
    times = examples["create_time"].reset_index(drop=True)
    while cut > 1 and times.iloc[cut - 1] == times.iloc[cut]:
        cut -= 1
    return cut


def fit_and_measure(target: Target, examples: pd.DataFrame,
                    spec: FeatureSpec | None = None) -> Fitted:
    """Fit on the older examples, compare on the newer, then fit on all (see the module)."""
    spec = spec or FeatureSpec()
    examples = examples.reset_index(drop=True)
    labels = examples["label"].astype(bool).to_numpy()
    cut = split(examples)
    newer = examples.iloc[cut:]
    if labels[:cut].all() or not labels[:cut].any():
        raise ValueError("the older decisions hold only one kind of example")
    matrix = spec.features(examples)  # built once: row i is examples' row i
    first = fit(None, labels[:cut], spec, matrix=matrix[:cut])
    comparison = compare(target, newer, labels[cut:], first.score_matrix(matrix[cut:]))
    model = fit(None, labels, spec, matrix=matrix)
    split_at = newer["create_time"].iloc[0] if len(newer) else None
    return Fitted(model, comparison, None if split_at is None else split_at.to_pydatetime(),
                  cut)


def train(cur: Cursor, target: Target, account: Account | None = None, *,
          now: datetime | None = None) -> Trained:
    """Train and store a model of `target` for one account (None: across accounts), from
    the decisions stored now; nothing is stored when there are too few."""
    examples = ldb.decisions(cur, target, account)
    positives = int(examples["label"].sum()) if len(examples) else 0
    reason = _too_few(len(examples), positives)
    fitted = None
    if reason is None:
        try:
            fitted = fit_and_measure(target, examples)
        except ValueError as err:
            reason = str(err)
    if fitted is None:
        return Trained(target, account, len(examples), positives, reason=reason)
    comparison = fitted.comparison
    settings = {**fitted.model.spec.settings(), "model": "LogisticRegression",
                "C": C, "class_weight": "balanced", "held_out": HELD_OUT,
                "train_examples": fitted.train_examples, "held_out_examples": comparison.held_out,
                "held_out_positives": comparison.positives, "k": comparison.model.k,
                "metric": "precision and recall at k = min(50, held-out positives)",
                "fitted_on": "all examples (measured: fitted on the older ones)"}
    model_id = ldb.save_model(
        cur, target=target, account=account, code_version=CODE_VERSION,
        trained_at=to_utc(now or utc_now()), examples=len(examples), positives=positives,
        split_at=fitted.split_at, precision=comparison.model.precision,
        recall=comparison.model.recall, baseline_precision=comparison.baseline.precision,
        baseline_recall=comparison.baseline.recall,
        beats_baseline=comparison.beats_baseline, settings=settings,
        weights=fitted.model.to_bytes())
    return Trained(target, account, len(examples), positives, model_id, comparison,
                   fitted.split_at)


def _too_few(examples: int, positives: int) -> str | None:
    if examples < MIN_EXAMPLES:
        return f"{examples} decisions, fewer than {MIN_EXAMPLES}"
    if positives < MIN_POSITIVES:
        return f"{positives} positive decisions, fewer than {MIN_POSITIVES}"
    if examples - positives < MIN_POSITIVES:
        return f"{examples - positives} negative decisions, fewer than {MIN_POSITIVES}"
    return None


def load(cur: Cursor, stored: ldb.StoredModel) -> LinearModel:
    """A stored model, ready to score."""
    spec = FeatureSpec.from_settings(stored.settings)
    return LinearModel.from_bytes(spec, ldb.model_weights(cur, stored.model_id))


def as_frame(texts: list[str], labels: list[list[str]] | None = None,
             sentiments: list[float] | None = None,
             languages: list[str | None] | None = None) -> pd.DataFrame:
    """Comments given as plain lists, in the shape `score` takes."""
    n = len(texts)
    return pd.DataFrame({"content": texts, "labels": labels or [[] for _ in range(n)],
                         "sentiment": sentiments or [np.nan] * n,
                         "language": languages or [None] * n})
