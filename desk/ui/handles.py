"""The process's handles (st.cache_resource: one per process, shared by every session).

The Store, the rate limiter every request of the app shares, the demo sandbox and its
folder, the automatic-sync scheduler, the token renewal schedule and the background work on
the database alone (classifying the stored comments when the store opens). None of them is ever
mutated from outside: each is used only through its own thread-safe methods, and each is
closed or stopped when the cache lets it go.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import streamlit as st

from desk import learning, people
from desk import store as db
from desk.alerts.run import send_due
from desk.config import Settings, load_settings
from desk.connect.credentials import CredentialStore
from desk.demo import sandbox_options
from desk.errors import DeskError
from desk.moderation.classifying import classify_backlog, waiting_count
from desk.moderation.pipeline import Moderated, sync_and_moderate
from desk.scheduler import AutoSync, PeriodicJob, refresh_due_tokens
from desk.sources import Progress, source
from desk.store import Store
from desk.store.times import utc_now
from desk.tasks import Tasks, TaskState
from desk.workspace import TikTokApp, Workspace, app_rate_limiter
from tiktok_client.ratelimit import RateLimiter

if TYPE_CHECKING:
    from tiktok_sandbox import SandboxHandle

TOKEN_REFRESH_SECONDS = 300.0
RETRAIN_CHECK_SECONDS = 600.0
"""How often, while the app runs, the models learned from the team are retrained when due
(desk.learning.Retrainer: enough new decisions, or a day with any)."""
ALERT_SEND_SECONDS = 60.0
"""How often alert deliveries waiting for a retry are tried while the app runs."""
"""How often, while the app runs, business-account tokens near their expiry are renewed."""


@st.cache_resource(show_spinner=False, on_release=lambda store: store.close())
def store_at(path: str) -> Store:
    """The process's one Store for the database at `path` (opened on first use, with the
    memory the settings give it)."""
    settings = load_settings()
    store = Store.open(path, settings.db_memory)
    with store.cursor() as cur:
        db.mark_interrupted_runs(cur)  # syncs a previous process left "running"
        people.seed(cur, {"admin": settings.admins, "responder": settings.responders,
                          "viewer": settings.viewers})  # the settings' roles, at each start
    classify_stored(store)  # comments a new classifier or tokeniser version has not read yet
    return store


CLASSIFY_BACKLOG = "classify:backlog"
"""The key of the background task that classifies the stored comments the current
classifier version has not (in `store_tasks`)."""


@st.cache_resource(show_spinner=False, on_release=lambda tasks: tasks.stop())
def store_tasks(path: str) -> Tasks:
    """The background work on the database at `path` alone, which holds no account's sync
    slot (classifying the stored comments); asked to stop when the app stops. The cached
    query results are forgotten as each task ends, so the pages show what it did."""
    return Tasks(on_end=lambda key: st.cache_data.clear())


@dataclass(frozen=True)
class Classifying:
    """How far the classifying of the stored comments has gone, for a progress line."""

    done: int
    total: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0

    def line(self) -> str:
        return f"classified {self.done:,} of {self.total:,} comments"


def classify_stored(store: Store) -> TaskState | None:
    """Start classifying, in the background, the stored comments the current classifier
    version has not (an upgrade brings a new version; a stopped sync leaves its new comments
    unread), and reading the terms of those the current tokeniser has not, unless none wait
    or it runs already; returns the task (None: never started)."""
    tasks = store_tasks(store.path)
    with store.cursor() as cur:
        waiting = waiting_count(cur)
    if not waiting or tasks.busy(CLASSIFY_BACKLOG):
        return tasks.state(CLASSIFY_BACKLOG)

    def work(stop: threading.Event, report: Callable[[Classifying], None]) -> int:
        with store.cursor() as cur:
            return classify_backlog(cur, stop=stop,
                                    progress=lambda done, total: report(Classifying(done, total)))

    try:
        return tasks.start(CLASSIFY_BACKLOG, work, busy=lambda: DeskError(
            "The stored comments are being classified already."))
    except DeskError:  # another session started it a moment ago
        return tasks.state(CLASSIFY_BACKLOG)


@st.cache_resource(show_spinner=False)
def credentials(path: str, secret_key: str | None) -> CredentialStore:
    """The connected-accounts file, encrypted with the key (once per process, a file written
    before there was a key is encrypted in place)."""
    store = CredentialStore(path, secret_key)
    store.encrypt_in_place()
    return store


def store_for(settings: Settings) -> Store:
    """The process's one Store for the configured database (opened on first use)."""
    return store_at(str(settings.db_path))


@st.cache_resource(show_spinner=False)
def rate_limiter(qps: float, qpm: float) -> RateLimiter:
    """The one limiter every request of the app shares (TikTok counts per developer app)."""
    return app_rate_limiter(Settings(rate_limit_qps=qps, rate_limit_qpm=qpm))


@st.cache_resource(show_spinner="Starting the demo sandbox…", on_release=lambda h: h.stop())
def _sandbox(options: tuple[tuple[str, float], ...]) -> SandboxHandle:
    from tiktok_sandbox import SandboxConfig, start_sandbox

    return start_sandbox(SandboxConfig(**dict(options)))


def demo_sandbox(options: tuple[tuple[str, float], ...] | None = None) -> SandboxHandle:
    """The sandbox this process runs for demo mode (started on first use), sized by the
    DESK_SANDBOX_* variables unless `options` are given."""
    return _sandbox(sandbox_options() if options is None else options)


@st.cache_resource(show_spinner=False)
def demo_folder(directory: str) -> str:
    """Empty the demo's own folder once per process, before anything opens its files: each
    start of the app makes a new sandbox world, with new IDs and new tokens."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    return directory


@st.cache_resource(show_spinner=False, on_release=lambda scheduler: scheduler.stop())
def auto_sync_scheduler(settings: Settings, base_url: str, app_id: str,
                        secret: str) -> AutoSync:
    """The app's automatic-sync scheduler (no thread runs until one is enabled): it syncs
    the comment sources named by their keys ("ad:<id>", "organic:<id>") with the app at
    `base_url`, then lets the rules act on the new comments. Its `tasks` run the app's other
    background work."""
    store = store_for(settings)
    app = replace(TikTokApp.from_settings(
        settings, rate_limiter(settings.rate_limit_qps, settings.rate_limit_qpm), base_url),
        app_id=app_id, app_secret=secret)

    def job(key: str, stop: threading.Event,
            progress: Callable[[Progress], None] | None) -> Moderated:
        kind, account_id = key.split(":", 1)
        credentials = CredentialStore(settings.credentials_path, settings.secret_key)
        workspace = Workspace(settings, store, credentials, app)
        return sync_and_moderate(source(workspace, kind, account_id),  # type: ignore[arg-type]
                                 stop=stop, progress=progress)

    return AutoSync(job, on_synced=st.cache_data.clear)


@st.cache_resource(show_spinner=False, on_release=lambda job: job.stop())
def _token_refresher(settings: Settings, base_url: str, app_id: str, secret: str) -> PeriodicJob:
    limiter = rate_limiter(settings.rate_limit_qps, settings.rate_limit_qpm)
    return PeriodicJob(
        lambda: refresh_due_tokens(settings, base_url, app_id, secret, limiter),
        TOKEN_REFRESH_SECONDS, "desk-token-refresh",
    )


def token_refresher(workspace: Workspace) -> PeriodicJob:
    """The schedule that renews business-account tokens before they expire, while the app
    runs (each use renews on demand too)."""
    app = workspace.app
    return _token_refresher(workspace.settings, app.api_base_url, app.app_id, app.app_secret)


@st.cache_resource(show_spinner=False, on_release=lambda job: job.stop())
def _alert_sender(settings: Settings) -> PeriodicJob:
    store = store_for(settings)

    def send() -> None:
        with store.cursor() as cur:
            send_due(cur, settings, utc_now())

    return PeriodicJob(send, ALERT_SEND_SECONDS, "desk-alert-delivery")


def alert_sender(workspace: Workspace) -> PeriodicJob:
    """The schedule that tries alert deliveries due for a retry while the app runs (the check
    after each sync raises alerts and sends them first)."""
    return _alert_sender(workspace.settings)


@st.cache_resource(show_spinner=False, on_release=lambda job: job.stop())
def _retrainer(settings: Settings) -> PeriodicJob:
    store = store_for(settings)
    retrainer = learning.Retrainer(store)

    def retrain() -> None:
        if retrainer():  # new models: the pages read the new scores
            st.cache_data.clear()

    return PeriodicJob(retrain, RETRAIN_CHECK_SECONDS, "desk-retrain")


def retrainer(workspace: Workspace) -> PeriodicJob:
    """The schedule that retrains the models learned from the team's decisions, and scores
    the comments with them, while the app runs (each sync scores its new comments)."""
    return _retrainer(workspace.settings)
