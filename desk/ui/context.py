"""What every page starts with: `bootstrap()` and the PageContext it returns.

The bootstrap sets the page up (config, settings, sign-in and the role the page needs
(desk.ui.signin), handles, session defaults), works out the ad account and the TikTok
business account the session works on (named by the address on a session's first load,
mirrored back into it so it can be shared), draws the sidebar and shows the messages flashed
by the previous run.

Also here: the pointers a page stops with when nothing is chosen, the words for every error a
person can meet (`USER_ERRORS`, `error_message`, `show_error`) and `refresh()` after a sync
or a write. Who is asking is `PageContext.person`, and `PageContext.require` is the check
every action makes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from desk import errors, people
from desk.config import DEMO_DIR, for_demo, load_settings
from desk.connect.keys import KeyFileError, with_secret_key
from desk.demo import DEMO_BANNER, sandbox_options
from desk.errors import CredentialsError
from desk.people import LOCAL_USER, Person, Role
from desk.store import CommentFilters, StoreError
from desk.text import md_escape
from desk.ui import handles, queries, signin
from desk.workspace import TikTokApp, Workspace

HOME = "Home.py"
ADVERTISERS_PAGE = "pages/1_Advertisers.py"
ADS_PAGE = "pages/2_Ads.py"
COMMENTS_PAGE = "pages/3_Comments.py"
INSIGHTS_PAGE = "pages/4_Insights.py"
VIDEOS_PAGE = "pages/7_Videos.py"

USER_ERRORS = errors.USER_ERRORS
"""Errors a person can meet and act on: pages catch these and call show_error."""


@dataclass(frozen=True)
class PageContext(Workspace):
    """What every page needs, built by `bootstrap`: the workspace and the accounts chosen."""

    advertiser_id: str | None = None
    business_id: str | None = None  # the TikTok business account (organic videos) chosen
    person: Person = Person(LOCAL_USER, "admin")  # who is asking, with their role now

    def require(self, role: Role, doing: str) -> None:
        """Refuse (people.NotAllowed) unless the person's role, as it is now, is `role` or
        above: every action asks before it acts, whatever the page showed. The role is read
        again from the database, since a callback acts with the context of an earlier run."""
        people.require(signin.as_now(self.settings, self.store, self.person), role, doing)

    @property
    def workspace(self) -> Workspace:
        """What the page's sources act with (the page context is one)."""
        return self

    @property
    def demo(self) -> bool:
        """Whether the built-in sandbox stands in for TikTok."""
        return self.settings.demo_mode

    @property
    def db(self) -> str:
        """The database path: the key of every cached query."""
        return self.store.path


SESSION_DEFAULTS: Mapping[str, Any] = MappingProxyType({
    "advertiser_id": None,
    "advertiser_url_read": False,
    "business_id": None,
    "account_url_read": False,
    "ad_url_read": False,
    "signed_in": False,
    "filters_shared": None,
    "flash": (),
    "write_generation": 0,
})


def bootstrap(page_title: str, needs: Role = "viewer") -> PageContext:
    """Set up a page: config, settings, sign-in, handles, the chosen accounts, sidebar; the
    page opens only for a person whose role is `needs` or above."""
    st.set_page_config(page_title=f"{page_title} · Comment Desk", page_icon="💬", layout="wide")
    try:
        settings = load_settings(secrets=_secrets())
        if settings.demo_mode:
            settings = for_demo(settings)
            if settings.db_path.parent == DEMO_DIR:
                handles.demo_folder(str(DEMO_DIR))
        options = sandbox_options()
    except ValueError as exc:
        st.error(f"Comment Desk's settings cannot be read: {md_escape(exc)}")
        st.stop()
    signin.refuse_open_serving(settings)
    try:
        settings = with_secret_key(settings)
    except KeyFileError as exc:
        show_error(exc)
        st.stop()
    signin.gate(settings)
    for key, value in SESSION_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("session_nonce", uuid.uuid4().hex)
    try:
        store = handles.store_for(settings)
    except StoreError as exc:
        show_error(exc)
        st.stop()
    who = signin.person(settings, store)
    signin.require_page(settings, who, needs, f"the {page_title} page")
    try:
        credentials = handles.credentials(str(settings.credentials_path), settings.secret_key)
    except CredentialsError as exc:
        show_error(exc)
        st.stop()
    limiter = handles.rate_limiter(settings.rate_limit_qps, settings.rate_limit_qpm)
    if settings.demo_mode:
        sandbox = handles.demo_sandbox(options)
        app = TikTokApp(
            api_base_url=sandbox.base_url, auth_url=f"{sandbox.base_url}/portal/auth",
            app_id=sandbox.config.app_id, app_secret=sandbox.config.secret,
            redirect_uri=own_url(), rate_limiter=limiter,
            account_auth_url=sandbox.account_auth_url, account_redirect_uri=own_url(),
        )
    else:
        app = TikTokApp.from_settings(settings, rate_limiter=limiter)
    try:
        known = queries.known_advertisers(store.path, credentials)
        known_accounts = queries.known_business_accounts(store.path, credentials)
    except CredentialsError as exc:
        show_error(exc)
        st.stop()
    ctx = PageContext(
        settings=settings, store=store, credentials=credentials, app=app,
        advertiser_id=_chosen(_ADVERTISER, list(known)),
        business_id=_chosen(_ACCOUNT, list(known_accounts)), person=who,
    )
    handles.token_refresher(ctx.workspace)
    handles.alert_sender(ctx.workspace)
    handles.retrainer(ctx.workspace)
    if ctx.demo:
        st.info(DEMO_BANNER, icon="🧪")
    _sidebar(ctx, known, known_accounts)
    for icon, message in st.session_state["flash"]:
        st.toast(md_escape(message), icon=icon)
    st.session_state["flash"] = ()
    return ctx


def _secrets() -> dict[str, Any] | None:
    """st.secrets as a dict when a secrets file is present, else None (the file is read by
    load_settings from the project root)."""
    try:
        return st.secrets.to_dict() or None
    except Exception:  # no secrets file: st.secrets raises on first access
        return None


def own_url() -> str:
    """This app's own address (demo mode's redirect URI): from the browser's URL, else the
    Host header, else http://localhost:<port>/."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = f"/{base}/" if base else "/"
    url = st.context.url
    if url:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    host = st.context.headers.get("Host") if st.context.headers else None
    if host and re.fullmatch(r"[A-Za-z0-9.\-]+(:\d+)?|\[[0-9A-Fa-f:]+\](:\d+)?", host):
        return f"http://{host}{path}"
    return f"http://localhost:{st.get_option('server.port')}{path}"


# ---------------------------------------------------------------------------------------------
# The accounts a session works on


@dataclass(frozen=True)
class _Choice:
    """How a session remembers one account it works on: its session key, the query
    parameter that names it in the address, and what a link to an unknown one says."""

    state_key: str
    url_read_key: str
    param: str
    unknown: str


_ADVERTISER = _Choice("advertiser_id", "advertiser_url_read", "advertiser",
                      "The link names an ad account that is not connected here.")
_ACCOUNT = _Choice("business_id", "account_url_read", "account",
                   "The link names a TikTok account that is not connected here.")


def _chosen(choice: _Choice, known: list[str]) -> str | None:
    """The account of this kind the session works on: named by the address on a session's
    first load, then the session's choice (the only one, when just one is known); mirrored
    back into the address so it can be shared."""
    state = st.session_state
    if not state[choice.url_read_key]:
        state[choice.url_read_key] = True
        wanted = st.query_params.get(choice.param)
        if wanted and wanted in known:
            state[choice.state_key] = wanted
        elif wanted:
            flash("⚠️", choice.unknown)
    chosen = state[choice.state_key] if state[choice.state_key] in known else None
    if chosen is None and len(known) == 1:
        chosen = known[0]
    state[choice.state_key] = chosen
    if chosen and st.query_params.get(choice.param) != chosen:
        st.query_params[choice.param] = chosen
    return chosen


def _choose(choice: _Choice, value: str | None) -> None:
    """Make `value` the session's account of this kind (and the address's)."""
    st.session_state[choice.state_key] = value
    st.session_state["filters_shared"] = None
    if value:
        st.query_params[choice.param] = value
    elif choice.param in st.query_params:
        del st.query_params[choice.param]


def choose_account(business_id: str | None) -> None:
    """Make `business_id` the session's TikTok account (and the URL's)."""
    _choose(_ACCOUNT, business_id)


def forget_account(business_id: str) -> None:
    """The session stops working on a TikTok account that was disconnected."""
    if st.session_state.get(_ACCOUNT.state_key) == business_id:
        choose_account(None)


def on_account_selected(widget_key: str) -> None:
    """on_change of a TikTok account selectbox: adopt its value."""
    choose_account(st.session_state.get(widget_key))


def choose_advertiser(advertiser_id: str | None) -> None:
    """Make `advertiser_id` the session's ad account (and the URL's)."""
    _choose(_ADVERTISER, advertiser_id)
    if "ad" in st.query_params:  # an ad belongs to the previous ad account
        del st.query_params["ad"]


def on_advertiser_selected(widget_key: str) -> None:
    """on_change of an ad account selectbox: adopt its value."""
    choose_advertiser(st.session_state.get(widget_key))


def _sidebar(ctx: PageContext, known: Mapping[str, str],
             known_accounts: Mapping[str, str]) -> None:
    with st.sidebar:
        if not _sidebar_choice("Ad account", "ad account", ctx.advertiser_id, known,
                               ADVERTISERS_PAGE) and not known_accounts:
            st.caption("No ad account connected yet.")
            st.page_link(HOME, label="Connect one on Home", icon="🔗")
        _sidebar_choice("TikTok account (organic videos)", "TikTok account", ctx.business_id,
                        known_accounts, VIDEOS_PAGE)
        signin.signed_in_line(ctx.settings, ctx.person)


def _sidebar_choice(title: str, noun: str, chosen: str | None, known: Mapping[str, str],
                    page: str) -> bool:
    """The account of one kind the session works on, with a link to change it (or to choose
    one); False when none of this kind is known."""
    if chosen:
        st.caption(title)
        st.markdown(f"**{md_escape(known.get(chosen) or 'Unnamed')}**")
        st.caption(md_escape(chosen))
        st.page_link(page, label="Change or sync", icon="🔁")
    elif known:
        st.caption(f"No {noun} chosen yet.")
        st.page_link(page, label="Choose one", icon="👉")
    return bool(chosen or known)


def require_scope(ctx: PageContext) -> None:
    """Stop the page with a pointer unless an ad account or a TikTok account is chosen."""
    if ctx.advertiser_id is not None or ctx.business_id is not None:
        return
    if not queries.known_advertisers(ctx.db, ctx.credentials) and \
            not queries.known_business_accounts(ctx.db, ctx.credentials):
        st.info("No TikTok ad account or TikTok account is connected yet. Connect one on the "
                "Home page first.")
        st.page_link(HOME, label="Go to Home", icon="🔗")
    else:
        st.info("Choose the ad account to work on (Advertisers page) or the TikTok account "
                "(Videos page).")
        st.page_link(ADVERTISERS_PAGE, label="Go to Advertisers", icon="👉")
        st.page_link(VIDEOS_PAGE, label="Go to Videos", icon="🎞️")
    st.stop()


def scope_filters(ctx: PageContext) -> CommentFilters:
    """Every comment of the chosen ad account and TikTok account, unfiltered."""
    return CommentFilters(ctx.advertiser_id or "", business_id=ctx.business_id)


def require_advertiser(ctx: PageContext) -> str:
    """Stop the page with a pointer when no ad account is connected or chosen."""
    if ctx.advertiser_id is None:
        if not queries.known_advertisers(ctx.db, ctx.credentials):
            st.info("No TikTok ad account is connected yet. Connect one on the Home page first.")
            st.page_link(HOME, label="Go to Home", icon="🔗")
        else:
            st.info("Choose the ad account to work on, on the Advertisers page.")
            st.page_link(ADVERTISERS_PAGE, label="Go to Advertisers", icon="👉")
        st.stop()
    return ctx.advertiser_id


# ---------------------------------------------------------------------------------------------
# Messages, errors and the session


def flash(icon: str, message: str) -> None:
    """A message shown (as a toast) on the next run of any page."""
    st.session_state["flash"] = (*st.session_state.get("flash", ()), (icon, message))


def show_error(exc: BaseException) -> None:
    """The error as a human message with the next step; never a traceback."""
    st.error(md_escape(error_message(exc)), icon="⚠️")


def error_message(exc: BaseException) -> str:
    """What happened and what to do next (the words of desk.errors' one table)."""
    return errors.message_for(exc)


def refresh() -> None:
    """Forget every cached query result: call after a sync or a write."""
    st.cache_data.clear()
