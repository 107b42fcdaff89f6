"""TikTokClient against a faked wire: exact requests, typed errors, retries, paging."""

import http.client
import json
import random
import threading
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
import urllib3.exceptions

from tiktok_client import (
    AuthCodeError,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    RateLimiter,
    ServerError,
    TikTokClient,
    TikTokError,
    TokenError,
    TransportError,
)
from tiktok_client.client import ClientStats

API = "https://business-api.tiktok.com/open_api/v1.3/"
TOKEN = "tok-7f3a9c-SECRET"


class FakeTime:
    """A clock moved only by sleeps; backoff sleeps and rate-limiter waits are kept apart."""

    def __init__(self) -> None:
        self.now = 100.0
        self.backoffs: list[float] = []
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.backoffs.append(seconds)
        self.now += seconds

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


class HighestDelay(random.Random):
    """Full jitter always picking the top of its range, so delays show the backoff curve."""

    def uniform(self, a: float, b: float) -> float:
        return b


def envelope(data=None, code=0, message="OK", request_id="req-1"):
    return {"code": code, "message": message, "request_id": request_id, "data": data or {}}


def page(items, key="list", page=1, total_page=1, page_size=100):
    return envelope(
        {
            key: items,
            "page_info": {
                "page": page,
                "page_size": page_size,
                "total_number": len(items),
                "total_page": total_page,
            },
        }
    )


def query_of(call) -> dict[str, str]:
    parsed = parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def raw_query(call) -> str:
    return urlsplit(call.request.url).query


def body_of(call) -> dict:
    return json.loads(call.request.body)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def api():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def make_client(fake):
    def make(**overrides) -> TikTokClient:
        settings = {
            "sleep": fake.sleep,
            "clock": fake.clock,
            "rng": HighestDelay(),
            "rate_limiter": RateLimiter(1000, 100_000, clock=fake.clock, sleep=fake.wait),
        }
        settings.update(overrides)
        return TikTokClient(settings.pop("access_token", TOKEN), **settings)

    return make


@pytest.fixture
def client(make_client) -> TikTokClient:
    return make_client()


REPLY_ARGS = {
    "ad_id": "1800000000001001",
    "tiktok_item_id": "7300000000000000099",
    "comment_id": "7400000000000000001",
    "text": "Thanks!",
    "identity_type": "TT_USER",
    "identity_id": "id-xyz",
}
REPLY_DATA = {
    "comment_id": "7400000000000000002",
    "tiktok_item_id": "7300000000000000099",
    "text": "Thanks!",
    "create_time": "2025-03-02 09:00:00",
    "reply_to_comment_id": "7400000000000000001",
}


def reply(client: TikTokClient, **changes):
    return client.reply_to_comment("7000000000000000001", **{**REPLY_ARGS, **changes})


def connection_refused() -> requests.exceptions.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "[Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/open_api/v1.3/comment/post/", reason)
    )


def connection_dropped() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError(
            "Connection aborted.", http.client.RemoteDisconnected("closed without response")
        )
    )


# -- the wire: URLs, headers, parameter encoding ----------------------------------------


def test_get_advertiser_info_sends_ids_as_a_json_array_with_the_access_token_header(api, client):
    api.get(
        API + "advertiser/info/",
        json=envelope({"list": [{"advertiser_id": "7001", "name": "Acme", "currency": "EUR"}]}),
    )

    advertisers = client.get_advertiser_info(["7001", "7002"])

    call = api.calls[0]
    assert call.request.headers["Access-Token"] == TOKEN
    assert "Authorization" not in call.request.headers
    assert raw_query(call) == "advertiser_ids=%5B%227001%22%2C%227002%22%5D"
    assert [(a.advertiser_id, a.name, a.currency) for a in advertisers] == [("7001", "Acme", "EUR")]


def test_get_advertiser_info_can_ask_for_fields(api, client):
    api.get(API + "advertiser/info/", json=envelope({"list": []}))

    client.get_advertiser_info(["7001"], fields=["name", "timezone"])

    assert query_of(api.calls[0]) == {
        "advertiser_ids": '["7001"]',
        "fields": '["name","timezone"]',
    }


def test_get_advertiser_info_for_no_ids_sends_nothing(api, client):
    assert client.get_advertiser_info([]) == []
    assert len(api.calls) == 0


def test_ads_page_sends_paging_and_a_compact_json_filter(api, client):
    api.get(API + "ad/get/", json=page([{"ad_id": "11", "adgroup_id": "21"}], page_size=1000))

    result = client.ads_page("7001", page=2, page_size=500, filtering={"ad_ids": ["11"]})

    assert query_of(api.calls[0]) == {
        "advertiser_id": "7001",
        "page": "2",
        "page_size": "500",
        "filtering": '{"ad_ids":["11"]}',
    }
    assert "filtering=%7B%22ad_ids%22%3A%5B%2211%22%5D%7D" in raw_query(api.calls[0])
    assert [(ad.ad_id, ad.adgroup_id) for ad in result.items] == [("11", "21")]
    assert result.page_info.total_page == 1


def test_iter_ads_walks_every_page_using_total_page(api, client):
    for number in (1, 2, 3):
        api.get(
            API + "ad/get/",
            json=page(
                [{"ad_id": f"{number}a"}, {"ad_id": f"{number}b"}], page=number, total_page=3
            ),
        )

    ads = list(client.iter_ads("7001", page_size=2))

    assert [ad.ad_id for ad in ads] == ["1a", "1b", "2a", "2b", "3a", "3b"]
    assert [query_of(call)["page"] for call in api.calls] == ["1", "2", "3"]


def test_iter_ads_stops_at_an_empty_page_even_if_total_page_says_more(api, client):
    api.get(API + "ad/get/", json=page([{"ad_id": "1"}], page=1, total_page=5))
    api.get(API + "ad/get/", json=page([], page=2, total_page=5))

    assert [ad.ad_id for ad in client.iter_ads("7001")] == ["1"]
    assert len(api.calls) == 2


def test_iter_ads_without_total_page_stops_at_a_short_page(api, client):
    api.get(API + "ad/get/", json=envelope({"list": [{"ad_id": "1"}, {"ad_id": "2"}]}))
    api.get(API + "ad/get/", json=envelope({"list": [{"ad_id": "3"}]}))

    assert [ad.ad_id for ad in client.iter_ads("7001", page_size=2)] == ["1", "2", "3"]
    assert len(api.calls) == 2


def test_iter_ads_of_an_account_without_ads_makes_one_call(api, client):
    api.get(API + "ad/get/", json=page([], total_page=0))

    assert list(client.iter_ads("7001")) == []
    assert len(api.calls) == 1


def test_comments_page_sends_the_documented_query(api, client):
    api.get(API + "comment/list/", json=page([{"comment_id": "1", "content": "hi"}], "comments"))

    result = client.comments_page("7001", "1800000000000101", "2025-03-01", "2025-03-31")

    call = api.calls[0]
    assert call.request.method == "GET"
    assert call.request.url.startswith(API + "comment/list/?")
    assert call.request.headers["Access-Token"] == TOKEN
    assert raw_query(call) == (
        "advertiser_id=7001&search_field=ADGROUP_ID&search_value=1800000000000101"
        "&start_time=2025-03-01&end_time=2025-03-31"
        "&comment_type=%5B%22ALL%22%5D&comment_status=%5B%22ALL%22%5D"
        "&sort_field=CREATE_TIME&sort_type=ASC&page=1&page_size=100"
    )
    assert [(c.comment_id, c.content) for c in result] == [("1", "hi")]


def test_comments_page_takes_dates_and_lists_of_types(api, client):
    api.get(API + "comment/list/", json=page([], "comments"))

    client.comments_page(
        "7001",
        "21",
        date(2025, 3, 1),
        datetime(2025, 3, 31, 23, 30, tzinfo=UTC),
        page=3,
        page_size=50,
        comment_type=["COMMENT", "REPLY"],
        comment_status="HIDDEN",
        sort_field="LIKES",
        sort_type="DESC",
    )

    query = query_of(api.calls[0])
    assert query["start_time"] == "2025-03-01"
    assert query["end_time"] == "2025-03-31"
    assert query["comment_type"] == '["COMMENT","REPLY"]'
    assert query["comment_status"] == '["HIDDEN"]'
    assert (query["sort_field"], query["sort_type"]) == ("LIKES", "DESC")
    assert (query["page"], query["page_size"]) == ("3", "50")


def test_comments_page_also_reads_the_v1_2_list_key(api, client):
    api.get(API + "comment/list/", json=envelope({"list": [{"comment_id": 5, "item_id": 9}]}))

    result = client.comments_page("7001", "21", "2025-03-01", "2025-03-02")

    assert [(c.comment_id, c.tiktok_item_id) for c in result] == [("5", "9")]


@pytest.mark.parametrize("page_size", [101, 1000, 0])
def test_a_comment_page_size_outside_1_to_100_is_refused_before_sending(api, client, page_size):
    with pytest.raises(ValueError, match="page_size"):
        client.comments_page("7001", "21", "2025-03-01", "2025-03-02", page_size=page_size)
    with pytest.raises(ValueError, match="page_size"):
        client.iter_comments("7001", "21", "2025-03-01", "2025-03-02", page_size=page_size)

    assert len(api.calls) == 0


def test_iter_comments_walks_every_page(api, client):
    for number in (1, 2, 3):
        api.get(
            API + "comment/list/",
            json=page([{"comment_id": str(number)}], "comments", page=number, total_page=3),
        )

    comments = list(client.iter_comments("7001", "21", "2025-03-01", "2025-03-02", page_size=1))

    assert [c.comment_id for c in comments] == ["1", "2", "3"]
    assert [query_of(call)["page"] for call in api.calls] == ["1", "2", "3"]
    assert {query_of(call)["search_value"] for call in api.calls} == {"21"}


def test_iter_comments_of_an_ad_group_without_comments_yields_nothing(api, client):
    api.get(API + "comment/list/", json=envelope({"comments": [], "page_info": {"total_page": 0}}))

    assert list(client.iter_comments("7001", "21", "2025-03-01", "2025-03-02")) == []


def test_comment_reference_of_a_comment(api, client):
    api.get(
        API + "comment/reference/",
        json=page(
            [
                {"comment_id": "1", "comment_type": "COMMENT"},
                {"comment_id": "2", "comment_type": "REPLY", "original_comment_id": "1"},
            ],
            "comments",
        ),
    )

    result = client.comment_reference("7001", "1")

    assert query_of(api.calls[0]) == {
        "advertiser_id": "7001",
        "comment_id": "1",
        "comment_type": "COMMENT",
        "page": "1",
        "page_size": "100",
    }
    assert [(c.comment_id, c.original_comment_id) for c in result] == [("1", None), ("2", "1")]


def test_comment_reference_of_a_reply_names_its_original(api, client):
    api.get(API + "comment/reference/", json=page([], "comments"))

    client.comment_reference("7001", "2", comment_type="REPLY", original_comment_id="1")

    query = query_of(api.calls[0])
    assert (query["comment_type"], query["original_comment_id"]) == ("REPLY", "1")


def test_comment_reference_of_a_reply_without_its_original_is_refused(api, client):
    with pytest.raises(ValueError, match="original_comment_id"):
        client.comment_reference("7001", "2", comment_type="REPLY")
    assert len(api.calls) == 0


def test_reply_posts_the_documented_json_body(api, client):
    api.post(API + "comment/post/", json=envelope(REPLY_DATA))

    result = reply(client)

    call = api.calls[0]
    assert call.request.url == API + "comment/post/"
    assert call.request.headers["Access-Token"] == TOKEN
    assert call.request.headers["Content-Type"] == "application/json"
    assert body_of(call) == {
        "advertiser_id": "7000000000000000001",
        "ad_id": "1800000000001001",
        "tiktok_item_id": "7300000000000000099",
        "comment_id": "7400000000000000001",
        "comment_type": "REPLY",
        "text": "Thanks!",
        "identity_type": "TT_USER",
        "identity_id": "id-xyz",
    }
    assert result.comment_id == "7400000000000000002"
    assert result.reply_to_comment_id == "7400000000000000001"
    assert result.create_time == datetime(2025, 3, 2, 9, tzinfo=UTC)


def test_reply_reads_the_nested_answer_shape(api, client):
    api.post(API + "comment/post/", json=envelope({"comment": REPLY_DATA}))

    assert reply(client).comment_id == "7400000000000000002"


def test_a_reply_of_exactly_1200_characters_is_sent(api, client):
    api.post(API + "comment/post/", json=envelope(REPLY_DATA))

    reply(client, text="x" * 1200)

    assert body_of(api.calls[0])["text"] == "x" * 1200


@pytest.mark.parametrize("text", ["x" * 1201, "", "   \n\t"], ids=["1201 chars", "empty", "blank"])
def test_a_reply_too_long_or_empty_is_refused_with_zero_http_calls(api, client, text):
    with pytest.raises(InvalidRequest) as caught:
        reply(client, text=text)

    assert caught.value.code is None
    assert len(api.calls) == 0
    assert client.stats.snapshot()["requests"] == 0


def test_hide_and_unhide_post_the_operation(api, client):
    api.post(API + "comment/status/update/", json=envelope({}))
    api.post(API + "comment/status/update/", json=envelope({}))

    client.hide_comments("7001", ["1", "2"])
    client.unhide_comments("7001", ["3"])

    assert body_of(api.calls[0]) == {
        "advertiser_id": "7001",
        "comment_ids": ["1", "2"],
        "operation": "HIDDEN",
    }
    assert body_of(api.calls[1]) == {
        "advertiser_id": "7001",
        "comment_ids": ["3"],
        "operation": "PUBLIC",
    }
    assert all(call.request.headers["Access-Token"] == TOKEN for call in api.calls)


@pytest.mark.parametrize("operation", ["HIDE", "SHOW", "hidden"])
def test_set_comment_status_refuses_operations_tiktok_does_not_know(api, client, operation):
    with pytest.raises(ValueError, match="operation"):
        client.set_comment_status("7001", ["1"], operation)
    assert len(api.calls) == 0


def test_hiding_no_comments_sends_nothing(api, client):
    client.hide_comments("7001", [])

    assert len(api.calls) == 0


def test_delete_comment_posts_the_documented_json_body(api, client):
    api.post(API + "comment/delete/", json=envelope({}))

    client.delete_comment(
        "7001",
        ad_id="11",
        tiktok_item_id="99",
        comment_id="2",
        identity_type="CUSTOMIZED_USER",
        identity_id="idn-1",
    )

    assert body_of(api.calls[0]) == {
        "advertiser_id": "7001",
        "ad_id": "11",
        "tiktok_item_id": "99",
        "comment_id": "2",
        "identity_type": "CUSTOMIZED_USER",
        "identity_id": "idn-1",
    }


def test_a_base_url_with_a_trailing_slash_builds_the_same_urls(api, make_client):
    api.get("http://127.0.0.1:8765/open_api/v1.3/ad/get/", json=page([]))

    make_client(base_url="http://127.0.0.1:8765/").ads_page("7001")

    assert urlsplit(api.calls[0].request.url).path == "/open_api/v1.3/ad/get/"


def test_a_client_without_a_token_refuses_authenticated_calls_before_sending(api, make_client):
    with pytest.raises(TokenError):
        make_client(access_token=None).ads_page("7001")
    assert len(api.calls) == 0


# -- the envelope and its errors ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (40105, TokenError),
        (40104, TokenError),
        (40001, PermissionDenied),
        (40002, InvalidRequest),
        (40110, AuthCodeError),
    ],
)
def test_an_error_code_raises_its_class_without_retrying(api, client, code, expected):
    api.get(API + "ad/get/", json=envelope(code=code, message="nope", request_id="req-77"))

    with pytest.raises(expected) as caught:
        client.ads_page("7001")

    assert type(caught.value) is expected
    assert (caught.value.code, caught.value.request_id) == (code, "req-77")
    assert len(api.calls) == 1


def test_an_unknown_code_raises_the_base_error_with_tiktoks_message(api, client):
    api.get(API + "ad/get/", json=envelope(code=41001, message="Interface offline"))

    with pytest.raises(TikTokError) as caught:
        client.ads_page("7001")

    assert type(caught.value) is TikTokError
    assert caught.value.message == "Interface offline"
    assert len(api.calls) == 1


def test_a_code_sent_as_a_string_is_understood(api, client):
    api.get(API + "ad/get/", json={"code": "40105", "message": "bad token", "request_id": "r"})

    with pytest.raises(TokenError):
        client.ads_page("7001")


def test_a_token_echoed_in_tiktoks_message_is_blanked(api, client):
    api.get(API + "ad/get/", json=envelope(code=40105, message=f"Token {TOKEN} is invalid"))

    with pytest.raises(TokenError) as caught:
        client.ads_page("7001")

    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert "Token *** is invalid" in caught.value.message


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            {
                "status": 502,
                "body": "<html><body>502 Bad Gateway</body></html>",
                "content_type": "text/html",
            },
            TransportError,
        ),
        ({"status": 200, "body": "<!DOCTYPE html><html>Login</html>"}, TransportError),
        ({"status": 503, "body": ""}, TransportError),
        ({"status": 200, "body": '{"code": 0, "message": "OK", "data": {"li'}, MalformedResponse),
        ({"status": 200, "body": "not json at all"}, MalformedResponse),
        ({"status": 200, "body": ""}, MalformedResponse),
        ({"status": 200, "json": {"message": "OK", "data": {}}}, MalformedResponse),
        ({"status": 200, "json": [{"code": 0}]}, MalformedResponse),
        ({"status": 200, "json": {"code": None, "message": "OK"}}, MalformedResponse),
        ({"status": 200, "json": {"code": 0, "data": ["a"]}}, MalformedResponse),
        (
            {"status": 200, "body": requests.exceptions.ReadTimeout("read timed out")},
            TransportError,
        ),
        ({"status": 200, "body": connection_dropped()}, TransportError),
    ],
    ids=[
        "html 502",
        "html 200",
        "empty 503",
        "truncated json",
        "not json",
        "empty body",
        "missing code",
        "json list",
        "null code",
        "data not an object",
        "read timeout",
        "connection dropped",
    ],
)
def test_answers_that_are_not_an_api_envelope_raise_typed_errors(
    api, make_client, response, expected
):
    api.get(API + "ad/get/", **response)

    with pytest.raises(expected) as caught:
        make_client(max_attempts=1).ads_page("7001")

    assert type(caught.value) is expected
    assert caught.value.retryable


def test_a_wrong_address_is_a_transport_error_that_is_not_retried(api, client):
    api.get(API + "ad/get/", status=404, body="404 page not found")

    with pytest.raises(TransportError) as caught:
        client.ads_page("7001")

    assert caught.value.status == 404
    assert not caught.value.retryable
    assert len(api.calls) == 1


def test_an_http_error_carries_the_log_id_header_as_request_id(api, make_client):
    api.get(API + "ad/get/", status=500, body="oops", headers={"X-Tt-Logid": "LOG123"})

    with pytest.raises(TransportError) as caught:
        make_client(max_attempts=1).ads_page("7001")

    assert caught.value.request_id == "LOG123"
    assert caught.value.status == 500


def test_data_null_reads_as_an_empty_page(api, client):
    api.get(API + "ad/get/", json={"code": 0, "message": "OK", "request_id": "r", "data": None})

    result = client.ads_page("7001")

    assert result.items == []


# -- retries --------------------------------------------------------------------------------


def test_a_read_is_retried_up_to_max_attempts_with_growing_backoff(api, client, fake):
    api.get(API + "ad/get/", json=envelope(code=50000, message="System error"))

    with pytest.raises(ServerError):
        client.ads_page("7001")

    assert len(api.calls) == 6
    assert fake.backoffs == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert client.stats.snapshot() == {"requests": 6, "retries": 5, "throttled": 0, "errors": 1}


def test_backoff_is_capped_at_30_seconds(api, make_client, fake):
    api.get(API + "ad/get/", body=requests.exceptions.ReadTimeout())

    with pytest.raises(TransportError):
        make_client(max_attempts=10, deadline=1000).ads_page("7001")

    assert fake.backoffs == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_backoff_uses_full_jitter_from_the_injected_rng(api, make_client, fake):
    api.get(API + "ad/get/", json=envelope(code=51010, message="Internal timeout"))

    with pytest.raises(ServerError):
        make_client(rng=random.Random(7), max_attempts=5).ads_page("7001")

    replica = random.Random(7)
    assert fake.backoffs == [replica.uniform(0, 0.5 * 2**n) for n in range(4)]
    assert all(0 <= d <= 0.5 * 2**n for n, d in enumerate(fake.backoffs))


def test_the_deadline_stops_retries_before_it_would_be_overrun(api, make_client, fake):
    api.get(API + "ad/get/", json=envelope(code=50002, message="System error"))

    with pytest.raises(ServerError):
        make_client(deadline=2.0).ads_page("7001")

    assert len(api.calls) == 3
    assert fake.backoffs == [0.5, 1.0]


def test_a_read_succeeds_after_transient_failures(api, client, fake):
    api.get(API + "ad/get/", json=envelope(code=50000))
    api.get(API + "ad/get/", body=requests.exceptions.ReadTimeout())
    api.get(API + "ad/get/", body='{"code": 0, "da')
    api.get(API + "ad/get/", status=502, body="<html>Bad gateway</html>")
    api.get(API + "ad/get/", json=page([{"ad_id": "1"}]))

    assert [ad.ad_id for ad in client.ads_page("7001")] == ["1"]
    assert client.stats.snapshot() == {"requests": 5, "retries": 4, "throttled": 0, "errors": 0}


class NoDelay(random.Random):
    """Full jitter always picking zero, so only the rate limiter holds a retry back."""

    def uniform(self, a: float, b: float) -> float:
        return a


def test_a_throttled_read_slows_the_whole_app_down_and_is_retried(api, make_client, fake):
    basic = RateLimiter(10, 600, clock=fake.clock, sleep=fake.wait, margin=0.02, burst=1)
    client = make_client(rate_limiter=basic, rng=NoDelay())
    api.get(API + "ad/get/", json=envelope(code=40100, message="Too many requests"))
    api.get(API + "ad/get/", json=page([{"ad_id": "1"}]))

    client.ads_page("7001")

    assert len(api.calls) == 2
    # The shared limiter held the retry back two request intervals of the Basic tier (not a
    # whole second), and every later request of the app now keeps a wider margin.
    assert fake.waits == [pytest.approx(0.2)]
    assert basic.margin == pytest.approx(0.04)
    assert client.stats.snapshot()["throttled"] == 1


def test_a_revoked_token_is_never_retried(api, client):
    api.get(API + "ad/get/", json=envelope(code=40105, message="Access token is incorrect"))
    api.post(API + "comment/post/", json=envelope(code=40105, message="Access token is incorrect"))

    with pytest.raises(TokenError):
        client.ads_page("7001")
    with pytest.raises(TokenError):
        reply(client)

    assert len(api.calls) == 2


def test_every_attempt_waits_for_the_rate_limiter(api, make_client, fake):
    limiter = RateLimiter(1, 1000, clock=fake.clock, sleep=fake.wait)
    api.get(API + "ad/get/", json=envelope(code=50000))
    api.get(API + "ad/get/", json=page([]))

    make_client(rate_limiter=limiter, rng=random.Random(0)).ads_page("7001")

    assert len(fake.waits) == 1  # the retry came within the same second as the first send


# -- writes: retried only when they certainly did not happen ---------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"body": connection_dropped()},
        {"body": requests.exceptions.ChunkedEncodingError("incomplete read")},
        {"status": 502, "body": "<html>Bad gateway</html>"},
        {"status": 500, "body": ""},
        {"body": '{"code": 0, "message": "OK", "data": {"comm'},
        {"body": "<html>maintenance</html>"},
        {"json": envelope(code=50000, message="System error")},
        {"json": envelope(code=51010, message="Internal timeout")},
    ],
    ids=[
        "read timeout",
        "connection dropped",
        "chunked body cut",
        "html 502",
        "500",
        "truncated json",
        "html 200",
        "system error",
        "internal timeout",
    ],
)
def test_a_write_without_a_usable_answer_is_outcome_unknown_after_exactly_one_call(
    api, client, fake, failure
):
    api.post(API + "comment/post/", **failure)

    with pytest.raises(OutcomeUnknown) as caught:
        reply(client)

    assert len(api.calls) == 1
    assert fake.backoffs == []
    assert isinstance(caught.value.cause, TransportError | MalformedResponse | ServerError)
    assert caught.value.__cause__ is caught.value.cause
    assert "POST comment/post/ was sent" in str(caught.value)


def test_a_throttled_write_is_retried(api, client):
    api.post(API + "comment/post/", json=envelope(code=40100, message="Too many requests"))
    api.post(API + "comment/post/", json=envelope(REPLY_DATA))

    result = reply(client)

    assert result.comment_id == "7400000000000000002"
    assert len(api.calls) == 2
    assert body_of(api.calls[0]) == body_of(api.calls[1])
    assert client.stats.snapshot()["throttled"] == 1


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        connection_refused(),
    ],
    ids=["connect timeout", "connection refused"],
)
def test_a_write_that_never_reached_tiktok_is_retried(api, client, failure):
    api.post(API + "comment/status/update/", body=failure)
    api.post(API + "comment/status/update/", json=envelope({}))

    client.hide_comments("7001", ["1"])

    assert len(api.calls) == 2


def test_a_host_that_refuses_connections_is_given_up_on_after_three_attempts(api, make_client):
    client = make_client(max_attempts=12, deadline=600)
    api.get(API + "ad/get/", body=connection_refused())

    with pytest.raises(TransportError) as caught:
        client.ads_page("7001")

    assert len(api.calls) == 3
    assert caught.value.possibly_applied is False


def test_a_connection_dropped_mid_answer_keeps_retrying_to_the_limit(api, make_client):
    client = make_client(max_attempts=5, deadline=600)
    api.get(API + "ad/get/", body=connection_dropped())

    with pytest.raises(TransportError):
        client.ads_page("7001")

    assert len(api.calls) == 5


def test_a_write_throttled_every_time_gives_up_as_rate_limited(api, client):
    api.post(API + "comment/post/", json=envelope(code=40100, message="Too many requests"))

    with pytest.raises(RateLimited):
        reply(client)

    assert len(api.calls) == 6


def test_a_write_to_a_wrong_address_is_a_plain_transport_error(api, client):
    api.post(API + "comment/delete/", status=404, body="not found")

    with pytest.raises(TransportError) as caught:
        client.delete_comment(
            "7001",
            ad_id="1",
            tiktok_item_id="2",
            comment_id="3",
            identity_type="TT_USER",
            identity_id="4",
        )

    assert not isinstance(caught.value, OutcomeUnknown)
    assert len(api.calls) == 1


def test_a_write_refused_for_permission_is_not_retried(api, client):
    api.post(API + "comment/status/update/", json=envelope(code=40001, message="No permission"))

    with pytest.raises(PermissionDenied):
        client.hide_comments("7001", ["1"])

    assert len(api.calls) == 1


def test_a_write_answered_ok_without_data_succeeds(api, client):
    api.post(API + "comment/status/update/", json={"code": 0, "message": "OK", "data": None})

    client.unhide_comments("7001", ["1"])

    assert len(api.calls) == 1


# -- the client object ------------------------------------------------------------------------


def test_repr_never_shows_the_token(client):
    assert TOKEN not in repr(client)
    assert "access_token=<set>" in repr(client)


def test_stats_belong_to_each_client(api, make_client):
    api.get(API + "ad/get/", json=page([]))
    first, second = make_client(), make_client()

    first.ads_page("7001")

    assert first.stats.snapshot()["requests"] == 1
    assert second.stats.snapshot()["requests"] == 0


def test_stats_count_correctly_from_many_threads():
    stats = ClientStats()

    def bump() -> None:
        for _ in range(1000):
            stats.add("requests")

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert stats.snapshot() == {"requests": 8000, "retries": 0, "throttled": 0, "errors": 0}


def test_a_client_for_another_token_shares_the_rate_limiter_and_the_counts(api, client):
    api.get(API + "ad/get/", json=page([]))

    other = client.with_token("other-token")
    other.ads_page("7001")

    assert other.rate_limiter is client.rate_limiter
    assert api.calls[0].request.headers["Access-Token"] == "other-token"
    assert client.stats.snapshot()["requests"] == 1


def test_the_client_refuses_nonsense_settings():
    with pytest.raises(ValueError):
        TikTokClient(TOKEN, max_attempts=0)
    with pytest.raises(ValueError):
        TikTokClient(TOKEN, deadline=0)
