"""Ground truth after every mode, not only a first ad sync: a TikTok account's sync and an ad
refresh against a sandbox that fails a fifth of its answers, and a refresh killed part way
and resumed. Each ends with exactly the sandbox's data.

The organic sync runs on a ManualClock with a fixed start, so its requests, and so the faults
the sandbox decides from them, are the same on every run. A refresh compares TikTok's answers
with the real day and time (what it lists again, what is old enough to be called deleted),
so those sandboxes keep the real clock: their faults are drawn afresh each day, at most
three in a row for one request (tiktok_sandbox.faults.MAX_CONSECUTIVE).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from desk import store as db
from desk.connect.credentials import CredentialStore
from desk.connect.tokens import TokenKeeper
from desk.sources.account_sync import OrganicSyncOptions, run_organic_sync
from desk.sources.ad_sync import SyncOptions, sync_advertiser
from desk.store import Store
from tests.desk.test_actions_support import make_client
from tiktok_client.accounts_models import AccountToken
from tiktok_sandbox import ManualClock, SandboxConfig, start_sandbox

from .support import assert_account_matches_truth, assert_store_matches_truth

ROOT = Path(__file__).resolve().parents[2]
START = 1_900_000_000.0
READ_FAULTS = {"http_5xx", "throttled", "internal_timeout", "stall", "truncated"}
DAY = 86_400


def world(**overrides) -> SandboxConfig:
    """The faults' world. Its size keeps comments without replies from one to three days ago
    in nine ad groups or more at any hour of the day (with 16 ads and 3,000 comments it was
    six at some hours, and a minute's drift during a test left five)."""
    settings = dict(seed=13, advertisers=1, ads=24, comments=6000, qps=100_000,
                    qpm=10_000_000, new_comments_per_minute=0.0, business_accounts=1,
                    videos_per_account=4, organic_comments=500,
                    new_organic_comments_per_minute=0.0, port=0)
    settings.update(overrides)
    return SandboxConfig(**settings)


def faulty_client(sandbox):
    """A client that rides out the sandbox's faults: stalls outlast its timeout, and its
    backoffs and throttling pauses cost no real time."""
    return make_client(sandbox, timeout=0.25, max_attempts=10, deadline=120)


def recent_alone(comments: list[dict], now: float) -> list[dict]:
    """Top-level comments without replies from one to three days ago, one per ad group:
    deleting one removes nothing else, and a refresh of the last days lists it again."""
    chosen: dict[str, dict] = {}
    for c in sorted(comments, key=lambda c: c["comment_id"]):
        if (c["comment_type"] == "COMMENT" and not c["replies"]
                and DAY <= now - c["create_ts"] <= 3 * DAY):
            chosen.setdefault(c["adgroup_id"], c)
    return list(chosen.values())


def change_recent_comments(sandbox, advertiser_id: str) -> set[str]:
    """Like one recent comment on TikTok, hide another, and delete one in each other ad
    group; return the deleted ones."""
    comments = sandbox.ground_truth(advertiser_id)["comments"]
    liked, hidden, *doomed = recent_alone(comments, time.time())
    assert len(doomed) >= 4, "the world needs recent comments in six ad groups"
    sandbox.change_comment(liked["comment_id"], likes=liked["likes"] + 7)
    sandbox.change_comment(hidden["comment_id"], status="HIDDEN")
    for comment in doomed:
        sandbox.change_comment(comment["comment_id"], deleted=True)
    return {c["comment_id"] for c in doomed}


def deleted(cur) -> set[str]:
    return {r[0] for r in cur.execute("SELECT comment_id FROM deleted_comments").fetchall()}


def test_an_organic_sync_meeting_every_kind_of_read_fault_stores_exactly_the_account(tmp_path):
    config = world(fault_rate=0.2, stall_seconds=0.6, clock=ManualClock(START))
    with start_sandbox(config) as sandbox, Store.open(tmp_path / "desk.duckdb") as store:
        business_id = sandbox.ground_truth_accounts()["accounts"][0]["business_id"]
        client = faulty_client(sandbox)
        keeper = TokenKeeper(CredentialStore(tmp_path / "credentials.json"), client,
                             sandbox.config.app_id, sandbox.config.secret)
        keeper.connect(AccountToken.from_api(sandbox.issue_account_token(business_id)))

        result = run_organic_sync(store, keeper, client, business_id,
                                  options=OrganicSyncOptions(comment_page_size=20))

        faults = sandbox.stats()["faults"]
        assert set(faults) == READ_FAULTS, faults  # every kind a read can meet, each met
        assert (result.status, result.failures) == ("ok", ()), result.message
        stats = client.stats.snapshot()
        assert stats["retries"] >= sum(faults.values())
        assert stats["throttled"] == faults["throttled"]
        assert_account_matches_truth(store.cursor(), sandbox, business_id)


def test_an_ad_refresh_under_faults_ends_with_exactly_tiktoks_comments(tmp_path, monkeypatch):
    with start_sandbox(world(fault_rate=0.2, stall_seconds=0.6)) as sandbox, \
            Store.open(tmp_path / "desk.duckdb") as store:
        advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
        client = faulty_client(sandbox)
        monkeypatch.setattr(sandbox._app.faults, "rate", 0.0)  # the first sync: all answered
        sync_advertiser(store, client, advertiser_id, options=SyncOptions(lookback_days=130))
        gone = change_recent_comments(sandbox, advertiser_id)
        monkeypatch.setattr(sandbox._app.faults, "rate", 0.2)

        result = sync_advertiser(store, client, advertiser_id,
                                 options=SyncOptions(lookback_days=130, page_size=5,
                                                     refresh_days=7))

        assert sum(sandbox.stats()["faults"].values()) >= 3  # met faults, not luck
        assert (result.status, result.failures) == ("ok", ()), result.message
        assert result.retried > 0 and result.deleted == len(gone)
        cur = store.cursor()
        assert_store_matches_truth(cur, sandbox, advertiser_id)
        assert deleted(cur) == gone


def test_a_refresh_killed_part_way_is_done_again_by_the_next_sync_exactly(tmp_path):
    with start_sandbox(world(latency_ms=5)) as sandbox:
        advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
        path = tmp_path / "desk.duckdb"
        with Store.open(path) as store:
            first = sync_advertiser(store, make_client(sandbox), advertiser_id,
                                    options=SyncOptions(lookback_days=130))
            assert first.status == "ok"
            with store.cursor() as cur:  # read whole an hour ago: a refresh is due
                cur.execute("UPDATE sync_runs SET started_at = started_at - INTERVAL 61 MINUTE")
        gone = change_recent_comments(sandbox, advertiser_id)
        env = {**os.environ, "TIKTOK_ACCESS_TOKEN": sandbox.issue_token(),
               "TIKTOK_API_BASE_URL": sandbox.base_url, "DESK_LOOKBACK_DAYS": "130",
               "TIKTOK_RATE_LIMIT_QPS": "1000", "TIKTOK_RATE_LIMIT_QPM": "100000",
               "PYTHONPATH": str(ROOT)}
        args = ["sync", "--advertiser-id", advertiser_id, "--db", str(path), "--no-moderation"]

        # The due refresh dies right after its third cursor moves: ad groups listed again
        # whole, their deletions partly recorded.
        killed = subprocess.run([sys.executable, "-m", "tests.faults.crashing_sync", *args],
                                cwd=ROOT, env={**env, "CRASH_AT": "after:set_cursor:3"},
                                capture_output=True, text=True, timeout=120)
        assert killed.returncode == -9, killed.stderr
        with Store.open_readonly(path) as store:
            cur = store.cursor()
            runs = db.query_records(cur, "SELECT status, refresh_days FROM sync_runs "
                                         "ORDER BY run_id")
            assert runs[-1] == {"status": "running", "refresh_days": 7}
            assert len(deleted(cur)) <= 2 < len(gone)  # the kill left most of it undone

        # The next sync (nobody asked for a refresh) finds the refresh still due: the
        # killed one never ended, so it does it again, whole.
        done = subprocess.run([sys.executable, "-m", "desk", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("ok:"), done.stdout
        with Store.open(path) as store:
            cur = store.cursor()
            runs = db.query_records(cur, "SELECT status, refresh_days FROM sync_runs "
                                         "ORDER BY run_id")
            assert runs[1:] == [{"status": "interrupted", "refresh_days": 7},
                                {"status": "ok", "refresh_days": 7}]
            assert_store_matches_truth(cur, sandbox, advertiser_id)
            assert deleted(cur) == gone
