"""The SQL notebook at a million comments: what a cell costs, checks and time limit included.

Uses the store benchmark's synthetic account (400 ads, 1M comments over 120 days). Every
figure goes through `Notebook.run`, i.e. parse check, plan check, a fresh read-only
transaction and the Arrow fetch; the same GROUP BY straight on the store's table shows what
the notebook adds.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench._harness import BenchResult, median_seconds, timer
from bench.store_bench import ADVERTISER_ID, TIMEZONE, synthetic_ads, synthetic_comments
from desk import store as st
from desk.notebook import STARTERS, Notebook

NAME = "notebook"
BY_AD_AND_DAY = """
    SELECT ad_id, CAST(create_time AS DATE) AS day, count(*) AS comments
    FROM comments
    GROUP BY ad_id, day
"""
# The same with date_trunc, which on a TIMESTAMPTZ goes through ICU's calendar row by row.
BY_AD_AND_DAY_TRUNC = BY_AD_AND_DAY.replace(
    "CAST(create_time AS DATE)", "date_trunc('day', create_time)"
)


def run() -> list[BenchResult]:
    rng = np.random.default_rng(20250201)
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None) -> None:
        results.append(BenchResult(NAME, metric, value, unit, target))

    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        store = st.Store.open(Path(tmp) / "bench.duckdb")
        cur = store.cursor()
        seen = datetime(2025, 6, 1, tzinfo=UTC)
        st.upsert_advertisers(
            cur,
            pa.table({"advertiser_id": [ADVERTISER_ID], "name": ["Bench"], "timezone": [TIMEZONE]}),
        )
        ads, launch = synthetic_ads(rng)
        st.upsert_ads(cur, ads, seen)
        comments = synthetic_comments(rng, ads, launch)
        with timer() as t:
            st.upsert_comments(cur, comments, seen)
        add("load 1M synthetic comments (setup)", t.seconds, "s")
        del comments

        nb = Notebook(store, timeout=30.0)

        def timed(metric: str, sql: str, target_ms: float | None = None) -> None:
            add(metric, median_seconds(lambda: nb.run(sql), repeat=7) * 1000, "ms", target_ms)

        groups = nb.run(BY_AD_AND_DAY).total_rows
        timed(f"GROUP BY ad and day over the comments view ({groups:,} rows)", BY_AD_AND_DAY, 200)
        direct = median_seconds(lambda: cur.sql(BY_AD_AND_DAY).to_arrow_table(), repeat=7)
        add("  the same straight on main.comments (no notebook)", direct * 1000, "ms")
        checks = median_seconds(lambda: nb.check(BY_AD_AND_DAY), repeat=7)
        add("  the checks alone (parse, plan, transaction)", checks * 1000, "ms")
        timed("  spelled with date_trunc('day', create_time)", BY_AD_AND_DAY_TRUNC)

        timed("SELECT count(*) FROM comments", "SELECT count(*) FROM comments")
        timed("SHOW TABLES", "SHOW TABLES")
        for name, cells in STARTERS.items():
            for number, cell in enumerate(cells, start=1):
                suffix = f" (cell {number})" if len(cells) > 1 else ""
                timed(f"starter: {name}{suffix}", cell.sql)

        capped = Notebook(store, timeout=60.0)
        with timer() as t:
            everything = capped.run("SELECT * FROM comments")
        add(
            f"SELECT * FROM comments: fetch {everything.total_rows:,} rows for download",
            t.seconds,
            "s",
        )
        with timer() as t:
            parquet = everything.parquet_bytes()
        add("  as Parquet (desk.export)", t.seconds, "s")
        add("  Parquet size", len(parquet) / 2**20, "MiB")
        # CSV through pandas is far slower: measured on a tenth and scaled, to keep this short.
        tenth = replace(everything, arrow=everything.arrow.slice(0, everything.total_rows // 10))
        with timer() as t:
            csv = tenth.csv_bytes()
        add("  as CSV (desk.export), scaled from a tenth", t.seconds * 10, "s")
        add("  CSV size, scaled from a tenth", len(csv) * 10 / 2**20, "MiB")
        del everything, tenth, parquet, csv

        short = Notebook(store, timeout=0.5)
        with timer() as t:
            try:
                short.run("SELECT count(*) FROM comments a, comments b")
            except Exception as exc:  # the NotebookTimeout we expect
                stopped = type(exc).__name__
            else:
                stopped = "finished"
        add(f"runaway cross join, 0.5 s limit: {stopped} after", t.seconds, "s", 1.0)
        store.close()
    return results
