"""Business accounts against the sandbox over real HTTP: organic sync, the Spark Ads link,
mixed ad and organic queries and export, and organic writes through the outbox."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest

from desk import export
from desk import store as db
from desk.connect.credentials import CredentialStore
from desk.connect.tokens import TokenKeeper
from desk.sources.account_sync import OrganicSyncOptions, run_organic_sync
from desk.sources.ad_sync import SyncOptions, sync_advertiser
from desk.store import CommentFilters, Store
from tiktok_client.accounts_models import AccountToken
from tiktok_client.client import TikTokClient
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox


def small(**overrides) -> SandboxConfig:
    settings = dict(seed=5, advertisers=2, ads=8, comments=600, latency_ms=0, qps=100_000,
                    qpm=10_000_000, new_comments_per_minute=0.0, business_accounts=2,
                    videos_per_account=5, organic_comments=500,
                    new_organic_comments_per_minute=0.0, port=0)
    settings.update(overrides)
    return SandboxConfig(**settings)


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(small()) as sb:
        yield sb


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as handle:
        yield handle


@pytest.fixture
def app_client(sandbox):
    with TikTokClient(None, base_url=sandbox.base_url,
                      rate_limiter=RateLimiter(10_000, 1_000_000)) as client:
        yield client


def keeper_for(sandbox, tmp_path, app_client, business_id) -> TokenKeeper:
    keeper = TokenKeeper(CredentialStore(tmp_path / "credentials.json"), app_client,
                         sandbox.config.app_id, sandbox.config.secret)
    keeper.connect(AccountToken.from_api(sandbox.issue_account_token(business_id)))
    return keeper


def linked_account(sandbox) -> dict:
    """The business account whose videos an advertiser promotes with Spark Ads."""
    return next(a for a in sandbox.ground_truth_accounts()["accounts"] if a["advertiser_id"])


def stored_organic(store, business_id) -> dict[str, dict]:
    frame = db.query_frame(store.cursor(), "SELECT * FROM comments WHERE source = 'organic' "
                           "AND business_id = ?", [business_id])
    return {row["comment_id"]: row for row in frame.to_dict("records")}


def value(cell):
    """A cell as a Python value: pandas' missing markers as None."""
    return None if pd.isna(cell) else cell


def sync(store, keeper, client, business_id, **options):
    return run_organic_sync(store, keeper, client, business_id,
                            options=OrganicSyncOptions(**options))


def test_a_business_account_sync_stores_exactly_the_organic_ground_truth(
        sandbox, store, tmp_path, app_client):
    business_id = linked_account(sandbox)["business_id"]
    keeper = keeper_for(sandbox, tmp_path, app_client, business_id)
    seen = []

    result = run_organic_sync(store, keeper, app_client, business_id, progress=seen.append,
                              options=OrganicSyncOptions(comment_page_size=7))

    truth = sandbox.ground_truth_accounts(business_id)
    stored = stored_organic(store, business_id)
    assert seen[-1].phase == "done" and seen[-1].fraction == 1.0
    assert [p.videos_done for p in seen if p.phase == "comments"] == list(
        range(1, len(truth["videos"]) + 1))
    assert set(stored) == {c["comment_id"] for c in truth["comments"]}
    for c in truth["comments"]:
        row = stored[c["comment_id"]]
        assert row["content"] == c["text"]
        assert row["comment_type"] == c["comment_type"]
        assert value(row["original_comment_id"]) == c["parent_comment_id"]
        assert row["comment_status"] == c["status"]
        assert row["video_id"] == row["tiktok_item_id"] == c["video_id"]
        assert value(row["advertiser_id"]) is None and row["source"] == "organic"
        assert bool(row["can_delete"]) == c["owner"]
        assert pd.Timestamp(row["create_time"]).timestamp() == c["create_ts"]
    assert any(c["status"] == "HIDDEN" for c in truth["comments"])
    assert any(c["comment_type"] == "REPLY" for c in truth["comments"])
    cur = store.cursor()
    videos = db.videos_with_counts(cur, business_id)
    assert set(videos["video_id"]) == {v["video_id"] for v in truth["videos"]}
    per_video = {v["video_id"]: v["comments"] for v in truth["videos"]}
    assert dict(zip(videos["video_id"], videos["organic_comments"], strict=True)) == per_video
    [account] = db.list_business_accounts(cur).to_dict("records")
    assert account["username"] == truth["accounts"][0]["username"]
    assert result.status == "ok"
    assert result.rows == len(truth["comments"])


def test_a_second_sync_adds_only_new_comments_and_duplicates_nothing(
        sandbox, store, tmp_path, app_client):
    business_id = linked_account(sandbox)["business_id"]
    keeper = keeper_for(sandbox, tmp_path, app_client, business_id)
    sync(store, keeper, app_client, business_id)
    unchanged = sync(store, keeper, app_client, business_id)
    assert unchanged.rows == 0
    assert unchanged.videos_skipped == unchanged.videos  # nothing new: no comment requests

    new_ids = sandbox.add_organic_comments(4, business_id)
    again = sync(store, keeper, app_client, business_id)

    truth = {c["comment_id"] for c in sandbox.ground_truth_accounts(business_id)["comments"]}
    assert set(stored_organic(store, business_id)) == truth
    assert set(new_ids) <= truth
    assert again.rows < len(truth) / 4  # only the newest pages were fetched again
    count = db.query_records(store.cursor(), "SELECT count(*) AS n, count(DISTINCT comment_id) "
                             "AS d FROM comments")[0]
    assert count["n"] == count["d"]


def test_ad_and_organic_comments_together_by_source_per_video_and_in_the_export(
        sandbox, store, tmp_path, app_client):
    account = linked_account(sandbox)
    business_id, advertiser_id = account["business_id"], account["advertiser_id"]
    with TikTokClient(sandbox.issue_token(), base_url=sandbox.base_url,
                      rate_limiter=RateLimiter(10_000, 1_000_000)) as ads_client:
        sync_advertiser(store, ads_client, advertiser_id, options=SyncOptions(lookback_days=130))
    sync(store, keeper_for(sandbox, tmp_path, app_client, business_id), app_client, business_id)
    cur = store.cursor()
    ad_truth = sandbox.ground_truth(advertiser_id)["comments"]
    organic_truth = sandbox.ground_truth_accounts(business_id)["comments"]

    both = CommentFilters(advertiser_id, business_id=business_id)
    assert db.comments_count(cur, CommentFilters(advertiser_id)) == len(ad_truth)
    assert db.comments_count(cur, both) == len(ad_truth) + len(organic_truth)
    assert db.comments_count(cur, CommentFilters(advertiser_id, business_id=business_id,
                                                 source="organic")) == len(organic_truth)
    assert db.comments_count(cur, CommentFilters(advertiser_id, source="ad")) == len(ad_truth)
    by_source = db.query_records(cur, "SELECT source, count(*) AS n FROM analyst.comments "
                                 "GROUP BY source ORDER BY source")
    assert by_source == [{"source": "ad", "n": len(ad_truth)},
                         {"source": "organic", "n": len(organic_truth)}]

    volume = db.comment_volume_by_video(cur, business_id)
    spark = {v["video_id"]: v for v in sandbox.ground_truth_accounts(business_id)["videos"]
             if v["ad_ids"]}
    assert spark
    for video_id, video in spark.items():
        ad_comments = sum(1 for c in ad_truth if c["ad_id"] in video["ad_ids"])
        rows = volume[volume["video_id"] == video_id]
        counts = dict(zip(rows["source"], rows["comments"], strict=True))
        assert counts.get("ad", 0) == ad_comments
        assert counts.get("organic", 0) == video["comments"]

    page = db.comments_page(cur, both, limit=10_000)
    csv = export.to_csv_bytes(page[["comment_id", "source", "content"]]).decode("utf-8-sig")
    sources = pd.read_csv(io.StringIO(csv), dtype=str)["source"]
    assert sources.value_counts().to_dict() == {"ad": len(ad_truth),
                                                "organic": len(organic_truth)}

    # The ad-only helpers are as before: organic comments never join an advertiser's ads.
    assert db.ads_with_counts(cur, advertiser_id)["comment_count"].sum() == len(ad_truth)


def test_the_spark_ads_link_lists_one_videos_ad_and_organic_comments(
        sandbox, store, tmp_path, app_client):
    account = linked_account(sandbox)
    business_id, advertiser_id = account["business_id"], account["advertiser_id"]
    with TikTokClient(sandbox.issue_token(), base_url=sandbox.base_url,
                      rate_limiter=RateLimiter(10_000, 1_000_000)) as ads_client:
        sync_advertiser(store, ads_client, advertiser_id, options=SyncOptions(lookback_days=130))
    sync(store, keeper_for(sandbox, tmp_path, app_client, business_id), app_client, business_id)
    video = next(v for v in sandbox.ground_truth_accounts(business_id)["videos"]
                 if v["ad_ids"] and v["comments"])
    ad_ids = set(video["ad_ids"])
    expected_ads = {c["comment_id"] for c in sandbox.ground_truth(advertiser_id)["comments"]
                    if c["ad_id"] in ad_ids}
    expected_organic = {c["comment_id"] for c in
                        sandbox.ground_truth_accounts(business_id,
                                                      video_id=video["video_id"])["comments"]}
    assert expected_ads and expected_organic

    talk = db.conversation_for_video(store.cursor(), video["video_id"], limit=100_000)

    assert set(talk.loc[talk["source"] == "ad", "comment_id"]) == expected_ads
    assert set(talk.loc[talk["source"] == "organic", "comment_id"]) == expected_organic
    assert talk["create_time"].is_monotonic_increasing
    row = db.videos_with_counts(store.cursor(), business_id).set_index("video_id").loc[
        video["video_id"]]
    assert set(row["ad_ids"]) == ad_ids
    assert row["ad_comments"] == len(expected_ads)
    analyst = db.query_records(store.cursor(), "SELECT ad_ids FROM analyst.videos "
                               "WHERE video_id = ?", [video["video_id"]])
    assert set(analyst[0]["ad_ids"]) == ad_ids


def test_an_existing_database_keeps_its_ad_comments_as_source_ad(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    db.migrate(con, db.MIGRATIONS[:3])
    now = datetime.now(UTC)
    con.execute("INSERT INTO comments (comment_id, advertiser_id, first_seen_at, last_seen_at) "
                "VALUES ('c1', 'A1', ?, ?)", [now, now])
    con.close()

    with Store.open(path) as store:
        cur = store.cursor()
        rows = db.query_records(cur, "SELECT comment_id, source, video_id FROM analyst.comments")
        db.upsert_comments(cur, pd.DataFrame({"comment_id": ["c2"], "advertiser_id": ["A1"]}),
                           now)
        sources = db.query_records(cur, "SELECT source FROM comments ORDER BY comment_id")
    assert rows == [{"comment_id": "c1", "source": "ad", "video_id": None}]
    assert sources == [{"source": "ad"}, {"source": "ad"}]


def test_an_organic_sync_never_overwrites_an_ad_comment_with_the_same_id(store):
    cur = store.cursor()
    now = datetime.now(UTC)
    db.upsert_comments(cur, pd.DataFrame({"comment_id": ["x"], "advertiser_id": ["A1"],
                                          "content": ["ad text"]}), now)
    frame = db.organic_comment_frame([{"comment_id": "x", "video_id": "v", "business_id": "b",
                                       "text": "organic", "comment_type": "COMMENT"},
                                      {"comment_id": "y", "video_id": "v", "business_id": "b",
                                       "text": "organic", "comment_type": "COMMENT"}])
    assert db.upsert_organic_comments(cur, frame, now) == 1
    rows = db.query_records(cur, "SELECT comment_id, source, content FROM comments "
                            "ORDER BY comment_id")
    assert rows == [{"comment_id": "x", "source": "ad", "content": "ad text"},
                    {"comment_id": "y", "source": "organic", "content": "organic"}]
