"""The Inbox page's parts: its filters and counts, the queue table, the comment in hand with
its keyboard-driven actions, bulk actions and internal notes.

Every action asks the store for the truth at the moment it acts (who holds a comment, whether
it is still open) and checks the person's role on the server first; what the page showed is
never trusted. Comment text and notes are data: shown with st.text and in tables, never as
markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import pandas as pd
import streamlit as st

from desk import store as db
from desk.learning.in_use import answer_model_in_use
from desk.moderation.labels import LABEL_NAMES, LABELS, language_name
from desk.store.learning import scope_accounts
from desk.store.times import utc_now
from desk.text import ago, md_escape, plural, text
from desk.ui import comments, queries
from desk.ui.context import USER_ERRORS, PageContext, flash, refresh, show_error
from desk.ui.filters import ad_choices, video_choices
from desk.ui.writes import flash_results, set_hidden

PAGE = "inbox"
HANDLING = "handle the inbox"
"""What a responder may do here and a viewer may not, as refusals say it."""
PAGE_SIZE = 50
ANYONE, ME, NOBODY = "anyone", "me", "nobody"
SNOOZES: Mapping[str, timedelta] = MappingProxyType({
    "1 hour": timedelta(hours=1), "4 hours": timedelta(hours=4),
    "1 day": timedelta(days=1), "3 days": timedelta(days=3),
})
KEYS: Mapping[str, str] = MappingProxyType({
    "next": "J", "previous": "K", "reply": "E", "template": "T", "hide": "H", "done": "D",
    "assign": "A",
})
"""The inbox's keyboard shortcuts (Streamlit's own, inactive while typing in a field).
Streamlit keeps R for rerunning the page, so a reply is E."""


@dataclass(frozen=True)
class InboxFilters:
    """The sidebar's choices, as the store's inbox functions take them."""

    advertiser_id: str | None = None
    business_id: str | None = None
    ad_id: str | None = None
    video_id: str | None = None
    labels: tuple[str, ...] = ()
    language: str | None = None
    assignee: str | None = None
    priority_labels: tuple[str, ...] = field(default=db.PRIORITY_LABELS)

    def scope(self) -> dict[str, Any]:
        """The keyword arguments of inbox_queue and inbox_counts."""
        return {"advertiser_id": self.advertiser_id, "business_id": self.business_id,
                "ad_id": self.ad_id, "video_id": self.video_id, "labels": self.labels,
                "language": self.language, "assignee": self.assignee}


def teammates(ctx: PageContext) -> list[str]:
    """Who a comment can be assigned to: the people named by address with a role that may
    handle the inbox, and you."""
    with ctx.store.cursor() as cur:
        roles = db.list_roles(cur)
    named = [str(p) for p, role in zip(roles["pattern"], roles["role"], strict=True)
             if not str(p).startswith("@") and role in ("responder", "admin")]
    return list(dict.fromkeys([ctx.person.email, *sorted(named)]))


def sidebar(ctx: PageContext) -> InboxFilters:
    """The inbox's filters and priority in the sidebar, under the account choosers."""
    with st.sidebar:
        st.subheader("Inbox filters")
        accounts = []
        if ctx.advertiser_id is not None:
            accounts.append("ad")
        if ctx.business_id is not None:
            accounts.append("organic")
        names = {"both": "Ad and organic comments", "ad": "Ad comments only",
                 "organic": "Organic comments only"}
        which = st.radio("Account", ["both", *accounts] if len(accounts) > 1 else accounts,
                         format_func=names.get, key=f"{PAGE}_account")
        advertiser_id = ctx.advertiser_id if which in ("both", "ad") else None
        business_id = ctx.business_id if which in ("both", "organic") else None
        ad_id = video_id = None
        if advertiser_id is not None:
            ads = ad_choices(ctx, advertiser_id)
            linked = st.query_params.get("ad")  # an alert's link names the ad
            if linked in ads and not st.session_state.get(f"{PAGE}_ad_url_read"):
                st.session_state[f"{PAGE}_ad"] = linked
            st.session_state[f"{PAGE}_ad_url_read"] = True
            ad_id = st.selectbox("Ad", list(ads), index=None, format_func=ads.get,
                                 key=f"{PAGE}_ad", placeholder="Every ad")
        if business_id is not None:
            videos = video_choices(ctx, business_id)
            video_id = st.selectbox("Video", list(videos), index=None, format_func=videos.get,
                                    key=f"{PAGE}_video", placeholder="Every video")
        labels = st.multiselect("Labels", LABELS, format_func=LABEL_NAMES.get,
                                key=f"{PAGE}_labels", placeholder="Any label")
        languages = ["", *(str(code) for code in queries.comment_languages(
            ctx, _language_scope(ctx))["language"] if text(code))]
        language = st.selectbox("Language", languages, key=f"{PAGE}_language",
                                format_func=lambda c: "Any language" if not c
                                else str(language_name(c)))
        people = teammates(ctx)
        holders = {ANYONE: "Anyone or nobody", ME: "Me", NOBODY: "Nobody (unassigned)",
                   **{p: p for p in people if p != ctx.person.email}}
        held = st.selectbox("Assigned to", list(holders), format_func=holders.get,
                            key=f"{PAGE}_assignee")
        with st.expander("Priority", expanded=False):
            first = st.multiselect(
                "Answer first", LABELS, default=list(db.PRIORITY_LABELS),
                format_func=LABEL_NAMES.get, key=f"{PAGE}_priority_labels",
                help="Comments with any of these labels come first; then the most liked, "
                     "then the oldest.")
            st.caption("The queue's order: the labels above first, then comments past their "
                       "response-time target (⏰; targets are set on Settings), then the most "
                       "liked, then the oldest.")
    assignee = {ANYONE: None, ME: ctx.person.email, NOBODY: db.UNASSIGNED}.get(held, held)
    return InboxFilters(advertiser_id, business_id, ad_id, video_id, tuple(labels),
                        language or None, assignee, tuple(first))


def _language_scope(ctx: PageContext) -> db.CommentFilters:
    return db.CommentFilters(ctx.advertiser_id or "", business_id=ctx.business_id)


def sidebar_counts(counts: Mapping[str, int]) -> None:
    """How many comments are in each state, in the sidebar."""
    with st.sidebar:
        st.subheader("Inbox")
        first, second = st.columns(2)
        first.metric("Open", f"{counts['open']:,}")
        second.metric("Mine", f"{counts['assigned_to_me']:,}",
                      help="Open comments assigned to you.")
        first.metric("Snoozed", f"{counts['snoozed']:,}")
        second.metric("Done", f"{counts['done']:,}")


def read_queue(ctx: PageContext, filters: InboxFilters, offset: int,
               now: datetime) -> tuple[pd.DataFrame, dict[str, int]]:
    """One page of the queue and the counts, read now (not cached: two people work the same
    inbox, and a claim must be seen at once)."""
    with ctx.store.cursor() as cur:
        scored = answer_model_in_use(cur, scope_accounts(filters.advertiser_id,
                                                         filters.business_id)) is not None
        return db.inbox_page(cur, **filters.scope(), me=ctx.person.email, now=now,
                             limit=PAGE_SIZE, offset=offset,
                             priority_labels=filters.priority_labels, answer_scores=scored)


def queue_table(rows: pd.DataFrame, current: str | None, now: datetime) -> list[str]:
    """The queue as a table, the comment in hand marked; returns the ticked comment ids."""
    frame = pd.DataFrame({
        "at": ["▶" if str(c) == current else "" for c in rows["comment_id"]],
        "priority": [_priority_text(p, labels) for p, labels in
                     zip(rows["priority"], rows["labels"], strict=True)],
        "user_name": rows["user_name"].map(text),
        "content": rows["content"].map(text),
        "likes": rows["likes"].fillna(0).astype(int),
        "age": [("⏰ " if late else "") + ago(t.to_pydatetime() if hasattr(t, "to_pydatetime")
                                               else t, now)
                for t, late in zip(rows["create_time"], rows["overdue"], strict=True)],
        "assignee": rows["assignee"].map(text),
        "where": [text(r.ad_name) if r.source == "ad" else "organic video"
                  for r in rows.itertuples(index=False)],
    })
    if "answer_score" in rows.columns:  # a model learned from the team's replies is in use
        frame.insert(2, "answer_score", pd.to_numeric(rows["answer_score"]).astype(float))
    picked = st.dataframe(
        frame, hide_index=True, key=f"{PAGE}_table_{_table_generation()}", on_select="rerun",
        selection_mode="multi-row", width="stretch",
        column_config={
            "at": st.column_config.TextColumn("", width="small"),
            "priority": st.column_config.TextColumn("Priority", width="medium"),
            "user_name": st.column_config.TextColumn("Who"),
            "content": st.column_config.TextColumn("Comment", width="large"),
            "likes": st.column_config.NumberColumn("♥", format="%d", width="small"),
            "age": st.column_config.TextColumn("Written"),
            "assignee": st.column_config.TextColumn("Assigned to"),
            "where": st.column_config.TextColumn("On"),
            "answer_score": st.column_config.ProgressColumn(
                "Will be answered", format="percent", min_value=0.0, max_value=1.0,
                help="How likely the team is to answer it, learned from its replies"),
        })
    chosen = picked.selection.rows if picked is not None else []
    return [str(rows["comment_id"].iloc[i]) for i in chosen if i < len(rows)]


def _priority_text(priority: Any, labels: Any) -> str:
    names = [LABEL_NAMES.get(x, x) for x in (list(labels) if labels is not None else [])]
    first = "P1" if int(priority) == 1 else "P2"
    return f"{first} · {', '.join(names)}" if names else first


def current_id(ids: Sequence[str]) -> str | None:
    """The comment in hand: the one chosen before if still in the list, else the first."""
    chosen = st.session_state.get(f"{PAGE}_current")
    if chosen in ids:
        return chosen
    return ids[0] if ids else None


def move(ids: Sequence[str], current: str | None, step: int) -> None:
    """Put the next (1) or previous (-1) comment of the list in hand."""
    if not ids:
        return
    at = ids.index(current) if current in ids else 0
    st.session_state[f"{PAGE}_current"] = ids[max(0, min(len(ids) - 1, at + step))]


def _after(ids: Sequence[str], current: str) -> str | None:
    """The comment to take in hand once `current` leaves the list."""
    if current not in ids:
        return None
    at = ids.index(current)
    rest = [*ids[at + 1:], *reversed(ids[:at])]
    return rest[0] if rest else None


# --- actions: each checks the role on the server and says how it went on the next run -----


def mark_done(ctx: PageContext, comment_ids: Sequence[str]) -> None:
    ctx.require("responder", HANDLING)
    with ctx.store.cursor() as cur:
        done = db.mark_done(cur, comment_ids, ctx.person.email)
    flash("✅", f"{plural(done, 'comment')} marked done.")


def snooze(ctx: PageContext, comment_ids: Sequence[str], span: timedelta) -> None:
    ctx.require("responder", HANDLING)
    until = utc_now() + span
    with ctx.store.cursor() as cur:
        done = db.snooze(cur, comment_ids, until, ctx.person.email)
    flash("💤", f"{plural(done, 'comment')} snoozed until "
                f"{until.strftime('%Y-%m-%d %H:%M')} UTC.")


def assign(ctx: PageContext, comment_ids: Sequence[str], assignee: str | None) -> None:
    ctx.require("responder", HANDLING)
    with ctx.store.cursor() as cur:
        done = db.assign(cur, comment_ids, assignee, ctx.person.email)
    if assignee is None:
        flash("👐", f"{plural(done, 'comment')} released.")
    else:
        flash("👤", f"{plural(done, 'comment')} assigned to {assignee}.")


def take(ctx: PageContext, comment_id: str) -> None:
    ctx.require("responder", HANDLING)
    with ctx.store.cursor() as cur:
        before = db.take(cur, comment_id, ctx.person.email)
    if before and before != ctx.person.email:
        flash("👤", f"You took the comment from {before}.")
    else:
        flash("👤", "The comment is yours.")


def hide(ctx: PageContext, comment_ids: Sequence[str]) -> None:
    """Hide comments on TikTok through the outbox (they leave the inbox once hidden)."""
    ctx.require("responder", HANDLING)
    with ctx.store.cursor() as cur:
        rows = db.comments_by_id(cur, comment_ids).to_dict("records")
    flash_results(set_hidden(ctx, rows, True))


def act(action: Any, *args: Any) -> None:
    """Run an action, show a refusal or failure as a message, and show the new state (with
    nothing ticked: the rows the ticks pointed at have moved)."""
    try:
        action(*args)
    except USER_ERRORS as exc:
        show_error(exc)
        return
    except ValueError as exc:  # e.g. a comment no longer stored
        st.error(md_escape(f"{exc}."))
        return
    st.session_state[f"{PAGE}_table_generation"] = _table_generation() + 1
    refresh()
    st.rerun()


def _table_generation() -> int:
    return int(st.session_state.get(f"{PAGE}_table_generation", 0))


def bulk_bar(ctx: PageContext, chosen: Sequence[str]) -> None:
    """Done, snooze, assign and hide for the ticked comments."""
    count = len(chosen)
    cols = st.columns([1, 1.4, 1.8, 1], vertical_alignment="bottom")
    if cols[0].button(f"Done ({count})", key=f"{PAGE}_bulk_done", disabled=not count):
        act(mark_done, ctx, chosen)
    with cols[1]:
        span = st.selectbox("Snooze for", list(SNOOZES), key=f"{PAGE}_bulk_snooze_for")
        if st.button(f"Snooze ({count})", key=f"{PAGE}_bulk_snooze", disabled=not count):
            act(snooze, ctx, chosen, SNOOZES[span])
    with cols[2]:
        people = teammates(ctx)
        who = st.selectbox("Assign to", [*people, NOBODY], key=f"{PAGE}_bulk_assignee",
                           format_func=lambda p: "Nobody (release)" if p == NOBODY else p)
        if st.button(f"Assign ({count})", key=f"{PAGE}_bulk_assign", disabled=not count):
            act(assign, ctx, chosen, None if who == NOBODY else who)
    if cols[3].button(f"Hide ({count})", key=f"{PAGE}_bulk_hide", disabled=not count):
        act(hide, ctx, chosen)


def holder_line(ctx: PageContext, row: Mapping[str, Any]) -> None:
    """Who holds the comment in hand: a warning when it is someone else."""
    holder = text(row.get("assignee"))
    if holder and holder != ctx.person.email:
        st.warning(md_escape(f"{holder} holds this comment. Replying to it asks you to "
                             "confirm, so that two people do not answer it."), icon="✋")
    elif holder:
        st.caption("You hold this comment.")


def in_hand(ctx: PageContext, ids: Sequence[str], current: str) -> None:
    """The comment in hand: its text, replies and notes, with the keyboard's buttons."""
    with ctx.store.cursor() as cur:
        found = db.comments_by_id(cur, [current])
        holder = db.holder(cur, current)
        notes = db.notes(cur, [current])
    if found.empty:
        st.info("This comment is no longer stored. Pick another one.")
        return
    row = {**found.iloc[0].to_dict(), "assignee": holder}
    replies = comments.group_rows(queries.replies_for(ctx, [current]), "original_comment_id")
    outbox = comments.group_rows(queries.actions_for_comments(ctx, [current]),
                                 "comment_id")
    at = ids.index(current) + 1 if current in ids else 0
    nav = st.columns([1, 1, 4], vertical_alignment="center")
    if nav[0].button("Previous", key=f"{PAGE}_previous", shortcut=KEYS["previous"],
                     disabled=at <= 1):
        move(ids, current, -1)
        st.rerun()
    if nav[1].button("Next", key=f"{PAGE}_next", shortcut=KEYS["next"],
                     disabled=at >= len(ids)):
        move(ids, current, 1)
        st.rerun()
    nav[2].caption(f"Comment {at} of {len(ids)} on this page.")
    with st.container(border=True, key=f"{PAGE}_card_{current}"):
        holder_line(ctx, row)
        comments.comment_card(row, replies.get(current, []))
        comments.comment_actions(ctx, PAGE, row, outbox.get(current, []), keys=KEYS)
        if ctx.person.can("responder"):
            _hand_buttons(ctx, ids, current, holder)
        _notes(ctx, current, notes)


def _hand_buttons(ctx: PageContext, ids: Sequence[str], current: str,
                  holder: str | None) -> None:
    cols = st.columns([1, 1.2, 1.6, 1, 1.2], vertical_alignment="bottom")
    if cols[0].button("Done", key=f"{PAGE}_done", shortcut=KEYS["done"], type="primary"):
        st.session_state[f"{PAGE}_current"] = _after(ids, current)
        act(mark_done, ctx, [current])
    with cols[1]:
        span = st.selectbox("Snooze for", list(SNOOZES), key=f"{PAGE}_snooze_for")
        if st.button("Snooze", key=f"{PAGE}_snooze"):
            st.session_state[f"{PAGE}_current"] = _after(ids, current)
            act(snooze, ctx, [current], SNOOZES[span])
    with cols[2]:
        people = teammates(ctx)
        who = st.selectbox("Assign to", people, key=f"{PAGE}_assignee_pick")
        if st.button("Assign", key=f"{PAGE}_assign", shortcut=KEYS["assign"]):
            act(assign, ctx, [current], who)
    if holder != ctx.person.email and cols[3].button("Take", key=f"{PAGE}_take"):
        act(take, ctx, current)
    if holder is not None and cols[4].button("Release", key=f"{PAGE}_release"):
        act(assign, ctx, [current], None)


def _notes(ctx: PageContext, comment_id: str, notes: pd.DataFrame) -> None:
    """The team's internal notes on the comment (never sent to TikTok), and a new one."""
    with st.expander(f"Internal notes ({len(notes)})", expanded=bool(len(notes))):
        for note in notes.itertuples(index=False):
            st.caption(md_escape(f"{note.author} · {ago(note.created_at)}"))
            st.text(text(note.body))
        if not ctx.person.can("responder"):
            return
        with st.form(f"{PAGE}_note_form_{comment_id}", clear_on_submit=True):
            body = st.text_area("Add a note for the team", key=f"{PAGE}_note_{comment_id}",
                                height=68, placeholder="Seen only in Comment Desk, never "
                                                       "sent to TikTok.")
            if st.form_submit_button("Add note"):
                act(add_note, ctx, comment_id, body)


def add_note(ctx: PageContext, comment_id: str, body: str) -> None:
    ctx.require("responder", HANDLING)
    with ctx.store.cursor() as cur:
        db.add_note(cur, comment_id, body, ctx.person.email)
    flash("📝", "Note added.")


def shortcut_hints() -> None:
    """The keyboard's keys, said once under the page title."""
    st.caption(md_escape(
        f"Keys: {KEYS['next']}/{KEYS['previous']} next/previous · {KEYS['reply']} reply · "
        f"{KEYS['template']} saved reply · {KEYS['hide']} hide · {KEYS['done']} done · "
        f"{KEYS['assign']} assign. They work when no text field has the cursor."))
