"""Advertisers: the ad accounts this app may read, which one to work on, and syncing it."""

import streamlit as st

from desk import ui

ctx = ui.bootstrap("Advertisers")
st.title("Advertisers")

overview = ui.advertiser_overview(ctx)
if overview.empty:
    st.info("No TikTok ad account is connected yet. Connect one on the Home page first.")
    st.page_link(ui.HOME, label="Go to Home", icon="🔗")
    st.stop()

st.dataframe(overview, hide_index=True, column_config=ui.overview_columns(),
             key="advertisers_table")

ids = list(overview["advertiser_id"])
names = dict(zip(ids, overview["name"], strict=True))
st.session_state["advertisers_selected"] = ctx.advertiser_id
advertiser_id = st.selectbox(
    "Work on", ids, format_func=lambda a: f"{names[a]} · {a}", key="advertisers_selected",
    index=None, placeholder="Choose an ad account", on_change=ui.on_advertiser_selected,
    args=("advertisers_selected",),
)
if advertiser_id is None:
    st.info("Choose the ad account to work on; the other pages then show its ads and comments.")
    st.stop()

row = overview.loc[overview["advertiser_id"] == advertiser_id].iloc[0]
st.subheader(ui.md_escape(names[advertiser_id]))
if row["connection"] != "connected":
    st.warning(
        "No working connection grants this ad account, so it cannot be synced. "
        "Reconnect it on the Home page; its stored comments stay readable meanwhile."
    )
    st.page_link(ui.HOME, label="Reconnect on Home", icon="🔗")
if st.button("Sync now", key="advertisers_sync", type="primary", icon="🔄",
             disabled=row["connection"] != "connected"):
    ui.sync_with_progress(ctx, advertiser_id, names[advertiser_id])
st.caption(ui.md_escape(ui.sync_summary(ui.last_sync(ctx, advertiser_id))))

st.subheader("Automatic sync")
scheduler = ui.auto_sync(ctx)
plan = scheduler.status(advertiser_id)
st.session_state["advertisers_autosync"] = plan is not None
if plan is not None:
    st.session_state["advertisers_autosync_minutes"] = plan.minutes
st.session_state.setdefault("advertisers_autosync_minutes", 15)
left, right = st.columns([2, 1], vertical_alignment="bottom")
args = (ctx, advertiser_id, "advertisers_autosync", "advertisers_autosync_minutes")
left.toggle("Sync this ad account automatically while the app runs", key="advertisers_autosync",
            on_change=ui.auto_sync_changed, args=args,
            disabled=row["connection"] != "connected")
right.number_input("Every (minutes)", min_value=5, max_value=1440, step=5,
                   key="advertisers_autosync_minutes", on_change=ui.auto_sync_changed, args=args)
st.caption(ui.md_escape(ui.auto_sync_summary(scheduler.status(advertiser_id))))
