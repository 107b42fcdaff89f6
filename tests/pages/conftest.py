"""Fixtures for the page tests: the app in demo mode against a small sandbox, in AppTest.

Each test gets its own database and credentials file under tmp_path, no TikTok app settings
(so demo mode), and a small, fast sandbox (DESK_SANDBOX_*). The app's own cache_resource
starts that sandbox; `sandbox` returns the same handle for ground truth. Both Streamlit caches
are cleared around every test, which also stops the sandbox and closes the database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from desk import store as db
from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.connect.keys import with_secret_key
from desk.demo import DEMO_BANNER
from desk.people import Person
from desk.sources import AdAccount
from desk.ui import handles
from desk.ui.context import PageContext
from desk.workspace import TikTokApp
from tests.world import advertisers_by_access
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox.walk import walk_consent

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "Home.py")
SANDBOX_ENV = {
    "DESK_SANDBOX_SEED": "1",
    "DESK_SANDBOX_ADVERTISERS": "3",
    "DESK_SANDBOX_ADS": "24",
    "DESK_SANDBOX_COMMENTS": "1500",
    "DESK_SANDBOX_QPS": "100000",
    "DESK_SANDBOX_QPM": "1000000",
    "DESK_SANDBOX_NEW_COMMENTS_PER_MINUTE": "0",
    "DESK_SANDBOX_VIDEOS_PER_ACCOUNT": "5",
    "DESK_SANDBOX_ORGANIC_COMMENTS": "600",
    "DESK_SANDBOX_NEW_ORGANIC_COMMENTS_PER_MINUTE": "0",
    "DESK_SANDBOX_SMART_PLUS_ADS": "0",
    "TIKTOK_RATE_LIMIT_QPS": "1000",
    "TIKTOK_RATE_LIMIT_QPM": "100000",
    "DESK_LOOKBACK_DAYS": "200",  # the sandbox's whole history (120 days)
}
UNSET = (
    "TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET", "TIKTOK_REDIRECT_URI", "TIKTOK_API_BASE_URL",
    "DESK_SECRET_KEY", "DESK_PASSWORD", "DESK_SANDBOX_LATENCY_MS",
)


@pytest.fixture(autouse=True)
def clean_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DESK_DB", str(tmp_path / "desk.duckdb"))
    monkeypatch.setenv("DESK_CREDENTIALS", str(tmp_path / "credentials.json"))
    monkeypatch.setenv("DESK_SECRET_KEY_FILE", str(tmp_path / "keys" / "secret.key"))
    for name, value in SANDBOX_ENV.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def app_settings():
    """The settings as the pages have them (with the secret key the first page made)."""
    return with_secret_key(load_settings(secrets={}))


@pytest.fixture
def settings(demo_env: Path):
    return app_settings()


@pytest.fixture
def sandbox(demo_env: Path):
    """The sandbox the app runs in demo mode (the same cached handle)."""
    return handles.demo_sandbox()


@pytest.fixture
def credentials(settings) -> CredentialStore:
    return CredentialStore(settings.credentials_path, settings.secret_key)


@pytest.fixture
def store(settings) -> db.Store:
    """The app's own database handle (one per process; closed when the caches are cleared)."""
    return handles.store_for(settings)


@pytest.fixture
def advertisers(sandbox) -> dict[str, str]:
    """WRITER, SECOND_WRITER, READ_ONLY -> advertiser_id (tests.world)."""
    return advertisers_by_access(sandbox.ground_truth())


@pytest.fixture
def token(sandbox, credentials) -> str:
    """A connection to every sandbox ad account, as if the consent flow had run."""
    issued = sandbox.issue_token()
    ids = [a["advertiser_id"] for a in sandbox.ground_truth()["advertisers"]]
    credentials.add(issued, ids, [4, 100, 220, 15000000, 15010100, 15010200])
    return issued


@pytest.fixture
def sync(settings, sandbox, token, store, credentials, advertisers):
    """sync(access): sync that sandbox ad account into the store; returns its advertiser_id."""
    def run(access: str) -> str:
        advertiser_id = advertisers[access]
        AdAccount(page_context(settings, advertiser_id).workspace, advertiser_id).sync()
        return advertiser_id

    return run


@pytest.fixture
def synced(sync, advertisers) -> dict[str, str]:
    """The first writable ad account synced; returns access -> advertiser_id."""
    sync("WRITER")
    return advertisers


IDENTITY_PROVIDER = {
    "redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "c" * 40,
    "client_id": "comment-desk", "client_secret": "s" * 40,
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
"""An [auth] section: sign-in with an identity provider (AppTest's `user` stands in for it)."""


def open_page(page: str = "Home.py", query: dict[str, str] | None = None,
              timeout: float = 60, *, email: str | None = None) -> AppTest:
    """Run one page in a new session, as a deep link would (Home.py does not run first);
    with `email`, signed in with the identity provider as that person."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.secrets["DESK_TESTING"] = "1"  # keeps a developer's own secrets.toml out of the tests
    if email is not None:
        at.secrets["auth"] = IDENTITY_PROVIDER
        at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    if query:
        at.query_params.update(query)
    if page != "Home.py":
        at.switch_page(page)
    return at.run()


def texts(block: Any) -> list[str]:
    """Every string a page shows or carries (bodies, labels, URLs, options), recursively."""
    found: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(block)
    return found


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def tampered(state: str) -> str:
    """`state` with one signature character changed to another.

    The first character after the last dot carries six whole bits of the signature, so the
    change always alters it (a change to the last character may fall in the padding bits).
    """
    head, _, signature = state.rpartition(".")
    first = "B" if signature[0] == "A" else "A"
    return f"{head}.{first}{signature[1:]}"


def consent(url: str, *, cancel: bool = False) -> dict[str, str]:
    """Walk the sandbox's consent screen from a Connect URL, as a browser would; returns the
    query parameters of the redirect back to the app."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    location = walk_consent(url.split("/portal/auth")[0], app_id=query["app_id"],
                            redirect_uri=query["redirect_uri"], state=query["state"],
                            approve=not cancel)
    assert location.startswith(query["redirect_uri"])
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sandbox_comments(sandbox, advertiser_id: str) -> pd.DataFrame:
    return pd.DataFrame(sandbox.ground_truth(advertiser_id)["comments"])


def post_count(sandbox) -> int:
    """How many comment/post requests the sandbox has answered."""
    return int(sandbox.stats()["by_path"].get("/open_api/v1.3/comment/post/", 0))


def infos(at: AppTest) -> list[str]:
    """The page's st.info messages, without the demo-mode banner."""
    return [i.value for i in at.info if i.value != DEMO_BANNER]


def plain(markdown: str) -> str:
    """Escaped markdown as the reader sees it (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


HOSTILE_ADVERTISER = "7000000000000000001"
HOSTILE_TEXTS = (
    '=HYPERLINK("http://evil.example/steal","click me")',
    "+1",
    "-2+3",
    "@cmd",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "**bold** _it_ `code` :red[red] $x$",
    "\t=1+1 starts with a tab",
)


def seed_hostile(store: db.Store) -> pd.DataFrame:
    """An ad account whose comments (and user names) are hostile text; returns the rows."""
    from datetime import UTC, datetime, timedelta

    cur = store.cursor()
    db.upsert_advertisers(cur, pd.DataFrame([{
        "advertiser_id": HOSTILE_ADVERTISER, "name": "Hostile Test Brand",
        "timezone": "Europe/Berlin", "currency": "EUR", "role": "ROLE_ADVERTISER",
    }]))
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    rows = pd.DataFrame([{
        "comment_id": f"91000000000000000{i:02d}",
        "advertiser_id": HOSTILE_ADVERTISER,
        "content": content,
        "likes": i,
        "replies": 0,
        "comment_type": "COMMENT",
        "comment_status": "PUBLIC",
        "create_time": start + timedelta(minutes=i),
        "campaign_id": "1", "campaign_name": "Campaign <b>1</b>",
        "adgroup_id": "11", "adgroup_name": "Group",
        "ad_id": "111", "ad_name": "Ad <img src=x onerror=alert(2)> [x](javascript:alert(2))",
        "tiktok_item_id": "555", "identity_id": "777", "identity_type": "CUSTOMIZED_USER",
        "can_delete": False, "is_auth_comment_manage_scope": True,
        "user_name": f"<b>user{i}</b>[x](javascript:alert(3))",
        "user_id": f"600{i}",
    } for i, content in enumerate(HOSTILE_TEXTS)])
    db.upsert_comments(cur, rows, datetime.now(UTC))
    return rows


def page_context(settings, advertiser_id: str | None, business_id: str | None = None,
                 person: Person | None = None) -> PageContext:
    """What bootstrap() builds, for calling the glue directly (outside a page run); as the
    one local user unless `person` is given."""
    sandbox = handles.demo_sandbox()
    app = TikTokApp(
        api_base_url=sandbox.base_url, auth_url=f"{sandbox.base_url}/portal/auth",
        app_id=sandbox.config.app_id, app_secret=sandbox.config.secret,
        redirect_uri="http://localhost:8501/", rate_limiter=RateLimiter(1000, 100000),
        account_auth_url=sandbox.account_auth_url, account_redirect_uri="http://localhost:8501/",
    )
    return PageContext(
        settings=settings, store=handles.store_for(settings),
        credentials=CredentialStore(settings.credentials_path, settings.secret_key), app=app,
        advertiser_id=advertiser_id, business_id=business_id,
        **({"person": person} if person else {}),
    )


def app_scheduler():
    """The app's automatic-sync scheduler, which also runs Sync now (the same cached handle
    the pages use in demo mode)."""
    sandbox = handles.demo_sandbox()
    return handles.auto_sync_scheduler(app_settings(), sandbox.base_url,
                                       sandbox.config.app_id, sandbox.config.secret)


def sync_now(at: AppTest, key: str, timeout: float = 60, *, rerun: bool = True) -> AppTest:
    """Click Sync now (the button with `key`), wait until the background sync it started
    has ended, and (with `rerun`) run the page again: it then shows how the sync ended."""
    at.button(key=key).click().run()
    source_key = at.session_state[f"{key}_started"]
    scheduler = app_scheduler()
    deadline = time.monotonic() + timeout
    while scheduler.now(source_key).running:
        assert time.monotonic() < deadline, "the sync did not end"
        time.sleep(0.05)
    return at.run() if rerun else at
