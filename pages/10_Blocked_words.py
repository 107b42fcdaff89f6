"""Blocked words: the chosen ad account's blocked-word list on TikTok. Read it, check a word;
as an admin add and remove words and push a keyword rule; see the changes made here and the
comments TikTok hid this way."""

from collections.abc import Callable

import streamlit as st

from desk import store as db
from desk.moderation import blocked
from desk.outbox import WordChanges
from desk.sources import AdAccount
from desk.text import md_escape, plural
from desk.ui import context, handles, tables

ctx = context.bootstrap("Blocked words")
st.title("Blocked words")
st.caption("TikTok hides a comment that contains a word on the ad account's blocked-word "
           "list from everyone but its author, even while Comment Desk is not running. "
           f"{blocked.NO_LIST}")
advertiser_id = context.require_advertiser(ctx)
account = AdAccount(ctx.workspace, advertiser_id)
admin = ctx.person.can("admin")
st.session_state.setdefault("blocked_generation", 0)


@st.cache_data(ttl=30, show_spinner="Reading the list from TikTok…")
def words_page(path: str, advertiser: str, page: int, _account: AdAccount) -> blocked.WordsPage:
    with _account.writer() as writer:
        return blocked.words_page(writer, page)


@st.cache_data(ttl=60, show_spinner=False)
def changes_and_hidden(path: str, advertiser: str, app_id: str) -> tuple:
    with handles.store_at(path).cursor() as cur:
        return (blocked.recent_changes(cur, advertiser, app_id),
                blocked.hidden_comments(cur, advertiser), blocked.hidden_count(cur, advertiser))


def change_list(act: Callable) -> None:
    """Make one change to TikTok's list (admins only, checked here on the server first)."""
    key = (f"{st.session_state['session_nonce']}:blocked:{advertiser_id}:"
           f"{st.session_state['blocked_generation']}")
    try:
        ctx.require("admin", blocked.CHANGING)
        with account.writer() as writer, ctx.store.cursor() as cur, \
                st.spinner("Sending the change to TikTok…"):
            try:
                done = act(cur, writer, key)
            finally:
                context.refresh()
    except context.USER_ERRORS as exc:
        context.show_error(exc)
        return
    st.session_state["blocked_generation"] += 1
    if isinstance(done, WordChanges):
        context.flash("⚠️" if done.problems or done.too_long else "✅", done.summary())
    else:
        settled = sum(r.status == "sent" for r in done)
        context.flash("✅", f"{settled} of {plural(len(done), 'change')} done on TikTok.")
    st.rerun()


# -- The list ---------------------------------------------------------------------------------
st.subheader("On TikTok's list")
page_no = max(1, int(st.session_state.get("blocked_page") or 1))
try:
    listing = words_page(ctx.db, advertiser_id, page_no, account)
    if page_no > listing.pages:  # words were removed since
        listing = words_page(ctx.db, advertiser_id, listing.pages, account)
except context.USER_ERRORS as exc:
    context.show_error(exc)
    listing = None
if listing is not None:
    first = (listing.page - 1) * listing.page_size
    st.markdown(f"**{plural(listing.total, 'word')}**" + (
        f" · showing {first + 1:,}–{first + len(listing.words):,}" if len(listing.words) else ""))
    if len(listing.words):
        st.dataframe(listing.words, hide_index=True, key="blocked_words_table",
                     column_config=tables.text_columns(word="Word or phrase"))
    if listing.pages > 1:
        st.pagination(listing.pages, key="blocked_page", max_visible_pages=9)

if admin:
    add_col, remove_col = st.columns(2)
    with add_col.form("blocked_add_form", clear_on_submit=True):
        typed = st.text_area("Add words or phrases, one per line", key="blocked_add_text",
                             placeholder="free iphone\ndm me")
        add = st.form_submit_button("Add to TikTok's list", type="primary", key="blocked_add")
    with remove_col.form("blocked_remove_form", clear_on_submit=True):
        shown = list(listing.words["word"]) if listing is not None else []
        chosen = st.multiselect("Remove words shown above", shown, key="blocked_remove_words")
        remove = st.form_submit_button("Remove from TikTok's list", key="blocked_remove")
    if add:
        change_list(lambda cur, writer, key: blocked.add_words(
            cur, writer, blocked.words_from_text(typed), person=ctx.person, request_key=key))
    if remove:
        change_list(lambda cur, writer, key: blocked.remove_words(
            cur, writer, chosen, person=ctx.person, request_key=key))
    st.caption("TikTok matches each word as a phrase, ignoring case, in the comments that "
               "arrive after it is added. Removing a word leaves hidden what it hid.")
else:
    st.caption("Only an admin can change the list.")

# -- Check a word -----------------------------------------------------------------------------
with st.form("blocked_check_form"):
    asked = st.text_input("Is this word on the list?", key="blocked_check_word")
    check = st.form_submit_button("Check on TikTok", key="blocked_check")
if check:
    try:
        with account.writer() as writer:
            answers = blocked.check_words(writer, [asked])
    except context.USER_ERRORS as exc:
        context.show_error(exc)
    else:
        for word, on in zip(answers["word"], answers["blocked"], strict=True):
            if on:
                st.success(md_escape(f'"{word}" is on the blocked-word list.'))
            else:
                st.info(md_escape(f'"{word}" is not on the blocked-word list.'))

changes, hidden, hidden_total = changes_and_hidden(ctx.db, advertiser_id, ctx.app.app_id)

# -- Push a keyword rule ----------------------------------------------------------------------
if admin:
    st.subheader("Push a keyword rule")
    st.caption("A rule whose only condition is keywords, that hides and applies to every ad "
               "comment can be pushed: its keywords go on TikTok's list, so TikTok hides those "
               "comments itself. TikTok does not ignore accents as rules do.")
    with ctx.store.cursor() as cur:
        rules = db.list_rules(cur)  # as saved a moment ago on the Rules page
    if not rules:
        st.caption("No rules are saved yet; write one on the Rules page.")
    else:
        by_id = {r.rule_id: r for r in rules}
        rule_id = st.selectbox("Rule", list(by_id), key="blocked_rule",
                               format_func=lambda r: f"{by_id[r].name} (v{by_id[r].version})")
        stored = by_id[rule_id]
        rule = blocked.stored_rule(stored)
        reason = blocked.why_not_pushable(rule)
        if reason:
            st.warning(md_escape(reason))
        else:
            st.caption(md_escape(f"Adds {plural(len(rule.keywords), 'keyword')}: "
                                 + ", ".join(f'"{k}"' for k in rule.keywords)))
        if st.button("Push to TikTok's list", key="blocked_push", disabled=reason is not None):
            change_list(lambda cur, writer, key: blocked.push_rule(
                cur, writer, stored, person=ctx.person, request_key=key))

# -- Changes made here ------------------------------------------------------------------------
st.subheader("Changes made here")
if changes.empty:
    st.caption("No word has been added or removed from Comment Desk yet.")
else:
    st.dataframe(changes.drop(columns=["action_id", "unfinished"]), hide_index=True,
                 key="blocked_changes",
                 column_config={
                     "created_at": st.column_config.DatetimeColumn(
                         "When (UTC)", format="YYYY-MM-DD HH:mm", timezone="UTC"),
                     **tables.text_columns(actor="Who", change="Change", word="Word",
                                           status="Status"),
                     **tables.count_columns(attempts="Attempts"),
                     "message": st.column_config.TextColumn("Where it stands", width="large")})
    if admin and changes["unfinished"].any() and st.button(
            "Check unfinished changes with TikTok", key="blocked_retry"):
        change_list(lambda cur, writer, key: blocked.retry_unfinished(cur, writer,
                                                                      person=ctx.person))

# -- Comments TikTok hid this way -------------------------------------------------------------
st.subheader("Comments TikTok hid with a blocked word")
st.caption(f"{plural(hidden_total, 'comment')}, as of the last sync; TikTok hides them from "
           "everyone but their author, and they cannot be hidden or unhidden by hand. Sync "
           "the ad account on the Advertisers page to see what TikTok hid since.")
if not hidden.empty:
    st.dataframe(hidden, hide_index=True, key="blocked_hidden", column_config={
        "create_time": st.column_config.DatetimeColumn(
            "Posted (UTC)", format="YYYY-MM-DD HH:mm", timezone="UTC"),
        **tables.text_columns(content="Comment", user_name="Commenter", ad_name="Ad",
                              ad_id="Ad ID", comment_type="Type", comment_id="Comment ID"),
        **tables.count_columns(likes="Likes")})
