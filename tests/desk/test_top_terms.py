"""Top terms in the store: each comment's terms are filled with the classifier's verdicts (new
comments of an account, and the whole backlog after an upgrade of either), and `top_terms`
counts the comments using each term among those the filters choose.

The hand-built account A1 (Asia/Tokyo), its terms given directly:

    id  ad   source   UTC create_time  status  labels     terms
    c1  ad1  ad       03-01 10:00      PUBLIC  question   price, shipping
    c2  ad1  ad       03-02 10:00      PUBLIC  question   price
    c3  ad1  ad       03-02 11:00      HIDDEN  complaint  price, broken
    c4  ad2  ad       03-03 10:00      PUBLIC  praise     love, shipping
    c5  ad2  ad       03-20 10:00      PUBLIC  praise     love
    c6  ad1  ad       03-21 10:00      PUBLIC  (not classified, "Shipping to Canada?")
    o1  -    organic  03-02 10:00      PUBLIC  praise     love, video   (business account B1)
    x1  ad7  ad       03-02 10:00      PUBLIC  praise     love          (another advertiser)
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pandas as pd
import pytest

from desk import store as db
from desk.moderation.classify import CLASSIFIER_VERSION
from desk.moderation.classifying import classify_account, classify_backlog, waiting_count
from desk.moderation.terms import TERMS_VERSION
from desk.store import CommentFilters

SEEN = datetime(2025, 3, 25, tzinfo=UTC)

ROWS = (
    # id, advertiser, ad, source, business, day, hour, status, labels, terms
    ("c1", "A1", "ad1", "ad", None, 1, 10, "PUBLIC", ["question"], ["price", "shipping"]),
    ("c2", "A1", "ad1", "ad", None, 2, 10, "PUBLIC", ["question"], ["price"]),
    ("c3", "A1", "ad1", "ad", None, 2, 11, "HIDDEN", ["complaint"], ["price", "broken"]),
    ("c4", "A1", "ad2", "ad", None, 3, 10, "PUBLIC", ["praise"], ["love", "shipping"]),
    ("c5", "A1", "ad2", "ad", None, 20, 10, "PUBLIC", ["praise"], ["love"]),
    ("c6", "A1", "ad1", "ad", None, 21, 10, "PUBLIC", None, None),
    ("o1", None, None, "organic", "B1", 2, 10, "PUBLIC", ["praise"], ["love", "video"]),
    ("x1", "A2", "ad7", "ad", None, 2, 10, "PUBLIC", ["praise"], ["love"]),
)


def comments_frame(rows) -> pd.DataFrame:
    return pd.DataFrame([{
        "comment_id": cid, "advertiser_id": advertiser, "ad_id": ad, "source": source,
        "business_id": business, "content": " ".join(terms or ["Shipping to Canada?"]),
        "comment_type": "COMMENT", "comment_status": status, "likes": 0,
        "create_time": datetime(2025, 3, day, hour, tzinfo=UTC), "user_name": f"user_{cid}",
    } for cid, advertiser, ad, source, business, day, hour, status, _, terms in rows])


@pytest.fixture
def cur(tmp_path):
    store = db.Store.open(tmp_path / "terms.duckdb")
    cur = store.cursor()
    db.upsert_advertisers(cur, pd.DataFrame([
        {"advertiser_id": "A1", "name": "Brand", "timezone": "Asia/Tokyo", "currency": "JPY"},
        {"advertiser_id": "A2", "name": "Other", "timezone": "UTC", "currency": "USD"}]))
    db.upsert_comments(cur, comments_frame(ROWS), SEEN)
    read = [row for row in ROWS if row[9] is not None]
    db.save_classified(cur, pd.DataFrame({
        "comment_id": [row[0] for row in read], "language": ["en"] * len(read),
        "sentiment": [0.0] * len(read), "labels": [row[8] for row in read]}), CLASSIFIER_VERSION)
    db.save_terms(cur, [row[0] for row in read], [row[9] for row in read], TERMS_VERSION)
    yield cur
    cur.close()
    store.close()


def counted(frame: pd.DataFrame) -> dict[str, int]:
    return dict(zip(frame["term"], frame["comments"].astype(int), strict=True))


def test_top_terms_count_comments_per_term_most_used_first(cur):
    top = db.top_terms(cur, CommentFilters("A1"))
    assert list(top.columns) == ["term", "comments", "share"]
    assert top["term"].tolist() == ["price", "love", "shipping", "broken"]
    assert counted(top) == {"price": 3, "love": 2, "shipping": 2, "broken": 1}
    # of the 5 comments whose terms are read (c6 is not: it counts in no share)
    assert top["share"].round(6).tolist() == [0.6, 0.4, 0.4, 0.2]


def test_ties_are_ordered_by_term_and_the_limit_keeps_the_first(cur):
    top = db.top_terms(cur, CommentFilters("A1"), limit=2)
    assert top["term"].tolist() == ["price", "love"]  # love before shipping, both 2
    with pytest.raises(ValueError, match="limit"):
        db.top_terms(cur, CommentFilters("A1"), limit=-1)


def test_top_terms_follow_the_ad_and_the_period_in_the_advertisers_time_zone(cur):
    assert counted(db.top_terms(cur, CommentFilters("A1", ad_ids=["ad2"]))) == {
        "love": 2, "shipping": 1}
    # 03-01 10:00 UTC is 19:00 in Tokyo; 03-02 11:00 UTC is 20:00: days 03-02 to 03-03
    march_2_to_3 = CommentFilters("A1", date_from=date(2025, 3, 2), date_to=date(2025, 3, 3))
    assert counted(db.top_terms(cur, march_2_to_3)) == {
        "price": 2, "broken": 1, "love": 1, "shipping": 1}


def test_top_terms_follow_labels_status_search_and_source(cur):
    assert counted(db.top_terms(cur, CommentFilters("A1", labels=["question"]))) == {
        "price": 2, "shipping": 1}
    assert counted(db.top_terms(cur, CommentFilters("A1", status="HIDDEN"))) == {
        "price": 1, "broken": 1}
    assert counted(db.top_terms(cur, CommentFilters("A1", search="SHIPPING"))) == {
        "shipping": 2, "price": 1, "love": 1}
    both = CommentFilters("A1", business_id="B1")
    assert counted(db.top_terms(cur, both))["love"] == 3
    organic = CommentFilters("A1", business_id="B1", source="organic")
    assert counted(db.top_terms(cur, organic)) == {"love": 1, "video": 1}


def test_no_matching_comment_gives_no_terms(cur):
    top = db.top_terms(cur, CommentFilters("A1", ad_ids=["ad-none"]))
    assert top.empty and list(top.columns) == ["term", "comments", "share"]


# ---------------------------------------------------------------------------------------------
# Filling: with the classifier's verdicts, and the backlog


def stored_terms(cur) -> dict[str, tuple[list[str] | None, str | None]]:
    rows = db.query_records(cur, "SELECT comment_id, terms, terms_with FROM comments")
    return {row["comment_id"]: (row["terms"], row["terms_with"]) for row in rows}


def test_classifying_an_accounts_new_comments_reads_their_terms(tmp_path):
    """As after each sync (desk.moderation.runs.after_sync classifies the account's new
    comments)."""
    store = db.Store.open(tmp_path / "new.duckdb")
    with store.cursor() as cur:
        db.upsert_comments(cur, pd.DataFrame([
            {"comment_id": "n1", "advertiser_id": "A1", "content": "Where can I buy sneakers?"},
            {"comment_id": "n2", "advertiser_id": "A1", "content": "这双鞋质量太差了"},
            {"comment_id": "n3", "advertiser_id": "A2", "content": "Lovely jacket"},
        ]), SEEN)
        account = SimpleNamespace(kind="ad", account_id="A1")  # what classifying reads of it
        assert classify_account(cur, account) == 2  # type: ignore[arg-type]
        got = stored_terms(cur)
    store.close()
    assert got["n1"] == (["buy", "sneakers"], TERMS_VERSION)
    assert got["n2"] == (["这双鞋", "质量", "太差"], TERMS_VERSION)
    assert got["n3"] == (None, None)  # another account's: its own sync reads it


def test_the_backlog_reads_the_terms_of_comments_classified_before_the_tokeniser_came(cur):
    cur.execute("UPDATE comments SET terms = NULL, terms_with = NULL")
    cur.execute("UPDATE comments SET terms_with = 'words-0' WHERE comment_id = 'c1'")
    assert waiting_count(cur) == 8  # c6 unclassified, the 7 others without current terms
    seen: list[tuple[int, int]] = []
    assert classify_backlog(cur, batch=3, progress=lambda done, total: seen.append((done, total))
                            ) == 8
    assert waiting_count(cur) == 0
    got = stored_terms(cur)
    assert {with_ for _, with_ in got.values()} == {TERMS_VERSION}
    assert got["c1"][0] == ["price", "shipping"] and got["c6"][0] == ["shipping", "canada"]
    assert seen[-1] == (8, 8) and [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_stopped_backlog_keeps_what_it_saved_and_the_next_pass_carries_on(cur):
    cur.execute("UPDATE comments SET terms = NULL, terms_with = NULL")
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done > 1:  # stop once c6 is classified and one batch of terms is read
            stop.set()

    done = classify_backlog(cur, batch=2, progress=progress, stop=stop)
    assert done == 1 + 2
    assert waiting_count(cur) == 8 - done
    assert classify_backlog(cur) == 8 - done
    assert waiting_count(cur) == 0
