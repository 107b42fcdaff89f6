"""Which models are in use, read without loading scikit-learn: the inbox asks on every page,
and the sync pipeline asks after every sync before it scores anything.

**In use**: for each target and scope (an account, or across accounts), the newest model of
the current code version, if it beats its baseline; an older one never stands in for a newer
one that does not. Only the models of the scope an admin chose on Settings
(desk.store.learning.training_scope) are in use: learning per account, a comment is scored by
its account's model; learning across accounts, by the one model of all accounts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from desk.store import Store
from desk.store import learning as ldb
from desk.store.learning import Account, StoredModel, Target
from desk.store.sql import Cursor

_log = logging.getLogger(__name__)

CODE_VERSION = "learning-1"
"""The decisions' definitions, the features and the model: a model of another version is
never used (the next retraining replaces it)."""


def models_in_use(cur: Cursor) -> list[StoredModel]:
    """The models in use now (see the module)."""
    scope = ldb.training_scope(cur).scope
    return [m for m in ldb.newest_models(cur, CODE_VERSION, scope) if m.beats_baseline]


def in_use_for(models: Sequence[StoredModel], target: Target,
               account: Account | None) -> StoredModel | None:
    """Among `models` (those in use), the one of `target` for a comment of `account`: its
    account's own, or the one across accounts."""
    return next((m for m in models
                 if m.target == target and (m.account is None or m.account == account)), None)


def answer_model_in_use(cur: Cursor, accounts: Sequence[Account]) -> StoredModel | None:
    """The answer model the inbox orders by, for a scope of these accounts (none: every
    account with comments): when each of them has one in use, the first one's; else None."""
    models = [m for m in models_in_use(cur) if m.target == "answer"]
    if not models:
        return None
    wanted = list(accounts) or ldb.known_accounts(cur)
    chosen = [in_use_for(models, "answer", account) for account in wanted]
    if not chosen or any(m is None for m in chosen):
        return None
    return chosen[0]


def score_after_sync(store: Store) -> int | None:
    """desk.learning.score_stored for the sync pipeline: nothing to do (and scikit-learn not
    loaded) while no model was ever trained; a failure is logged and never raised. How many
    comments were scored; None when it failed."""
    try:
        with store.cursor() as cur:
            if not ldb.model_count(cur):
                return 0
            from desk.learning.scoring import score_stored  # loads scikit-learn

            return score_stored(cur)
    except Exception as exc:  # scoring must never fail a sync
        _log.warning("scoring the comments after the sync failed (%s): %s",
                     type(exc).__name__, exc)
        return None
