"""The one thread that writes a sync's data to the store, so that the sync's scheduling loop
never waits for the database: while a batch of comments is stored, the next pages are asked
for and read.

Jobs run one at a time, in the order they were given, with the thread's own cursor; each is
a callable taking that cursor. A job that fails stops the ones after it (they are skipped),
and its error is raised in the sync's thread at the next `submit` or at `close`, so a sync
never goes on believing something was stored that was not.

At most `QUEUED` jobs wait: when the database falls behind, `submit` blocks until the store
thread takes the next one, so the sync asks TikTok for no more pages meanwhile, and batches of
comments never pile up in memory. Jobs are never submitted from the store thread itself.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from desk import store as db

Job = Callable[[db.Cursor], Any]

QUEUED = 2
"""Jobs that may wait for the store thread besides the one it runs."""
_POLL = 0.5  # seconds between checks that the store thread is still there, while blocked


class Storer:
    """Runs store jobs in one background thread (see the module doc)."""

    def __init__(self, store: db.Store, name: str = "desk-store", queued: int = QUEUED) -> None:
        self._store = store
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=queued)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Run `job(cursor)` after every job given before it; while `QUEUED` jobs already
        wait, block until the store thread takes one."""
        self._raise()
        self._put(job)

    @property
    def busy(self) -> bool:
        """Whether a job is running or waiting."""
        return self._jobs.unfinished_tasks > 0

    def close(self) -> None:
        """Wait for every job given, then end the thread; raise the first job's error."""
        self._put(None)
        self._thread.join()
        self._raise()

    def _put(self, job: Job | None) -> None:
        """Queue `job`, waiting for room; a store thread that is gone (it could not open its
        cursor) raises instead of leaving the sync blocked for ever."""
        while True:
            try:
                self._jobs.put(job, timeout=_POLL)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    self._raise()
                    raise RuntimeError(f"the store thread {self._thread.name} has ended") \
                        from None

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        try:
            cur = self._store.cursor()
        except BaseException as exc:  # raised in the sync's thread
            self._error = exc
            return
        with cur:
            while True:
                job = self._jobs.get()
                try:
                    if job is None:
                        return
                    if self._error is None:
                        job(cur)
                except BaseException as exc:  # raised in the sync's thread
                    self._error = exc
                finally:
                    self._jobs.task_done()
