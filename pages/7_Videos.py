"""Videos: the connected TikTok accounts' own (organic) videos, syncing their comments, and
the whole conversation around one video: its organic comments and those on Spark Ads."""

import streamlit as st

from desk import ui

ctx = ui.bootstrap("Videos")
st.title("Videos")

known = ui.known_business_accounts(ctx.db, ctx.credentials)
if not known:
    st.info("No TikTok account is connected yet. Connect one on the Home page to read the "
            "comments on its own videos.")
    st.page_link(ui.HOME, label="Go to Home", icon="🔗")
    st.stop()

ids = list(known)
st.session_state["videos_account"] = ctx.business_id
business_id = st.selectbox(
    "TikTok account", ids, format_func=lambda b: ui.account_label(ctx, b), key="videos_account",
    index=None, placeholder="Choose a TikTok account", on_change=ui.on_account_selected,
    args=("videos_account",),
)
if business_id is None:
    st.info("Choose the TikTok account to work on; Comments, Insights and Export then include "
            "its organic comments.")
    st.stop()

status = next((s for c, s in ui.account_statuses(ctx) if c.business_id == business_id), None)
if status is None:
    st.warning("This TikTok account is not connected, so it cannot be synced. Connect it on "
               "the Home page; its stored comments stay readable meanwhile.")
    st.page_link(ui.HOME, label="Connect on Home", icon="🔗")
elif status.state == "warn":
    st.warning(ui.md_escape(status.message))
elif status.state == "reconnect":
    st.error(ui.md_escape(status.message))
    st.page_link(ui.HOME, label="Reconnect on Home", icon="🔗")
usable = status is not None and status.state != "reconnect"
if st.button("Sync now", key="videos_sync", type="primary", icon="🔄", disabled=not usable):
    ui.sync_account_with_progress(ctx, business_id, ui.account_label(ctx, business_id))
st.caption("Syncing reads the account's videos and every new comment and reply on them.")

videos = ui.videos_with_counts(ctx, business_id)
if videos.empty:
    st.info("No videos are stored for this TikTok account yet. Click Sync now to fetch them.")
    st.stop()

totals = st.columns(4)
totals[0].metric("Videos", f"{len(videos):,}")
totals[1].metric("Organic comments", f"{int(videos['organic_comments'].sum()):,}")
totals[2].metric("On Spark Ads", f"{int(videos['ad_comments'].sum()):,}",
                 help="Comments on ads that promote one of these videos.")
totals[3].metric("Unanswered", f"{int(videos['unanswered_count'].sum()):,}")

st.caption("Click a row to see the whole conversation around that video.")
video = ui.pick_row(videos, ui.videos_columns(), "videos_table")
if video is not None:
    video_id = str(video["video_id"])
    st.subheader(f"Conversation: {ui.md_escape(ui.video_label(video['caption'], video_id))}")
    conversation = ui.conversation_for_video(ctx, video_id, limit=ui.CONVERSATION_ROWS)
    if conversation.empty:
        st.info("No comments are stored for this video yet.")
    else:
        shown = len(conversation)
        st.caption(f"{ui.plural(shown, 'comment')}, oldest first"
                   + (f" (the first {shown:,})" if shown == ui.CONVERSATION_ROWS else "")
                   + ": organic ones and those on the Spark Ads promoting it.")
        table = ui.conversation_columns()
        st.dataframe(ui.conversation_table(conversation)[list(table)], hide_index=True,
                     column_config=table, key="videos_conversation")
    if st.button("Reply or moderate in Comments", key="videos_open_comments", icon="💬"):
        ui.open_comments_for_video(business_id, video_id)
