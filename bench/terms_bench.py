"""Top terms: how fast comments are tokenised, how long the background fill of a million
stored comments takes, and `top_terms` for one ad over 90 days on a million comments.

- Tokenising: `tokenise` over 20,000 different comments in the sandbox's language mix
  (bench.classifier_bench.corpus), in the languages the classifier gives them (found before
  the clock starts); then Chinese, Japanese and Thai alone (the evaluation set's comments in
  those languages, 10,000 of each), which go through the dictionary segmenters.
- Filling: the million comments of bench/store_bench.py's synthetic account (400 ads, 120
  days, a long tail), stored as classified in English before the tokeniser came, have their
  terms read and saved by `classify_backlog`, a batch at a time, as the app does in the
  background after an upgrade.
- Query: `top_terms` over the account's last 90 days for the ad with the most comments in
  them, for the 20th, and for the whole account; cold (the first query after the database
  is opened again) and warm (the median of 7).
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench._harness import BenchResult, median_seconds, timer
from bench.classifier_bench import EVAL_SET, corpus
from bench.store_bench import (
    ADVERTISER_ID,
    N_ADS,
    TIMEZONE,
    synthetic_ads,
    synthetic_comments,
)
from desk import store as db
from desk.config import Settings
from desk.moderation.classify import CLASSIFIER_VERSION, Classifier
from desk.moderation.classifying import classify_backlog
from desk.moderation.terms import tokenise

NAME = "terms"
TARGET_MS = 500
LAST_DAY = date(2025, 5, 31)  # the synthetic account's last day (120 days from 1 February)
PERIOD = (LAST_DAY - timedelta(days=89), LAST_DAY)


def tokenising(add) -> None:  # noqa: ANN001
    texts = corpus(20_000)
    languages = Classifier([]).classify_many(texts)["language"].tolist()
    tokenise(texts[:500], languages[:500])  # loads the dictionaries
    seconds = median_seconds(lambda: tokenise(texts, languages), repeat=3, warmup=0)
    add("tokenise 20k comments, the sandbox's language mix", len(texts) / seconds, "comments/s")
    rows = [json.loads(line) for line in EVAL_SET.read_text("utf-8").splitlines() if line]
    for language, name in (("zh", "Chinese (rjieba)"), ("ja", "Japanese (Sudachi)"),
                           ("th", "Thai (pythainlp newmm)")):
        own = [row["text"] for row in rows if row["language"] == language]
        batch = [f"{own[i % len(own)]} {i}" for i in range(10_000)]
        seconds = median_seconds(lambda batch=batch, language=language: tokenise(
            batch, [language] * len(batch)), repeat=3, warmup=1)
        add(f"  {name}, 10k comments", len(batch) / seconds, "comments/s")


def run() -> list[BenchResult]:
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None,
            direction: str = "<=") -> None:
        results.append(BenchResult(NAME, metric, value, unit, target, direction))  # type: ignore[arg-type]

    tokenising(add)

    rng = np.random.default_rng(20250201)
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        path = Path(tmp) / "bench.duckdb"
        store = db.Store.open(path, Settings().db_memory)
        cur = store.cursor()
        seen = datetime(2025, 6, 1, tzinfo=UTC)
        db.upsert_advertisers(cur, pa.table({
            "advertiser_id": [ADVERTISER_ID], "name": ["Bench Outfitters"],
            "timezone": [TIMEZONE], "currency": ["USD"]}))
        ads, launch = synthetic_ads(rng)
        comments = synthetic_comments(rng, ads, launch)
        db.upsert_ads(cur, ads, seen)
        db.upsert_comments(cur, comments, seen)
        count = comments.num_rows
        del comments
        cur.execute("UPDATE comments SET language = 'en', sentiment = 0, labels = [], "
                    "classified_with = ?", [CLASSIFIER_VERSION])

        cpu = time.process_time()
        with timer() as t:
            filled = classify_backlog(cur)
        add(f"fill the terms of {filled:,} stored comments (background)", t.seconds, "s")
        add("  rate", count / t.seconds, "comments/s")
        add("  CPU time (the rest is waiting: the machine's two cores are shared)",
            time.process_time() - cpu, "s")

        in_period = db.comment_volume_by_ad(cur, db.CommentFilters(
            ADVERTISER_ID, date_from=PERIOD[0], date_to=PERIOD[1]), top_n=N_ADS)
        busiest, middling = (str(in_period["ad_id"].iloc[i]) for i in (0, 19))
        queries = {
            "the most commented ad": db.CommentFilters(
                ADVERTISER_ID, ad_ids=[busiest], date_from=PERIOD[0], date_to=PERIOD[1]),
            "the 20th most commented ad": db.CommentFilters(
                ADVERTISER_ID, ad_ids=[middling], date_from=PERIOD[0], date_to=PERIOD[1]),
            "the whole account": db.CommentFilters(
                ADVERTISER_ID, date_from=PERIOD[0], date_to=PERIOD[1]),
        }
        sizes = {name: db.comments_count(cur, filters) for name, filters in queries.items()}
        cur.close()
        store.close()

        store = db.Store.open(path, Settings().db_memory)  # cold: a new process's first query
        cur = store.cursor()
        for name, filters in queries.items():
            target = TARGET_MS if name.endswith(" ad") else None
            with timer() as t:
                top = db.top_terms(cur, filters)
            add(f"top_terms, {name}, 90 days ({sizes[name]:,} comments): cold",
                t.seconds * 1000, "ms", target)
            warm = median_seconds(lambda filters=filters: db.top_terms(cur, filters), repeat=7)
            add("  warm (median of 7)", warm * 1000, "ms", target)
            add(f"  top term: {top['term'].iloc[0]}", float(top["comments"].iloc[0]), "comments")
        cur.close()
        store.close()
    return results
