"""Sync bookkeeping: runs, what they could not fetch, and the cursors that make syncs
incremental.

A run syncs one account of either kind: an ad account (source "ad", its advertiser_id; a
failure names the ad group) or a TikTok business account (source "organic", its business_id;
a failure names the video). Cursors say how far each ad group (sync_cursors) or video
(organic_cursors) is stored. Column names in the SQL come from the fixed tables below; every
value is a bound parameter (hence the `noqa: S608` marks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Literal

import pandas as pd

from desk.errors import StoreError
from desk.store.schema import COMMENT_SOURCES, SYNC_STATUSES, CommentSource
from desk.store.sql import Cursor, fetch_first, fetch_rows, query_frame, query_records
from desk.store.times import as_utc, to_utc, utc_now

# Per source: the column that names the account a run syncs, and the one that names what a
# failure could not fetch.
_ACCOUNT_COLUMNS = MappingProxyType({"ad": "advertiser_id", "organic": "business_id"})
_ITEM_COLUMNS = MappingProxyType({"ad": "adgroup_id", "organic": "video_id"})


@dataclass(frozen=True)
class SyncRun:
    """One sync of one account: an advertiser's (source "ad", `advertiser_id`) or a business
    account's (source "organic", `business_id`; `advertiser_id` None)."""

    run_id: int
    advertiser_id: str | None
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
    source: CommentSource = "ad"
    business_id: str | None = None


@dataclass(frozen=True)
class SyncCursor:
    """How far one ad group is synced: every comment up to `synced_through` is stored."""

    synced_through: date
    high_water: datetime | None = None  # the newest create_time stored


def _columns(source: str) -> tuple[str, str]:
    """The account column and the failed-item column of a run of `source`."""
    if source not in COMMENT_SOURCES:
        raise ValueError(f"a sync run's source is ad or organic, not {source!r}")
    return _ACCOUNT_COLUMNS[source], _ITEM_COLUMNS[source]


def start_sync_run(cur: Cursor, account_id: str, source: CommentSource = "ad",
                   refresh_days: int | None = None) -> int:
    """Record a sync as running; return its run_id.

    `account_id` is the advertiser_id of an ad account (source "ad") or the business_id of a
    business account (source "organic"); `refresh_days`, that the run lists the last days
    again to refresh them.
    """
    account, _ = _columns(source)
    row = fetch_first(
        cur,
        f"INSERT INTO sync_runs (source, {account}, started_at, status, refresh_days) "  # noqa: S608
        "VALUES (?, ?, ?, 'running', ?) RETURNING run_id",
        [source, account_id, utc_now(), refresh_days],
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
    fetch_rows(
        cur,
        "UPDATE sync_runs SET finished_at = ?, status = ?, requests = ?, pages = ?, rows = ?, "
        "throttled = ?, retried = ?, errors = ?, message = ? WHERE run_id = ?",
        [utc_now(), status, requests, pages, rows, throttled, retried, errors, message, run_id],
    )


def record_sync_failure(
    cur: Cursor,
    run_id: int,
    account_id: str,
    item_id: str | None,
    error: str,
    source: CommentSource = "ad",
) -> None:
    """Record what the sync could not fetch; the run carries on with the others.

    `item_id` is the ad group for source "ad", the video for "organic"; `account_id` is the
    run's advertiser_id or business_id.
    """
    account, item = _columns(source)
    fetch_rows(
        cur,
        f"INSERT INTO sync_failures (run_id, source, {account}, {item}, error, failed_at) "  # noqa: S608
        "VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, source, account_id, item_id, error, utc_now()],
    )


def last_refresh(cur: Cursor, account_id: str, source: CommentSource = "ad") -> datetime | None:
    """When the account's comments were last all read: the start of its last refresh that
    ended ok, else of its first sync that ended ok (it read everything); None when no sync
    of it ever ended ok."""
    account, _ = _columns(source)
    [row] = query_records(
        cur,
        "SELECT coalesce(max(started_at) FILTER (WHERE refresh_days IS NOT NULL), "  # noqa: S608
        f"min(started_at)) AS at FROM sync_runs WHERE source = ? AND {account} = ? "
        "AND status = 'ok'",
        [source, account_id],
    )
    return as_utc(row["at"]) if row["at"] is not None else None


def last_sync_run(cur: Cursor, account_id: str, source: CommentSource = "ad") -> SyncRun | None:
    """The account's most recently started sync, or None if it was never synced.

    `account_id` is an advertiser_id (source "ad") or a business_id ("organic"); a run of the
    other source is never the answer, whatever its account id.
    """
    account, _ = _columns(source)
    rows = query_records(
        cur,
        "SELECT run_id, advertiser_id, started_at, finished_at, status, requests, pages, rows, "  # noqa: S608
        "throttled, retried, errors, message, source, business_id FROM sync_runs "
        f"WHERE source = ? AND {account} = ? "
        "ORDER BY started_at DESC, run_id DESC LIMIT 1",
        [source, account_id],
    )
    if not rows:
        return None
    run = rows[0]
    return SyncRun(
        **{
            **run,
            "started_at": as_utc(run["started_at"]),
            "finished_at": as_utc(run["finished_at"]),
        }
    )


def sync_failures(cur: Cursor, run_id: int) -> pd.DataFrame:
    """What a sync could not fetch (ad groups, or an organic run's videos), in the order it
    failed."""
    return query_frame(
        cur,
        "SELECT run_id, advertiser_id, adgroup_id, error, failed_at, source, business_id, "
        "video_id FROM sync_failures WHERE run_id = ? ORDER BY failed_at, adgroup_id, video_id",
        [run_id],
    )


def mark_interrupted_runs(cur: Cursor) -> int:
    """Mark syncs of either source left 'running' by a process that died as interrupted; call
    before syncing."""
    rows = fetch_rows(
        cur,
        "UPDATE sync_runs SET status = 'interrupted', finished_at = ? WHERE status = 'running' "
        "RETURNING run_id",
        [utc_now()],
    )
    return len(rows)


def get_cursors(cur: Cursor, advertiser_id: str) -> dict[str, SyncCursor]:
    """The sync cursor of each ad group of an advertiser, by adgroup_id."""
    rows = query_records(
        cur,
        "SELECT adgroup_id, synced_through, high_water FROM sync_cursors WHERE advertiser_id = ?",
        [advertiser_id],
    )
    return {
        row["adgroup_id"]: SyncCursor(row["synced_through"], as_utc(row["high_water"]))
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
    fetch_rows(
        cur,
        "INSERT INTO sync_cursors VALUES (?, ?, ?, ?, ?) ON CONFLICT (advertiser_id, adgroup_id) "
        "DO UPDATE SET synced_through = excluded.synced_through, "
        "high_water = excluded.high_water, updated_at = excluded.updated_at",
        [
            advertiser_id,
            adgroup_id,
            synced_through,
            None if high_water is None else to_utc(high_water),
            utc_now(),
        ],
    )


def organic_cursors(cur: Cursor, business_id: str) -> dict[str, datetime | None]:
    """Each synced video of the account with its high-water mark (newest top-level comment)."""
    rows = query_records(
        cur, "SELECT video_id, high_water FROM organic_cursors WHERE business_id = ?",
        [business_id],
    )
    return {row["video_id"]: as_utc(row["high_water"]) for row in rows}


def set_organic_cursor(
    cur: Cursor, business_id: str, video_id: str, high_water: datetime | None
) -> None:
    """Record that every comment of the video up to `high_water` is stored."""
    fetch_rows(
        cur,
        "INSERT INTO organic_cursors VALUES (?, ?, ?, ?) ON CONFLICT (video_id) DO UPDATE SET "
        "business_id = excluded.business_id, high_water = excluded.high_water, "
        "updated_at = excluded.updated_at",
        [business_id, video_id, None if high_water is None else to_utc(high_water), utc_now()],
    )
