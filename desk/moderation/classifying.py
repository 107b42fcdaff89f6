"""Classifying stored comments: one account's new ones after its sync, and the whole backlog
(after an upgrade brings a new classifier version) in the background, with progress.

Verdicts are saved a batch at a time, so stopping loses at most one batch of work, and the
next pass starts where this one stopped. Each account's commenters are compared with that
account's own names (desk.store.brand_names) for imitation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pandas as pd

from desk import store as db
from desk.moderation.classify import CLASSIFIER_VERSION, Classifier
from desk.sources import CommentSource

BATCH = 20_000
"""Comments classified and saved at a time."""

Progress = Callable[[int, int], None]
"""Called with (classified so far, to classify in all)."""


def classify_account(cur: db.Cursor, source: CommentSource, *, progress: Progress | None = None,
                     stop: threading.Event | None = None, batch: int = BATCH) -> int:
    """Classify the account's comments the current classifier has not; return how many."""
    total = db.unclassified_count(cur, CLASSIFIER_VERSION, source=source.kind,
                                  account_id=source.account_id)
    if not total:
        return 0
    brands = db.brand_names(cur).get((source.kind, source.account_id), [])
    classifier = Classifier(brands)
    done = 0
    for frame in db.unclassified_batches(cur, CLASSIFIER_VERSION, batch, source=source.kind,
                                         account_id=source.account_id):
        if stop is not None and stop.is_set():
            break
        done += _save(cur, frame, classifier)
        if progress is not None:
            progress(done, total)
    return done


def classify_backlog(cur: db.Cursor, *, progress: Progress | None = None,
                     stop: threading.Event | None = None, batch: int = BATCH) -> int:
    """Classify every stored comment the current classifier has not; return how many."""
    total = db.unclassified_count(cur, CLASSIFIER_VERSION)
    if not total:
        return 0
    brands = db.brand_names(cur)
    classifiers: dict[tuple[str, str], Classifier] = {}
    done = 0
    for frame in db.unclassified_batches(cur, CLASSIFIER_VERSION, batch):
        if stop is not None and stop.is_set():
            break
        account = frame["advertiser_id"].where(frame["source"] == "ad", frame["business_id"])
        parts = []
        for (source, account_id), group in frame.groupby([frame["source"], account.fillna("")],
                                                         sort=False):
            key = (str(source), str(account_id))
            if key not in classifiers:
                classifiers[key] = Classifier(brands.get(key, []))
            parts.append(_verdicts(group, classifiers[key]))
        verdicts = pd.concat(parts, ignore_index=True)
        done += db.save_classified(cur, verdicts, CLASSIFIER_VERSION)
        if progress is not None:
            progress(done, total)
    return done


def _save(cur: db.Cursor, frame: pd.DataFrame, classifier: Classifier) -> int:
    return db.save_classified(cur, _verdicts(frame, classifier), CLASSIFIER_VERSION)


def _verdicts(frame: pd.DataFrame, classifier: Classifier) -> pd.DataFrame:
    texts = [t if isinstance(t, str) else None for t in frame["content"]]
    names = [n if isinstance(n, str) else None for n in frame["user_name"]]
    verdicts = classifier.classify_many(texts, names)
    verdicts.insert(0, "comment_id", frame["comment_id"].to_numpy())
    return verdicts
