"""Connecting an advertiser: the consent URL, the code exchange, listing and revoking."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
import urllib3.exceptions

from tiktok_client import (
    AuthCodeError,
    OutcomeUnknown,
    RateLimiter,
    TikTokClient,
    TokenError,
    TransportError,
)
from tiktok_client.oauth import (
    AUTH_URL,
    authorization_url,
    exchange_auth_code,
    list_authorized_advertisers,
    revoke_token,
)

API = "https://business-api.tiktok.com/open_api/v1.3/"
APP_ID = "7100000000000000001"
SECRET = "app-secret-0f9e8d"
AUTH_CODE = "auth-code-a1b2c3"
TOKEN = "tok-7f3a9c-SECRET"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def envelope(data=None, code=0, message="OK"):
    return {"code": code, "message": message, "request_id": "req-1", "data": data or {}}


@pytest.fixture
def api():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def make_client(fake: FakeTime, token: str | None = None) -> TikTokClient:
    return TikTokClient(
        token,
        sleep=fake.sleep,
        clock=fake.clock,
        rate_limiter=RateLimiter(1000, 100_000, clock=fake.clock, sleep=fake.sleep),
    )


def test_authorization_url_carries_app_id_state_and_an_encoded_redirect():
    url = authorization_url(APP_ID, "st/ate+1", "https://desk.example.com/?page=home&x=1")

    assert url.startswith(AUTH_URL + "?")
    assert url == (
        "https://business-api.tiktok.com/portal/auth?app_id=7100000000000000001"
        "&state=st%2Fate%2B1"
        "&redirect_uri=https%3A%2F%2Fdesk.example.com%2F%3Fpage%3Dhome%26x%3D1"
    )
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "app_id": [APP_ID],
        "state": ["st/ate+1"],
        "redirect_uri": ["https://desk.example.com/?page=home&x=1"],
    }


def test_authorization_url_has_no_scope_parameter():
    assert "scope" not in authorization_url(APP_ID, "s", "http://localhost:8501/")


def test_authorization_url_can_point_at_another_consent_page():
    url = authorization_url(
        APP_ID, "s", "http://localhost:8501/", auth_base="http://127.0.0.1:9/auth"
    )

    assert url.startswith("http://127.0.0.1:9/auth?app_id=")


def test_exchange_posts_app_id_secret_and_code_without_a_token_header(api, fake):
    api.post(
        API + "oauth2/access_token/",
        json=envelope(
            {
                "access_token": TOKEN,
                "advertiser_ids": ["7000000000000000001", "7000000000000000002"],
                "scope": [4, 220, 15000000],
            }
        ),
    )

    grant = exchange_auth_code(make_client(fake), APP_ID, SECRET, AUTH_CODE)

    call = api.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == API + "oauth2/access_token/"
    assert "Access-Token" not in call.request.headers
    assert json.loads(call.request.body) == {
        "app_id": APP_ID,
        "secret": SECRET,
        "auth_code": AUTH_CODE,
    }
    assert grant.access_token == TOKEN
    assert grant.advertiser_ids == ["7000000000000000001", "7000000000000000002"]
    assert grant.scope == [4, 220, 15000000]
    assert TOKEN not in repr(grant)


def test_a_used_or_expired_code_is_an_auth_code_error(api, fake):
    api.post(
        API + "oauth2/access_token/",
        json=envelope(code=40110, message=f"auth_code {AUTH_CODE} is invalid"),
    )

    with pytest.raises(AuthCodeError) as caught:
        exchange_auth_code(make_client(fake), APP_ID, SECRET, AUTH_CODE)

    assert AUTH_CODE not in str(caught.value)
    assert "Start the connection again" in str(caught.value)
    assert len(api.calls) == 1


def test_a_missing_code_is_refused_before_sending(api, fake):
    with pytest.raises(AuthCodeError):
        exchange_auth_code(make_client(fake), APP_ID, SECRET, "")
    assert len(api.calls) == 0


def test_a_lost_answer_to_the_exchange_is_not_retried(api, fake):
    api.post(API + "oauth2/access_token/", body=requests.exceptions.ReadTimeout("timed out"))

    with pytest.raises(OutcomeUnknown):
        exchange_auth_code(make_client(fake), APP_ID, SECRET, AUTH_CODE)

    assert len(api.calls) == 1


def test_an_exchange_answered_without_a_token_is_an_error(api, fake):
    api.post(API + "oauth2/access_token/", json=envelope({"advertiser_ids": ["1"]}))

    with pytest.raises(Exception, match="no access token"):
        exchange_auth_code(make_client(fake), APP_ID, SECRET, AUTH_CODE)


def test_list_authorized_advertisers_sends_app_credentials_and_the_token(api, fake):
    api.get(
        API + "oauth2/advertiser/get/",
        json=envelope(
            {
                "list": [
                    {"advertiser_id": "7000000000000000001", "advertiser_name": "Acme EU"},
                    {"advertiser_id": 7000000000000000002, "advertiser_name": "Acme US"},
                ]
            }
        ),
    )

    advertisers = list_authorized_advertisers(make_client(fake, TOKEN), APP_ID, SECRET)

    call = api.calls[0]
    assert call.request.headers["Access-Token"] == TOKEN
    assert parse_qs(urlsplit(call.request.url).query) == {"app_id": [APP_ID], "secret": [SECRET]}
    assert [(a.advertiser_id, a.name) for a in advertisers] == [
        ("7000000000000000001", "Acme EU"),
        ("7000000000000000002", "Acme US"),
    ]


def test_listing_with_a_revoked_token_asks_to_reconnect(api, fake):
    api.get(API + "oauth2/advertiser/get/", json=envelope(code=40105, message="Invalid token"))

    with pytest.raises(TokenError, match="Reconnect the account"):
        list_authorized_advertisers(make_client(fake, TOKEN), APP_ID, SECRET)


def test_a_network_failure_while_listing_never_shows_the_secret(api, fake):
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    failure = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            None, f"/open_api/v1.3/oauth2/advertiser/get/?app_id={APP_ID}&secret={SECRET}", reason
        )
    )
    api.get(API + "oauth2/advertiser/get/", body=failure)

    with pytest.raises(TransportError) as caught:
        list_authorized_advertisers(make_client(fake, TOKEN), APP_ID, SECRET)

    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)
    assert TOKEN not in str(caught.value)
    assert "Connection refused" in str(caught.value)


def test_revoke_token_posts_the_token_with_the_app_credentials(api, fake):
    api.post(API + "oauth2/revoke_token/", json=envelope({}))

    revoke_token(make_client(fake), APP_ID, SECRET, TOKEN)

    call = api.calls[0]
    assert "Access-Token" not in call.request.headers
    assert json.loads(call.request.body) == {
        "app_id": APP_ID,
        "secret": SECRET,
        "access_token": TOKEN,
    }
