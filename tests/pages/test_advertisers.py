"""Advertisers: choosing the ad account (kept in the URL), Sync now with progress, the messages
of a sync that TikTok refuses, and automatic sync."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st

from desk import store as db
from desk.scheduler import AutoSync, SyncBusy
from desk.sources import AdAccount
from desk.sources.ad_sync import SyncResult
from desk.ui import handles
from tests.pages.conftest import (
    app_scheduler,
    infos,
    no_errors,
    open_page,
    plain,
    sandbox_comments,
    sync_now,
)
from tiktok_client.client import TikTokClient
from tiktok_client.errors import RateLimited, ServerError

PAGE = "pages/1_Advertisers.py"


def test_without_a_connection_it_points_to_home(sandbox):
    at = open_page(PAGE)
    no_errors(at)
    assert "Connect one on the Home page" in infos(at)[0]
    assert at.get("page_link")


def test_the_advertiser_in_the_url_is_chosen_and_kept_in_the_url(token, advertisers):
    chosen = advertisers["SECOND_WRITER"]
    at = open_page(PAGE, query={"advertiser": chosen})
    no_errors(at)
    assert at.selectbox(key="advertisers_selected").value == chosen
    assert at.query_params["advertiser"] == chosen
    assert at.session_state["advertiser_id"] == chosen
    other = advertisers["WRITER"]
    at.selectbox(key="advertisers_selected").set_value(other).run()
    assert at.session_state["advertiser_id"] == other
    assert at.query_params["advertiser"] == other
    at.switch_page("pages/2_Ads.py").run()  # the choice follows to the other pages
    assert at.session_state["advertiser_id"] == other


def test_an_unknown_advertiser_in_the_url_is_ignored(token):
    at = open_page(PAGE, query={"advertiser": "123"})
    no_errors(at)
    assert at.selectbox(key="advertisers_selected").value is None
    assert any("not connected here" in t.value for t in at.toast)


def test_sync_now_shows_progress_and_ends_with_the_result(token, advertisers, sandbox, store):
    advertiser_id = advertisers["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    sync_now(at, "advertisers_sync")
    no_errors(at)
    [status] = at.status
    assert status.proto.state == status.proto.State.COMPLETE
    assert at.get("progress")
    [line] = at.success
    expected = len(sandbox_comments(sandbox, advertiser_id))
    assert f"{expected:,} comments from" in line.value
    stored = db.comments_count(store.cursor(), db.CommentFilters(advertiser_id))
    assert stored == expected
    again = open_page(PAGE, query={"advertiser": advertiser_id})
    assert "Last sync just now: ok." in plain(again.main.caption[0].value)


@pytest.fixture
def slow_app(monkeypatch):
    """The app at 4 requests a second: a sync takes a few seconds."""
    monkeypatch.setenv("TIKTOK_RATE_LIMIT_QPS", "4")
    monkeypatch.setenv("TIKTOK_RATE_LIMIT_QPM", "1000")


def test_the_first_comments_can_be_read_while_the_sync_streams_in(slow_app, token, advertisers,
                                                                  sandbox, store):
    advertiser_id = advertisers["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    at.button(key="advertisers_sync").click().run()
    no_errors(at)
    [status] = at.status
    assert status.proto.state == status.proto.State.RUNNING
    assert "can be read on the other pages" in status.caption[0].value
    deadline = time.monotonic() + 30
    while not db.comments_count(store.cursor(), db.CommentFilters(advertiser_id)):
        assert time.monotonic() < deadline, "no comment was stored"
        time.sleep(0.05)

    comments = open_page("pages/3_Comments.py", query={"advertiser": advertiser_id})
    scheduler = app_scheduler()
    assert scheduler.now(f"ad:{advertiser_id}").running  # still streaming in
    no_errors(comments)
    shown = int(re.search(r"([\d,]+) comments?", comments.main.markdown[0].value)[1]
                .replace(",", ""))
    assert 0 < shown < len(sandbox_comments(sandbox, advertiser_id))
    assert at.run().button(key="advertisers_sync").disabled  # one sync of an account at once

    while scheduler.now(f"ad:{advertiser_id}").running:
        assert time.monotonic() < deadline + 60, "the sync did not end"
        time.sleep(0.1)
    at.run()
    assert at.status[0].proto.state == status.proto.State.COMPLETE
    assert "comments from" in at.success[0].value


def test_sync_with_a_revoked_token_says_reconnect_on_home(token, advertisers, sandbox,
                                                          credentials):
    sandbox.revoke_token(token)
    at = open_page(PAGE, query={"advertiser": advertisers["WRITER"]})
    sync_now(at, "advertisers_sync")
    no_errors(at)
    [error] = at.error
    assert "reconnect the account on the Home page" in error.value
    assert at.status[0].proto.state == at.status[0].proto.State.ERROR
    assert credentials.connections()[0].needs_reauth
    again = open_page(PAGE, query={"advertiser": advertisers["WRITER"]})
    assert "Reconnect it on the Home page" in again.warning[0].value
    assert again.button(key="advertisers_sync").disabled


@pytest.mark.parametrize("error, message", [
    (RateLimited("Too many requests", 40100, "req-1"), "limiting how fast this app"),
    (ServerError("system error", 50000, "req-2"), "try again in a few minutes"),
])
def test_sync_errors_end_in_a_human_message(token, advertisers, monkeypatch, error, message):
    def refuse(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(TikTokClient, "get_advertiser_info", refuse)
    at = open_page(PAGE, query={"advertiser": advertisers["WRITER"]})
    sync_now(at, "advertisers_sync")
    no_errors(at)
    assert message in at.error[0].value
    assert "Traceback" not in at.error[0].value


def test_auto_sync_toggle_enables_the_schedule(token, advertisers, settings):
    advertiser_id = advertisers["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    at.number_input(key="advertisers_autosync_minutes").set_value(30)
    at.toggle(key="advertisers_autosync").set_value(True).run()
    no_errors(at)
    sandbox = handles.demo_sandbox()
    scheduler = handles.auto_sync_scheduler(settings, sandbox.base_url, sandbox.config.app_id,
                                            sandbox.config.secret)
    key = f"{AdAccount.kind}:{advertiser_id}"
    plan = scheduler.status(key)
    assert plan is not None and plan.minutes == 30
    assert "every 30 min" in at.main.caption[-1].value
    at.toggle(key="advertisers_autosync").set_value(False).run()
    assert scheduler.status(key) is None


def fake_result(advertiser_id: str) -> SyncResult:
    return SyncResult(run_id=1, account_id=advertiser_id, status="ok",
                      message="5 comments from 1 ads.", rows=5, requests=2, seconds=0.1)


def test_auto_sync_runs_due_accounts_and_never_two_syncs_at_once():
    now = [datetime(2025, 1, 1, tzinfo=UTC)]
    calls = []

    def job(advertiser_id: str, stop: threading.Event, progress=None) -> SyncResult:
        calls.append(advertiser_id)
        return fake_result(advertiser_id)

    scheduler = AutoSync(job, clock=lambda: now[0], tick=3600)
    try:
        scheduler.enable("a", 10)
        assert scheduler.run_due() == []
        now[0] += timedelta(minutes=11)
        with scheduler.syncing("a"):  # "Sync now" holds it: the schedule waits
            assert scheduler.run_due() == []
            with pytest.raises(SyncBusy), scheduler.syncing("a"):
                pass
        assert scheduler.run_due() == ["a"]
        plan = scheduler.status("a")
        assert calls == ["a"] and plan.last_message.startswith("ok:")
        assert plan.next_run == now[0] + timedelta(minutes=10)
    finally:
        scheduler.stop()


def test_auto_sync_reports_a_failed_sync_and_carries_on():
    now = [datetime(2025, 1, 1, tzinfo=UTC)]

    def job(advertiser_id: str, stop: threading.Event, progress=None) -> SyncResult:
        raise RateLimited("slow down", 40100)

    scheduler = AutoSync(job, clock=lambda: now[0], tick=3600)
    try:
        scheduler.enable("a", 5)
        now[0] += timedelta(minutes=6)
        assert scheduler.run_due() == ["a"]
        assert "limiting how fast" in scheduler.status("a").last_message
    finally:
        scheduler.stop()


def test_the_table_shows_the_account_type_and_what_tiktok_said_to_the_last_write(
        sync, store, advertisers):
    read_only = sync("READ_ONLY")
    at = open_page(PAGE)
    no_errors(at)
    table = at.dataframe[0].value.set_index("advertiser_id")
    assert table.loc[read_only, "role"]  # synced: its type is known
    assert set(table["role"]) - {""} <= {"Advertiser", "Advertiser managed by an agency",
                                  "Agency managed by an agency", "Agency"}
    assert table.loc[read_only, "writes"].startswith("Not known yet")
    with store.cursor() as cur:
        db.record_write_access(cur, "ad", read_only, False, 40001, "No permission to operate.")
        db.record_write_access(cur, "ad", advertisers["WRITER"], True)
    st.cache_data.clear()  # as a write through the outbox does (context.refresh)
    again = open_page(PAGE)
    table = again.dataframe[0].value.set_index("advertiser_id")
    assert table.loc[read_only, "writes"].startswith("Refused by TikTok with code 40001")
    assert table.loc[advertisers["WRITER"], "writes"].startswith("Allowed")
