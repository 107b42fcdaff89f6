"""Bulk upserts: advertisers, ads and ad comments; business accounts, videos and organic
comments.

Each batch is one MERGE (or, into an empty table, one INSERT ... SELECT) from a registered
Arrow table, never executemany. SQL is assembled from fixed fragments and column names read
from the schema only; every value is a bound parameter (hence the `noqa: S608` marks).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from desk.errors import StoreError
from desk.store.sql import Cursor, TableData, fetch_first, fetch_rows
from desk.store.times import to_utc, utc_now

_SMALLEST_SPLIT = 500
"""Rows below which a batch that does not fit the database's memory is not split further."""


def upsert_advertisers(cur: Cursor, data: TableData) -> int:
    """Insert or update advertisers by advertiser_id; return the rows written."""
    now = utc_now()
    return _upsert(
        cur, "advertisers", "advertiser_id", data, stamps={"updated_at": now}, insert_only=()
    )


def upsert_ads(cur: Cursor, data: TableData, seen_at: datetime) -> int:
    """Insert or update ads by ad_id, as seen at `seen_at`; return the rows written."""
    return _upsert_seen(cur, "ads", "ad_id", data, seen_at)


def set_comments_refused(cur: Cursor, advertiser_id: str, adgroup_ids: Sequence[str],
                         reason: str | None) -> None:
    """Record that TikTok does not provide the comments of these ad groups' ads (`reason`:
    its answer), or, with None, that it does again."""
    if not adgroup_ids:
        return
    fetch_rows(
        cur,
        "UPDATE ads SET comments_refused = ? WHERE advertiser_id = ? "
        "AND adgroup_id IN (SELECT unnest(?::VARCHAR[]))",
        [reason, advertiser_id, list(adgroup_ids)],
    )


def upsert_comments(cur: Cursor, data: TableData, seen_at: datetime) -> int:
    """Insert or update comments by comment_id, as seen at `seen_at`; return the rows written."""
    return _upsert_seen(cur, "comments", "comment_id", data, seen_at)


def _upsert_seen(cur: Cursor, table: str, key: str, data: TableData, seen_at: datetime) -> int:
    """Upsert rows that carry when they were first and last seen (first only when new)."""
    seen = to_utc(seen_at)
    return _upsert(
        cur,
        table,
        key,
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
    try:
        return _upsert_batch(cur, table, key, batch, stamps, insert_only)
    except duckdb.OutOfMemoryException:
        if batch.num_rows < 2 * _SMALLEST_SPLIT:
            raise StoreError(
                f"the database ran out of memory storing {batch.num_rows:,} {table} rows; "
                "raise DESK_DB_MEMORY (the memory it may use) and try again."
            ) from None
    # Beyond the memory the database may use (DESK_DB_MEMORY): in halves, each its own MERGE.
    half = batch.num_rows // 2
    return (_upsert(cur, table, key, batch.slice(0, half), stamps, insert_only)
            + _upsert(cur, table, key, batch.slice(half), stamps, insert_only))


def _upsert_batch(cur: Cursor, table: str, key: str, batch: pa.Table,
                  stamps: Mapping[str, datetime], insert_only: Sequence[str]) -> int:
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
        existing = fetch_first(cur, f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608
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
        fetch_rows(cur, sql, params)
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
        row = fetch_first(cur, f"SELECT count(*) > count(DISTINCT {_quote(key)}) FROM {view}")  # noqa: S608
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
    return {row[0]: row[1] for row in fetch_rows(cur, f"DESCRIBE {table}")}


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
        cur, "business_accounts", "business_id", data, stamps={"updated_at": utc_now()},
        insert_only=(),
    )


def upsert_videos(cur: Cursor, data: TableData, seen_at: datetime) -> int:
    """Insert or update a business account's videos by video_id, as seen at `seen_at`."""
    return _upsert_seen(cur, "videos", "video_id", data, seen_at)


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
            for row in fetch_rows(
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


_DELETED_COLUMNS = ("comment_id", "source", "advertiser_id", "business_id", "adgroup_id",
                    "ad_id", "video_id", "comment_type", "original_comment_id", "content",
                    "user_name", "create_time")


def record_deleted_comments(cur: Cursor, source: str, account_id: str, *, since: datetime,
                            until: datetime, seen: Iterable[str], adgroup_id: str | None = None,
                            video_id: str | None = None, top_level_only: bool = False,
                            parent_id: str | None = None) -> int:
    """After TikTok listed one ad group's (or video's) comments created from `since` to
    `until` whole (only its top-level ones, or only the replies to `parent_id`): move the
    stored ones it did not list (`seen`) to deleted_comments, and forget the deletion of any
    it listed again. Returns how many were deleted."""
    if source not in ("ad", "organic"):
        raise ValueError(f"a comment's source is ad or organic, not {source!r}")
    account = "advertiser_id" if source == "ad" else "business_id"
    part, part_id = ("adgroup_id", adgroup_id) if adgroup_id is not None else (
        "video_id", video_id)
    if part_id is None:
        raise ValueError("name the ad group or the video that was listed")
    view = f"_seen_{uuid.uuid4().hex}"
    cur.register(view, pa.table({"comment_id": pa.array(list(seen), pa.string())}))
    gone = (f"source = ? AND {account} = ? AND {part} = ? AND create_time >= ? "  # noqa: S608
            f"AND create_time < ? AND comment_id NOT IN (SELECT comment_id FROM {view})")
    params = [source, account_id, part_id, to_utc(since), to_utc(until)]
    if top_level_only:
        gone += " AND coalesce(comment_type, 'COMMENT') <> 'REPLY'"
    if parent_id is not None:
        gone += " AND original_comment_id = ?"
        params.append(parent_id)
    columns = ", ".join(_DELETED_COLUMNS)
    try:
        cur.begin()
        try:
            fetch_rows(cur, f"DELETE FROM deleted_comments WHERE comment_id IN "  # noqa: S608
                            f"(SELECT comment_id FROM {view})")
            moved = fetch_rows(
                cur, f"INSERT INTO deleted_comments ({columns}, deleted_at) "  # noqa: S608
                     f"SELECT {columns}, ? FROM comments WHERE {gone}", [utc_now(), *params])
            fetch_rows(cur, f"DELETE FROM comments WHERE {gone}", params)  # noqa: S608
        except BaseException:
            cur.rollback()
            raise
        cur.commit()
    finally:
        cur.unregister(view)
    return int(moved[0][0]) if moved else 0
