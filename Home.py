"""Home: connect TikTok ad accounts and TikTok business accounts, finish a connection when
TikTok sends the browser back, and see where every account stands."""

from types import MappingProxyType

import streamlit as st

from desk.connect import flows
from desk.text import md_escape
from desk.ui import context, queries, tables

TOKEN_STATES = MappingProxyType(
    {"ok": "✅ working", "warn": "⚠️ ends soon", "reconnect": "⛔ needs reconnecting"}
)

CONNECTING = "connect or disconnect accounts"

ctx = context.bootstrap("Home")
admin = ctx.person.can("admin")
st.title("Comment Desk")
st.caption("Read, answer and understand the comments on your TikTok ads and videos.")

# TikTok's consent screens send the browser back here: ?auth_code=...&state=... for an ad
# account, ?code=...&scopes=...&state=... for a TikTok account (or ?error=...). The signed
# state says which connection it finishes.
params = st.query_params.to_dict()
if flows.is_oauth_callback(params):
    finish = (flows.finish_account_oauth if flows.is_account_callback(ctx.workspace, params)
              else flows.finish_oauth)
    with st.spinner("Finishing the connection with TikTok…"):
        try:
            ctx.require("admin", CONNECTING)
            connected = finish(ctx.workspace, params)
        except context.USER_ERRORS as exc:
            outcome = ("error", [context.error_message(exc)])
        else:
            context.refresh()
            outcome = ("success", [connected.summary(), *filter(None, [connected.warning])])
    st.query_params.clear()  # the code and state are spent: never leave them in the address
    st.session_state["home_outcome"] = outcome
    st.rerun()

outcome = st.session_state.pop("home_outcome", None)
if outcome:
    kind, lines = outcome
    (st.success if kind == "success" else st.error)(md_escape(lines[0]))
    for line in lines[1:]:
        st.warning(md_escape(line))

st.subheader("Connected ad accounts")
connections = ctx.credentials.connections()
if not connections:
    st.write("None yet. Connect an ad account to pull in its ads and comments.")
names = queries.known_advertisers(ctx.db, ctx.credentials)
for conn in connections:
    with st.container(border=True):
        about, act = st.columns([5, 1], vertical_alignment="center")
        state = "⚠️ needs reconnecting" if conn.needs_reauth else "✅ working"
        about.markdown(f"**{len(conn.advertiser_ids)} ad account(s)** · connected "
                       f"{md_escape(conn.connected_at[:10])} · {state}")
        about.caption(md_escape(", ".join(f"{names.get(a) or 'unnamed'} ({a})"
                                          for a in conn.advertiser_ids)))
        if conn.needs_reauth:
            about.warning(md_escape(f"TikTok refused this connection: {conn.status_message} "
                                    "Connect again to restore it, then disconnect this one."))
        if admin and act.button("Disconnect", key=f"home_disconnect_{conn.connection_id}"):
            ctx.require("admin", CONNECTING)
            flows.disconnect(ctx.workspace, conn.connection_id)
            context.refresh()
            context.flash("🔌", "Disconnected. The comments already stored stay in Comment Desk.")
            st.rerun()

if admin:
    st.link_button("Connect a TikTok ad account", flows.connect_url(ctx.workspace),
                   type="primary", icon="🔗")
    st.caption(
        "The demo sandbox's consent screen grants every demo ad account." if ctx.demo else
        "TikTok asks you to approve access for the ad accounts you choose, then sends you back "
        "here."
    )
else:
    st.caption("An admin connects and disconnects accounts.")

overview = queries.advertiser_overview(ctx)
if not overview.empty:
    st.subheader("Ad accounts")
    st.dataframe(overview, hide_index=True, column_config=tables.overview_columns(),
                 key="home_overview")

st.subheader("Connected TikTok accounts")
st.caption("A brand's own TikTok business account: the comments on its organic videos, beside "
           "the ad comments.")
accounts = flows.account_statuses(ctx.workspace)
if not accounts:
    st.write("None yet. Connect a TikTok account to pull in its videos and their comments.")
for conn, status in accounts:
    with st.container(border=True, key=f"home_account_{conn.business_id}"):
        about, act = st.columns([5, 1], vertical_alignment="center")
        about.markdown(f"**{md_escape(queries.account_label(ctx, conn.business_id))}** · "
                       f"connected {md_escape(conn.connected_at[:10])} · "
                       f"{TOKEN_STATES[status.state]}")
        if status.state == "warn":
            about.warning(md_escape(status.message))
        elif status.state == "reconnect":
            about.error(md_escape(status.message))
        if admin and act.button("Disconnect", key=f"home_account_disconnect_{conn.business_id}"):
            ctx.require("admin", CONNECTING)
            note = flows.disconnect_account(ctx.workspace, conn.business_id)
            context.forget_account(conn.business_id)
            context.refresh()
            context.flash("🔌", "Disconnected. The comments already stored stay in Comment Desk.")
            if note:
                context.flash("⚠️", note)
            st.rerun()
account_url = flows.account_connect_url(ctx.workspace) if admin else None
if account_url:
    st.link_button("Connect a TikTok account", account_url, icon="🎵")
    st.caption(
        "The demo sandbox's consent screen lets you pick one of its TikTok accounts." if ctx.demo
        else "TikTok asks the account holder to approve access, then sends you back here."
    )
elif admin:
    st.caption("To connect TikTok accounts, set TIKTOK_ACCOUNT_AUTH_URL to the \"TikTok account "
               "holder authorization URL\" from the app's page on TikTok's developer portal.")

st.subheader("What next")
if accounts and not connections:
    st.info("Fetch the TikTok account's videos and comments: open Videos and click Sync now.")
    st.page_link(context.VIDEOS_PAGE, label="Go to Videos", icon="👉")
elif not connections:
    st.info("Connect an ad account with the button above.")
elif overview["last_sync"].isna().all():
    st.info("Fetch the ads and comments: open Advertisers and click Sync now.")
    st.page_link(context.ADVERTISERS_PAGE, label="Go to Advertisers", icon="👉")
else:
    st.info("Read and answer comments, or see which ads people talk about.")
    st.page_link(context.COMMENTS_PAGE, label="Comments", icon="💬")
    st.page_link(context.ADS_PAGE, label="Ads", icon="🎬")
    st.page_link(context.INSIGHTS_PAGE, label="Insights", icon="📈")
