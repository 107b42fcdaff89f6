"""The analytics database: schema and migrations, bulk upserts, and the queries pages need.

One `Store` (one DuckDB handle) per process. Each thread or script run takes its own
`store.cursor()` and passes it to the functions here; a cursor is never shared between threads.
Columns carry TikTok's field names. Timestamps are stored as TIMESTAMPTZ and come back in UTC;
`*_local` columns are wall-clock times in the advertiser's timezone (UTC when unknown).

SQL is assembled from fixed fragments and column names read from the schema only; every value,
user input included, is a bound parameter (hence the `noqa: S608` marks).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

Cursor = duckdb.DuckDBPyConnection
"""A DuckDB cursor: one per thread, from `Store.cursor()`."""

TableData = pd.DataFrame | pa.Table

SYNC_STATUSES = ("running", "ok", "partial", "failed", "interrupted")
COMMENT_SOURCES = ("ad", "organic")

# Each entry moves the schema one version up. Never edit a released entry: append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema.
    """
    CREATE TABLE advertisers (
        advertiser_id VARCHAR PRIMARY KEY,
        name          VARCHAR,
        timezone      VARCHAR,
        currency      VARCHAR,
        company       VARCHAR,
        status        VARCHAR,
        country       VARCHAR,
        role          VARCHAR,
        updated_at    TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE ads (
        ad_id            VARCHAR PRIMARY KEY,
        advertiser_id    VARCHAR NOT NULL,
        campaign_id      VARCHAR,
        campaign_name    VARCHAR,
        adgroup_id       VARCHAR,
        adgroup_name     VARCHAR,
        ad_name          VARCHAR,
        tiktok_item_id   VARCHAR,
        video_id         VARCHAR,
        identity_type    VARCHAR,
        identity_id      VARCHAR,
        ad_text          VARCHAR,
        operation_status VARCHAR,
        secondary_status VARCHAR,
        create_time      TIMESTAMPTZ,
        modify_time      TIMESTAMPTZ,
        first_seen_at    TIMESTAMPTZ NOT NULL,
        last_seen_at     TIMESTAMPTZ NOT NULL
    );

    -- No indexes at all: DuckDB filters advertiser_id, ad_id and create_time with zonemaps
    -- and vectorised scans. comment_id is kept unique by the upserts (one MERGE per batch,
    -- one writer), because maintaining an ART key costs more than the whole bulk load.
    CREATE TABLE comments (
        comment_id                   VARCHAR NOT NULL,
        advertiser_id                VARCHAR NOT NULL,
        app                          VARCHAR,
        content                      VARCHAR,
        likes                        INTEGER,
        replies                      INTEGER,
        comment_type                 VARCHAR,
        original_comment_id          VARCHAR,
        comment_status               VARCHAR,
        hit_blockedword              BOOLEAN,
        ad_text                      VARCHAR,
        create_time                  TIMESTAMPTZ,
        campaign_id                  VARCHAR,
        campaign_name                VARCHAR,
        adgroup_id                   VARCHAR,
        adgroup_name                 VARCHAR,
        ad_id                        VARCHAR,
        ad_name                      VARCHAR,
        tiktok_item_id               VARCHAR,
        identity_id                  VARCHAR,
        identity_type                VARCHAR,
        is_pinned                    BOOLEAN,
        can_delete                   BOOLEAN,
        is_auth_ttba                 BOOLEAN,
        is_auth_comment_manage_scope BOOLEAN,
        video_play_url               VARCHAR,
        video_cover_url              VARCHAR,
        user_avatar_url              VARCHAR,
        user_name                    VARCHAR,
        user_id                      VARCHAR,
        first_seen_at                TIMESTAMPTZ NOT NULL,
        last_seen_at                 TIMESTAMPTZ NOT NULL
    );

    CREATE SEQUENCE sync_run_ids START 1;

    CREATE TABLE sync_runs (
        run_id        BIGINT PRIMARY KEY DEFAULT nextval('sync_run_ids'),
        advertiser_id VARCHAR NOT NULL,
        started_at    TIMESTAMPTZ NOT NULL,
        finished_at   TIMESTAMPTZ,
        status        VARCHAR NOT NULL
            CHECK (status IN ('running', 'ok', 'partial', 'failed', 'interrupted')),
        requests      INTEGER NOT NULL DEFAULT 0,
        pages         INTEGER NOT NULL DEFAULT 0,
        rows          INTEGER NOT NULL DEFAULT 0,
        throttled     INTEGER NOT NULL DEFAULT 0,
        retried       INTEGER NOT NULL DEFAULT 0,
        errors        INTEGER NOT NULL DEFAULT 0,
        message       VARCHAR
    );

    -- synced_through: the last day whose comments are fully stored for that ad group;
    -- high_water: the newest create_time among them.
    CREATE TABLE sync_cursors (
        advertiser_id  VARCHAR NOT NULL,
        adgroup_id     VARCHAR NOT NULL,
        synced_through DATE NOT NULL,
        high_water     TIMESTAMPTZ,
        updated_at     TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (advertiser_id, adgroup_id)
    );

    CREATE TABLE sync_failures (
        run_id        BIGINT NOT NULL,
        advertiser_id VARCHAR NOT NULL,
        adgroup_id    VARCHAR,
        error         VARCHAR NOT NULL,
        failed_at     TIMESTAMPTZ NOT NULL
    );
    """,
    # 2: writes to TikTok go through an outbox with an audit log; saved notebooks.
    """
    CREATE SEQUENCE action_ids START 1;
    -- One row per write a person asked for. request_key makes a double click or a rerun
    -- find the row it already made instead of sending again.
    CREATE TABLE outbox (
        action_id         BIGINT PRIMARY KEY DEFAULT nextval('action_ids'),
        request_key       VARCHAR NOT NULL UNIQUE,
        kind              VARCHAR NOT NULL CHECK (kind IN ('reply', 'hide', 'unhide', 'delete')),
        advertiser_id     VARCHAR NOT NULL,
        comment_id        VARCHAR NOT NULL,
        ad_id             VARCHAR,
        tiktok_item_id    VARCHAR,
        identity_type     VARCHAR,
        identity_id       VARCHAR,
        text              VARCHAR,
        status            VARCHAR NOT NULL
            CHECK (status IN ('pending', 'sent', 'failed', 'unknown')),
        result_comment_id VARCHAR,
        error             VARCHAR,
        attempts          INTEGER NOT NULL DEFAULT 0,
        actor             VARCHAR NOT NULL,
        created_at        TIMESTAMPTZ NOT NULL,
        updated_at        TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE audit_log (
        logged_at     TIMESTAMPTZ NOT NULL,
        action_id     BIGINT,
        actor         VARCHAR NOT NULL,
        advertiser_id VARCHAR,
        event         VARCHAR NOT NULL,
        detail        VARCHAR
    );
    CREATE TABLE notebooks (
        name       VARCHAR PRIMARY KEY,
        cells      VARCHAR NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 3: what the SQL notebook sees (desk/notebook.py): views in their own schema, so that
    # unqualified names there mean these. Columns are listed, so a column added to a table
    # later is not shown to analysts until a migration adds it here.
    """
    CREATE SCHEMA analyst;
    CREATE VIEW analyst.advertisers AS
        SELECT advertiser_id, name, timezone, currency, company, status, country, role,
               updated_at
        FROM main.advertisers;
    CREATE VIEW analyst.ads AS
        SELECT ad_id, advertiser_id, campaign_id, campaign_name, adgroup_id, adgroup_name,
               ad_name, tiktok_item_id, video_id, identity_type, identity_id, ad_text,
               operation_status, secondary_status, create_time, modify_time, first_seen_at,
               last_seen_at
        FROM main.ads;
    -- is_brand_reply: a reply the advertiser's identity posted (it can delete it).
    CREATE VIEW analyst.comments AS
        SELECT comment_id, advertiser_id, app, content, likes, replies, comment_type,
               original_comment_id, comment_status, hit_blockedword, ad_text, create_time,
               campaign_id, campaign_name, adgroup_id, adgroup_name, ad_id, ad_name,
               tiktok_item_id, identity_id, identity_type, is_pinned, can_delete, is_auth_ttba,
               is_auth_comment_manage_scope, video_play_url, video_cover_url, user_avatar_url,
               user_name, user_id, first_seen_at, last_seen_at,
               comment_type = 'REPLY' AND coalesce(can_delete, false) AS is_brand_reply
        FROM main.comments;
    -- One row per reply, with the comment it answers; the ad and advertiser are the
    -- parent's when the parent is stored.
    CREATE VIEW analyst.replies AS
        SELECT r.comment_id, r.original_comment_id,
               coalesce(p.advertiser_id, r.advertiser_id) AS advertiser_id,
               coalesce(p.campaign_id, r.campaign_id) AS campaign_id,
               coalesce(p.campaign_name, r.campaign_name) AS campaign_name,
               coalesce(p.adgroup_id, r.adgroup_id) AS adgroup_id,
               coalesce(p.adgroup_name, r.adgroup_name) AS adgroup_name,
               coalesce(p.ad_id, r.ad_id) AS ad_id,
               coalesce(p.ad_name, r.ad_name) AS ad_name,
               r.content, r.user_name, r.user_id, r.likes, r.comment_status, r.create_time,
               r.can_delete, coalesce(r.can_delete, false) AS is_brand_reply,
               p.content AS parent_content, p.user_name AS parent_user_name,
               p.create_time AS parent_create_time, p.comment_status AS parent_comment_status,
               date_diff('second', p.create_time, r.create_time) / 60.0
                   AS minutes_after_parent,
               r.first_seen_at, r.last_seen_at
        FROM main.comments r LEFT JOIN main.comments p ON p.comment_id = r.original_comment_id
        WHERE r.comment_type = 'REPLY';
    CREATE VIEW analyst.sync_runs AS
        SELECT run_id, advertiser_id, started_at, finished_at, status, requests, pages, rows,
               throttled, retried, errors, message
        FROM main.sync_runs;
    """,
    # 4: TikTok business accounts (the Accounts API): their profiles, videos and organic
    # comments. Organic comments share the comments table, told apart by `source`; they
    # belong to a business account, not to an ad account, so their advertiser_id is NULL
    # (every ad-comment query filters on advertiser_id and so never sees them) and
    # business_id and video_id say where they are. tiktok_item_id is the video_id too, as on
    # the ad comments of the Spark Ads that promote the video.
    """
    CREATE TABLE business_accounts (
        business_id       VARCHAR PRIMARY KEY,
        username          VARCHAR,
        display_name      VARCHAR,
        profile_image     VARCHAR,
        profile_deep_link VARCHAR,
        bio_description   VARCHAR,
        is_verified       BOOLEAN,
        followers_count   BIGINT,
        following_count   BIGINT,
        total_likes       BIGINT,
        videos_count      BIGINT,
        updated_at        TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE videos (
        video_id       VARCHAR PRIMARY KEY,
        business_id    VARCHAR NOT NULL,
        caption        VARCHAR,
        create_time    TIMESTAMPTZ,
        share_url      VARCHAR,
        embed_url      VARCHAR,
        thumbnail_url  VARCHAR,
        media_type     VARCHAR,
        is_ad          BOOLEAN,
        video_duration DOUBLE,
        video_views    BIGINT,
        reach          BIGINT,
        likes          BIGINT,
        comments       BIGINT,
        shares         BIGINT,
        favorites      BIGINT,
        first_seen_at  TIMESTAMPTZ NOT NULL,
        last_seen_at   TIMESTAMPTZ NOT NULL
    );
    -- high_water: the newest create_time among the video's stored top-level comments.
    CREATE TABLE organic_cursors (
        business_id VARCHAR NOT NULL,
        video_id    VARCHAR PRIMARY KEY,
        high_water  TIMESTAMPTZ,
        updated_at  TIMESTAMPTZ NOT NULL
    );
    ALTER TABLE comments ALTER COLUMN advertiser_id DROP NOT NULL;
    ALTER TABLE comments ADD COLUMN source VARCHAR DEFAULT 'ad';
    ALTER TABLE comments ADD COLUMN video_id VARCHAR;
    ALTER TABLE comments ADD COLUMN business_id VARCHAR;
    UPDATE comments SET source = 'ad' WHERE source IS NULL;
    -- Organic writes: the business account and video they act on instead of an ad account.
    ALTER TABLE outbox ALTER COLUMN advertiser_id DROP NOT NULL;
    ALTER TABLE outbox ADD COLUMN source VARCHAR DEFAULT 'ad';
    ALTER TABLE outbox ADD COLUMN business_id VARCHAR;
    ALTER TABLE outbox ADD COLUMN video_id VARCHAR;

    CREATE OR REPLACE VIEW analyst.comments AS
        SELECT comment_id, advertiser_id, app, content, likes, replies, comment_type,
               original_comment_id, comment_status, hit_blockedword, ad_text, create_time,
               campaign_id, campaign_name, adgroup_id, adgroup_name, ad_id, ad_name,
               tiktok_item_id, identity_id, identity_type, is_pinned, can_delete, is_auth_ttba,
               is_auth_comment_manage_scope, video_play_url, video_cover_url, user_avatar_url,
               user_name, user_id, first_seen_at, last_seen_at, source, video_id, business_id,
               comment_type = 'REPLY' AND coalesce(can_delete, false) AS is_brand_reply
        FROM main.comments;
    CREATE OR REPLACE VIEW analyst.replies AS
        SELECT r.comment_id, r.original_comment_id,
               coalesce(p.advertiser_id, r.advertiser_id) AS advertiser_id,
               coalesce(p.campaign_id, r.campaign_id) AS campaign_id,
               coalesce(p.campaign_name, r.campaign_name) AS campaign_name,
               coalesce(p.adgroup_id, r.adgroup_id) AS adgroup_id,
               coalesce(p.adgroup_name, r.adgroup_name) AS adgroup_name,
               coalesce(p.ad_id, r.ad_id) AS ad_id,
               coalesce(p.ad_name, r.ad_name) AS ad_name,
               r.content, r.user_name, r.user_id, r.likes, r.comment_status, r.create_time,
               r.can_delete, coalesce(r.can_delete, false) AS is_brand_reply,
               p.content AS parent_content, p.user_name AS parent_user_name,
               p.create_time AS parent_create_time, p.comment_status AS parent_comment_status,
               date_diff('second', p.create_time, r.create_time) / 60.0
                   AS minutes_after_parent,
               r.first_seen_at, r.last_seen_at,
               r.source, coalesce(p.video_id, r.video_id) AS video_id,
               coalesce(p.business_id, r.business_id) AS business_id
        FROM main.comments r LEFT JOIN main.comments p ON p.comment_id = r.original_comment_id
        WHERE r.comment_type = 'REPLY';
    CREATE VIEW analyst.business_accounts AS
        SELECT business_id, username, display_name, profile_image, profile_deep_link,
               bio_description, is_verified, followers_count, following_count, total_likes,
               videos_count, updated_at
        FROM main.business_accounts;
    -- ad_ids: the Spark Ads promoting the video (ads.tiktok_item_id = videos.video_id).
    CREATE VIEW analyst.videos AS
        SELECT v.video_id, v.business_id, v.caption, v.create_time, v.share_url, v.embed_url,
               v.thumbnail_url, v.media_type, v.is_ad, v.video_duration, v.video_views,
               v.reach, v.likes, v.comments, v.shares, v.favorites, v.first_seen_at,
               v.last_seen_at,
               (SELECT list(a.ad_id ORDER BY a.ad_id) FROM main.ads a
                WHERE a.tiktok_item_id = v.video_id) AS ad_ids
        FROM main.videos v;
    """,
)


class StoreError(Exception):
    """The analytics database cannot be used as asked."""


class StoreLocked(StoreError):
    """Another process holds the database file."""

    def __init__(self, path: str):
        super().__init__(
            f"the database {path} is in use by another Comment Desk process (the app?). "
            "Stop it or sync from the app."
        )
        self.path = path


class Store:
    """The process's one handle on the analytics database. Hand out cursors, never itself."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: str, read_only: bool):
        self._connection = connection
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating if needed) the database read-write and apply pending migrations."""
        target = str(path)
        if not target.startswith(("md:", ":memory:")):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(target, read_only=False)
        try:
            migrate(connection)
            _lock_configuration(connection)
        except BaseException:
            connection.close()
            raise
        return cls(connection, target, read_only=False)

    @classmethod
    def open_readonly(cls, path: Path | str) -> Store:
        """Open an existing, up-to-date database for reading only."""
        target = str(path)
        if not target.startswith("md:") and not Path(target).exists():
            raise StoreError(f"there is no database at {target}")
        connection = _connect(target, read_only=True)
        version = schema_version(connection)
        if version != len(MIGRATIONS):
            connection.close()
            raise StoreError(
                f"the database {target} has schema version {version}, this Comment Desk needs "
                f"{len(MIGRATIONS)}: open it read-write once (start the app) to upgrade it."
            )
        _lock_configuration(connection)
        return cls(connection, target, read_only=True)

    def cursor(self) -> Cursor:
        """A new cursor for the calling thread."""
        return self._connection.cursor()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({self.path!r}, {mode})"


# No query may reach outside the database: no files, URLs, extensions or Python variables
# (the SQL notebook runs analysts' own queries). Bulk loads use register(), which still works.
_LOCKED_DOWN = MappingProxyType(
    {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,
    }
)


def _connect(target: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        connection = duckdb.connect(target, read_only=read_only, config=dict(_LOCKED_DOWN))
    except duckdb.IOException as exc:
        if "Could not set lock on file" in str(exc):
            raise StoreLocked(target) from exc
        raise
    except duckdb.ConnectionException as exc:
        if "different configuration" in str(exc):
            raise StoreError(
                f"this process already has {target} open in another mode; "
                "use a cursor() of that Store"
            ) from exc
        raise
    # Every cursor inherits this: TIMESTAMPTZ values are read and written as UTC.
    _rows(connection, "SET GLOBAL TimeZone = 'UTC'")
    return connection


def _lock_configuration(connection: duckdb.DuckDBPyConnection) -> None:
    """From here on no statement can change a setting (external access above all)."""
    _rows(connection, "SET lock_configuration = true")


def schema_version(cur: Cursor) -> int:
    """The highest migration applied to the database (0 for a new file)."""
    exists = _first(
        cur,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = 'schema_version'",
    )
    if not exists or not exists[0]:
        return 0
    row = _first(cur, "SELECT coalesce(max(version), 0) FROM schema_version")
    return int(row[0]) if row else 0


def migrate(cur: Cursor, migrations: Sequence[str] = MIGRATIONS) -> list[int]:
    """Apply the pending migrations in one transaction; return the versions applied."""
    cur.begin()
    try:
        _rows(
            cur,
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
        )
        current = schema_version(cur)
        if current > len(migrations):
            raise StoreError(
                f"the database has schema version {current}, newer than this Comment Desk "
                f"({len(migrations)}): upgrade Comment Desk."
            )
        applied = []
        for version in range(current + 1, len(migrations) + 1):
            _rows(cur, migrations[version - 1])
            _rows(cur, "INSERT INTO schema_version VALUES (?, ?)", [version, _now()])
            applied.append(version)
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    return applied


# ---------------------------------------------------------------------------------------------
# Bulk upserts


def upsert_advertisers(cur: Cursor, data: TableData) -> int:
    """Insert or update advertisers by advertiser_id; return the rows written."""
    now = _now()
    return _upsert(
        cur, "advertisers", "advertiser_id", data, stamps={"updated_at": now}, insert_only=()
    )


def upsert_ads(cur: Cursor, data: TableData, seen_at: datetime) -> int:
    """Insert or update ads by ad_id, as seen at `seen_at`; return the rows written."""
    seen = _utc(seen_at)
    return _upsert(
        cur,
        "ads",
        "ad_id",
        data,
        stamps={"first_seen_at": seen, "last_seen_at": seen},
        insert_only=("first_seen_at",),
    )


def upsert_comments(cur: Cursor, data: TableData, seen_at: datetime) -> int:
    """Insert or update comments by comment_id, as seen at `seen_at`; return the rows written."""
    seen = _utc(seen_at)
    return _upsert(
        cur,
        "comments",
        "comment_id",
        data,
        stamps={"first_seen_at": seen, "last_seen_at": seen},
        insert_only=("first_seen_at",),
    )


def _upsert(
    cur: Cursor,
    table: str,
    key: str,
    data: TableData,
    stamps: Mapping[str, datetime],
    insert_only: Sequence[str],
) -> int:
    """One MERGE (or, into an empty table, one INSERT ... SELECT) from the deduplicated batch.

    Columns the batch leaves out are NULL in new rows and untouched in existing ones; columns
    the table lacks are ignored. The `stamps` columns are set by the store, `insert_only` ones
    only when a row is new.
    """
    batch = _as_arrow(data)
    if batch.num_rows == 0:
        return 0
    columns = _table_columns(cur, table)
    # Fields the table does not keep (ad_format, reply_user_name, ...) are left out.
    batch = batch.select([name for name in batch.column_names if name in columns])
    managed = [name for name in batch.column_names if name in stamps]
    if managed:
        raise ValueError(f"{', '.join(managed)} in {table} are set by the store, not the caller")
    if key not in batch.column_names:
        raise ValueError(f"every {table} row needs its {key}")
    if batch.column(key).null_count:
        raise ValueError(f"{batch.column(key).null_count} {table} rows have no {key}")
    if _has_duplicates(cur, batch, key):
        batch = _last_per_key(batch, key)

    given = [name for name in columns if name in batch.column_names]
    targets = [*given, *stamps]
    values = [f"CAST(b.{_quote(name)} AS {columns[name]})" for name in given]
    values += [f"CAST(? AS {columns[name]})" for name in stamps]
    updates = [f"{_quote(name)} = b.{_quote(name)}" for name in given if name != key]
    updates += [f"{_quote(name)} = ?" for name in stamps if name not in insert_only]
    update_params = [value for name, value in stamps.items() if name not in insert_only]

    view = f"_batch_{uuid.uuid4().hex}"
    cur.register(view, batch)
    try:
        # Into an empty table (a first sync) a plain INSERT does, and is the fastest bulk load.
        existing = _first(cur, f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608
        if existing and existing[0]:
            sql = (
                f"MERGE INTO {table} USING {view} AS b "  # noqa: S608
                f"ON {table}.{_quote(key)} = b.{_quote(key)} "
                f"WHEN MATCHED THEN UPDATE SET {', '.join(updates)} "
                f"WHEN NOT MATCHED THEN INSERT ({', '.join(map(_quote, targets))}) "
                f"VALUES ({', '.join(values)})"
            )
            params = [*update_params, *stamps.values()]
        else:
            sql = (
                f"INSERT INTO {table} ({', '.join(map(_quote, targets))}) "  # noqa: S608
                f"SELECT {', '.join(values)} FROM {view} AS b"
            )
            params = list(stamps.values())
        _rows(cur, sql, params)
    finally:
        cur.unregister(view)
    return batch.num_rows


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _as_arrow(data: TableData) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pd.DataFrame):
        # Arrow inspects every value, so None/NaN become NULL and Python datetimes, bools and
        # ints in object columns get their real types.
        return pa.Table.from_pandas(data, preserve_index=False)
    raise TypeError(f"expected a pandas DataFrame or a pyarrow Table, got {type(data).__name__}")


def _has_duplicates(cur: Cursor, batch: pa.Table, key: str) -> bool:
    """Whether a key repeats in the batch (DuckDB counts a million keys in a fraction of the
    time Arrow's count_distinct takes)."""
    view = f"_keys_{uuid.uuid4().hex}"
    cur.register(view, batch.select([key]))
    try:
        row = _first(cur, f"SELECT count(*) > count(DISTINCT {_quote(key)}) FROM {view}")  # noqa: S608
    finally:
        cur.unregister(view)
    return bool(row and row[0])


def _last_per_key(batch: pa.Table, key: str) -> pa.Table:
    """The batch with one row per key: the last occurrence, in batch order."""
    ids = batch.column(key)
    positions = pa.table({"key": ids, "row": pa.array(np.arange(batch.num_rows))})
    last = positions.group_by("key", use_threads=False).aggregate([("row", "max")])
    return batch.take(np.sort(last.column("row_max").to_numpy()))


def _table_columns(cur: Cursor, table: str) -> dict[str, str]:
    """The table's columns and their types, in order, as the database has them."""
    return {row[0]: row[1] for row in _rows(cur, f"DESCRIBE {table}")}


# ---------------------------------------------------------------------------------------------
# Sync bookkeeping


@dataclass(frozen=True)
class SyncRun:
    """One sync of one advertiser."""

    run_id: int
    advertiser_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    requests: int
    pages: int
    rows: int
    throttled: int
    retried: int
    errors: int
    message: str | None


@dataclass(frozen=True)
class SyncCursor:
    """How far one ad group is synced: every comment up to `synced_through` is stored."""

    synced_through: date
    high_water: datetime | None = None  # the newest create_time stored


def get_cursors(cur: Cursor, advertiser_id: str) -> dict[str, SyncCursor]:
    """The sync cursor of each ad group of an advertiser, by adgroup_id."""
    rows = query_records(
        cur,
        "SELECT adgroup_id, synced_through, high_water FROM sync_cursors WHERE advertiser_id = ?",
        [advertiser_id],
    )
    return {
        row["adgroup_id"]: SyncCursor(row["synced_through"], _as_utc(row["high_water"]))
        for row in rows
    }


def set_cursor(
    cur: Cursor,
    advertiser_id: str,
    adgroup_id: str,
    synced_through: date,
    high_water: datetime | None = None,
) -> None:
    """Record that every comment of the ad group up to `synced_through` is stored."""
    _rows(
        cur,
        "INSERT INTO sync_cursors VALUES (?, ?, ?, ?, ?) ON CONFLICT (advertiser_id, adgroup_id) "
        "DO UPDATE SET synced_through = excluded.synced_through, "
        "high_water = excluded.high_water, updated_at = excluded.updated_at",
        [
            advertiser_id,
            adgroup_id,
            synced_through,
            None if high_water is None else _utc(high_water),
            _now(),
        ],
    )


def start_sync_run(cur: Cursor, advertiser_id: str) -> int:
    """Record a sync as running; return its run_id."""
    row = _first(
        cur,
        "INSERT INTO sync_runs (advertiser_id, started_at, status) VALUES (?, ?, 'running') "
        "RETURNING run_id",
        [advertiser_id, _now()],
    )
    if row is None:
        raise StoreError("the sync run was not recorded")
    return int(row[0])


def finish_sync_run(
    cur: Cursor,
    run_id: int,
    status: Literal["ok", "partial", "failed", "interrupted"],
    *,
    requests: int = 0,
    pages: int = 0,
    rows: int = 0,
    throttled: int = 0,
    retried: int = 0,
    errors: int = 0,
    message: str | None = None,
) -> None:
    """Record how a sync ended and what it did."""
    if status not in SYNC_STATUSES or status == "running":
        raise ValueError(f"a sync ends as ok, partial, failed or interrupted, not {status!r}")
    _rows(
        cur,
        "UPDATE sync_runs SET finished_at = ?, status = ?, requests = ?, pages = ?, rows = ?, "
        "throttled = ?, retried = ?, errors = ?, message = ? WHERE run_id = ?",
        [_now(), status, requests, pages, rows, throttled, retried, errors, message, run_id],
    )


def record_sync_failure(
    cur: Cursor, run_id: int, advertiser_id: str, adgroup_id: str | None, error: str
) -> None:
    """Record an ad group the sync could not fetch; the run carries on with the others."""
    _rows(
        cur,
        "INSERT INTO sync_failures VALUES (?, ?, ?, ?, ?)",
        [run_id, advertiser_id, adgroup_id, error, _now()],
    )


def last_sync_run(cur: Cursor, advertiser_id: str) -> SyncRun | None:
    """The advertiser's most recently started sync, or None if it was never synced."""
    rows = query_records(
        cur,
        "SELECT run_id, advertiser_id, started_at, finished_at, status, requests, pages, rows, "
        "throttled, retried, errors, message FROM sync_runs WHERE advertiser_id = ? "
        "ORDER BY started_at DESC, run_id DESC LIMIT 1",
        [advertiser_id],
    )
    if not rows:
        return None
    run = rows[0]
    return SyncRun(
        **{
            **run,
            "started_at": _as_utc(run["started_at"]),
            "finished_at": _as_utc(run["finished_at"]),
        }
    )


def sync_failures(cur: Cursor, run_id: int) -> pd.DataFrame:
    """The ad groups a sync could not fetch, in the order they failed."""
    return query_frame(
        cur,
        "SELECT run_id, advertiser_id, adgroup_id, error, failed_at FROM sync_failures "
        "WHERE run_id = ? ORDER BY failed_at, adgroup_id",
        [run_id],
    )


def mark_interrupted_runs(cur: Cursor) -> int:
    """Mark syncs left 'running' by a process that died as interrupted; call before syncing."""
    rows = _rows(
        cur,
        "UPDATE sync_runs SET status = 'interrupted', finished_at = ? WHERE status = 'running' "
        "RETURNING run_id",
        [_now()],
    )
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class CommentFilters:
    """What the comments page shows. `ad_ids=None` means every ad; an empty list, none.

    Dates are whole days, inclusive, in the advertiser's timezone. `business_id` adds the
    organic comments of that TikTok business account to the advertiser's ad comments
    (advertiser_id "" for that account's organic comments alone); `source` keeps only "ad"
    or only "organic" comments (None: both). `video_ids` keeps the comments on those videos:
    organic ones and those on the Spark Ads promoting them (None: every video; an empty
    list, none). Given both, `ad_ids` and `video_ids` each add their comments: a comment on
    a chosen ad or on a chosen video matches.
    """

    advertiser_id: str
    ad_ids: Sequence[str] | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: Literal["PUBLIC", "HIDDEN"] | None = None
    comment_type: Literal["COMMENT", "REPLY"] | None = None
    search: str | None = None
    unanswered_only: bool = False
    source: Literal["ad", "organic"] | None = None
    business_id: str | None = None
    video_ids: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.source not in (None, *COMMENT_SOURCES):
            raise ValueError(f"source must be ad, organic or None, not {self.source!r}")
        if self.status not in (None, "PUBLIC", "HIDDEN"):
            raise ValueError(f"status must be PUBLIC, HIDDEN or None, not {self.status!r}")
        if self.comment_type not in (None, "COMMENT", "REPLY"):
            raise ValueError(
                f"comment_type must be COMMENT, REPLY or None, not {self.comment_type!r}"
            )
        if self.ad_ids is not None:
            object.__setattr__(self, "ad_ids", tuple(self.ad_ids))
        if self.video_ids is not None:
            object.__setattr__(self, "video_ids", tuple(self.video_ids))


_ORDERS = MappingProxyType(
    {
        "newest": "create_time DESC NULLS LAST, comment_id DESC",
        "oldest": "create_time ASC NULLS LAST, comment_id ASC",
        "most_liked": "likes DESC NULLS LAST, create_time DESC NULLS LAST, comment_id DESC",
    }
)

_GRAINS = MappingProxyType({"day": "INTERVAL 1 DAY", "hour": "INTERVAL 1 HOUR"})

# A brand reply: a REPLY its identity can delete, i.e. one the advertiser's identity posted.
_BRAND_REPLY = "r.comment_type = 'REPLY' AND r.can_delete"

# The one row (or series) that stands for every organic comment in the per-ad summaries.
ORGANIC_POSTS = "Organic posts"


def advertiser_timezone(cur: Cursor, advertiser_id: str) -> str:
    """The advertiser's IANA timezone, or 'UTC' when it is unknown or not a timezone."""
    row = _first(
        cur,
        "SELECT timezone, timezone IN (SELECT name FROM pg_timezone_names()) "
        "FROM advertisers WHERE advertiser_id = ?",
        [advertiser_id],
    )
    if not row or not row[0] or not row[1]:
        return "UTC"
    try:
        ZoneInfo(row[0])
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return str(row[0])


def list_advertisers(cur: Cursor) -> pd.DataFrame:
    """Every stored advertiser, by name."""
    return query_frame(
        cur,
        "SELECT advertiser_id, name, timezone, currency, company, status, country, role, "
        "updated_at FROM advertisers ORDER BY name, advertiser_id",
    )


def advertiser_updated_at(cur: Cursor, advertiser_id: str) -> datetime | None:
    """When the advertiser's details were last stored, or None if they never were."""
    row = query_records(cur, "SELECT updated_at FROM advertisers WHERE advertiser_id = ?",
                   [advertiser_id])
    return _as_utc(row[0]["updated_at"]) if row else None


def comments_page(
    cur: Cursor,
    filters: CommentFilters,
    limit: int = 50,
    offset: int = 0,
    order: Literal["newest", "oldest", "most_liked"] = "newest",
) -> pd.DataFrame:
    """One page of comments, with `answered` and `create_time_local` columns.

    `answered` is true for a top-level comment the brand has replied to, false otherwise.
    """
    if order not in _ORDERS:
        raise ValueError(f"order must be one of {', '.join(_ORDERS)}, not {order!r}")
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = _where(filters, tz)
    # DuckDB's top-N reads the wide columns only for the rows that make the page, and the
    # `answered` lookup then joins just those rows against the brand's replies.
    sql = f"""
        WITH page AS (
            SELECT * FROM comments c WHERE {where}
            ORDER BY {_ORDERS[order]} LIMIT ? OFFSET ?
        ),
        brand_replies AS (
            SELECT DISTINCT r.original_comment_id FROM comments r
            WHERE r.original_comment_id IN (SELECT comment_id FROM page) AND {_BRAND_REPLY}
        )
        SELECT page.*,
               timezone(?, page.create_time) AS create_time_local,
               page.comment_type = 'COMMENT' AND b.original_comment_id IS NOT NULL AS answered
        FROM page LEFT JOIN brand_replies b ON b.original_comment_id = page.comment_id
        ORDER BY {_ORDERS[order]}
    """  # noqa: S608
    return query_frame(cur, sql, [*params, _count(limit, "limit"), _count(offset, "offset"), tz])


def unanswered_comments(
    cur: Cursor,
    filters: CommentFilters,
    limit: int = 50,
    offset: int = 0,
    order: Literal["newest", "oldest", "most_liked"] = "newest",
) -> pd.DataFrame:
    """One page of top-level comments the brand has not replied to."""
    return comments_page(cur, replace(filters, unanswered_only=True), limit, offset, order)


def comments_count(cur: Cursor, filters: CommentFilters) -> int:
    """How many comments match the filters."""
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = _where(filters, tz)
    row = _first(cur, f"SELECT count(*) FROM comments c WHERE {where}", params)  # noqa: S608
    return int(row[0]) if row else 0


def replies_for(cur: Cursor, comment_ids: Sequence[str]) -> pd.DataFrame:
    """The replies to the given comments, oldest first within each comment.

    Adds `create_time_local` and `is_brand` (posted by the advertiser's identity).
    """
    parents, parent_params = _in_list("r.original_comment_id", [str(i) for i in comment_ids])
    ids = [
        row[0]
        for row in _rows(
            cur,
            f"SELECT r.comment_id FROM comments r WHERE r.comment_type = 'REPLY' AND {parents}",  # noqa: S608
            parent_params,
        )
    ]
    these, these_params = _in_list("r.comment_id", ids)
    sql = f"""
        SELECT r.*,
               timezone(CASE WHEN a.timezone IN (SELECT name FROM pg_timezone_names())
                             THEN a.timezone ELSE 'UTC' END, r.create_time) AS create_time_local,
               coalesce({_BRAND_REPLY}, false) AS is_brand
        FROM comments r LEFT JOIN advertisers a ON a.advertiser_id = r.advertiser_id
        WHERE {these}
        ORDER BY r.original_comment_id, r.create_time, r.comment_id
    """  # noqa: S608
    return query_frame(cur, sql, these_params)


def ads_with_counts(cur: Cursor, advertiser_id: str) -> pd.DataFrame:
    """Every ad of the advertiser with its comment counts, most commented first.

    Ads without comments count 0. Ads known only from their comments (deleted ads, which
    ad/get leaves out) are included with the names their comments carry. `comment_count`
    counts every stored comment and reply; `unanswered_count` counts top-level comments
    without a brand reply.
    """
    tz = advertiser_timezone(cur, advertiser_id)
    sql = f"""
        WITH replied AS (
            SELECT DISTINCT r.original_comment_id AS comment_id FROM comments r
            WHERE r.advertiser_id = ? AND {_BRAND_REPLY}
        ),
        per_ad AS (
            SELECT c.ad_id,
                   any_value(c.ad_name) AS ad_name,
                   any_value(c.campaign_id) AS campaign_id,
                   any_value(c.campaign_name) AS campaign_name,
                   any_value(c.adgroup_id) AS adgroup_id,
                   any_value(c.adgroup_name) AS adgroup_name,
                   count(*) AS comment_count,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT' AND replied.comment_id IS NULL)
                       AS unanswered_count,
                   count(*) FILTER (WHERE c.comment_status = 'HIDDEN') AS hidden_count,
                   max(c.create_time) AS last_comment_time
            FROM comments c LEFT JOIN replied ON replied.comment_id = c.comment_id
            WHERE c.advertiser_id = ?
            GROUP BY c.ad_id
        ),
        known AS (SELECT * FROM ads WHERE advertiser_id = ?)
        SELECT coalesce(a.ad_id, p.ad_id) AS ad_id,
               coalesce(a.ad_name, p.ad_name) AS ad_name,
               coalesce(a.campaign_id, p.campaign_id) AS campaign_id,
               coalesce(a.campaign_name, p.campaign_name) AS campaign_name,
               coalesce(a.adgroup_id, p.adgroup_id) AS adgroup_id,
               coalesce(a.adgroup_name, p.adgroup_name) AS adgroup_name,
               a.operation_status,
               coalesce(p.comment_count, 0)::BIGINT AS comment_count,
               coalesce(p.unanswered_count, 0)::BIGINT AS unanswered_count,
               coalesce(p.hidden_count, 0)::BIGINT AS hidden_count,
               p.last_comment_time,
               timezone(?, p.last_comment_time) AS last_comment_time_local
        FROM known a FULL OUTER JOIN per_ad p ON p.ad_id = a.ad_id
        ORDER BY comment_count DESC, ad_id
    """  # noqa: S608
    return query_frame(cur, sql, [advertiser_id, advertiser_id, advertiser_id, tz])


def comment_volume_by_ad(cur: Cursor, filters: CommentFilters, top_n: int = 10) -> pd.DataFrame:
    """Comments per ad, most first; past `top_n` ads the rest are one "Other ads" row.

    Columns ad_id, ad_name, source, comments. Organic comments are one row ("Organic posts",
    source "organic", no ad_id) ranked by its count among the ads; it is never folded into
    "Other ads" (source "ad", no ad_id), which holds ad comments only.
    """
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = _where(filters, tz)
    top_n = _count(top_n, "top_n")
    sql = f"""
        WITH per_ad AS (
            SELECT {_source_of(filters)} AS source, c.ad_id,
                   any_value(c.ad_name) AS comment_ad_name, count(*) AS comments
            FROM comments c WHERE {where}
            GROUP BY ALL
        ),
        ranked AS (
            SELECT p.ad_id,
                   CASE WHEN p.source = 'organic' THEN '{ORGANIC_POSTS}'
                        ELSE coalesce(a.ad_name, p.comment_ad_name) END AS ad_name,
                   p.source, p.comments,
                   row_number() OVER (ORDER BY p.comments DESC, p.source, p.ad_id) AS rank
            FROM per_ad p LEFT JOIN ads a ON a.ad_id = p.ad_id
        )
        SELECT ad_id, ad_name, source, comments::BIGINT AS comments FROM (
            SELECT ad_id, ad_name, source, comments, rank FROM ranked
            WHERE rank <= ? OR source = 'organic'
            UNION ALL
            SELECT NULL, 'Other ads', 'ad', sum(comments), NULL FROM ranked
            WHERE rank > ? AND source IS DISTINCT FROM 'organic'
            HAVING count(*) > 0
        )
        ORDER BY rank NULLS LAST
    """  # noqa: S608
    return query_frame(cur, sql, [*params, top_n, top_n])


def comment_volume_over_time(
    cur: Cursor,
    filters: CommentFilters,
    grain: Literal["day", "hour"] = "day",
    ad_ids: Sequence[str] | None = None,
    *,
    by_source: bool = False,
) -> pd.DataFrame:
    """Comments per day or hour of the advertiser's local time, zeros included.

    Columns bucket, ad_id, ad_name, source, comments. With `ad_ids`, one series per listed
    ad (other ads and organic comments left out; source "ad"). With `by_source`, one series
    per source that has a matching comment (ad_id None; "Ad comments" with source "ad",
    "Organic comments" with source "organic"). Otherwise one series for everything (ad_id
    and source None), "All ads", or "All comments" when filters.business_id adds organic
    comments. Buckets run from the filters' dates when given, otherwise from the first to the
    last comment.
    """
    if grain not in _GRAINS:
        raise ValueError(f"grain must be day or hour, not {grain!r}")
    if by_source and ad_ids is not None:
        raise ValueError("by_source gives one series per source: it takes no ad_ids")
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = _where(filters, tz)
    first = datetime.combine(filters.date_from, time()) if filters.date_from else None
    last = None
    if filters.date_to:
        last = datetime.combine(filters.date_to, time(23 if grain == "hour" else 0))
    # `key` tells the series apart; `names` gives each its ad_id, ad_name and source.
    names_params: list[Any] = []
    if by_source:
        series_key = _source_of(filters)
        names = """
            SELECT s.key, NULL::VARCHAR AS ad_id,
                   CASE WHEN s.key = 'organic' THEN 'Organic comments'
                        ELSE 'Ad comments' END AS ad_name,
                   s.key AS source
            FROM (SELECT DISTINCT key FROM slots) s
        """
    elif ad_ids is None:
        series_key = "NULL::VARCHAR"
        names = ("SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS ad_id, ?::VARCHAR AS ad_name, "
                 "NULL::VARCHAR AS source")
        names_params = ["All ads" if filters.business_id is None else "All comments"]
    else:
        wanted = [str(i) for i in ad_ids]
        series_key = "c.ad_id"
        names = """
            SELECT s.key, s.key AS ad_id,
                   coalesce(a.ad_name, (SELECT any_value(k.ad_name) FROM slots k
                                        WHERE k.key = s.key)) AS ad_name,
                   'ad' AS source
            FROM (SELECT DISTINCT unnest(?::VARCHAR[]) AS key) s
            LEFT JOIN ads a ON a.ad_id = s.key
        """
        names_params = [wanted]
        only, only_params = _in_list("c.ad_id", wanted)
        where, params = f"{where} AND {only}", [*params, *only_params]
    # Count per UTC quarter hour first (every timezone's offset is a whole number of quarter
    # hours), then convert only those slots to local time: far fewer timezone conversions.
    sql = f"""
        WITH slots AS (
            SELECT epoch_ms(c.create_time) // 900000 AS slot, {series_key} AS key,
                   any_value(c.ad_name) AS ad_name, count(*) AS comments
            FROM comments c WHERE {where}
            GROUP BY ALL
        ),
        counts AS (
            SELECT date_trunc('{grain}', timezone(?, to_timestamp(slot * 900))) AS bucket,
                   key, sum(comments) AS comments
            FROM slots
            GROUP BY ALL
        ),
        names AS ({names}),
        span AS (
            SELECT coalesce(?::TIMESTAMP, min(bucket)) AS lo,
                   coalesce(?::TIMESTAMP, max(bucket)) AS hi
            FROM counts
        ),
        buckets AS (
            SELECT unnest(generate_series(lo, hi, {_GRAINS[grain]})) AS bucket
            FROM span WHERE lo IS NOT NULL AND hi IS NOT NULL
        )
        SELECT b.bucket, n.ad_id, n.ad_name, n.source,
               coalesce(k.comments, 0)::BIGINT AS comments
        FROM buckets b CROSS JOIN names n
        LEFT JOIN counts k ON k.bucket = b.bucket AND k.key IS NOT DISTINCT FROM n.key
        ORDER BY b.bucket, n.ad_id, n.source
    """  # noqa: S608
    return query_frame(cur, sql, [*params, tz, *names_params, first, last])


def ad_engagement(cur: Cursor, filters: CommentFilters) -> pd.DataFrame:
    """Per ad: comments, hidden_share, reply_rate and median_minutes_to_first_reply.

    Columns ad_id, ad_name, source, comments, top_level_comments, answered_comments,
    hidden_share, reply_rate, median_minutes_to_first_reply; most comments first. Organic
    comments are one row ("Organic posts", source "organic", no ad_id). reply_rate is answered
    top-level comments over top-level comments (None without any); the minutes run from a
    top-level comment to the brand's first reply to it (the advertiser's, or on organic
    comments the business account's).
    """
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = _where(filters, tz)
    replies, reply_params = _scope(filters, "r")
    sql = f"""
        WITH first_reply AS (
            SELECT r.original_comment_id AS comment_id, min(r.create_time) AS replied_at
            FROM comments r WHERE {" AND ".join(replies)} AND {_BRAND_REPLY}
            GROUP BY r.original_comment_id
        ),
        per_ad AS (
            SELECT {_source_of(filters)} AS source, c.ad_id,
                   any_value(c.ad_name) AS comment_ad_name,
                   count(*) AS comments,
                   count(*) FILTER (WHERE c.comment_status = 'HIDDEN') AS hidden,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT') AS top_level,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT' AND f.comment_id IS NOT NULL)
                       AS answered,
                   median((epoch_ms(f.replied_at) - epoch_ms(c.create_time)) / 60000.0)
                       FILTER (WHERE c.comment_type = 'COMMENT') AS minutes_to_reply
            FROM comments c LEFT JOIN first_reply f ON f.comment_id = c.comment_id
            WHERE {where}
            GROUP BY ALL
        )
        SELECT p.ad_id,
               CASE WHEN p.source = 'organic' THEN '{ORGANIC_POSTS}'
                    ELSE coalesce(a.ad_name, p.comment_ad_name) END AS ad_name,
               p.source,
               p.comments::BIGINT AS comments,
               p.top_level::BIGINT AS top_level_comments,
               p.answered::BIGINT AS answered_comments,
               p.hidden / p.comments AS hidden_share,
               p.answered / nullif(p.top_level, 0) AS reply_rate,
               p.minutes_to_reply AS median_minutes_to_first_reply
        FROM per_ad p LEFT JOIN ads a ON a.ad_id = p.ad_id
        ORDER BY p.comments DESC, p.source, p.ad_id
    """  # noqa: S608
    return query_frame(cur, sql, [*reply_params, *params])


# ---------------------------------------------------------------------------------------------
# TikTok business accounts: profiles, videos and organic comments

# The organic comment's fields under the comments table's (TikTok Marketing API) names.
ORGANIC_COMMENT_COLUMNS = MappingProxyType(
    {
        "comment_id": "comment_id",
        "video_id": "video_id",
        "business_id": "business_id",
        "parent_comment_id": "original_comment_id",
        "text": "content",
        "create_time": "create_time",
        "likes": "likes",
        "replies": "replies",
        "status": "comment_status",
        "owner": "can_delete",
        "pinned": "is_pinned",
        "user_id": "user_id",
        "username": "user_name",
        "profile_image": "user_avatar_url",
        "comment_type": "comment_type",
    }
)


def upsert_business_accounts(cur: Cursor, data: TableData) -> int:
    """Insert or update business account profiles by business_id; return the rows written."""
    return _upsert(
        cur, "business_accounts", "business_id", data, stamps={"updated_at": _now()},
        insert_only=(),
    )


def upsert_videos(cur: Cursor, data: TableData, seen_at: datetime) -> int:
    """Insert or update a business account's videos by video_id, as seen at `seen_at`."""
    seen = _utc(seen_at)
    return _upsert(
        cur, "videos", "video_id", data, stamps={"first_seen_at": seen, "last_seen_at": seen},
        insert_only=("first_seen_at",),
    )


def organic_comment_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Organic comments (`OrganicComment.to_record()` plus `comment_type`) as comments rows:
    renamed to the table's columns, `source` 'organic' and tiktok_item_id the video_id."""
    frame = pd.DataFrame.from_records(list(records))
    frame = frame[[c for c in ORGANIC_COMMENT_COLUMNS if c in frame.columns]]
    frame = frame.rename(columns=dict(ORGANIC_COMMENT_COLUMNS))
    frame["source"] = "organic"
    if "video_id" in frame.columns:
        frame["tiktok_item_id"] = frame["video_id"]
    return frame


def upsert_organic_comments(cur: Cursor, data: TableData, seen_at: datetime) -> int:
    """Insert or update organic comments (comments-table columns, see organic_comment_frame).

    A comment_id already stored as an ad comment is left as it is: the two never overwrite
    each other. Returns the rows written.
    """
    batch = _as_arrow(data)
    if batch.num_rows == 0:
        return 0
    if "source" not in batch.column_names:
        batch = batch.append_column("source", pa.array(["organic"] * batch.num_rows))
    if set(batch.column("source").to_pylist()) != {"organic"}:
        raise ValueError("organic comments must all have source 'organic'")
    view = f"_organic_{uuid.uuid4().hex}"
    cur.register(view, batch.select(["comment_id"]))
    try:
        taken = {
            row[0]
            for row in _rows(
                cur,
                f"SELECT c.comment_id FROM comments c JOIN {view} b USING (comment_id) "  # noqa: S608
                "WHERE c.source <> 'organic'",
            )
        }
    finally:
        cur.unregister(view)
    if taken:
        keep = [cid not in taken for cid in batch.column("comment_id").to_pylist()]
        batch = batch.filter(pa.array(keep))
    return upsert_comments(cur, batch, seen_at)


def organic_cursors(cur: Cursor, business_id: str) -> dict[str, datetime | None]:
    """Each synced video of the account with its high-water mark (newest top-level comment)."""
    rows = query_records(
        cur, "SELECT video_id, high_water FROM organic_cursors WHERE business_id = ?",
        [business_id],
    )
    return {row["video_id"]: _as_utc(row["high_water"]) for row in rows}


def set_organic_cursor(
    cur: Cursor, business_id: str, video_id: str, high_water: datetime | None
) -> None:
    """Record that every comment of the video up to `high_water` is stored."""
    _rows(
        cur,
        "INSERT INTO organic_cursors VALUES (?, ?, ?, ?) ON CONFLICT (video_id) DO UPDATE SET "
        "business_id = excluded.business_id, high_water = excluded.high_water, "
        "updated_at = excluded.updated_at",
        [business_id, video_id, None if high_water is None else _utc(high_water), _now()],
    )


def organic_counts(cur: Cursor, business_id: str) -> dict[str, int]:
    """How many organic comments and replies are stored per video of the account."""
    rows = _rows(
        cur,
        "SELECT video_id, count(*) FROM comments WHERE source = 'organic' AND business_id = ? "
        "GROUP BY video_id",
        [business_id],
    )
    return {str(video_id): int(n) for video_id, n in rows}


def organic_reply_counts(cur: Cursor, video_id: str) -> dict[str, int]:
    """How many replies are stored per top-level organic comment of the video."""
    rows = _rows(
        cur,
        "SELECT original_comment_id, count(*) FROM comments WHERE source = 'organic' "
        "AND video_id = ? AND comment_type = 'REPLY' GROUP BY original_comment_id",
        [video_id],
    )
    return {str(parent): int(n) for parent, n in rows}


def list_business_accounts(cur: Cursor) -> pd.DataFrame:
    """Every stored business account, by display name."""
    return query_frame(
        cur,
        "SELECT business_id, username, display_name, profile_image, profile_deep_link, "
        "bio_description, is_verified, followers_count, following_count, total_likes, "
        "videos_count, updated_at FROM business_accounts ORDER BY display_name, business_id",
    )


def videos_with_counts(cur: Cursor, business_id: str) -> pd.DataFrame:
    """Every stored video of the account, newest first, with its comment counts.

    `organic_comments` counts the stored organic comments and replies on the video,
    `ad_comments` those on the Spark Ads promoting it (ads.tiktok_item_id = video_id, listed
    in `ad_ids`); `unanswered_count` counts top-level organic comments without an answer from
    the account, `hidden_count` hidden organic ones.
    """
    sql = f"""
        WITH organic AS (
            SELECT c.video_id,
                   count(*) AS organic_comments,
                   count(*) FILTER (WHERE c.comment_status = 'HIDDEN') AS hidden_count,
                   count(*) FILTER (WHERE c.comment_type = 'COMMENT' AND NOT EXISTS (
                       SELECT 1 FROM comments r WHERE r.original_comment_id = c.comment_id
                       AND {_BRAND_REPLY})) AS unanswered_count,
                   max(c.create_time) AS last_comment_time
            FROM comments c WHERE c.source = 'organic' AND c.business_id = ?
            GROUP BY c.video_id
        ),
        spark AS (
            SELECT a.tiktok_item_id AS video_id, list(DISTINCT a.ad_id ORDER BY a.ad_id) AS ad_ids
            FROM ads a JOIN videos v ON v.video_id = a.tiktok_item_id
            WHERE v.business_id = ?
            GROUP BY a.tiktok_item_id
        ),
        paid AS (
            SELECT c.tiktok_item_id AS video_id, count(*) AS ad_comments
            FROM comments c JOIN videos v ON v.video_id = c.tiktok_item_id
            WHERE c.source = 'ad' AND v.business_id = ?
            GROUP BY c.tiktok_item_id
        )
        SELECT v.video_id, v.business_id, v.caption, v.create_time, v.share_url,
               v.thumbnail_url, v.embed_url, v.is_ad, v.video_views, v.likes, v.comments,
               v.shares,
               coalesce(o.organic_comments, 0)::BIGINT AS organic_comments,
               coalesce(p.ad_comments, 0)::BIGINT AS ad_comments,
               coalesce(o.unanswered_count, 0)::BIGINT AS unanswered_count,
               coalesce(o.hidden_count, 0)::BIGINT AS hidden_count,
               o.last_comment_time,
               coalesce(s.ad_ids, []::VARCHAR[]) AS ad_ids
        FROM videos v
        LEFT JOIN organic o ON o.video_id = v.video_id
        LEFT JOIN spark s ON s.video_id = v.video_id
        LEFT JOIN paid p ON p.video_id = v.video_id
        WHERE v.business_id = ?
        ORDER BY v.create_time DESC NULLS LAST, v.video_id
    """  # noqa: S608
    return query_frame(cur, sql, [business_id] * 4)


def comment_volume_by_video(
    cur: Cursor, business_id: str, filters: CommentFilters | None = None
) -> pd.DataFrame:
    """Comments per video of the account and source, most first: the organic ones, and the
    ad comments of the Spark Ads promoting the video. With `filters`, only the comments
    that match them count."""
    where = "true"
    params: list[Any] = []
    if filters is not None:
        where, params = _where(filters, advertiser_timezone(cur, filters.advertiser_id))
    # One equality (a hash join) rather than an OR of two, which DuckDB joins by nested loop.
    sql = f"""
        SELECT v.video_id, any_value(v.caption) AS caption, c.source,
               count(*)::BIGINT AS comments
        FROM videos v JOIN comments c
          ON v.video_id = CASE c.source WHEN 'organic' THEN c.video_id
                                        WHEN 'ad' THEN c.tiktok_item_id END
        WHERE v.business_id = ? AND {where}
        GROUP BY v.video_id, c.source
        ORDER BY comments DESC, v.video_id, c.source
    """  # noqa: S608
    return query_frame(cur, sql, [business_id, *params])


def conversation_for_video(
    cur: Cursor,
    video_id: str,
    limit: int = 500,
    offset: int = 0,
    source: Literal["ad", "organic"] | None = None,
) -> pd.DataFrame:
    """One video's whole conversation, oldest first: its organic comments and the comments
    on the Spark Ads promoting it (ad comments whose tiktok_item_id is the video)."""
    if source not in (None, *COMMENT_SOURCES):
        raise ValueError(f"source must be ad, organic or None, not {source!r}")
    sql = """
        SELECT c.* FROM comments c
        WHERE ((c.source = 'organic' AND c.video_id = ?)
               OR (c.source = 'ad' AND c.tiktok_item_id = ?))
          AND (?::VARCHAR IS NULL OR c.source = ?)
        ORDER BY c.create_time ASC NULLS LAST, c.comment_id ASC
        LIMIT ? OFFSET ?
    """
    params = [video_id, video_id, source, source, _count(limit, "limit"),
              _count(offset, "offset")]
    return query_frame(cur, sql, params)


def _where(filters: CommentFilters, tz: str) -> tuple[str, list[Any]]:
    """The WHERE clause (over `comments c`) and its parameters for the filters."""
    clauses, params = _scope(filters, "c")
    if filters.source is not None:
        clauses.append("c.source = ?")
        params.append(filters.source)
    chosen, chosen_params = _chosen(filters)
    if chosen is not None:
        clauses.append(chosen)
        params += chosen_params
    zone = ZoneInfo(tz)
    if filters.date_from is not None:
        clauses.append("c.create_time >= ?")
        params.append(_day_start(filters.date_from, zone))
    if filters.date_to is not None:
        clauses.append("c.create_time < ?")
        params.append(_day_start(filters.date_to + timedelta(days=1), zone))
    if filters.status is not None:
        clauses.append("c.comment_status = ?")
        params.append(filters.status)
    if filters.comment_type is not None:
        clauses.append("c.comment_type = ?")
        params.append(filters.comment_type)
    if filters.search and filters.search.strip():
        pattern = f"%{_escape_like(filters.search.strip())}%"
        clauses.append("(c.content ILIKE ? ESCAPE '\\' OR c.user_name ILIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    if filters.unanswered_only:
        clauses.append(
            "c.comment_type = 'COMMENT' AND NOT EXISTS (SELECT 1 FROM comments r "  # noqa: S608
            f"WHERE r.original_comment_id = c.comment_id AND {_BRAND_REPLY})"
        )
    return " AND ".join(clauses), params


def _scope(filters: CommentFilters, alias: str) -> tuple[list[str], list[Any]]:
    """The comments the filters can see at all (over `comments {alias}`): the advertiser's,
    plus with a business_id that account's organic ones (only those for advertiser "")."""
    ad_account = f"{alias}.advertiser_id = ?"
    if filters.business_id is None:
        return [ad_account], [filters.advertiser_id]
    organic = f"{alias}.source = 'organic' AND {alias}.business_id = ?"
    if not filters.advertiser_id:
        return [f"({organic})"], [filters.business_id]
    return [f"({ad_account} OR ({organic}))"], [filters.advertiser_id, filters.business_id]


def _source_of(filters: CommentFilters) -> str:
    """The SQL for a matching comment's source: a constant when the filters can see only ad
    comments (organic ones have no advertiser_id), which spares grouping by the column."""
    return "'ad'" if filters.business_id is None else "c.source"


def _chosen(filters: CommentFilters) -> tuple[str | None, list[Any]]:
    """The clause for the chosen ads and videos (None: no choice made), either one matching.

    A video's comments are its organic ones and those on the Spark Ads promoting it (ad
    comments whose tiktok_item_id is the video).
    """
    parts: list[str] = []
    params: list[Any] = []
    if filters.ad_ids is not None:
        ads, ad_params = _in_list("c.ad_id", [str(i) for i in filters.ad_ids])
        parts.append(ads)
        params += ad_params
    if filters.video_ids is not None:
        wanted = [str(i) for i in filters.video_ids]
        organic, organic_params = _in_list("c.video_id", wanted)
        spark, spark_params = _in_list("c.tiktok_item_id", wanted)
        parts.append(f"((c.source = 'organic' AND {organic}) OR (c.source = 'ad' AND {spark}))")
        params += [*organic_params, *spark_params]
    if not parts:
        return None, []
    return (parts[0] if len(parts) == 1 else f"({' OR '.join(parts)})"), params


def _in_list(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`column IN (?, ...)` with one bound parameter per value ("false" for no values).

    Constant lists become scan filters (and index lookups on a primary key), unlike a list
    parameter or a subquery.
    """
    if not values:
        return "false", []
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0, not {value!r}")
    return value


PANDAS_TYPES = MappingProxyType(
    {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
)


def query_frame(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run a read query, through Arrow; integers and booleans as nullable pandas types.

    (DuckDB's own fetchall() needs pytz for TIMESTAMPTZ columns; Arrow does not.)
    """
    table = cur.sql(sql, params=list(params)).to_arrow_table()
    return table.to_pandas(types_mapper=PANDAS_TYPES.get)


def _rows(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run a statement and drain its result (an open result would block the cursor).

    Not for TIMESTAMPTZ values: DuckDB builds those Python objects with pytz. Use _records.
    """
    return cur.execute(sql, list(params)).fetchall()


def query_records(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run a query; rows as dicts, via Arrow (TIMESTAMPTZ becomes an aware datetime)."""
    return cur.sql(sql, params=list(params)).to_arrow_table().to_pylist()


def _first(cur: Cursor, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    rows = _rows(cur, sql, params)
    return rows[0] if rows else None


def _now() -> datetime:
    return datetime.now(UTC)


def _as_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; naive ones are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
