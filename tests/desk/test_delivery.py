"""An ad account's delivery, read after its comments through the same client: stored exactly
as TikTok reports it, incrementally, paged, in the windows TikTok takes, and never failing
the comment sync."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from desk import store as db
from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.sources import AdAccount
from desk.sources.delivery import (
    REVISIT_DAYS,
    DeliverySync,
    account_today,
    first_day_to_read,
    sync_delivery,
)
from desk.store import Store
from desk.workspace import TikTokApp, Workspace
from tests.world import READ_ONLY, WRITER, advertisers_by_access
from tiktok_client.client import TikTokClient
from tiktok_client.ratelimit import RateLimiter
from tiktok_client.reporting import DAILY_SPAN
from tiktok_sandbox import SandboxConfig, start_sandbox

LOOKBACK = 200
REPORT = "/open_api/v1.3/report/integrated/get/"
METRICS = ("spend", "impressions", "clicks", "video_play_actions", "likes", "currency")
ALL_SCOPES = [4, 100, 220, 15000000, 15010100, 15010200]


def small(**overrides) -> SandboxConfig:
    settings = dict(seed=3, advertisers=3, ads=18, comments=1500, latency_ms=0, qps=100_000,
                    qpm=10_000_000, new_comments_per_minute=0.0, port=0, history_days=90)
    settings.update(overrides)
    return SandboxConfig(**settings)


@pytest.fixture
def sandbox():
    with start_sandbox(small()) as sb:
        yield sb


def workspace_for(sandbox, tmp_path: Path, scopes=ALL_SCOPES) -> Workspace:
    settings = load_settings(environ={"DESK_LOOKBACK_DAYS": str(LOOKBACK)}, secrets={},
                             secrets_path=None)
    app = TikTokApp(api_base_url=sandbox.base_url, auth_url=f"{sandbox.base_url}/portal/auth",
                    app_id=sandbox.config.app_id, app_secret=sandbox.config.secret,
                    redirect_uri="http://localhost:8501/",
                    rate_limiter=RateLimiter(10_000, 1_000_000))
    credentials = CredentialStore(tmp_path / "credentials.json")
    ids = [a["advertiser_id"] for a in sandbox.ground_truth()["advertisers"]]
    credentials.add(sandbox.issue_token(scopes=scopes), ids, scopes)
    return Workspace(settings, Store.open(tmp_path / "desk.duckdb"), credentials, app)


@pytest.fixture
def workspace(sandbox, tmp_path) -> Iterator[Workspace]:
    workspace = workspace_for(sandbox, tmp_path)
    yield workspace
    workspace.store.close()


@pytest.fixture
def advertiser_id(sandbox) -> str:
    return advertisers_by_access(sandbox.ground_truth())[WRITER]


def today_of(workspace, advertiser_id) -> date:
    return account_today(workspace.store, advertiser_id)


def truth(sandbox, advertiser_id, first=None, last=None) -> dict[tuple[str, date], dict]:
    return {(r["ad_id"], date.fromisoformat(r["stat_day"])): {m: r[m] for m in METRICS}
            for r in sandbox.delivery(advertiser_id, first, last)}


def stored(workspace, advertiser_id) -> dict[tuple[str, date], dict]:
    with workspace.store.cursor() as cur:
        rows = db.query_records(cur, "SELECT * FROM ad_delivery WHERE advertiser_id = ?",
                                [advertiser_id])
    return {(r["ad_id"], r["stat_day"]): {m: r[m] for m in METRICS} for r in rows}


def report_requests(sandbox) -> int:
    return int(sandbox.stats()["by_path"].get(REPORT, 0))


# -- what is read --------------------------------------------------------------------------------

def test_the_days_read_start_at_the_cursor_less_the_revised_days_else_the_look_back():
    today = date(2025, 6, 30)
    assert first_day_to_read(None, today, 90) == date(2025, 4, 1)
    assert first_day_to_read(date(2025, 6, 30), today, 90) == today - timedelta(REVISIT_DAYS)
    assert first_day_to_read(date(2025, 7, 2), today, 90) == today - timedelta(REVISIT_DAYS)
    assert first_day_to_read(date(2025, 6, 30), today, 90, since=date(2025, 1, 1)) == date(
        2025, 1, 1)


def test_a_sync_stores_each_ads_delivery_exactly_as_tiktok_reports_it(sandbox, workspace,
                                                                       advertiser_id):
    result = AdAccount(workspace, advertiser_id).sync()

    today = today_of(workspace, advertiser_id)
    expected = truth(sandbox, advertiser_id, today - timedelta(days=LOOKBACK), today)
    assert result.status == "ok", result.message
    assert stored(workspace, advertiser_id) == expected
    assert f"Delivery: {len(expected):,} ad days from " in result.message
    with workspace.store.cursor() as cur:
        assert db.delivery_cursor(cur, advertiser_id) == today
        run = db.last_sync_run(cur, advertiser_id)
    assert run.message == result.message and run.requests == result.requests
    assert {row["currency"] for row in expected.values()} == {
        next(a["currency"] for a in sandbox.ground_truth()["advertisers"]
             if a["advertiser_id"] == advertiser_id)}


def test_a_second_sync_asks_only_for_the_recent_days(sandbox, workspace, advertiser_id):
    AdAccount(workspace, advertiser_id).sync()
    with workspace.store.cursor() as cur:  # mark every stored day: what is read again changes
        cur.execute("UPDATE ad_delivery SET impressions = -1")
    asked = report_requests(sandbox)

    second = AdAccount(workspace, advertiser_id).sync()

    today = today_of(workspace, advertiser_id)
    recent = today - timedelta(days=REVISIT_DAYS)
    assert report_requests(sandbox) - asked == 1  # four days: one request, one page
    assert f"from {recent:%Y-%m-%d} to {today:%Y-%m-%d}" in second.message
    now = stored(workspace, advertiser_id)
    expected = truth(sandbox, advertiser_id, today - timedelta(days=LOOKBACK), today)
    assert set(now) == set(expected)
    for (ad_id, day), row in now.items():
        assert row == expected[(ad_id, day)] if day >= recent else row["impressions"] == -1


def test_pages_and_windows_together_store_every_ad_day_once(sandbox, workspace, advertiser_id):
    AdAccount(workspace, advertiser_id).sync()  # the ads and the account's time zone
    with workspace.store.cursor() as cur:
        cur.execute("DELETE FROM ad_delivery")
        cur.execute("DELETE FROM delivery_cursors")
    asked = report_requests(sandbox)
    client = TikTokClient(sandbox.issue_token(), base_url=sandbox.base_url,
                          rate_limiter=RateLimiter(10_000, 1_000_000))

    done = sync_delivery(workspace.store, client, advertiser_id, lookback_days=70,
                         page_size=20)

    today = today_of(workspace, advertiser_id)
    expected = truth(sandbox, advertiser_id, today - timedelta(days=70), today)
    assert done.problem is None and done.rows == len(expected)
    assert stored(workspace, advertiser_id) == expected
    first = today - timedelta(days=70)
    windows = [(first, first + timedelta(days=29)),  # 71 days: 30 + 30 + 11
               (first + timedelta(days=30), first + timedelta(days=59)),
               (first + timedelta(days=60), today)]
    pages = sum(-(-sum(1 for _, day in expected if start <= day <= end) // 20)
                for start, end in windows)
    assert report_requests(sandbox) - asked == done.requests == pages > len(windows)


def test_a_span_tiktok_refuses_steps_down_and_the_app_remembers_it(tmp_path):
    with start_sandbox(small(report_daily_span_days=10)) as sandbox:
        workspace = workspace_for(sandbox, tmp_path)
        advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]
        try:
            result = AdAccount(workspace, advertiser_id).sync()
            today = today_of(workspace, advertiser_id)
            assert result.status == "ok"
            assert stored(workspace, advertiser_id) == truth(
                sandbox, advertiser_id, today - timedelta(days=LOOKBACK), today)
            assert workspace.learned().get(DAILY_SPAN) == 10  # kept for the app's next runs
        finally:
            workspace.store.close()


def test_without_the_reporting_permission_the_comments_still_sync_and_the_result_says_why(
        sandbox, tmp_path, advertiser_id):
    workspace = workspace_for(sandbox, tmp_path, scopes=[100, 220, 15000000, 15010100])
    try:
        result = AdAccount(workspace, advertiser_id).sync()
        with workspace.store.cursor() as cur:
            comments = db.comments_count(cur, db.CommentFilters(advertiser_id))
            run = db.last_sync_run(cur, advertiser_id)
        assert stored(workspace, advertiser_id) == {}
    finally:
        workspace.store.close()
    assert result.status == "ok" and comments == len(sandbox.ground_truth(advertiser_id)[
        "comments"])
    assert "was not read: TikTok refused this connection its reporting" in result.message
    assert "code 40001" in result.message and "Reporting permission" in result.message
    assert result.message.count("Delivery") == 1 and run.message == result.message


def test_an_outage_of_reporting_leaves_the_comments_synced_and_the_next_sync_reads_it(
        sandbox, workspace, advertiser_id):
    sandbox.fail_next(REPORT, 40002, "start_date: Not a valid date.")  # refused, not a span
    first = AdAccount(workspace, advertiser_id).sync()
    assert first.status == "ok" and "TikTok answered 'start_date: Not a valid date.'" in (
        first.message)
    assert stored(workspace, advertiser_id) == {}

    AdAccount(workspace, advertiser_id).sync()
    today = today_of(workspace, advertiser_id)
    assert stored(workspace, advertiser_id) == truth(
        sandbox, advertiser_id, today - timedelta(days=LOOKBACK), today)


def test_a_stopped_read_keeps_its_windows_and_the_next_one_goes_on(sandbox, workspace,
                                                                    advertiser_id):
    AdAccount(workspace, advertiser_id).sync()
    with workspace.store.cursor() as cur:
        cur.execute("DELETE FROM ad_delivery")
        cur.execute("DELETE FROM delivery_cursors")
    client = TikTokClient(sandbox.issue_token(), base_url=sandbox.base_url,
                          rate_limiter=RateLimiter(10_000, 1_000_000))
    stop = threading.Event()
    stop.set()

    stopped = sync_delivery(workspace.store, client, advertiser_id, lookback_days=70,
                            stop=stop)

    today = today_of(workspace, advertiser_id)
    first = today - timedelta(days=70)
    assert stopped.stored_through == first + timedelta(days=29)  # one window, then it stopped
    assert "was not read (" in stopped.sentence() and "stopped" in stopped.sentence()
    with workspace.store.cursor() as cur:
        assert db.delivery_cursor(cur, advertiser_id) == stopped.stored_through
    again = sync_delivery(workspace.store, client, advertiser_id, lookback_days=70)
    assert again.first_day == stopped.stored_through - timedelta(days=REVISIT_DAYS)
    assert stored(workspace, advertiser_id) == truth(sandbox, advertiser_id, first, today)


def test_a_read_only_account_still_reads_its_delivery(sandbox, workspace):
    advertiser_id = advertisers_by_access(sandbox.ground_truth())[READ_ONLY]
    result = AdAccount(workspace, advertiser_id).sync()
    assert result.status == "ok" and "Delivery: " in result.message
    assert stored(workspace, advertiser_id)


def test_the_sentence_says_what_was_read_or_why_not():
    span = DeliverySync(date(2025, 6, 1), date(2025, 6, 30))
    assert span.sentence() == "Delivery: no ad delivered from 2025-06-01 to 2025-06-30."
    assert DeliverySync(date(2025, 6, 1), date(2025, 6, 30), rows=1200).sentence() == (
        "Delivery: 1,200 ad days from 2025-06-01 to 2025-06-30.")
    cut = DeliverySync(date(2025, 6, 1), date(2025, 6, 30), rows=30,
                       stored_through=date(2025, 6, 10), problem="TikTok answered 'x'.")
    assert cut.sentence() == ("Delivery from 2025-06-01 to 2025-06-30 was not read (30 ad days "
                              "up to 2025-06-10 were stored): TikTok answered 'x'.")


def test_storing_a_window_replaces_its_days_and_keeps_the_others(tmp_path):
    import pyarrow as pa

    with Store.open(tmp_path / "desk.duckdb") as store, store.cursor() as cur:
        def table(rows):
            return pa.table({"ad_id": [r[0] for r in rows], "stat_day": [r[1] for r in rows],
                             "impressions": [r[2] for r in rows]})

        june = [date(2025, 6, d) for d in (1, 2, 3)]
        when = datetime(2025, 6, 4, tzinfo=UTC)
        db.store_delivery(cur, "7", june[0], june[2],
                          table([("a", june[0], 1), ("a", june[1], 2), ("b", june[2], 3)]),
                          when, "USD")
        written = db.store_delivery(cur, "7", june[1], june[2],
                                    table([("a", june[1], 20), ("a", june[1], 21)]), when)
        rows = db.query_records(cur, "SELECT ad_id, stat_day, impressions, currency "
                                     "FROM ad_delivery ORDER BY stat_day")
        assert written == 1
        assert rows == [{"ad_id": "a", "stat_day": june[0], "impressions": 1, "currency": "USD"},
                        {"ad_id": "a", "stat_day": june[1], "impressions": 21, "currency": None}]
        db.store_delivery(cur, "7", june[0], june[0], table([]).cast(pa.schema(
            [("ad_id", pa.string()), ("stat_day", pa.date32()), ("impressions", pa.int64())])),
            when)
        assert db.delivery_cursor(cur, "7") == june[2]  # the cursor never goes back
