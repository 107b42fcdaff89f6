"""Videos: the connected TikTok accounts' own (organic) videos, syncing their comments, and
the whole conversation around one video: its organic comments and those on Spark Ads."""

import streamlit as st

from desk.connect import flows
from desk.sources import TikTokAccount
from desk.text import md_escape, plural, text, video_label
from desk.ui import context, queries, syncing, tables
from desk.ui.filters import open_comments_for_video

ctx = context.bootstrap("Videos")
st.title("Videos")

known = queries.known_business_accounts(ctx.db, ctx.credentials)
if not known:
    st.info("No TikTok account is connected yet. Connect one on the Home page to read the "
            "comments on its own videos.")
    st.page_link(context.HOME, label="Go to Home", icon="🔗")
    st.stop()

ids = list(known)
st.session_state["videos_account"] = ctx.business_id
business_id = st.selectbox(
    "TikTok account", ids, format_func=lambda b: queries.account_label(ctx, b),
    key="videos_account", index=None, placeholder="Choose a TikTok account",
    on_change=context.on_account_selected, args=("videos_account",),
)
if business_id is None:
    st.info("Choose the TikTok account to work on; Comments, Insights and Export then include "
            "its organic comments.")
    st.stop()

statuses = flows.account_statuses(ctx.workspace)
status = next((s for c, s in statuses if c.business_id == business_id), None)
if status is None:
    st.warning("This TikTok account is not connected, so it cannot be synced. Connect it on "
               "the Home page; its stored comments stay readable meanwhile.")
    st.page_link(context.HOME, label="Connect on Home", icon="🔗")
elif status.state == "warn":
    st.warning(md_escape(status.message))
elif status.state == "reconnect":
    st.error(md_escape(status.message))
    st.page_link(context.HOME, label="Reconnect on Home", icon="🔗")
usable = status is not None and status.state != "reconnect"
syncing.sync_controls(ctx, TikTokAccount(ctx.workspace, business_id),
                      queries.account_label(ctx, business_id), "videos", usable=usable)
st.caption("Syncing reads the account's videos and every new comment and reply on them.")

videos = queries.videos_with_counts(ctx, business_id)
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
columns = {
    "caption": st.column_config.TextColumn("Video", width="large"),
    "create_time": st.column_config.DatetimeColumn("Posted (UTC)", format="YYYY-MM-DD HH:mm",
                                                   timezone="UTC"),
    "video_views": st.column_config.NumberColumn("Views", format="%d"),
    "organic_comments": st.column_config.NumberColumn("Organic comments", format="%d"),
    "ad_comments": st.column_config.NumberColumn(
        "On Spark Ads", format="%d", help="Comments on ads promoting this video."),
    "unanswered_count": st.column_config.NumberColumn("Unanswered", format="%d"),
    "hidden_count": st.column_config.NumberColumn("Hidden", format="%d"),
    "last_comment_time": st.column_config.DatetimeColumn(
        "Last comment (UTC)", format="YYYY-MM-DD HH:mm", timezone="UTC"),
    "video_id": st.column_config.TextColumn("Video ID"),
}
video = tables.pick_row(videos, columns, "videos_table")
if video is not None:
    video_id = str(video["video_id"])
    st.subheader(f"Conversation: {md_escape(video_label(video['caption'], video_id))}")
    conversation = queries.conversation_for_video(ctx, video_id, limit=queries.CONVERSATION_ROWS)
    if conversation.empty:
        st.info("No comments are stored for this video yet.")
    else:
        shown = len(conversation)
        st.caption(f"{plural(shown, 'comment')}, oldest first"
                   + (f" (the first {shown:,})" if shown == queries.CONVERSATION_ROWS else "")
                   + ": organic ones and those on the Spark Ads promoting it.")
        # Where each comment was made, who wrote it, and its text (data, never markdown).
        where = [
            "Organic" if text(source) == "organic" else f"Spark Ad: {text(name) or text(ad_id)}"
            for source, name, ad_id in zip(conversation["source"], conversation["ad_name"],
                                           conversation["ad_id"], strict=True)
        ]
        table = {
            "create_time": st.column_config.DatetimeColumn(
                "When (UTC)", format="YYYY-MM-DD HH:mm", timezone="UTC"),
            "where": st.column_config.TextColumn("Where"),
            "comment_type": st.column_config.TextColumn("Type"),
            "user_name": st.column_config.TextColumn("User"),
            "content": st.column_config.TextColumn("Comment", width="large"),
            "likes": st.column_config.NumberColumn("Likes", format="%d"),
            "comment_status": st.column_config.TextColumn("Status"),
        }
        st.dataframe(conversation.assign(where=where)[list(table)], hide_index=True,
                     column_config=table, key="videos_conversation")
    if st.button("Reply or moderate in Comments", key="videos_open_comments", icon="💬"):
        open_comments_for_video(business_id, video_id)
