"""Comments beside delivery: every rate Insights shows, per ad, per day and per creative,
against the sandbox's delivery ground truth and the stored, classified comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from desk import store as db
from desk.moderation.classifying import classify_backlog
from desk.sources import AdAccount
from desk.sources.delivery import account_today
from desk.store import Store
from desk.store.filters import SENTIMENT_CUT
from tests.desk.test_delivery import LOOKBACK, small, workspace_for
from tests.world import WRITER, advertisers_by_access
from tiktok_sandbox import start_sandbox

COUNTS = ("comments", "questions", "complaints", "negative")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A synced, classified ad account: (sandbox, workspace, advertiser_id, today)."""
    with start_sandbox(small()) as sandbox:
        workspace = workspace_for(sandbox, tmp_path_factory.mktemp("insights"))
        advertiser_id = advertisers_by_access(sandbox.ground_truth())[WRITER]
        AdAccount(workspace, advertiser_id).sync()
        with workspace.store.cursor() as cur:
            classify_backlog(cur)
        try:
            yield sandbox, workspace, advertiser_id, account_today(workspace.store,
                                                                   advertiser_id)
        finally:
            workspace.store.close()


def expected_days(world, filters: db.CommentFilters) -> pd.DataFrame:
    """Each delivered ad day the filters choose (from the sandbox's ground truth), with what
    the stored comments the filters choose said on it, counted here in pandas."""
    sandbox, workspace, advertiser_id, today = world
    delivery = pd.DataFrame(sandbox.delivery(advertiser_id, today - timedelta(LOOKBACK), today))
    delivery["stat_day"] = delivery["stat_day"].map(date.fromisoformat)
    delivery = delivery.drop(columns="comments")  # the sandbox's own count: recounted below
    ads = pd.DataFrame(sandbox.ground_truth(advertiser_id)["ads"])[["ad_id", "tiktok_item_id"]]
    delivery = delivery.merge(ads, on="ad_id", how="left")
    if filters.ad_ids is not None:
        delivery = delivery[delivery["ad_id"].isin(filters.ad_ids)]
    if filters.date_from is not None:
        delivery = delivery[delivery["stat_day"] >= filters.date_from]
    if filters.date_to is not None:
        delivery = delivery[delivery["stat_day"] <= filters.date_to]
    with workspace.store.cursor() as cur:
        chosen = db.comments_page(cur, filters, limit=1_000_000)
        tz = db.advertiser_timezone(cur, advertiser_id)
    said = chosen[(chosen["source"] == "ad")
                  & ~((chosen["comment_type"] == "REPLY") & chosen["can_delete"].fillna(False))]
    said = said.assign(
        stat_day=pd.to_datetime(said["create_time"], utc=True).dt.tz_convert(tz).dt.date,
        questions=said["labels"].map(lambda v: v is not None and "question" in list(v)),
        complaints=said["labels"].map(lambda v: v is not None and "complaint" in list(v)),
        negative=said["sentiment"].astype("Float64") < -SENTIMENT_CUT,
        classified=said["sentiment"].notna(),
        sentiment_sum=said["sentiment"].astype(float).fillna(0.0),
        comments=1,
    )
    counts = said.groupby(["ad_id", "stat_day"])[
        [*COUNTS, "classified", "sentiment_sum"]].sum().reset_index()
    joined = delivery.merge(counts, on=["ad_id", "stat_day"], how="left")
    return joined.fillna({name: 0 for name in [*COUNTS, "classified", "sentiment_sum"]})


def with_rates(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name in COUNTS:
        frame[f"{name}_per_1000_impressions"] = 1000.0 * frame[name] / frame["impressions"]
        frame[f"{name}_per_unit_spend"] = frame[name] / frame["spend"]
    return frame


def assert_same(got: pd.DataFrame, want: pd.DataFrame, key: str, columns) -> None:
    got, want = got.set_index(key).sort_index(), want.set_index(key).sort_index()
    assert list(got.index) == list(want.index)
    for column in columns:
        assert got[column].astype(float).tolist() == pytest.approx(
            want[column].astype(float).tolist(), rel=1e-9, nan_ok=True), column


RATE_COLUMNS = [f"{name}_per_{per}" for name in COUNTS
                for per in ("1000_impressions", "unit_spend")]


@pytest.mark.parametrize("narrow", ["everything", "two ads, last 30 days", "complaints only",
                                    "negative only"])
def test_rates_per_ad_are_the_ground_truths(world, narrow):
    _, workspace, advertiser_id, today = world
    with workspace.store.cursor() as cur:
        every_ad = db.delivery_rates_by_ad(cur, db.CommentFilters(advertiser_id))["ad_id"]
    filters = {
        "everything": db.CommentFilters(advertiser_id),
        "two ads, last 30 days": db.CommentFilters(
            advertiser_id, ad_ids=list(every_ad[:2]), date_from=today - timedelta(29),
            date_to=today),
        "complaints only": db.CommentFilters(advertiser_id, labels=["complaint"]),
        "negative only": db.CommentFilters(advertiser_id, sentiment="negative"),
    }[narrow]
    days = expected_days(world, filters)
    want = with_rates(days.groupby("ad_id")[
        ["impressions", "spend", "clicks", "video_play_actions", "likes", *COUNTS]].sum()
        .reset_index())
    with workspace.store.cursor() as cur:
        got = db.delivery_rates_by_ad(cur, filters)

    assert_same(got, want, "ad_id", ["impressions", "spend", "clicks", "video_play_actions",
                                     "likes", *COUNTS, *RATE_COLUMNS])
    assert got["impressions"].is_monotonic_decreasing
    assert set(got["currency"]) == {days["currency"].iloc[0]}
    if narrow == "everything":
        assert got["complaints"].sum() > 0 and got["questions"].sum() > 0  # classified
    if narrow == "complaints only":
        assert (got["comments"] == got["complaints"]).all()


def test_rates_and_sentiment_per_day_are_the_ground_truths(world):
    _, workspace, advertiser_id, _ = world
    filters = db.CommentFilters(advertiser_id)
    days = expected_days(world, filters)
    want = with_rates(days.groupby("stat_day")[
        ["impressions", "spend", *COUNTS, "classified", "sentiment_sum"]].sum().reset_index())
    want["mean_sentiment"] = want["sentiment_sum"] / want["classified"].replace(0, float("nan"))
    want["negative_share"] = want["negative"] / want["classified"].replace(0, float("nan"))
    with workspace.store.cursor() as cur:
        got = db.delivery_rates_by_day(cur, filters)

    assert_same(got, want, "stat_day", ["impressions", "spend", *COUNTS, "classified",
                                        "mean_sentiment", "negative_share", *RATE_COLUMNS])
    assert got["stat_day"].is_monotonic_increasing
    assert got["classified"].sum() > 0


def test_complaints_per_creative_are_the_ground_truths(world):
    _, workspace, advertiser_id, _ = world
    filters = db.CommentFilters(advertiser_id)
    days = expected_days(world, filters)
    want = with_rates(days.groupby("tiktok_item_id")[["impressions", "spend", *COUNTS]].sum()
                      .reset_index())
    want["complaint_share"] = want["complaints"] / want["comments"].replace(0, float("nan"))
    with workspace.store.cursor() as cur:
        got = db.delivery_rates_by_creative(cur, filters)

    assert_same(got, want, "tiktok_item_id", ["impressions", "spend", *COUNTS,
                                              "complaint_share", *RATE_COLUMNS])
    ranked = got["complaints_per_1000_impressions"].fillna(-1)
    assert ranked.is_monotonic_decreasing


def test_a_video_shown_by_several_ads_is_one_creative(tmp_path):
    when = datetime(2025, 6, 3, 12, tzinfo=UTC)
    with Store.open(tmp_path / "desk.duckdb") as store, store.cursor() as cur:
        db.upsert_advertisers(cur, pd.DataFrame([{"advertiser_id": "7", "timezone": "UTC",
                                                  "currency": "EUR"}]))
        db.upsert_ads(cur, pd.DataFrame([
            {"ad_id": ad, "advertiser_id": "7", "ad_name": f"Ad {ad}", "tiktok_item_id": video}
            for ad, video in (("a", "v1"), ("b", "v1"), ("c", None))]), when)
        db.upsert_comments(cur, pd.DataFrame([
            {"comment_id": str(i), "advertiser_id": "7", "ad_id": ad, "comment_type": "COMMENT",
             "create_time": when, "content": "x", "source": "ad"}
            for i, ad in enumerate(["a", "a", "b", "c"])]), when)
        cur.execute("UPDATE comments SET labels = ['complaint'] WHERE comment_id IN ('0', '2')")
        db.store_delivery(cur, "7", date(2025, 6, 3), date(2025, 6, 3), pa.table({
            "ad_id": ["a", "b", "c"], "stat_day": [date(2025, 6, 3)] * 3,
            "impressions": [1000, 3000, 500], "spend": [2.0, 6.0, 1.0]}), when, "EUR")

        got = db.delivery_rates_by_creative(cur, db.CommentFilters("7"))

    shown = got[["tiktok_item_id", "ad_id", "ads", "ad_names", "impressions", "comments",
                 "complaints"]].astype(object)
    assert shown.where(shown.notna(), None).to_dict("records") == [
        {"tiktok_item_id": "v1", "ad_id": None, "ads": 2, "ad_names": "Ad a, Ad b",
         "impressions": 4000, "comments": 3, "complaints": 2},
        {"tiktok_item_id": None, "ad_id": "c", "ads": 1, "ad_names": "Ad c",
         "impressions": 500, "comments": 1, "complaints": 0}]
    assert got["complaints_per_1000_impressions"].tolist() == [0.5, 0.0]
    assert got["complaints_per_unit_spend"].tolist() == [0.25, 0.0]
    assert got["currency"].tolist() == ["EUR", "EUR"]


def test_organic_comments_alone_have_no_delivery(world):
    _, workspace, advertiser_id, _ = world
    with workspace.store.cursor() as cur:
        assert db.delivery_rates_by_ad(cur, db.CommentFilters(advertiser_id,
                                                              source="organic")).empty
        assert db.delivery_rates_by_day(cur, db.CommentFilters("", business_id="x")).empty
