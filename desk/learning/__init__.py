"""Learning from the team: models trained on the hide and reply decisions people make in
Comment Desk, used to order the inbox and to suggest rules (no streamlit here).

    decisions   desk.store.learning: the labelled examples (only people's decisions, never a
                rule's; what counts as "hid", "answered", "seen"), the models table, scores
    features    FeatureSpec: character n-grams of the text, hashed, plus the classifier's
                labels, sentiment and language, in a layout stored as JSON with each model
    model       LinearModel: scikit-learn's LogisticRegression, kept as float32 bytes
    evaluate    the rule-based baseline and precision/recall at k on held-out decisions
    training    the time split, fitting, measuring, storing (`train`)
    in_use      which models are in use (without loading scikit-learn)
    scoring     scores written to the comments, retraining
    schedule    when to retrain (without loading scikit-learn until then)
    suggest     a hide rule suggested from the comments people hid by hand

Two targets: "hide" (a person hid this) and "answer" (a person answered this). A model is
trained per account, or across accounts when an admin chooses so on Settings
(desk.store.learning.training_scope), and is used only while it beats the baseline on the
newest decisions. Nothing leaves the machine:
training and scoring run in this process, on the local database.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from desk.learning.in_use import (
    CODE_VERSION,
    answer_model_in_use,
    in_use_for,
    models_in_use,
    score_after_sync,
)

if TYPE_CHECKING:
    from desk.learning.evaluate import (
        TOP_K,
        AtK,
        Comparison,
        at_k,
        baseline_order,
        compare,
    )
    from desk.learning.features import FeatureSpec
    from desk.learning.model import LinearModel, fit
    from desk.learning.schedule import RETRAIN_AFTER, RETRAIN_EVERY, Retrainer
    from desk.learning.scoring import Scorer, retrain, score_stored
    from desk.learning.training import Trained, fit_and_measure, load, train

# What loads scikit-learn is imported on first use (PEP 562), so that the inbox and the sync
# pipeline, which only ask whether a model is in use, do not pay for it.
_LAZY = MappingProxyType({
    **dict.fromkeys(("TOP_K", "AtK", "Comparison", "at_k", "baseline_order", "compare"),
                    "desk.learning.evaluate"),
    "FeatureSpec": "desk.learning.features",
    **dict.fromkeys(("LinearModel", "fit"), "desk.learning.model"),
    **dict.fromkeys(("RETRAIN_AFTER", "RETRAIN_EVERY", "Retrainer"), "desk.learning.schedule"),
    **dict.fromkeys(("Scorer", "retrain", "score_stored"), "desk.learning.scoring"),
    **dict.fromkeys(("Trained", "fit_and_measure", "load", "train"), "desk.learning.training"),
})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'desk.learning' has no attribute {name!r}")


def score(model: LinearModel, comments: Any) -> Any:
    """The model's probability for each comment (a DataFrame with content, labels,
    sentiment, language), as a float32 array."""
    return model.score(comments)


__all__ = [
    "CODE_VERSION",
    "RETRAIN_AFTER",
    "RETRAIN_EVERY",
    "TOP_K",
    "AtK",
    "Comparison",
    "FeatureSpec",
    "LinearModel",
    "Retrainer",
    "Scorer",
    "Trained",
    "answer_model_in_use",
    "at_k",
    "baseline_order",
    "compare",
    "fit",
    "fit_and_measure",
    "in_use_for",
    "load",
    "models_in_use",
    "retrain",
    "score",
    "score_after_sync",
    "score_stored",
    "train",
]
