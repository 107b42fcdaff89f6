"""Showing a comment: its caption line and text, its replies, its reply box, its moderation
buttons and outbox state, and the ticked comments of a list with their bulk hide/unhide.

Comment text is data: it is shown with st.text, never as markdown; the caption line escapes
every name it carries (md_escape).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pandas as pd
import streamlit as st

from desk import replies
from desk import store as db
from desk.moderation.labels import LABEL_NAMES, language_name
from desk.outbox import ActionResult, can_reply
from desk.sources import KINDS
from desk.sources.access import write_refusal
from desk.sources.base import source_of
from desk.store.filters import SENTIMENT_CUT
from desk.text import local_time, md_escape, text, video_label
from desk.ui import queries
from desk.ui.context import USER_ERRORS, PageContext, refresh, show_error
from desk.ui.writes import flash_results, retry_action, send_reply, set_hidden

NESTED_REPLIES_SHOWN = 10


def group_rows(frame: pd.DataFrame, column: str) -> dict[str, list[dict[str, Any]]]:
    """Records of `frame` grouped by one column, in frame order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in frame.to_dict("records"):
        groups.setdefault(text(record.get(column)), []).append(record)
    return groups


def comment_header(row: Mapping[str, Any], *, with_ad: bool = True) -> str:
    """The escaped caption line of a comment: who, when, likes, replies, status, ad."""
    parts = [f"**{md_escape(row.get('user_name') or 'unknown user')}**"]
    if row.get("is_brand") is True or (
        row.get("comment_type") == "REPLY" and row.get("can_delete") is True
    ):
        parts.append(":blue-badge[Brand]")
    parts.append(local_time(row.get("create_time_local")))
    parts.append(f"♥ {int(row.get('likes') or 0):,}")
    if row.get("comment_type") == "COMMENT":
        parts.append(f"💬 {int(row.get('replies') or 0):,}")
    else:
        parts.append(":gray-badge[Reply]")
    if row.get("comment_status") == "HIDDEN":
        parts.append(":orange-badge[Hidden]")
    if row.get("hit_blockedword") is True:
        parts.append(":red-badge[Blocked word]")
    if row.get("answered") is True:
        parts.append(":green-badge[Answered]")
    organic = text(row.get("source")) == "organic"
    if organic:
        parts.append(":violet-badge[Organic]")
    if with_ad and organic:
        caption = video_label(row.get("video_caption"), text(row.get("video_id")), width=60)
        parts.append(f"on {md_escape(caption)}")
    elif with_ad and text(row.get("ad_name")):
        parts.append(f"on {md_escape(row.get('ad_name'))}")
    return " · ".join(p for p in parts if p)


LABEL_BADGES = MappingProxyType({
    "question": "blue", "complaint": "orange", "praise": "green", "purchase_intent": "violet",
    "spam": "gray", "toxic": "red",
})


def verdict_line(row: Mapping[str, Any]) -> str:
    """The classifier's verdict as a caption: labels, sentiment and language; "" when the
    comment is not classified yet."""
    if not text(row.get("classified_with")):
        return ""
    labels = row.get("labels")
    labels = list(labels) if labels is not None and not isinstance(labels, str) else []
    parts = [f":{LABEL_BADGES.get(label, 'gray')}-badge[{LABEL_NAMES.get(label, label)}]"
             for label in labels if label in LABEL_NAMES]
    score = row.get("sentiment")
    if isinstance(score, int | float) and score == score:  # not NaN
        mood = "🙂" if score > SENTIMENT_CUT else "🙁" if score < -SENTIMENT_CUT else "😐"
        parts.append(f"{mood} {score:+.2f}")
    parts.append(md_escape(language_name(text(row.get("language")) or None)))
    return " · ".join(parts)


def comment_card(row: Mapping[str, Any], replies: Sequence[Mapping[str, Any]]) -> None:
    """A comment and its replies, with the text shown literally (st.text)."""
    st.caption(comment_header(row))
    verdict = verdict_line(row)
    if verdict:
        st.caption(verdict)
    body = text(row.get("content"))
    if body:
        st.text(body)
    else:
        st.caption("(no text)")
    if replies:
        _, thread = st.columns([1, 24])
        with thread:
            for reply in replies[:NESTED_REPLIES_SHOWN]:
                st.caption("↳ " + comment_header(reply, with_ad=False))
                st.text(text(reply.get("content")) or " ")
            if len(replies) > NESTED_REPLIES_SHOWN:
                st.caption(f"…and {len(replies) - NESTED_REPLIES_SHOWN} more replies.")


def open_reply(page: str, comment_id: str) -> None:
    """Open the reply box of a comment (a new request key: a new reply)."""
    st.session_state[f"{page}_replying"] = comment_id
    st.session_state[f"{page}_reply_key_{comment_id}"] = uuid.uuid4().hex


def _close_reply(page: str, comment_id: str) -> None:
    st.session_state[f"{page}_replying"] = None
    st.session_state.pop(f"{page}_reply_key_{comment_id}", None)


def comment_actions(ctx: PageContext, page: str, row: Mapping[str, Any],
                    outbox: Sequence[Mapping[str, Any]],
                    keys: Mapping[str, str] | None = None) -> None:
    """Reply, hide/unhide and the outbox state of one comment; `keys` gives the Reply, Saved
    reply and Hide buttons keyboard shortcuts ("reply", "template", "hide")."""
    keys = keys or {}
    comment_id = text(row["comment_id"])
    reason = can_reply(row)
    writer = KINDS[source_of(row)].writer_class
    fixed = writer.status_fixed(row)
    refused = write_refusal(
        queries.write_access(ctx, writer.kind, text(row.get(writer.account_column))),
        writer.noun)
    if refused:
        st.warning(md_escape(refused), icon="🔒")
    hidden = row.get("comment_status") == "HIDDEN"
    if not ctx.person.can("responder"):  # a viewer reads: no buttons (and writes refuse)
        _outbox_state(ctx, page, outbox, can_retry=False)
        return
    buttons = st.columns([1, 1, 6], vertical_alignment="center")
    if reason is None:
        buttons[0].button("Reply", key=f"{page}_reply_open_{comment_id}", icon="💬",
                          on_click=open_reply, args=(page, comment_id),
                          shortcut=keys.get("reply"))
        if "template" in keys:  # the same box, its saved replies at hand
            buttons[0].button("Saved reply", key=f"{page}_template_open_{comment_id}",
                              on_click=open_reply, args=(page, comment_id),
                              shortcut=keys["template"])
    verb = "Unhide" if hidden else "Hide"
    if fixed is None and buttons[1].button(verb, key=f"{page}_{verb.lower()}_{comment_id}",
                                           shortcut=None if hidden else keys.get("hide")):
        try:
            flash_results(set_hidden(ctx, [row], not hidden))
        except USER_ERRORS as exc:
            show_error(exc)
        else:
            st.rerun()
    with buttons[2]:
        for why in (reason, fixed):
            if why is not None:
                st.caption(md_escape(why))
        _outbox_state(ctx, page, outbox)
    if st.session_state.get(f"{page}_replying") == comment_id and reason is None:
        _reply_box(ctx, page, row)


def _outbox_state(ctx: PageContext, page: str, outbox: Sequence[Mapping[str, Any]], *,
                  can_retry: bool = True) -> None:
    """The latest reply and the latest hide/unhide of a comment, as they stand (with Retry
    for one that failed, for those who may send)."""
    latest: dict[str, Mapping[str, Any]] = {}
    for action in outbox:  # newest first
        latest.setdefault("reply" if action["kind"] == "reply" else "status", action)
    for action in latest.values():
        status, message = action["status"], text(action.get("message"))
        if status == "sent":
            if action["kind"] == "reply" and text(action.get("result_comment_id")):
                message += f" TikTok's ID for the reply: {text(action['result_comment_id'])}."
            st.caption("✅ " + md_escape(message))
            continue
        if status == "pending":
            st.caption("⏳ " + md_escape(message))
            continue
        if status == "unknown":
            st.warning(md_escape(f"Checking with TikTok: {message}"))
        else:
            st.error(md_escape(message))
        action_id = int(action["action_id"])
        if can_retry and st.button("Retry", key=f"{page}_retry_{action_id}", icon="🔁"):
            try:
                flash_results([retry_action(ctx, action)])
            except USER_ERRORS as exc:
                show_error(exc)
            else:
                st.rerun()


def _reply_box(ctx: PageContext, page: str, row: Mapping[str, Any]) -> None:
    comment_id = text(row["comment_id"])
    text_key = f"{page}_reply_text_{comment_id}"
    writer = KINDS[source_of(row)].writer_class
    limit = writer.reply_limit(queries.learned(ctx))
    holder = _holder(ctx, comment_id)
    if holder not in (None, ctx.person.email):
        st.caption(md_escape(f"✋ {holder} holds this comment in the inbox: sending a reply "
                             "asks you to confirm."))
    # Saved replies: the comment's account's templates, filled in for this comment.
    saved = queries.saved_replies(ctx, writer.kind, text(row.get(writer.account_column)))
    values = _placeholder_values(ctx, row)
    chosen = _saved_reply_picker(page, comment_id, text_key, saved, values, limit)
    hint = " Type /shortcut for a saved reply." if saved else ""
    body = st.text_area("Your reply", key=text_key, max_chars=limit, height=90,
                        placeholder=f"Posted on TikTok as {writer.posted_as}.{hint}") or ""
    st.caption(f"{len(body)}/{limit} characters (TikTok's limit for replies on a "
               f"{writer.noun})")
    send, cancel, _ = st.columns([1, 1, 4])
    clicked = send.button("Send reply", key=f"{page}_reply_send_{comment_id}", type="primary",
                          shortcut="Ctrl+Enter")
    cancel.button("Cancel", key=f"{page}_reply_cancel_{comment_id}",
                  on_click=_close_reply, args=(page, comment_id))
    confirmed = _confirm_claim(page, comment_id)
    if not clicked and confirmed is None:
        return
    template, body, refused = _saved_reply_to_send(body, chosen, saved, values, limit,
                                                   writer.noun)
    if refused is not None:
        st.error(md_escape(refused))
        return
    if len(body) > limit:
        st.error(f"The reply is {len(body)} characters long; TikTok takes at most "
                 f"{limit}. Shorten it and send again. Nothing was sent.")
        return
    if not body.strip():
        st.error("The reply is empty; write some text first. Nothing was sent.")
        return
    holder = _holder(ctx, comment_id)
    if holder not in (None, ctx.person.email, confirmed):  # held by someone else: ask first
        st.session_state[f"{page}_reply_asking_{comment_id}"] = holder
        st.rerun()
    st.session_state.pop(f"{page}_reply_asking_{comment_id}", None)
    request_key = st.session_state.setdefault(f"{page}_reply_key_{comment_id}",
                                              uuid.uuid4().hex)
    try:
        result = send_reply(ctx, row, body, request_key)
    except USER_ERRORS as exc:
        show_error(exc)
        return
    if template is not None:
        _count_use(ctx, template, result)
    flash_results([result])
    if result.status == "sent":
        _close_reply(page, comment_id)
    elif result.status == "failed":  # a corrected reply is a new request
        st.session_state[f"{page}_reply_key_{comment_id}"] = uuid.uuid4().hex
    st.rerun()


def _holder(ctx: PageContext, comment_id: str) -> str | None:
    """Who holds the comment in the inbox now (read at the moment of sending)."""
    with ctx.store.cursor() as cur:
        return db.holder(cur, comment_id)


def _confirm_claim(page: str, comment_id: str) -> str | None:
    """When the last Send found the comment held by someone else: say who, and return that
    person once Send anyway is clicked (None until then; Don't send forgets the question)."""
    asking = f"{page}_reply_asking_{comment_id}"
    holder = st.session_state.get(asking)
    if holder is None:
        return None
    st.warning(md_escape(f"{holder} holds this comment and may be answering it. Send your "
                         "reply anyway?"), icon="✋")
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button("Send anyway", key=f"{page}_reply_anyway_{comment_id}"):
        return holder
    if no.button("Don't send", key=f"{page}_reply_hold_{comment_id}"):
        st.session_state.pop(asking, None)
        st.rerun()
    return None


def _placeholder_values(ctx: PageContext, row: Mapping[str, Any]) -> dict[str, str]:
    """The comment's values for a saved reply's placeholders: the row's, else the store's
    (a row of the ad pages has no video caption)."""
    stored = queries.placeholder_values(ctx, text(row["comment_id"]))
    return {name: text(row.get(name)) or text(stored.get(name))
            for name in replies.PLACEHOLDERS}


def _saved_reply_picker(page: str, comment_id: str, text_key: str,
                        saved: Sequence[db.SavedReply], values: Mapping[str, str],
                        limit: int) -> db.SavedReply | None:
    """The Saved reply picker above a reply box: choosing one fills the box in for this
    comment, unless it would then be too long (said below it). Returns the one chosen."""
    if not saved:
        st.caption("No saved replies for this account yet; add some on the Saved replies "
                   "page.")
        return None
    by_id = {s.reply_id: s for s in saved}
    key = f"{page}_template_{comment_id}"
    if st.session_state.get(key) not in (None, *by_id):  # deleted since it was chosen
        st.session_state[key] = None
    reply_id = st.selectbox(
        "Saved reply", [None, *by_id], key=key,
        format_func=lambda i: "None: write the reply" if i is None else by_id[i].label,
        on_change=_fill_saved_reply, args=(key, text_key, by_id, values, limit))
    chosen = by_id.get(reply_id)
    if chosen is not None:
        refused = replies.refusal(replies.fill(chosen.body, values), limit, name=chosen.name)
        if refused is not None:
            st.error(md_escape(refused))
    return chosen


def _fill_saved_reply(key: str, text_key: str, by_id: Mapping[int, db.SavedReply],
                      values: Mapping[str, str], limit: int) -> None:
    """on_change of the picker: put the chosen saved reply, filled in, in the reply box (not
    one too long for it: the box would cut it)."""
    chosen = by_id.get(st.session_state.get(key))
    if chosen is None:
        return
    filled = replies.fill(chosen.body, values)
    if replies.refusal(filled, limit, name=chosen.name) is None:
        st.session_state[text_key] = filled


def _saved_reply_to_send(body: str, chosen: db.SavedReply | None,
                         saved: Sequence[db.SavedReply], values: Mapping[str, str],
                         limit: int, noun: str
                         ) -> tuple[db.SavedReply | None, str, str | None]:
    """What Send sends: (the saved reply it uses, the text, why not). A reply of exactly
    /<shortcut> is that saved reply filled in; a saved reply too long once filled in is
    refused before anything is sent."""
    typed = replies.shortcut_typed(body)
    if typed is not None:
        chosen = replies.expand_shortcut(body, saved)
        if chosen is None:
            return None, body, (f"No saved reply of this {noun} has the shortcut /{typed}. "
                                "Nothing was sent.")
        body = replies.fill(chosen.body, values)
    if chosen is None:
        return None, body, None
    return chosen, body, replies.refusal(replies.fill(chosen.body, values), limit,
                                         name=chosen.name)


def _count_use(ctx: PageContext, saved_reply: db.SavedReply, result: ActionResult) -> None:
    """Count one use of the saved reply for a reply TikTok has or may have (not a failed
    one, nor the second click of a double click, which sent nothing)."""
    if result.duplicate or result.status not in ("sent", "pending", "unknown"):
        return
    with ctx.store.cursor() as cur:
        db.record_use(cur, saved_reply.reply_id)
    refresh()


def selected_ids(page: str, comment_ids: Sequence[str]) -> list[str]:
    """The comments ticked on this page of the list."""
    if st.session_state.pop(f"{page}_clear_selection", False):
        for comment_id in comment_ids:
            st.session_state.pop(f"{page}_pick_{comment_id}", None)
    return [c for c in comment_ids if st.session_state.get(f"{page}_pick_{c}")]


def bulk_set_hidden(ctx: PageContext, page: str, rows: Sequence[Mapping[str, Any]],
                    hidden: bool) -> None:
    """Hide or unhide the ticked comments, then untick them."""
    try:
        flash_results(set_hidden(ctx, rows, hidden))
    except USER_ERRORS as exc:
        show_error(exc)
        return
    st.session_state[f"{page}_clear_selection"] = True
    st.rerun()
