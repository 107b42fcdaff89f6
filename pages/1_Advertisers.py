"""Advertisers: the ad accounts this app may read, which one to work on, and syncing it."""

import streamlit as st

from desk.sources import AdAccount
from desk.text import md_escape
from desk.ui import context, queries, syncing, tables

ctx = context.bootstrap("Advertisers")
st.title("Advertisers")

overview = queries.advertiser_overview(ctx)
if overview.empty:
    st.info("No TikTok ad account is connected yet. Connect one on the Home page first.")
    st.page_link(context.HOME, label="Go to Home", icon="🔗")
    st.stop()

st.dataframe(overview, hide_index=True, column_config=tables.overview_columns(),
             key="advertisers_table")

ids = list(overview["advertiser_id"])
names = dict(zip(ids, overview["name"], strict=True))
st.session_state["advertisers_selected"] = ctx.advertiser_id
advertiser_id = st.selectbox(
    "Work on", ids, format_func=lambda a: f"{names[a]} · {a}", key="advertisers_selected",
    index=None, placeholder="Choose an ad account", on_change=context.on_advertiser_selected,
    args=("advertisers_selected",),
)
if advertiser_id is None:
    st.info("Choose the ad account to work on; the other pages then show its ads and comments.")
    st.stop()

row = overview.loc[overview["advertiser_id"] == advertiser_id].iloc[0]
st.subheader(md_escape(names[advertiser_id]))
if row["connection"] != "connected":
    st.warning(
        "No working connection grants this ad account, so it cannot be synced. "
        "Reconnect it on the Home page; its stored comments stay readable meanwhile."
    )
    st.page_link(context.HOME, label="Reconnect on Home", icon="🔗")
syncing.sync_controls(ctx, AdAccount(ctx.workspace, advertiser_id), names[advertiser_id],
                      "advertisers", usable=row["connection"] == "connected")
