"""The SQL notebook engine, specified against a small hand-built account.

Advertiser A1 (Acme) is in Asia/Tokyo (UTC+9), A2 (Beta) in America/New_York (UTC-5 in
March 2025). Ads: ad1 "Spring promo" (campaign k1 "Spring"), ad2 "Summer sale" (k2 "Summer"),
both A1; ad3 "NY launch" (k3 "Launch"), A2. Brand replies have can_delete = true.

    id  ad   type   parent  UTC time     local time   status  likes  content
    c1  ad1  COMMENT        03-01 10:00  03-01 19:00  PUBLIC  5      Do these run small?
    r1  ad1  REPLY  c1      03-01 10:30  03-01 19:30  PUBLIC  0      They run true to size! (B)
    r2  ad1  REPLY  c1      03-01 11:00  03-01 20:00  PUBLIC  0      same, small feet here
    c2  ad1  COMMENT        03-01 23:30  03-02 08:30  PUBLIC  2      Price?
    r3  ad1  REPLY  c2      03-02 00:00  03-02 09:00  PUBLIC  0      following the price
    c3  ad1  COMMENT        03-02 03:00  03-02 12:00  PUBLIC  0      Is it 100% cotton?
    r4  ad1  REPLY  c3      03-02 04:30  03-02 13:30  PUBLIC  0      Yes, all cotton. (B)
    c4  ad1  COMMENT        03-02 05:00  03-02 14:00  HIDDEN  0      cheap sneakers here, cheap..
    r5  ad1  REPLY  c3      03-02 06:00  03-02 15:00  PUBLIC  0      And machine washable. (B)
    c5  ad2  COMMENT        03-03 01:00  03-03 10:00  PUBLIC  7      When is the sale?
    c6  ad2  COMMENT        03-03 02:00  03-03 11:00  HIDDEN  1      Love the sale colours
    c7  ad2  COMMENT        03-03 02:30  03-03 11:30  PUBLIC  3      Any discount code??
    r6  ad2  REPLY  c5      03-03 03:00  03-03 12:00  PUBLIC  0      Next week! The sale... (B)
    n1  ad3  COMMENT        03-02 03:00  03-01 22:00  PUBLIC  0      Love from NYC
    n2  ad3  COMMENT        03-02 15:00  03-02 10:00  HIDDEN  0      love love it
    n3  ad3  COMMENT        03-02 16:00  03-02 11:00  HIDDEN  0      Where do you ship?
    rn  ad3  REPLY  n3      03-02 16:10  03-02 11:10  PUBLIC  0      Everywhere in the US. (B)

(B): a brand reply.
Answered by the brand: c1 (after 30 min), c3 (90 min; r5 is a second reply), c5 (120), n3 (10).
Unanswered questions: c7 ("Any discount code??", 3 likes) and c2 ("Price?", 2 likes).
"""

import csv
import io
import shutil
import threading
import time
from datetime import UTC, date, datetime
from io import BytesIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from desk import notebook as nbk
from desk import store as db
from desk.notebook import (
    STARTERS,
    Cell,
    ChartSpec,
    Notebook,
    NotebookNotFound,
    NotebookQueryError,
    NotebookRefused,
    NotebookTimeout,
)

SEEN = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
RUNAWAY = "SELECT count(*) FROM range(1000000000000) a, range(1000000000000) b"


def utc(month, day, hour, minute=0):
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


ADS = {
    "ad1": ("A1", "Spring promo", "k1", "Spring"),
    "ad2": ("A1", "Summer sale", "k2", "Summer"),
    "ad3": ("A2", "NY launch", "k3", "Launch"),
}


def comment(comment_id, ad_id, content, create_time, *, likes=0, status="PUBLIC", user=None):
    advertiser_id, ad_name, campaign_id, campaign_name = ADS[ad_id]
    return {
        "comment_id": comment_id,
        "advertiser_id": advertiser_id,
        "app": "TIKTOK",
        "content": content,
        "likes": likes,
        "replies": 0,
        "comment_type": "COMMENT",
        "original_comment_id": None,
        "comment_status": status,
        "hit_blockedword": False,
        "ad_text": "Shop now",
        "create_time": create_time,
        "campaign_id": campaign_id,
        "campaign_name": campaign_name,
        "adgroup_id": f"g-{campaign_id}",
        "adgroup_name": f"Group {campaign_id}",
        "ad_id": ad_id,
        "ad_name": ad_name,
        "tiktok_item_id": f"item-{ad_id}",
        "identity_id": f"identity-{advertiser_id}",
        "identity_type": "TT_USER",
        "is_pinned": False,
        "can_delete": False,
        "is_auth_ttba": True,
        "is_auth_comment_manage_scope": True,
        "video_play_url": f"https://v.example/{ad_id}.mp4",
        "video_cover_url": f"https://p.example/{ad_id}.jpeg",
        "user_avatar_url": "https://p.example/avatar.jpeg",
        "user_name": user or f"fan_{comment_id}",
        "user_id": f"u-{comment_id}",
    }


def reply(comment_id, parent, ad_id, content, create_time, *, brand, **kw):
    row = comment(comment_id, ad_id, content, create_time, **kw)
    return {
        **row,
        "comment_type": "REPLY",
        "original_comment_id": parent,
        "can_delete": brand,
        "user_name": "brand_official" if brand else row["user_name"],
    }


def comment_records():
    """The account in the module docstring."""
    return [
        comment("c1", "ad1", "Do these run small?", utc(3, 1, 10), likes=5),
        reply("r1", "c1", "ad1", "They run true to size!", utc(3, 1, 10, 30), brand=True),
        reply("r2", "c1", "ad1", "same, small feet here", utc(3, 1, 11), brand=False),
        comment("c2", "ad1", "Price?", utc(3, 1, 23, 30), likes=2),
        reply("r3", "c2", "ad1", "following the price", utc(3, 2, 0), brand=False),
        comment("c3", "ad1", "Is it 100% cotton?", utc(3, 2, 3)),
        reply("r4", "c3", "ad1", "Yes, all cotton.", utc(3, 2, 4, 30), brand=True),
        comment("c4", "ad1", "cheap sneakers here, cheap cheap", utc(3, 2, 5), status="HIDDEN"),
        reply("r5", "c3", "ad1", "And machine washable.", utc(3, 2, 6), brand=True),
        comment("c5", "ad2", "When is the sale?", utc(3, 3, 1), likes=7),
        comment("c6", "ad2", "Love the sale colours", utc(3, 3, 2), likes=1, status="HIDDEN"),
        comment("c7", "ad2", "Any discount code??", utc(3, 3, 2, 30), likes=3),
        reply("r6", "c5", "ad2", "Next week! The sale starts Monday", utc(3, 3, 3), brand=True),
        comment("n1", "ad3", "Love from NYC", utc(3, 2, 3)),
        comment("n2", "ad3", "love love it", utc(3, 2, 15), status="HIDDEN"),
        comment("n3", "ad3", "Where do you ship?", utc(3, 2, 16), status="HIDDEN"),
        reply("rn", "n3", "ad3", "Everywhere in the US.", utc(3, 2, 16, 10), brand=True),
    ]


def ad_records():
    return [
        {
            "ad_id": ad_id,
            "advertiser_id": advertiser_id,
            "campaign_id": campaign_id,
            "campaign_name": campaign_name,
            "adgroup_id": f"g-{campaign_id}",
            "adgroup_name": f"Group {campaign_id}",
            "ad_name": ad_name,
            "operation_status": "ENABLE",
            "create_time": utc(2, 1, 0),
        }
        for ad_id, (advertiser_id, ad_name, campaign_id, campaign_name) in ADS.items()
    ]


def fill_account(store):
    """Store the account of the module docstring with the store's own upserts."""
    cur = store.cursor()
    db.upsert_advertisers(
        cur,
        pd.DataFrame.from_records(
            [
                {"advertiser_id": "A1", "name": "Acme", "timezone": "Asia/Tokyo"},
                {"advertiser_id": "A2", "name": "Beta", "timezone": "America/New_York"},
            ]
        ),
    )
    db.upsert_ads(cur, pd.DataFrame.from_records(ad_records()), SEEN)
    db.upsert_comments(cur, pd.DataFrame.from_records(comment_records()), SEEN)
    run_id = db.start_sync_run(cur, "A1")
    db.finish_sync_run(cur, run_id, "ok", requests=3, pages=3, rows=13, message="13 comments")
    cur.close()


@pytest.fixture(scope="module")
def filled_database(tmp_path_factory):
    """The account, stored once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "desk.duckdb"
    with db.Store.open(path) as opened:
        fill_account(opened)
    return path


@pytest.fixture
def store(tmp_path, filled_database):
    shutil.copy(filled_database, tmp_path / "desk.duckdb")
    with db.Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


@pytest.fixture
def nb(store):
    return Notebook(store, timeout=10.0)


def records(frame):
    """The rows as dicts, missing values as None, dates as ISO text."""
    out = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
        for row in out.to_dict("records")
    ]


def tuples(frame):
    return [tuple(row.values()) for row in records(frame)]


# --- what a cell may run --------------------------------------------------------------------


def test_unqualified_names_mean_the_analyst_views(nb):
    result = nb.run("SELECT comment_id, is_brand_reply FROM comments ORDER BY comment_id")

    assert result.columns == ["comment_id", "is_brand_reply"]  # only the view has the flag
    assert result.total_rows == 17
    brand = set(result.frame.loc[result.frame["is_brand_reply"], "comment_id"])
    assert brand == {"r1", "r4", "r5", "r6", "rn"}


def test_a_select_comes_back_as_a_frame_and_an_arrow_table(nb):
    result = nb.run(
        "SELECT ad_id, count(*) AS comments, max(create_time) AS last FROM comments "
        "GROUP BY ad_id ORDER BY ad_id"
    )

    assert tuples(result.frame[["ad_id", "comments"]]) == [("ad1", 9), ("ad2", 4), ("ad3", 4)]
    assert result.frame["comments"].dtype == pd.Int64Dtype()
    assert str(result.frame["last"].dt.tz) == "UTC"
    assert result.arrow.num_rows == 3 and result.complete and not result.truncated
    assert result.elapsed_ms > 0


def test_with_from_first_values_table_and_set_operations_run(nb):
    assert tuples(
        nb.run(
            "WITH q AS (SELECT * FROM comments WHERE content LIKE '%?%') "
            "SELECT count(*) AS n FROM q"
        ).frame
    ) == [(6,)]
    assert tuples(nb.run("FROM ads SELECT count(*) AS n").frame) == [(3,)]
    assert tuples(nb.run("VALUES (1, 'a')").frame) == [(1, "a")]
    assert nb.run("TABLE advertisers").total_rows == 2
    assert tuples(
        nb.run(
            "SELECT ad_id FROM ads WHERE advertiser_id = 'A1' "
            "UNION SELECT ad_id FROM comments WHERE ad_id = 'ad3' ORDER BY 1"
        ).frame
    ) == [("ad1",), ("ad2",), ("ad3",)]
    assert nb.run("SELECT * FROM analyst.comments").total_rows == 17


def test_recursive_ctes_subqueries_lambdas_and_pivots_over_the_views_run(nb):
    assert tuples(
        nb.run(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
            "SELECT sum(i) AS s FROM n"
        ).frame
    ) == [(6,)]
    answered = nb.run(
        "SELECT comment_id FROM comments c WHERE EXISTS (SELECT 1 FROM replies r "
        "WHERE r.original_comment_id = c.comment_id AND r.is_brand_reply) ORDER BY 1"
    )
    assert [row[0] for row in tuples(answered.frame)] == ["c1", "c3", "c5", "n3"]
    listed = nb.run("SELECT list_transform([1, 2], lambda x: x * 3) AS l")
    assert listed.arrow.column("l").to_pylist() == [[3, 6]]
    pivot = nb.run(
        "SELECT * FROM (SELECT ad_id, comment_status FROM comments) "
        "PIVOT (count(*) FOR comment_status IN ('PUBLIC', 'HIDDEN')) ORDER BY ad_id"
    )
    assert tuples(pivot.frame) == [("ad1", 8, 1), ("ad2", 3, 1), ("ad3", 2, 2)]
    assert nb.run("SELECT * FROM range(3), unnest([1, 2]), generate_series(1, 2)").total_rows == 12


def test_explain_and_explain_analyze_run(nb):
    plan = nb.run("EXPLAIN SELECT count(*) FROM comments")
    analyzed = nb.run("EXPLAIN ANALYZE SELECT count(*) FROM replies")

    assert plan.columns == ["explain_key", "explain_value"]
    assert "physical_plan" in plan.frame["explain_key"].tolist()
    assert analyzed.total_rows == 1 and "Total Time" in analyzed.frame.iloc[0, 1]


def test_describe_and_show_describe_a_view(nb):
    described = nb.run("DESCRIBE comments")
    shown = nb.run("SHOW comments")

    columns = described.frame["column_name"].tolist()
    assert columns[0] == "comment_id"
    assert {"is_brand_reply", "language", "sentiment", "labels"} <= set(columns)
    assert shown.frame["column_name"].tolist() == columns
    assert nb.run("DESCRIBE SELECT ad_id, count(*) AS n FROM comments GROUP BY 1").total_rows == 2


def test_show_tables_lists_only_the_analyst_views(nb):
    assert nb.run("SHOW TABLES").frame["name"].tolist() == [
        "actions",
        "ad_delivery",
        "ads",
        "advertisers",
        "alert_deliveries",
        "alerts",
        "audit",
        "business_accounts",
        "comment_notes",
        "comments",
        "deleted_comments",
        "inbox",
        "inbox_backlog",
        "inbox_events",
        "models",
        "replies",
        "response_targets",
        "response_times",
        "rule_hits",
        "rule_runs",
        "rule_versions",
        "rules",
        "saved_replies",
        "sync_runs",
        "videos",
    ]


def test_summarize_a_view_and_a_query(nb):
    summary = nb.run("SUMMARIZE comments")
    query_summary = nb.run("SUMMARIZE SELECT likes FROM comments")

    assert summary.total_rows == len(nb.schema()["comments"])
    assert query_summary.frame["column_name"].tolist() == ["likes"]
    assert query_summary.frame["max"].tolist() == ["7"]


def test_the_views_carry_replies_with_their_parents_and_the_sync_history(nb):
    replies = nb.run(
        "SELECT comment_id, original_comment_id, ad_id, is_brand_reply, parent_content, "
        "minutes_after_parent FROM replies ORDER BY comment_id"
    )
    runs = nb.run("SELECT advertiser_id, status, rows, message FROM sync_runs")

    assert tuples(replies.frame) == [
        ("r1", "c1", "ad1", True, "Do these run small?", 30.0),
        ("r2", "c1", "ad1", False, "Do these run small?", 60.0),
        ("r3", "c2", "ad1", False, "Price?", 30.0),
        ("r4", "c3", "ad1", True, "Is it 100% cotton?", 90.0),
        ("r5", "c3", "ad1", True, "Is it 100% cotton?", 180.0),
        ("r6", "c5", "ad2", True, "When is the sale?", 120.0),
        ("rn", "n3", "ad3", True, "Where do you ship?", 10.0),
    ]
    assert tuples(runs.frame) == [("A1", "ok", 13, "13 comments")]


def test_the_schema_lists_each_view_with_its_columns_and_types(nb):
    schema = nb.schema()

    assert list(schema) == [
        "advertisers", "ads", "comments", "replies", "sync_runs", "business_accounts", "videos",
        "deleted_comments", "actions", "audit", "rules", "rule_versions", "rule_runs",
        "rule_hits", "inbox", "inbox_events", "comment_notes", "saved_replies",
        "response_targets", "alerts", "alert_deliveries", "response_times", "inbox_backlog",
        "ad_delivery", "models",
    ]
    assert ("comment_id", "VARCHAR") in schema["comments"]
    assert ("create_time", "TIMESTAMP WITH TIME ZONE") in schema["comments"]
    assert ("is_brand_reply", "BOOLEAN") in schema["comments"]
    assert [name for name, _ in schema["sync_runs"]][:2] == ["run_id", "advertiser_id"]
    every_column = {name for columns in schema.values() for name, _ in columns}
    assert not every_column & {"request_key", "cells", "synced_through", "access_token"}
    # who did what, by e-mail, to group by person (tokens are never in the database)
    assert ("actor", "VARCHAR") in schema["actions"] and ("actor", "VARCHAR") in schema["audit"]


def test_a_query_duckdb_rejects_says_why_and_the_notebook_carries_on(nb):
    with pytest.raises(NotebookQueryError, match="no_such_column"):
        nb.run("SELECT no_such_column FROM comments")
    with pytest.raises(NotebookQueryError, match="syntax error"):
        nb.run("SELEC 1")
    with pytest.raises(NotebookQueryError, match="no SQL statement"):
        nb.run("  -- only a comment\n")

    assert tuples(nb.run("SELECT count(*) AS n FROM ads").frame) == [(3,)]


def test_check_refuses_without_running_and_passes_a_read(nb):
    started = time.perf_counter()
    nb.check(RUNAWAY)  # allowed, and not run: it would take forever
    assert time.perf_counter() - started < 5

    with pytest.raises(NotebookRefused, match="read-only"):
        nb.check("DELETE FROM comments")
    assert nb.run("SELECT count(*) AS n FROM comments").frame.iloc[0, 0] == 17


def test_settings_are_validated(store):
    for bad in ({"timeout": 0}, {"display_rows": 0}, {"download_rows": True}):
        with pytest.raises(ValueError):
            Notebook(store, **bad)


# --- limits ---------------------------------------------------------------------------------


def test_the_display_is_capped_and_the_download_holds_every_row_up_to_its_limit(store):
    nb = Notebook(store, display_rows=3, download_rows=10)

    some = nb.run("SELECT range AS i FROM range(7)")
    many = nb.run("SELECT range AS i FROM range(1000000000)")  # streamed: only 11 rows are read
    few = nb.run("SELECT range AS i FROM range(2)")

    assert (len(some.frame), some.total_rows, some.complete, some.truncated) == (3, 7, True, True)
    assert some.arrow.column("i").to_pylist() == list(range(7))
    assert (len(many.frame), many.total_rows, many.complete, many.truncated) == (
        3,
        10,
        False,
        True,
    )
    assert many.arrow.column("i").to_pylist() == list(range(10))
    assert (len(few.frame), few.total_rows, few.complete, few.truncated) == (2, 2, True, False)


def test_downloads_go_through_the_spreadsheet_safe_export(store):
    cur = store.cursor()
    db.upsert_comments(
        cur,
        pd.DataFrame.from_records(
            [comment("x1", "ad1", '=HYPERLINK("http://evil")', utc(3, 4, 0))]
        ),
        SEEN,
    )
    nb = Notebook(store, display_rows=1)
    result = nb.run("SELECT comment_id, content, likes FROM comments ORDER BY comment_id")

    rows = list(csv.reader(io.StringIO(result.csv_bytes().decode("utf-8-sig"), newline="")))
    assert len(rows) == 1 + 18 and rows[0] == ["comment_id", "content", "likes"]
    assert ["x1", "'=HYPERLINK(\"http://evil\")", "0"] in rows
    table = pq.read_table(BytesIO(result.parquet_bytes()))
    assert table.num_rows == 18
    assert '=HYPERLINK("http://evil")' in table.column("content").to_pylist()


def test_a_runaway_query_is_stopped_at_the_time_limit_and_the_notebook_carries_on(store):
    nb = Notebook(store, timeout=0.5)

    started = time.perf_counter()
    with pytest.raises(NotebookTimeout, match=r"more than 0.5 s") as raised:
        nb.run(RUNAWAY)
    took = time.perf_counter() - started

    assert 0.5 <= took < 5
    assert "stopped" in str(raised.value)
    with pytest.raises(NotebookTimeout):
        nb.run("SELECT count(*) FROM comments a, comments b, comments c, range(1000000000) d")
    assert tuples(nb.run("SELECT count(*) AS n FROM comments").frame) == [(17,)]


def test_a_timer_that_fires_between_statements_still_stops_the_query(store, monkeypatch):
    # The interrupt is repeated until the run is over, so one lost between two statements
    # (DuckDB forgets an interrupt when a statement starts) cannot let the query run on.
    monkeypatch.setattr(nbk.cells, "_INTERRUPT_EVERY", 0.01)
    nb = Notebook(store, timeout=0.001)

    with pytest.raises(NotebookTimeout):
        nb.run(RUNAWAY)


# --- a sync writing meanwhile ---------------------------------------------------------------


def new_comments(batch, size):
    n = np.arange(batch * size, (batch + 1) * size)
    return pd.DataFrame(
        {
            "comment_id": [f"w{i:06d}" for i in n],
            "advertiser_id": "A1",
            "ad_id": "ad2",
            "comment_type": "COMMENT",
            "content": "hello",
            "create_time": pd.Timestamp("2025-03-05", tz="UTC") + pd.to_timedelta(n, unit="s"),
        }
    )


def test_queries_see_whole_sync_batches_while_a_sync_writes(store):
    batches, size = 30, 300
    nb = Notebook(store)
    writer = store.cursor()
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[tuple[int, int]] = []

    def sync():
        try:
            for b in range(batches):
                db.upsert_comments(writer, new_comments(b, size), SEEN)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    def analyst():
        try:
            while not done.is_set():
                frame = nb.run(
                    "SELECT count(*) AS n, count(*) FILTER (WHERE ad_id = 'ad2') AS ad2 "
                    "FROM comments"
                ).frame
                seen.append((int(frame.iloc[0, 0]), int(frame.iloc[0, 1])))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sync), threading.Thread(target=analyst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(seen) > 1
    written = [total - 17 for total, _ in seen]
    assert written == sorted(written)
    assert all(count % size == 0 for count in written)  # never half a batch
    assert all(ad2 - 4 == total - 17 for total, ad2 in seen)  # one snapshot per query
    assert nb.run("SELECT count(*) FROM comments").frame.iloc[0, 0] == 17 + batches * size


def test_a_long_notebook_query_does_not_hold_up_the_sync(store):
    nb = Notebook(store, timeout=3.0)
    outcome: dict[str, object] = {}

    def analyst():
        started = time.perf_counter()
        try:
            nb.run(RUNAWAY)
        except NotebookTimeout as exc:
            outcome["error"] = exc
        outcome["ended"] = time.perf_counter() - started

    thread = threading.Thread(target=analyst)
    started = time.perf_counter()
    thread.start()
    time.sleep(0.2)
    writer = store.cursor()
    for b in range(5):
        db.upsert_comments(writer, new_comments(b, 100), SEEN)
    synced_after = time.perf_counter() - started
    thread.join(timeout=30)

    assert isinstance(outcome["error"], NotebookTimeout)
    assert synced_after < outcome["ended"]  # the writes finished while the query still ran
    assert nb.run("SELECT count(*) FROM comments").frame.iloc[0, 0] == 17 + 500


# --- starter notebooks ----------------------------------------------------------------------


def run_starter(nb, name, cell=0):
    return nb.run(STARTERS[name][cell].sql).frame


# Every starter runs, on this account with delivery and verdicts and on an empty database:
# tests/desk/test_notebook_starters.py.


def test_starter_comment_volume_per_ad_per_local_day(nb):
    frame = run_starter(nb, "Comment volume per ad per day")

    assert tuples(frame) == [
        ("ad1", "Spring promo", "2025-03-01", 3),
        ("ad3", "NY launch", "2025-03-01", 1),
        ("ad1", "Spring promo", "2025-03-02", 6),
        ("ad3", "NY launch", "2025-03-02", 3),
        ("ad2", "Summer sale", "2025-03-03", 4),
    ]


def test_starter_unanswered_questions(nb):
    listed = run_starter(nb, "Unanswered questions", 0)
    per_ad = run_starter(nb, "Unanswered questions", 1)

    assert tuples(listed[["comment_id", "ad_id", "content", "likes"]]) == [
        ("c7", "ad2", "Any discount code??", 3),
        ("c2", "ad1", "Price?", 2),
    ]
    assert tuples(per_ad) == [("ad1", "Spring promo", 1), ("ad2", "Summer sale", 1)]


def test_starter_top_words_per_ad(nb):
    frame = run_starter(nb, "Top words per ad")

    assert tuples(frame) == [
        ("ad1", "Spring promo", "cheap", 3),
        ("ad1", "Spring promo", "here", 2),
        ("ad1", "Spring promo", "price", 2),
        ("ad1", "Spring promo", "small", 2),
        ("ad1", "Spring promo", "100", 1),
        ("ad2", "Summer sale", "sale", 2),
        ("ad2", "Summer sale", "code", 1),
        ("ad2", "Summer sale", "colours", 1),
        ("ad2", "Summer sale", "discount", 1),
        ("ad2", "Summer sale", "love", 1),
        ("ad3", "NY launch", "love", 3),
        ("ad3", "NY launch", "nyc", 1),
        ("ad3", "NY launch", "ship", 1),
    ]


def test_starter_time_to_first_reply(nb):
    frame = run_starter(nb, "Time to first reply")

    assert tuples(frame) == [
        ("ad3", "NY launch", 1, 10.0),
        ("ad1", "Spring promo", 2, 60.0),  # 30 and 90 minutes; r5 is not the first reply
        ("ad2", "Summer sale", 1, 120.0),
    ]


def test_starter_hidden_share_by_campaign(nb):
    frame = run_starter(nb, "Hidden share by campaign")

    assert tuples(frame) == [
        ("k3", "Launch", 4, 2, 0.5),
        ("k2", "Summer", 4, 1, 0.25),
        ("k1", "Spring", 9, 1, pytest.approx(1 / 9)),
    ]


# --- charts ---------------------------------------------------------------------------------


def test_a_chart_of_each_kind(nb):
    frame = nb.run(
        "SELECT ad_name, campaign_name, count(*) AS comments, sum(likes) AS likes "
        "FROM comments GROUP BY ALL ORDER BY ad_name"
    ).frame

    bar = nbk.chart_figure(frame, ChartSpec("bar", x="ad_name", y="comments"))
    line = nbk.chart_figure(frame, ChartSpec("line", x="ad_name", y="likes", color="ad_name"))
    scatter = nbk.chart_figure(frame, ChartSpec("scatter", x="comments", y="likes"))

    assert bar.data[0].type == "bar"
    assert list(bar.data[0].x) == ["NY launch", "Spring promo", "Summer sale"]
    assert list(bar.data[0].y) == [4, 9, 4]
    assert line.data[0].type == "scatter" and line.data[0].mode == "lines"
    assert len(line.data) == 3  # one line per colour
    assert scatter.data[0].type == "scatter" and scatter.data[0].mode == "markers"


def test_a_line_chart_follows_x_and_copes_with_missing_values(nb):
    frame = nb.run(
        "SELECT * FROM (VALUES (3, NULL::INTEGER), (1, 10), (2, 20)) t(day, comments)"
    ).frame

    figure = nbk.chart_figure(frame, ChartSpec("line", x="day", y="comments"))

    assert list(figure.data[0].x) == [1, 2, 3]
    assert list(figure.data[0].y)[:2] == [10, 20]


def test_a_chart_naming_a_missing_column_says_which(nb):
    frame = nb.run("SELECT ad_id, count(*) AS n FROM comments GROUP BY 1").frame

    with pytest.raises(ValueError, match=r"no column 'comments'.*it has ad_id, n"):
        nbk.chart_figure(frame, ChartSpec("bar", x="ad_id", y="comments"))
    with pytest.raises(ValueError, match="bar, line or scatter"):
        ChartSpec("pie", x="ad_id", y="n")
    with pytest.raises(ValueError, match="column name for y"):
        ChartSpec("bar", x="ad_id", y="")


# --- saved notebooks ------------------------------------------------------------------------

CELLS = [
    Cell("SELECT ad_name, count(*) AS comments\nFROM comments\nGROUP BY 1"),
    Cell(
        "SELECT day, n FROM volume",
        ChartSpec("line", x="day", y="n", color="ad_name"),
    ),
    Cell("  \n-- just a note\n  "),
]


def test_saved_notebooks_round_trip_and_are_listed_by_name(store):
    cur = store.cursor()

    nbk.save_notebook(cur, "Weekly review", CELLS)
    nbk.save_notebook(cur, "Another", CELLS[:1])

    assert nbk.load_notebook(cur, "Weekly review") == CELLS
    assert nbk.load_notebook(cur, "Weekly review")[2].sql == "-- just a note"
    assert nbk.list_notebooks(cur) == ["Another", "Weekly review"]


def test_saving_again_replaces_and_deleting_forgets(store):
    cur = store.cursor()
    nbk.save_notebook(cur, "Weekly review", CELLS)

    nbk.save_notebook(cur, "Weekly review", CELLS[1:2])
    assert nbk.load_notebook(cur, "Weekly review") == CELLS[1:2]

    assert nbk.delete_notebook(cur, "Weekly review") is True
    assert nbk.delete_notebook(cur, "Weekly review") is False
    assert nbk.list_notebooks(cur) == []
    with pytest.raises(NotebookNotFound, match="Weekly review"):
        nbk.load_notebook(cur, "Weekly review")


def test_a_notebook_needs_a_name(store):
    cur = store.cursor()
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(ValueError):
            nbk.save_notebook(cur, bad, CELLS)


def test_saved_notebooks_are_not_visible_to_notebook_queries(store, nb):
    nbk.save_notebook(store.cursor(), "Weekly review", CELLS)

    with pytest.raises(NotebookRefused, match="'notebooks' is not one of them"):
        nb.run("SELECT * FROM notebooks")


def test_a_notebook_exports_to_a_sql_file_and_back(tmp_path):
    text = nbk.notebook_to_sql(CELLS)
    path = tmp_path / "review.sql"
    path.write_text(text)

    assert text.count("\n-- %% cell\n") == 3
    assert '-- chart: {"kind": "line", "x": "day", "y": "n", "color": "ad_name"}' in text
    assert nbk.notebook_from_sql(path.read_text()) == CELLS


def test_every_starter_survives_a_sql_file():
    for cells in STARTERS.values():
        assert nbk.notebook_from_sql(nbk.notebook_to_sql(cells)) == list(cells)


def test_a_plain_sql_file_is_one_cell_and_windows_line_ends_are_read():
    assert nbk.notebook_from_sql("SELECT 1\r\nFROM ads;\r\n") == [Cell("SELECT 1\nFROM ads;")]
    assert nbk.notebook_from_sql("-- header\r\n-- %% cell\r\n-- chart: none\r\nSELECT 2\r\n") == [
        Cell("SELECT 2")
    ]


def test_a_broken_chart_line_names_its_cell():
    with pytest.raises(ValueError, match="cell 2: the chart line"):
        nbk.notebook_from_sql('-- %% cell\nSELECT 1\n-- %% cell\n-- chart: {"kind": "pie"}\n')


SQL_LINES = hs.one_of(
    hs.sampled_from(
        [
            "SELECT 1",
            "-- %% cell",
            "-- %%% cell",
            "-- %% cell  ",
            "-- chart: none",
            '-- chart: {"kind": "bar", "x": "a", "y": "b"}',
            "-- chart:",
            "",
            "   ",
            "\t-- %% cell",
            "-- note",
        ]
    ),
    hs.text(alphabet=hs.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")),
)
CHARTS = hs.one_of(
    hs.none(),
    hs.builds(
        ChartSpec,
        kind=hs.sampled_from(["bar", "line", "scatter"]),
        x=hs.text(min_size=1),
        y=hs.text(min_size=1),
        color=hs.one_of(hs.none(), hs.text(min_size=1)),
    ),
)
CELL_LISTS = hs.lists(
    hs.builds(Cell, sql=hs.lists(SQL_LINES, max_size=6).map("\n".join), chart=CHARTS),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(cells=CELL_LISTS)
def test_any_cells_survive_a_sql_file(cells):
    assert nbk.notebook_from_sql(nbk.notebook_to_sql(cells)) == cells


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=CELL_LISTS)
def test_any_cells_survive_saving(store, cells):
    cur = store.cursor()
    nbk.save_notebook(cur, "any", cells)
    assert nbk.load_notebook(cur, "any") == cells


# --- types ---------------------------------------------------------------------------------


def test_arrow_results_keep_duckdb_types(nb):
    result = nb.run("SELECT DATE '2025-03-01' AS d, 1.5::DECIMAL(4, 1) AS x, [1, 2] AS l")

    assert result.arrow.schema.field("d").type == pa.date32()
    assert result.arrow.schema.field("l").type == pa.list_(pa.int32())


def test_the_rule_and_inbox_views_are_read_like_the_others(nb, store):
    from desk.moderation import saved

    with store.cursor() as cur:
        rule = saved.save_text(cur, '[[rule]]\nname = "links"\nhas_link = true\naction = "hide"',
                               by="ana@brand.example")
    rules = nb.run("SELECT name, version, changed_by FROM rules")
    assert records(rules.frame) == [{"name": "links", "version": rule.version,
                                     "changed_by": "ana@brand.example"}]
    for view in ("rule_versions", "rule_runs", "rule_hits", "inbox", "inbox_events",
                 "comment_notes"):
        assert nb.run(f"SELECT count(*) AS n FROM {view}").total_rows == 1, view  # noqa: S608
