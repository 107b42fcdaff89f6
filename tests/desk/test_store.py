"""The analytics store, specified against a small hand-built account.

Advertiser A1 is in Asia/Tokyo (UTC+9), A2 in America/New_York (UTC-5 in March 2025).
A1 has ads ad1, ad2 (campaign c1, ad group g1), ad3 (ad group g2, no comments) and comments
on ad9, an ad ad/get no longer returns. "Brand" replies are the ones with can_delete = true.

    id  ad   type     parent  UTC create_time   Tokyo time      status  likes  who
    c7  ad9  COMMENT          02-20 00:00       02-20 09:00     PUBLIC  0      fan_old
    c1  ad1  COMMENT          03-01 10:00       03-01 19:00     PUBLIC  5      sneakerfan
    r1  ad1  REPLY    c1      03-01 10:30       03-01 19:30     PUBLIC  3      brand
    r2  ad1  REPLY    c1      03-01 11:00       03-01 20:00     PUBLIC  0      another_fan
    c2  ad1  COMMENT          03-01 23:30       03-02 08:30     PUBLIC  2      deal_hunter
    r3  ad1  REPLY    c2      03-02 00:00       03-02 09:00     PUBLIC  0      deal_hunter2
    c3  ad1  COMMENT          03-02 03:00       03-02 12:00     PUBLIC  0      fabric_nerd
    r6  ad1  REPLY    c3      03-02 04:00       03-02 13:00     HIDDEN  0      troll
    r7  ad1  REPLY    c3      03-02 04:30       03-02 13:30     PUBLIC  0      brand
    c4  ad1  COMMENT          03-02 05:00       03-02 14:00     HIDDEN  0      bot_123
    c5  ad2  COMMENT          03-03 01:00       03-03 10:00     PUBLIC  7      Shopper_Jo
    c6  ad2  COMMENT          03-03 02:00       03-03 11:00     PUBLIC  1      tall_guy
    r4  ad2  REPLY    c5      03-03 03:00       03-03 12:00     PUBLIC  1      brand
    r5  ad2  REPLY    c5      03-03 05:00       03-03 14:00     PUBLIC  0      brand

Answered (a brand reply exists): c1 (after 30 min), c3 (90 min), c5 (120 min).
Unanswered: c2 (only a user replied), c4, c6, c7.
A2 has n1 (03-02 03:00 UTC = 03-01 22:00 in New York) and n2 (03-02 15:00 UTC) on ad4.
"""

import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from desk import store as db
from desk.store import CommentFilters, Store, StoreError, StoreLocked

SEEN = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
LATER = SEEN + timedelta(hours=6)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def comment(
    comment_id, advertiser_id, ad_id, content, user_name, create_time, *, likes=0, status="PUBLIC"
):
    names = {"ad1": "Spring promo", "ad2": "Summer sale", "ad9": "Old promo", "ad4": "NY launch"}
    groups = {"ad1": "g1", "ad2": "g1", "ad9": "g1", "ad4": "g3"}
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
        "campaign_id": "c1" if advertiser_id == "A1" else "c2",
        "campaign_name": "Spring" if advertiser_id == "A1" else "Launch",
        "adgroup_id": groups[ad_id],
        "adgroup_name": f"Group {groups[ad_id]}",
        "ad_id": ad_id,
        "ad_name": names[ad_id],
        "tiktok_item_id": f"item-{ad_id}",
        "identity_id": f"identity-{advertiser_id}",
        "identity_type": "TT_USER",
        "is_pinned": False,
        "can_delete": False,
        "is_auth_ttba": True,
        "is_auth_comment_manage_scope": True,
        "video_play_url": f"https://v.example/{ad_id}.mp4",
        "video_cover_url": f"https://p.example/{ad_id}.jpeg",
        "user_avatar_url": f"https://p.example/{user_name}.jpeg",
        "user_name": user_name,
        "user_id": f"u-{user_name}",
    }


def reply(comment_id, parent, ad_id, content, user_name, create_time, *, brand, **kw):
    row = comment(comment_id, "A1", ad_id, content, user_name, create_time, **kw)
    return {**row, "comment_type": "REPLY", "original_comment_id": parent, "can_delete": brand}


def comment_records():
    """The account in the module docstring, as the sync builds it (Python values)."""
    return [
        comment("c7", "A1", "ad9", "Still love it", "fan_old", utc(2, 20, 0)),
        comment("c1", "A1", "ad1", "Love these!", "sneakerfan", utc(3, 1, 10), likes=5),
        reply(
            "r1", "c1", "ad1", "Thank you!", "acme_official", utc(3, 1, 10, 30), brand=True, likes=3
        ),
        reply("r2", "c1", "ad1", "same", "another_fan", utc(3, 1, 11), brand=False),
        comment("c2", "A1", "ad1", "Price?", "deal_hunter", utc(3, 1, 23, 30), likes=2),
        reply("r3", "c2", "ad1", "following \\o/", "deal_hunter2", utc(3, 2, 0), brand=False),
        comment("c3", "A1", "ad1", "100% cotton?", "fabric_nerd", utc(3, 2, 3)),
        reply(
            "r6", "c3", "ad1", "100 times no", "troll", utc(3, 2, 4), brand=False, status="HIDDEN"
        ),
        reply("r7", "c3", "ad1", "Yes, all cotton", "acme_official", utc(3, 2, 4, 30), brand=True),
        comment("c4", "A1", "ad1", "buy my size here", "bot_123", utc(3, 2, 5), status="HIDDEN"),
        comment("c5", "A1", "ad2", "When is the sale?", "Shopper_Jo", utc(3, 3, 1), likes=7),
        comment("c6", "A1", "ad2", "my_size is sold out", "tall_guy", utc(3, 3, 2), likes=1),
        reply("r4", "c5", "ad2", "Next week!", "acme_official", utc(3, 3, 3), brand=True, likes=1),
        reply("r5", "c5", "ad2", "Monday, to be exact", "acme_official", utc(3, 3, 5), brand=True),
        comment("n1", "A2", "ad4", "Love from NYC", "nyc_fan", utc(3, 2, 3)),
        comment("n2", "A2", "ad4", "love it", "bk_fan", utc(3, 2, 15)),
    ]


def ad_records():
    def ad(ad_id, advertiser_id, name, adgroup_id, status="ENABLE"):
        return {
            "ad_id": ad_id,
            "advertiser_id": advertiser_id,
            "campaign_id": "c1" if advertiser_id == "A1" else "c2",
            "campaign_name": "Spring" if advertiser_id == "A1" else "Launch",
            "adgroup_id": adgroup_id,
            "adgroup_name": f"Group {adgroup_id}",
            "ad_name": name,
            "tiktok_item_id": f"item-{ad_id}",
            "video_id": f"video-{ad_id}",
            "identity_type": "TT_USER",
            "identity_id": f"identity-{advertiser_id}",
            "ad_text": "Shop now",
            "operation_status": status,
            "secondary_status": "AD_STATUS_DELIVERY_OK",
            "create_time": utc(2, 1, 0),
            "modify_time": utc(2, 2, 0),
        }

    return [
        ad("ad1", "A1", "Spring promo", "g1"),
        ad("ad2", "A1", "Summer sale", "g1", status="DISABLE"),
        ad("ad3", "A1", "Quiet ad", "g2"),
        ad("ad4", "A2", "NY launch", "g3"),
    ]


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


@pytest.fixture
def cur(store):
    return store.cursor()


def store_account(cur) -> None:
    """Store the account in the module docstring with the store's own upserts."""
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


@pytest.fixture
def account(cur):
    """The account in the module docstring, stored."""
    store_account(cur)
    return cur


def query(cur, sql):
    """A query's result as a DataFrame (through Arrow, as the store reads)."""
    return cur.sql(sql).to_arrow_table().to_pandas()


def rows(cur, sql):
    """A query's rows as tuples (for results without TIMESTAMPTZ columns)."""
    return cur.execute(sql).fetchall()


def table(cur, name, order_by):
    return query(cur, f"SELECT * FROM {name} ORDER BY {order_by}")


def ids(frame, column="comment_id"):
    return frame[column].tolist()


def records(frame):
    """The rows as dicts, missing values (NaN, NA) as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def tuples(frame):
    return [tuple(row.values()) for row in records(frame)]


A1 = CommentFilters("A1")


# --- opening and migrating ------------------------------------------------------------------


def test_a_new_database_gets_every_migration_and_records_the_version(tmp_path):
    path = tmp_path / "nested" / "dir" / "desk.duckdb"

    with Store.open(path) as store:
        cur = store.cursor()
        versions = [row[0] for row in rows(cur, "SELECT version FROM schema_version")]
        tables = {row[0] for row in rows(cur, "SHOW TABLES")}

    assert path.exists()
    assert versions == list(range(1, len(db.MIGRATIONS) + 1))
    assert tables == {
        "schema_version",
        "advertisers",
        "ads",
        "comments",
        "sync_runs",
        "sync_cursors",
        "sync_failures",
        "outbox",
        "audit_log",
        "notebooks",
        "business_accounts",
        "videos",
        "organic_cursors",
        "api_learned",
        "write_access",
        "deleted_comments",
        "people",
        "rules",
        "rule_versions",
        "rule_runs",
        "rule_hits",
        "rule_cursors",
        "inbox_states",
        "inbox_events",
        "comment_notes",
        "saved_replies",
        "response_targets",
        "alert_channels",
        "alert_settings",
        "alerts",
        "alert_deliveries",
        "people_removed",
        "ad_delivery",
        "delivery_cursors",
        "models",
        "learning_settings",
    }


def test_reopening_a_current_database_changes_nothing(tmp_path):
    path = tmp_path / "desk.duckdb"
    with Store.open(path) as store:
        before = table(store.cursor(), "schema_version", "version")

    with Store.open(path) as store:
        cur = store.cursor()
        assert db.migrate(cur) == []
        after = table(cur, "schema_version", "version")

    pd.testing.assert_frame_equal(before, after)


def test_an_old_database_gets_only_the_pending_migrations(tmp_path):
    first = "CREATE TABLE notes (note VARCHAR);"
    second = "ALTER TABLE notes ADD COLUMN author VARCHAR;"
    con = duckdb.connect(str(tmp_path / "old.duckdb"))

    assert db.migrate(con, [first]) == [1]
    assert db.migrate(con, [first, second]) == [2]
    assert db.migrate(con, [first, second]) == []
    assert db.schema_version(con) == 2
    assert [row[0] for row in rows(con, "SELECT column_name FROM (DESCRIBE notes)")] == [
        "note",
        "author",
    ]
    con.close()


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    db.migrate(con, ["CREATE TABLE notes (note VARCHAR);"])

    with pytest.raises(duckdb.Error):
        db.migrate(
            con,
            [
                "CREATE TABLE notes (note VARCHAR);",
                "CREATE TABLE tags (tag VARCHAR); CREATE TABLE broken (",
            ],
        )

    assert db.schema_version(con) == 1
    assert {row[0] for row in rows(con, "SHOW TABLES")} == {"schema_version", "notes"}
    con.close()


def test_a_database_from_a_newer_comment_desk_is_refused(tmp_path):
    con = duckdb.connect(str(tmp_path / "new.duckdb"))
    db.migrate(con, ["SELECT 1", "SELECT 2"])

    with pytest.raises(StoreError, match="newer"):
        db.migrate(con, ["SELECT 1"])
    con.close()


@pytest.mark.slow
def test_a_database_held_by_another_process_is_reported_as_locked(tmp_path):
    path = tmp_path / "desk.duckdb"
    Store.open(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"

        with pytest.raises(StoreLocked) as raised:
            Store.open(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)

    assert str(raised.value) == (
        f"the database {path} is in use by another Comment Desk process (the app?). "
        "Stop it or sync from the app."
    )
    Store.open(path).close()  # free again once the other process is gone


def test_a_read_only_store_reads_but_cannot_write(tmp_path):
    path = tmp_path / "desk.duckdb"
    with Store.open(path) as store:
        db.upsert_advertisers(store.cursor(), pd.DataFrame({"advertiser_id": ["A1"]}))

    with Store.open_readonly(path) as store:
        cur = store.cursor()
        assert ids(db.list_advertisers(cur), "advertiser_id") == ["A1"]
        with pytest.raises(duckdb.Error, match="read-only"):
            db.upsert_advertisers(cur, pd.DataFrame({"advertiser_id": ["A2"]}))


def test_a_read_only_store_needs_an_existing_up_to_date_database(tmp_path):
    with pytest.raises(StoreError, match="no database"):
        Store.open_readonly(tmp_path / "absent.duckdb")

    duckdb.connect(str(tmp_path / "old.duckdb")).close()
    with pytest.raises(StoreError, match="schema version 0"):
        Store.open_readonly(tmp_path / "old.duckdb")


# --- upserts --------------------------------------------------------------------------------


def test_upserting_returns_the_number_of_distinct_rows_written(cur):
    assert db.upsert_comments(cur, pd.DataFrame.from_records(comment_records()), SEEN) == 16
    assert db.upsert_comments(cur, pd.DataFrame(), SEEN) == 0


def test_upserting_the_same_rows_again_changes_only_last_seen_at(account):
    before = table(account, "comments", "comment_id")

    db.upsert_comments(account, pd.DataFrame.from_records(comment_records()), LATER)
    after = table(account, "comments", "comment_id")

    data = [c for c in before.columns if c != "last_seen_at"]
    pd.testing.assert_frame_equal(before[data], after[data])
    assert set(before["last_seen_at"]) == {pd.Timestamp(SEEN)}
    assert set(after["last_seen_at"]) == {pd.Timestamp(LATER)}
    assert set(after["first_seen_at"]) == {pd.Timestamp(SEEN)}


def test_an_upsert_updates_changed_fields_and_keeps_first_seen_at(account):
    changed = [
        {**row, "likes": 50, "comment_status": "HIDDEN"}
        for row in comment_records()
        if row["comment_id"] == "c1"
    ]
    new = comment("c8", "A1", "ad1", "New one", "newbie", utc(3, 4, 0))

    db.upsert_comments(account, pd.DataFrame.from_records([*changed, new]), LATER)

    stored = query(
        account,
        "SELECT comment_id, likes, comment_status, first_seen_at, last_seen_at FROM comments "
        "WHERE comment_id IN ('c1', 'c2', 'c8') ORDER BY comment_id",
    )
    assert stored.to_dict("records") == [
        {
            "comment_id": "c1",
            "likes": 50,
            "comment_status": "HIDDEN",
            "first_seen_at": pd.Timestamp(SEEN),
            "last_seen_at": pd.Timestamp(LATER),
        },
        {
            "comment_id": "c2",
            "likes": 2,
            "comment_status": "PUBLIC",
            "first_seen_at": pd.Timestamp(SEEN),
            "last_seen_at": pd.Timestamp(SEEN),
        },
        {
            "comment_id": "c8",
            "likes": 0,
            "comment_status": "PUBLIC",
            "first_seen_at": pd.Timestamp(LATER),
            "last_seen_at": pd.Timestamp(LATER),
        },
    ]


def test_duplicate_ids_in_one_batch_keep_the_last_occurrence(cur):
    base = comment("c1", "A1", "ad1", "first", "u", utc(3, 1, 10))
    batch = [base, {**base, "content": "second"}, comment("c2", "A1", "ad1", "x", "u", None)]
    batch.append({**base, "content": "third", "likes": 9})

    assert db.upsert_comments(cur, pd.DataFrame.from_records(batch), SEEN) == 2
    assert db.upsert_comments(cur, pd.DataFrame.from_records(batch), LATER) == 2

    assert rows(cur, "SELECT comment_id, content, likes FROM comments ORDER BY comment_id") == [
        ("c1", "third", 9),
        ("c2", "x", 0),
    ]


def test_unknown_enum_values_are_stored_as_they_came(cur):
    row = {
        **comment("c1", "A1", "ad1", "x", "u", utc(3, 1, 10)),
        "comment_type": "POST",
        "comment_status": "UNDER_REVIEW",
        "identity_type": "AUTH_CODE",
        "app": "PANGLE",
    }

    db.upsert_comments(cur, pd.DataFrame.from_records([row]), SEEN)

    assert rows(cur, "SELECT comment_type, comment_status, identity_type, app FROM comments") == [
        ("POST", "UNDER_REVIEW", "AUTH_CODE", "PANGLE")
    ]


def test_missing_columns_are_null_when_new_and_untouched_when_stored(account):
    db.upsert_comments(
        account,
        pd.DataFrame(
            {
                "comment_id": ["c1", "c9"],
                "advertiser_id": ["A1", "A1"],
                "likes": [41, 1],
            }
        ),
        LATER,
    )

    assert rows(
        account,
        "SELECT comment_id, likes, content, ad_id FROM comments "
        "WHERE comment_id IN ('c1', 'c9') ORDER BY comment_id",
    ) == [("c1", 41, "Love these!", "ad1"), ("c9", 1, None, None)]


def test_fields_the_table_does_not_keep_are_ignored(cur):
    row = {**comment("c1", "A1", "ad1", "x", "u", utc(3, 1, 10)), "reply_user_name": "someone"}

    assert db.upsert_comments(cur, pd.DataFrame.from_records([row]), SEEN) == 1


def test_python_values_pandas_timestamps_and_arrow_tables_store_the_same_rows(tmp_path):
    records = comment_records()
    as_python = pd.DataFrame.from_records(records)
    as_pandas = as_python.copy()
    as_pandas["create_time"] = pd.to_datetime(as_pandas["create_time"]).astype(
        "datetime64[ns, UTC]"
    )
    as_arrow = pa.Table.from_pylist(records)
    stored = []
    for i, batch in enumerate((as_python, as_pandas, as_arrow)):
        with Store.open(tmp_path / f"{i}.duckdb") as store:
            cur = store.cursor()
            db.upsert_comments(cur, batch, SEEN)
            stored.append(table(cur, "comments", "comment_id"))

    pd.testing.assert_frame_equal(stored[0], stored[1])
    pd.testing.assert_frame_equal(stored[0], stored[2])
    c2 = stored[0].set_index("comment_id").loc["c2"]
    assert c2["create_time"] == pd.Timestamp("2025-03-01 23:30", tz="UTC")
    assert c2["likes"] == 2
    assert bool(c2["can_delete"]) is False
    assert pd.isna(c2["original_comment_id"])


def test_nones_in_number_and_flag_columns_are_stored_as_null(cur):
    batch = [
        comment("c1", "A1", "ad1", "x", "u", utc(3, 1, 10)),
        {
            **comment("c2", "A1", "ad1", None, "u", None),
            "likes": None,
            "can_delete": None,
        },
    ]

    db.upsert_comments(cur, pd.DataFrame.from_records(batch), SEEN)

    assert rows(
        cur,
        "SELECT comment_id, content, likes, can_delete, create_time IS NULL FROM comments "
        "ORDER BY comment_id",
    ) == [("c1", "x", 0, False, False), ("c2", None, None, None, True)]


def test_a_naive_seen_at_is_taken_as_utc(cur):
    db.upsert_comments(
        cur, pd.DataFrame({"comment_id": ["c1"], "advertiser_id": ["A1"]}), datetime(2025, 3, 4)
    )

    frame = table(cur, "comments", "comment_id")
    assert frame.loc[0, "first_seen_at"] == pd.Timestamp("2025-03-04", tz="UTC")


def test_a_row_without_its_id_is_refused(cur):
    with pytest.raises(ValueError, match="comment_id"):
        db.upsert_comments(cur, pd.DataFrame({"content": ["x"]}), SEEN)
    with pytest.raises(ValueError, match="1 comments rows have no comment_id"):
        db.upsert_comments(
            cur, pd.DataFrame({"comment_id": ["c1", None], "advertiser_id": ["A1", "A1"]}), SEEN
        )


def test_the_store_sets_the_seen_columns_itself(cur):
    with pytest.raises(ValueError, match="last_seen_at"):
        db.upsert_comments(cur, pd.DataFrame({"comment_id": ["c1"], "last_seen_at": [SEEN]}), SEEN)


def test_only_dataframes_and_arrow_tables_are_accepted(cur):
    with pytest.raises(TypeError, match="list"):
        db.upsert_comments(cur, comment_records(), SEEN)  # type: ignore[arg-type]


def test_ads_keep_their_first_seen_at(account):
    renamed = [{**ad, "ad_name": "Spring promo v2"} for ad in ad_records() if ad["ad_id"] == "ad1"]

    db.upsert_ads(account, pd.DataFrame.from_records(renamed), LATER)

    assert query(
        account,
        "SELECT ad_id, ad_name, first_seen_at, last_seen_at FROM ads ORDER BY ad_id LIMIT 2",
    ).to_dict("records") == [
        {
            "ad_id": "ad1",
            "ad_name": "Spring promo v2",
            "first_seen_at": pd.Timestamp(SEEN),
            "last_seen_at": pd.Timestamp(LATER),
        },
        {
            "ad_id": "ad2",
            "ad_name": "Summer sale",
            "first_seen_at": pd.Timestamp(SEEN),
            "last_seen_at": pd.Timestamp(SEEN),
        },
    ]


def test_advertisers_are_updated_in_place(account):
    db.upsert_advertisers(
        account, pd.DataFrame({"advertiser_id": ["A1"], "name": ["Acme Japan"], "role": ["ADMIN"]})
    )

    assert records(db.list_advertisers(account)[["advertiser_id", "name", "timezone", "role"]]) == [
        {"advertiser_id": "A1", "name": "Acme Japan", "timezone": "Asia/Tokyo", "role": "ADMIN"},
        {"advertiser_id": "A2", "name": "Beta", "timezone": "America/New_York", "role": None},
    ]


# --- sync bookkeeping -----------------------------------------------------------------------


def test_sync_cursors_are_kept_per_ad_group(cur):
    assert db.get_cursors(cur, "A1") == {}

    db.set_cursor(cur, "A1", "g1", date(2025, 3, 1))
    db.set_cursor(cur, "A1", "g2", date(2025, 3, 2), utc(3, 2, 5))
    db.set_cursor(cur, "A1", "g1", date(2025, 3, 3), utc(3, 3, 1))
    db.set_cursor(cur, "A2", "g3", date(2025, 1, 1))

    assert db.get_cursors(cur, "A1") == {
        "g1": db.SyncCursor(date(2025, 3, 3), utc(3, 3, 1)),
        "g2": db.SyncCursor(date(2025, 3, 2), utc(3, 2, 5)),
    }


def test_a_sync_run_is_recorded_from_start_to_finish(cur):
    assert db.last_sync_run(cur, "A1") is None

    first = db.start_sync_run(cur, "A1")
    running = db.last_sync_run(cur, "A1")
    db.finish_sync_run(
        cur,
        first,
        "partial",
        requests=12,
        pages=10,
        rows=900,
        throttled=2,
        retried=3,
        errors=1,
        message="1 ad group failed",
    )
    finished = db.last_sync_run(cur, "A1")

    assert running is not None and running.status == "running" and running.finished_at is None
    assert finished is not None
    assert (finished.run_id, finished.advertiser_id, finished.status) == (first, "A1", "partial")
    assert (finished.requests, finished.pages, finished.rows) == (12, 10, 900)
    assert (finished.throttled, finished.retried, finished.errors) == (2, 3, 1)
    assert finished.message == "1 ad group failed"
    assert finished.started_at.tzinfo is not None
    assert finished.started_at <= finished.finished_at


def test_the_last_sync_run_is_the_latest_one_started(cur):
    first = db.start_sync_run(cur, "A1")
    db.finish_sync_run(cur, first, "ok")
    second = db.start_sync_run(cur, "A1")
    db.start_sync_run(cur, "A2")

    assert second > first
    assert db.last_sync_run(cur, "A1").run_id == second


def test_a_sync_cannot_finish_as_running_or_unknown(cur):
    run_id = db.start_sync_run(cur, "A1")

    for status in ("running", "done"):
        with pytest.raises(ValueError, match="ok, partial, failed or interrupted"):
            db.finish_sync_run(cur, run_id, status)  # type: ignore[arg-type]


def test_failing_ad_groups_are_recorded_against_their_run(cur):
    run_id = db.start_sync_run(cur, "A1")

    db.record_sync_failure(cur, run_id, "A1", "g1", "TikTok is having trouble (51010)")
    db.record_sync_failure(cur, run_id, "A1", "g2", "no permission (40001)")

    failures = db.sync_failures(cur, run_id)
    assert failures[["adgroup_id", "error"]].to_dict("records") == [
        {"adgroup_id": "g1", "error": "TikTok is having trouble (51010)"},
        {"adgroup_id": "g2", "error": "no permission (40001)"},
    ]
    assert db.sync_failures(cur, run_id + 1).empty


def test_runs_left_running_by_a_dead_process_are_marked_interrupted(cur):
    done = db.start_sync_run(cur, "A1")
    db.finish_sync_run(cur, done, "ok")
    stale = db.start_sync_run(cur, "A2")

    assert db.mark_interrupted_runs(cur) == 1
    assert db.last_sync_run(cur, "A1").status == "ok"
    interrupted = db.last_sync_run(cur, "A2")
    assert (interrupted.run_id, interrupted.status) == (stale, "interrupted")
    assert interrupted.finished_at is not None


# --- timezones ------------------------------------------------------------------------------


def test_the_advertiser_timezone_comes_from_the_advertisers_table(account):
    assert db.advertiser_timezone(account, "A1") == "Asia/Tokyo"
    assert db.advertiser_timezone(account, "A2") == "America/New_York"


def test_an_unknown_or_invalid_timezone_is_utc(account):
    db.upsert_advertisers(
        account, pd.DataFrame({"advertiser_id": ["A3", "A4"], "timezone": ["Mars/Olympus", None]})
    )

    assert db.advertiser_timezone(account, "A3") == "UTC"
    assert db.advertiser_timezone(account, "A4") == "UTC"
    assert db.advertiser_timezone(account, "nobody") == "UTC"


# --- the comments page ----------------------------------------------------------------------


def test_comments_come_newest_first_in_pages(account):
    pages = [ids(db.comments_page(account, A1, limit=5, offset=o)) for o in (0, 5, 10, 15)]

    assert pages == [
        ["r5", "r4", "c6", "c5", "c4"],
        ["r7", "r6", "c3", "r3", "c2"],
        ["r2", "r1", "c1", "c7"],
        [],
    ]
    assert db.comments_count(account, A1) == 14


def test_comments_can_come_oldest_first_or_most_liked_first(account):
    assert ids(db.comments_page(account, A1, limit=4, order="oldest")) == ["c7", "c1", "r1", "r2"]
    assert ids(db.comments_page(account, A1, limit=5, order="most_liked")) == [
        "c5",
        "c1",
        "r1",
        "c2",
        "r4",
    ]


def test_a_page_carries_answered_and_local_time(account):
    page = db.comments_page(account, A1, limit=20).set_index("comment_id")

    assert sorted(page.index[page["answered"]]) == ["c1", "c3", "c5"]
    assert page.loc["c2", "create_time"] == pd.Timestamp("2025-03-01 23:30", tz="UTC")
    assert page.loc["c2", "create_time_local"] == pd.Timestamp("2025-03-02 08:30")
    assert page.loc["c7", "create_time_local"] == pd.Timestamp("2025-02-20 09:00")
    assert list(page.columns[-2:]) == ["create_time_local", "answered"]


def test_an_empty_page_still_has_every_column(account):
    page = db.comments_page(account, CommentFilters("nobody"))

    assert page.empty
    assert {"comment_id", "content", "create_time_local", "answered"} <= set(page.columns)


def test_local_time_follows_each_advertisers_timezone(account):
    page = db.comments_page(account, CommentFilters("A2")).set_index("comment_id")

    assert page.loc["n1", "create_time_local"] == pd.Timestamp("2025-03-01 22:00")


def test_dates_are_whole_days_in_the_advertisers_timezone(account):
    march_2 = CommentFilters("A1", date_from=date(2025, 3, 2), date_to=date(2025, 3, 2))

    # c2 was written at 23:30 UTC on 1 March: already 2 March in Tokyo.
    assert ids(db.comments_page(account, march_2)) == ["c4", "r7", "r6", "c3", "r3", "c2"]
    assert db.comments_count(account, march_2) == 6

    new_york_march_1 = CommentFilters("A2", date_from=date(2025, 3, 1), date_to=date(2025, 3, 1))
    assert ids(db.comments_page(account, new_york_march_1)) == ["n1"]


def test_an_open_ended_date_range(account):
    since = CommentFilters("A1", date_from=date(2025, 3, 3))
    until = CommentFilters("A1", date_to=date(2025, 2, 28))

    assert ids(db.comments_page(account, since)) == ["r5", "r4", "c6", "c5"]
    assert ids(db.comments_page(account, until)) == ["c7"]


def test_filter_by_ads(account):
    assert ids(db.comments_page(account, CommentFilters("A1", ad_ids=["ad2"]))) == [
        "r5",
        "r4",
        "c6",
        "c5",
    ]
    assert ids(db.comments_page(account, CommentFilters("A1", ad_ids=["ad2", "ad9"]))) == [
        "r5",
        "r4",
        "c6",
        "c5",
        "c7",
    ]
    assert db.comments_count(account, CommentFilters("A1", ad_ids=[])) == 0


def test_filter_by_status_and_type(account):
    hidden = CommentFilters("A1", status="HIDDEN")
    replies = CommentFilters("A1", comment_type="REPLY")
    public_top_level = CommentFilters("A1", status="PUBLIC", comment_type="COMMENT")

    assert ids(db.comments_page(account, hidden)) == ["c4", "r6"]
    assert ids(db.comments_page(account, replies)) == ["r5", "r4", "r7", "r6", "r3", "r2", "r1"]
    assert ids(db.comments_page(account, public_top_level)) == ["c6", "c5", "c3", "c2", "c1", "c7"]


def test_search_matches_content_and_user_name_ignoring_case(account):
    def search(text):
        return ids(db.comments_page(account, CommentFilters("A1", search=text)))

    assert search("LOVE") == ["c1", "c7"]
    assert search("fan") == ["r2", "c1", "c7"]
    assert search("  shopper_jo ") == ["c5"]
    assert search("") == ids(db.comments_page(account, A1))


def test_search_takes_like_wildcards_literally(account):
    def search(text):
        return ids(db.comments_page(account, CommentFilters("A1", search=text)))

    assert search("100%") == ["c3"]  # not r6 "100 times no"
    assert search("my_size") == ["c6"]  # not c4 "buy my size here"
    assert search("\\") == ["r3"]
    assert search("%") == ["c3"]


def test_unanswered_comments_are_top_level_without_a_brand_reply(account):
    unanswered = CommentFilters("A1", unanswered_only=True)

    assert ids(db.comments_page(account, unanswered)) == ["c6", "c4", "c2", "c7"]
    assert ids(db.unanswered_comments(account, A1, order="most_liked")) == ["c2", "c6", "c4", "c7"]
    assert db.comments_count(account, unanswered) == 4


def test_filters_combine(account):
    filters = CommentFilters(
        "A1",
        ad_ids=["ad1"],
        date_from=date(2025, 3, 2),
        date_to=date(2025, 3, 2),
        status="PUBLIC",
        comment_type="COMMENT",
    )

    assert ids(db.comments_page(account, filters)) == ["c3", "c2"]
    # "o": c6 "sold out", c4 by bot_123, c7 "love"; not c2 "Price?" by deal_hunter.
    unanswered_with_o = CommentFilters("A1", search="o", unanswered_only=True)
    assert ids(db.comments_page(account, unanswered_with_o)) == ["c6", "c4", "c7"]


def test_bad_filter_values_are_refused():
    with pytest.raises(ValueError, match="status"):
        CommentFilters("A1", status="VISIBLE")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="comment_type"):
        CommentFilters("A1", comment_type="ALL")  # type: ignore[arg-type]


def test_bad_paging_values_are_refused(account):
    with pytest.raises(ValueError, match="order"):
        db.comments_page(account, A1, order="random")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        db.comments_page(account, A1, limit=-1)
    with pytest.raises(ValueError, match="offset"):
        db.comments_page(account, A1, offset=1.5)  # type: ignore[arg-type]


def test_filters_are_hashable_values():
    assert CommentFilters("A1", ad_ids=["ad1"]) == CommentFilters("A1", ad_ids=("ad1",))
    assert hash(CommentFilters("A1", ad_ids=["ad1"])) == hash(CommentFilters("A1", ("ad1",)))


def test_replies_of_the_shown_comments_in_one_go(account):
    replies = db.replies_for(account, ["c1", "c5", "c6"])

    assert replies[["comment_id", "original_comment_id", "is_brand"]].to_dict("records") == [
        {"comment_id": "r1", "original_comment_id": "c1", "is_brand": True},
        {"comment_id": "r2", "original_comment_id": "c1", "is_brand": False},
        {"comment_id": "r4", "original_comment_id": "c5", "is_brand": True},
        {"comment_id": "r5", "original_comment_id": "c5", "is_brand": True},
    ]
    assert replies.loc[0, "create_time_local"] == pd.Timestamp("2025-03-01 19:30")
    assert db.replies_for(account, []).empty


# --- ads and charts -------------------------------------------------------------------------


def test_every_ad_with_its_comment_counts(account):
    ads = db.ads_with_counts(account, "A1")

    assert records(
        ads[
            [
                "ad_id",
                "ad_name",
                "campaign_name",
                "adgroup_id",
                "operation_status",
                "comment_count",
                "unanswered_count",
                "hidden_count",
            ]
        ]
    ) == [
        {
            "ad_id": "ad1",
            "ad_name": "Spring promo",
            "campaign_name": "Spring",
            "adgroup_id": "g1",
            "operation_status": "ENABLE",
            "comment_count": 9,
            "unanswered_count": 2,
            "hidden_count": 2,
        },
        {
            "ad_id": "ad2",
            "ad_name": "Summer sale",
            "campaign_name": "Spring",
            "adgroup_id": "g1",
            "operation_status": "DISABLE",
            "comment_count": 4,
            "unanswered_count": 1,
            "hidden_count": 0,
        },
        {
            "ad_id": "ad9",
            "ad_name": "Old promo",
            "campaign_name": "Spring",
            "adgroup_id": "g1",
            "operation_status": None,
            "comment_count": 1,
            "unanswered_count": 1,
            "hidden_count": 0,
        },
        {
            "ad_id": "ad3",
            "ad_name": "Quiet ad",
            "campaign_name": "Spring",
            "adgroup_id": "g2",
            "operation_status": "ENABLE",
            "comment_count": 0,
            "unanswered_count": 0,
            "hidden_count": 0,
        },
    ]
    last = ads.set_index("ad_id")["last_comment_time"]
    assert last["ad1"] == pd.Timestamp("2025-03-02 05:00", tz="UTC")
    assert last["ad2"] == pd.Timestamp("2025-03-03 05:00", tz="UTC")
    assert pd.isna(last["ad3"])
    assert ads.set_index("ad_id").loc["ad1", "last_comment_time_local"] == pd.Timestamp(
        "2025-03-02 14:00"
    )


def test_an_advertiser_without_ads_has_no_rows(account):
    assert db.ads_with_counts(account, "nobody").empty


def test_comment_volume_by_ad_groups_the_tail_as_other_ads(account):
    def volume(top_n):
        return tuples(db.comment_volume_by_ad(account, A1, top_n=top_n))

    assert volume(10) == [
        ("ad1", "Spring promo", "ad", 9),
        ("ad2", "Summer sale", "ad", 4),
        ("ad9", "Old promo", "ad", 1),
    ]
    assert volume(3) == volume(10)
    assert volume(2) == [
        ("ad1", "Spring promo", "ad", 9),
        ("ad2", "Summer sale", "ad", 4),
        (None, "Other ads", "ad", 1),
    ]
    assert volume(1) == [("ad1", "Spring promo", "ad", 9), (None, "Other ads", "ad", 5)]
    assert volume(0) == [(None, "Other ads", "ad", 14)]


def test_comment_volume_by_ad_follows_the_filters(account):
    march_3 = CommentFilters("A1", date_from=date(2025, 3, 3), date_to=date(2025, 3, 3))

    frame = db.comment_volume_by_ad(account, march_3)

    assert tuples(frame) == [("ad2", "Summer sale", "ad", 4)]
    assert db.comment_volume_by_ad(account, CommentFilters("nobody")).empty


def test_comment_volume_per_local_day_with_empty_days_as_zero(account):
    volume = db.comment_volume_over_time(account, A1)

    assert volume["bucket"].tolist() == list(pd.date_range("2025-02-20", "2025-03-03"))
    assert volume["comments"].tolist() == [1] + [0] * 8 + [3, 6, 4]
    assert set(volume["ad_name"]) == {"All ads"}
    assert volume["ad_id"].isna().all()


def test_comment_volume_over_the_filters_dates_per_ad(account):
    march = CommentFilters("A1", date_from=date(2025, 3, 1), date_to=date(2025, 3, 4))

    volume = db.comment_volume_over_time(account, march, ad_ids=["ad2", "ad1"])

    assert tuples(volume) == [
        (pd.Timestamp("2025-03-01"), "ad1", "Spring promo", "ad", 3),
        (pd.Timestamp("2025-03-01"), "ad2", "Summer sale", "ad", 0),
        (pd.Timestamp("2025-03-02"), "ad1", "Spring promo", "ad", 6),
        (pd.Timestamp("2025-03-02"), "ad2", "Summer sale", "ad", 0),
        (pd.Timestamp("2025-03-03"), "ad1", "Spring promo", "ad", 0),
        (pd.Timestamp("2025-03-03"), "ad2", "Summer sale", "ad", 4),
        (pd.Timestamp("2025-03-04"), "ad1", "Spring promo", "ad", 0),
        (pd.Timestamp("2025-03-04"), "ad2", "Summer sale", "ad", 0),
    ]


def test_comment_volume_per_local_hour(account):
    march_3 = CommentFilters("A1", date_from=date(2025, 3, 3), date_to=date(2025, 3, 3))

    volume = db.comment_volume_over_time(account, march_3, grain="hour", ad_ids=["ad2"])

    assert volume["bucket"].tolist() == list(pd.date_range("2025-03-03", periods=24, freq="h"))
    by_hour = dict(zip(volume["bucket"].dt.hour, volume["comments"], strict=True))
    assert {hour: n for hour, n in by_hour.items() if n} == {10: 1, 11: 1, 12: 1, 14: 1}
    assert set(volume["ad_name"]) == {"Summer sale"}


def test_comment_volume_per_hour_in_a_half_hour_timezone(account):
    db.upsert_advertisers(
        account, pd.DataFrame({"advertiser_id": ["A1"], "timezone": ["Asia/Kolkata"]})
    )

    volume = db.comment_volume_over_time(account, CommentFilters("A1", ad_ids=["ad1"]), "hour")

    # Kolkata is UTC+5:30: 10:00, 10:30, 11:00 UTC are 15:30, 16:00, 16:30 there, and
    # 23:30 and 00:00 UTC are 05:00 and 05:30 the next morning.
    nonzero = volume[volume["comments"] > 0]
    assert [str(b) for b in nonzero["bucket"]][:3] == [
        "2025-03-01 15:00:00",
        "2025-03-01 16:00:00",
        "2025-03-02 05:00:00",
    ]
    assert nonzero["comments"].tolist()[:3] == [1, 2, 2]


def test_comment_volume_of_nothing_is_empty(account):
    volume = db.comment_volume_over_time(account, CommentFilters("nobody"))

    assert volume.empty
    assert list(volume.columns) == ["bucket", "ad_id", "ad_name", "source", "comments"]


def test_bad_grain_is_refused(account):
    with pytest.raises(ValueError, match="grain"):
        db.comment_volume_over_time(account, A1, grain="week")  # type: ignore[arg-type]


def test_ad_engagement(account):
    engagement = db.ad_engagement(account, A1)

    assert records(engagement) == [
        {
            "ad_id": "ad1",
            "ad_name": "Spring promo",
            "source": "ad",
            "comments": 9,
            "top_level_comments": 4,
            "answered_comments": 2,
            "hidden_share": pytest.approx(2 / 9),
            "reply_rate": 0.5,
            "median_minutes_to_first_reply": 60.0,  # 30 and 90 minutes
        },
        {
            "ad_id": "ad2",
            "ad_name": "Summer sale",
            "source": "ad",
            "comments": 4,
            "top_level_comments": 2,
            "answered_comments": 1,
            "hidden_share": 0.0,
            "reply_rate": 0.5,
            "median_minutes_to_first_reply": 120.0,  # the first of two brand replies
        },
        {
            "ad_id": "ad9",
            "ad_name": "Old promo",
            "source": "ad",
            "comments": 1,
            "top_level_comments": 1,
            "answered_comments": 0,
            "hidden_share": 0.0,
            "reply_rate": 0.0,
            "median_minutes_to_first_reply": None,
        },
    ]


def test_ad_engagement_without_top_level_comments_has_no_reply_rate(account):
    engagement = db.ad_engagement(account, CommentFilters("A1", comment_type="REPLY"))

    assert engagement["ad_id"].tolist() == ["ad1", "ad2"]
    assert engagement["reply_rate"].isna().all()


# --- concurrency ----------------------------------------------------------------------------


def test_readers_on_their_own_cursors_see_whole_batches_while_a_writer_upserts(store):
    batches, size = 12, 200
    writer_cursor = store.cursor()
    db.upsert_advertisers(writer_cursor, pd.DataFrame({"advertiser_id": ["A1"]}))
    done = threading.Event()
    seen: dict[str, list[int]] = {"reader-1": [], "reader-2": []}
    errors: list[BaseException] = []

    def write():
        try:
            for b in range(batches):
                n = np.arange(b * size, (b + 1) * size)
                db.upsert_comments(
                    writer_cursor,
                    pd.DataFrame(
                        {
                            "comment_id": [f"w{i:05d}" for i in n],
                            "advertiser_id": "A1",
                            "comment_type": "COMMENT",
                            "content": "hello",
                            "create_time": pd.Timestamp("2025-03-01", tz="UTC")
                            + pd.to_timedelta(n, unit="s"),
                        }
                    ),
                    SEEN,
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    def read(name):
        cur = store.cursor()
        try:
            while not done.is_set():
                seen[name].append(db.comments_count(cur, A1))
                db.comments_page(cur, A1, limit=10)
            seen[name].append(db.comments_count(cur, A1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(name,)) for name in seen]
    threads.append(threading.Thread(target=write))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    for counts in seen.values():
        assert counts == sorted(counts)
        assert all(count % size == 0 for count in counts)
        assert counts[-1] == batches * size


def test_a_batch_beyond_the_databases_memory_is_stored_whole_in_parts(tmp_path):
    rows = 120_000
    base = datetime(2026, 1, 1, tzinfo=UTC)
    batch = pa.table({
        "comment_id": [f"c{i:07d}" for i in range(rows)],
        "advertiser_id": ["A1"] * rows,
        "content": [f"comment number {i} " * 4 for i in range(rows)],
        "likes": list(range(rows)),
        "create_time": pa.array([base] * rows, pa.timestamp("us", tz="UTC")),
    })
    again = batch.set_column(3, "likes", pa.array([n + 1 for n in range(rows)], pa.int64()))
    with Store.open(tmp_path / "small.duckdb", "48MB") as store, store.cursor() as cur:
        db.upsert_comments(cur, batch, base)
        db.upsert_comments(cur, again, base + timedelta(hours=1))  # a MERGE over every row
        count, likes = cur.execute("SELECT count(*), sum(likes) FROM comments").fetchone()
    assert count == rows and likes == sum(range(rows)) + rows
