"""The outbox's rows and the audit log: claiming a request, moving a row on, reading them.

A row moves only by compare-and-set on (status, attempts), each move written to `audit_log`
in the same transaction, so two sessions (or a person and a rule) acting on the same row can
never both move it. Tokens are never stored or logged; error texts come from the client,
which redacts them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import duckdb
import pandas as pd

from desk import store as db
from desk.errors import ActionRefused
from desk.sources.base import as_utc, now
from desk.store.sql import transaction
from tiktok_client.errors import TikTokError

ActionKind = Literal["reply", "hide", "unhide", "block_word", "unblock_word"]
ActionStatus = Literal["pending", "sent", "failed", "unknown"]

PENDING_STALE_AFTER = timedelta(minutes=5)
"""A send takes at most the client's deadline; a row pending longer was cut off mid-send."""

COLUMNS = (
    "action_id, request_key, kind, advertiser_id, comment_id, ad_id, tiktok_item_id, "
    "identity_type, identity_id, text, status, result_comment_id, error, attempts, actor, "
    "created_at, updated_at, source, business_id, video_id, ad_type, word"
)
_RACE_ERRORS = (duckdb.TransactionException, duckdb.ConstraintException)


@dataclass(frozen=True)
class ActionResult:
    """Where one write stands, for the UI."""

    action_id: int
    kind: ActionKind
    comment_id: str | None  # None for a change to the blocked-word list
    status: ActionStatus
    message: str  # one human sentence: what happened and, if it failed, what to do
    result_comment_id: str | None = None  # TikTok's id of the new reply
    duplicate: bool = False  # True when request_key had already been used: nothing was sent
    word: str | None = None  # the blocked word a block_word or unblock_word row changes


def claim(cur: db.Cursor, *, request_key: str, **fields: Any) -> tuple[dict[str, Any], bool]:
    """The outbox row of this request: a new pending one (True: send it), or the one an
    earlier request with the same key made (False: report it, send nothing)."""
    existing = by_key(cur, request_key)
    if existing is not None:
        return existing, False
    action = _create(cur, request_key=request_key, **fields)
    if action is not None:
        return action, True
    existing = by_key(cur, request_key)  # another session made it a moment ago
    assert existing is not None
    return existing, False


def _create(cur: db.Cursor, *, request_key: str, kind: ActionKind, comment_id: str | None,
            actor: str, detail: str, audit_advertiser_id: str | None,
            **fields: Any) -> dict[str, Any] | None:
    """Insert a pending row and its 'requested' audit entry; None when the key is taken."""
    at = now()
    row = {"request_key": request_key, "kind": kind, "comment_id": comment_id,
           "status": "pending", "attempts": 1, "actor": actor, "created_at": at,
           "updated_at": at, **fields}
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    try:
        with transaction(cur):
            rows = cur.execute(
                f"INSERT INTO outbox ({names}) VALUES ({marks}) "  # noqa: S608
                "ON CONFLICT (request_key) DO NOTHING RETURNING action_id",
                list(row.values()),
            ).fetchall()
            if rows:
                text = fields.get("text")
                if text is not None:
                    detail += f" ({len(text)} characters)"
                audit(cur, rows[0][0], actor, audit_advertiser_id, "requested", detail, at=at)
    except _RACE_ERRORS:
        return None
    return load(cur, rows[0][0]) if rows else None


def transition(cur: db.Cursor, action: Mapping[str, Any], *, status: ActionStatus, event: str,
               actor: str, detail: str, error: str | None,
               result_comment_id: str | None = None,
               attempt: bool = False) -> dict[str, Any] | None:
    """Move a row on if it is still as `action` saw it, and log it; None if it had moved on."""
    at = now()
    sets = ["status = ?", "error = ?", "updated_at = ?"]
    params: list[Any] = [status, error, at]
    if result_comment_id is not None:
        sets.append("result_comment_id = ?")
        params.append(result_comment_id)
    if attempt:
        sets.append("attempts = attempts + 1")
    where = "action_id = ? AND status = ? AND attempts = ?"
    params += [action["action_id"], action["status"], action["attempts"]]
    if result_comment_id is not None:  # one TikTok reply accounts for one action only
        where += (
            " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.result_comment_id = ? "
            "AND o.action_id <> ?)"
        )
        params += [result_comment_id, action["action_id"]]
    sql = f"UPDATE outbox SET {', '.join(sets)} WHERE {where} RETURNING action_id"  # noqa: S608
    try:
        with transaction(cur):
            rows = cur.execute(sql, params).fetchall()
            if rows:
                audit(cur, action["action_id"], actor, action["advertiser_id"], event, detail,
                      at=at)
    except _RACE_ERRORS:
        rows = []
    return load(cur, action["action_id"]) if rows else None


def audit(cur: db.Cursor, action_id: int | None, actor: str, advertiser_id: str | None,
          event: str, detail: str | None, *, at: datetime | None = None) -> None:
    db.audit_event(cur, actor, event, detail, action_id=action_id,
                   advertiser_id=advertiser_id, at=at or now())


def load(cur: db.Cursor, action_id: int) -> dict[str, Any] | None:
    rows = db.query_records(
        cur, f"SELECT {COLUMNS} FROM outbox WHERE action_id = ?", [int(action_id)]  # noqa: S608
    )
    return rows[0] if rows else None


def require(cur: db.Cursor, action_id: int) -> dict[str, Any]:
    action = load(cur, action_id)
    if action is None:
        raise ActionRefused(f"There is no action {action_id}; refresh the page.")
    return action


def by_key(cur: db.Cursor, request_key: str) -> dict[str, Any] | None:
    rows = db.query_records(
        cur, f"SELECT {COLUMNS} FROM outbox WHERE request_key = ?", [request_key]  # noqa: S608
    )
    return rows[0] if rows else None


def claimed_replies(cur: db.Cursor, reply_ids: Sequence[str], action_id: int) -> set[str]:
    """Which of these replies other outbox rows already account for."""
    if not reply_ids:
        return set()
    marks = ", ".join("?" for _ in reply_ids)
    rows = cur.execute(
        f"SELECT result_comment_id FROM outbox WHERE result_comment_id IN ({marks}) "  # noqa: S608
        "AND action_id <> ?",
        [*reply_ids, action_id],
    ).fetchall()
    return {row[0] for row in rows}


def is_stale(action: Mapping[str, Any], stale_after: timedelta) -> bool:
    return as_utc(action["updated_at"]) < now() - stale_after


def error_detail(err: BaseException) -> str:
    """How a failure is written in the audit log (never a token: the client redacts)."""
    if not isinstance(err, TikTokError):
        return type(err).__name__
    parts = [f"{type(err).__name__}: {err.message or err.title}"]
    if err.code is not None:
        parts.append(f"code {err.code}")
    if err.request_id:
        parts.append(f"request_id {err.request_id}")
    return "; ".join(parts)[:1000]


# ---------------------------------------------------------------------------------------------
# Where a row stands, in words


def message(action: Mapping[str, Any]) -> str:
    """One sentence on where an outbox row stands."""
    kind, status = action["kind"], action["status"]
    word = f'"{action.get("word")}"'
    what = {"reply": "the reply", "hide": "hiding the comment",
            "unhide": "unhiding the comment",
            "block_word": f"adding {word} to the blocked-word list",
            "unblock_word": f"taking {word} off the blocked-word list"}.get(kind, f"the {kind}")
    if status == "sent":
        return {
            "reply": "The reply is posted on TikTok.",
            "hide": "The comment is hidden on TikTok.",
            "unhide": "The comment is visible again on TikTok.",
            "block_word": f"{word} is on the ad account's blocked-word list on TikTok.",
            "unblock_word": f"{word} is off the ad account's blocked-word list on TikTok.",
        }.get(kind, "TikTok carried out the change.")
    if status == "failed":
        return action["error"] or f"TikTok did not carry out {what}; retry to send it again."
    if status == "pending" and not is_stale(action, PENDING_STALE_AFTER):
        return f"Sending {what} to TikTok."
    return f"TikTok did not confirm {what}; Retry checks TikTok first, so it is never done twice."


def result(action: Mapping[str, Any], *, duplicate: bool = False,
           says: str | None = None) -> ActionResult:
    text = says or message(action)
    if duplicate:
        text = f"{text} This was already requested, so nothing was sent again."
    return ActionResult(
        action_id=int(action["action_id"]),
        kind=action["kind"],
        comment_id=action["comment_id"],
        status=action["status"],
        message=text,
        result_comment_id=action["result_comment_id"],
        duplicate=duplicate,
        word=action.get("word"),
    )


# ---------------------------------------------------------------------------------------------
# Reading


def get_action(cur: db.Cursor, action_id: int) -> ActionResult | None:
    """Where one write stands now, or None if there is no such action."""
    action = load(cur, action_id)
    return None if action is None else result(action)


def recent_actions(cur: db.Cursor, advertiser_id: str | None, limit: int = 50, *,
                   business_id: str | None = None,
                   kinds: Sequence[ActionKind] | None = None) -> pd.DataFrame:
    """The advertiser's outbox rows (or, with business_id, the business account's organic
    ones), of these `kinds` (None: all), newest first, each with a human `message`."""
    column, key = ("business_id", business_id) if business_id else ("advertiser_id", advertiser_id)
    chosen = list(kinds) if kinds is not None else None
    frame = db.query_frame(
        cur,
        f"SELECT {COLUMNS} FROM outbox WHERE {column} = ? "  # noqa: S608
        "AND (? OR list_contains(?::VARCHAR[], kind)) "
        "ORDER BY created_at DESC, action_id DESC LIMIT ?",
        [str(key), chosen is None, chosen or [], _count(limit)],
    )
    return _with_messages(frame)


def actions_for_comments(cur: db.Cursor, comment_ids: list[str]) -> pd.DataFrame:
    """The outbox rows of these comments, newest first, each with a human `message`."""
    ids = list(dict.fromkeys(str(c) for c in comment_ids))
    where = f"comment_id IN ({', '.join('?' for _ in ids)})" if ids else "false"
    frame = db.query_frame(
        cur,
        f"SELECT {COLUMNS} FROM outbox WHERE {where} "  # noqa: S608
        "ORDER BY created_at DESC, action_id DESC",
        ids,
    )
    return _with_messages(frame)


def audit_log(cur: db.Cursor, advertiser_id: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Audit rows (logged_at, action_id, actor, advertiser_id, event, detail), newest first."""
    where, params = ("WHERE advertiser_id = ?", [str(advertiser_id)]) if advertiser_id else ("", [])
    return db.query_frame(
        cur,
        "SELECT logged_at, action_id, actor, advertiser_id, event, detail FROM audit_log "  # noqa: S608
        f"{where} ORDER BY logged_at DESC, rowid DESC LIMIT ?",
        [*params, _count(limit)],
    )


def _with_messages(frame: pd.DataFrame) -> pd.DataFrame:
    frame["message"] = [message(row) for row in frame.to_dict("records")] if len(frame) else []
    return frame


def _count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"limit must be a whole number of at least 0, not {value!r}")
    return value
