"""Streamlit glue: cached handles and queries, the page bootstrap, and the shared widgets.

The only module in desk/ that imports streamlit. Pages call `bootstrap()` first and then
only the functions here and in the other desk modules: no SQL and no HTTP in pages.

- Handles live in `st.cache_resource` (one per process): the Store, the demo sandbox, the
  RateLimiter every request of the app shares, and the automatic-sync scheduler. Nothing
  returned by those functions is mutated except through its own thread-safe methods.
- Query results live in `st.cache_data(ttl=60)`, keyed by the database path and hashable
  arguments; `refresh()` clears them after a sync or a write.
- Every DuckDB access takes its own `store.cursor()`.
- Comment text is data: it is shown with st.text or st.dataframe, never as markdown; other
  external text that must appear in markdown (names, messages) goes through `md_escape`.

Demo mode (no TikTok app credentials): the sandbox starts once per process on loopback. Its
size can be set with DESK_SANDBOX_SEED, DESK_SANDBOX_ADVERTISERS, DESK_SANDBOX_ADS,
DESK_SANDBOX_COMMENTS, DESK_SANDBOX_NEW_COMMENTS_PER_MINUTE, DESK_SANDBOX_QPS,
DESK_SANDBOX_QPM, DESK_SANDBOX_LATENCY_MS and, for its TikTok business accounts,
DESK_SANDBOX_BUSINESS_ACCOUNTS, DESK_SANDBOX_VIDEOS_PER_ACCOUNT, DESK_SANDBOX_ORGANIC_COMMENTS
and DESK_SANDBOX_NEW_ORGANIC_COMMENTS_PER_MINUTE (defaults: the sandbox's own).

A session works on one ad account (advertiser) and, optionally, one TikTok business account;
the comment pages cover both, and a business account's tokens are renewed before they expire,
on use and by a schedule (one daemon thread per process).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import io
import logging
import math
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from desk import actions, export
from desk.connect import state as oauth_state
from desk import store as db
from desk.connect.tokens import (
    AccountNeedsReconnect,
    AccountNotConnected,
    TokenKeeper,
    TokenStatus,
    TokenUnavailable,
)
from desk.actions import ActionRefused, ActionResult
from desk.config import DEMO_DIR, Settings, for_demo, load_settings
from desk.connect.credentials import AccountConnection, CredentialsError, CredentialStore
from desk.connect.state import StateError
from desk.organic_sync import (
    OrganicSyncAborted,
    OrganicSyncProgress,
    OrganicSyncResult,
    run_organic_sync,
)
from desk.store import CommentFilters, Store, StoreError, StoreLocked
from desk.sync import (
    NotConnected,
    SyncAborted,
    SyncProgress,
    SyncResult,
    app_rate_limiter,
    run_sync,
)
from tiktok_client.accounts import (
    BusinessAccountClient,
    account_authorization_url,
    exchange_account_code,
    parse_account_redirect,
    revoke_account_token,
)
from tiktok_client.client import MAX_REPLY_LENGTH, TikTokClient
from tiktok_client.errors import AuthCodeError, TikTokError
from tiktok_client.oauth import authorization_url, exchange_auth_code
from tiktok_client.ratelimit import RateLimiter

if TYPE_CHECKING:
    from tiktok_sandbox import SandboxHandle

_log = logging.getLogger(__name__)

HOME = "app.py"
ADVERTISERS_PAGE = "pages/1_Advertisers.py"
ADS_PAGE = "pages/2_Ads.py"
COMMENTS_PAGE = "pages/3_Comments.py"
VIDEOS_PAGE = "pages/7_Videos.py"
TOKEN_REFRESH_SECONDS = 300.0
"""How often, while the app runs, business-account tokens near their expiry are renewed."""
QUERY_TTL = 60
DEMO_BANNER = (
    "Demo mode: a built-in sandbox stands in for TikTok, and its data starts afresh each "
    "time the app starts. Set TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET and "
    "TIKTOK_REDIRECT_URI to connect real accounts."
)
SANDBOX_SETTINGS = MappingProxyType({
    "DESK_SANDBOX_SEED": ("seed", int),
    "DESK_SANDBOX_ADVERTISERS": ("advertisers", int),
    "DESK_SANDBOX_ADS": ("ads", int),
    "DESK_SANDBOX_COMMENTS": ("comments", int),
    "DESK_SANDBOX_NEW_COMMENTS_PER_MINUTE": ("new_comments_per_minute", float),
    "DESK_SANDBOX_QPS": ("qps", int),
    "DESK_SANDBOX_QPM": ("qpm", int),
    "DESK_SANDBOX_LATENCY_MS": ("latency_ms", float),
    "DESK_SANDBOX_BUSINESS_ACCOUNTS": ("business_accounts", int),
    "DESK_SANDBOX_VIDEOS_PER_ACCOUNT": ("videos_per_account", int),
    "DESK_SANDBOX_ORGANIC_COMMENTS": ("organic_comments", int),
    "DESK_SANDBOX_NEW_ORGANIC_COMMENTS_PER_MINUTE": ("new_organic_comments_per_minute", float),
})
ORDERS = MappingProxyType(
    {"newest": "Newest first", "oldest": "Oldest first", "most_liked": "Most liked"}
)
PERIODS = ("All time", "Last 7 days", "Last 30 days", "Last 90 days", "Custom range")
STATUSES = MappingProxyType({"All": None, "Public": "PUBLIC", "Hidden": "HIDDEN"})
TOKEN_STATES = MappingProxyType(
    {"ok": "✅ working", "warn": "⚠️ ends soon", "reconnect": "⛔ needs reconnecting"}
)
SOURCES = MappingProxyType({"All": None, "Ad comments": "ad", "Organic comments": "organic"})
TYPES = MappingProxyType({"All": None, "Comments": "COMMENT", "Replies": "REPLY"})
FILTER_DEFAULTS: Mapping[str, Any] = MappingProxyType({
    "source": "All",
    "ads": (),
    "videos": (),
    "period": "All time",
    "status": "All",
    "type": "All",
    "search": "",
    "unanswered": False,
})
EXPORT_CAP = 1_000_000
EXPORT_CHUNK = 50_000
CSV_COLUMNS = (
    "comment_id", "create_time", "create_time_local", "comment_type", "original_comment_id",
    "comment_status", "answered", "user_name", "user_id", "content", "likes", "replies",
    "hit_blockedword", "source", "ad_id", "ad_name", "adgroup_id", "adgroup_name", "campaign_id",
    "campaign_name", "advertiser_id", "video_id", "business_id",
)
"""The columns a spreadsheet user needs; Parquet gets every stored column."""
NESTED_REPLIES_SHOWN = 10
CONVERSATION_ROWS = 500
AD_COLOUR = "#fe2c55"
ORGANIC_COLOUR = "#7b61ff"


class SyncBusy(Exception):
    """A sync of this ad account is already running in this app."""

    def __init__(self) -> None:
        super().__init__(
            "A sync of this ad account is already running (perhaps the automatic one); "
            "wait for it to finish, then look again."
        )


class ConnectionDenied(Exception):
    """The advertiser did not grant access on TikTok's consent screen."""


USER_ERRORS: tuple[type[BaseException], ...] = (
    TikTokError,
    SyncAborted,
    NotConnected,
    ActionRefused,
    StoreError,
    CredentialsError,
    StateError,
    SyncBusy,
    ConnectionDenied,
    AccountNotConnected,
    AccountNeedsReconnect,
    TokenUnavailable,
    OrganicSyncAborted,
)
"""Errors a person can meet and act on: pages catch these and call show_error."""


# ---------------------------------------------------------------------------------------------
# Text helpers


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+\-.!|~$:&])")


def md_escape(value: Any) -> str:
    """External text made inert for markdown: every ASCII punctuation mark is escaped and
    line breaks become spaces, so links, HTML, emphasis and directives show as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text(value).split()))


def chart_label(value: Any) -> str:
    """External text made inert for Plotly's HTML-like labels and hover text."""
    return html.escape(" ".join(text(value).split()), quote=True)


def text(value: Any) -> str:
    """A value as display text: "" for None, NaN and pandas' missing markers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def plural(count: int, noun: str) -> str:
    """'1 comment', '2,345 comments'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'never', 'just now', '5 min ago', '3 h ago' or a date."""
    if moment is None or moment is pd.NaT:
        return "never"
    now = now or datetime.now(UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def local_time(value: Any) -> str:
    """A stored local wall-clock time as text."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------------
# Handles (st.cache_resource: one per process, shared by every session)


@st.cache_resource(show_spinner=False, on_release=lambda store: store.close())
def _store(path: str) -> Store:
    store = Store.open(path)
    cur = store.cursor()
    try:
        db.mark_interrupted_runs(cur)  # syncs a previous process left "running"
    finally:
        cur.close()
    return store


@st.cache_resource(show_spinner=False)
def _rate_limiter(qps: float, qpm: float) -> RateLimiter:
    return app_rate_limiter(Settings(rate_limit_qps=qps, rate_limit_qpm=qpm))


@st.cache_resource(show_spinner="Starting the demo sandbox…", on_release=lambda h: h.stop())
def _sandbox(options: tuple[tuple[str, float], ...]) -> SandboxHandle:
    from tiktok_sandbox import SandboxConfig, start_sandbox

    return start_sandbox(SandboxConfig(**dict(options)))


@st.cache_resource(show_spinner=False)
def _demo_workspace(directory: str) -> str:
    """Empty the demo's own folder once per process, before anything opens its files: each
    start of the app makes a new sandbox world, with new IDs and new tokens."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    return directory


def store_for(settings: Settings) -> Store:
    """The process's one Store for the configured database (opened on first use)."""
    return _store(str(settings.db_path))


def sandbox_options(environ: Mapping[str, str] | None = None) -> tuple[tuple[str, float], ...]:
    """The demo sandbox's settings from DESK_SANDBOX_* variables (only those that are set)."""
    env = os.environ if environ is None else environ
    chosen = []
    for name, (option, kind) in SANDBOX_SETTINGS.items():
        raw = (env.get(name) or "").strip()
        if not raw:
            continue
        try:
            chosen.append((option, kind(raw)))
        except ValueError:
            raise ValueError(f"{name} must be a number, got {raw!r}") from None
    return tuple(sorted(chosen))


def demo_sandbox() -> SandboxHandle:
    """The sandbox this process runs for demo mode (started on first use)."""
    return _sandbox(sandbox_options())


# ---------------------------------------------------------------------------------------------
# The page bootstrap


@dataclass(frozen=True)
class PageContext:
    """What every page needs, built by `bootstrap`."""

    settings: Settings
    store: Store
    credentials: CredentialStore
    advertiser_id: str | None
    business_id: str | None  # the TikTok business account (organic videos) chosen, if any
    demo: bool
    api_base_url: str
    auth_url: str
    app_id: str
    app_secret: str = field(repr=False)
    redirect_uri: str
    rate_limiter: RateLimiter
    account_auth_url: str | None = None  # None: business accounts cannot be connected
    account_redirect_uri: str = ""

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


def bootstrap(page_title: str) -> PageContext:
    """Set up a page: config, sign-in, settings, handles, the chosen ad account, sidebar."""
    st.set_page_config(page_title=f"{page_title} · Comment Desk", page_icon="💬", layout="wide")
    try:
        settings = load_settings(secrets=_secrets())
        if settings.demo_mode:
            settings = for_demo(settings)
            if settings.db_path.parent == DEMO_DIR:
                _demo_workspace(str(DEMO_DIR))
        options = sandbox_options()
    except ValueError as exc:
        st.error(f"Comment Desk's settings cannot be read: {md_escape(exc)}")
        st.stop()
    _password_gate(settings)
    for key, value in SESSION_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("session_nonce", uuid.uuid4().hex)
    try:
        store = store_for(settings)
    except StoreError as exc:
        show_error(exc)
        st.stop()
    credentials = CredentialStore(settings.credentials_path, settings.secret_key)
    if settings.demo_mode:
        sandbox = _sandbox(options)
        api = (sandbox.base_url, f"{sandbox.base_url}/portal/auth", sandbox.config.app_id,
               sandbox.config.secret, own_url())
        accounts_api = (sandbox.account_auth_url, own_url())
    else:
        api = (settings.api_base_url, settings.auth_url, settings.client_key or "",
               settings.client_secret or "", settings.redirect_uri or "")
        accounts_api = (settings.account_auth_url, settings.account_redirect_uri or "")
    try:
        known = known_advertisers(store.path, credentials)
        known_accounts = known_business_accounts(store.path, credentials)
    except CredentialsError as exc:
        show_error(exc)
        st.stop()
    ctx = PageContext(
        settings=settings,
        store=store,
        credentials=credentials,
        advertiser_id=_chosen(_ADVERTISER, list(known)),
        business_id=_chosen(_ACCOUNT, list(known_accounts)),
        demo=settings.demo_mode,
        api_base_url=api[0],
        auth_url=api[1],
        app_id=api[2],
        app_secret=api[3],
        redirect_uri=api[4],
        rate_limiter=_rate_limiter(settings.rate_limit_qps, settings.rate_limit_qpm),
        account_auth_url=accounts_api[0],
        account_redirect_uri=accounts_api[1],
    )
    token_refresher(ctx)
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


def _password_gate(settings: Settings) -> None:
    """With DESK_PASSWORD set, nothing else renders until the right password is given."""
    if not settings.password or st.session_state.get("signed_in"):
        return
    st.title("Comment Desk")
    with st.form("signin_form", clear_on_submit=True):
        given = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        expected = hashlib.sha256(settings.password.encode()).digest()
        if hmac.compare_digest(hashlib.sha256((given or "").encode()).digest(), expected):
            st.session_state["signed_in"] = True
            st.rerun()
        st.error("That password is not right.")
    st.stop()


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


def flash(icon: str, message: str) -> None:
    """A message shown (as a toast) on the next run of any page."""
    st.session_state["flash"] = (*st.session_state.get("flash", ()), (icon, message))


def require_scope(ctx: PageContext) -> None:
    """Stop the page with a pointer unless an ad account or a TikTok account is chosen."""
    if ctx.advertiser_id is not None or ctx.business_id is not None:
        return
    if not known_advertisers(ctx.db, ctx.credentials) and not known_business_accounts(
            ctx.db, ctx.credentials):
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
        if not known_advertisers(ctx.db, ctx.credentials):
            st.info("No TikTok ad account is connected yet. Connect one on the Home page first.")
            st.page_link(HOME, label="Go to Home", icon="🔗")
        else:
            st.info("Choose the ad account to work on, on the Advertisers page.")
            st.page_link(ADVERTISERS_PAGE, label="Go to Advertisers", icon="👉")
        st.stop()
    return ctx.advertiser_id


def show_error(exc: BaseException) -> None:
    """The error as a human message with the next step; never a traceback."""
    st.error(md_escape(error_message(exc)), icon="⚠️")


def error_message(exc: BaseException) -> str:
    """What happened and what to do next."""
    if isinstance(exc, SyncAborted):
        return error_message(exc.error)
    if isinstance(exc, OrganicSyncAborted):
        return actions.human_message(exc.error, source="organic")
    if isinstance(exc, AccountNeedsReconnect | TokenUnavailable):
        return str(exc)  # names the account, what happened and what to do
    if isinstance(exc, AccountNotConnected):
        return actions.human_message(exc, source="organic")
    if isinstance(exc, AuthCodeError):
        return (
            "TikTok did not accept the authorization (the code expired, was already used, or "
            "the app's ID and secret do not match); click Connect to start again."
        )
    if isinstance(exc, TikTokError | ActionRefused):
        return actions.human_message(exc)
    if isinstance(exc, StoreLocked):
        return f"{exc} Comment Desk cannot open its database while another process uses it."
    if isinstance(exc, StoreError | CredentialsError | StateError | NotConnected | SyncBusy
                  | ConnectionDenied):
        return str(exc)  # these are written as what happened and what to do
    return actions.human_message(exc) if isinstance(exc, Exception) else str(exc)


def refresh() -> None:
    """Forget every cached query result: call after a sync or a write."""
    st.cache_data.clear()


def actor() -> str:
    """Who is asking for a write, for the audit log."""
    try:
        email = st.user.to_dict().get("email")
    except Exception:
        email = None
    if email:
        return str(email)
    return f"session {st.session_state.get('session_nonce', 'unknown')[:8]}"


# ---------------------------------------------------------------------------------------------
# Cached queries (st.cache_data: results, keyed by the database path and the arguments)


@contextlib.contextmanager
def _cursor(path: str) -> Iterator[db.Cursor]:
    cur = _store(path).cursor()
    try:
        yield cur
    finally:
        cur.close()


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _advertisers(path: str) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.list_advertisers(cur)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _last_sync(path: str, advertiser_id: str) -> db.SyncRun | None:
    with _cursor(path) as cur:
        return db.last_sync_run(cur, advertiser_id)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _ads_with_counts(path: str, advertiser_id: str) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.ads_with_counts(cur, advertiser_id)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _comments_count(path: str, filters: CommentFilters) -> int:
    with _cursor(path) as cur:
        return db.comments_count(cur, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _comments_page(
    path: str, filters: CommentFilters, limit: int, offset: int, order: str
) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.comments_page(cur, filters, limit, offset, order)  # type: ignore[arg-type]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _replies_for(path: str, comment_ids: tuple[str, ...]) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.replies_for(cur, list(comment_ids))


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _actions_for(path: str, comment_ids: tuple[str, ...]) -> pd.DataFrame:
    with _cursor(path) as cur:
        return actions.actions_for_comments(cur, list(comment_ids))


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _volume_by_ad(path: str, filters: CommentFilters, top_n: int) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.comment_volume_by_ad(cur, filters, top_n)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _volume_over_time(
    path: str, filters: CommentFilters, grain: str, ad_ids: tuple[str, ...] | None,
    by_source: bool,
) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.comment_volume_over_time(cur, filters, grain, ad_ids,  # type: ignore[arg-type]
                                           by_source=by_source)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _engagement(path: str, filters: CommentFilters) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.ad_engagement(cur, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _business_accounts(path: str) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.list_business_accounts(cur)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _videos_with_counts(path: str, business_id: str) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.videos_with_counts(cur, business_id)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _volume_by_video(path: str, business_id: str, filters: CommentFilters | None
                     ) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.comment_volume_by_video(cur, business_id, filters)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def _conversation(path: str, video_id: str, limit: int) -> pd.DataFrame:
    with _cursor(path) as cur:
        return db.conversation_for_video(cur, video_id, limit)


def advertisers(ctx: PageContext) -> pd.DataFrame:
    return _advertisers(ctx.db)


def business_accounts(ctx: PageContext) -> pd.DataFrame:
    return _business_accounts(ctx.db)


def videos_with_counts(ctx: PageContext, business_id: str) -> pd.DataFrame:
    return _videos_with_counts(ctx.db, business_id)


def comment_volume_by_video(ctx: PageContext, business_id: str,
                            filters: CommentFilters | None = None) -> pd.DataFrame:
    return _volume_by_video(ctx.db, business_id, filters)


def conversation_for_video(ctx: PageContext, video_id: str, limit: int = 500) -> pd.DataFrame:
    """A video's organic comments and the comments on the Spark Ads promoting it, oldest
    first."""
    return _conversation(ctx.db, video_id, limit)


def last_sync(ctx: PageContext, advertiser_id: str) -> db.SyncRun | None:
    return _last_sync(ctx.db, advertiser_id)


def ads_with_counts(ctx: PageContext, advertiser_id: str) -> pd.DataFrame:
    return _ads_with_counts(ctx.db, advertiser_id)


def comments_count(ctx: PageContext, filters: CommentFilters) -> int:
    return _comments_count(ctx.db, filters)


def comments_page(
    ctx: PageContext, filters: CommentFilters, limit: int, offset: int, order: str = "newest"
) -> pd.DataFrame:
    """A page of comments; organic ones carry their video's caption in `video_caption`."""
    frame = _comments_page(ctx.db, filters, limit, offset, order)
    if filters.business_id and len(frame):
        videos = videos_with_counts(ctx, filters.business_id)
        captions = dict(zip(videos["video_id"].astype(str), videos["caption"], strict=True))
        frame = frame.assign(video_caption=[captions.get(text(v)) for v in frame["video_id"]])
    return frame


def replies_for(ctx: PageContext, comment_ids: Sequence[str]) -> pd.DataFrame:
    return _replies_for(ctx.db, tuple(comment_ids))


def actions_for_comments(ctx: PageContext, comment_ids: Sequence[str]) -> pd.DataFrame:
    return _actions_for(ctx.db, tuple(comment_ids))


def comment_volume_by_ad(
    ctx: PageContext, filters: CommentFilters, top_n: int = 10
) -> pd.DataFrame:
    return _volume_by_ad(ctx.db, filters, top_n)


def comment_volume_over_time(
    ctx: PageContext, filters: CommentFilters, grain: str, ad_ids: Sequence[str] | None = None,
    *, by_source: bool = False,
) -> pd.DataFrame:
    return _volume_over_time(ctx.db, filters, grain, None if ad_ids is None else tuple(ad_ids),
                             by_source)


def ad_engagement(ctx: PageContext, filters: CommentFilters) -> pd.DataFrame:
    return _engagement(ctx.db, filters)


def known_advertisers(path: str, credentials: CredentialStore) -> dict[str, str]:
    """Every ad account this app knows: stored ones and ones a connection grants, id -> name."""
    names = {
        str(row.advertiser_id): text(row.name)
        for row in _advertisers(path).itertuples(index=False)
    }
    for conn in credentials.connections():
        for advertiser_id in conn.advertiser_ids:
            names.setdefault(advertiser_id, "")
    return names


def known_business_accounts(path: str, credentials: CredentialStore) -> dict[str, str]:
    """Every TikTok business account this app knows (stored or connected), id -> name."""
    names = {}
    for row in _business_accounts(path).itertuples(index=False):
        username = text(row.username)
        names[str(row.business_id)] = text(row.display_name) or (
            f"@{username}" if username else "")
    for conn in credentials.account_connections():
        names.setdefault(conn.business_id, "")
    return names


def account_label(ctx: PageContext, business_id: str) -> str:
    """'Display name (@username)' of a business account, or its ID when nothing is stored."""
    frame = business_accounts(ctx)
    match = frame.loc[frame["business_id"] == business_id]
    if not len(match):
        return f"TikTok account {business_id}"
    row = match.iloc[0]
    name, username = text(row["display_name"]), text(row["username"])
    if name and username:
        return f"{name} (@{username})"
    return name or (f"@{username}" if username else f"TikTok account {business_id}")


def video_label(caption: Any, video_id: Any, width: int = 48) -> str:
    """A video's caption, shortened, with its ID: for pickers and charts."""
    words = " ".join(text(caption).split())
    if len(words) > width:
        words = words[: width - 1].rstrip() + "…"
    return f"{words or 'Untitled video'} · {video_id}"


def filters_timezone(ctx: PageContext) -> str:
    """The time zone days are counted in: the ad account's, or UTC for a TikTok account
    alone."""
    return advertiser_timezone(ctx, ctx.advertiser_id) if ctx.advertiser_id else "UTC"


def advertiser_timezone(ctx: PageContext, advertiser_id: str) -> str:
    """The ad account's IANA timezone (UTC when unknown)."""
    frame = advertisers(ctx)
    match = frame.loc[frame["advertiser_id"] == advertiser_id, "timezone"]
    name = text(match.iloc[0]) if len(match) else ""
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return "UTC"
    return name or "UTC"


def advertiser_overview(ctx: PageContext) -> pd.DataFrame:
    """One row per known ad account: details, connection state and the last sync."""
    stored = advertisers(ctx).set_index("advertiser_id")
    connections = ctx.credentials.connections()
    rows = []
    for advertiser_id, name in known_advertisers(ctx.db, ctx.credentials).items():
        granting = [c for c in connections if advertiser_id in c.advertiser_ids]
        if any(not c.needs_reauth for c in granting):
            connection = "connected"
        elif granting:
            connection = "needs reconnect"
        else:
            connection = "not connected"
        info = stored.loc[advertiser_id] if advertiser_id in stored.index else None
        run = last_sync(ctx, advertiser_id)
        rows.append({
            "name": name or "(name not known yet)",
            "advertiser_id": advertiser_id,
            "role": text(info["role"]) if info is not None else "",
            "timezone": text(info["timezone"]) if info is not None else "",
            "currency": text(info["currency"]) if info is not None else "",
            "connection": connection,
            "last_sync": None if run is None else (run.finished_at or run.started_at),
            "last_result": "" if run is None else f"{run.status}: {text(run.message)}",
        })
    frame = pd.DataFrame(rows, columns=[
        "name", "advertiser_id", "role", "timezone", "currency", "connection", "last_sync",
        "last_result",
    ])
    return frame.sort_values(["name", "advertiser_id"], ignore_index=True)


def sync_summary(run: db.SyncRun | None) -> str:
    """One line on an ad account's last sync."""
    if run is None:
        return "Never synced."
    when = ago(run.finished_at or run.started_at)
    if run.status == "running":
        return f"A sync started {when} and is still running."
    return f"Last sync {when}: {run.status}. {text(run.message)} ({run.requests:,} requests)"


# ---------------------------------------------------------------------------------------------
# Connecting an account (the OAuth callback)


@dataclass(frozen=True)
class Connected:
    """What a finished connection granted."""

    advertisers: tuple[tuple[str, str], ...]  # (advertiser_id, name)
    warning: str | None = None

    def summary(self) -> str:
        names = ", ".join(f"{name or 'unnamed'} ({a})" for a, name in self.advertisers)
        return f"Connected {len(self.advertisers)} ad account(s): {names}."


def connect_url(ctx: PageContext) -> str:
    """TikTok's consent page for this app, with a fresh signed state."""
    secret = oauth_state.secret_key_for(ctx.settings.secret_key, ctx.settings.credentials_path)
    return authorization_url(
        ctx.app_id, oauth_state.new_state(secret), ctx.redirect_uri, auth_base=ctx.auth_url
    )


def is_oauth_callback(params: Mapping[str, str]) -> bool:
    return any(name in params for name in ("auth_code", "code", "state", "error"))


def finish_oauth(
    ctx: PageContext, params: Mapping[str, str], *, now: float | None = None
) -> Connected:
    """Check the state, trade the code for a token, store it and the ad accounts it grants.

    Raises ConnectionDenied, a StateError or a TikTokError; then nothing is stored.
    """
    if params.get("error"):
        if params["error"] == "access_denied":
            raise ConnectionDenied(
                "Access was not granted on TikTok (the consent screen was cancelled), so "
                "nothing was connected. Click Connect to try again."
            )
        raise ConnectionDenied(
            f"TikTok ended the connection with an error ({params['error'][:80]}), so nothing "
            "was connected. Click Connect to try again."
        )
    secret = oauth_state.secret_key_for(ctx.settings.secret_key, ctx.settings.credentials_path)
    oauth_state.check_state(
        secret, params.get("state"),
        oauth_state.nonce_file_for(ctx.settings.credentials_path), now=now,
    )
    code = params.get("auth_code") or params.get("code") or ""
    with TikTokClient(base_url=ctx.api_base_url, rate_limiter=ctx.rate_limiter) as client:
        grant = exchange_auth_code(client, ctx.app_id, ctx.app_secret, code)
    ids = [str(a) for a in grant.advertiser_ids]
    if not ids:
        raise ConnectionDenied(
            "TikTok granted access to no ad account, so nothing was connected. Click Connect "
            "and choose at least one ad account."
        )
    warning = None
    infos = []
    with TikTokClient(
        grant.access_token, base_url=ctx.api_base_url, rate_limiter=ctx.rate_limiter
    ) as client:
        try:
            for start in range(0, len(ids), 100):
                infos += client.get_advertiser_info(ids[start:start + 100])
        except TikTokError as exc:
            warning = ("The ad accounts' names could not be read yet "
                       f"({error_message(exc)}); the first sync fills them in.")
    ctx.credentials.add(grant.access_token, ids, list(grant.scope))
    records = {str(i.advertiser_id): i.to_record() for i in infos if i.advertiser_id}
    rows = [records.get(a, {"advertiser_id": a}) for a in ids]
    if rows:
        with _cursor(ctx.db) as cur:
            db.upsert_advertisers(cur, pd.DataFrame.from_records(rows))
    refresh()
    return Connected(
        tuple((a, text(records.get(a, {}).get("name"))) for a in ids), warning
    )


# ---------------------------------------------------------------------------------------------
# TikTok business accounts (organic videos): connecting, tokens and syncing


def is_account_callback(ctx: PageContext, params: Mapping[str, str]) -> bool:
    """Whether a callback finishes a TikTok business account connection: its signed state
    says (an unreadable state goes to the ad account flow, which refuses it with the
    reason)."""
    secret = oauth_state.secret_key_for(ctx.settings.secret_key, ctx.settings.credentials_path)
    return oauth_state.state_purpose(secret, params.get("state")) == oauth_state.ACCOUNT


def account_connect_url(ctx: PageContext) -> str | None:
    """TikTok's account-holder consent page with a fresh signed state, or None when this
    installation has no account-holder authorization URL."""
    if not ctx.account_auth_url or not ctx.account_redirect_uri:
        return None
    secret = oauth_state.secret_key_for(ctx.settings.secret_key, ctx.settings.credentials_path)
    state = oauth_state.new_state(secret, purpose=oauth_state.ACCOUNT)
    return account_authorization_url(ctx.account_auth_url, state, ctx.account_redirect_uri)


@dataclass(frozen=True)
class AccountConnected:
    """What a finished business-account connection granted."""

    business_id: str
    name: str
    warning: str | None = None

    def summary(self) -> str:
        return f"Connected the TikTok account {self.name or 'unnamed'} ({self.business_id})."


def finish_account_oauth(
    ctx: PageContext, params: Mapping[str, str], *, now: float | None = None
) -> AccountConnected:
    """Check the state, trade the code for the account's tokens, store them and its profile.

    Raises ConnectionDenied, a StateError or a TikTokError; then nothing is stored.
    """
    redirect = parse_account_redirect(params)
    if redirect.error:
        reason = ("the consent screen was cancelled" if redirect.error == "access_denied"
                  else f"TikTok ended it with an error: {redirect.error[:80]}")
        raise ConnectionDenied(f"The TikTok account was not connected ({reason}). Click "
                               "Connect a TikTok account to try again.")
    secret = oauth_state.secret_key_for(ctx.settings.secret_key, ctx.settings.credentials_path)
    oauth_state.check_state(
        secret, redirect.state, oauth_state.nonce_file_for(ctx.settings.credentials_path),
        now=now, purpose=oauth_state.ACCOUNT,
    )
    with TikTokClient(base_url=ctx.api_base_url, rate_limiter=ctx.rate_limiter) as client:
        token = exchange_account_code(client, ctx.app_id, ctx.app_secret, redirect.code or "",
                                      ctx.account_redirect_uri)
        if not token.open_id:
            raise ConnectionDenied("TikTok's answer named no TikTok account, so nothing was "
                                   "connected. Click Connect a TikTok account to try again.")
        TokenKeeper(ctx.credentials, client, ctx.app_id, ctx.app_secret).connect(token)
    name, warning = "", None
    with TikTokClient(token.access_token, base_url=ctx.api_base_url,
                      rate_limiter=ctx.rate_limiter) as client:
        try:
            profile = BusinessAccountClient(client, token.open_id).get_profile().to_record()
        except TikTokError as exc:
            warning = (f"The account's profile could not be read yet ({error_message(exc)}); "
                       "the first sync fills it in.")
        else:
            row = {k: v for k, v in profile.items() if not isinstance(v, list)}
            with _cursor(ctx.db) as cur:
                db.upsert_business_accounts(cur, pd.DataFrame.from_records([row]))
            name = text(profile.get("display_name")) or text(profile.get("username"))
    refresh()
    return AccountConnected(token.open_id, name, warning)


@contextlib.contextmanager
def account_keeper(ctx: PageContext) -> Iterator[TokenKeeper]:
    """The keeper of the business accounts' tokens, with a client for its refresh calls."""
    with TikTokClient(base_url=ctx.api_base_url, rate_limiter=ctx.rate_limiter) as client:
        yield TokenKeeper(ctx.credentials, client, ctx.app_id, ctx.app_secret)


@contextlib.contextmanager
def account_client(ctx: PageContext, business_id: str) -> Iterator[BusinessAccountClient]:
    """A client acting as the business account, with a token good for a while (renewed
    first when it is about to expire; never shown)."""
    with account_keeper(ctx) as keeper:
        token = keeper.access_token(business_id)
    with TikTokClient(token, base_url=ctx.api_base_url, rate_limiter=ctx.rate_limiter) as client:
        yield BusinessAccountClient(client, business_id)


def account_statuses(ctx: PageContext) -> list[tuple[AccountConnection, TokenStatus]]:
    """Every connected business account with how its connection stands."""
    with account_keeper(ctx) as keeper:
        return [(conn, keeper.status(conn.business_id))
                for conn in ctx.credentials.account_connections()]


def disconnect_account(ctx: PageContext, business_id: str) -> str | None:
    """Revoke the app's access on TikTok and forget the account's tokens (its stored comments
    stay). Returns a note when TikTok could not be told."""
    conn = ctx.credentials.account_connection(business_id)
    note = None
    if conn is not None and conn.access_token and not conn.needs_reconnect:
        with TikTokClient(base_url=ctx.api_base_url, rate_limiter=ctx.rate_limiter) as client:
            try:
                revoke_account_token(client, ctx.app_id, ctx.app_secret, conn.access_token)
            except TikTokError as exc:
                note = (f"TikTok could not be told to end the app's access ({error_message(exc)}); "
                        "Comment Desk has forgotten the tokens anyway. To be sure, remove the "
                        "app under Security in the TikTok account's settings.")
    ctx.credentials.remove_account(business_id)
    if st.session_state.get("business_id") == business_id:
        choose_account(None)
    refresh()
    return note


class PeriodicJob:
    """Runs `job()` every `every` seconds in one daemon thread until stopped. Held by
    st.cache_resource; its only state is the thread and the stop event."""

    def __init__(self, job: Callable[[], Any], every: float, name: str) -> None:
        self._job = job
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._job()
            except Exception as exc:  # the next round tries again; each use renews on demand
                _log.warning("%s failed: %s", self._thread.name, type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


def refresh_due_tokens(settings: Settings, base_url: str, app_id: str, secret: str,
                       limiter: RateLimiter) -> dict[str, str]:
    """Renew every business-account token that expires soon (one round of the schedule)."""
    credentials = CredentialStore(settings.credentials_path, settings.secret_key)
    if not credentials.account_connections():
        return {}
    with TikTokClient(base_url=base_url, rate_limiter=limiter) as client:
        return TokenKeeper(credentials, client, app_id, secret).refresh_due()


@st.cache_resource(show_spinner=False, on_release=lambda job: job.stop())
def _token_refresher(settings: Settings, base_url: str, app_id: str, secret: str) -> PeriodicJob:
    limiter = _rate_limiter(settings.rate_limit_qps, settings.rate_limit_qpm)
    return PeriodicJob(
        lambda: refresh_due_tokens(settings, base_url, app_id, secret, limiter),
        TOKEN_REFRESH_SECONDS, "desk-token-refresh",
    )


def token_refresher(ctx: PageContext) -> PeriodicJob:
    """The schedule that renews business-account tokens before they expire, while the app
    runs (each use renews on demand too)."""
    return _token_refresher(ctx.settings, ctx.api_base_url, ctx.app_id, ctx.app_secret)


def sync_account_now(ctx: PageContext, business_id: str,
                     progress: Callable[[OrganicSyncProgress], None] | None = None
                     ) -> OrganicSyncResult:
    """Sync a business account's videos and organic comments in this script run (SyncBusy if
    it is already syncing)."""
    with auto_sync(ctx).syncing(f"account:{business_id}"):
        try:
            with TikTokClient(base_url=ctx.api_base_url,
                              rate_limiter=ctx.rate_limiter) as client:
                keeper = TokenKeeper(ctx.credentials, client, ctx.app_id, ctx.app_secret)
                return run_organic_sync(ctx.store, keeper, client, business_id,
                                        progress=progress)
        finally:
            refresh()


def sync_account_with_progress(ctx: PageContext, business_id: str, label: str
                               ) -> OrganicSyncResult | None:
    """Sync a business account now, with a live status box, ending with the result line."""
    return _sync_with_status(
        label, "Reading the account's videos…",
        lambda report: sync_account_now(ctx, business_id, progress=report),
        _organic_line, organic_result_line,
    )


def organic_result_line(result: OrganicSyncResult) -> str:
    """The one line a finished business-account sync ends with."""
    skipped = (f"; {result.videos_skipped} unchanged videos skipped" if result.videos_skipped
               else "")
    return f"{result.message} {result.requests:,} requests in {result.seconds:.1f} s{skipped}."


def _organic_line(progress: OrganicSyncProgress) -> str:
    if progress.phase in ("profile", "videos"):
        return "Reading the account's videos…"
    return (f"Videos {progress.videos_done:,} of {progress.videos_total:,} · "
            f"{progress.rows:,} comments stored · {progress.requests:,} requests")


# ---------------------------------------------------------------------------------------------
# Talking to TikTok


def client_for(ctx: PageContext, advertiser_id: str) -> TikTokClient:
    """A client with the token of the connection that grants the ad account (never shown)."""
    conn = ctx.credentials.connection_for(advertiser_id)
    if conn is None:
        raise NotConnected(
            "No working connection grants this ad account. Reconnect it on the Home page."
        )
    return TikTokClient(conn.access_token, base_url=ctx.api_base_url,
                        rate_limiter=ctx.rate_limiter)


def _next_generation() -> None:
    st.session_state["write_generation"] = st.session_state.get("write_generation", 0) + 1


def status_request_key(kind: str, comment_ids: Sequence[str]) -> str:
    """The request key of a hide/unhide: the same until a write of this session completes,
    so a double click (or an interrupted run done again) finds the first request."""
    digest = hashlib.sha256(",".join(sorted(comment_ids)).encode()).hexdigest()[:16]
    nonce = st.session_state.get("session_nonce", "")
    return f"{nonce}:{kind}:{digest}:{st.session_state.get('write_generation', 0)}"


def owner_of(row: Mapping[str, Any]) -> tuple[str, str]:
    """("organic", business_id) or ("ad", advertiser_id): who acts on a comment or an
    outbox row."""
    if text(row.get("source")) == "organic":
        return "organic", text(row.get("business_id"))
    return "ad", text(row.get("advertiser_id"))


@contextlib.contextmanager
def _acting_client(ctx: PageContext, owner: tuple[str, str]
                   ) -> Iterator[TikTokClient | BusinessAccountClient]:
    """The client that acts for an ad account (its connection's token) or for a business
    account (its renewed token)."""
    source, account = owner
    if source == "organic":
        with account_client(ctx, account) as client:
            yield client
    else:
        with client_for(ctx, account) as client:
            yield client


def send_reply(ctx: PageContext, row: Mapping[str, Any], body: str,
               request_key: str) -> ActionResult:
    """Reply to a stored comment (ad or organic) through the outbox, exactly once per
    request_key."""
    with _acting_client(ctx, owner_of(row)) as client, _cursor(ctx.db) as cur:
        try:
            return actions.reply_to_comment(cur, client, row, text=body, actor=actor(),
                                            request_key=request_key)
        finally:
            refresh()


def set_hidden(ctx: PageContext, rows: Sequence[Mapping[str, Any]],
               hidden: bool) -> list[ActionResult]:
    """Hide or unhide stored comments through the outbox: one batch per account they belong
    to (ad comments through their ad account, organic ones through their TikTok account)."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(owner_of(row), []).append(row)
    results: list[ActionResult] = []
    for owner, members in groups.items():
        ids = [text(r["comment_id"]) for r in members]
        key = status_request_key("hide" if hidden else "unhide", ids)
        with _acting_client(ctx, owner) as client, _cursor(ctx.db) as cur:
            try:
                results += actions.set_hidden_rows(cur, client, members, hidden=hidden,
                                                   actor=actor(), request_key=key)
            finally:
                refresh()
    _next_generation()
    return results


def retry_action(ctx: PageContext, action: Mapping[str, Any]) -> ActionResult:
    """Check with TikTok and send a failed or unknown write again only if it is not there."""
    with _acting_client(ctx, owner_of(action)) as client, _cursor(ctx.db) as cur:
        try:
            return actions.retry(cur, client, int(action["action_id"]), actor=actor())
        finally:
            refresh()


def flash_results(results: Sequence[ActionResult]) -> None:
    """Queue a one-line summary of writes for the next run."""
    if not results:
        return
    if len(results) == 1:
        result = results[0]
        extra = (f" TikTok's ID for the reply: {result.result_comment_id}."
                 if result.kind == "reply" and result.result_comment_id else "")
        flash(_STATUS_ICONS.get(result.status, "ℹ️"), result.message + extra)
        return
    done = sum(r.status == "sent" for r in results)
    verb = "hidden" if results[0].kind == "hide" else "made visible"
    line = f"{done} of {len(results)} comments {verb} on TikTok."
    problems = [r for r in results if r.status != "sent"]
    if problems:
        line += f" {problems[0].message}"
    flash("✅" if not problems else "⚠️", line)


_STATUS_ICONS = MappingProxyType({"sent": "✅", "pending": "⏳", "unknown": "⏳", "failed": "⚠️"})


# ---------------------------------------------------------------------------------------------
# Syncing, now and on a schedule


@dataclass(frozen=True)
class AutoSyncPlan:
    """One ad account's automatic sync."""

    advertiser_id: str
    minutes: int
    next_run: datetime
    last_run: datetime | None = None
    last_message: str | None = None
    running: bool = False


class AutoSync:
    """Syncs chosen ad accounts every N minutes in one daemon thread while the app runs.

    Held by st.cache_resource and shared by every session: use only its methods, which are
    thread-safe. `syncing()` is also what "Sync now" holds, so an ad account is never synced
    twice at once.
    """

    def __init__(self, job: Callable[[str, threading.Event], SyncResult], *,
                 on_synced: Callable[[], None] | None = None, tick: float = 5.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._job = job
        self._on_synced = on_synced
        self._tick = tick
        self._clock = clock
        self._lock = threading.Lock()
        self._plans: dict[str, AutoSyncPlan] = {}
        self._busy: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enable(self, advertiser_id: str, minutes: int) -> None:
        minutes = max(1, int(minutes))
        with self._lock:
            old = self._plans.get(advertiser_id)
            next_run = self._clock() + timedelta(minutes=minutes)
            self._plans[advertiser_id] = (
                replace(old, minutes=minutes, next_run=next_run) if old
                else AutoSyncPlan(advertiser_id, minutes, next_run)
            )
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, name="desk-auto-sync",
                                                daemon=True)
                self._thread.start()

    def disable(self, advertiser_id: str) -> None:
        with self._lock:
            self._plans.pop(advertiser_id, None)

    def status(self, advertiser_id: str) -> AutoSyncPlan | None:
        with self._lock:
            plan = self._plans.get(advertiser_id)
            if plan is None:
                return None
            return replace(plan, running=advertiser_id in self._busy)

    @contextlib.contextmanager
    def syncing(self, advertiser_id: str) -> Iterator[None]:
        """Hold the ad account's sync slot; SyncBusy if a sync of it is running."""
        with self._lock:
            if advertiser_id in self._busy:
                raise SyncBusy()
            self._busy.add(advertiser_id)
        try:
            yield
        finally:
            with self._lock:
                self._busy.discard(advertiser_id)

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def run_due(self) -> list[str]:
        """Sync every ad account whose time has come; returns those synced."""
        now = self._clock()
        with self._lock:
            due = [a for a, p in self._plans.items() if p.next_run <= now and a not in self._busy]
        done = []
        for advertiser_id in due:
            if self._stop.is_set():
                break
            try:
                with self.syncing(advertiser_id):
                    result = self._job(advertiser_id, self._stop)
                message = f"{result.status}: {result.message}"
            except SyncBusy:
                continue
            except Exception as exc:  # reported in the plan; the schedule carries on
                message = f"failed: {error_message(exc)}"
            finished = self._clock()
            with self._lock:
                plan = self._plans.get(advertiser_id)
                if plan is not None:
                    self._plans[advertiser_id] = replace(
                        plan, last_run=finished, last_message=message,
                        next_run=finished + timedelta(minutes=plan.minutes))
            done.append(advertiser_id)
            if self._on_synced is not None:
                with contextlib.suppress(Exception):
                    self._on_synced()
        return done

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            self.run_due()


@st.cache_resource(show_spinner=False, on_release=lambda scheduler: scheduler.stop())
def _auto_sync(settings: Settings, base_url: str) -> AutoSync:
    store = _store(str(settings.db_path))
    limiter = _rate_limiter(settings.rate_limit_qps, settings.rate_limit_qpm)

    def job(advertiser_id: str, stop: threading.Event) -> SyncResult:
        credentials = CredentialStore(settings.credentials_path, settings.secret_key)
        return run_sync(settings, store, credentials, advertiser_id, rate_limiter=limiter,
                        base_url=base_url, stop=stop)

    return AutoSync(job, on_synced=st.cache_data.clear)


def auto_sync(ctx: PageContext) -> AutoSync:
    """The app's automatic-sync scheduler (no thread runs until one is enabled)."""
    return _auto_sync(ctx.settings, ctx.api_base_url)


def sync_now(ctx: PageContext, advertiser_id: str,
             progress: Callable[[SyncProgress], None] | None = None) -> SyncResult:
    """Sync one ad account in this script run (SyncBusy if it is already syncing)."""
    with auto_sync(ctx).syncing(advertiser_id):
        try:
            return run_sync(ctx.settings, ctx.store, ctx.credentials, advertiser_id,
                            rate_limiter=ctx.rate_limiter, base_url=ctx.api_base_url,
                            progress=progress)
        finally:
            refresh()


def result_line(result: SyncResult) -> str:
    """The one line a finished sync ends with."""
    line = (f"{result.message} {result.requests:,} requests in {result.seconds:.1f} s"
            + (f", {result.throttled} throttled" if result.throttled else "") + ".")
    return line


def sync_with_progress(ctx: PageContext, advertiser_id: str, label: str) -> SyncResult | None:
    """Sync now, with a live status box and progress bar, ending with the result line."""
    return _sync_with_status(
        label, "Reading the ad account's ads…",
        lambda report: sync_now(ctx, advertiser_id, progress=report),
        SyncProgress.line, result_line,
    )


def _sync_with_status(label: str, waiting: str, sync: Callable[[Callable[[Any], None]], Any],
                      describe: Callable[[Any], str], summary: Callable[[Any], str]) -> Any:
    """Run `sync(report)` in a live status box with a progress bar (`describe` words each
    progress), then show `summary(result)`; a user error is shown instead of a traceback and
    gives None."""
    with st.status(f"Syncing {md_escape(label)}…", expanded=True) as box:
        bar = st.progress(0.0, text=waiting)

        def report(progress: Any) -> None:
            bar.progress(progress.fraction, text=md_escape(describe(progress)))

        try:
            result = sync(report)
        except USER_ERRORS as exc:
            box.update(label="Sync stopped", state="error", expanded=True)
            show_error(exc)
            return None
        ok = result.status == "ok"
        box.update(label="Sync finished" if ok else f"Sync {result.status}",
                   state="complete" if ok else "error", expanded=not ok)
    (st.success if ok else st.warning)(md_escape(summary(result)))
    return result


# ---------------------------------------------------------------------------------------------
# The comment filter widget (shared by Comments, Insights and Export; keys per page)


def ad_choices(ctx: PageContext, advertiser_id: str) -> dict[str, str]:
    """ad_id -> a readable, unique label, for every ad that has comments, most first.

    Read from the per-ad comment volume, which is much cheaper than ads_with_counts at a
    million comments (the store has no plain list of an account's ads).
    """
    frame = comment_volume_by_ad(ctx, CommentFilters(advertiser_id), top_n=10_000_000)
    return {
        str(row.ad_id): f"{text(row.ad_name) or 'Unnamed ad'} · {row.ad_id}"
        for row in frame.itertuples(index=False) if text(row.ad_id)
    }


def period_range(period: str, dates: Any, today: date) -> tuple[date | None, date | None]:
    """The first and last day of a period choice (None: open)."""
    if period == "Last 7 days":
        return today - timedelta(days=6), today
    if period == "Last 30 days":
        return today - timedelta(days=29), today
    if period == "Last 90 days":
        return today - timedelta(days=89), today
    if period == "Custom range" and dates:
        picked = list(dates) if isinstance(dates, list | tuple) else [dates]
        picked = [d for d in picked if d is not None]
        if picked:
            return min(picked), max(picked)
    return None, None


def _reset_filters(page: str) -> None:
    for name, default in FILTER_DEFAULTS.items():
        st.session_state[f"{page}_{name}"] = default
    st.session_state.pop(f"{page}_dates", None)
    st.session_state["filters_shared"] = None


def video_choices(ctx: PageContext, business_id: str) -> dict[str, str]:
    """video_id -> a readable, unique label, for every stored video of the account."""
    frame = videos_with_counts(ctx, business_id)
    return {str(row.video_id): video_label(row.caption, row.video_id)
            for row in frame.itertuples(index=False) if text(row.video_id)}


def comment_filters(ctx: PageContext, page: str) -> CommentFilters:
    """The filter widgets in the sidebar; their values follow the user from page to page.

    They cover the chosen ad account's comments and the chosen TikTok account's organic
    ones; with both chosen, a Source choice narrows to either.
    """
    require_scope(ctx)
    advertiser_id, business_id = ctx.advertiser_id, ctx.business_id
    state = st.session_state
    labels = ad_choices(ctx, advertiser_id) if advertiser_id else {}
    video_labels = video_choices(ctx, business_id) if business_id else {}
    tz = filters_timezone(ctx)
    today = datetime.now(ZoneInfo(tz)).date()
    scope = [advertiser_id, business_id]
    shared = state.get("filters_shared") or {}
    if shared.get("scope") != scope:
        shared = {}
    for name, default in FILTER_DEFAULTS.items():
        state.setdefault(f"{page}_{name}", shared.get(name, default))
    if f"{page}_dates" not in state and shared.get("dates"):
        state[f"{page}_dates"] = shared["dates"]
    focus = state.pop("focus_ad", None)
    if focus is None and not state["ad_url_read"]:
        state["ad_url_read"] = True
        focus = st.query_params.get("ad")
    if focus in labels:
        state[f"{page}_ads"] = [focus]
    focus_video = state.pop("focus_video", None)
    if focus_video in video_labels:
        state[f"{page}_videos"] = [focus_video]
        state[f"{page}_source"] = "All"
    state[f"{page}_ads"] = [a for a in state[f"{page}_ads"] if a in labels]
    state[f"{page}_videos"] = [v for v in state[f"{page}_videos"] if v in video_labels]
    if state[f"{page}_source"] not in SOURCES:
        state[f"{page}_source"] = "All"

    with st.sidebar:
        st.subheader("Filters")
        source_name = "All"
        if advertiser_id and business_id:
            source_name = st.selectbox("Source", list(SOURCES), key=f"{page}_source",
                                       help="Comments on ads, on the TikTok account's own "
                                            "videos (organic), or both.")
        source = SOURCES[source_name] if advertiser_id and business_id else (
            "organic" if business_id else None)
        ad_ids: list[str] = []
        if advertiser_id and source != "organic":
            ad_ids = st.multiselect("Ads", list(labels), format_func=labels.get,
                                    key=f"{page}_ads", placeholder="All ads")
        video_ids: list[str] = []
        if business_id and source != "ad":
            video_ids = st.multiselect(
                "Videos", list(video_labels), format_func=video_labels.get,
                key=f"{page}_videos", placeholder="All videos",
                help="A video's organic comments and the comments on Spark Ads promoting it.")
        period = st.selectbox("Period", PERIODS, key=f"{page}_period")
        dates = None
        if period == "Custom range":
            state.setdefault(f"{page}_dates", (today - timedelta(days=29), today))
            dates = st.date_input("From – to", key=f"{page}_dates", format="YYYY-MM-DD")
        status = st.selectbox("Status", list(STATUSES), key=f"{page}_status")
        kind = st.selectbox("Type", list(TYPES), key=f"{page}_type")
        search = st.text_input("Text or user name contains", key=f"{page}_search")
        unanswered = st.toggle("Unanswered only", key=f"{page}_unanswered",
                               help="First-level comments the brand has not replied to.")
        where = "the ad account's time zone" if advertiser_id else "UTC"
        st.caption(f"Days are counted in {where} ({md_escape(tz)}).")
        st.button("Reset filters", key=f"{page}_reset", on_click=_reset_filters, args=(page,))

    state["filters_shared"] = {
        "scope": scope, "source": source_name, "ads": list(ad_ids), "videos": list(video_ids),
        "period": period, "dates": tuple(dates) if isinstance(dates, list | tuple) else dates,
        "status": status, "type": kind, "search": search, "unanswered": unanswered,
    }
    single = ad_ids[0] if len(ad_ids) == 1 else None
    if single and st.query_params.get("ad") != single:
        st.query_params["ad"] = single
    elif not single and "ad" in st.query_params:
        del st.query_params["ad"]
    date_from, date_to = period_range(period, dates, today)
    return CommentFilters(
        advertiser_id or "", ad_ids=tuple(ad_ids) or None, date_from=date_from,
        date_to=date_to, status=STATUSES[status], comment_type=TYPES[kind],  # type: ignore[arg-type]
        search=search.strip() or None, unanswered_only=bool(unanswered),
        source=source, business_id=business_id,  # type: ignore[arg-type]
        video_ids=tuple(video_ids) or None,
    )


def open_comments_for_video(business_id: str, video_id: str) -> None:
    """Show the Comments page filtered to one video (its organic and Spark Ads comments)."""
    st.session_state["focus_video"] = str(video_id)
    st.switch_page(COMMENTS_PAGE, query_params={"account": business_id})


def open_comments_for_ad(advertiser_id: str, ad_id: str) -> None:
    """Show the Comments page filtered to one ad."""
    st.session_state["focus_ad"] = str(ad_id)
    st.switch_page(COMMENTS_PAGE, query_params={"advertiser": advertiser_id, "ad": str(ad_id)})


def page_key(page: str, *parts: Any) -> str:
    """The key of a list's page widget: a new one (back at page 1) whenever the list's
    filters, order or size change."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
    return f"{page}_page_no_{digest}"


# ---------------------------------------------------------------------------------------------
# Showing a comment


def group_rows(frame: pd.DataFrame, column: str) -> dict[str, list[dict[str, Any]]]:
    """Records of `frame` grouped by one column, in frame order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in frame.to_dict("records"):
        groups.setdefault(text(record.get(column)), []).append(record)
    return groups


def comment_header(row: Mapping[str, Any], *, with_ad: bool = True) -> str:
    """The escaped caption line of a comment: who, when, likes, replies, status, ad."""
    parts = [f"**{md_escape(row.get('user_name') or 'unknown user')}**"]
    if row.get("is_brand") is True or (
        row.get("comment_type") == "REPLY" and row.get("can_delete") is True
    ):
        parts.append(":blue-badge[Brand]")
    parts.append(local_time(row.get("create_time_local")))
    parts.append(f"♥ {int(row.get('likes') or 0):,}")
    if row.get("comment_type") == "COMMENT":
        parts.append(f"💬 {int(row.get('replies') or 0):,}")
    else:
        parts.append(":gray-badge[Reply]")
    if row.get("comment_status") == "HIDDEN":
        parts.append(":orange-badge[Hidden]")
    if row.get("hit_blockedword") is True:
        parts.append(":red-badge[Blocked word]")
    if row.get("answered") is True:
        parts.append(":green-badge[Answered]")
    organic = text(row.get("source")) == "organic"
    if organic:
        parts.append(":violet-badge[Organic]")
    if with_ad and organic:
        caption = video_label(row.get("video_caption"), text(row.get("video_id")), width=60)
        parts.append(f"on {md_escape(caption)}")
    elif with_ad and text(row.get("ad_name")):
        parts.append(f"on {md_escape(row.get('ad_name'))}")
    return " · ".join(p for p in parts if p)


def comment_card(row: Mapping[str, Any], replies: Sequence[Mapping[str, Any]]) -> None:
    """A comment and its replies, with the text shown literally (st.text)."""
    st.caption(comment_header(row))
    body = text(row.get("content"))
    if body:
        st.text(body)
    else:
        st.caption("(no text)")
    if replies:
        _, thread = st.columns([1, 24])
        with thread:
            for reply in replies[:NESTED_REPLIES_SHOWN]:
                st.caption("↳ " + comment_header(reply, with_ad=False))
                st.text(text(reply.get("content")) or " ")
            if len(replies) > NESTED_REPLIES_SHOWN:
                st.caption(f"…and {len(replies) - NESTED_REPLIES_SHOWN} more replies.")


def _open_reply(page: str, comment_id: str) -> None:
    st.session_state[f"{page}_replying"] = comment_id
    st.session_state[f"{page}_reply_key_{comment_id}"] = uuid.uuid4().hex


def _close_reply(page: str, comment_id: str) -> None:
    st.session_state[f"{page}_replying"] = None
    st.session_state.pop(f"{page}_reply_key_{comment_id}", None)


def comment_actions(ctx: PageContext, page: str, row: Mapping[str, Any],
                    outbox: Sequence[Mapping[str, Any]]) -> None:
    """Reply, hide/unhide and the outbox state of one comment."""
    comment_id = text(row["comment_id"])
    reason = actions.can_reply(row)
    hidden = row.get("comment_status") == "HIDDEN"
    buttons = st.columns([1, 1, 6], vertical_alignment="center")
    if reason is None:
        buttons[0].button("Reply", key=f"{page}_reply_open_{comment_id}", icon="💬",
                          on_click=_open_reply, args=(page, comment_id))
    verb = "Unhide" if hidden else "Hide"
    if buttons[1].button(verb, key=f"{page}_{verb.lower()}_{comment_id}"):
        try:
            flash_results(set_hidden(ctx, [row], not hidden))
        except USER_ERRORS as exc:
            show_error(exc)
        else:
            st.rerun()
    with buttons[2]:
        if reason is not None:
            st.caption(md_escape(reason))
        _outbox_state(ctx, page, outbox)
    if st.session_state.get(f"{page}_replying") == comment_id and reason is None:
        _reply_box(ctx, page, row)


def _outbox_state(ctx: PageContext, page: str, outbox: Sequence[Mapping[str, Any]]) -> None:
    """The latest reply and the latest hide/unhide of a comment, as they stand."""
    latest: dict[str, Mapping[str, Any]] = {}
    for action in outbox:  # newest first
        latest.setdefault("reply" if action["kind"] == "reply" else "status", action)
    for action in latest.values():
        status, message = action["status"], text(action.get("message"))
        if status == "sent":
            if action["kind"] == "reply" and text(action.get("result_comment_id")):
                message += f" TikTok's ID for the reply: {text(action['result_comment_id'])}."
            st.caption("✅ " + md_escape(message))
            continue
        if status == "pending":
            st.caption("⏳ " + md_escape(message))
            continue
        if status == "unknown":
            st.warning(md_escape(f"Checking with TikTok: {message}"))
        else:
            st.error(md_escape(message))
        action_id = int(action["action_id"])
        if st.button("Retry", key=f"{page}_retry_{action_id}", icon="🔁"):
            try:
                flash_results([retry_action(ctx, action)])
            except USER_ERRORS as exc:
                show_error(exc)
            else:
                st.rerun()


def _reply_box(ctx: PageContext, page: str, row: Mapping[str, Any]) -> None:
    comment_id = text(row["comment_id"])
    text_key = f"{page}_reply_text_{comment_id}"
    organic = owner_of(row)[0] == "organic"
    body = st.text_area("Your reply", key=text_key, max_chars=MAX_REPLY_LENGTH, height=90,
                        placeholder="Posted on TikTok as the TikTok account." if organic
                        else "Posted on TikTok as the ad's identity.") or ""
    st.caption(f"{len(body)}/{MAX_REPLY_LENGTH}")
    send, cancel, _ = st.columns([1, 1, 4])
    clicked = send.button("Send reply", key=f"{page}_reply_send_{comment_id}", type="primary")
    cancel.button("Cancel", key=f"{page}_reply_cancel_{comment_id}",
                  on_click=_close_reply, args=(page, comment_id))
    if not clicked:
        return
    if len(body) > MAX_REPLY_LENGTH:
        st.error(f"The reply is {len(body)} characters long; TikTok takes at most "
                 f"{MAX_REPLY_LENGTH}. Shorten it and send again. Nothing was sent.")
        return
    if not body.strip():
        st.error("The reply is empty; write some text first. Nothing was sent.")
        return
    request_key = st.session_state.setdefault(f"{page}_reply_key_{comment_id}",
                                              uuid.uuid4().hex)
    try:
        result = send_reply(ctx, row, body, request_key)
    except USER_ERRORS as exc:
        show_error(exc)
        return
    flash_results([result])
    if result.status == "sent":
        _close_reply(page, comment_id)
    elif result.status == "failed":  # a corrected reply is a new request
        st.session_state[f"{page}_reply_key_{comment_id}"] = uuid.uuid4().hex
    st.rerun()


def selected_ids(page: str, comment_ids: Sequence[str]) -> list[str]:
    """The comments ticked on this page of the list."""
    if st.session_state.pop(f"{page}_clear_selection", False):
        for comment_id in comment_ids:
            st.session_state.pop(f"{page}_pick_{comment_id}", None)
    return [c for c in comment_ids if st.session_state.get(f"{page}_pick_{c}")]


def bulk_set_hidden(ctx: PageContext, page: str, rows: Sequence[Mapping[str, Any]],
                    hidden: bool) -> None:
    """Hide or unhide the ticked comments, then untick them."""
    try:
        flash_results(set_hidden(ctx, rows, hidden))
    except USER_ERRORS as exc:
        show_error(exc)
        return
    st.session_state[f"{page}_clear_selection"] = True
    st.rerun()


# ---------------------------------------------------------------------------------------------
# Charts (no comment text in them; names are escaped for Plotly's HTML-like labels)


def volume_by_ad_chart(frame: pd.DataFrame):
    import plotly.graph_objects as go

    sources = frame["source"] if "source" in frame.columns else [None] * len(frame)
    labels, colours = [], []
    for ad_id, name, source in zip(frame["ad_id"], frame["ad_name"], sources, strict=True):
        if text(source) == "organic":
            labels.append("Organic posts")
            colours.append(ORGANIC_COLOUR)
        elif text(ad_id):
            labels.append(chart_label(name))
            colours.append(AD_COLOUR)
        else:
            labels.append("Other ads")
            colours.append("#c9ccd1")
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    figure = go.Figure(go.Bar(
        x=list(frame["comments"].astype("int64")), y=unique, orientation="h",
        marker_color=colours,
        hovertemplate="%{y}<br>%{x:,} comments<extra></extra>",
    ))
    figure.update_layout(yaxis={"autorange": "reversed", "title": None},
                         xaxis={"title": "Comments"}, margin={"l": 8, "r": 8, "t": 8, "b": 8},
                         height=max(220, 34 * len(unique)))
    return figure


def volume_by_video_chart(frame: pd.DataFrame, top_n: int = 10):
    """Comments per video, the organic ones and those on Spark Ads promoting it stacked;
    the `top_n` videos with the most comments."""
    import plotly.graph_objects as go

    totals = frame.groupby("video_id", sort=False)["comments"].sum()
    top = list(totals.sort_values(ascending=False, kind="stable").index[:top_n])
    captions = dict(zip(frame["video_id"], frame["caption"], strict=True))
    labels = [chart_label(video_label(captions.get(v), v, width=40)) for v in top]
    figure = go.Figure()
    for source, name, colour in (("organic", "Organic comments", ORGANIC_COLOUR),
                                 ("ad", "On Spark Ads", AD_COLOUR)):
        part = frame[frame["source"] == source].set_index("video_id")["comments"]
        counts = [int(part.get(v, 0)) for v in top]
        if any(counts):
            figure.add_trace(go.Bar(
                x=counts, y=labels, orientation="h", name=name, marker_color=colour,
                hovertemplate="%{y}<br>%{x:,} comments<extra>%{fullData.name}</extra>",
            ))
    figure.update_layout(barmode="stack", yaxis={"autorange": "reversed", "title": None},
                         xaxis={"title": "Comments"}, margin={"l": 8, "r": 8, "t": 8, "b": 8},
                         height=max(220, 34 * len(top)),
                         legend={"orientation": "h", "y": -0.2})
    return figure


def volume_over_time_chart(frame: pd.DataFrame, timezone: str, grain: str):
    import plotly.graph_objects as go

    figure = go.Figure()
    for (_, name), part in frame.groupby(["ad_id", "ad_name"], dropna=False, sort=False):
        figure.add_trace(go.Scatter(
            x=list(part["bucket"]), y=list(part["comments"].astype("int64")), mode="lines",
            name=chart_label(name if text(name) else "All ads"),
            hovertemplate="%{x}<br>%{y:,} comments<extra>%{fullData.name}</extra>",
        ))
    figure.update_layout(
        xaxis={"title": f"{'Day' if grain == 'day' else 'Hour'} ({chart_label(timezone)})"},
        yaxis={"title": "Comments", "rangemode": "tozero"},
        margin={"l": 8, "r": 8, "t": 8, "b": 8}, height=340,
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def engagement_summary(frame: pd.DataFrame) -> dict[str, float | None]:
    """Totals over the per-ad engagement table."""
    comments = float(frame["comments"].sum()) if len(frame) else 0.0
    hidden = float((frame["hidden_share"].astype("float64") * frame["comments"]).sum())
    top = float(frame["top_level_comments"].sum()) if len(frame) else 0.0
    answered = float(frame["answered_comments"].sum()) if len(frame) else 0.0
    medians = frame["median_minutes_to_first_reply"].dropna()
    return {
        "comments": comments,
        "hidden_share": hidden / comments if comments else None,
        "reply_rate": answered / top if top else None,
        "median_minutes": float(medians.median()) if len(medians) else None,
    }


# ---------------------------------------------------------------------------------------------
# Export


@dataclass(frozen=True)
class ExportFile:
    name: str
    data: bytes = field(repr=False)
    mime: str
    rows: int
    total: int

    @property
    def truncated(self) -> bool:
        return self.rows < self.total


def build_export(ctx: PageContext, filters: CommentFilters, fmt: str,
                 progress: Callable[[int, int], None] | None = None, *,
                 cap: int | None = None, chunk: int | None = None) -> ExportFile:
    """The filtered comments, newest first, as CSV or Parquet, read in chunks of about
    `chunk` rows (EXPORT_CHUNK), at most `cap` rows in all (EXPORT_CAP)."""
    cap = EXPORT_CAP if cap is None else cap
    chunk = EXPORT_CHUNK if chunk is None else chunk
    with _cursor(ctx.db) as cur:
        total = db.comments_count(cur, filters)
        wanted = min(total, cap)
        frames = _export_frames(cur, filters, total, wanted, chunk)
        if fmt == "csv":
            data = _csv_in_chunks(frames, wanted, progress)
        else:
            data = _parquet_in_chunks(frames, wanted, progress)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    owner = filters.advertiser_id or filters.business_id or "all"
    name = f"comments-{owner}-{stamp}.{'csv' if fmt == 'csv' else 'parquet'}"
    mime = "text/csv" if fmt == "csv" else "application/vnd.apache.parquet"
    return ExportFile(name, data, mime, wanted, total)


def _export_frames(cur: db.Cursor, filters: CommentFilters, total: int, wanted: int,
                   chunk: int) -> Iterator[pd.DataFrame]:
    """The first `wanted` comments (newest first) in chunks, each read as a page of a few
    days' comments: a deep LIMIT/OFFSET would make DuckDB sort everything before it for every
    chunk. The days come from the per-day counts, in the ad account's timezone."""
    if wanted == 0:
        yield db.comments_page(cur, filters, limit=0)
        return
    per_day = db.comment_volume_over_time(cur, filters, "day")
    days = sorted(((pd.Timestamp(b).date(), int(n)) for b, n
                   in zip(per_day["bucket"], per_day["comments"], strict=True) if n),
                  reverse=True)
    if sum(n for _, n in days) != total:  # comments without a time: plain paging
        for offset in range(0, wanted, chunk):
            yield db.comments_page(cur, filters, limit=min(chunk, wanted - offset), offset=offset)
        return
    groups: list[list[tuple[date, int]]] = [[]]
    for day, count in days:
        if groups[-1] and sum(n for _, n in groups[-1]) + count > chunk:
            groups.append([])
        groups[-1].append((day, count))
    left = wanted
    for group in groups:
        window = replace(filters, date_from=group[-1][0], date_to=group[0][0])
        size = sum(n for _, n in group)
        for offset in range(0, size, chunk):  # a single day can hold more than a chunk
            if left <= 0:
                return
            frame = db.comments_page(cur, window, limit=min(chunk, size - offset, left),
                                     offset=offset)
            left -= len(frame)
            yield frame


def _csv_in_chunks(frames: Iterator[pd.DataFrame], wanted: int,
                   progress: Callable[[int, int], None] | None) -> bytes:
    parts: list[bytes] = []
    done = 0
    bom = export.BOM.encode("utf-8")
    for frame in frames:
        blob = export.to_csv_bytes(frame[[c for c in CSV_COLUMNS if c in frame.columns]])
        if parts:  # later chunks: no byte-order mark, no header line
            blob = blob[blob.index(b"\r\n", len(bom)) + 2:]
        parts.append(blob)
        done += len(frame)
        if progress is not None:
            progress(done, wanted)
    return b"".join(parts)


def _parquet_in_chunks(frames: Iterator[pd.DataFrame], wanted: int,
                       progress: Callable[[int, int], None] | None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    writer = None
    done = 0
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema)
            elif table.schema != writer.schema:
                table = table.cast(writer.schema)
            writer.write_table(table)
            done += len(frame)
            if progress is not None:
                progress(done, wanted)
    finally:
        if writer is not None:
            writer.close()
    return out.getvalue()


def remember_export(page: str, filters: CommentFilters, fmt: str, file: ExportFile) -> None:
    st.session_state[f"{page}_file"] = (repr((filters, fmt)), file)


def prepared_export(page: str, filters: CommentFilters, fmt: str) -> ExportFile | None:
    """The file prepared for exactly these filters and format in this session, if any."""
    kept = st.session_state.get(f"{page}_file")
    if kept and kept[0] == repr((filters, fmt)):
        return kept[1]
    if kept:
        del st.session_state[f"{page}_file"]  # stale: free the memory
    return None



# ---------------------------------------------------------------------------------------------
# Home and Advertisers helpers


def disconnect(ctx: PageContext, connection_id: str) -> bool:
    """Forget a connection's token (its ad accounts' stored comments stay)."""
    removed = ctx.credentials.remove(connection_id)
    refresh()
    return removed


def connection_label(ctx: PageContext, advertiser_ids: Sequence[str]) -> str:
    """'Name (id), Name (id)' for a connection's ad accounts, escaped for markdown."""
    names = known_advertisers(ctx.db, ctx.credentials)
    return md_escape(", ".join(f"{names.get(a) or 'unnamed'} ({a})" for a in advertiser_ids))


def overview_columns() -> dict[str, Any]:
    return {
        "name": st.column_config.TextColumn("Ad account"),
        "advertiser_id": st.column_config.TextColumn("ID"),
        "role": st.column_config.TextColumn("Your role"),
        "timezone": st.column_config.TextColumn("Time zone"),
        "currency": st.column_config.TextColumn("Currency"),
        "connection": st.column_config.TextColumn("Connection"),
        "last_sync": st.column_config.DatetimeColumn("Last sync (UTC)", format="YYYY-MM-DD HH:mm",
                                                     timezone="UTC"),
        "last_result": st.column_config.TextColumn("Last result", width="large"),
    }


def ads_columns() -> dict[str, Any]:
    return {
        "ad_name": st.column_config.TextColumn("Ad"),
        "campaign_name": st.column_config.TextColumn("Campaign"),
        "adgroup_name": st.column_config.TextColumn("Ad group"),
        "operation_status": st.column_config.TextColumn("Status"),
        "comment_count": st.column_config.NumberColumn("Comments", format="%d"),
        "unanswered_count": st.column_config.NumberColumn("Unanswered", format="%d"),
        "hidden_count": st.column_config.NumberColumn("Hidden", format="%d"),
        "last_comment_time_local": st.column_config.DatetimeColumn(
            "Last comment (local)", format="YYYY-MM-DD HH:mm"),
        "ad_id": st.column_config.TextColumn("Ad ID"),
    }


def pick_row(frame: pd.DataFrame, columns: Mapping[str, Any], key: str) -> pd.Series | None:
    """`frame` as a table whose rows can be clicked (the given columns, in order); returns
    the clicked row, or None."""
    event = st.dataframe(frame[list(columns)], hide_index=True, column_config=dict(columns),
                         key=key, on_select="rerun", selection_mode="single-row")
    rows = event.selection.rows if event is not None else []
    return frame.iloc[rows[0]] if rows else None


def videos_columns() -> dict[str, Any]:
    return {
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


def conversation_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A video's conversation for a table: where each comment was made, who wrote it, and its
    text (shown as data, never as markdown)."""
    where = [
        "Organic" if text(source) == "organic" else f"Spark Ad: {text(name) or text(ad_id)}"
        for source, name, ad_id in zip(frame["source"], frame["ad_name"], frame["ad_id"],
                                       strict=True)
    ]
    return frame.assign(where=where)


def conversation_columns() -> dict[str, Any]:
    return {
        "create_time": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm",
                                                       timezone="UTC"),
        "where": st.column_config.TextColumn("Where"),
        "comment_type": st.column_config.TextColumn("Type"),
        "user_name": st.column_config.TextColumn("User"),
        "content": st.column_config.TextColumn("Comment", width="large"),
        "likes": st.column_config.NumberColumn("Likes", format="%d"),
        "comment_status": st.column_config.TextColumn("Status"),
    }


def engagement_columns() -> dict[str, Any]:
    return {
        "ad_name": st.column_config.TextColumn("Ad"),
        "comments": st.column_config.NumberColumn("Comments", format="%d"),
        "top_level_comments": st.column_config.NumberColumn("First-level", format="%d"),
        "answered_comments": st.column_config.NumberColumn("Answered", format="%d"),
        "hidden_share": st.column_config.NumberColumn("Hidden", format="percent"),
        "reply_rate": st.column_config.NumberColumn("Reply rate", format="percent"),
        "median_minutes_to_first_reply": st.column_config.NumberColumn(
            "Median time to first reply (min)", format="%.0f"),
        "ad_id": st.column_config.TextColumn("Ad ID"),
    }


def auto_sync_changed(ctx: PageContext, advertiser_id: str, toggle_key: str,
                      minutes_key: str) -> None:
    """on_change of the auto-sync widgets: apply them to the scheduler."""
    scheduler = auto_sync(ctx)
    if st.session_state.get(toggle_key):
        scheduler.enable(advertiser_id, int(st.session_state.get(minutes_key) or 15))
    else:
        scheduler.disable(advertiser_id)


def auto_sync_summary(plan: AutoSyncPlan | None) -> str:
    if plan is None:
        return "Automatic sync is off for this ad account."
    line = f"Syncs every {plan.minutes} min while the app runs; next around " \
           f"{plan.next_run.astimezone(UTC):%H:%M} UTC."
    if plan.running:
        line += " A sync is running now."
    if plan.last_run is not None:
        line += f" Last automatic sync {ago(plan.last_run)}: {plan.last_message}"
    return line
