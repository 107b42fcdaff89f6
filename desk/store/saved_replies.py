"""Saved replies: named reply templates of one account, with an optional shortcut, and how
often each was sent.

An account is ('ad', advertiser_id) or ('organic', business_id). A name is unique within its
account whatever its case; so is a shortcut (a short word: letters, digits, `-` and `_`).
Both are checked inside the transaction that writes, with the one-line reason a form shows
(ValueError). Every change records the person's e-mail (created_by, updated_by; a deletion
in the audit log). The template grammar (which placeholders) is desk.replies'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desk.store.audit import audit_event
from desk.store.schema import COMMENT_SOURCES, CommentSource
from desk.store.sql import Cursor, fetch_first, fetch_rows, query_records, transaction
from desk.store.times import to_utc, utc_now

NAME_MAX = 80
"""The most characters a saved reply's name has."""
BODY_MAX = 5000
"""The most characters a template has (TikTok's reply limits are far below it)."""
SHORTCUT = re.compile(r"[A-Za-z0-9_-]{1,20}")
"""A shortcut: typed as `/<shortcut>` in a reply box."""


@dataclass(frozen=True)
class SavedReply:
    """One saved reply as stored."""

    reply_id: int
    account_kind: CommentSource
    account_id: str
    name: str
    shortcut: str | None
    body: str
    uses: int
    last_used_at: datetime | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @property
    def label(self) -> str:
        """'Name · /shortcut' (or the name alone): how a picker shows it."""
        return f"{self.name} · /{self.shortcut}" if self.shortcut else self.name


_COLUMNS = ("reply_id, account_kind, account_id, name, shortcut, body, uses, last_used_at, "
            "created_by, created_at, updated_by, updated_at")


def list_saved_replies(cur: Cursor, account_kind: CommentSource,
                       account_id: str) -> list[SavedReply]:
    """The account's saved replies, by name."""
    rows = query_records(
        cur, f"SELECT {_COLUMNS} FROM saved_replies "  # noqa: S608 (constants)
             "WHERE account_kind = ? AND account_id = ? ORDER BY lower(name), reply_id",
        [_kind(account_kind), str(account_id)])
    return [_saved(row) for row in rows]


def get_saved_reply(cur: Cursor, reply_id: int) -> SavedReply | None:
    rows = query_records(cur, f"SELECT {_COLUMNS} FROM saved_replies "  # noqa: S608
                              "WHERE reply_id = ?", [int(reply_id)])
    return _saved(rows[0]) if rows else None


def find_by_shortcut(cur: Cursor, account_kind: CommentSource, account_id: str,
                     shortcut: str) -> SavedReply | None:
    """The account's saved reply with this shortcut (any case, a leading "/" allowed)."""
    word = str(shortcut).strip().removeprefix("/")
    if not SHORTCUT.fullmatch(word):
        return None
    rows = query_records(
        cur, f"SELECT {_COLUMNS} FROM saved_replies "  # noqa: S608
             "WHERE account_kind = ? AND account_id = ? AND lower(shortcut) = lower(?)",
        [_kind(account_kind), str(account_id), word])
    return _saved(rows[0]) if rows else None


def create_saved_reply(cur: Cursor, account_kind: CommentSource, account_id: str, *,
                       name: str, body: str, shortcut: str | None = None, by: str,
                       at: datetime | None = None) -> int:
    """Save a new reply template for the account; return its reply_id. ValueError (one line)
    for an empty or taken name, a malformed or taken shortcut, or an empty body."""
    kind, account = _kind(account_kind), str(account_id)
    name, shortcut, body = _name(name), _shortcut(shortcut), _body(body)
    moment = to_utc(at or utc_now())
    with transaction(cur):
        _check_free(cur, kind, account, name, shortcut, None)
        row = fetch_first(
            cur, "INSERT INTO saved_replies (account_kind, account_id, name, shortcut, body, "
                 "created_by, created_at, updated_by, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING reply_id",
            [kind, account, name, shortcut, body, by, moment, by, moment])
        assert row is not None
        audit_event(cur, by, "saved_reply", f"saved reply {name!r} added to {kind}:{account}",
                    advertiser_id=account if kind == "ad" else None, at=moment)
    return int(row[0])


def update_saved_reply(cur: Cursor, reply_id: int, *, name: str, body: str,
                       shortcut: str | None = None, by: str,
                       at: datetime | None = None) -> None:
    """Change a saved reply's name, shortcut and body (its uses are kept). ValueError as for
    create_saved_reply, or when there is no such saved reply."""
    name, shortcut, body = _name(name), _shortcut(shortcut), _body(body)
    moment = to_utc(at or utc_now())
    with transaction(cur):
        current = get_saved_reply(cur, reply_id)
        if current is None:
            raise ValueError(f"there is no saved reply {reply_id} (deleted meanwhile?)")
        _check_free(cur, current.account_kind, current.account_id, name, shortcut,
                    current.reply_id)
        fetch_rows(cur, "UPDATE saved_replies SET name = ?, shortcut = ?, body = ?, "
                        "updated_by = ?, updated_at = ? WHERE reply_id = ?",
                   [name, shortcut, body, by, moment, current.reply_id])
        audit_event(cur, by, "saved_reply",
                    f"saved reply {current.name!r} of {current.account_kind}:"
                    f"{current.account_id} changed" + (
                        f" (now {name!r})" if name != current.name else ""),
                    advertiser_id=_advertiser(current), at=moment)


def delete_saved_reply(cur: Cursor, reply_id: int, *, by: str,
                       at: datetime | None = None) -> bool:
    """Delete a saved reply (the audit log says who); False when there was none."""
    moment = to_utc(at or utc_now())
    with transaction(cur):
        current = get_saved_reply(cur, reply_id)
        if current is None:
            return False
        fetch_rows(cur, "DELETE FROM saved_replies WHERE reply_id = ?", [current.reply_id])
        audit_event(cur, by, "saved_reply",
                    f"saved reply {current.name!r} of {current.account_kind}:"
                    f"{current.account_id} deleted (used {current.uses} times)",
                    advertiser_id=_advertiser(current), at=moment)
    return True


def record_use(cur: Cursor, reply_id: int, *, at: datetime | None = None) -> bool:
    """Count one reply sent with this saved reply; False when it was deleted meanwhile."""
    row = fetch_first(cur, "UPDATE saved_replies SET uses = uses + 1, last_used_at = ? "
                           "WHERE reply_id = ? RETURNING reply_id",
                      [to_utc(at or utc_now()), int(reply_id)])
    return row is not None


def placeholder_values(cur: Cursor, comment_id: str) -> dict[str, str | None]:
    """What a template's placeholders become for a stored comment: `user_name`, `ad_name`
    and `video_caption` (an organic comment's video's caption; on an ad comment the caption
    of the video a Spark Ad promotes when it is stored, else the ad's text). Every value is
    None when the comment is not stored."""
    rows = query_records(
        cur, "SELECT c.user_name, c.ad_name, coalesce(v.caption, c.ad_text) AS video_caption "
             "FROM comments c LEFT JOIN videos v ON v.video_id = CASE WHEN c.source = "
             "'organic' THEN c.video_id ELSE c.tiktok_item_id END "
             "WHERE c.comment_id = ? LIMIT 1", [str(comment_id)])
    return rows[0] if rows else {"user_name": None, "ad_name": None, "video_caption": None}


def _check_free(cur: Cursor, kind: str, account: str, name: str, shortcut: str | None,
                reply_id: int | None) -> None:
    """Refuse a name or shortcut another saved reply of the account has, in any case."""
    others = fetch_rows(cur, "SELECT reply_id, name, shortcut FROM saved_replies "
                             "WHERE account_kind = ? AND account_id = ?", [kind, account])
    for other_id, other_name, other_shortcut in others:
        if other_id == reply_id:
            continue
        if other_name.casefold() == name.casefold():
            raise ValueError(f"this account already has a saved reply named {other_name!r}")
        if shortcut and other_shortcut and other_shortcut.lower() == shortcut.lower():
            raise ValueError(f"the shortcut /{shortcut} is already used by {other_name!r}")


def _kind(account_kind: str) -> CommentSource:
    if account_kind not in COMMENT_SOURCES:
        raise ValueError(f"an account kind is 'ad' or 'organic', not {account_kind!r}")
    return account_kind  # type: ignore[return-value]


def _name(name: str) -> str:
    value = " ".join(str(name or "").split())
    if not value:
        raise ValueError("a saved reply needs a name")
    if len(value) > NAME_MAX:
        raise ValueError(f"a name has at most {NAME_MAX} characters, not {len(value)}")
    return value


def _shortcut(shortcut: str | None) -> str | None:
    value = str(shortcut or "").strip().removeprefix("/")
    if not value:
        return None
    if not SHORTCUT.fullmatch(value):
        raise ValueError(f"a shortcut is one word of up to 20 letters, digits, - or _, "
                         f"not {value[:40]!r}")
    return value


def _body(body: str) -> str:
    value = str(body or "").strip()
    if not value:
        raise ValueError("a saved reply needs some text")
    if len(value) > BODY_MAX:
        raise ValueError(f"a saved reply has at most {BODY_MAX:,} characters, not {len(value):,}")
    return value


def _advertiser(reply: SavedReply) -> str | None:
    return reply.account_id if reply.account_kind == "ad" else None


def _saved(row: dict[str, Any]) -> SavedReply:
    return SavedReply(**{**row, "reply_id": int(row["reply_id"]), "uses": int(row["uses"])})
