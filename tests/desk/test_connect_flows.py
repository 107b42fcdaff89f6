"""desk.connect.flows against the sandbox on loopback: connecting an ad account and a
TikTok business account through their consent pages, a replayed state, a denied consent,
and disconnecting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from desk import store as db
from desk.config import Settings
from desk.connect import flows
from desk.connect.credentials import CredentialStore
from desk.connect.state import StateError
from desk.workspace import TikTokApp, Workspace
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox, walk_account_consent, walk_consent

REDIRECT = "http://localhost:8501/"


@pytest.fixture(scope="module")
def sandbox():
    handle = start_sandbox(SandboxConfig(seed=3, advertisers=2, ads=4, comments=40,
                                         new_comments_per_minute=0, videos_per_account=2,
                                         organic_comments=20,
                                         new_organic_comments_per_minute=0,
                                         qps=100_000, qpm=1_000_000))
    yield handle
    handle.stop()


@pytest.fixture
def workspace(sandbox, tmp_path: Path) -> Iterator[Workspace]:
    settings = Settings(db_path=tmp_path / "desk.duckdb",
                        credentials_path=tmp_path / "credentials.json")
    app = TikTokApp(
        api_base_url=sandbox.base_url, auth_url=f"{sandbox.base_url}/portal/auth",
        app_id=sandbox.config.app_id, app_secret=sandbox.config.secret,
        redirect_uri=REDIRECT, rate_limiter=RateLimiter(1000, 100_000),
        account_auth_url=sandbox.account_auth_url, account_redirect_uri=REDIRECT,
    )
    with db.Store.open(settings.db_path) as store:
        yield Workspace(settings, store,
                        CredentialStore(settings.credentials_path, settings.secret_key), app)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def ad_consent(url: str, *, approve: bool = True) -> dict[str, str]:
    """Walk the sandbox's ad account consent page as a browser would; the redirect's query."""
    query = query_of(url)
    location = walk_consent(url.split("/portal/auth")[0], app_id=query["app_id"],
                            redirect_uri=query["redirect_uri"], state=query["state"],
                            approve=approve)
    assert location.startswith(REDIRECT)
    return query_of(location)


def test_an_ad_connection_stores_the_token_and_the_advertisers(workspace, sandbox):
    params = ad_consent(flows.connect_url(workspace))
    assert flows.is_oauth_callback(params) and not flows.is_account_callback(workspace, params)
    connected = flows.finish_oauth(workspace, params)
    truth = {a["advertiser_id"]: a["name"] for a in sandbox.ground_truth()["advertisers"]}
    assert dict(connected.advertisers) == truth and connected.warning is None
    assert connected.summary().startswith(f"Connected {len(truth)} ad account(s): ")
    [conn] = workspace.credentials.connections()
    assert set(conn.advertiser_ids) == set(truth) and conn.access_token
    with workspace.store.cursor() as cur:
        stored = db.list_advertisers(cur)
    assert dict(zip(stored["advertiser_id"], stored["name"], strict=True)) == truth

    assert flows.disconnect(workspace, conn.connection_id)
    assert workspace.credentials.connections() == []


def test_a_replayed_state_is_refused(workspace):
    params = ad_consent(flows.connect_url(workspace))
    flows.finish_oauth(workspace, params)
    with pytest.raises(StateError, match="already used"):
        flows.finish_oauth(workspace, params)
    assert len(workspace.credentials.connections()) == 1


def test_a_business_account_connects_and_its_profile_is_stored(workspace, sandbox):
    url = flows.account_connect_url(workspace)
    assert url is not None and url.startswith(f"{sandbox.base_url}/v2/auth/authorize/?")
    wanted = sandbox.ground_truth_accounts()["accounts"][0]
    params = query_of(walk_account_consent(url, open_id=wanted["business_id"]))
    assert flows.is_oauth_callback(params) and flows.is_account_callback(workspace, params)

    connected = flows.finish_account_oauth(workspace, params)
    assert connected.business_id == wanted["business_id"]
    assert connected.name == wanted["display_name"] and connected.warning is None
    conn = workspace.credentials.account_connection(wanted["business_id"])
    assert conn is not None and conn.access_token and conn.refresh_token
    with workspace.store.cursor() as cur:
        profile = db.list_business_accounts(cur)
    assert profile["business_id"].tolist() == [wanted["business_id"]]
    assert profile["username"].tolist() == [wanted["username"]]
    [(listed, status)] = flows.account_statuses(workspace)
    assert listed.business_id == wanted["business_id"] and status.state == "ok"
    with flows.account_client(workspace, wanted["business_id"]) as client:
        assert client.get_profile().username == wanted["username"]

    assert flows.disconnect_account(workspace, wanted["business_id"]) is None
    assert workspace.credentials.account_connections() == []


def test_an_installation_without_the_account_holder_url_offers_no_account_connection(
        workspace):
    from dataclasses import replace

    bare = replace(workspace, app=replace(workspace.app, account_auth_url=None))
    assert flows.account_connect_url(bare) is None


def test_access_denied_gives_connection_denied_and_stores_nothing(workspace):
    params = ad_consent(flows.connect_url(workspace), approve=False)
    assert params["error"] == "access_denied"
    with pytest.raises(flows.ConnectionDenied, match="Access was not granted"):
        flows.finish_oauth(workspace, params)

    url = flows.account_connect_url(workspace)
    params = query_of(walk_account_consent(url, approve=False))
    with pytest.raises(flows.ConnectionDenied, match="consent screen was cancelled"):
        flows.finish_account_oauth(workspace, params)
    assert workspace.credentials.connections() == []
    assert workspace.credentials.account_connections() == []
