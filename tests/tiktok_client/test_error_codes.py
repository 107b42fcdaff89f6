"""The table of TikTok's error codes: every row sourced, and the client acting on each class."""

import random

import pytest
import responses

from tiktok_client import (
    AuthCodeError,
    InvalidRequest,
    OutcomeUnknown,
    RateLimited,
    RateLimiter,
    ServerError,
    TikTokClient,
    TikTokError,
)
from tiktok_client.errors import (
    CODE_CLASSES,
    ERROR_CODES,
    SOURCES,
    AppUnavailable,
    error_for,
    lookup_code,
)

API = "https://business-api.tiktok.com/open_api/v1.3/"
REPLY = {
    "ad_id": "1800000000001001",
    "tiktok_item_id": "7300000000000000099",
    "comment_id": "7400000000000000001",
    "text": "Thanks!",
    "identity_type": "TT_USER",
    "identity_id": "id-xyz",
}
AD_PAGE = {"list": [{"ad_id": "1"}], "page_info": {"page": 1, "page_size": 100,
                                                     "total_number": 1, "total_page": 1}}


def envelope(code=0, message="OK", data=None):
    return {"code": code, "message": message, "request_id": "req-3", "data": data or {}}


class Highest(random.Random):
    """Full jitter at the top of its range, so backoff delays are exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def api():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps) -> TikTokClient:
    now = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    def wait(seconds: float) -> None:
        now[0] += seconds

    def clock() -> float:
        return now[0]

    limiter = RateLimiter(1000, 100_000, clock=clock, sleep=wait)
    return TikTokClient("tok-1", sleep=sleep, clock=clock, rng=Highest(), rate_limiter=limiter)


# -- the table ------------------------------------------------------------------------------


@pytest.mark.parametrize("row", ERROR_CODES, ids=lambda row: str(row.code))
def test_every_row_names_its_sources_a_meaning_and_an_error_class(row):
    assert row.sources
    assert set(row.sources) <= set(SOURCES)
    assert row.meaning.strip()
    assert issubclass(row.kind, TikTokError)
    assert row.kind.retryable in (True, False)


@pytest.mark.parametrize("row", ERROR_CODES, ids=lambda row: str(row.code))
def test_every_code_of_a_row_raises_its_class_through_error_for(row):
    for code in row.codes:
        if lookup_code(code) is not row:
            continue  # a single-code row inside a range speaks for that code
        error = error_for(code, "msg", "req-1")

        assert type(error) is row.kind
        assert (error.code, error.message, error.request_id) == (code, "msg", "req-1")
        assert CODE_CLASSES[code] is row.kind


def test_official_names_come_from_the_sdk():
    assert lookup_code(40132).name == "REQUEST_FREQUENCY_LIMITED"
    assert lookup_code(40113).name == "APP_FORBIDDEN"
    assert lookup_code(40300).name == "ADVERTISER_NOT_EXIST"
    assert lookup_code(40133).name is None  # documented by OAS only


def test_a_code_with_its_own_row_inside_a_range_keeps_its_row():
    row = lookup_code(51010)

    assert row.through is None
    assert row.name == "INTERNAL_TIME_OUT"
    assert "LIVE2" in row.sources
    assert lookup_code(51011).through == 51099


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (40132, RateLimited),
        (51000, ServerError),
        (51050, ServerError),
        (51099, ServerError),
        (52000, ServerError),
        (52204, ServerError),
        (52999, ServerError),
        (53102, ServerError),
        (53103, ServerError),
        (50000, ServerError),
        (50002, ServerError),
        (51010, ServerError),
        (60001, ServerError),
    ],
)
def test_throttling_and_service_codes_are_retryable(code, expected):
    error = error_for(code, "")

    assert type(error) is expected
    assert error.retryable


@pytest.mark.parametrize("code", [51100, 51999, 53000, 53101, 53104, 41001, 49999, 99999])
def test_codes_just_outside_the_ranges_and_unknown_codes_give_the_base_class(code):
    error = error_for(code, "Something new", "req-8")

    assert type(error) is TikTokError
    assert not error.retryable
    assert "Something new" in str(error) and f"code {code}" in str(error)


def test_no_code_gives_the_base_class():
    assert type(error_for(None, "no code")) is TikTokError
    assert lookup_code(None) is None


def test_40113_is_the_app_being_blocked_not_a_bad_authorization_code():
    error = error_for(40113, "The app has been blocked or does not exist.", "req-4")

    assert type(error) is AppUnavailable
    assert not isinstance(error, AuthCodeError)
    assert not error.retryable
    text = str(error)
    assert "TIKTOK_CLIENT_KEY" in text and "blocked or non-existent" in text
    assert "app ID" in text and "developer portal" in text
    assert "nothing can be connected or synced until it is fixed" in text
    assert text.endswith("(code 40113, request_id req-4)")


def test_40300_and_40301_are_rejected_requests_not_permission_refusals():
    for code in (40300, 40301):
        row = lookup_code(code)
        assert row.kind is InvalidRequest
        assert not row.kind.retryable
        assert "advertiser" in row.meaning


# -- the client acting on them ----------------------------------------------------------------


def test_a_read_throttled_with_40132_is_retried(api, client):
    api.get(API + "ad/get/", json=envelope(40132, "The request QPS is limited"))
    api.get(API + "ad/get/", json=envelope(data=AD_PAGE))

    ads = client.ads_page("7001")

    assert [ad.ad_id for ad in ads] == ["1"]
    assert len(api.calls) == 2
    assert client.stats.snapshot()["throttled"] == 1


def test_a_read_met_with_a_52xxx_code_is_retried_with_backoff(api, client, sleeps):
    api.get(API + "ad/get/", json=envelope(52101, "RDS read error"))
    api.get(API + "ad/get/", json=envelope(52001, "DB read error"))
    api.get(API + "ad/get/", json=envelope(data=AD_PAGE))

    ads = client.ads_page("7001")

    assert [ad.ad_id for ad in ads] == ["1"]
    assert len(api.calls) == 3
    assert sleeps == [0.5, 1.0]
    assert client.stats.snapshot()["retries"] == 2


def test_a_read_failing_with_a_51xxx_code_gives_up_as_a_server_error(api, client):
    api.get(API + "ad/get/", json=envelope(51037, "Async task error"))

    with pytest.raises(ServerError) as caught:
        client.ads_page("7001")

    assert caught.value.code == 51037
    assert len(api.calls) == 6


def test_a_write_answered_53103_is_outcome_unknown_and_not_sent_again(api, client, sleeps):
    api.post(API + "comment/post/", json=envelope(53103, "Serialization error"))

    with pytest.raises(OutcomeUnknown) as caught:
        client.reply_to_comment("7001", **REPLY)

    assert len(api.calls) == 1
    assert sleeps == []
    assert caught.value.possibly_applied
    assert isinstance(caught.value.cause, ServerError)
    assert (caught.value.code, caught.value.request_id) == (53103, "req-3")
    assert "Check the current state on TikTok" in str(caught.value)


def test_40113_on_a_read_is_not_retried_and_says_the_app_is_blocked(api, client):
    api.get(API + "ad/get/", json=envelope(40113, "The app has been blocked or does not exist."))

    with pytest.raises(AppUnavailable) as caught:
        client.ads_page("7001")

    assert len(api.calls) == 1
    assert "blocked or non-existent" in str(caught.value)
    assert client.stats.snapshot()["retries"] == 0


def test_40113_on_a_write_is_refused_once_and_not_an_unknown_outcome(api, client):
    api.post(API + "comment/post/", json=envelope(40113, "The app has been blocked."))

    with pytest.raises(AppUnavailable):
        client.reply_to_comment("7001", **REPLY)

    assert len(api.calls) == 1
