"""desk.scheduler: automatic syncs on a fake clock, one sync of an account at a time, and
the periodic job that renews tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from desk.config import Settings
from desk.scheduler import AutoSync, PeriodicJob, SyncBusy, refresh_due_tokens
from tiktok_client.ratelimit import RateLimiter

START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    status: str
    message: str


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def scheduler_for(job, clock: Clock, **kwargs) -> AutoSync:
    return AutoSync(job, clock=clock, tick=3600, **kwargs)


def test_a_due_plan_runs_with_a_fake_clock(clock):
    calls = []
    synced = []

    def job(key: str, stop: threading.Event, progress=None) -> Outcome:
        calls.append(key)
        return Outcome("ok", "5 comments from 1 ads.")

    scheduler = scheduler_for(job, clock, on_synced=lambda: synced.append(1))
    try:
        scheduler.enable("ad:1", 10)
        scheduler.enable("organic:2", 30)
        assert scheduler.run_due() == []
        clock.advance(11)
        assert scheduler.run_due() == ["ad:1"]
        plan = scheduler.status("ad:1")
        assert plan.key == "ad:1" and plan.last_run == clock.now
        assert plan.last_message == "ok: 5 comments from 1 ads."
        assert plan.next_run == clock.now + timedelta(minutes=10)
        assert scheduler.status("organic:2").last_run is None
        clock.advance(20)
        assert scheduler.run_due() == ["ad:1", "organic:2"]
        assert calls == ["ad:1", "ad:1", "organic:2"]
        assert len(synced) == 3
    finally:
        scheduler.stop()


def test_a_disabled_plan_no_longer_runs(clock):
    scheduler = scheduler_for(lambda key, stop, progress: Outcome("ok", "done"), clock)
    try:
        scheduler.enable("ad:1", 5)
        scheduler.disable("ad:1")
        clock.advance(6)
        assert scheduler.run_due() == [] and scheduler.status("ad:1") is None
    finally:
        scheduler.stop()


def test_a_failing_job_is_reported_in_the_plan_and_the_schedule_carries_on(clock):
    def job(key: str, stop: threading.Event, progress=None) -> Outcome:
        if key == "ad:broken":
            raise RuntimeError("TikTok is down")
        return Outcome("ok", "fine")

    scheduler = scheduler_for(job, clock, describe_error=lambda exc: f"words for {exc}")
    try:
        scheduler.enable("ad:broken", 5)
        scheduler.enable("ad:fine", 5)
        clock.advance(6)
        assert sorted(scheduler.run_due()) == ["ad:broken", "ad:fine"]
        broken = scheduler.status("ad:broken")
        assert broken.last_message == "failed: words for TikTok is down"
        assert broken.next_run == clock.now + timedelta(minutes=5)
        assert scheduler.status("ad:fine").last_message == "ok: fine"
        clock.advance(6)
        assert sorted(scheduler.run_due()) == ["ad:broken", "ad:fine"]  # tried again
    finally:
        scheduler.stop()


def test_syncing_refuses_a_second_holder_with_sync_busy(clock):
    scheduler = scheduler_for(lambda key, stop, progress: Outcome("ok", "done"), clock)
    try:
        scheduler.enable("organic:7", 5)
        clock.advance(6)
        with scheduler.syncing("organic:7", noun="TikTok account"):
            assert scheduler.status("organic:7").running
            with pytest.raises(SyncBusy, match="A sync of this TikTok account is already"), \
                    scheduler.syncing("organic:7", noun="TikTok account"):
                pass
            assert scheduler.run_due() == []  # the schedule waits for the holder
            with scheduler.syncing("ad:7"):  # another account: its own slot
                pass
        assert not scheduler.status("organic:7").running
        assert scheduler.run_due() == ["organic:7"]
    finally:
        scheduler.stop()


def test_sync_busy_names_the_kind_of_account():
    assert str(SyncBusy()).startswith("A sync of this ad account is already running")
    assert str(SyncBusy(noun="TikTok account")).startswith(
        "A sync of this TikTok account is already running")
    assert "wait for it to finish" in str(SyncBusy())


def test_enabling_starts_one_thread_that_stop_ends(clock):
    ran = threading.Event()

    def job(key: str, stop: threading.Event, progress=None) -> Outcome:
        ran.set()
        return Outcome("ok", "done")

    scheduler = AutoSync(job, clock=clock, tick=0.01)
    scheduler.enable("ad:1", 1)
    clock.advance(2)
    assert ran.wait(5)
    scheduler.stop()
    threads = [t for t in threading.enumerate() if t.name == "desk-auto-sync"]
    assert all(not t.is_alive() for t in threads)


def test_periodic_job_survives_an_exception_and_stops():
    calls = []
    ran_twice = threading.Event()

    def job() -> None:
        calls.append(1)
        if len(calls) >= 2:
            ran_twice.set()
        raise RuntimeError("TikTok is down")

    periodic = PeriodicJob(job, 0.01, "test-periodic")
    assert ran_twice.wait(5)
    periodic.stop()
    count = len(calls)
    threading.Event().wait(0.05)
    assert len(calls) == count


def test_a_woken_periodic_job_runs_at_once_and_then_keeps_its_time():
    ran = threading.Event()
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        ran.set()

    periodic = PeriodicJob(job, 3600, "test-woken")
    try:
        assert not ran.wait(0.05), "an hour to the first round"
        periodic.wake()
        assert ran.wait(5), "woken: it runs now"
        threading.Event().wait(0.05)
        assert len(calls) == 1, "once, then its hour again"
    finally:
        periodic.stop()


def test_refresh_due_tokens_without_business_accounts_does_nothing(tmp_path):
    settings = Settings(credentials_path=tmp_path / "credentials.json")
    # No business account is connected: no client is made, nothing is asked of TikTok.
    assert refresh_due_tokens(settings, "http://127.0.0.1:9", "app", "secret",
                              RateLimiter(10, 600)) == {}


class Step:
    """A sync's progress report."""

    def __init__(self, rows: int) -> None:
        self.rows, self.fraction = rows, rows / 10

    def line(self) -> str:
        return f"{self.rows} comments"


def test_a_sync_started_now_runs_in_the_background_reports_progress_and_its_result(clock):
    release = threading.Event()
    synced = []

    def job(key: str, stop: threading.Event, progress=None) -> Outcome:
        progress(Step(3))
        release.wait(5)
        return Outcome("ok", "10 comments from 2 ads.")

    scheduler = scheduler_for(job, clock, on_synced=lambda: synced.append(1))
    scheduler.STREAM_EVERY = 0.0
    try:
        started = scheduler.run_now("ad:1")
        assert started.running
        with pytest.raises(SyncBusy, match="TikTok account"):  # one sync of an account at once
            scheduler.run_now("ad:1", noun="TikTok account")
        for _ in range(100):
            if scheduler.now("ad:1").line == "3 comments":
                break
            threading.Event().wait(0.01)
        running = scheduler.now("ad:1")
        assert running.running and running.fraction == 0.3
        assert synced  # the pages were told new comments are stored
        release.set()
        for _ in range(500):
            if not scheduler.now("ad:1").running:
                break
            threading.Event().wait(0.01)
        ended = scheduler.now("ad:1")
        assert not ended.running and ended.result.message == "10 comments from 2 ads."
        assert ended.error is None and scheduler.now("ad:2") is None
        with scheduler.syncing("ad:1"):  # the slot is free again
            pass
    finally:
        release.set()
        scheduler.stop()


def test_a_sync_started_now_that_fails_keeps_the_error_to_show(clock):
    def job(key: str, stop: threading.Event, progress=None) -> Outcome:
        raise SyncBusy("ad account")

    scheduler = scheduler_for(job, clock)
    try:
        scheduler.run_now("ad:1")
        for _ in range(500):
            if not scheduler.now("ad:1").running:
                break
            threading.Event().wait(0.01)
        assert isinstance(scheduler.now("ad:1").error, SyncBusy)
    finally:
        scheduler.stop()
