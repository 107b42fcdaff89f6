"""Sending, reconciling and retrying writes, for any comment source and any actor.

Each function takes a `Writer` (desk.sources.base): the account's client and its rules. The
outbox never asks which kind of account it is; see desk.outbox for the states a row moves
through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from desk import store as db
from desk.errors import ActionRefused, message_for
from desk.outbox import ledger, words
from desk.outbox.ledger import PENDING_STALE_AFTER, ActionResult
from desk.sources import KINDS
from desk.sources.base import PostedReply, Writer, as_utc, now, source_of
from tiktok_client.errors import (
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    PartialSuccess,
    PermissionDenied,
    TikTokError,
)

RECONCILE_SLACK = timedelta(minutes=5)
"""How much earlier than its outbox row a reply found on TikTok may be dated (clock skew)."""

NOT_POSTED = "TikTok has no record of this reply; it was not posted. Retry to send it."


# ---------------------------------------------------------------------------------------------
# Asking for a write


def reply(cur: db.Cursor, writer: Writer, *, comment_id: str, text: str, actor: str,
          request_key: str) -> ActionResult:
    """Reply to a first-level comment of the writer's account, exactly once per request_key.

    Raises ActionRefused (recorded in the audit log, nothing sent) when the comment is not
    stored for this account, is a reply, cannot be answered from here, or the text is empty
    or too long.
    """
    comment_id = str(comment_id)
    parent = writer.comment(cur, comment_id)
    if parent is None:
        reason: str | None = (
            f"This comment is not in Comment Desk's data for this {writer.noun}; sync the "
            "account and try again."
        )
    else:
        reason = writer.can_reply(parent)
    if reason is None:
        try:
            writer.check_text(text)
        except InvalidRequest as err:
            reason = message_for(err, writer.noun)
    if reason is not None:
        ledger.audit(cur, None, actor, writer.advertiser_id, "refused",
                     f"reply to {writer.describe(comment_id)}: {reason}")
        raise ActionRefused(reason)
    assert parent is not None
    action, new = _claim(cur, writer, "reply", comment_id, actor, request_key,
                         text=text, **writer.reply_fields(parent))
    if not new:
        return ledger.result(action, duplicate=True)
    return _send_reply(cur, writer, action, actor)


def set_hidden(cur: db.Cursor, writer: Writer, *, comment_ids: Sequence[str], hidden: bool,
               actor: str, request_key: str) -> list[ActionResult]:
    """Hide (or unhide) comments of the writer's account: one outbox row per comment, one
    call to TikTok per `writer.status_batch` comments.

    Each comment's row has the key ``f"{request_key}:{comment_id}"``; rows that already exist
    are returned with duplicate=True and not sent again. Comments the writer cannot change in
    one call (`Writer.status_call`: an ad account's auction and reserved ads) go in separate
    calls. Raises ActionRefused when a comment
    is not stored for this account.
    """
    if not isinstance(hidden, bool):
        raise TypeError("hidden must be True or False")
    if isinstance(comment_ids, str):
        raise TypeError("comment_ids must be a list of IDs, not a single string")
    ids = list(dict.fromkeys(str(c) for c in comment_ids))
    if not ids:
        return []
    kind = "hide" if hidden else "unhide"
    rows = writer.comments(cur, ids)
    unknown = [c for c in ids if c not in rows or not writer.can_change_status(rows[c])]
    if unknown:
        reason = (
            f"{len(unknown)} of the chosen comments are not in Comment Desk's data for this "
            f"{writer.noun}; sync the account and try again."
            if len(ids) > 1
            else f"This comment is not in Comment Desk's data for this {writer.noun}; sync the "
            "account and try again."
        )
        ledger.audit(cur, None, actor, writer.advertiser_id, "refused",
                     f"{kind} {writer.describe(', '.join(unknown))}: {reason}")
        raise ActionRefused(reason)
    fixed = {c: writer.status_fixed(rows[c]) for c in ids}
    fixed = {c: why for c, why in fixed.items() if why}
    if fixed:
        reason = next(iter(fixed.values()))
        if len(ids) > 1:
            verb = "hidden" if hidden else "unhidden"
            reason = (f"{len(fixed)} of the chosen comments cannot be {verb} from here. "
                      f"{reason} Nothing was sent; untick them and try again.")
        ledger.audit(cur, None, actor, writer.advertiser_id, "refused",
                     f"{kind} {writer.describe(', '.join(fixed))}: {reason}")
        raise ActionRefused(reason)

    results: dict[str, ActionResult] = {}
    to_send: list[dict[str, Any]] = []
    for comment_id in ids:
        action, new = _claim(cur, writer, kind, comment_id, actor, f"{request_key}:{comment_id}",
                             **writer.status_fields(rows[comment_id]))
        if new:
            to_send.append(action)
        else:
            results[comment_id] = ledger.result(action, duplicate=True)
    calls: dict[Any, list[dict[str, Any]]] = {}
    for action in to_send:
        calls.setdefault(writer.status_call(action), []).append(action)
    for alike in calls.values():
        for start in range(0, len(alike), writer.status_batch):
            for outcome in _send_status(cur, writer, alike[start:start + writer.status_batch],
                                        actor):
                results[outcome.comment_id] = outcome
    return [results[c] for c in ids]


def can_reply(comment_row: Mapping[str, Any]) -> str | None:
    """None if a reply box may be offered for this stored comment (of any source), else the
    human reason why not."""
    return KINDS[source_of(comment_row)].writer_class.can_reply(comment_row)


# ---------------------------------------------------------------------------------------------
# Settling what is not known


def reconcile(cur: db.Cursor, writer: Writer, action_id: int, *, actor: str | None = None,
              stale_after: timedelta = PENDING_STALE_AFTER) -> ActionResult:
    """Settle an "unknown" (or stale "pending") write by asking TikTok what is true.

    Also re-checks a "failed" one (it becomes "sent" if TikTok has it after all). A "sent" one,
    or one still being sent, is returned as it is. If TikTok cannot be asked, nothing changes.
    ``actor`` (who asked for the check) defaults to whoever asked for the write.
    """
    action = ledger.require(cur, action_id)
    _check_writer(action, writer)
    who = actor or action["actor"]
    if action["status"] == "sent":
        return ledger.result(action)
    if action["status"] == "pending":
        if not ledger.is_stale(action, stale_after):
            return ledger.result(action)
        moved = ledger.transition(
            cur, action, status="unknown", event="unknown", actor=who,
            detail="no answer was recorded: Comment Desk stopped while sending", error=None)
        action = moved or ledger.require(cur, action_id)
        if action["status"] != "unknown":
            return ledger.result(action)
    if action["kind"] in words.WORD_KINDS:  # asks TikTok's list; never raises TikTok's errors
        [settled] = words.settle(cur, writer, [action], who)
        return settled
    try:
        if action["kind"] == "reply":
            return _reconcile_reply(cur, writer, action, who)
        return _reconcile_status(cur, writer, action, who)
    except TikTokError as err:
        ledger.audit(cur, action["action_id"], who, action["advertiser_id"],
                     "reconcile_failed", ledger.error_detail(err))
        if action["status"] == "failed":
            return ledger.result(action)
        verb = "posted" if action["kind"] == "reply" else "changed"
        return ledger.result(action, says=(
            f"It is not yet known whether TikTok {verb} this, and checking failed: "
            f"{message_for(err, writer.noun)}"))


def retry(cur: db.Cursor, writer: Writer, action_id: int, *, actor: str) -> ActionResult:
    """Send a failed or unknown write again, after making sure TikTok does not already have it.

    Never sends twice: the write is reconciled first, and resent only when TikTok says it is not
    there. A sent write is returned as it is; one still being sent is left alone.
    """
    action = ledger.require(cur, action_id)
    _check_writer(action, writer)
    if action["status"] == "sent":
        return ledger.result(action, says=f"{ledger.message(action)} Nothing was sent again.")
    if action["status"] == "pending" and not ledger.is_stale(action, PENDING_STALE_AFTER):
        return ledger.result(action)
    settled = reconcile(cur, writer, action_id, actor=actor)
    if settled.status != "failed":
        if settled.status == "sent":
            return replace(settled, message=f"{settled.message} Nothing was sent again.")
        return settled  # still unknown: TikTok could not be asked, so nothing may be resent
    action = ledger.require(cur, action_id)
    if action["status"] != "failed":
        return ledger.result(action)
    claimed = ledger.transition(cur, action, status="pending", event="retried", actor=actor,
                                detail=f"attempt {action['attempts'] + 1}", error=None,
                                attempt=True)
    if claimed is None:  # another session is retrying it at this very moment
        current = ledger.require(cur, action_id)
        if current["status"] != "failed":
            return ledger.result(current)
        return ledger.result(current,
                             says="Someone else is retrying this right now; refresh in a moment.")
    if claimed["kind"] == "reply":
        return _send_reply(cur, writer, claimed, actor)
    if claimed["kind"] in words.WORD_KINDS:
        return words.resend(cur, writer, claimed, actor)
    [outcome] = _send_status(cur, writer, [claimed], actor)
    return outcome


def reconcile_open(cur: db.Cursor, writer: Writer, *, actor: str | None = None,
                   stale_after: timedelta = PENDING_STALE_AFTER) -> list[ActionResult]:
    """Reconcile every unknown write of the writer's account, and every one left pending too
    long (e.g. at startup)."""
    cutoff = now() - stale_after
    rows = cur.execute(
        "SELECT action_id FROM outbox WHERE (status = 'unknown' "  # noqa: S608
        "OR (status = 'pending' AND updated_at < ?)) AND coalesce(source, 'ad') = ? "
        f"AND {writer.account_column} = ? ORDER BY action_id",
        [cutoff, writer.kind, writer.account_id],
    ).fetchall()
    return [reconcile(cur, writer, row[0], actor=actor, stale_after=stale_after) for row in rows]


# ---------------------------------------------------------------------------------------------
# Sending


def _claim(cur: db.Cursor, writer: Writer, kind: str, comment_id: str, actor: str,
           request_key: str, **fields: Any) -> tuple[dict[str, Any], bool]:
    return ledger.claim(
        cur, request_key=request_key, kind=kind, comment_id=comment_id, actor=actor,
        detail=f"{kind} {writer.describe(comment_id)}", audit_advertiser_id=writer.advertiser_id,
        source=writer.kind, **{writer.account_column: writer.account_id}, **fields)


def _send_reply(cur: db.Cursor, writer: Writer, action: dict[str, Any],
                actor: str) -> ActionResult:
    """Post a claimed (pending) reply and record how it went; an unanswered post is
    reconciled."""
    try:
        sent = writer.post_reply(action)
    except OutcomeUnknown as err:
        return _unknown_then_reconcile(cur, writer, action, actor, err)
    except TikTokError as err:
        return _fail(cur, writer, action, actor, err)
    except Exception as err:  # the request may have gone out: treat it as unanswered
        return _unknown_then_reconcile(cur, writer, action, actor, err)
    note_write_access(cur, writer)
    if not sent.comment_id:  # an OK answer without the new reply's ID: look it up
        return _unknown_then_reconcile(
            cur, writer, action, actor, MalformedResponse("the answer had no comment_id"))
    return _reply_sent(cur, writer, action, actor, sent, "sent",
                       f"reply {sent.comment_id} to comment {action['comment_id']}")


def _reply_sent(cur: db.Cursor, writer: Writer, action: dict[str, Any], actor: str,
                reply: PostedReply, event: str, detail: str) -> ActionResult:
    """Mark a reply row sent with TikTok's reply, and store the reply at once."""
    moved = ledger.transition(cur, action, status="sent", event=event, actor=actor,
                              detail=detail, error=None, result_comment_id=reply.comment_id)
    writer.store_reply(cur, action, reply)
    return ledger.result(moved or ledger.require(cur, action["action_id"]))


def _send_status(cur: db.Cursor, writer: Writer, actions: list[dict[str, Any]],
                 actor: str) -> list[ActionResult]:
    """Hide or unhide claimed (pending) rows in one call."""
    operation = "HIDDEN" if actions[0]["kind"] == "hide" else "PUBLIC"
    try:
        writer.set_status(actions, operation == "HIDDEN")
    except (OutcomeUnknown, PartialSuccess) as err:  # some or all may have changed: ask TikTok
        return [_unknown_then_reconcile(cur, writer, a, actor, err) for a in actions]
    except TikTokError as err:
        return [_fail(cur, writer, a, actor, err) for a in actions]
    except Exception as err:
        return [_unknown_then_reconcile(cur, writer, a, actor, err) for a in actions]
    note_write_access(cur, writer)
    writer.set_stored_status(cur, [a["comment_id"] for a in actions], operation)
    results = []
    for action in actions:
        moved = ledger.transition(
            cur, action, status="sent", event="sent", actor=actor,
            detail=f"comment {action['comment_id']} set to {operation}", error=None)
        results.append(ledger.result(moved or ledger.require(cur, action["action_id"])))
    return results


def _fail(cur: db.Cursor, writer: Writer, action: dict[str, Any], actor: str,
          err: TikTokError) -> ActionResult:
    note_write_access(cur, writer, err)
    moved = ledger.transition(cur, action, status="failed", event="failed", actor=actor,
                              detail=ledger.error_detail(err),
                              error=message_for(err, writer.noun))
    return ledger.result(moved or ledger.require(cur, action["action_id"]))


def _unknown_then_reconcile(cur: db.Cursor, writer: Writer, action: dict[str, Any], actor: str,
                            err: Exception) -> ActionResult:
    """Record that the answer was lost, then try once to settle it with TikTok."""
    moved = ledger.transition(cur, action, status="unknown", event="unknown", actor=actor,
                              detail=ledger.error_detail(err),
                              error=message_for(OutcomeUnknown()))
    if moved is None:
        return ledger.result(ledger.require(cur, action["action_id"]))
    return reconcile(cur, writer, action["action_id"], actor=actor)


# ---------------------------------------------------------------------------------------------
# Reconciling


def _reconcile_reply(cur: db.Cursor, writer: Writer, action: dict[str, Any],
                     actor: str) -> ActionResult:
    found = _find_reply(cur, writer, action)
    if found is not None:
        return _reply_sent(cur, writer, action, actor, found, "reconciled",
                           f"TikTok has reply {found.comment_id}: marked sent")
    if action["status"] == "failed":
        ledger.audit(cur, action["action_id"], actor, action["advertiser_id"], "reconciled",
                     "TikTok has no such reply: still failed")
        return ledger.result(action)
    moved = ledger.transition(cur, action, status="failed", event="reconciled", actor=actor,
                              detail="TikTok has no such reply: marked failed", error=NOT_POSTED)
    return ledger.result(moved or ledger.require(cur, action["action_id"]))


def _find_reply(cur: db.Cursor, writer: Writer, action: dict[str, Any]) -> PostedReply | None:
    """The brand reply on TikTok that this action made, if any: under the same comment, with
    the same text, by the brand, created no earlier than the row less RECONCILE_SLACK, and not
    already claimed by another outbox row (its own reply first, else the oldest)."""
    text = (action["text"] or "").strip()
    earliest = as_utc(action["created_at"]) - RECONCILE_SLACK
    candidates = [
        c for c in writer.replies_on_tiktok(action)
        if c.by_brand and c.text.strip() == text
        and (c.create_time is None or c.create_time >= earliest)
    ]
    if not candidates:
        return None
    claimed = ledger.claimed_replies(cur, [c.comment_id for c in candidates], action["action_id"])
    free = [c for c in candidates if c.comment_id not in claimed]
    own = next((c for c in free if c.comment_id == action["result_comment_id"]), None)
    if own is not None:
        return own
    free.sort(key=lambda c: (c.create_time or datetime.max.replace(tzinfo=UTC), c.comment_id))
    return free[0] if free else None


def _reconcile_status(cur: db.Cursor, writer: Writer, action: dict[str, Any],
                      actor: str) -> ActionResult:
    wanted = "HIDDEN" if action["kind"] == "hide" else "PUBLIC"
    current = writer.status_on_tiktok(cur, action)
    if current is not None:
        writer.set_stored_status(cur, [action["comment_id"]], current)
    comment_id = action["comment_id"]
    if current == wanted:
        moved = ledger.transition(
            cur, action, status="sent", event="reconciled", actor=actor,
            detail=f"TikTok shows comment {comment_id} as {current}: marked sent", error=None)
        return ledger.result(moved or ledger.require(cur, action["action_id"]))
    if action["status"] == "failed":
        ledger.audit(cur, action["action_id"], actor, action["advertiser_id"], "reconciled",
                     f"TikTok shows comment {comment_id} as {current}: still failed")
        return ledger.result(action)
    verb = "hidden" if action["kind"] == "hide" else "made visible"
    moved = ledger.transition(
        cur, action, status="failed", event="reconciled", actor=actor,
        detail=f"TikTok shows comment {comment_id} as {current}: marked failed",
        error=(f"TikTok still shows this comment as {(current or 'unknown').lower()}; it was "
               f"not {verb}. Retry to send it again."))
    return ledger.result(moved or ledger.require(cur, action["action_id"]))


# ---------------------------------------------------------------------------------------------
# Small helpers


def note_write_access(cur: db.Cursor, writer: Writer,
                      err: TikTokError | None = None) -> None:
    """Remember what TikTok's answer to a write says about this connection's right to write on
    the account: allowed after a write TikTok carried out, refused after a permission error
    about the account. TikTok says it nowhere else (advertiser/info's `role` is the account's
    type, not the user's permission). A refusal about the ad's identity (its TikTok account
    has not authorised comment management) concerns that ad only, and is left out."""
    if err is None:
        db.record_write_access(cur, writer.kind, writer.account_id, True)
    elif isinstance(err, PermissionDenied) and not _about_identity(err):
        db.record_write_access(cur, writer.kind, writer.account_id, False, err.code,
                               err.message or None)


def _about_identity(err: TikTokError) -> bool:
    said = (err.message or "").lower()
    return "comment_manage" in said or "comment management" in said or "identity" in said


def _check_writer(action: Mapping[str, Any], writer: Writer) -> None:
    """Refuse a writer that cannot act for this outbox row (another account, or kind)."""
    kind = source_of(action)
    owner = KINDS[kind].writer_class
    account = action[owner.account_column]
    if kind != writer.kind or str(account) != writer.account_id:
        raise ActionRefused(
            f"This action belongs to {owner.noun} {account}; open it from that account's "
            "comments to check or retry it."
        )

