"""Ad and organic comments together: the store's summaries over both, specified by hand.

The ad account is test_store's (A1 in Asia/Tokyo, UTC+9: ad1 9 comments, ad2 4, ad9 1; A2
with 2 on ad4). Business account B1 has two videos: "item-ad2", the video the Spark Ad ad2
promotes (its tiktok_item_id), and "v-organic", promoted by no ad. B2 is someone else's
account with one comment that no filter here may show. "Brand" replies have owner = true.

    id  video      type     parent  UTC create_time   Tokyo time      status  owner
    o1  item-ad2   COMMENT          03-02 01:00       03-02 10:00     PUBLIC
    o2  item-ad2   REPLY    o1      03-02 01:20       03-02 10:20     PUBLIC  yes
    o3  v-organic  COMMENT          03-02 20:00       03-03 05:00     HIDDEN
    o5  v-organic  REPLY    o3      03-02 21:00       03-03 06:00     PUBLIC
    o4  v-organic  COMMENT          03-05 12:00       03-05 21:00     PUBLIC
    x1  v-other    COMMENT          03-02 00:00       03-02 09:00     PUBLIC        (B2)

B1's organic comments: 5, of which 3 top-level, 1 answered (o1, after 20 minutes), 1 hidden.
A1's comments per Tokyo day: 02-20: 1, 03-01: 3, 03-02: 6, 03-03: 4 (ad2's 4 all on 03-03).
"""

from datetime import date

import pandas as pd
import pytest

from desk import store as db
from desk.store import CommentFilters, Store
from tests.desk.test_store import SEEN, records, store_account, tuples, utc

MIXED = CommentFilters("A1", business_id="B1")
ORGANIC_ONLY = CommentFilters("", business_id="B1")
ORGANIC_IDS = ["o1", "o2", "o3", "o4", "o5"]


def organic(comment_id, video_id, create_time, *, business_id="B1", parent=None, owner=False,
            status="PUBLIC"):
    """An organic comment as the organic sync hands it to organic_comment_frame."""
    return {
        "comment_id": comment_id,
        "video_id": video_id,
        "business_id": business_id,
        "parent_comment_id": parent,
        "text": f"text of {comment_id}",
        "create_time": create_time,
        "likes": 0,
        "replies": 0,
        "status": status,
        "owner": owner,
        "pinned": False,
        "user_id": "brand" if owner else f"u-{comment_id}",
        "username": "acme_tiktok" if owner else f"fan_{comment_id}",
        "comment_type": "COMMENT" if parent is None else "REPLY",
    }


@pytest.fixture
def cur(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as store:
        yield store.cursor()


@pytest.fixture
def mixed(cur):
    """The ad account and business accounts in the module docstring, stored."""
    store_account(cur)
    videos = [
        {"video_id": "item-ad2", "business_id": "B1", "caption": "Summer video"},
        {"video_id": "v-organic", "business_id": "B1", "caption": "Behind the scenes"},
        {"video_id": "v-other", "business_id": "B2", "caption": "Not ours"},
    ]
    db.upsert_videos(cur, pd.DataFrame.from_records(videos), SEEN)
    frame = db.organic_comment_frame(
        [
            organic("o1", "item-ad2", utc(3, 2, 1)),
            organic("o2", "item-ad2", utc(3, 2, 1, 20), parent="o1", owner=True),
            organic("o3", "v-organic", utc(3, 2, 20), status="HIDDEN"),
            organic("o5", "v-organic", utc(3, 2, 21), parent="o3"),
            organic("o4", "v-organic", utc(3, 5, 12)),
            organic("x1", "v-other", utc(3, 2, 0), business_id="B2"),
        ]
    )
    assert db.upsert_organic_comments(cur, frame, SEEN) == 6
    return cur


def matching(cur, filters):
    """The ids of every comment matching the filters, sorted."""
    return sorted(db.comments_page(cur, filters, limit=1000)["comment_id"])


def days(frame, column="comments"):
    """Per series (ad_name): its counts, bucket by bucket."""
    return {name: rows[column].tolist() for name, rows in frame.groupby("ad_name", sort=False)}


# --- video_ids ------------------------------------------------------------------------------


def test_video_ids_are_kept_as_a_tuple():
    filters = CommentFilters("A1", video_ids=["v1", "v2"])

    assert filters.video_ids == ("v1", "v2")
    assert hash(filters) == hash(CommentFilters("A1", video_ids=("v1", "v2")))
    assert CommentFilters("A1").video_ids is None


def test_a_video_matches_its_organic_comments_and_its_spark_ads_comments(mixed):
    spark = CommentFilters("A1", business_id="B1", video_ids=["item-ad2"])

    assert matching(mixed, spark) == ["c5", "c6", "o1", "o2", "r4", "r5"]
    assert matching(mixed, CommentFilters("A1", business_id="B1", video_ids=["v-organic"])) == [
        "o3", "o4", "o5"
    ]
    assert db.comments_count(mixed, spark) == 6


def test_a_video_without_the_business_account_matches_only_its_ad_comments(mixed):
    assert matching(mixed, CommentFilters("A1", video_ids=["item-ad2"])) == [
        "c5", "c6", "r4", "r5"
    ]


def test_video_ids_combine_with_the_other_filters(mixed):
    organic_top = CommentFilters(
        "A1", business_id="B1", video_ids=["item-ad2"], source="organic", comment_type="COMMENT"
    )

    assert matching(mixed, organic_top) == ["o1"]


def test_no_videos_match_nothing_and_other_accounts_videos_stay_out(mixed):
    assert db.comments_count(mixed, CommentFilters("A1", business_id="B1", video_ids=[])) == 0
    assert db.comments_count(
        mixed, CommentFilters("A1", business_id="B1", video_ids=["v-other"])
    ) == 0


def test_chosen_ads_and_chosen_videos_add_up(mixed):
    both = CommentFilters("A1", business_id="B1", ad_ids=["ad9"], video_ids=["v-organic"])
    no_ads = CommentFilters("A1", business_id="B1", ad_ids=[], video_ids=["v-organic"])
    overlapping = CommentFilters("A1", business_id="B1", ad_ids=["ad2"], video_ids=["item-ad2"])

    assert matching(mixed, both) == ["c7", "o3", "o4", "o5"]
    assert matching(mixed, no_ads) == ["o3", "o4", "o5"]
    assert matching(mixed, overlapping) == ["c5", "c6", "o1", "o2", "r4", "r5"]
    assert db.comments_count(mixed, CommentFilters("A1", business_id="B1", ad_ids=["ad1"])) == 9


# --- comment_volume_by_ad -------------------------------------------------------------------


def test_organic_comments_are_one_row_ranked_among_the_ads(mixed):
    def volume(top_n):
        return tuples(db.comment_volume_by_ad(mixed, MIXED, top_n=top_n))

    assert volume(10) == [
        ("ad1", "Spring promo", "ad", 9),
        (None, "Organic posts", "organic", 5),
        ("ad2", "Summer sale", "ad", 4),
        ("ad9", "Old promo", "ad", 1),
    ]
    assert volume(2) == [
        ("ad1", "Spring promo", "ad", 9),
        (None, "Organic posts", "organic", 5),
        (None, "Other ads", "ad", 5),
    ]


def test_organic_comments_are_never_folded_into_other_ads(mixed):
    def volume(top_n):
        return tuples(db.comment_volume_by_ad(mixed, MIXED, top_n=top_n))

    assert volume(1) == [
        ("ad1", "Spring promo", "ad", 9),
        (None, "Organic posts", "organic", 5),
        (None, "Other ads", "ad", 5),
    ]
    assert volume(0) == [(None, "Organic posts", "organic", 5), (None, "Other ads", "ad", 14)]


def test_comment_volume_by_ad_columns_and_sources(mixed):
    frame = db.comment_volume_by_ad(mixed, CommentFilters("A1"))

    assert list(frame.columns) == ["ad_id", "ad_name", "source", "comments"]
    assert tuples(frame) == [
        ("ad1", "Spring promo", "ad", 9),
        ("ad2", "Summer sale", "ad", 4),
        ("ad9", "Old promo", "ad", 1),
    ]
    only_organic = CommentFilters("A1", business_id="B1", source="organic")
    assert tuples(db.comment_volume_by_ad(mixed, only_organic)) == [
        (None, "Organic posts", "organic", 5)
    ]


# --- comment_volume_over_time ---------------------------------------------------------------

MARCH = CommentFilters("A1", business_id="B1", date_from=date(2025, 3, 1),
                       date_to=date(2025, 3, 5))
MARCH_DAYS = list(pd.date_range("2025-03-01", "2025-03-05"))


def test_one_series_of_all_comments_with_a_business_account(mixed):
    volume = db.comment_volume_over_time(mixed, MARCH)

    assert list(volume.columns) == ["bucket", "ad_id", "ad_name", "source", "comments"]
    assert volume["bucket"].tolist() == MARCH_DAYS
    assert volume["comments"].tolist() == [3, 8, 6, 0, 1]
    assert set(volume["ad_name"]) == {"All comments"}
    assert volume["ad_id"].isna().all() and volume["source"].isna().all()


def test_one_series_of_all_ads_without_a_business_account(mixed):
    volume = db.comment_volume_over_time(mixed, CommentFilters("A1"))

    assert set(volume["ad_name"]) == {"All ads"}
    assert volume["source"].isna().all()
    assert volume["comments"].tolist() == [1] + [0] * 8 + [3, 6, 4]


def test_one_series_per_source_with_empty_days_as_zero(mixed):
    volume = db.comment_volume_over_time(mixed, MARCH, by_source=True)

    assert records(volume.head(2)) == [
        {"bucket": pd.Timestamp("2025-03-01"), "ad_id": None, "ad_name": "Ad comments",
         "source": "ad", "comments": 3},
        {"bucket": pd.Timestamp("2025-03-01"), "ad_id": None, "ad_name": "Organic comments",
         "source": "organic", "comments": 0},
    ]
    assert volume["bucket"].tolist() == [day for day in MARCH_DAYS for _ in range(2)]
    assert days(volume) == {"Ad comments": [3, 6, 4, 0, 0], "Organic comments": [0, 2, 2, 0, 1]}
    assert days(volume, "source") == {"Ad comments": ["ad"] * 5,
                                      "Organic comments": ["organic"] * 5}


def test_by_source_shows_only_sources_with_comments(mixed):
    ads_only = db.comment_volume_over_time(mixed, CommentFilters("A1"), by_source=True)
    organic_only = db.comment_volume_over_time(
        mixed, CommentFilters("A1", business_id="B1", source="organic"), by_source=True
    )

    assert set(ads_only["ad_name"]) == {"Ad comments"}
    assert len(ads_only) == 12  # 02-20 to 03-03
    assert days(organic_only) == {"Organic comments": [2, 2, 0, 1]}  # 03-02 to 03-05
    assert db.comment_volume_over_time(mixed, CommentFilters("nobody"), by_source=True).empty


def test_by_source_takes_no_ad_ids(mixed):
    with pytest.raises(ValueError, match="ad_ids"):
        db.comment_volume_over_time(mixed, MARCH, ad_ids=["ad1"], by_source=True)


def test_per_ad_series_leave_the_organic_comments_out(mixed):
    volume = db.comment_volume_over_time(mixed, MARCH, ad_ids=["ad2"])

    assert days(volume) == {"Summer sale": [0, 0, 4, 0, 0]}
    assert set(volume["source"]) == {"ad"}
    assert set(volume["ad_id"]) == {"ad2"}


# --- ad_engagement --------------------------------------------------------------------------

ORGANIC_ENGAGEMENT = {
    "ad_id": None,
    "ad_name": "Organic posts",
    "source": "organic",
    "comments": 5,
    "top_level_comments": 3,
    "answered_comments": 1,  # o1, by the account's own reply o2
    "hidden_share": 0.2,
    "reply_rate": pytest.approx(1 / 3),
    "median_minutes_to_first_reply": 20.0,
}


def test_ad_engagement_counts_the_business_accounts_replies(mixed):
    engagement = db.ad_engagement(mixed, MIXED)

    assert list(engagement.columns) == [
        "ad_id", "ad_name", "source", "comments", "top_level_comments", "answered_comments",
        "hidden_share", "reply_rate", "median_minutes_to_first_reply",
    ]
    rows = records(engagement)
    assert [row["ad_id"] for row in rows] == ["ad1", None, "ad2", "ad9"]
    assert rows[1] == ORGANIC_ENGAGEMENT
    assert rows[0] == {
        "ad_id": "ad1",
        "ad_name": "Spring promo",
        "source": "ad",
        "comments": 9,
        "top_level_comments": 4,
        "answered_comments": 2,
        "hidden_share": pytest.approx(2 / 9),
        "reply_rate": 0.5,
        "median_minutes_to_first_reply": 60.0,
    }
    assert (rows[2]["answered_comments"], rows[2]["median_minutes_to_first_reply"]) == (1, 120.0)
    assert (rows[3]["answered_comments"], rows[3]["reply_rate"]) == (0, 0.0)


def test_ad_engagement_without_a_business_account_has_only_ads(mixed):
    engagement = db.ad_engagement(mixed, CommentFilters("A1"))

    assert engagement["ad_id"].tolist() == ["ad1", "ad2", "ad9"]
    assert set(engagement["source"]) == {"ad"}


# --- comment_volume_by_video ----------------------------------------------------------------


def test_comment_volume_by_video_without_filters_counts_everything(mixed):
    assert tuples(db.comment_volume_by_video(mixed, "B1")) == [
        ("item-ad2", "Summer video", "ad", 4),
        ("v-organic", "Behind the scenes", "organic", 3),
        ("item-ad2", "Summer video", "organic", 2),
    ]


def test_comment_volume_by_video_counts_only_the_comments_the_filters_match(mixed):
    top_level = CommentFilters("A1", business_id="B1", comment_type="COMMENT")
    # Up to 03-02 in Tokyo: o3 and o5 (03-02 in UTC, 03-03 in Tokyo) and ad2's are later.
    until_march_2 = CommentFilters("A1", business_id="B1", date_to=date(2025, 3, 2))

    assert tuples(db.comment_volume_by_video(mixed, "B1", top_level)) == [
        ("item-ad2", "Summer video", "ad", 2),
        ("v-organic", "Behind the scenes", "organic", 2),
        ("item-ad2", "Summer video", "organic", 1),
    ]
    assert tuples(db.comment_volume_by_video(mixed, "B1", until_march_2)) == [
        ("item-ad2", "Summer video", "organic", 2),
    ]
    assert tuples(db.comment_volume_by_video(mixed, "B1", CommentFilters("A1"))) == [
        ("item-ad2", "Summer video", "ad", 4),
    ]
    videos = CommentFilters("A1", business_id="B1", video_ids=["v-organic"])
    assert tuples(db.comment_volume_by_video(mixed, "B1", videos)) == [
        ("v-organic", "Behind the scenes", "organic", 3),
    ]


# --- a business account without an ad account ----------------------------------------------


def test_no_ad_account_means_utc(mixed):
    assert db.advertiser_timezone(mixed, "") == "UTC"


def test_organic_only_comments_and_counts(mixed):
    assert matching(mixed, ORGANIC_ONLY) == ORGANIC_IDS
    assert db.comments_count(mixed, ORGANIC_ONLY) == 5
    # Days in UTC: o3 and o5 are on 03-02 there (03-03 in Tokyo).
    until_march_2 = CommentFilters("", business_id="B1", date_to=date(2025, 3, 2))
    assert matching(mixed, until_march_2) == ["o1", "o2", "o3", "o5"]
    assert db.comments_count(mixed, CommentFilters("")) == 0


def test_organic_only_summaries(mixed):
    volume = db.comment_volume_over_time(mixed, ORGANIC_ONLY)

    assert tuples(db.comment_volume_by_ad(mixed, ORGANIC_ONLY)) == [
        (None, "Organic posts", "organic", 5)
    ]
    assert volume["bucket"].tolist() == list(pd.date_range("2025-03-02", "2025-03-05"))
    assert days(volume) == {"All comments": [4, 0, 0, 1]}
    assert days(db.comment_volume_over_time(mixed, ORGANIC_ONLY, by_source=True)) == {
        "Organic comments": [4, 0, 0, 1]
    }
    assert records(db.ad_engagement(mixed, ORGANIC_ONLY)) == [ORGANIC_ENGAGEMENT]
    assert tuples(db.comment_volume_by_video(mixed, "B1", ORGANIC_ONLY)) == [
        ("v-organic", "Behind the scenes", "organic", 3),
        ("item-ad2", "Summer video", "organic", 2),
    ]
