"""Insights' sentiment over time and chosen ads side by side, against hand-built comments."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from desk import store as db
from desk.store import Store

AD = "A1"
SEEN = datetime(2025, 3, 20, tzinfo=UTC)


def comment(comment_id, day, *, ad="ad1", sentiment=None, labels=(), status="PUBLIC",
            parent=None, brand=False):
    return {
        "comment_id": comment_id, "advertiser_id": AD, "ad_id": ad, "ad_name": f"Ad {ad}",
        "comment_type": "REPLY" if parent else "COMMENT", "original_comment_id": parent,
        "comment_status": status, "likes": 0, "content": f"text {comment_id}",
        "create_time": datetime(2025, 3, day, 12, tzinfo=UTC), "can_delete": brand,
        "tiktok_item_id": f"item-{ad}", "source": "ad",
    }, (comment_id, sentiment, list(labels))


@pytest.fixture
def cur(tmp_path):
    made = [
        comment("n1", 3, sentiment=-0.8, labels=["complaint"]),   # Monday 3 March
        comment("n2", 4, sentiment=-0.5, labels=["complaint"], status="HIDDEN"),
        comment("p1", 5, sentiment=0.9),
        comment("u1", 6, sentiment=0.1, labels=["question"]),
        comment("b1", 6, parent="u1", brand=True, sentiment=0.9),  # the brand: left out
        comment("p2", 11, sentiment=0.7, ad="ad2"),                 # the next week
        comment("x1", 11, ad="ad2"),                                # not classified yet
    ]
    with Store.open(tmp_path / "x.duckdb") as store:
        cursor = store.cursor()
        db.upsert_comments(cursor, pd.DataFrame([row for row, _ in made]), SEEN)
        for comment_id, sentiment, labels in (verdict for _, verdict in made):
            cursor.execute("UPDATE comments SET sentiment = ?, labels = ? WHERE comment_id = ?",
                           [sentiment, labels, comment_id])
        yield cursor


def test_sentiment_shares_per_week_leave_out_the_brand_and_the_unread(cur):
    weeks = db.sentiment_over_time(cur, db.CommentFilters(AD), "week")

    assert [(str(b.date()), s, n, round(share, 4)) for b, s, n, share in
            weeks[["bucket", "sentiment", "comments", "share"]].itertuples(index=False)] == [
        ("2025-03-03", "negative", 2, 0.5), ("2025-03-03", "neutral", 1, 0.25),
        ("2025-03-03", "positive", 1, 0.25), ("2025-03-10", "positive", 1, 1.0)]
    days = db.sentiment_over_time(cur, db.CommentFilters(AD, ad_ids=["ad1"]), "day")
    assert len(days["bucket"].unique()) == 4 and set(days["share"]) == {1.0}
    with pytest.raises(ValueError, match="grain"):
        db.sentiment_over_time(cur, db.CommentFilters(AD), "hour")


def test_chosen_ads_side_by_side_with_their_delivery(cur):
    cur.execute("INSERT INTO ad_delivery (advertiser_id, ad_id, stat_day, spend, impressions, "
                "fetched_at) VALUES ('A1', 'ad1', DATE '2025-03-03', 10.0, 2000, now()), "
                "('A1', 'ad1', DATE '2025-03-30', 99.0, 99999, now())")
    side = db.compare_ads(cur, db.CommentFilters(AD, date_from=date(2025, 3, 1),
                                                 date_to=date(2025, 3, 7)), ["ad2", "ad1"])

    assert side["ad_id"].tolist() == ["ad1"]  # ad2 has nothing in those days
    row = side.iloc[0]
    assert (row["comments"], row["first_level"], row["answered"]) == (4, 4, 1)
    assert (row["questions"], row["complaints"]) == (1, 2)
    assert (row["negative_share"], row["positive_share"], row["hidden_share"]) == (
        0.5, 0.25, 0.25)
    assert (row["impressions"], row["spend"]) == (2000, 10.0)  # the period's days only
    assert row["comments_per_1000"] == pytest.approx(2.0)

    both = db.compare_ads(cur, db.CommentFilters(AD), ["ad2", "ad1"])
    assert both["ad_id"].tolist() == ["ad2", "ad1"]  # in the order chosen
    assert pd.isna(both.iloc[0]["impressions"]) and both.iloc[0]["comments"] == 2
