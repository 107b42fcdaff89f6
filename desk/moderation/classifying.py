"""Classifying stored comments: one account's new ones after its sync, and the whole backlog
(after an upgrade brings a new classifier version) in the background, with progress.

Verdicts are saved a batch at a time, so stopping loses at most one batch of work, and the
next pass starts where this one stopped. Each account's commenters are compared with that
account's own names (desk.store.brand_names) for imitation.

Each comment classified also gets its terms (desk.moderation.terms), read in the language
just found and saved with its verdicts. Comments the current classifier read before
the current tokeniser came (an upgrade of it alone) then have their terms read, a batch at
a time too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pandas as pd

from desk import store as db
from desk.moderation.classify import CLASSIFIER_VERSION, Classifier
from desk.moderation.terms import TERMS_VERSION, tokenise
from desk.sources import CommentSource

BATCH = 20_000
"""Comments classified and saved at a time."""

Progress = Callable[[int, int], None]
"""Called with (comments read so far, to read in all): classified, or their terms read."""


def waiting_count(cur: db.Cursor, *, source: str | None = None,
                  account_id: str | None = None) -> int:
    """Stored comments (of one account, or all) the current classifier has not read, and
    those it has whose terms the current tokeniser has not."""
    return (db.unclassified_count(cur, CLASSIFIER_VERSION, source=source, account_id=account_id)
            + db.untokenised_count(cur, TERMS_VERSION, CLASSIFIER_VERSION, source=source,
                                   account_id=account_id))


def classify_account(cur: db.Cursor, source: CommentSource, *, progress: Progress | None = None,
                     stop: threading.Event | None = None, batch: int = BATCH) -> int:
    """Classify the account's comments the current classifier has not, and read the terms
    of those the current tokeniser has not; return how many comments were read."""
    scope = {"source": source.kind, "account_id": source.account_id}
    total = waiting_count(cur, **scope)
    if not total:
        return 0
    brands = db.brand_names(cur).get((source.kind, source.account_id), [])
    classifier = Classifier(brands)
    done = 0
    for frame in db.unclassified_batches(cur, CLASSIFIER_VERSION, batch, **scope):
        if stop is not None and stop.is_set():
            return done
        done += _save(cur, frame, classifier)
        if progress is not None:
            progress(done, total)
    return done + _read_terms(cur, done, total, progress=progress, stop=stop, batch=batch,
                              **scope)


def classify_backlog(cur: db.Cursor, *, progress: Progress | None = None,
                     stop: threading.Event | None = None, batch: int = BATCH) -> int:
    """Classify every stored comment the current classifier has not, and read the terms of
    every one the current tokeniser has not; return how many comments were read."""
    total = waiting_count(cur)
    if not total:
        return 0
    brands = db.brand_names(cur)
    classifiers: dict[tuple[str, str], Classifier] = {}
    done = 0
    for frame in db.unclassified_batches(cur, CLASSIFIER_VERSION, batch):
        if stop is not None and stop.is_set():
            return done
        account = frame["advertiser_id"].where(frame["source"] == "ad", frame["business_id"])
        parts = []
        for (source, account_id), group in frame.groupby([frame["source"], account.fillna("")],
                                                         sort=False):
            key = (str(source), str(account_id))
            if key not in classifiers:
                classifiers[key] = Classifier(brands.get(key, []))
            parts.append(_verdicts(group, classifiers[key]))
        done += _store(cur, pd.concat(parts, ignore_index=True))
        if progress is not None:
            progress(done, total)
    return done + _read_terms(cur, done, total, progress=progress, stop=stop, batch=batch)


def _read_terms(cur: db.Cursor, done: int, total: int, *, progress: Progress | None,
                stop: threading.Event | None, batch: int, source: str | None = None,
                account_id: str | None = None) -> int:
    """Read and save the terms of the classified comments whose terms the current tokeniser
    has not read (an upgrade of the tokeniser alone); return how many."""
    read = 0
    for frame in db.untokenised_batches(cur, TERMS_VERSION, CLASSIFIER_VERSION, batch,
                                        source=source, account_id=account_id):
        if stop is not None and stop.is_set():
            break
        texts = [t if isinstance(t, str) else None for t in frame["content"]]
        read += db.save_terms(cur, frame["comment_id"].tolist(),
                              tokenise(texts, frame["language"].tolist()), TERMS_VERSION)
        if progress is not None:
            progress(done + read, total)
    return read


def _save(cur: db.Cursor, frame: pd.DataFrame, classifier: Classifier) -> int:
    return _store(cur, _verdicts(frame, classifier))


def _store(cur: db.Cursor, verdicts: pd.DataFrame) -> int:
    """Save a batch's verdicts and terms in one statement."""
    return db.save_classified(cur, verdicts, CLASSIFIER_VERSION, TERMS_VERSION)


def _verdicts(frame: pd.DataFrame, classifier: Classifier) -> pd.DataFrame:
    """The classifier's verdicts on a batch, with each comment's terms in its language."""
    texts = [t if isinstance(t, str) else None for t in frame["content"]]
    names = [n if isinstance(n, str) else None for n in frame["user_name"]]
    verdicts = classifier.classify_many(texts, names)
    verdicts.insert(0, "comment_id", frame["comment_id"].to_numpy())
    verdicts["terms"] = tokenise(texts, verdicts["language"].tolist())
    return verdicts
