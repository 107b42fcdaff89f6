"""Home: the Connect link, the OAuth callback (good, forged, expired, reused, denied, failed),
disconnecting, and the password gate."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from desk import store as db
from desk.connect import state as oauth_state
from tests.pages.conftest import consent, infos, no_errors, open_page, tampered, texts


def connect_url(at) -> str:
    [link] = [b for b in at.get("link_button") if b.proto.label == "Connect a TikTok ad account"]
    return link.proto.url


def state_secret(settings) -> str:
    return oauth_state.secret_key_for(settings.secret_key, settings.credentials_path)


def test_home_offers_connect_with_a_signed_state_to_the_sandbox(sandbox, settings):
    at = open_page()
    no_errors(at)
    url = connect_url(at)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{sandbox.base_url}/portal/auth?")
    assert query["app_id"] == "sandbox-app"
    assert query["redirect_uri"] == "http://localhost:8501/"
    oauth_state.check_state(state_secret(settings), query["state"],
                            oauth_state.nonce_file_for(settings.credentials_path))
    assert any("Demo mode" in i.value for i in at.info)


def test_good_callback_stores_the_token_and_the_advertisers(sandbox, settings, credentials, store):
    callback = consent(connect_url(open_page()))
    at = open_page(query=callback)
    no_errors(at)
    [success] = at.success
    assert "Connected 3 ad account(s)" in success.value
    [conn] = credentials.connections()
    assert set(conn.advertiser_ids) == {a["advertiser_id"] for a in
                                         sandbox.ground_truth()["advertisers"]}
    assert conn.access_token and not conn.needs_reauth
    stored = db.list_advertisers(store.cursor())
    assert set(stored["advertiser_id"]) == set(conn.advertiser_ids)
    assert stored["name"].notna().all() and stored["timezone"].notna().all()
    assert set(stored["role"]) <= {"ROLE_ADVERTISER", "ROLE_CHILD_ADVERTISER", "ROLE_CHILD_AGENT",
                                   "ROLE_AGENT"}
    assert "auth_code" not in at.query_params and "state" not in at.query_params
    page_text = "\n".join(texts(at.main) + texts(at.sidebar))
    assert conn.access_token not in page_text
    assert callback["auth_code"] not in page_text


def test_forged_state_is_refused_and_nothing_is_stored(sandbox, credentials):
    callback = consent(connect_url(open_page()))
    forged = oauth_state.new_state("not-this-apps-key")
    at = open_page(query={**callback, "state": forged})
    no_errors(at)
    assert "did not issue" in at.error[0].value
    assert credentials.connections() == []
    assert at.query_params == {}


def test_tampered_state_is_refused(sandbox, credentials):
    callback = consent(connect_url(open_page()))
    at = open_page(query={**callback, "state": tampered(callback["state"])})
    assert "did not issue" in at.error[0].value
    assert credentials.connections() == []


def test_expired_state_is_refused_and_nothing_is_stored(sandbox, settings, credentials):
    callback = consent(connect_url(open_page()))
    eleven_minutes_ago = time.time() - 11 * 60
    old = oauth_state.new_state(state_secret(settings), now=eleven_minutes_ago)
    at = open_page(query={**callback, "state": old})
    no_errors(at)
    assert "longer than 10 minutes" in at.error[0].value
    assert credentials.connections() == []
    assert at.query_params == {}


def test_reused_state_is_refused_and_nothing_is_stored(sandbox, settings, credentials):
    callback = consent(connect_url(open_page()))
    oauth_state.check_state(state_secret(settings), callback["state"],
                            oauth_state.nonce_file_for(settings.credentials_path))
    at = open_page(query=callback)
    no_errors(at)
    assert "already used" in at.error[0].value
    assert credentials.connections() == []


def test_replayed_callback_connects_only_once(sandbox, credentials):
    callback = consent(connect_url(open_page()))
    first = open_page(query=callback)
    assert first.success
    again = open_page(query=callback)  # the browser's back button, in a new session
    assert "already used" in again.error[0].value
    assert len(credentials.connections()) == 1


def test_missing_state_is_refused(sandbox, credentials):
    callback = consent(connect_url(open_page()))
    at = open_page(query={"auth_code": callback["auth_code"], "code": callback["code"]})
    assert "did not carry the check value" in at.error[0].value
    assert credentials.connections() == []


def test_denied_consent_says_so_and_stores_nothing(sandbox, credentials):
    callback = consent(connect_url(open_page()), cancel=True)
    assert callback["error"] == "access_denied"
    at = open_page(query=callback)
    no_errors(at)
    assert "not granted" in at.error[0].value
    assert "Connect" in at.error[0].value
    assert credentials.connections() == []
    assert at.query_params == {}


def test_failed_code_exchange_says_connect_again(sandbox, credentials):
    callback = consent(connect_url(open_page()))
    at = open_page(query={**callback, "auth_code": "0" * 40, "code": "0" * 40})
    no_errors(at)
    assert "did not accept the authorization" in at.error[0].value
    assert credentials.connections() == []


def test_connected_accounts_show_names_status_and_never_the_token(synced, token):
    at = open_page()
    no_errors(at)
    shown = "\n".join(texts(at.main) + texts(at.sidebar))
    assert "working" in shown and "Northwind Sneakers" in shown
    assert token not in shown
    assert at.dataframe[0].value["advertiser_id"].tolist()
    assert any("Read and answer comments" in i for i in infos(at))


def test_disconnect_forgets_the_connection(token, credentials):
    at = open_page()
    [conn] = credentials.connections()
    at.button(key=f"home_disconnect_{conn.connection_id}").click().run()
    no_errors(at)
    assert credentials.connections() == []
    assert at.toast and "Disconnected" in at.toast[0].value


def test_a_revoked_connection_asks_to_reconnect(token, credentials):
    [conn] = credentials.connections()
    credentials.mark_needs_reauth(conn.connection_id, "Access token is incorrect or revoked.")
    at = open_page()
    assert "needs reconnecting" in "\n".join(texts(at.main))
    assert any("refused this connection" in w.value for w in at.warning)


@pytest.mark.parametrize("given, shown", [("wrong", True), ("s3cret pass", False)])
def test_password_gate_shows_nothing_before_sign_in(monkeypatch, given, shown):
    monkeypatch.setenv("DESK_PASSWORD", "s3cret pass")
    at = open_page()
    assert [t.value for t in at.title] == ["Comment Desk"]
    assert not at.get("link_button") and not at.info
    at.text_input(key="signin_password").input(given)
    at.button[0].click().run()
    no_errors(at)
    assert bool(at.error) is shown
    assert bool(at.get("link_button")) is not shown


def test_every_page_renders_in_a_fresh_demo(sandbox):
    for page in ("Home.py", "pages/1_Advertisers.py", "pages/2_Ads.py", "pages/3_Comments.py",
                 "pages/4_Insights.py", "pages/6_Export.py", "pages/7_Videos.py"):
        at = open_page(page)
        no_errors(at)
        if page != "Home.py":
            assert infos(at), page  # each says where to go first
