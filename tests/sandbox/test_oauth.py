"""TikTok's advertiser authorization: consent screen, redirect, code exchange, tokens."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tiktok_sandbox import start_sandbox

from .conftest import API, Api, small_config

REDIRECT = "http://127.0.0.1:8501/?page=home"


def consent(sandbox, **params):
    query = {"app_id": sandbox.config.app_id, "state": "s1", "redirect_uri": REDIRECT}
    query.update(params)
    return requests.get(f"{sandbox.base_url}/portal/auth", params=query, timeout=5)


def decide(sandbox, action, **form):
    data = {"app_id": sandbox.config.app_id, "state": "s1", "redirect_uri": REDIRECT}
    data.update(form)
    return requests.post(f"{sandbox.base_url}/portal/auth/{action}", data=data,
                         allow_redirects=False, timeout=5)


def redirected_query(response):
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("http://127.0.0.1:8501/?")
    return parse_qs(urlsplit(location).query)


def exchange(sandbox, code, secret=None, app_id=None):
    body = {"app_id": app_id or sandbox.config.app_id, "secret": secret or sandbox.config.secret,
            "auth_code": code}
    return requests.post(sandbox.base_url + API + "oauth2/access_token/", json=body,
                         timeout=5).json()


def authorized_code(sandbox):
    return redirected_query(decide(sandbox, "authorize"))["auth_code"][0]


def test_consent_screen_names_the_app_and_every_advertiser(sandbox, truth):
    page = consent(sandbox)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert sandbox.config.app_name in page.text
    for advertiser in truth["advertisers"]:
        assert html.escape(advertiser["name"]) in page.text
    assert ">Authorize<" in page.text
    assert ">Cancel<" in page.text


def test_consent_screen_escapes_a_hostile_state(sandbox):
    hostile = '"><script>alert(1)</script>'
    page = consent(sandbox, state=hostile)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert html.escape(hostile) in page.text


def test_consent_screen_for_an_unknown_app_is_an_error_page(sandbox):
    page = consent(sandbox, app_id="someone-else")
    assert page.status_code == 400
    assert "app_id" in page.text


@pytest.mark.parametrize("redirect", ["javascript:alert(1)", "ftp://127.0.0.1/x",
                                      "https://attacker.example/cb", ""])
def test_redirect_uri_must_be_http_on_loopback_by_default(sandbox, redirect):
    assert consent(sandbox, redirect_uri=redirect).status_code == 400
    assert decide(sandbox, "authorize", redirect_uri=redirect).status_code == 400


def test_an_allow_list_replaces_the_loopback_rule(clock):
    allowed = "https://desk.example.com/callback"
    with start_sandbox(small_config(clock, redirect_uris=[allowed])) as sandbox:
        assert consent(sandbox, redirect_uri=allowed + "?x=1").status_code == 200
        assert consent(sandbox, redirect_uri=REDIRECT).status_code == 400


def test_authorize_redirects_with_auth_code_code_and_state(sandbox):
    query = redirected_query(decide(sandbox, "authorize", state="abc 123/=&"))
    assert query["auth_code"] == query["code"]
    assert query["state"] == ["abc 123/=&"]
    assert query["page"] == ["home"], "the redirect URI's own query is kept"


def test_a_code_can_be_exchanged_once(sandbox, truth):
    code = authorized_code(sandbox)
    first = exchange(sandbox, code)
    assert first["code"] == 0
    assert first["data"]["access_token"]
    assert sorted(first["data"]["advertiser_ids"]) == sorted(
        a["advertiser_id"] for a in truth["advertisers"])
    assert all(isinstance(s, int) for s in first["data"]["scope"])
    assert exchange(sandbox, code)["code"] == 40110


def test_an_unknown_code_is_40110(sandbox):
    assert exchange(sandbox, "made-up")["code"] == 40110


def test_a_code_expires_after_one_hour(sandbox, clock):
    fresh = authorized_code(sandbox)
    stale = authorized_code(sandbox)
    clock.advance(3599)
    assert exchange(sandbox, fresh)["code"] == 0
    clock.advance(1)
    assert exchange(sandbox, stale)["code"] == 40110


def test_wrong_secret_or_app_is_40101(sandbox):
    code = authorized_code(sandbox)
    assert exchange(sandbox, code, secret="wrong")["code"] == 40101
    assert exchange(sandbox, code, app_id="other-app")["code"] == 40101
    assert exchange(sandbox, code)["code"] == 0, "a refused exchange does not use up the code"


def test_cancel_redirects_with_access_denied_and_no_code(sandbox):
    query = redirected_query(decide(sandbox, "cancel", state="xyz"))
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["xyz"]
    assert "auth_code" not in query
    assert "code" not in query


def test_the_exchanged_token_lists_its_advertisers_and_works(sandbox, truth):
    token = exchange(sandbox, authorized_code(sandbox))["data"]["access_token"]
    api = Api(sandbox.base_url, token)
    listed = api.get("oauth2/advertiser/get/", app_id=sandbox.config.app_id,
                     secret=sandbox.config.secret)
    assert listed["code"] == 0
    assert {(a["advertiser_id"], a["advertiser_name"]) for a in listed["data"]["list"]} == {
        (a["advertiser_id"], a["name"]) for a in truth["advertisers"]}
    wrong = api.get("oauth2/advertiser/get/", app_id=sandbox.config.app_id, secret="nope")
    assert wrong["code"] == 40101


ACCOUNT_TYPES = {"ROLE_ADVERTISER", "ROLE_CHILD_ADVERTISER", "ROLE_CHILD_AGENT", "ROLE_AGENT"}


def test_advertiser_info_reports_account_type_timezone_and_currency(api, truth):
    ids = [a["advertiser_id"] for a in truth["advertisers"]]
    answer = api.get("advertiser/info/", advertiser_ids=ids)
    assert answer["code"] == 0
    rows = answer["data"]["list"]
    assert [r["advertiser_id"] for r in rows] == ids
    for row in rows:
        assert {"advertiser_id", "name", "company", "status", "currency", "timezone", "country",
                "create_time", "role"} <= set(row)
    assert [r["role"] for r in rows] == ["ROLE_ADVERTISER", "ROLE_CHILD_ADVERTISER",
                                         "ROLE_CHILD_AGENT"]
    assert len({r["timezone"] for r in rows}) == 3


def test_advertiser_info_says_nothing_about_the_users_permission(api, truth):
    """The read-only advertiser looks like the others until a write is refused."""
    ids = [a["advertiser_id"] for a in truth["advertisers"]]
    rows = api.get("advertiser/info/", advertiser_ids=ids)["data"]["list"]
    assert {r["role"] for r in rows} <= ACCOUNT_TYPES
    assert all(set(r) == set(rows[0]) for r in rows)
    assert not any("user_can_write" in r or "permission" in r for r in rows)
    assert [a["user_can_write"] for a in truth["advertisers"]] == [True, True, False]


def test_consent_screen_shows_each_account_type(sandbox, truth):
    page = consent(sandbox).text
    for advertiser, label in zip(truth["advertisers"],
                                 ["Advertiser", "Agency client", "Sub-agency"], strict=True):
        assert f"{advertiser['advertiser_id']} · {label}<" in page
    assert "ROLE_" not in page and "ANALYST" not in page and "ADMIN" not in page


def test_revoking_through_the_api_kills_the_token(sandbox, api):
    body = {"app_id": sandbox.config.app_id, "secret": sandbox.config.secret,
            "access_token": api.token}
    assert api.post("oauth2/revoke_token/", body, token=None)["code"] == 0
    assert api.get("user/info/")["code"] == 40105


def test_tokens_do_not_expire(sandbox, api, clock):
    clock.advance(400 * 86_400)
    assert api.get("user/info/")["code"] == 0
