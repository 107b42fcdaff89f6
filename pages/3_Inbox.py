"""Inbox: the first-level comments that need a person, ad and organic together, first things
first; done, snooze, assign, take, hide and reply from the keyboard; the team's notes."""

import streamlit as st

from desk.store.times import utc_now
from desk.text import plural
from desk.ui import alerts, context, inbox

ctx = context.bootstrap("Inbox")
st.title("Inbox")
context.require_scope(ctx)
filters = inbox.sidebar(ctx)
now = utc_now()

offset_key = "inbox_offset"
offset = int(st.session_state.get(offset_key, 0))
rows, counts = inbox.read_queue(ctx, filters, offset, now)
if rows.empty and offset:
    st.session_state[offset_key] = offset = 0
    rows, counts = inbox.read_queue(ctx, filters, offset, now)
inbox.sidebar_counts(counts)

with st.expander("Alerts", expanded=False):
    alerts.alerts_panel(ctx, key="inbox")

if rows.empty:
    st.success("Nothing needs an answer here: every comment in view is answered, done, "
               "snoozed or hidden.", icon="🎉")
    if counts["snoozed"]:
        st.caption(f"{plural(counts['snoozed'], 'snoozed comment')} will be back when "
                   "their snooze ends.")
    st.stop()

st.markdown(f"**{plural(counts['open'], 'comment')} need attention** · showing "
            f"{offset + 1:,}–{offset + len(rows):,}")
inbox.shortcut_hints()
ids = [str(c) for c in rows["comment_id"]]
current = inbox.current_id(ids)

chosen = inbox.queue_table(rows, current, now)
if ctx.person.can("responder"):
    inbox.bulk_bar(ctx, chosen)
    st.caption("Tick rows in the table to act on several comments at once.")

earlier, later, _ = st.columns([1, 1, 4])
if earlier.button("Earlier page", key="inbox_earlier", disabled=offset == 0):
    st.session_state[offset_key] = max(0, offset - inbox.PAGE_SIZE)
    st.rerun()
if later.button("Later page", key="inbox_later",
                disabled=offset + len(rows) >= counts["open"]):
    st.session_state[offset_key] = offset + inbox.PAGE_SIZE
    st.rerun()

st.subheader("In hand")
if current is not None:
    inbox.in_hand(ctx, ids, current)
