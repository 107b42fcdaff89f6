"""What Comment Desk learned from TikTok's answers: limits per developer app, and whether a
connection may write on an account.

`api_learned` backs `tiktok_client.learned.Learned`: values are JSON, one row per app and key.
`write_access` is set by every write's outcome (desk.outbox): allowed after a write TikTok
carried out, refused with TikTok's code and message after a permission error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desk.store.schema import CommentSource
from desk.store.sql import Cursor, fetch_rows, query_records
from desk.store.times import as_utc, utc_now


def learned_values(cur: Cursor, app_id: str) -> dict[str, Any]:
    """Every value learned for the app `app_id`."""
    rows = fetch_rows(cur, "SELECT key, value FROM api_learned WHERE app_id = ?", [app_id])
    return {key: json.loads(value) for key, value in rows}


def save_learned(cur: Cursor, app_id: str, key: str, value: Any) -> None:
    fetch_rows(
        cur,
        "INSERT OR REPLACE INTO api_learned (app_id, key, value, learned_at) VALUES (?, ?, ?, ?)",
        [app_id, key, json.dumps(value), utc_now()],
    )


@dataclass(frozen=True)
class WriteAccess:
    """TikTok's answer to the last write on one account."""

    allowed: bool
    code: int | None
    message: str | None
    checked_at: datetime


def record_write_access(cur: Cursor, source: CommentSource, account_id: str, allowed: bool,
                        code: int | None = None, message: str | None = None) -> None:
    fetch_rows(
        cur,
        "INSERT OR REPLACE INTO write_access "
        "(source, account_id, allowed, code, message, checked_at) VALUES (?, ?, ?, ?, ?, ?)",
        [source, account_id, allowed, code, message, utc_now()],
    )


def write_access(cur: Cursor, source: CommentSource, account_id: str) -> WriteAccess | None:
    """What TikTok answered to the last write on the account; None before any write."""
    rows = query_records(
        cur,
        "SELECT allowed, code, message, checked_at FROM write_access "
        "WHERE source = ? AND account_id = ?",
        [source, account_id],
    )
    if not rows:
        return None
    row = rows[0]
    return WriteAccess(bool(row["allowed"]), row["code"], row["message"],
                       as_utc(row["checked_at"]))
