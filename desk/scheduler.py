"""Periodic work while the app runs: automatic syncs and business-account token renewal.

`AutoSync` syncs chosen accounts every N minutes in one daemon thread; its `syncing()` slot
is also what a person's "Sync now" holds, so an account is never synced twice at once.
`PeriodicJob` runs one job every few seconds in a daemon thread (the token renewal,
`refresh_due_tokens`, is one). Both are shared by every session of the app: use only their
methods, which are thread-safe.

An account is named by a plain key that says its kind, e.g. "ad:<advertiser_id>" or
"organic:<business_id>"; AutoSync never looks inside it. A second holder of an account's
slot meets `SyncBusy` (desk.errors), worded for the kind of account it names.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from desk.config import Settings
from desk.connect.credentials import CredentialStore
from desk.connect.tokens import TokenKeeper
from desk.errors import SyncBusy, message_for
from desk.tasks import Tasks, TaskState
from tiktok_client.client import TikTokClient
from tiktok_client.ratelimit import RateLimiter

__all__ = ("AutoSync", "AutoSyncPlan", "PeriodicJob", "SyncBusy", "SyncOutcome",
           "refresh_due_tokens")

_log = logging.getLogger(__name__)


class SyncOutcome(Protocol):
    """What a finished sync reports: a status word and a one-line message."""

    status: str
    message: str


SyncNow = TaskState
"""A sync a person started ("Sync now"): see desk.tasks.TaskState."""


@dataclass(frozen=True)
class AutoSyncPlan:
    """One account's automatic sync."""

    key: str
    minutes: int
    next_run: datetime
    last_run: datetime | None = None
    last_message: str | None = None
    running: bool = False


class AutoSync:
    """Syncs chosen accounts every N minutes in one daemon thread while the app runs.

    `job(key, stop)` syncs one account and returns its outcome; a failure is reported in the
    account's plan, worded by `describe_error` (desk.errors' words), and the schedule carries
    on. `on_synced` runs
    after every automatic sync (e.g. to forget cached query results).
    """

    STREAM_EVERY = 2.0
    """Seconds between the `on_synced` calls while a sync started now stores new comments, so
    the pages show them as they stream in."""

    def __init__(self, job: Callable[..., SyncOutcome], *,
                 on_synced: Callable[[], None] | None = None, tick: float = 5.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 describe_error: Callable[[Exception], str] = message_for) -> None:
        """`job(key, stop, progress)` syncs one account, reporting its progress (an object
        with `fraction`, `line()` and `rows`) to `progress` when that is not None."""
        self._job = job
        self._on_synced = on_synced
        self._tick = tick
        self._clock = clock
        self._describe_error = describe_error
        self._lock = threading.Lock()
        self._plans: dict[str, AutoSyncPlan] = {}
        self._streamed: dict[str, tuple[int, float]] = {}
        self._tasks = Tasks(clock=clock, on_report=self._stream,
                            on_end=lambda key: self._synced())
        self._stop = self._tasks.stopping
        self._thread: threading.Thread | None = None

    def enable(self, key: str, minutes: int) -> None:
        minutes = max(1, int(minutes))
        with self._lock:
            old = self._plans.get(key)
            next_run = self._clock() + timedelta(minutes=minutes)
            self._plans[key] = (
                replace(old, minutes=minutes, next_run=next_run) if old
                else AutoSyncPlan(key, minutes, next_run)
            )
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, name="desk-auto-sync",
                                                daemon=True)
                self._thread.start()

    def disable(self, key: str) -> None:
        with self._lock:
            self._plans.pop(key, None)

    def status(self, key: str) -> AutoSyncPlan | None:
        with self._lock:
            plan = self._plans.get(key)
        if plan is None:
            return None
        return replace(plan, running=self._tasks.busy(key))

    def syncing(self, key: str, *,
                noun: str = "ad account") -> contextlib.AbstractContextManager[None]:
        """Hold the account's sync slot; SyncBusy (naming the `noun`) if a sync of it runs."""
        return self._tasks.slot(key, lambda: SyncBusy(noun))

    def run_now(self, key: str, *, noun: str = "ad account") -> SyncNow:
        """Start syncing the account in the background at once (SyncBusy, naming the `noun`,
        if a sync of it runs); `now(key)` says how it goes."""
        with self._lock:
            self._streamed[key] = (0, 0.0)
        return self._tasks.start(key, lambda stop, report: self._job(key, stop, report),
                                 lambda: SyncBusy(noun))

    def now(self, key: str) -> SyncNow | None:
        """The account's last sync started now, running or ended; None if there was none."""
        return self._tasks.state(key)

    @property
    def tasks(self) -> Tasks:
        """The app's background work, which holds the same slots: a task keyed by an
        account (e.g. classifying its comments) never runs while the account syncs."""
        return self._tasks

    def _stream(self, key: str, progress: Any) -> None:
        """While a sync started now stores new comments, tell `on_synced` every
        STREAM_EVERY seconds, so the pages show them as they come in."""
        rows = getattr(progress, "rows", 0)
        moment = time.monotonic()
        with self._lock:
            last_rows, last_at = self._streamed.get(key, (0, 0.0))
            due = rows > last_rows and moment - last_at >= self.STREAM_EVERY
            if due:
                self._streamed[key] = (rows, moment)
        if due:
            self._synced()

    def _synced(self) -> None:
        if self._on_synced is not None:
            with contextlib.suppress(Exception):
                self._on_synced()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def run_due(self) -> list[str]:
        """Sync every account whose time has come; returns the keys of those synced."""
        now = self._clock()
        with self._lock:
            due = [k for k, p in self._plans.items() if p.next_run <= now]
        due = [k for k in due if not self._tasks.busy(k)]
        done = []
        for key in due:
            if self._stop.is_set():
                break
            try:
                with self.syncing(key):
                    result = self._job(key, self._stop, None)
                message = f"{result.status}: {result.message}"
            except SyncBusy:
                continue
            except Exception as exc:  # reported in the plan; the schedule carries on
                message = f"failed: {self._describe_error(exc)}"
            finished = self._clock()
            with self._lock:
                plan = self._plans.get(key)
                if plan is not None:
                    self._plans[key] = replace(
                        plan, last_run=finished, last_message=message,
                        next_run=finished + timedelta(minutes=plan.minutes))
            done.append(key)
            self._synced()
        return done

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            self.run_due()


class PeriodicJob:
    """Runs `job()` every `every` seconds in one daemon thread until stopped, or at once when
    woken. Its only state is the thread and two events; a failing round is logged and the
    next one runs."""

    def __init__(self, job: Callable[[], Any], every: float, name: str) -> None:
        self._job = job
        self._every = every
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._every)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                self._job()
            except Exception as exc:  # the next round tries again; each use renews on demand
                _log.warning("%s failed: %s", self._thread.name, type(exc).__name__)

    def wake(self) -> None:
        """Run the next round now rather than at its time (once, however often woken
        before it starts)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


def refresh_due_tokens(settings: Settings, base_url: str, app_id: str, secret: str,
                       limiter: RateLimiter) -> dict[str, str]:
    """Renew every business-account token that expires soon (one round of the schedule)."""
    credentials = CredentialStore(settings.credentials_path, settings.secret_key)
    if not credentials.account_connections():
        return {}
    with TikTokClient(base_url=base_url, rate_limiter=limiter) as client:
        return TokenKeeper(credentials, client, app_id, secret).refresh_due()
