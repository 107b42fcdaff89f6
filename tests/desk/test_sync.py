"""The sync engine against the sandbox over real HTTP: complete, incremental, resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from desk import store as desk_store
from desk.connect.credentials import CredentialStore
from desk.sources import AdAccount
from desk.sources.ad_sync import (
    FULL,
    HEAD,
    SyncAborted,
    SyncOptions,
    date_windows,
    plan_windows,
    sync_advertiser,
)
from desk.store import Store
from desk.workspace import TikTokApp, Workspace
from tiktok_client.client import TikTokClient
from tiktok_client.errors import ServerError
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox

ROOT = Path(__file__).resolve().parents[2]
WHOLE_HISTORY = SyncOptions(lookback_days=130)
FIELDS = ("content", "comment_type", "original_comment_id", "comment_status", "likes",
          "replies", "ad_id", "adgroup_id", "campaign_id", "user_name", "user_id", "can_delete")


def small(**overrides) -> SandboxConfig:
    settings = dict(seed=2, advertisers=2, ads=16, comments=2500, latency_ms=0, qps=100_000,
                    qpm=10_000_000, new_comments_per_minute=0.0, port=0)
    settings.update(overrides)
    return SandboxConfig(**settings)


@pytest.fixture
def sandbox():
    with start_sandbox(small()) as sb:
        yield sb


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as handle:
        yield handle


def client_for(sb, token=None, **kwargs) -> TikTokClient:
    kwargs.setdefault("rate_limiter", RateLimiter(10_000, 1_000_000))
    return TikTokClient(token or sb.issue_token(), base_url=sb.base_url, **kwargs)


def busiest_advertiser(sb) -> str:
    truth = sb.ground_truth()
    counts = {}
    for c in truth["comments"]:
        counts[c["advertiser_id"]] = counts.get(c["advertiser_id"], 0) + 1
    return max(counts, key=counts.get)


def truth_comments(sb, advertiser_id) -> dict[str, dict]:
    return {c["comment_id"]: c for c in sb.ground_truth(advertiser_id)["comments"]}


def stored_comments(store, advertiser_id) -> dict[str, dict]:
    frame = desk_store.query_frame(store.cursor(), "SELECT * FROM comments WHERE advertiser_id = ?",
                      [advertiser_id])
    return {row["comment_id"]: row for row in frame.to_dict("records")}


def assert_matches_truth(store, sb, advertiser_id) -> None:
    truth = truth_comments(sb, advertiser_id)
    stored = stored_comments(store, advertiser_id)
    assert set(stored) == set(truth)
    for comment_id, expected in truth.items():
        row = stored[comment_id]
        for name in FIELDS:
            want = expected.get(name)
            want = None if want in ("", None) else want
            got = row[name]
            got = None if got is None or got != got else got  # NaN from pandas is "missing"
            assert got == want, (comment_id, name, got, want)
        assert row["create_time"].timestamp() == expected["create_ts"]
    count, distinct = store.cursor().execute(
        "SELECT count(*), count(DISTINCT comment_id) FROM comments").fetchone()
    assert count == distinct


# -- planning ---------------------------------------------------------------------------------

def test_date_windows_cover_the_range_without_gaps_or_overlap():
    windows = date_windows(date(2025, 1, 1), date(2025, 3, 31), 30)
    assert windows == [
        (date(2025, 1, 1), date(2025, 1, 30)),
        (date(2025, 1, 31), date(2025, 3, 1)),
        (date(2025, 3, 2), date(2025, 3, 31)),
    ]
    assert date_windows(date(2025, 1, 2), date(2025, 1, 1), 30) == []


def test_a_first_sync_looks_back_but_not_before_the_oldest_ad():
    today = date(2025, 6, 30)
    windows = plan_windows("g", None, None, today, SyncOptions(lookback_days=90))
    assert windows[0].start == today - timedelta(days=90)
    assert windows[-1].end == today + timedelta(days=1)
    assert {w.mode for w in windows} == {FULL}

    young = datetime(2025, 6, 20, 9, tzinfo=UTC)
    [only] = plan_windows("g", None, young, today, SyncOptions(lookback_days=90))
    assert (only.start, only.end, only.mode) == (date(2025, 6, 19), date(2025, 7, 1), FULL)


def test_a_later_sync_starts_a_day_before_the_cursor_newest_first():
    cursor = desk_store.SyncCursor(date(2025, 6, 28), datetime(2025, 6, 28, 12, tzinfo=UTC))
    [window] = plan_windows("g", cursor, None, date(2025, 6, 30), SyncOptions())
    assert (window.start, window.mode, window.high_water) == (
        date(2025, 6, 27), HEAD, cursor.high_water)


# -- against the sandbox ---------------------------------------------------------------------

def test_a_full_sync_stores_exactly_the_sandboxs_comments(sandbox, store):
    advertiser_id = busiest_advertiser(sandbox)
    progress = []
    result = sync_advertiser(store, client_for(sandbox), advertiser_id, options=WHOLE_HISTORY,
                             progress=progress.append)

    assert result.status == "ok" and result.failures == ()
    assert_matches_truth(store, sandbox, advertiser_id)
    ads = {a["ad_id"] for a in sandbox.ground_truth(advertiser_id)["ads"]}
    stored_ads = {r[0] for r in store.cursor().execute("SELECT ad_id FROM ads").fetchall()}
    assert stored_ads == ads
    assert progress[0].phase == "ads" and progress[-1].phase == "done"
    assert progress[-1].pages_done == result.pages == progress[-1].pages_expected
    assert [p.pages_done for p in progress] == sorted(p.pages_done for p in progress)
    run = desk_store.last_sync_run(store.cursor(), advertiser_id)
    assert (run.status, run.rows, run.pages) == ("ok", result.rows, result.pages)


def test_a_second_sync_adds_only_what_arrived_and_costs_one_request_per_ad_group(sandbox, store):
    advertiser_id = busiest_advertiser(sandbox)
    client = client_for(sandbox)
    sync_advertiser(store, client, advertiser_id, options=WHOLE_HISTORY)
    before = set(stored_comments(store, advertiser_id))

    quiet = sync_advertiser(store, client, advertiser_id, options=WHOLE_HISTORY)
    adgroups = {a["adgroup_id"] for a in sandbox.ground_truth(advertiser_id)["ads"]}
    # one page of ad/get, one each of its reserved buys (Reach & Frequency, TopView), one of
    # smart_plus/ad/get, and one comment page per ad group
    assert quiet.requests == len(adgroups) + 4
    assert set(stored_comments(store, advertiser_id)) == before

    new_ids = sandbox.add_comments(7, advertiser_id)
    result = sync_advertiser(store, client, advertiser_id, options=WHOLE_HISTORY)
    assert result.status == "ok"
    assert set(stored_comments(store, advertiser_id)) == before | set(new_ids)
    assert_matches_truth(store, sandbox, advertiser_id)


def test_syncing_twice_never_duplicates_and_changes_no_data(sandbox, store):
    advertiser_id = busiest_advertiser(sandbox)
    sync_advertiser(store, client_for(sandbox), advertiser_id, options=WHOLE_HISTORY)
    columns = ", ".join(c for c in ("comment_id", *FIELDS, "create_time", "first_seen_at"))
    query = f"SELECT {columns} FROM comments ORDER BY comment_id"
    first = desk_store.query_frame(store.cursor(), query)
    sync_advertiser(store, client_for(sandbox), advertiser_id,
                    options=SyncOptions(since=date.today() - timedelta(days=130)))
    assert desk_store.query_frame(store.cursor(), query).equals(first)


@pytest.mark.slow
def test_with_a_fifth_of_answers_faulty_the_sync_still_converges(store):
    with start_sandbox(small(fault_rate=0.2, stall_seconds=1.0, comments=1200)) as sb:
        advertiser_id = busiest_advertiser(sb)
        client = client_for(sb, timeout=0.5, sleep=lambda s: time.sleep(min(s, 0.05)),
                            max_attempts=20, deadline=300)
        # Pages of 20: enough requests that a fifth of them faulty is sure to meet the sync.
        options = SyncOptions(lookback_days=130, page_size=20)
        result = sync_advertiser(store, client, advertiser_id, options=options)
        assert result.status == "ok" and result.retried > 0
        assert sb.stats()["faults"]
        assert_matches_truth(store, sb, advertiser_id)


def test_throttling_slows_the_sync_down_instead_of_failing_it(store):
    with start_sandbox(small(qps=8, qpm=100_000, comments=600)) as sb:
        advertiser_id = busiest_advertiser(sb)
        client = client_for(sb, rate_limiter=RateLimiter(40, 100_000))
        options = SyncOptions(lookback_days=130, page_size=10)
        result = sync_advertiser(store, client, advertiser_id, options=options)
        assert result.status == "ok" and result.throttled > 0
        assert_matches_truth(store, sb, advertiser_id)


def test_a_failing_ad_group_is_recorded_and_the_rest_still_sync(sandbox, store, monkeypatch):
    advertiser_id = busiest_advertiser(sandbox)
    client = client_for(sandbox)
    truth = truth_comments(sandbox, advertiser_id)
    broken = sorted({c["adgroup_id"] for c in truth.values()})[0]
    real = client.comment_columns_page

    def flaky(advertiser, adgroup_id, *args, **kwargs):
        if adgroup_id == broken:
            raise ServerError("internal timeout", code=51010, request_id="r-1")
        return real(advertiser, adgroup_id, *args, **kwargs)

    monkeypatch.setattr(client, "comment_columns_page", flaky)
    result = sync_advertiser(store, client, advertiser_id, options=WHOLE_HISTORY)

    assert result.status == "partial" and [g for g, _ in result.failures] == [broken]
    stored = stored_comments(store, advertiser_id)
    assert set(stored) == {i for i, c in truth.items() if c["adgroup_id"] != broken}
    failures = desk_store.sync_failures(store.cursor(), result.run_id)
    assert failures["adgroup_id"].tolist() == [broken]
    assert broken not in desk_store.get_cursors(store.cursor(), advertiser_id)


def test_a_revoked_token_stops_the_sync_and_asks_to_reconnect(sandbox, store, tmp_path):
    from desk.config import load_settings

    advertiser_id = busiest_advertiser(sandbox)
    token = sandbox.issue_token()
    credentials = CredentialStore(tmp_path / "credentials.json")
    conn = credentials.add(token, [advertiser_id], [])
    sandbox.revoke_token(token)
    settings = load_settings(environ={}, secrets={}, secrets_path=None)

    with pytest.raises(SyncAborted, match="[Rr]econnect"):
        app = TikTokApp.from_settings(settings, RateLimiter(1000, 100_000), sandbox.base_url)
        AdAccount(Workspace(settings, store, credentials, app), advertiser_id).sync()
    [flagged] = credentials.connections()
    assert flagged.connection_id == conn.connection_id and flagged.needs_reauth
    assert desk_store.last_sync_run(store.cursor(), advertiser_id).status == "failed"


@pytest.mark.slow
def test_a_sync_killed_part_way_and_restarted_converges_without_duplicates(tmp_path):
    with start_sandbox(small(latency_ms=15, comments=2500)) as sb:
        advertiser_id = busiest_advertiser(sb)
        db = tmp_path / "desk.duckdb"
        env = {**os.environ, "TIKTOK_ACCESS_TOKEN": sb.issue_token(),
               "TIKTOK_API_BASE_URL": sb.base_url, "DESK_LOOKBACK_DAYS": "130",
               "TIKTOK_RATE_LIMIT_QPS": "1000", "TIKTOK_RATE_LIMIT_QPM": "100000",
               "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "desk", "sync", "--advertiser-id", advertiser_id,
                   "--db", str(db)]
        for delay in (0.9, 1.4, 2.0):
            proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        with Store.open(db) as store:
            assert_matches_truth(store, sb, advertiser_id)
            statuses = store.cursor().execute("SELECT status FROM sync_runs").fetchall()
            assert ("ok",) in statuses


def test_the_cli_says_so_when_the_database_is_in_use(tmp_path, store):
    locked = subprocess.run(
        [sys.executable, "-m", "desk", "sync", "--advertiser-id", "1",
         "--db", str(tmp_path / "desk.duckdb")],
        env={**os.environ, "TIKTOK_ACCESS_TOKEN": "x", "PYTHONPATH": str(ROOT)},
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert locked.returncode == 3
    assert "in use by another Comment Desk process" in locked.stderr
