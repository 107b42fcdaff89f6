"""What a model reads of a comment: the character n-grams of its text, hashed, and the
classifier's verdicts (labels, sentiment, language).

The layout is fixed by a `FeatureSpec`, stored as JSON with every model, so scoring later
builds exactly the columns the weights were learned on, with nothing pickled:

    [0, n_features)                      the text's character n-grams (scikit-learn's
                                         HashingVectorizer: analyzer "char_wb", words padded
                                         with spaces, lower case, L2-normalised, no sign
                                         flipping), which work alike for every language and
                                         script
    n_features + i, i < len(extra_names) `label:<label>` (1 when the classifier gave it),
                                         `sentiment` (-1…1), `negative` / `positive` (the
                                         Comments filter's bands), `language:<code>` (1 for
                                         the comment's language; `language:other` for one
                                         outside the list, nothing when not classified)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from desk.moderation.labels import LABELS, LANGUAGE_NAMES
from desk.store.filters import SENTIMENT_CUT

LANGUAGES: tuple[str, ...] = tuple(code for code in LANGUAGE_NAMES if code != "und")


@dataclass(frozen=True)
class FeatureSpec:
    """The feature layout of one model (see the module's table)."""

    n_features: int = 2**18
    ngram_range: tuple[int, int] = (2, 4)
    analyzer: str = "char_wb"
    labels: tuple[str, ...] = LABELS
    languages: tuple[str, ...] = LANGUAGES
    sentiment_cut: float = SENTIMENT_CUT
    _vectorizer: HashingVectorizer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_vectorizer", HashingVectorizer(
            analyzer=self.analyzer, ngram_range=self.ngram_range, n_features=self.n_features,
            alternate_sign=False, norm="l2", lowercase=True, dtype=np.float32))

    @property
    def extra_names(self) -> list[str]:
        return ([f"label:{label}" for label in self.labels]
                + ["sentiment", "negative", "positive"]
                + [f"language:{code}" for code in self.languages] + ["language:other"])

    @property
    def width(self) -> int:
        """Columns in all: the hashed n-grams, then the extra ones."""
        return self.n_features + len(self.extra_names)

    def settings(self) -> dict[str, Any]:
        """The layout as plain JSON values, to store with the model."""
        return {"vectorizer": {"analyzer": self.analyzer, "ngram_range": list(self.ngram_range),
                               "n_features": self.n_features, "lowercase": True, "norm": "l2",
                               "alternate_sign": False},
                "labels": list(self.labels), "languages": list(self.languages),
                "sentiment_cut": self.sentiment_cut, "extra": self.extra_names}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FeatureSpec:
        vectorizer = settings["vectorizer"]
        spec = cls(n_features=int(vectorizer["n_features"]),
                   ngram_range=(int(vectorizer["ngram_range"][0]),
                                int(vectorizer["ngram_range"][1])),
                   analyzer=str(vectorizer["analyzer"]), labels=tuple(settings["labels"]),
                   languages=tuple(settings["languages"]),
                   sentiment_cut=float(settings["sentiment_cut"]))
        if spec.extra_names != list(settings["extra"]):
            raise ValueError("the stored feature layout does not match its settings")
        return spec

    def features(self, comments: pd.DataFrame) -> sp.csr_matrix:
        """The feature matrix of these comments (columns content, labels, sentiment,
        language), one row each, `width` columns."""
        texts = [t if isinstance(t, str) else "" for t in comments["content"]]
        text = self._vectorizer.transform(texts)
        verdicts = sp.csr_matrix(self.extra(comments))  # noqa: S610 (not Django)
        return sp.hstack([text, verdicts], format="csr", dtype=np.float32)

    def extra(self, comments: pd.DataFrame) -> np.ndarray:
        """The classifier's verdicts as the extra columns (dense, float32)."""
        rows = len(comments)
        out = np.zeros((rows, len(self.extra_names)), dtype=np.float32)
        place = {label: i for i, label in enumerate(self.labels)}
        for row, labels in enumerate(comments["labels"]):
            for label in _as_list(labels):
                column = place.get(label)
                if column is not None:
                    out[row, column] = 1.0
        at = len(self.labels)
        sentiment = pd.to_numeric(comments["sentiment"], errors="coerce").astype(float)
        values = np.nan_to_num(sentiment.to_numpy(dtype=float, na_value=np.nan), nan=0.0)
        out[:, at] = values
        out[:, at + 1] = values < -self.sentiment_cut
        out[:, at + 2] = values > self.sentiment_cut
        at += 3
        codes = {code: at + i for i, code in enumerate(self.languages)}
        other = at + len(self.languages)
        for row, language in enumerate(comments["language"]):
            if isinstance(language, str) and language and language != "und":
                out[row, codes.get(language, other)] = 1.0
        return out


def _as_list(labels: Any) -> Sequence[str]:
    if labels is None or (isinstance(labels, float) and np.isnan(labels)):
        return ()
    if isinstance(labels, str):
        return (labels,)
    return list(labels)
