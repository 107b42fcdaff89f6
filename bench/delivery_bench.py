"""Comments beside delivery at scale: Insights' "Comments and delivery" queries on a million
comments and two years of daily delivery for 1,000 ads (730,000 ad days).

The synthetic ad account: 1,000 ads, each delivering every day of two years (2024-01-01 to
2024-12-30, then on to 2025-12-29), 1,000,000 comments and replies over those days with a long
tail (a few ads draw most), all classified (12% questions, 6% complaints, sentiment from -1 to
1, a fifth of it negative). A day's impressions follow its comments (about one comment per
1,000 impressions, plus a quiet-day baseline), as the sandbox's do.

Measured: storing the 730,000 ad days (one set-based statement, as a sync stores a window),
then the section's query (per ad, per day and per creative at once), cold (the first query
after the database is opened again, as in a new process) and warm, for the whole account
over the two years, for one ad over 90 days, and for the account's complaints of 30 days.
Then the whole Insights page on that database, each of its tabs cold and warm, and the first
visit to a new server (insights_page).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench._harness import BenchResult, median_seconds, timer
from desk import store as db
from desk.config import Settings
from desk.moderation.classify import CLASSIFIER_VERSION
from desk.moderation.terms import TERMS_VERSION

NAME = "delivery"
TARGET_MS = 1000
PAGE_TARGET_SECONDS = 1.0
N_ADS = 1000
N_COMMENTS = 1_000_000
DAYS = 730
FIRST_DAY = date(2024, 1, 1)
ADVERTISER_ID = "7000000000000000042"
TIMEZONE = "Europe/Berlin"
VIDEOS = 700  # some videos are shown by several ads


def _ids(prefix: int, values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(prefix + values), pa.string())


def synthetic_ads() -> pa.Table:
    ad = np.arange(N_ADS)
    return pa.table({
        "ad_id": _ids(1_800_000_000_100_000, ad),
        "advertiser_id": pa.array([ADVERTISER_ID] * N_ADS),
        "adgroup_id": _ids(1_800_000_000_010_000, ad // 10),
        "campaign_id": _ids(1_800_000_000_000_000, ad // 40),
        "ad_name": pc.binary_join_element_wise("Ad ", pc.cast(pa.array(ad), pa.string()), ""),
        "tiktok_item_id": _ids(7_300_000_000_000_000_000, ad % VIDEOS),
    })


def synthetic_comments(rng: np.random.Generator, ads: pa.Table
                       ) -> tuple[pa.Table, np.ndarray, pa.Table]:
    """The comments, classified, and how many each ad drew each day (ads x days)."""
    weights = 1.0 / np.arange(1, N_ADS + 1) ** 1.05
    ad_index = rng.choice(N_ADS, size=N_COMMENTS, p=weights / weights.sum())
    day = rng.integers(0, DAYS, N_COMMENTS)
    second = (rng.normal(19 * 3600, 4 * 3600, N_COMMENTS) % 86_400).astype(np.int64)
    moment = (np.datetime64(FIRST_DAY, "s") + (day * 86_400 + second - 3600)
              .astype("timedelta64[s]"))  # 19:00 Berlin, about
    per_day = np.bincount(ad_index * DAYS + day, minlength=N_ADS * DAYS).reshape(N_ADS, DAYS)
    roll = rng.random(N_COMMENTS)
    labels = pa.array(np.where(roll < 0.12, "question", np.where(roll < 0.18, "complaint",
                                                                     "praise")))
    sentiment = np.clip(rng.normal(0.15, 0.45, N_COMMENTS), -1, 1).astype(np.float32)
    is_reply = rng.random(N_COMMENTS) < 0.12
    table = pa.table({
        "comment_id": _ids(7_400_000_000_000_000_000, np.arange(N_COMMENTS)),
        "advertiser_id": pa.array([ADVERTISER_ID] * N_COMMENTS),
        "source": pa.array(["ad"] * N_COMMENTS),
        "content": pa.array(["synthetic comment"] * N_COMMENTS),
        "comment_type": pa.array(np.where(is_reply, "REPLY", "COMMENT")),
        "can_delete": pa.array(is_reply & (rng.random(N_COMMENTS) < 0.4)),
        "comment_status": pa.array(["PUBLIC"] * N_COMMENTS),
        "create_time": pa.array(moment).cast(pa.timestamp("us", tz="UTC")),
        "ad_id": ads["ad_id"].take(pa.array(ad_index)),
        "adgroup_id": ads["adgroup_id"].take(pa.array(ad_index)),
        "tiktok_item_id": ads["tiktok_item_id"].take(pa.array(ad_index)),
        "likes": pa.array(np.zeros(N_COMMENTS, dtype=np.int32)),
        "replies": pa.array(np.zeros(N_COMMENTS, dtype=np.int32)),
    })
    verdicts = pa.table({
        "comment_id": table["comment_id"],
        "labels": pa.ListArray.from_arrays(pa.array(np.arange(N_COMMENTS + 1, dtype=np.int32)),
                                           labels),
        "sentiment": pa.array(sentiment),
    })
    return table, per_day, verdicts


def synthetic_delivery(rng: np.random.Generator, ads: pa.Table, per_day: np.ndarray
                       ) -> pa.Table:
    """Every ad's every day: impressions following its comments, spend, clicks, plays, likes."""
    base = rng.uniform(0.5, 3.0, (N_ADS, 1))
    rate = rng.uniform(0.4, 2.0, (N_ADS, 1))
    impressions = np.maximum(1, ((per_day + base) * 1000 / rate
                                 * rng.uniform(0.85, 1.15, per_day.shape)).round()).astype(np.int64)
    cpm = rng.uniform(4, 12, (N_ADS, 1))
    spend = (impressions / 1000 * cpm).round(2)
    days = np.datetime64(FIRST_DAY, "D") + np.arange(DAYS).astype("timedelta64[D]")
    flat = impressions.reshape(-1)
    return pa.table({
        "ad_id": ads["ad_id"].take(pa.array(np.repeat(np.arange(N_ADS), DAYS))),
        "stat_day": pa.array(np.tile(days, N_ADS)),
        "spend": pa.array(spend.reshape(-1)),
        "impressions": pa.array(flat),
        "clicks": pa.array((flat * 0.01).round().astype(np.int64)),
        "video_play_actions": pa.array((flat * 0.7).round().astype(np.int64)),
        "likes": pa.array((flat * 0.005).round().astype(np.int64)),
    })


def insights_queries(cur: db.Cursor, filters: db.CommentFilters) -> int:
    """What the section runs (per ad, per day and per creative, in one query); returns the
    ads shown."""
    return len(db.delivery_rates(cur, filters).by_ad)


def build_database(path: Path, add: Callable[[str, float, str], None] | None = None
                   ) -> pa.Table:
    """The synthetic account at `path`: its ads, a million classified comments and two years
    of delivery. `add(metric, value, unit)` receives the storing times. Returns the ads."""
    rng = np.random.default_rng(20240101)
    last_day = FIRST_DAY + timedelta(days=DAYS - 1)
    store = db.Store.open(path, Settings().db_memory)
    cur = store.cursor()
    try:
        seen = datetime(2026, 1, 1, tzinfo=UTC)
        db.upsert_advertisers(cur, pa.table({
            "advertiser_id": [ADVERTISER_ID], "name": ["Bench Outfitters"],
            "timezone": [TIMEZONE], "currency": ["EUR"]}))
        ads = synthetic_ads()
        db.upsert_ads(cur, ads, seen)
        comments, per_day, verdicts = synthetic_comments(rng, ads)
        db.upsert_comments(cur, comments, seen)
        with db.transaction(cur):
            cur.register("verdicts", verdicts)
            # as the app leaves them once it has classified and tokenised every comment, so
            # that no background backfill runs while the pages are timed
            cur.execute("UPDATE comments SET labels = v.labels, sentiment = v.sentiment, "
                        "language = 'en', classified_with = ?, "
                        "terms = ['synthetic', 'comment'], terms_with = ? FROM verdicts v "
                        "WHERE comments.comment_id = v.comment_id",
                        [CLASSIFIER_VERSION, TERMS_VERSION])
            cur.unregister("verdicts")
        del comments, verdicts
        delivery = synthetic_delivery(rng, ads, per_day)
        with timer() as t:
            written = db.store_delivery(cur, ADVERTISER_ID, FIRST_DAY, last_day, delivery, seen)
        if add:
            add(f"store {written:,} ad days (one statement)", t.seconds, "s")
        window_start = last_day - timedelta(days=29)
        with timer() as t:
            db.store_delivery(cur, ADVERTISER_ID, window_start, last_day,
                              delivery.filter(pc.greater_equal(
                                  delivery["stat_day"], pa.scalar(window_start, pa.date32()))),
                              seen)
        if add:
            add("  store a 30-day window again (30,000 ad days, a sync's window)",
                t.seconds * 1000, "ms")
    finally:
        cur.close()
        store.close()
    return ads


def run() -> list[BenchResult]:
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None) -> None:
        results.append(BenchResult(NAME, metric, value, unit, target))

    last_day = FIRST_DAY + timedelta(days=DAYS - 1)
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        path = Path(tmp) / "bench.duckdb"
        ads = build_database(path, add)
        busiest = str(ads["ad_id"][0])
        cases = {
            "the whole account, 2 years": db.CommentFilters(ADVERTISER_ID),
            "one ad, 90 days": db.CommentFilters(
                ADVERTISER_ID, ad_ids=[busiest], date_from=last_day - timedelta(days=89),
                date_to=last_day),
            "the whole account, last 30 days, complaints": db.CommentFilters(
                ADVERTISER_ID, date_from=last_day - timedelta(days=29), date_to=last_day,
                labels=["complaint"]),
        }

        for name, filters in cases.items():
            store = db.Store.open(path, Settings().db_memory)  # cold: a new process's queries
            cur = store.cursor()
            with timer() as t:
                shown = insights_queries(cur, filters)
            add(f"Insights' delivery queries, {name} ({shown:,} ads): cold",
                t.seconds * 1000, "ms", TARGET_MS)
            warm = median_seconds(lambda f=filters, c=cur: insights_queries(c, f), repeat=5)
            add("  warm (median of 5)", warm * 1000, "ms", TARGET_MS)
            cur.close()
            store.close()
        add("database file size", path.stat().st_size / 2**20, "MiB")
        results.extend(insights_page(Path(tmp)))
    return results


INSIGHTS_TABS = ("Overview", "Sentiment", "Response times", "Top terms", "Delivery",
                 "Learned from the team", "Weekly summary")
"""pages/4_Insights.py's tabs: one runs per visit (Overview unless a link names another)."""


def insights_page(tmp: Path) -> list[BenchResult]:
    """The Insights page on this database, the ad account chosen, one tab at a time (a visit
    runs only the open one): an AppTest run with st.cache_data cleared (the first visit after
    a sync), a warm rerun; then a freshly started server (a new process: DuckDB's buffers are
    empty too): its first page (Insights as it opens, which also pays for the imports and
    opening the database), then the first visits to the Delivery and Response times tabs,
    whose queries have not run yet."""
    import streamlit as st

    from bench import app_bench

    results: list[BenchResult] = []
    env = app_bench.app_env(tmp)  # its DESK_DB is tmp/bench.duckdb
    with app_bench.environment(env):
        try:
            for tab in INSIGHTS_TABS:
                cold, warm = app_bench.page_times(app_bench.PAGES["Insights"], ADVERTISER_ID,
                                                  {"tab": tab})
                results.append(BenchResult(NAME, f"Insights, {tab} tab: AppTest run, cold "
                                           "cache (median of 5)", cold, "s",
                                           PAGE_TARGET_SECONDS))
                results.append(BenchResult(NAME, "  rerun, warm cache", warm, "s"))
        finally:
            st.cache_data.clear()
            st.cache_resource.clear()  # closes the database: the server needs the file
    with app_bench.serve(env) as (port, _pid):
        for tab in ("Overview", "Delivery", "Response times"):
            first = app_bench.visit(port, "Insights", f"advertiser={ADVERTISER_ID}&tab={tab}")
            if first.errors:
                raise RuntimeError(f"Insights failed: {first.errors[0]}")
            if tab == "Overview":  # the server's first page: imports, opening the database
                results.append(BenchResult(NAME, "Insights, Overview tab: a new server's first "
                                           "page, over its WebSocket", first.seconds, "s"))
            else:  # the process is warm, the tab's queries never ran
                results.append(BenchResult(NAME, f"Insights, {tab} tab: then its first visit",
                                           first.seconds, "s", PAGE_TARGET_SECONDS))
    return results
