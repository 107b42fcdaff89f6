"""Writes to TikTok (reply, hide, unhide): through an outbox, with an audit log, exactly once.

Every write a person asks for becomes one `outbox` row *before* anything is sent, keyed by the
caller's `request_key`: a double click or a Streamlit rerun with the same key finds that row and
sends nothing. The row then moves through these states, each move written to `audit_log`:

    pending --(TikTok answered OK)---------------------------------> sent
            --(TikTok refused: permission, token, throttled, ...)--> failed
            --(sent, but no usable answer came back)---------------> unknown
    unknown --reconcile: TikTok has it---------------------------> sent
            --reconcile: TikTok does not have it-----------------> failed
    failed  --retry: reconcile first; send again only if TikTok does not have it--> pending

Reconciling asks TikTok what is true instead of guessing:

- a reply is on TikTok when the parent comment's replies (comment/reference, every page) hold a
  reply with the same text, posted by the brand (`can_delete`), created no earlier than the
  outbox row minus `RECONCILE_SLACK`, and not already claimed by another outbox row;
- a hide (unhide) is on TikTok when the comment's current status is HIDDEN (PUBLIC).

Organic comments (on a TikTok business account's own videos, `source` 'organic') go through
the same outbox and audit log with the same guarantees, written with the account's
`BusinessAccountClient` instead of the ad account's client; the outbox row's `source` says
which. There, a reply is on TikTok when the comment's replies (business/comment/reply/list,
every page) hold one written by the account (`owner`) with the same text under the same
rules, and a hide's status is read with business/comment/list for that one comment. The
outbox row's `business_id` and `video_id` say where it acts; its `advertiser_id` is NULL.
`reply_to_comment` and `set_hidden_rows` take a stored comment row of either source.

A request_key that was already used returns its row as it stands (duplicate=True), even a
failed one: sending again is `retry()`'s job, which checks TikTok first.

A row left `pending` for longer than `PENDING_STALE_AFTER` (the process stopped mid-send) is
treated as `unknown`. If TikTok cannot be asked (network down, token revoked), the row stays as
it is and nothing is resent. Rows move only by compare-and-set on (status, attempts), so two
sessions retrying the same action cannot both send it.

Comment text is data: it is stored as given, never interpreted. Tokens are never stored or
logged; error texts come from the client, which redacts them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from desk import store as st
from desk.connect.tokens import AccountNeedsReconnect, AccountNotConnected, TokenUnavailable
from tiktok_client.accounts import BusinessAccountClient, check_comment_text
from tiktok_client.accounts_models import OrganicComment
from tiktok_client.client import MAX_REPLY_LENGTH, TikTokClient, check_reply_text
from tiktok_client.errors import (
    AccessTokenExpired,
    AuthCodeError,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    PartialSuccess,
    PermissionDenied,
    RateLimited,
    RefreshTokenError,
    ServerError,
    TikTokError,
    TokenError,
    TransportError,
)
from tiktok_client.models import Comment

__all__ = [
    "PENDING_STALE_AFTER",
    "RECONCILE_SLACK",
    "ActionRefused",
    "ActionResult",
    "actions_for_comments",
    "audit_log",
    "can_reply",
    "get_action",
    "human_message",
    "reconcile",
    "reconcile_open",
    "recent_actions",
    "reply",
    "reply_organic",
    "reply_to_comment",
    "retry",
    "set_hidden",
    "set_hidden_organic",
    "set_hidden_rows",
]

Cursor = duckdb.DuckDBPyConnection
Client = TikTokClient | BusinessAccountClient
"""The ad account's client for an ad comment's write, the business account's for an organic one."""

RECONCILE_SLACK = timedelta(minutes=5)
"""How much earlier than its outbox row a reply found on TikTok may be dated (clock skew)."""

PENDING_STALE_AFTER = timedelta(minutes=5)
"""A send takes at most the client's deadline; a row pending longer was cut off mid-send."""

MAX_STATUS_BATCH = 100
"""comment/status/update takes at most this many comment IDs per call."""

FIRST_LEVEL_ONLY = (
    "Only first-level comments can be answered; reply to the original comment instead."
)
NOT_POSTED = "TikTok has no record of this reply; it was not posted. Retry to send it."
RECONNECT_ACCOUNT = (
    "The connection to this TikTok account no longer works; reconnect the TikTok account on "
    "the Home page, then retry."
)

_OUTBOX_COLUMNS = (
    "action_id, request_key, kind, advertiser_id, comment_id, ad_id, tiktok_item_id, "
    "identity_type, identity_id, text, status, result_comment_id, error, attempts, actor, "
    "created_at, updated_at, source, business_id, video_id"
)
_REFERENCE_PAGE_SIZE = 100
_MAX_REFERENCE_PAGES = 1000
_RACE_ERRORS = (duckdb.TransactionException, duckdb.ConstraintException)


@dataclass(frozen=True)
class ActionResult:
    """Where one write stands, for the UI."""

    action_id: int
    kind: str  # "reply" | "hide" | "unhide"
    comment_id: str
    status: str  # "pending" | "sent" | "failed" | "unknown"
    message: str  # one human sentence: what happened and, if it failed, what to do
    result_comment_id: str | None = None  # TikTok's id of the new reply
    duplicate: bool = False  # True when request_key had already been used: nothing was sent


class ActionRefused(Exception):
    """The write was refused before anything was sent; ``str()`` is the human reason."""


# ---------------------------------------------------------------------------------------------
# What may be offered


def can_reply(comment_row: Mapping) -> str | None:
    """None if a reply box may be offered for this comment, else the human reason why not."""
    comment_type = _value(comment_row.get("comment_type"))
    if comment_type == "REPLY" or (
        comment_type is None and _value(comment_row.get("original_comment_id")) is not None
    ):
        return FIRST_LEVEL_ONLY
    if _source(comment_row) == "organic":
        if (
            _value(comment_row.get("video_id")) is None
            or _value(comment_row.get("business_id")) is None
        ):
            return (
                "This comment is missing its video or TikTok account, so it cannot be answered "
                "from here; sync the TikTok account and try again."
            )
        return None
    missing = [
        name
        for name in ("ad_id", "tiktok_item_id", "identity_type", "identity_id")
        if _value(comment_row.get(name)) is None
    ]
    if missing:
        return (
            "This comment is missing its ad's video or identity, so it cannot be answered "
            "from here; sync the ad account and try again."
        )
    if _value(comment_row.get("is_auth_comment_manage_scope")) is False:
        return (
            "The ad's identity has not given comment-management permission, so no reply can be "
            "posted as it; ask the owner of that TikTok account to authorize comment "
            "management for the ad account."
        )
    return None


# ---------------------------------------------------------------------------------------------
# Writes


def reply(
    cur: Cursor,
    client: TikTokClient,
    *,
    advertiser_id: str,
    comment_id: str,
    text: str,
    actor: str,
    request_key: str,
) -> ActionResult:
    """Reply to a first-level comment as the ad's identity, exactly once per request_key.

    Raises ActionRefused (recorded in the audit log, nothing sent) when the comment is unknown,
    is a reply, its identity may not manage comments, or the text is empty or too long.
    """
    advertiser_id, comment_id = str(advertiser_id), str(comment_id)
    parent = _comment(cur, advertiser_id, comment_id)
    if parent is None:
        reason: str | None = (
            "This comment is not in Comment Desk's data for this ad account; sync the account "
            "and try again."
        )
    else:
        reason = can_reply(parent)
    if reason is None:
        try:
            check_reply_text(text)
        except InvalidRequest as err:
            reason = human_message(err)
    if reason is not None:
        _audit(
            cur, None, actor, advertiser_id, "refused", f"reply to comment {comment_id}: {reason}"
        )
        raise ActionRefused(reason)
    assert parent is not None

    action, new = _claim(
        cur,
        request_key=request_key,
        kind="reply",
        advertiser_id=advertiser_id,
        comment_id=comment_id,
        actor=actor,
        text=text,
        ad_id=parent["ad_id"],
        tiktok_item_id=parent["tiktok_item_id"],
        identity_type=parent["identity_type"],
        identity_id=parent["identity_id"],
    )
    if not new:
        return _result(action, duplicate=True)
    return _send_reply(cur, client, action, actor)


def set_hidden(
    cur: Cursor,
    client: TikTokClient,
    *,
    advertiser_id: str,
    comment_ids: list[str],
    hidden: bool,
    actor: str,
    request_key: str,
) -> list[ActionResult]:
    """Hide (or unhide) comments: one outbox row per comment, one API call per 100 comments.

    Each comment's row has the key ``f"{request_key}:{comment_id}"``; rows that already exist
    are returned with duplicate=True and not sent again. Raises ActionRefused when a comment is
    not in the store for this ad account.
    """
    if not isinstance(hidden, bool):
        raise TypeError("hidden must be True or False")
    if isinstance(comment_ids, str):
        raise TypeError("comment_ids must be a list of IDs, not a single string")
    advertiser_id = str(advertiser_id)
    ids = list(dict.fromkeys(str(c) for c in comment_ids))
    if not ids:
        return []
    kind = "hide" if hidden else "unhide"
    known = _known_comments(cur, advertiser_id, ids)
    unknown = [c for c in ids if c not in known]
    if unknown:
        reason = (
            f"{len(unknown)} of the chosen comments are not in Comment Desk's data for this ad "
            "account; sync the account and try again."
            if len(ids) > 1
            else "This comment is not in Comment Desk's data for this ad account; sync the "
            "account and try again."
        )
        _audit(cur, None, actor, advertiser_id, "refused", f"{kind} {', '.join(unknown)}: {reason}")
        raise ActionRefused(reason)

    results: dict[str, ActionResult] = {}
    to_send: list[dict[str, Any]] = []
    for comment_id in ids:
        action, new = _claim(
            cur,
            request_key=f"{request_key}:{comment_id}",
            kind=kind,
            advertiser_id=advertiser_id,
            comment_id=comment_id,
            actor=actor,
        )
        if new:
            to_send.append(action)
        else:
            results[comment_id] = _result(action, duplicate=True)
    for start in range(0, len(to_send), MAX_STATUS_BATCH):
        batch = to_send[start : start + MAX_STATUS_BATCH]
        for result in _send_status(cur, client, batch, actor):
            results[result.comment_id] = result
    return [results[c] for c in ids]


def reply_organic(
    cur: Cursor,
    account: BusinessAccountClient,
    *,
    comment_id: str,
    text: str,
    actor: str,
    request_key: str,
) -> ActionResult:
    """Reply to a first-level organic comment as the business account, once per request_key.

    Raises ActionRefused (recorded in the audit log, nothing sent) when the comment is not
    stored for this account, is a reply, or the text is empty or over 150 characters.
    """
    business_id, comment_id = account.business_id, str(comment_id)
    parent = _organic_comment(cur, business_id, comment_id)
    if parent is None:
        reason: str | None = (
            "This comment is not in Comment Desk's data for this TikTok account; sync the "
            "account and try again."
        )
    else:
        reason = can_reply(parent)
    if reason is None:
        try:
            check_comment_text(text, "reply")
        except InvalidRequest as err:
            reason = human_message(err, source="organic")
    if reason is not None:
        _audit(
            cur,
            None,
            actor,
            None,
            "refused",
            f"reply to comment {comment_id} of TikTok account {business_id}: {reason}",
        )
        raise ActionRefused(reason)
    assert parent is not None

    action, new = _claim(
        cur,
        request_key=request_key,
        kind="reply",
        advertiser_id=None,
        comment_id=comment_id,
        actor=actor,
        text=text,
        tiktok_item_id=parent["video_id"],
        source="organic",
        business_id=business_id,
        video_id=parent["video_id"],
    )
    if not new:
        return _result(action, duplicate=True)
    return _send_organic_reply(cur, account, action, actor)


def set_hidden_organic(
    cur: Cursor,
    account: BusinessAccountClient,
    *,
    comment_ids: list[str],
    hidden: bool,
    actor: str,
    request_key: str,
) -> list[ActionResult]:
    """Hide (or unhide) organic comments or replies: one outbox row and one call per comment.

    Keys as in set_hidden (``f"{request_key}:{comment_id}"``). Raises ActionRefused when a
    comment is not stored for this business account.
    """
    if not isinstance(hidden, bool):
        raise TypeError("hidden must be True or False")
    if isinstance(comment_ids, str):
        raise TypeError("comment_ids must be a list of IDs, not a single string")
    business_id = account.business_id
    ids = list(dict.fromkeys(str(c) for c in comment_ids))
    kind = "hide" if hidden else "unhide"
    rows = {c: _organic_comment(cur, business_id, c) for c in ids}
    unknown = [c for c, row in rows.items() if row is None or _value(row.get("video_id")) is None]
    if unknown:
        reason = (
            f"{len(unknown)} of the chosen comments are not in Comment Desk's data for this "
            "TikTok account; sync the account and try again."
            if len(ids) > 1
            else "This comment is not in Comment Desk's data for this TikTok account; sync the "
            "account and try again."
        )
        _audit(
            cur,
            None,
            actor,
            None,
            "refused",
            f"{kind} {', '.join(unknown)} of TikTok account {business_id}: {reason}",
        )
        raise ActionRefused(reason)

    results = []
    for comment_id in ids:
        video_id = rows[comment_id]["video_id"]  # type: ignore[index]
        action, new = _claim(
            cur,
            request_key=f"{request_key}:{comment_id}",
            kind=kind,
            advertiser_id=None,
            comment_id=comment_id,
            actor=actor,
            tiktok_item_id=video_id,
            source="organic",
            business_id=business_id,
            video_id=video_id,
        )
        results.append(_send_organic_status(cur, account, action, actor) if new
                       else _result(action, duplicate=True))
    return results


def reply_to_comment(
    cur: Cursor,
    client: Client,
    comment_row: Mapping[str, Any],
    *,
    text: str,
    actor: str,
    request_key: str,
) -> ActionResult:
    """Reply to a stored comment of either source: ``client`` is the ad account's client for an
    ad comment, the business account's BusinessAccountClient for an organic one."""
    comment_id = str(comment_row["comment_id"])
    if _source(comment_row) == "organic":
        if not isinstance(client, BusinessAccountClient):
            raise TypeError("an organic comment is answered with a BusinessAccountClient")
        return reply_organic(
            cur, client, comment_id=comment_id, text=text, actor=actor, request_key=request_key
        )
    if isinstance(client, BusinessAccountClient):
        raise TypeError("an ad comment is answered with the ad account's TikTokClient")
    return reply(
        cur,
        client,
        advertiser_id=str(comment_row["advertiser_id"]),
        comment_id=comment_id,
        text=text,
        actor=actor,
        request_key=request_key,
    )


def set_hidden_rows(
    cur: Cursor,
    client: Client,
    comment_rows: Sequence[Mapping[str, Any]],
    *,
    hidden: bool,
    actor: str,
    request_key: str,
) -> list[ActionResult]:
    """Hide (or unhide) stored comments of one source and account (see reply_to_comment)."""
    if not comment_rows:
        return []
    sources = {_source(r) for r in comment_rows}
    if len(sources) > 1:
        raise ActionRefused("Hide ad comments and organic comments separately.")
    ids = [str(r["comment_id"]) for r in comment_rows]
    if sources == {"organic"}:
        if not isinstance(client, BusinessAccountClient):
            raise TypeError("organic comments are hidden with a BusinessAccountClient")
        return set_hidden_organic(
            cur, client, comment_ids=ids, hidden=hidden, actor=actor, request_key=request_key
        )
    if isinstance(client, BusinessAccountClient):
        raise TypeError("ad comments are hidden with the ad account's TikTokClient")
    advertisers = {str(r["advertiser_id"]) for r in comment_rows}
    if len(advertisers) > 1:
        raise ActionRefused("Hide the comments of one ad account at a time.")
    return set_hidden(
        cur,
        client,
        advertiser_id=advertisers.pop(),
        comment_ids=ids,
        hidden=hidden,
        actor=actor,
        request_key=request_key,
    )


def reconcile(
    cur: Cursor,
    client: Client,
    action_id: int,
    *,
    actor: str | None = None,
    stale_after: timedelta = PENDING_STALE_AFTER,
) -> ActionResult:
    """Settle an "unknown" (or stale "pending") write by asking TikTok what is true.

    Also re-checks a "failed" one (it becomes "sent" if TikTok has it after all). A "sent" one,
    or one still being sent, is returned as it is. If TikTok cannot be asked, nothing changes.
    ``actor`` (who asked for the check) defaults to whoever asked for the write. ``client`` is
    the ad account's client for an ad write, the business account's for an organic one.
    """
    action = _require(cur, action_id)
    _check_client(action, client)
    who = actor or action["actor"]
    if action["status"] == "sent":
        return _result(action)
    if action["status"] == "pending":
        if not _is_stale(action, stale_after):
            return _result(action)
        moved = _transition(
            cur,
            action,
            status="unknown",
            event="unknown",
            actor=who,
            detail="no answer was recorded: Comment Desk stopped while sending",
            error=None,
        )
        action = moved or _require(cur, action_id)
        if action["status"] != "unknown":
            return _result(action)
    try:
        if action["kind"] == "reply":
            return _reconcile_reply(cur, client, action, who)
        return _reconcile_status(cur, client, action, who)
    except TikTokError as err:
        _audit(
            cur,
            action["action_id"],
            who,
            action["advertiser_id"],
            "reconcile_failed",
            _error_detail(err),
        )
        verb = "posted" if action["kind"] == "reply" else "changed"
        if action["status"] == "failed":
            return _result(action)
        return _result(
            action,
            message=(
                f"It is not yet known whether TikTok {verb} this, and checking failed: "
                f"{human_message(err, source=_source(action))}"
            ),
        )


def retry(cur: Cursor, client: Client, action_id: int, *, actor: str) -> ActionResult:
    """Send a failed or unknown write again, after making sure TikTok does not already have it.

    Never sends twice: the write is reconciled first, and resent only when TikTok says it is not
    there. A sent write is returned as it is; one still being sent is left alone.
    """
    action = _require(cur, action_id)
    _check_client(action, client)
    if action["status"] == "sent":
        return _result(action, message=f"{_message(action)} Nothing was sent again.")
    if action["status"] == "pending" and not _is_stale(action, PENDING_STALE_AFTER):
        return _result(action)
    settled = reconcile(cur, client, action_id, actor=actor)
    if settled.status != "failed":
        if settled.status == "sent":
            return replace(settled, message=f"{settled.message} Nothing was sent again.")
        return settled  # still unknown: TikTok could not be asked, so nothing may be resent
    action = _require(cur, action_id)
    if action["status"] != "failed":
        return _result(action)
    claimed = _transition(
        cur,
        action,
        status="pending",
        event="retried",
        actor=actor,
        detail=f"attempt {action['attempts'] + 1}",
        error=None,
        attempt=True,
    )
    if claimed is None:  # another session is retrying it at this very moment
        now = _require(cur, action_id)
        if now["status"] != "failed":
            return _result(now)
        return _result(now, message="Someone else is retrying this right now; refresh in a moment.")
    if _source(claimed) == "organic":
        assert isinstance(client, BusinessAccountClient)  # _check_client saw to it
        if claimed["kind"] == "reply":
            return _send_organic_reply(cur, client, claimed, actor)
        return _send_organic_status(cur, client, claimed, actor)
    if claimed["kind"] == "reply":
        return _send_reply(cur, client, claimed, actor)
    [result] = _send_status(cur, client, [claimed], actor)
    return result


def reconcile_open(
    cur: Cursor,
    client: Client,
    advertiser_id: str | None = None,
    *,
    actor: str | None = None,
    stale_after: timedelta = PENDING_STALE_AFTER,
) -> list[ActionResult]:
    """Reconcile every unknown write, and every write left pending too long (e.g. at startup).

    With a BusinessAccountClient: that business account's organic writes; otherwise the ad
    writes (of ``advertiser_id`` when given).
    """
    cutoff = _now() - stale_after
    sql = (
        "SELECT action_id FROM outbox WHERE (status = 'unknown' "
        "OR (status = 'pending' AND updated_at < ?))"
    )
    params: list[Any] = [cutoff]
    if isinstance(client, BusinessAccountClient):
        sql += " AND source = 'organic' AND business_id = ?"
        params.append(client.business_id)
    else:
        sql += " AND coalesce(source, 'ad') = 'ad'"
    if advertiser_id is not None:
        sql += " AND advertiser_id = ?"
        params.append(str(advertiser_id))
    ids = [row[0] for row in cur.execute(sql + " ORDER BY action_id", params).fetchall()]
    return [reconcile(cur, client, i, actor=actor, stale_after=stale_after) for i in ids]


# ---------------------------------------------------------------------------------------------
# Reading


def get_action(cur: Cursor, action_id: int) -> ActionResult | None:
    """Where one write stands now, or None if there is no such action."""
    action = _load(cur, action_id)
    return None if action is None else _result(action)


def recent_actions(
    cur: Cursor, advertiser_id: str | None, limit: int = 50, *, business_id: str | None = None
) -> pd.DataFrame:
    """The advertiser's outbox rows (or, with business_id, the business account's organic
    ones), newest first, each with a human `message`."""
    column, key = ("business_id", business_id) if business_id else ("advertiser_id", advertiser_id)
    frame = st.query_frame(
        cur,
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE {column} = ? "  # noqa: S608
        "ORDER BY created_at DESC, action_id DESC LIMIT ?",
        [str(key), _count(limit)],
    )
    return _with_messages(frame)


def actions_for_comments(cur: Cursor, comment_ids: list[str]) -> pd.DataFrame:
    """The outbox rows of these comments, newest first, each with a human `message`."""
    ids = list(dict.fromkeys(str(c) for c in comment_ids))
    where = f"comment_id IN ({', '.join('?' for _ in ids)})" if ids else "false"
    frame = st.query_frame(
        cur,
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE {where} "  # noqa: S608
        "ORDER BY created_at DESC, action_id DESC",
        ids,
    )
    return _with_messages(frame)


def audit_log(cur: Cursor, advertiser_id: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Audit rows (logged_at, action_id, actor, advertiser_id, event, detail), newest first."""
    where, params = ("WHERE advertiser_id = ?", [str(advertiser_id)]) if advertiser_id else ("", [])
    return st.query_frame(
        cur,
        "SELECT logged_at, action_id, actor, advertiser_id, event, detail FROM audit_log "  # noqa: S608
        f"{where} ORDER BY logged_at DESC, rowid DESC LIMIT ?",
        [*params, _count(limit)],
    )


# ---------------------------------------------------------------------------------------------
# Messages


def human_message(error: Exception, *, source: str = "ad") -> str:
    """What happened and what to do next, for every error a user can meet while writing.

    ``source`` is the comment's: "organic" words account trouble for a TikTok (business)
    account instead of an ad account.
    """
    organic = source == "organic"
    if isinstance(error, ActionRefused):
        return str(error)
    if isinstance(error, AccessTokenExpired | RefreshTokenError | AccountNeedsReconnect):
        return RECONNECT_ACCOUNT
    if isinstance(error, AccountNotConnected):
        return "This TikTok account is not connected; connect it on the Home page, then retry."
    if isinstance(error, TokenUnavailable):
        return (
            "The TikTok account's access could not be renewed just now (the network or TikTok "
            "is busy); nothing was sent. Try again in a minute."
        )
    if isinstance(error, OutcomeUnknown):
        return (
            "TikTok did not confirm whether the change was made (its answer was lost); Retry "
            "checks TikTok first, so nothing is ever done twice."
        )
    if isinstance(error, PermissionDenied):
        if organic:
            return (
                "TikTok does not allow managing this comment as this TikTok account; reconnect "
                "the TikTok account on the Home page and grant the comment-management permission."
            )
        return _permission_message(error)
    if isinstance(error, InvalidRequest):
        return _invalid_message(error, "TikTok account" if organic else "ad account")
    if isinstance(error, RateLimited):
        return "TikTok is limiting how fast this app may send requests; wait a minute and retry."
    if isinstance(error, TokenError) and organic:
        return RECONNECT_ACCOUNT
    if isinstance(error, TokenError):
        return (
            "The connection to this TikTok ad account no longer works; reconnect the account on "
            "the Home page, then retry."
        )
    if isinstance(error, AuthCodeError):
        return (
            "TikTok did not accept the authorization; connect the account again on the Home page."
        )
    if isinstance(error, TransportError) and error.status is None and not error.possibly_applied:
        return (
            "Comment Desk could not reach TikTok (the network or TikTok is down); the "
            "comments already stored stay readable. Try again when the connection is back."
            f"{_reference(error)}"
        )
    if isinstance(error, ServerError | TransportError | MalformedResponse):
        return f"TikTok had trouble answering; try again in a few minutes.{_reference(error)}"
    if isinstance(error, PartialSuccess):
        return (
            "TikTok carried out only part of the request; sync to see which comments changed, "
            f"then retry the rest.{_reference(error)}"
        )
    if isinstance(error, TikTokError):
        what = f" ({_sentence(error.message)})" if error.message else ""
        return (
            f"TikTok returned an error{what}; try again later, and if it keeps happening contact "
            f"TikTok support.{_reference(error)}"
        )
    return (
        f"Something went wrong in Comment Desk ({type(error).__name__}); try again, and if it "
        "keeps happening report it to whoever runs Comment Desk."
    )


def _permission_message(error: PermissionDenied) -> str:
    text = error.message.lower()
    if "comment_manage" in text or "comment management" in text or "identity" in text:
        return (
            "The ad's identity has not given comment-management permission, so no reply can be "
            "posted as it; ask the owner of that TikTok account to authorize comment management."
        )
    if "analyst" in text:
        return (
            "Your role on this ad account is Analyst, which cannot reply to or hide comments; "
            "ask an admin of the ad account for the Admin or Operator role."
        )
    return (
        "TikTok does not allow this for this ad account: the Analyst role cannot reply to or hide "
        "comments, so ask an admin of the ad account for the Admin or Operator role, or reconnect "
        "the account on the Home page and grant the Ad Comments permission."
    )


def _invalid_message(error: InvalidRequest, account: str = "ad account") -> str:
    text = error.message.lower()
    if "first-level" in text or "first level" in text or "top-level comments can" in text:
        return FIRST_LEVEL_ONLY
    length = re.search(r"(\d+) characters long", text)
    if length or "length must be" in text or "too long" in text:
        size = f"{length.group(1)} characters long" if length else "too long"
        return (
            f"The reply is {size}; TikTok takes at most {MAX_REPLY_LENGTH} characters, so "
            "shorten it and send again."
        )
    if "empty" in text or "blank" in text:
        return "The reply is empty; write some text first."
    if "does not exist" in text or "not found" in text or error.code == 40007:
        return (
            "TikTok no longer has this comment or its ad (it may have been deleted); sync the "
            f"{account} to refresh the list."
        )
    if "identity" in text or "video" in text:
        return (
            f"TikTok says the ad's video or identity has changed; sync the {account} and try again."
        )
    what = f" ({_sentence(error.message)})" if error.message else ""
    return (
        f"TikTok did not accept the request{what}; sync the {account} and try again."
        f"{_reference(error)}"
    )


def _sentence(text: str) -> str:
    return text.strip().rstrip(".")[:200]


def _reference(error: TikTokError) -> str:
    return f" (TikTok request ID {error.request_id})" if error.request_id else ""


def _message(action: Mapping[str, Any]) -> str:
    """One sentence on where an outbox row stands."""
    kind, status = action["kind"], action["status"]
    what = {"reply": "the reply", "hide": "hiding the comment", "unhide": "unhiding the comment"}
    what = what.get(kind, f"the {kind}")
    if status == "sent":
        return {
            "reply": "The reply is posted on TikTok.",
            "hide": "The comment is hidden on TikTok.",
            "unhide": "The comment is visible again on TikTok.",
        }.get(kind, "TikTok carried out the change.")
    if status == "failed":
        return action["error"] or f"TikTok did not carry out {what}; retry to send it again."
    if status == "pending" and not _is_stale(action, PENDING_STALE_AFTER):
        return f"Sending {what} to TikTok."
    return f"TikTok did not confirm {what}; Retry checks TikTok first, so it is never done twice."


# ---------------------------------------------------------------------------------------------
# Sending


def _send_reply(
    cur: Cursor, client: TikTokClient, action: dict[str, Any], actor: str
) -> ActionResult:
    """Send a claimed (pending) reply to an ad comment and record how it went."""
    return _post_reply(cur, client, action, actor, lambda: client.reply_to_comment(
        action["advertiser_id"],
        ad_id=action["ad_id"],
        tiktok_item_id=action["tiktok_item_id"],
        comment_id=action["comment_id"],
        text=action["text"],
        identity_type=action["identity_type"],
        identity_id=action["identity_id"],
    ))


def _send_organic_reply(
    cur: Cursor, account: BusinessAccountClient, action: dict[str, Any], actor: str
) -> ActionResult:
    """Send a claimed (pending) reply to an organic comment and record how it went."""
    return _post_reply(cur, account, action, actor, lambda: account.reply_to_comment(
        action["video_id"], action["comment_id"], action["text"]))


def _post_reply(
    cur: Cursor,
    client: TikTokClient | BusinessAccountClient,
    action: dict[str, Any],
    actor: str,
    post: Callable[[], Any],
) -> ActionResult:
    """Post a reply with `post` and record how it went; an unanswered post is reconciled."""
    try:
        sent = post()
    except OutcomeUnknown as err:
        return _unknown_then_reconcile(cur, client, action, actor, err)
    except TikTokError as err:
        return _fail(cur, action, actor, err)
    except Exception as err:  # the request may have gone out: treat it as unanswered
        return _unknown_then_reconcile(cur, client, action, actor, err)
    if not sent.comment_id:  # an OK answer without the new reply's ID: look it up
        return _unknown_then_reconcile(
            cur, client, action, actor, MalformedResponse("the answer had no comment_id")
        )
    moved = _transition(
        cur,
        action,
        status="sent",
        event="sent",
        actor=actor,
        detail=f"reply {sent.comment_id} to comment {action['comment_id']}",
        error=None,
        result_comment_id=sent.comment_id,
    )
    _store_reply(
        cur,
        action,
        sent.comment_id,
        create_time=sent.create_time,
        user_name=getattr(sent, "username", None),
        status=getattr(sent, "status", None),
    )
    return _result(moved or _require(cur, action["action_id"]))


def _send_status(
    cur: Cursor, client: TikTokClient, actions: list[dict[str, Any]], actor: str
) -> list[ActionResult]:
    """Send one comment/status/update for claimed (pending) hide or unhide rows."""
    kind = actions[0]["kind"]
    operation = "HIDDEN" if kind == "hide" else "PUBLIC"
    ids = [a["comment_id"] for a in actions]
    try:
        client.set_comment_status(actions[0]["advertiser_id"], ids, operation)
    except (OutcomeUnknown, PartialSuccess) as err:  # some or all may have changed: ask TikTok
        return [_unknown_then_reconcile(cur, client, a, actor, err) for a in actions]
    except TikTokError as err:
        return [_fail(cur, a, actor, err) for a in actions]
    except Exception as err:
        return [_unknown_then_reconcile(cur, client, a, actor, err) for a in actions]
    _set_store_status(cur, ids, operation)
    results = []
    for action in actions:
        moved = _transition(
            cur,
            action,
            status="sent",
            event="sent",
            actor=actor,
            detail=f"comment {action['comment_id']} set to {operation}",
            error=None,
        )
        results.append(_result(moved or _require(cur, action["action_id"])))
    return results


def _send_organic_status(
    cur: Cursor, account: BusinessAccountClient, action: dict[str, Any], actor: str
) -> ActionResult:
    """Send business/comment/hide for a claimed (pending) organic hide or unhide row."""
    operation = "HIDDEN" if action["kind"] == "hide" else "PUBLIC"
    try:
        account.set_comment_hidden(
            action["video_id"], action["comment_id"], "HIDE" if operation == "HIDDEN" else "UNHIDE"
        )
    except OutcomeUnknown as err:
        return _unknown_then_reconcile(cur, account, action, actor, err)
    except TikTokError as err:
        return _fail(cur, action, actor, err)
    except Exception as err:
        return _unknown_then_reconcile(cur, account, action, actor, err)
    _set_store_status(cur, [action["comment_id"]], operation)
    moved = _transition(
        cur,
        action,
        status="sent",
        event="sent",
        actor=actor,
        detail=f"comment {action['comment_id']} set to {operation}",
        error=None,
    )
    return _result(moved or _require(cur, action["action_id"]))


def _fail(cur: Cursor, action: dict[str, Any], actor: str, err: TikTokError) -> ActionResult:
    message = human_message(err, source=_source(action))
    moved = _transition(
        cur,
        action,
        status="failed",
        event="failed",
        actor=actor,
        detail=_error_detail(err),
        error=message,
    )
    return _result(moved or _require(cur, action["action_id"]))


def _unknown_then_reconcile(
    cur: Cursor, client: Client, action: dict[str, Any], actor: str, err: Exception
) -> ActionResult:
    """Record that the answer was lost, then try once to settle it with TikTok."""
    detail = _error_detail(err) if isinstance(err, TikTokError) else type(err).__name__
    moved = _transition(
        cur,
        action,
        status="unknown",
        event="unknown",
        actor=actor,
        detail=detail,
        error=human_message(OutcomeUnknown()),
    )
    if moved is None:
        return _result(_require(cur, action["action_id"]))
    return reconcile(cur, client, action["action_id"], actor=actor)


def _error_detail(err: TikTokError) -> str:
    parts = [f"{type(err).__name__}: {err.message or err.title}"]
    if err.code is not None:
        parts.append(f"code {err.code}")
    if err.request_id:
        parts.append(f"request_id {err.request_id}")
    return "; ".join(parts)[:1000]


# ---------------------------------------------------------------------------------------------
# Reconciling


def _reconcile_reply(
    cur: Cursor, client: Client, action: dict[str, Any], actor: str
) -> ActionResult:
    if _source(action) == "organic":
        assert isinstance(client, BusinessAccountClient)
        found: Comment | OrganicComment | None = _find_organic_reply(cur, client, action)
    else:
        found = _find_reply(cur, client, action)
    if found is not None:
        moved = _transition(
            cur,
            action,
            status="sent",
            event="reconciled",
            actor=actor,
            detail=f"TikTok has reply {found.comment_id}: marked sent",
            error=None,
            result_comment_id=found.comment_id,
        )
        if isinstance(found, OrganicComment):
            user_name, status = found.username, found.status
        else:
            user_name, status = found.user_name, found.comment_status
        _store_reply(
            cur,
            action,
            found.comment_id,
            create_time=found.create_time,
            user_name=user_name,
            status=status,
        )
        return _result(moved or _require(cur, action["action_id"]))
    if action["status"] == "failed":
        _audit(
            cur,
            action["action_id"],
            actor,
            action["advertiser_id"],
            "reconciled",
            "TikTok has no such reply: still failed",
        )
        return _result(action)
    moved = _transition(
        cur,
        action,
        status="failed",
        event="reconciled",
        actor=actor,
        detail="TikTok has no such reply: marked failed",
        error=NOT_POSTED,
    )
    return _result(moved or _require(cur, action["action_id"]))


def _find_reply(cur: Cursor, client: TikTokClient, action: dict[str, Any]) -> Comment | None:
    """The brand reply on TikTok that this action made, if any (see the module docstring)."""
    text = (action["text"] or "").strip()
    earliest = _as_utc(action["created_at"]) - RECONCILE_SLACK
    candidates = [
        c
        for c in _replies_on_tiktok(client, action["advertiser_id"], action["comment_id"])
        if c.comment_id
        and c.comment_id != action["comment_id"]
        and (c.comment_type in (None, "REPLY"))
        and c.can_delete is True
        and (c.content or "").strip() == text
        and (c.create_time is None or c.create_time >= earliest)
    ]
    return _first_unclaimed(cur, action, candidates)


def _find_organic_reply(
    cur: Cursor, account: BusinessAccountClient, action: dict[str, Any]
) -> OrganicComment | None:
    """The account's reply on TikTok that this organic action made, if any."""
    text = (action["text"] or "").strip()
    earliest = _as_utc(action["created_at"]) - RECONCILE_SLACK
    candidates = [
        c
        for c in account.iter_replies(action["video_id"], action["comment_id"], status="ALL")
        if c.comment_id
        and c.comment_id != action["comment_id"]
        and c.owner is True
        and (c.text or "").strip() == text
        and (c.create_time is None or c.create_time >= earliest)
    ]
    return _first_unclaimed(cur, action, candidates)


def _first_unclaimed(cur: Cursor, action: dict[str, Any], candidates: list[Any]) -> Any:
    """The action's own reply among the candidates, else the oldest no other row claims."""
    if not candidates:
        return None
    claimed = _claimed_replies(cur, [c.comment_id for c in candidates], action["action_id"])
    free = [c for c in candidates if c.comment_id not in claimed]
    if action["result_comment_id"] in {c.comment_id for c in free}:
        return next(c for c in free if c.comment_id == action["result_comment_id"])
    free.sort(key=lambda c: (c.create_time or datetime.max.replace(tzinfo=UTC), c.comment_id))
    return free[0] if free else None


def _replies_on_tiktok(
    client: TikTokClient, advertiser_id: str, comment_id: str
) -> Iterator[Comment]:
    """Every item comment/reference lists for a first-level comment (itself and its replies)."""
    page = 1
    while page <= _MAX_REFERENCE_PAGES:
        result = client.comment_reference(
            advertiser_id, comment_id, "COMMENT", page=page, page_size=_REFERENCE_PAGE_SIZE
        )
        yield from result.items
        total = result.page_info.total_page
        if not result.items or (total is not None and page >= total):
            return
        if total is None and len(result.items) < _REFERENCE_PAGE_SIZE:
            return
        page += 1


def _reconcile_status(
    cur: Cursor, client: Client, action: dict[str, Any], actor: str
) -> ActionResult:
    wanted = "HIDDEN" if action["kind"] == "hide" else "PUBLIC"
    if _source(action) == "organic":
        assert isinstance(client, BusinessAccountClient)
        current = _organic_status_on_tiktok(client, action["video_id"], action["comment_id"])
    else:
        current = _status_on_tiktok(cur, client, action["advertiser_id"], action["comment_id"])
    if current is not None:
        _set_store_status(cur, [action["comment_id"]], current)
    if current == wanted:
        moved = _transition(
            cur,
            action,
            status="sent",
            event="reconciled",
            actor=actor,
            detail=f"TikTok shows comment {action['comment_id']} as {current}: marked sent",
            error=None,
        )
        return _result(moved or _require(cur, action["action_id"]))
    shown = (current or "unknown").lower()
    verb = "hidden" if action["kind"] == "hide" else "made visible"
    error = (
        f"TikTok still shows this comment as {shown}; it was not {verb}. Retry to send it again."
    )
    if action["status"] == "failed":
        _audit(
            cur,
            action["action_id"],
            actor,
            action["advertiser_id"],
            "reconciled",
            f"TikTok shows comment {action['comment_id']} as {current}: still failed",
        )
        return _result(action)
    moved = _transition(
        cur,
        action,
        status="failed",
        event="reconciled",
        actor=actor,
        detail=f"TikTok shows comment {action['comment_id']} as {current}: marked failed",
        error=error,
    )
    return _result(moved or _require(cur, action["action_id"]))


def _status_on_tiktok(
    cur: Cursor, client: TikTokClient, advertiser_id: str, comment_id: str
) -> str | None:
    """The comment's status on TikTok now (PUBLIC or HIDDEN), via comment/reference."""
    stored = _comment(cur, advertiser_id, comment_id) or {}
    original = stored.get("original_comment_id")
    if stored.get("comment_type") == "REPLY" and original:
        page = client.comment_reference(advertiser_id, comment_id, "REPLY", original)
    else:
        page = client.comment_reference(advertiser_id, comment_id, "COMMENT")
    for item in page.items:
        if item.comment_id == comment_id:
            return item.comment_status
    return None


def _organic_status_on_tiktok(
    account: BusinessAccountClient, video_id: str, comment_id: str
) -> str | None:
    """The organic comment's status on TikTok now (PUBLIC or HIDDEN), via business/comment/list."""
    page = account.comments_page(video_id, comment_ids=[comment_id], status="ALL")
    for item in page.items:
        if item.comment_id == comment_id:
            return item.status
    return None


# ---------------------------------------------------------------------------------------------
# The outbox and the audit log


def _claim(cur: Cursor, *, request_key: str, **fields: Any) -> tuple[dict[str, Any], bool]:
    """The outbox row of this request: a new pending one (True: send it), or the one an
    earlier request with the same key made (False: report it, send nothing)."""
    existing = _by_key(cur, request_key)
    if existing is not None:
        return existing, False
    action = _create(cur, request_key=request_key, **fields)
    if action is not None:
        return action, True
    existing = _by_key(cur, request_key)  # another session made it a moment ago
    assert existing is not None
    return existing, False


def _create(
    cur: Cursor,
    *,
    request_key: str,
    kind: str,
    advertiser_id: str,
    comment_id: str,
    actor: str,
    text: str | None = None,
    ad_id: str | None = None,
    tiktok_item_id: str | None = None,
    identity_type: str | None = None,
    identity_id: str | None = None,
    source: str = "ad",
    business_id: str | None = None,
    video_id: str | None = None,
) -> dict[str, Any] | None:
    """Insert a pending row and its 'requested' audit entry; None when the key is taken."""
    now = _now()
    try:
        with _transaction(cur):
            rows = cur.execute(
                "INSERT INTO outbox (request_key, kind, advertiser_id, comment_id, ad_id, "
                "tiktok_item_id, identity_type, identity_id, text, status, attempts, actor, "
                "created_at, updated_at, source, business_id, video_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (request_key) DO NOTHING RETURNING action_id",
                [
                    request_key,
                    kind,
                    advertiser_id,
                    comment_id,
                    ad_id,
                    tiktok_item_id,
                    identity_type,
                    identity_id,
                    text,
                    actor,
                    now,
                    now,
                    source,
                    business_id,
                    video_id,
                ],
            ).fetchall()
            if rows:
                detail = f"{kind} comment {comment_id}"
                if business_id is not None:
                    detail = f"{kind} comment {comment_id} of TikTok account {business_id}"
                if text is not None:
                    detail += f" ({len(text)} characters)"
                _audit(cur, rows[0][0], actor, advertiser_id, "requested", detail, at=now)
    except _RACE_ERRORS:
        return None
    return _load(cur, rows[0][0]) if rows else None


def _transition(
    cur: Cursor,
    action: Mapping[str, Any],
    *,
    status: str,
    event: str,
    actor: str,
    detail: str,
    error: str | None,
    result_comment_id: str | None = None,
    attempt: bool = False,
) -> dict[str, Any] | None:
    """Move a row on if it is still as `action` saw it, and log it; None if it had moved on."""
    now = _now()
    sets = ["status = ?", "error = ?", "updated_at = ?"]
    params: list[Any] = [status, error, now]
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
        with _transaction(cur):
            rows = cur.execute(sql, params).fetchall()
            if rows:
                _audit(
                    cur, action["action_id"], actor, action["advertiser_id"], event, detail, at=now
                )
    except _RACE_ERRORS:
        rows = []
    return _load(cur, action["action_id"]) if rows else None


def _audit(
    cur: Cursor,
    action_id: int | None,
    actor: str,
    advertiser_id: str | None,
    event: str,
    detail: str | None,
    *,
    at: datetime | None = None,
) -> None:
    cur.execute(
        "INSERT INTO audit_log (logged_at, action_id, actor, advertiser_id, event, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [at or _now(), action_id, actor, advertiser_id, event, detail],
    ).fetchall()


@contextmanager
def _transaction(cur: Cursor) -> Iterator[None]:
    cur.begin()
    try:
        yield
    except BaseException:
        cur.rollback()
        raise
    cur.commit()


def _load(cur: Cursor, action_id: int) -> dict[str, Any] | None:
    rows = st.query_records(
        cur,
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE action_id = ?",  # noqa: S608
        [int(action_id)],
    )
    return rows[0] if rows else None


def _require(cur: Cursor, action_id: int) -> dict[str, Any]:
    action = _load(cur, action_id)
    if action is None:
        raise ActionRefused(f"There is no action {action_id}; refresh the page.")
    return action


def _by_key(cur: Cursor, request_key: str) -> dict[str, Any] | None:
    rows = st.query_records(
        cur,
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE request_key = ?",  # noqa: S608
        [request_key],
    )
    return rows[0] if rows else None


def _claimed_replies(cur: Cursor, reply_ids: Sequence[str], action_id: int) -> set[str]:
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


def _result(
    action: Mapping[str, Any], *, duplicate: bool = False, message: str | None = None
) -> ActionResult:
    text = message or _message(action)
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
    )


def _with_messages(frame: pd.DataFrame) -> pd.DataFrame:
    frame["message"] = [_message(row) for row in frame.to_dict("records")] if len(frame) else []
    return frame


def _is_stale(action: Mapping[str, Any], stale_after: timedelta) -> bool:
    return _as_utc(action["updated_at"]) < _now() - stale_after


# ---------------------------------------------------------------------------------------------
# The comments table


def _comment(cur: Cursor, advertiser_id: str, comment_id: str) -> dict[str, Any] | None:
    rows = st.query_records(
        cur,
        "SELECT * FROM comments WHERE comment_id = ? AND advertiser_id = ? LIMIT 1",
        [comment_id, advertiser_id],
    )
    return rows[0] if rows else None


def _known_comments(cur: Cursor, advertiser_id: str, comment_ids: Sequence[str]) -> set[str]:
    marks = ", ".join("?" for _ in comment_ids)
    rows = cur.execute(
        f"SELECT DISTINCT comment_id FROM comments WHERE advertiser_id = ? "  # noqa: S608
        f"AND comment_id IN ({marks})",
        [advertiser_id, *comment_ids],
    ).fetchall()
    return {row[0] for row in rows}


def _store_reply(
    cur: Cursor,
    action: Mapping[str, Any],
    reply_id: str,
    *,
    create_time: datetime | None,
    user_name: str | None = None,
    status: str | None = None,
) -> None:
    """Put a reply the brand just made into the comments table, so the UI shows it at once.

    Built from the parent's row; the next sync overwrites it with TikTok's own version. A reply
    the store already has (a sync got there first) is left alone.
    """
    if _source(action) == "organic":
        _store_organic_reply(
            cur, action, reply_id, create_time=create_time, user_name=user_name, status=status
        )
        return
    advertiser_id, parent_id = action["advertiser_id"], action["comment_id"]
    if _comment(cur, advertiser_id, reply_id) is not None:
        return
    parent = _comment(cur, advertiser_id, parent_id)
    if parent is None:
        return
    inherited = (
        "app",
        "ad_text",
        "campaign_id",
        "campaign_name",
        "adgroup_id",
        "adgroup_name",
        "ad_id",
        "ad_name",
        "tiktok_item_id",
        "identity_id",
        "identity_type",
        "is_auth_ttba",
        "is_auth_comment_manage_scope",
        "video_play_url",
        "video_cover_url",
    )
    row: dict[str, Any] = {name: parent.get(name) for name in inherited}
    row.update(
        comment_id=reply_id,
        advertiser_id=advertiser_id,
        content=action["text"],
        likes=0,
        replies=0,
        comment_type="REPLY",
        original_comment_id=parent_id,
        comment_status=status or "PUBLIC",
        create_time=_as_utc(create_time) if create_time else _now(),
        is_pinned=False,
        can_delete=True,
        user_name=user_name,
    )
    with _transaction(cur):
        st.upsert_comments(cur, pd.DataFrame([row]), seen_at=_now())
        cur.execute(
            "UPDATE comments SET replies = coalesce(replies, 0) + 1 WHERE comment_id = ?",
            [parent_id],
        ).fetchall()


def _store_organic_reply(
    cur: Cursor,
    action: Mapping[str, Any],
    reply_id: str,
    *,
    create_time: datetime | None,
    user_name: str | None,
    status: str | None,
) -> None:
    """_store_reply for a reply the business account just made to an organic comment."""
    business_id, parent_id = action["business_id"], action["comment_id"]
    if _organic_comment(cur, business_id, reply_id) is not None:
        return
    parent = _organic_comment(cur, business_id, parent_id)
    if parent is None:
        return
    row = {
        "comment_id": reply_id,
        "video_id": parent["video_id"],
        "tiktok_item_id": parent["video_id"],
        "business_id": business_id,
        "source": "organic",
        "content": action["text"],
        "likes": 0,
        "replies": 0,
        "comment_type": "REPLY",
        "original_comment_id": parent_id,
        "comment_status": status or "PUBLIC",
        "create_time": _as_utc(create_time) if create_time else _now(),
        "is_pinned": False,
        "can_delete": True,
        "user_name": user_name,
    }
    with _transaction(cur):
        st.upsert_organic_comments(cur, pd.DataFrame([row]), seen_at=_now())
        cur.execute(
            "UPDATE comments SET replies = coalesce(replies, 0) + 1 WHERE comment_id = ? "
            "AND source = 'organic'",
            [parent_id],
        ).fetchall()


def _organic_comment(cur: Cursor, business_id: str, comment_id: str) -> dict[str, Any] | None:
    rows = st.query_records(
        cur,
        "SELECT * FROM comments WHERE comment_id = ? AND business_id = ? "
        "AND source = 'organic' LIMIT 1",
        [comment_id, business_id],
    )
    return rows[0] if rows else None


def _set_store_status(cur: Cursor, comment_ids: Sequence[str], status: str) -> None:
    marks = ", ".join("?" for _ in comment_ids)
    cur.execute(
        f"UPDATE comments SET comment_status = ? WHERE comment_id IN ({marks})",  # noqa: S608
        [status, *comment_ids],
    ).fetchall()


# ---------------------------------------------------------------------------------------------
# Small helpers


def _source(row: Mapping[str, Any]) -> str:
    """'organic' or 'ad' (rows from before organic comments have no source: ad)."""
    return "organic" if _value(row.get("source")) == "organic" else "ad"


def _check_client(action: Mapping[str, Any], client: Client) -> None:
    """Refuse a client that cannot act for this outbox row (the wrong account or kind)."""
    if _source(action) == "organic":
        if not isinstance(client, BusinessAccountClient):
            raise ActionRefused(
                f"This action is on TikTok account {action['business_id']}'s own video; open it "
                "from that account's comments to check or retry it."
            )
        if client.business_id != action["business_id"]:
            raise ActionRefused(
                f"This action belongs to TikTok account {action['business_id']}, not "
                f"{client.business_id}; open it from that account's comments."
            )
    elif isinstance(client, BusinessAccountClient):
        raise ActionRefused(
            "This action is on an ad comment; open it from the ad account's comments to check "
            "or retry it."
        )


def _value(value: Any) -> Any:
    """None for missing values (None, NaN, pd.NA, empty text); plain bools for booleans."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"limit must be a whole number of at least 0, not {value!r}")
    return value


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)
