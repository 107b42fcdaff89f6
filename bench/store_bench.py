"""The analytics store at a million comments: bulk upserts and the queries the pages run.

The synthetic account has 400 ads in 40 ad groups, comments over 120 days with a long tail
(a few ads get most of them), 12% replies of which about 45% are the brand's, 3% hidden.
Rows arrive in the order a sync stores them: ad group by ad group, oldest first.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench._harness import BenchResult, median_seconds, peak_rss_mb, timer
from desk import store as db
from desk.config import Settings

NAME = "store"
N_COMMENTS = 1_000_000
N_ADS = 400
ADS_PER_ADGROUP = 10
ADGROUPS_PER_CAMPAIGN = 4
DAYS = 120
REPLY_SHARE = 0.12
BRAND_REPLY_SHARE = 0.45
HIDDEN_SHARE = 0.03
ADVERTISER_ID = "7000000000000000001"
TIMEZONE = "America/New_York"
FIRST_DAY = datetime(2025, 2, 1, tzinfo=UTC)

_OPENERS = (
    "love",
    "need",
    "where can I buy",
    "how much is",
    "obsessed with",
    "not sure about",
    "just ordered",
    "does anyone have",
    "my sister loves",
    "is it worth getting",
    "can't stop watching",
    "still waiting for",
)
_SUBJECTS = (
    "this",
    "the jacket",
    "these sneakers",
    "the blue one",
    "the bundle",
    "the new colour",
    "your app",
    "the limited edition",
    "the XL size",
    "that song",
)
_TAILS = (
    "",
    "!",
    "!!",
    "?",
    " 😍",
    " 🔥🔥",
    " honestly",
    " lol",
    " any discount code?",
    " the price is too high",
    " shipping to Canada?",
    " need it now",
)


def synthetic_ads(rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    """The ads (as ad/get gives them) and each ad's launch day offset."""
    ad = np.arange(N_ADS)
    adgroup = ad // ADS_PER_ADGROUP
    campaign = adgroup // ADGROUPS_PER_CAMPAIGN
    launch = rng.integers(0, DAYS - 14, N_ADS)

    def ids(prefix: int, values: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(prefix + values), pa.string())

    def names(prefix: str, values: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pc.cast(pa.array(values), pa.string()), "")

    created = pa.array(
        (np.datetime64(FIRST_DAY.replace(tzinfo=None), "us") + launch * np.timedelta64(1, "D")),
    ).cast(pa.timestamp("us", tz="UTC"))
    ads = pa.table(
        {
            "ad_id": ids(1_800_000_000_100_000, ad),
            "advertiser_id": pa.array([ADVERTISER_ID] * N_ADS),
            "campaign_id": ids(1_800_000_000_000_000, campaign),
            "campaign_name": names("Spring campaign ", campaign),
            "adgroup_id": ids(1_800_000_000_010_000, adgroup),
            "adgroup_name": names("Ad group ", adgroup),
            "ad_name": names("Ad ", ad),
            "tiktok_item_id": ids(7_300_000_000_000_000_000, ad),
            "video_id": names("v10033g50000", ad),
            "identity_type": pa.array(["TT_USER"] * N_ADS),
            "identity_id": names("identity-", campaign),
            "ad_text": names("Shop the new drop, look ", ad),
            "operation_status": pa.array(np.where(rng.random(N_ADS) < 0.8, "ENABLE", "DISABLE")),
            "secondary_status": pa.array(["AD_STATUS_DELIVERY_OK"] * N_ADS),
            "create_time": created,
            "modify_time": created,
        }
    )
    return ads, launch


def synthetic_comments(rng: np.random.Generator, ads: pa.Table, launch: np.ndarray) -> pa.Table:
    """N_COMMENTS comments and replies, columns as the sync stores them.

    Everything is decided on numpy arrays first and put in storage order, so that each Arrow
    column is built once, already in place (the peak memory is about the table itself).
    """
    n_reply = int(N_COMMENTS * REPLY_SHARE)
    n_top = N_COMMENTS - n_reply

    # Top-level comments: a long tail over ads; days after each ad's launch; evening peak.
    weights = 1.0 / np.arange(1, N_ADS + 1) ** 1.1
    top_ad = rng.choice(N_ADS, size=n_top, p=weights / weights.sum())
    day = np.minimum(launch[top_ad] + rng.exponential(12.0, n_top).astype(np.int64), DAYS - 1)
    second = (rng.normal(20 * 3600, 4 * 3600, n_top) % 86_400).astype(np.int64)
    top_time = day * 86_400 + second

    # Replies: to a random top-level comment, minutes to hours later.
    parent = rng.integers(0, n_top, n_reply)
    reply_time = top_time[parent] + rng.exponential(3 * 3600, n_reply).astype(np.int64) + 60
    ad_index = np.concatenate([top_ad, top_ad[parent]])
    seconds = np.concatenate([top_time, reply_time])
    is_reply = np.arange(N_COMMENTS) >= n_top
    brand = is_reply & (rng.random(N_COMMENTS) < BRAND_REPLY_SHARE)

    # Comment IDs grow with time, like TikTok's.
    serial = np.empty(N_COMMENTS, dtype=np.int64)
    serial[np.argsort(seconds, kind="stable")] = np.arange(N_COMMENTS)
    comment_id = 7_400_000_000_000_000_000 + serial
    original_id = np.concatenate([np.zeros(n_top, dtype=np.int64), comment_id[parent]])

    # The order a sync stores them in: ad group by ad group, oldest first.
    order = np.lexsort((seconds, ad_index // ADS_PER_ADGROUP))
    ad_index, seconds, is_reply, brand = (
        ad_index[order],
        seconds[order],
        is_reply[order],
        brand[order],
    )
    comment_id, original_id = comment_id[order], original_id[order]
    user = rng.integers(0, 250_000, N_COMMENTS)

    def text(values: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(values), pa.string())

    def per_ad(column: str) -> pa.Array:
        return ads[column].take(pa.array(ad_index))

    def pick(options: tuple[str, ...]) -> pa.Array:
        return pa.array(options).take(pa.array(rng.integers(0, len(options), N_COMMENTS)))

    def flags(share: float) -> pa.Array:
        return pa.array(rng.random(N_COMMENTS) < share)

    user_text = text(user)
    video = per_ad("video_id")
    return pa.table(
        {
            "comment_id": text(comment_id),
            "advertiser_id": pa.array([ADVERTISER_ID] * N_COMMENTS),
            "app": pa.array(["TIKTOK"] * N_COMMENTS),
            "content": pc.binary_join_element_wise(
                pick(_OPENERS), " ", pick(_SUBJECTS), pick(_TAILS), ""
            ),
            "likes": pa.array(rng.geometric(0.3, N_COMMENTS).astype(np.int32) - 1),
            "replies": pa.array(np.zeros(N_COMMENTS, dtype=np.int32)),
            "comment_type": pa.array(np.where(is_reply, "REPLY", "COMMENT")),
            "original_comment_id": pc.if_else(
                pa.array(is_reply), text(original_id), pa.scalar(None, pa.string())
            ),
            "comment_status": pa.array(
                np.where(rng.random(N_COMMENTS) < HIDDEN_SHARE, "HIDDEN", "PUBLIC")
            ),
            "hit_blockedword": flags(0.01),
            "ad_text": per_ad("ad_text"),
            "create_time": pa.array(
                np.datetime64(FIRST_DAY.replace(tzinfo=None), "s")
                + seconds.astype("timedelta64[s]")
            ).cast(pa.timestamp("us", tz="UTC")),
            "campaign_id": per_ad("campaign_id"),
            "campaign_name": per_ad("campaign_name"),
            "adgroup_id": per_ad("adgroup_id"),
            "adgroup_name": per_ad("adgroup_name"),
            "ad_id": per_ad("ad_id"),
            "ad_name": per_ad("ad_name"),
            "tiktok_item_id": per_ad("tiktok_item_id"),
            "identity_id": per_ad("identity_id"),
            "identity_type": per_ad("identity_type"),
            "is_pinned": flags(0.0),
            "can_delete": pa.array(brand),
            "is_auth_ttba": flags(1.0),
            "is_auth_comment_manage_scope": flags(1.0),
            "video_play_url": pc.binary_join_element_wise(
                "https://v16-webapp.tiktok.com/video/", video, ".mp4", ""
            ),
            "video_cover_url": pc.binary_join_element_wise(
                "https://p16-sign.tiktokcdn.com/cover/", video, ".jpeg", ""
            ),
            "user_avatar_url": pc.binary_join_element_wise(
                "https://p16-sign.tiktokcdn.com/avatar/", user_text, ".jpeg", ""
            ),
            "user_name": pc.if_else(
                pa.array(brand),
                "brand_official",
                pc.binary_join_element_wise("fan_", user_text, ""),
            ),
            "user_id": text(6_100_000_000_000_000_000 + user),
        }
    )


def run() -> list[BenchResult]:
    rng = np.random.default_rng(20250201)
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None) -> None:
        results.append(BenchResult(NAME, metric, value, unit, target))

    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        path = Path(tmp) / "bench.duckdb"
        store = db.Store.open(path, Settings().db_memory)  # as the app opens it by default
        cur = store.cursor()
        seen = datetime(2025, 6, 1, tzinfo=UTC)
        db.upsert_advertisers(
            cur,
            pa.table(
                {
                    "advertiser_id": [ADVERTISER_ID],
                    "name": ["Bench Outfitters"],
                    "timezone": [TIMEZONE],
                    "currency": ["USD"],
                }
            ),
        )

        with timer() as t:
            ads, launch = synthetic_ads(rng)
            comments = synthetic_comments(rng, ads, launch)
        add("generate 1M synthetic comments", t.seconds, "s")
        add("  as an Arrow table", comments.nbytes / 2**20, "MiB")
        add("  peak RSS after generating", peak_rss_mb(), "MiB")
        db.upsert_ads(cur, ads, seen)

        with timer() as t:
            db.upsert_comments(cur, comments, seen)
        add("upsert 1M comments into an empty table", t.seconds, "s", 3.0)
        add("  rate", N_COMMENTS / t.seconds, "rows/s")

        def more_likes(rows: pa.Table) -> pa.Table:
            likes = pc.add(rows["likes"], pa.scalar(1, pa.int32()))
            return rows.set_column(rows.schema.get_field_index("likes"), "likes", likes)

        # A re-sync meets stored comments in the order it stored them; scattered rows are the
        # worst case for DuckDB, which updates column by column, vector by vector.
        resync = more_likes(comments.slice(400_000, 100_000))
        with timer() as t:
            db.upsert_comments(cur, resync, seen + timedelta(hours=1))
        add("re-upsert 100k existing comments (a re-sync)", t.seconds, "s")
        scattered = more_likes(
            comments.take(pa.array(np.sort(rng.choice(N_COMMENTS, 100_000, replace=False))))
        )
        with timer() as t:
            db.upsert_comments(cur, scattered, seen + timedelta(hours=1))
        add("re-upsert 100k existing comments (scattered)", t.seconds, "s")

        # What one sync call costs once the table is big: new rows (a first sync) and rows
        # already stored (a re-sync), in batches of one API page up to 50 pages.
        def with_new_ids(rows: pa.Table, prefix: str) -> pa.Table:
            fresh = pc.binary_join_element_wise(prefix, rows["comment_id"], "")
            return rows.set_column(0, "comment_id", fresh)

        for size in (100, 1000, 5000):
            slices = [comments.slice(600_000 + i * size, size) for i in range(8)]
            for kind, batches in (
                ("new", iter([with_new_ids(b, f"n{size}-{i}-") for i, b in enumerate(slices)])),
                ("stored", iter(slices)),
            ):
                per_batch = median_seconds(
                    lambda batches=batches: db.upsert_comments(
                        cur, next(batches), seen + timedelta(hours=2)
                    ),
                    repeat=7,
                )
                add(f"upsert {size:,} {kind} rows into 1M", per_batch * 1000, "ms")
        del comments, resync, scattered

        ad_id = ads["ad_id"][19].as_py()  # a mid-popular ad
        launch_day = (FIRST_DAY + timedelta(days=int(launch[19]))).date()
        filtered = db.CommentFilters(
            ADVERTISER_ID,
            ad_ids=[ad_id],
            date_from=launch_day,
            date_to=launch_day + timedelta(days=30),
            search="discount",
        )
        everything = db.CommentFilters(ADVERTISER_ID)
        last_month = db.CommentFilters(
            ADVERTISER_ID, date_from=date(2025, 5, 1), date_to=date(2025, 5, 31)
        )

        def timed(metric: str, fn: Callable[[], object], target_ms: float | None = None) -> None:
            add(metric, median_seconds(fn, repeat=7) * 1000, "ms", target_ms)

        matches = db.comments_count(cur, filtered)
        timed(
            f"comments_page: ad + 30 days + search ({matches} match)",
            lambda: db.comments_page(cur, filtered, limit=50),
            150,
        )
        timed("comments_page: everything, newest 50", lambda: db.comments_page(cur, everything))
        timed(
            "comments_page: unanswered, most liked 50",
            lambda: db.unanswered_comments(cur, everything, order="most_liked"),
        )
        timed(
            "comments_page: page 100 (offset 4950)",
            lambda: db.comments_page(cur, everything, offset=4950),
        )
        timed("comments_count: ad + 30 days + search", lambda: db.comments_count(cur, filtered))
        timed("comments_count: everything", lambda: db.comments_count(cur, everything))
        shown = db.comments_page(cur, everything)["comment_id"].tolist()
        timed("replies_for 50 comments", lambda: db.replies_for(cur, shown))
        timed(
            "comment_volume_by_ad: everything",
            lambda: db.comment_volume_by_ad(cur, everything),
            150,
        )
        timed(
            "comment_volume_over_time: by day",
            lambda: db.comment_volume_over_time(cur, everything, grain="day"),
        )
        timed(
            "comment_volume_over_time: by hour, 5 ads, 1 month",
            lambda: db.comment_volume_over_time(
                cur, last_month, grain="hour", ad_ids=ads["ad_id"][:5].to_pylist()
            ),
        )
        timed("ads_with_counts", lambda: db.ads_with_counts(cur, ADVERTISER_ID))
        timed("ad_engagement: everything", lambda: db.ad_engagement(cur, everything))

        in_use = cur.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()
        add("DuckDB memory in use after the queries", in_use[0][0] / 2**20, "MiB")
        store.close()
        add("database file size", path.stat().st_size / 2**20, "MiB")
    # Most of this is the 1M-row input held in memory at once; the 1 GB target is for a sync,
    # which streams pages (bench/sync_bench.py measures it in its own process).
    add("peak RSS of the process (input held whole)", peak_rss_mb(), "MiB")
    return results
