"""The scores the models in use (desk.learning.in_use) write to the comments, and retraining.

**Scores** (`comments.answer_score`, `hide_score`, with `scored_with`, e.g.
`answer:12 hide:13`, naming the models) are written for the visible first-level viewer
comments not marked done: the open inbox and each sync's new comments. A pass scores those
whose `scored_with` is not what their account's models in use would write, so after a
retraining every such comment is scored again, and after a sync only the new ones; a comment
whose account has no model in use any more has its scores cleared. One UPDATE per batch, from
a registered Arrow table.

**Retraining** (`retrain`): both targets, for every account with decisions or for all
accounts together (the scope an admin chose on Settings); desk.learning.schedule says when.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from desk.learning.in_use import in_use_for, models_in_use
from desk.learning.model import LinearModel
from desk.learning.training import Trained, load, train
from desk.store import learning as ldb
from desk.store.learning import TARGETS, Account, StoredModel, Target
from desk.store.sql import Cursor
from desk.store.times import to_utc, utc_now

SCORE_BATCH = 20_000


@dataclass(frozen=True)
class Scorer:
    """The models in use, loaded: which ones score the comments of each account."""

    models: dict[int, LinearModel]
    stored: tuple[StoredModel, ...]

    @classmethod
    def load(cls, cur: Cursor) -> Scorer:
        stored = tuple(models_in_use(cur))
        return cls({m.model_id: load(cur, m) for m in stored}, stored)

    def key(self, account: Account | None) -> str | None:
        """What `scored_with` says for a comment of `account` (None: no model)."""
        parts = []
        for target in TARGETS:
            model = in_use_for(self.stored, target, account)
            if model is not None:
                parts.append(f"{target}:{model.model_id}")
        return " ".join(sorted(parts)) or None

    def model(self, target: Target, account: Account | None) -> LinearModel | None:
        stored = in_use_for(self.stored, target, account)
        return None if stored is None else self.models[stored.model_id]

    def score(self, comments: pd.DataFrame) -> pa.Table:
        """The scores of these comments (with account_kind and account_id), as the table
        write_scores takes: comment_id, answer_score, hide_score, scored_with."""
        answer = np.full(len(comments), np.nan, dtype=np.float32)
        hide = np.full(len(comments), np.nan, dtype=np.float32)
        keys: list[str | None] = [None] * len(comments)
        frame = comments.reset_index(drop=True)
        for (kind, account_id), rows in frame.groupby(["account_kind", "account_id"],
                                                      sort=False, dropna=False).groups.items():
            account = (str(kind), str(account_id))
            part = frame.loc[rows]
            for target, out in (("answer", answer), ("hide", hide)):
                model = self.model(target, account)  # type: ignore[arg-type]
                if model is not None:
                    out[rows] = model.score(part)
            key = self.key(account)
            for row in rows:
                keys[row] = key
        return pa.table({
            "comment_id": pa.array(frame["comment_id"].astype(str), pa.string()),
            "answer_score": pa.array(answer, pa.float32(), mask=np.isnan(answer)),
            "hide_score": pa.array(hide, pa.float32(), mask=np.isnan(hide)),
            "scored_with": pa.array(keys, pa.string()),
        })


def score_stored(cur: Cursor, *, stop: threading.Event | None = None,
                 batch: int = SCORE_BATCH) -> int:
    """Score every comment whose scores are not those of the models in use (see the
    module); how many were written."""
    scorer = Scorer.load(cur)
    accounts = ldb.known_accounts(cur)
    keys = pa.table({
        "account_kind": pa.array([a[0] for a in accounts], pa.string()),
        "account_id": pa.array([a[1] for a in accounts], pa.string()),
        "scored_with": pa.array([scorer.key(a) for a in accounts], pa.string()),
    })
    written = 0
    while stop is None or not stop.is_set():
        comments = ldb.to_score(cur, keys, scorer.key(None), batch)
        if comments.empty:
            break
        written += ldb.write_scores(cur, scorer.score(comments))
    return written


def retrain(cur: Cursor, *, across_accounts: bool | None = None,
            now: datetime | None = None, stop: threading.Event | None = None) -> list[Trained]:
    """Train both targets for every account with decisions, or across accounts (None: as
    chosen on Settings), then score the comments with the models now in use."""
    moment = to_utc(now or utc_now())
    if across_accounts is None:
        across_accounts = ldb.training_scope(cur).scope == "all accounts"
    scopes: list[Account | None] = [None] if across_accounts else list(
        ldb.decided_accounts(cur))
    done: list[Trained] = []
    for account in scopes:
        for target in TARGETS:
            if stop is not None and stop.is_set():
                return done
            done.append(train(cur, target, account, now=moment))
    score_stored(cur, stop=stop)
    return done
