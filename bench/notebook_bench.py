"""The SQL notebook at a million comments: what a cell costs, checks and time limit included.

Uses the store benchmark's synthetic account (400 ads, 1M comments over 120 days). Every
figure goes through `Notebook.run`, i.e. parse check, plan check, a fresh read-only
transaction and the Arrow fetch; the same GROUP BY straight on the store's table shows what
the notebook adds.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench._harness import BenchResult, median_seconds, timer
from bench.store_bench import ADVERTISER_ID, TIMEZONE, synthetic_ads, synthetic_comments
from desk import store as db
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


THREE_CELLS = (
    BY_AD_AND_DAY,
    "SELECT comment_status, comment_type, count(*) AS comments FROM comments GROUP BY ALL",
    "SELECT ad_name, count(*) AS comments FROM comments GROUP BY ad_name "
    "ORDER BY comments DESC LIMIT 10",
)


def notebook_page_seconds(tmp: Path) -> float:
    """Median seconds of the Notebook page's AppTest run that runs three cells (Run all)."""
    import statistics

    import streamlit
    from streamlit.testing.v1 import AppTest

    from bench import app_bench

    app_bench.build_database(tmp / "app.duckdb")
    with app_bench.environment(app_bench.app_env(tmp)):
        try:
            at = AppTest.from_file(str(app_bench.ROOT / "Home.py"), default_timeout=300)
            at.switch_page("pages/5_Notebook.py")
            at.run()
            while len(at.text_area) < len(THREE_CELLS):
                at.button(key="notebook_add").click().run()
            for area, sql in zip(at.text_area, THREE_CELLS, strict=True):
                area.set_value(sql)
            at.run()

            def once() -> float:
                with timer() as t:
                    at.button(key="notebook_run_all").click().run()
                if at.exception or at.error:
                    raise RuntimeError(f"the notebook page failed: {(at.exception or at.error)[0]}")
                return t.seconds

            once()
            return statistics.median(once() for _ in range(5))
        finally:
            streamlit.cache_data.clear()
            streamlit.cache_resource.clear()


def run() -> list[BenchResult]:
    rng = np.random.default_rng(20250201)
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None) -> None:
        results.append(BenchResult(NAME, metric, value, unit, target))

    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        store = db.Store.open(Path(tmp) / "bench.duckdb")
        cur = store.cursor()
        seen = datetime(2025, 6, 1, tzinfo=UTC)
        db.upsert_advertisers(
            cur,
            pa.table({"advertiser_id": [ADVERTISER_ID], "name": ["Bench"], "timezone": [TIMEZONE]}),
        )
        ads, launch = synthetic_ads(rng)
        db.upsert_ads(cur, ads, seen)
        comments = synthetic_comments(rng, ads, launch)
        with timer() as t:
            db.upsert_comments(cur, comments, seen)
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
        with timer() as t:
            csv = everything.csv_bytes()
        add("  as CSV (desk.export)", t.seconds, "s")
        add("  CSV size", len(csv) / 2**20, "MiB")
        del everything, parquet, csv

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
        add("Notebook page AppTest run, three cells on 1M comments",
            notebook_page_seconds(Path(tmp)), "s", 1.5)
    return results
