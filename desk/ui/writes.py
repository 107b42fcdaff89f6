"""Writes to TikTok from a page: replies and hide/unhide, through the outbox (desk.outbox).

Each write acts through the account its comment belongs to: an ad comment with the token of
the connection that grants its ad account, an organic one as its TikTok business account. A
request key makes each write happen once, however often it is clicked; `flash_results` says
how it went on the next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import streamlit as st

from desk import outbox
from desk.outbox import ActionResult
from desk.sources import for_row
from desk.text import text
from desk.ui.context import PageContext, flash, refresh

_STATUS_ICONS = MappingProxyType({"sent": "✅", "pending": "⏳", "unknown": "⏳", "failed": "⚠️"})
ANSWERING = "reply to, hide or unhide comments"
"""What a responder may do and a viewer may not (desk.people), as refusals say it."""


def _next_generation() -> None:
    st.session_state["write_generation"] = st.session_state.get("write_generation", 0) + 1


def status_request_key(kind: str, comment_ids: Sequence[str]) -> str:
    """The request key of a hide/unhide: the same until a write of this session completes,
    so a double click (or an interrupted run done again) finds the first request."""
    digest = hashlib.sha256(",".join(sorted(comment_ids)).encode()).hexdigest()[:16]
    nonce = st.session_state.get("session_nonce", "")
    return f"{nonce}:{kind}:{digest}:{st.session_state.get('write_generation', 0)}"


def send_reply(ctx: PageContext, row: Mapping[str, Any], body: str,
               request_key: str) -> ActionResult:
    """Reply to a stored comment (of any source) through the outbox, exactly once per
    request_key; a responder or above only."""
    ctx.require("responder", ANSWERING)
    with for_row(ctx.workspace, row).writer() as writer, ctx.store.cursor() as cur:
        try:
            return outbox.reply(cur, writer, comment_id=text(row["comment_id"]), text=body,
                                actor=ctx.person.email, request_key=request_key)
        finally:
            refresh()


def set_hidden(ctx: PageContext, rows: Sequence[Mapping[str, Any]],
               hidden: bool) -> list[ActionResult]:
    """Hide or unhide stored comments through the outbox: one batch per account they belong
    to, each written by its own source; a responder or above only."""
    ctx.require("responder", ANSWERING)
    groups: dict[str, tuple[Any, list[str]]] = {}
    for row in rows:
        owner = for_row(ctx.workspace, row)
        groups.setdefault(owner.key, (owner, []))[1].append(text(row["comment_id"]))
    results: list[ActionResult] = []
    for owner, ids in groups.values():
        key = status_request_key("hide" if hidden else "unhide", ids)
        with owner.writer() as writer, ctx.store.cursor() as cur:
            try:
                results += outbox.set_hidden(cur, writer, comment_ids=ids, hidden=hidden,
                                             actor=ctx.person.email, request_key=key)
            finally:
                refresh()
    _next_generation()
    return results


def retry_action(ctx: PageContext, action: Mapping[str, Any]) -> ActionResult:
    """Check with TikTok and send a failed or unknown write again only if it is not there; a
    responder or above only."""
    ctx.require("responder", ANSWERING)
    with for_row(ctx.workspace, action).writer() as writer, ctx.store.cursor() as cur:
        try:
            return outbox.retry(cur, writer, int(action["action_id"]), actor=ctx.person.email)
        finally:
            refresh()


def flash_results(results: Sequence[ActionResult]) -> None:
    """Queue a one-line summary of writes for the next run."""
    if not results:
        return
    if len(results) == 1:
        result = results[0]
        extra = (f" TikTok's ID for the reply: {result.result_comment_id}."
                 if result.kind == "reply" and result.result_comment_id else "")
        flash(_STATUS_ICONS.get(result.status, "ℹ️"), result.message + extra)
        return
    done = sum(r.status == "sent" for r in results)
    verb = "hidden" if results[0].kind == "hide" else "made visible"
    line = f"{done} of {len(results)} comments {verb} on TikTok."
    problems = [r for r in results if r.status != "sent"]
    if problems:
        line += f" {problems[0].message}"
    flash("✅" if not problems else "⚠️", line)
