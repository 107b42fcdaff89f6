"""Home: connect TikTok ad accounts and TikTok business accounts, finish a connection when
TikTok sends the browser back, and see where every account stands."""

import streamlit as st

from desk import ui

ctx = ui.bootstrap("Home")
st.title("Comment Desk")
st.caption("Read, answer and understand the comments on your TikTok ads and videos.")

# TikTok's consent screens send the browser back here: ?auth_code=...&state=... for an ad
# account, ?code=...&scopes=...&state=... for a TikTok account (or ?error=...). The signed
# state says which connection it finishes.
params = st.query_params.to_dict()
if ui.is_oauth_callback(params):
    finish = ui.finish_account_oauth if ui.is_account_callback(ctx, params) else ui.finish_oauth
    with st.spinner("Finishing the connection with TikTok…"):
        try:
            connected = finish(ctx, params)
        except ui.USER_ERRORS as exc:
            outcome = ("error", [ui.error_message(exc)])
        else:
            outcome = ("success", [connected.summary(), *filter(None, [connected.warning])])
    st.query_params.clear()  # the code and state are spent: never leave them in the address
    st.session_state["home_outcome"] = outcome
    st.rerun()

outcome = st.session_state.pop("home_outcome", None)
if outcome:
    kind, lines = outcome
    (st.success if kind == "success" else st.error)(ui.md_escape(lines[0]))
    for line in lines[1:]:
        st.warning(ui.md_escape(line))

st.subheader("Connected ad accounts")
connections = ctx.credentials.connections()
if not connections:
    st.write("None yet. Connect an ad account to pull in its ads and comments.")
for conn in connections:
    with st.container(border=True):
        about, act = st.columns([5, 1], vertical_alignment="center")
        state = "⚠️ needs reconnecting" if conn.needs_reauth else "✅ working"
        about.markdown(f"**{len(conn.advertiser_ids)} ad account(s)** · connected "
                       f"{ui.md_escape(conn.connected_at[:10])} · {state}")
        about.caption(ui.connection_label(ctx, conn.advertiser_ids))
        if conn.needs_reauth:
            about.warning(ui.md_escape(f"TikTok refused this connection: {conn.status_message} "
                                       "Connect again to restore it, then disconnect this one."))
        if act.button("Disconnect", key=f"home_disconnect_{conn.connection_id}"):
            ui.disconnect(ctx, conn.connection_id)
            ui.flash("🔌", "Disconnected. The comments already stored stay in Comment Desk.")
            st.rerun()

st.link_button("Connect a TikTok ad account", ui.connect_url(ctx), type="primary", icon="🔗")
st.caption(
    "The demo sandbox's consent screen grants every demo ad account." if ctx.demo else
    "TikTok asks you to approve access for the ad accounts you choose, then sends you back here."
)

overview = ui.advertiser_overview(ctx)
if not overview.empty:
    st.subheader("Ad accounts")
    st.dataframe(overview, hide_index=True, column_config=ui.overview_columns(),
                 key="home_overview")

st.subheader("Connected TikTok accounts")
st.caption("A brand's own TikTok business account: the comments on its organic videos, beside "
           "the ad comments.")
accounts = ui.account_statuses(ctx)
if not accounts:
    st.write("None yet. Connect a TikTok account to pull in its videos and their comments.")
for conn, status in accounts:
    with st.container(border=True, key=f"home_account_{conn.business_id}"):
        about, act = st.columns([5, 1], vertical_alignment="center")
        about.markdown(f"**{ui.md_escape(ui.account_label(ctx, conn.business_id))}** · "
                       f"connected {ui.md_escape(conn.connected_at[:10])} · "
                       f"{ui.TOKEN_STATES[status.state]}")
        if status.state == "warn":
            about.warning(ui.md_escape(status.message))
        elif status.state == "reconnect":
            about.error(ui.md_escape(status.message))
        if act.button("Disconnect", key=f"home_account_disconnect_{conn.business_id}"):
            note = ui.disconnect_account(ctx, conn.business_id)
            ui.flash("🔌", "Disconnected. The comments already stored stay in Comment Desk.")
            if note:
                ui.flash("⚠️", note)
            st.rerun()
account_url = ui.account_connect_url(ctx)
if account_url:
    st.link_button("Connect a TikTok account", account_url, icon="🎵")
    st.caption(
        "The demo sandbox's consent screen lets you pick one of its TikTok accounts." if ctx.demo
        else "TikTok asks the account holder to approve access, then sends you back here."
    )
else:
    st.caption("To connect TikTok accounts, set TIKTOK_ACCOUNT_AUTH_URL to the \"TikTok account "
               "holder authorization URL\" from the app's page on TikTok's developer portal.")

st.subheader("What next")
if accounts and not connections:
    st.info("Fetch the TikTok account's videos and comments: open Videos and click Sync now.")
    st.page_link(ui.VIDEOS_PAGE, label="Go to Videos", icon="👉")
elif not connections:
    st.info("Connect an ad account with the button above.")
elif overview["last_sync"].isna().all():
    st.info("Fetch the ads and comments: open Advertisers and click Sync now.")
    st.page_link(ui.ADVERTISERS_PAGE, label="Go to Advertisers", icon="👉")
else:
    st.info("Read and answer comments, or see which ads people talk about.")
    st.page_link(ui.COMMENTS_PAGE, label="Comments", icon="💬")
    st.page_link(ui.ADS_PAGE, label="Ads", icon="🎬")
    st.page_link("pages/4_Insights.py", label="Insights", icon="📈")
