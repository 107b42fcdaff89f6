"""Saved replies: the chosen account's reply templates, with placeholders filled in for each
comment and an optional shortcut, and how often each was sent. Responders and admins read,
add, change and delete them; they use them in any reply box."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from desk import replies
from desk.sources import KINDS
from desk.store.saved_replies import NAME_MAX
from desk.text import md_escape
from desk.ui import context, queries, tables

NEW = 0  # the chooser's "New saved reply"

ctx = context.bootstrap("Saved replies", needs="responder")
state = st.session_state
st.title("Saved replies")
st.caption("Reply templates per account. In a reply box, choose one under Saved reply, or type "
           "its shortcut (such as /thanks) as the whole reply and press Send. Responders and "
           "admins may add, change and delete them; each reply sent with one counts as a use.")
context.require_scope(ctx)

# The account: the ad account or the TikTok account chosen in the sidebar.
accounts = {kind: account_id for kind, account_id in
            (("ad", ctx.advertiser_id), ("organic", ctx.business_id)) if account_id}


def account_name(kind: str) -> str:
    if kind == "ad":
        name = queries.known_advertisers(ctx.db, ctx.credentials).get(accounts[kind])
        return f"Ad account: {name or accounts[kind]}"
    return f"TikTok account: {queries.account_label(ctx, accounts[kind])}"


if len(accounts) > 1:
    kind = st.radio("Account", list(accounts), key="saved_replies_account", horizontal=True,
                    format_func=lambda k: md_escape(account_name(k)))
else:
    kind = next(iter(accounts))
    st.caption(md_escape(account_name(kind)))
account_id = accounts[kind]
writer = KINDS[kind].writer_class
limit = writer.reply_limit(queries.learned(ctx))
saved = queries.saved_replies(ctx, kind, account_id)
by_id = {s.reply_id: s for s in saved}

if saved:
    st.dataframe(pd.DataFrame([{
        "name": s.name, "shortcut": f"/{s.shortcut}" if s.shortcut else "", "body": s.body,
        "length": replies.fixed_length(s.body), "uses": s.uses, "last_used_at": s.last_used_at,
        "updated_by": s.updated_by} for s in saved]), hide_index=True, key="saved_replies_table",
        column_config={
            **tables.text_columns(name="Name", shortcut="Shortcut", updated_by="Changed by"),
            "body": st.column_config.TextColumn("Text", width="large"),
            **tables.count_columns(length="Characters before filling", uses="Uses"),
            "last_used_at": st.column_config.DatetimeColumn("Last used (UTC)",
                                                            format="YYYY-MM-DD HH:mm"),
        })
else:
    st.info("No saved replies for this account yet. Add the first one below.")

# The saved reply to work on, loaded into the form when another one (or account) is chosen.
st.subheader("Add or change")
if "saved_replies_chosen_next" in state:
    state["saved_replies_chosen"] = state.pop("saved_replies_chosen_next")
options = [NEW, *by_id]
if state.get("saved_replies_chosen") not in options:
    state["saved_replies_chosen"] = NEW
chosen = st.selectbox("Saved reply", options, key="saved_replies_chosen", format_func=lambda r:
                      "➕ New saved reply" if r == NEW else by_id[r].label)
current = by_id.get(chosen)
if state.get("saved_replies_loaded") != (kind, account_id, chosen):
    state["saved_replies_name"] = current.name if current else ""
    state["saved_replies_shortcut"] = (current.shortcut or "") if current else ""
    state["saved_replies_body"] = current.body if current else ""
    state["saved_replies_loaded"] = (kind, account_id, chosen)

with st.form("saved_replies_form"):
    st.text_input("Name", key="saved_replies_name", max_chars=NAME_MAX)
    st.text_input("Shortcut (optional)", key="saved_replies_shortcut", placeholder="thanks",
                  help="One word of up to 20 letters, digits, - or _. Typing /thanks as the "
                       "whole reply sends this saved reply.")
    st.text_area("Text", key="saved_replies_body", height=150)
    submitted = st.form_submit_button("Save", type="primary", key="saved_replies_save")
placeholders = ", ".join(f"{{{p}}}" for p in replies.PLACEHOLDERS)
st.caption(md_escape(
    f"Placeholders, filled in for each comment: {placeholders}. "
    f"A reply on this {writer.noun} takes at most {limit:,} characters once filled in; a "
    "longer one is refused before anything is sent."))
deleted = st.button("Delete", key="saved_replies_delete", icon="🗑️", disabled=current is None)


def sentence(exc: BaseException) -> str:
    words = str(exc).strip()
    return words[:1].upper() + words[1:] + ("" if words.endswith(".") else ".")


def write(act: Callable, done: str, next_choice: Callable) -> None:
    """Make one change (a responder or above, checked here on the server too), then say so."""
    try:
        ctx.require("responder", replies.MANAGING)
        with ctx.store.cursor() as cur:
            result = act(cur)
    except context.USER_ERRORS as exc:
        context.show_error(exc)
        return
    except ValueError as exc:  # the reason a form shows
        st.error(md_escape(sentence(exc)), icon="⚠️")
        return
    finally:
        context.refresh()
    state["saved_replies_chosen_next"] = next_choice(result)
    state.pop("saved_replies_loaded", None)
    context.flash("✅", done)
    st.rerun()


if submitted:
    name = state["saved_replies_name"]
    write(lambda cur: replies.save_reply(
        cur, ctx.person, kind, account_id, name=name, body=state["saved_replies_body"],
        shortcut=state["saved_replies_shortcut"], reply_id=current.reply_id if current else None,
        limit=limit), f"Saved reply “{' '.join(name.split())}” saved.", lambda reply_id: reply_id)
if deleted and current is not None:
    write(lambda cur: replies.delete_reply(cur, ctx.person, current.reply_id),
          f"Saved reply “{current.name}” deleted.", lambda _: NEW)
