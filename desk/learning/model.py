"""A linear model over `FeatureSpec` features: fitting it with scikit-learn, scoring with
numpy alone, and keeping it as plain bytes.

The model is scikit-learn's LogisticRegression (L2, lbfgs, `class_weight="balanced"`: the
team acts on few comments, and each of those weighs as much as all the others together). Kept
as the coefficients and the intercept, little-endian float32, one after the other
(`to_bytes`), beside the spec's JSON: loading runs no code, unlike a pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from desk.learning.features import FeatureSpec

C = 4.0
"""Inverse regularisation strength: small teams give few examples, so not much."""
MAX_ITER = 300
TOL = 1e-3
"""lbfgs stops when the gradient is this small: on 100,000 decisions a third of the
iterations of scikit-learn's default (1e-4), for the same ranking."""
_DTYPE = np.dtype("<f4")


@dataclass(frozen=True)
class LinearModel:
    """P(positive | comment) = sigmoid(features · coef + intercept)."""

    spec: FeatureSpec
    coef: np.ndarray
    intercept: float

    def __post_init__(self) -> None:
        if self.coef.shape != (self.spec.width,):
            raise ValueError(f"a model of this layout has {self.spec.width} weights, "
                             f"not {self.coef.shape}")

    def score(self, comments: pd.DataFrame) -> np.ndarray:
        """The probability of the target for each comment (columns content, labels,
        sentiment, language), float32."""
        if not len(comments):
            return np.zeros(0, dtype=np.float32)
        return self.score_matrix(self.spec.features(comments))

    def score_matrix(self, matrix: sp.csr_matrix) -> np.ndarray:
        """The probabilities of rows already turned into this layout's features."""
        margin = matrix @ self.coef + np.float32(self.intercept)
        return (1.0 / (1.0 + np.exp(-np.clip(margin, -30, 30)))).astype(np.float32)

    def to_bytes(self) -> bytes:
        """The weights, then the intercept, as little-endian float32."""
        return np.concatenate([self.coef, [self.intercept]]).astype(_DTYPE).tobytes()

    @classmethod
    def from_bytes(cls, spec: FeatureSpec, blob: bytes) -> LinearModel:
        values = np.frombuffer(blob, dtype=_DTYPE)
        if values.shape != (spec.width + 1,):
            raise ValueError(f"stored weights hold {values.size} numbers; the layout needs "
                             f"{spec.width + 1}")
        return cls(spec, values[:-1].astype(np.float32), float(values[-1]))

    def heaviest_verdicts(self, count: int = 10) -> list[tuple[str, float]]:
        """The extra features (labels, sentiment, languages) that weigh most, either way."""
        names = self.spec.extra_names
        weights = self.coef[self.spec.n_features:]
        order = np.argsort(-np.abs(weights))[:count]
        return [(names[i], float(weights[i])) for i in order]


def fit(comments: pd.DataFrame | None, labels: Sequence[bool] | np.ndarray,
        spec: FeatureSpec | None = None, *, matrix: sp.csr_matrix | None = None) -> LinearModel:
    """Learn a model from these comments (or their `matrix` of features, already built) and
    their labels; both classes must be present."""
    spec = spec or FeatureSpec()
    y = np.asarray(labels, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("a model needs both positive and negative examples")
    if matrix is None:
        assert comments is not None
        matrix = spec.features(comments)
    learner = LogisticRegression(C=C, class_weight="balanced", max_iter=MAX_ITER, tol=TOL)
    learner.fit(matrix, y)
    return LinearModel(spec, learner.coef_[0].astype(np.float32), float(learner.intercept_[0]))
