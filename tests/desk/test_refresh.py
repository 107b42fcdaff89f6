"""Change detection: a refresh lists the recent days again, so that what changed on TikTok to
comments already stored (likes, hidden status, deletions), ad and organic, is picked up
without a full re-sync; and a sync refreshes by itself when the last refresh is due."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from desk import store as db
from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.connect.tokens import TokenKeeper
from desk.sources import AdAccount
from desk.sources.account_sync import OrganicSyncOptions, run_organic_sync
from desk.sources.ad_sync import SyncOptions, sync_advertiser
from desk.store import Store
from desk.workspace import TikTokApp, Workspace
from tiktok_client.accounts_models import AccountToken
from tiktok_client.client import TikTokClient
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox

WHOLE = SyncOptions(lookback_days=130)
REFRESH = SyncOptions(lookback_days=130, refresh_days=7)


def world(**overrides) -> SandboxConfig:
    settings = dict(seed=11, advertisers=1, ads=10, comments=3000, latency_ms=0, qps=100_000,
                    qpm=10_000_000, new_comments_per_minute=0.0, business_accounts=1,
                    videos_per_account=4, organic_comments=800,
                    new_organic_comments_per_minute=0.0, port=0)
    settings.update(overrides)
    return SandboxConfig(**settings)


@pytest.fixture
def sandbox():
    with start_sandbox(world()) as sb:
        yield sb


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as handle:
        yield handle


def client_for(sb, token=None) -> TikTokClient:
    return TikTokClient(token, base_url=sb.base_url, rate_limiter=RateLimiter(10_000, 1_000_000))


def stored(store, where: str, params) -> dict[str, dict]:
    with store.cursor() as cur:
        rows = db.query_records(cur, f"SELECT * FROM comments WHERE {where}", params)  # noqa: S608
    return {r["comment_id"]: r for r in rows}


def deleted(store) -> set[str]:
    with store.cursor() as cur:
        return {r[0] for r in cur.execute("SELECT comment_id FROM deleted_comments").fetchall()}


def age_days(comment: dict, now: float) -> float:
    return (now - comment["create_ts"]) / 86_400


def pick(comments: list[dict], now: float, *, recent: bool, count: int,
         kind: str = "COMMENT", key: str = "comment_type") -> list[dict]:
    """Top-level comments created in the last three days (or over twenty days ago)."""
    chosen = [c for c in comments if c[key] == kind
              and (age_days(c, now) < 3 if recent else age_days(c, now) > 20)]
    chosen.sort(key=lambda c: c["comment_id"])
    assert len(chosen) >= count
    return chosen[:count]


def test_an_ad_refresh_picks_up_likes_status_and_deletions_of_the_recent_days(sandbox, store):
    advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
    client = client_for(sandbox, sandbox.issue_token())
    sync_advertiser(store, client, advertiser_id, options=WHOLE)
    now = time.time()
    truth = sandbox.ground_truth(advertiser_id)["comments"]
    liked, hidden = pick(truth, now, recent=True, count=2)
    # without replies: deleting a comment deletes its replies too, which would count
    alone = [c for c in truth if not c["replies"] and c not in (liked, hidden)]
    [gone] = pick(alone, now, recent=True, count=1)
    [old_gone] = pick(alone, now, recent=False, count=1)
    sandbox.change_comment(liked["comment_id"], likes=liked["likes"] + 41)
    sandbox.change_comment(hidden["comment_id"], status="HIDDEN")
    sandbox.change_comment(gone["comment_id"], deleted=True)
    sandbox.change_comment(old_gone["comment_id"], deleted=True)

    quiet = sync_advertiser(store, client, advertiser_id, options=WHOLE)
    rows = stored(store, "advertiser_id = ?", [advertiser_id])
    assert rows[liked["comment_id"]]["likes"] == liked["likes"]  # a plain sync does not see it
    assert quiet.deleted == 0

    refreshed = sync_advertiser(store, client, advertiser_id, options=REFRESH)

    rows = stored(store, "advertiser_id = ?", [advertiser_id])
    assert refreshed.status == "ok" and refreshed.deleted == 1
    assert "1 comments were deleted on TikTok" in refreshed.message
    assert rows[liked["comment_id"]]["likes"] == liked["likes"] + 41
    assert rows[hidden["comment_id"]]["comment_status"] == "HIDDEN"
    assert gone["comment_id"] not in rows and deleted(store) == {gone["comment_id"]}
    # older than the refresh period: only a full re-sync would notice
    assert old_gone["comment_id"] in rows
    # everything else is exactly TikTok's, and nothing the refresh listed was called deleted
    truth_ids = {c["comment_id"] for c in sandbox.ground_truth(advertiser_id)["comments"]}
    assert set(rows) == truth_ids | {old_gone["comment_id"]}
    with store.cursor() as cur:
        [run] = db.query_records(cur, "SELECT refresh_days FROM sync_runs ORDER BY run_id DESC "
                                      "LIMIT 1")
    assert run["refresh_days"] == 7


def test_a_comment_wrongly_thought_deleted_comes_back_when_tiktok_lists_it_again(sandbox, store):
    advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
    client = client_for(sandbox, sandbox.issue_token())
    sync_advertiser(store, client, advertiser_id, options=WHOLE)
    [recent] = pick(sandbox.ground_truth(advertiser_id)["comments"], time.time(), recent=True,
                    count=1)
    row = stored(store, "comment_id = ?", [recent["comment_id"]])[recent["comment_id"]]
    with store.cursor() as cur:  # as if an earlier refresh had missed it
        db.record_deleted_comments(cur, "ad", advertiser_id, since=row["create_time"],
                                   until=row["create_time"] + timedelta(seconds=1), seen=[],
                                   adgroup_id=row["adgroup_id"])
    assert recent["comment_id"] in deleted(store)

    sync_advertiser(store, client, advertiser_id, options=REFRESH)

    assert recent["comment_id"] in stored(store, "comment_id = ?", [recent["comment_id"]])
    assert recent["comment_id"] not in deleted(store)


def test_an_organic_refresh_picks_up_likes_status_and_deleted_comments_and_replies(
        sandbox, store, tmp_path):
    truth = sandbox.ground_truth_accounts()
    business_id = truth["accounts"][0]["business_id"]
    with client_for(sandbox) as app_client:
        keeper = TokenKeeper(CredentialStore(tmp_path / "credentials.json"), app_client,
                             sandbox.config.app_id, sandbox.config.secret)
        keeper.connect(AccountToken.from_api(sandbox.issue_account_token(business_id)))

        def sync(**options):
            return run_organic_sync(store, keeper, app_client, business_id,
                                    options=OrganicSyncOptions(**options))

        sync()
        now = time.time()
        comments = truth["comments"]
        liked, hidden, gone = pick(comments, now, recent=True, count=3)
        [reply_gone] = [c for c in sorted(comments, key=lambda c: c["comment_id"])
                        if c["comment_type"] == "REPLY"][:1]
        sandbox.change_comment(liked["comment_id"], likes=liked["likes"] + 9)
        sandbox.change_comment(hidden["comment_id"], status="HIDDEN")
        sandbox.change_comment(gone["comment_id"], deleted=True)
        sandbox.change_comment(reply_gone["comment_id"], deleted=True)

        result = sync(refresh_days=7)

    rows = stored(store, "business_id = ?", [business_id])
    assert result.status == "ok", result.message
    assert rows[liked["comment_id"]]["likes"] == liked["likes"] + 9
    assert rows[hidden["comment_id"]]["comment_status"] == "HIDDEN"
    gone_ids = {gone["comment_id"], reply_gone["comment_id"]}
    gone_ids |= {c["comment_id"] for c in comments if c["parent_comment_id"] == gone["comment_id"]}
    assert not gone_ids & set(rows)
    assert deleted(store) == gone_ids and result.deleted == len(gone_ids)
    now_truth = {c["comment_id"] for c in sandbox.ground_truth_accounts(business_id)["comments"]}
    assert set(rows) == now_truth


REPLY_LIST = "/open_api/v1.3/business/comment/reply/list/"


def test_an_organic_refresh_picks_up_likes_and_status_of_replies_whose_count_did_not_change(
        sandbox, store, tmp_path):
    truth = sandbox.ground_truth_accounts()
    business_id = truth["accounts"][0]["business_id"]
    now = time.time()
    comments = {c["comment_id"]: c for c in truth["comments"]}
    # replies under top-level comments of the last three days: well inside the refresh period
    liked, hidden = sorted(
        (c for c in comments.values() if c["comment_type"] == "REPLY"
         and age_days(comments[c["parent_comment_id"]], now) < 3 and c["status"] == "PUBLIC"),
        key=lambda c: c["comment_id"])[:2]
    with client_for(sandbox) as app_client:
        keeper = TokenKeeper(CredentialStore(tmp_path / "credentials.json"), app_client,
                             sandbox.config.app_id, sandbox.config.secret)
        keeper.connect(AccountToken.from_api(sandbox.issue_account_token(business_id)))

        def sync(**options):
            return run_organic_sync(store, keeper, app_client, business_id,
                                    options=OrganicSyncOptions(**options))

        sync()
        sandbox.change_comment(liked["comment_id"], likes=liked["likes"] + 12)
        sandbox.change_comment(hidden["comment_id"], status="HIDDEN")
        plain = sync()  # no reply count changed: a plain sync does not look
        rows = stored(store, "business_id = ?", [business_id])
        assert rows[liked["comment_id"]]["likes"] == liked["likes"]
        assert rows[hidden["comment_id"]]["comment_status"] == "PUBLIC"
        assert plain.videos_skipped == plain.videos

        asked = sandbox.stats()["by_path"].get(REPLY_LIST, 0)
        result = sync(refresh_days=7)
        asked = sandbox.stats()["by_path"].get(REPLY_LIST, 0) - asked

    rows = stored(store, "business_id = ?", [business_id])
    assert result.status == "ok", result.message
    assert rows[liked["comment_id"]]["likes"] == liked["likes"] + 12
    assert rows[hidden["comment_id"]]["comment_status"] == "HIDDEN"
    assert result.deleted == 0
    # The cost: one request per top-level comment of the refresh period with replies (each
    # holds fewer than a page of them), and none for older ones.
    since = datetime.combine(datetime.now(UTC).date() - timedelta(days=8), datetime.min.time(),
                             UTC).timestamp()
    parents = {c["parent_comment_id"] for c in comments.values() if c["comment_type"] == "REPLY"}
    recent_with_replies = [c for c in comments.values() if c["comment_id"] in parents
                           and c["create_ts"] >= since]
    assert asked == len(recent_with_replies) < len(parents)
    now_truth = sandbox.ground_truth_accounts(business_id)["comments"]
    assert {c["comment_id"] for c in now_truth} == set(rows)
    for c in now_truth:
        assert (rows[c["comment_id"]]["likes"], rows[c["comment_id"]]["comment_status"]) == (
            c["likes"], c["status"]), c["comment_id"]


def test_a_sync_refreshes_by_itself_once_the_last_refresh_is_due(sandbox, store, tmp_path):
    advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
    settings = load_settings(environ={"DESK_LOOKBACK_DAYS": "130", "DESK_REFRESH_DAYS": "5",
                                      "DESK_REFRESH_MINUTES": "30"},
                             secrets={}, secrets_path=None)
    credentials = CredentialStore(tmp_path / "credentials.json")
    credentials.add(sandbox.issue_token(), [advertiser_id], [])
    app = TikTokApp.from_settings(settings, RateLimiter(10_000, 1_000_000), sandbox.base_url)
    account = AdAccount(Workspace(settings, store, credentials, app), advertiser_id)

    account.sync()  # never synced whole: it reads everything anyway
    account.sync()  # everything was read a moment ago: not due
    account.sync(refresh=True)
    account.sync()  # refreshed a moment ago: not due
    with store.cursor() as cur:  # the last refresh, half an hour ago: due again
        cur.execute("UPDATE sync_runs SET started_at = started_at - INTERVAL 31 MINUTE")
    account.sync()

    with store.cursor() as cur:
        runs = [r[0] for r in cur.execute(
            "SELECT refresh_days FROM sync_runs ORDER BY run_id").fetchall()]
    assert runs == [None, None, 5, None, 5]


def test_deletions_are_named_only_for_what_a_refresh_listed_whole(store):
    seen_at = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [{"comment_id": f"c{i}", "advertiser_id": "A", "adgroup_id": g, "ad_id": "ad",
             "source": "ad", "comment_type": "COMMENT", "content": "x",
             "create_time": seen_at - timedelta(days=d)}
            for i, (g, d) in enumerate([("g1", 1), ("g1", 2), ("g1", 9), ("g2", 1)])]
    with store.cursor() as cur:
        db.upsert_comments(cur, pd.DataFrame(rows), seen_at)
        gone = db.record_deleted_comments(cur, "ad", "A", since=seen_at - timedelta(days=7),
                                          until=seen_at, seen=["c0"], adgroup_id="g1")
        left = {r[0] for r in cur.execute("SELECT comment_id FROM comments").fetchall()}
    assert gone == 1
    assert left == {"c0", "c2", "c3"}  # c2 is older than the window, c3 in another ad group
    assert deleted(store) == {"c1"}


def test_the_sync_command_refreshes_when_asked(sandbox, tmp_path):
    root = Path(__file__).resolve().parents[2]
    advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
    env = {**os.environ, "TIKTOK_ACCESS_TOKEN": sandbox.issue_token(),
           "TIKTOK_API_BASE_URL": sandbox.base_url, "DESK_LOOKBACK_DAYS": "130",
           "TIKTOK_RATE_LIMIT_QPS": "1000", "TIKTOK_RATE_LIMIT_QPM": "100000",
           "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "desk", "sync", "--advertiser-id", advertiser_id,
               "--db", str(tmp_path / "cli.duckdb")]
    for extra in ([], [], ["--refresh"]):
        done = subprocess.run(command + extra, cwd=root, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    with Store.open(tmp_path / "cli.duckdb") as opened, opened.cursor() as cur:
        runs = [r[0] for r in cur.execute(
            "SELECT refresh_days FROM sync_runs ORDER BY run_id").fetchall()]
    assert runs == [None, None, 7]
