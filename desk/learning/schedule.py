"""When the models are retrained (`Retrainer`, for a PeriodicJob), without loading
scikit-learn until a retraining is due: the app makes its retrainer when the first page
opens.

Due: when `RETRAIN_AFTER` new decisions were made since the last model, or a day passed
since it and there is any new decision, or the scope (each account, all accounts) was
chosen since.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from desk.store import Store
from desk.store import learning as ldb
from desk.store.sql import Cursor
from desk.store.times import to_utc, utc_now

if TYPE_CHECKING:
    from desk.learning.training import Trained

_log = logging.getLogger(__name__)

RETRAIN_AFTER = 200
"""New decisions that call for a retraining at once."""
RETRAIN_EVERY = timedelta(days=1)
"""How often the models are retrained while any new decision comes in."""


class Retrainer:
    """Retrains when due (see the module), for a PeriodicJob. It remembers only when it last
    tried, so that a store with too few decisions is not read again every round."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._tried_at: datetime | None = None

    def due(self, cur: Cursor, now: datetime) -> bool:
        last = max((t for t in (ldb.last_trained_at(cur), self._tried_at) if t is not None),
                   default=None)
        chosen = ldb.training_scope(cur).set_at
        if chosen is not None and (last is None or chosen > last):
            return True  # another scope: its models trained, the comments scored with them
        new = ldb.decisions_since(cur, last)
        if last is None:
            return new > 0
        return new >= RETRAIN_AFTER or (new > 0 and now - last >= RETRAIN_EVERY)

    def __call__(self) -> list[Trained]:
        """One round: retrain if due; what was trained (nothing when not due or busy)."""
        if not self._lock.acquire(blocking=False):
            return []
        try:
            now = to_utc(self._clock())
            with self._store.cursor() as cur:
                if not self.due(cur, now):
                    return []
                self._tried_at = now
                from desk.learning.scoring import retrain  # loads scikit-learn

                trained = retrain(cur, now=now)
            for result in trained:
                _log.info("retrained %s", result.line())
            return trained
        finally:
            self._lock.release()
