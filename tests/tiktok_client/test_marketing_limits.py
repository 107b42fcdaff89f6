"""Limits no source settles, found out from TikTok's refusals: ad/get's page size,
comment/list's span, the longest reply to an ad comment; and Upgraded Smart+ ads."""

import json
import pickle
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from tiktok_client import (
    InvalidRequest,
    Learned,
    RateLimiter,
    ReplyTooLong,
    ServerError,
    TikTokClient,
    TikTokError,
    comments_refused,
)
from tiktok_client.client import MAX_REPLY_LENGTH, check_reply_text
from tiktok_client.learned import (
    AD_PAGE_SIZE,
    AD_REPLY_LENGTH,
    COMMENT_WINDOW_DAYS,
    SMART_PLUS_AD_PAGE_SIZE,
)

from .test_client import (
    API,
    REPLY_ARGS,
    REPLY_DATA,
    TOKEN,
    FakeTime,
    HighestDelay,
    body_of,
    envelope,
    page,
    query_of,
)

ADVERTISER = "7000000000000000001"


@pytest.fixture
def api():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def changes() -> list[tuple[str, object]]:
    return []


@pytest.fixture
def learned(changes) -> Learned:
    return Learned(on_change=lambda key, value: changes.append((key, value)))


@pytest.fixture
def make_client(learned):
    def make(**overrides) -> TikTokClient:
        fake = FakeTime()
        settings = {
            "sleep": fake.sleep,
            "clock": fake.clock,
            "rng": HighestDelay(),
            "rate_limiter": RateLimiter(1000, 100_000, clock=fake.clock, sleep=fake.wait),
            "learned": learned,
        }
        settings.update(overrides)
        return TikTokClient(TOKEN, **settings)

    return make


@pytest.fixture
def client(make_client) -> TikTokClient:
    return make_client()


class FakeAdList:
    """ad/get/ (or smart_plus/ad/get/) over ``count`` ads that refuses pages larger than
    ``limit`` with ``message``; ``refuse`` can decide per (page, size) instead."""

    def __init__(self, count, limit=1000, message="page_size: Must be between 1 and {limit}.",
                 refuse=None, id_key="ad_id"):
        self.ads = [{id_key: str(n), "adgroup_id": "21"} for n in range(count)]
        self.limit = limit
        self.message = message
        self.refuse = refuse or (lambda number, size: size > self.limit)
        self.asked: list[tuple[int, int]] = []

    def __call__(self, request):
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        number, size = int(query.get("page", 1)), int(query["page_size"])
        self.asked.append((number, size))
        if self.refuse(number, size):
            body = envelope(code=40002, message=self.message.format(limit=self.limit),
                            request_id="req-refused")
        else:
            start = (number - 1) * size
            total_page = -(-len(self.ads) // size)
            body = page(self.ads[start:start + size], page=number, total_page=total_page,
                        page_size=size)
        return 200, {}, json.dumps(body)

    def sizes(self) -> list[int]:
        return [size for _, size in self.asked]


def serve(api, fake: FakeAdList, path="ad/get/") -> FakeAdList:
    api.add_callback(responses.GET, API + path, callback=fake)
    return fake


def ids(ads) -> list[str]:
    return [ad.ad_id for ad in ads]


# -- ad/get/ page size ----------------------------------------------------------------------


def test_iter_ads_starts_at_1000_and_keeps_it_when_tiktok_accepts(api, client, learned):
    fake = serve(api, FakeAdList(1500))

    assert ids(client.iter_ads(ADVERTISER)) == [str(n) for n in range(1500)]
    assert fake.asked == [(1, 1000), (2, 1000)]
    assert learned.snapshot() == {}


def test_a_refused_page_size_steps_down_to_the_stated_limit_and_is_learned(
    api, client, learned, changes
):
    fake = serve(api, FakeAdList(1200, limit=500))

    ads = list(client.iter_ads(ADVERTISER))

    assert ids(ads) == [str(n) for n in range(1200)]
    assert fake.asked == [(1, 1000), (1, 500), (2, 500), (3, 500)]
    assert learned.get(AD_PAGE_SIZE) == 500
    assert changes == [(AD_PAGE_SIZE, 500)]
    assert client.ad_page_size() == 500


def test_without_a_stated_limit_the_page_size_walks_down_the_ladder(api, client, learned):
    fake = serve(api, FakeAdList(250, limit=150, message="Invalid page_size."))

    assert ids(client.iter_ads(ADVERTISER)) == [str(n) for n in range(250)]
    assert fake.sizes() == [1000, 500, 200, 100, 100, 100]
    assert learned.get(AD_PAGE_SIZE) == 100


def test_the_next_iter_ads_uses_the_learned_size_at_once(api, client):
    fake = serve(api, FakeAdList(600, limit=500))
    list(client.iter_ads(ADVERTISER))
    fake.asked.clear()

    list(client.iter_ads(ADVERTISER))
    list(client.with_token("other-token").iter_ads(ADVERTISER))

    assert fake.asked == [(1, 500), (2, 500)] * 2


def test_a_page_size_known_from_an_earlier_run_is_used_at_once(api, make_client):
    fake = serve(api, FakeAdList(10, limit=200))

    list(make_client(learned=Learned({AD_PAGE_SIZE: 200})).iter_ads(ADVERTISER))

    assert fake.asked == [(1, 200)]


def test_an_explicit_page_size_is_kept_but_never_above_the_learned_one(api, make_client):
    fake = serve(api, FakeAdList(10, limit=200))
    client = make_client(learned=Learned({AD_PAGE_SIZE: 200}))

    list(client.iter_ads(ADVERTISER, page_size=1000))
    list(client.iter_ads(ADVERTISER, page_size=50))

    assert fake.sizes() == [200, 50]


def test_when_the_smallest_page_size_is_refused_the_error_reaches_the_caller(
    api, client, learned
):
    fake = serve(api, FakeAdList(10, limit=5, message="page_size: Invalid."))

    with pytest.raises(InvalidRequest) as caught:
        list(client.iter_ads(ADVERTISER))

    assert fake.sizes() == [1000, 500, 200, 100, 50, 20, 10]  # each size sent once
    assert caught.value.code == 40002
    assert caught.value.request_id == "req-refused"
    assert learned.snapshot() == {}


def test_a_stated_limit_below_the_ladder_is_tried_and_then_the_error_ends_it(
    api, client, learned
):
    fake = serve(api, FakeAdList(10, limit=5, refuse=lambda number, size: True,
                                 message="page_size: Must be between 1 and {limit}."))

    with pytest.raises(InvalidRequest):
        list(client.iter_ads(ADVERTISER))

    assert fake.sizes() == [1000, 5]
    assert learned.snapshot() == {}  # a refused size is never remembered as accepted


def test_a_refusal_in_mid_list_restarts_at_page_1_of_the_new_size_without_repeats(
    api, client, learned
):
    # 1000 per page is accepted for page 1 only; later pages allow 300 (an offset limit).
    fake = serve(api, FakeAdList(
        2500, limit=300, message="page_size: at most {limit} beyond the first page",
        refuse=lambda number, size: number > 1 and size > 300))

    ads = list(client.iter_ads(ADVERTISER))

    assert ids(ads) == [str(n) for n in range(2500)]
    assert fake.asked[:3] == [(1, 1000), (2, 1000), (1, 300)]
    assert fake.asked[3:] == [(n, 300) for n in range(2, 10)]
    assert learned.get(AD_PAGE_SIZE) == 300


def test_ads_are_yielded_as_pages_are_taken_even_across_a_step_down(api, client):
    fake = serve(api, FakeAdList(1200, limit=500))
    ads = client.iter_ads(ADVERTISER)

    assert next(ads).ad_id == "0"
    assert fake.asked == [(1, 1000), (1, 500)]


def test_a_refusal_of_another_parameter_is_not_a_page_size_problem(api, client, learned):
    api.get(API + "ad/get/", json=envelope(code=40002, message="filtering: ad_ids: at most 100"))

    with pytest.raises(InvalidRequest):
        list(client.iter_ads(ADVERTISER, filtering={"ad_ids": [str(n) for n in range(101)]}))

    assert len(api.calls) == 1
    assert learned.snapshot() == {}


def test_a_server_error_is_not_stepped_down(api, make_client, learned):
    api.get(API + "ad/get/", json=envelope(code=51010, message="page_size took too long"))

    with pytest.raises(ServerError):
        list(make_client(max_attempts=1).iter_ads(ADVERTISER))

    assert len(api.calls) == 1
    assert learned.snapshot() == {}


def test_ads_page_uses_the_learned_size_unless_told(api, make_client):
    api.get(API + "ad/get/", json=page([]))
    api.get(API + "ad/get/", json=page([]))
    client = make_client(learned=Learned({AD_PAGE_SIZE: 500}))

    client.ads_page(ADVERTISER)
    client.ads_page(ADVERTISER, page_size=20)

    assert [query_of(call)["page_size"] for call in api.calls] == ["500", "20"]


def test_a_nonsense_page_size_is_refused_before_sending(api, client):
    with pytest.raises(ValueError, match="page_size"):
        client.iter_ads(ADVERTISER, page_size=0)
    with pytest.raises(ValueError, match="page_size"):
        client.ads_page(ADVERTISER, page_size=0)
    assert len(api.calls) == 0


# -- Upgraded Smart+ ads ------------------------------------------------------------------

SMART_PLUS_AD = {
    "advertiser_id": ADVERTISER,
    "campaign_id": "1800000000000009",
    "campaign_name": "Smart+ spring",
    "adgroup_id": "1800000000000109",
    "adgroup_name": "Smart+ group",
    "smart_plus_ad_id": "1850472306618481",
    "ad_name": "Smart+ promo",
    "operation_status": "ENABLE",
    "secondary_status": "AD_STATUS_DELIVERY_OK",
    "create_time": "2026-01-01 00:00:01",
    "modify_time": "2026-01-02 00:00:01",
    "creative_list": [
        {
            "smart_plus_creative_id": "1850472306618490",
            "material_operation_status": "ENABLE",
            "creative_info": {
                "ad_format": "SINGLE_VIDEO",
                "identity_type": "BC_AUTH_TT",
                "identity_id": "idn-bc",
                "identity_authorized_bc_id": "bc-1",
                "tiktok_item_id": "7300000000000000101",
                "video_info": {"video_id": "v10033g50000smart1", "file_name": "a.mp4"},
            },
        },
        {
            "creative_info": {
                "ad_format": "SINGLE_VIDEO",
                "tiktok_item_id": "7300000000000000102",
                "video_info": {"video_id": "v10033g50000smart2"},
            },
        },
    ],
    "ad_text_list": [{"ad_text": "Spring is here"}, {"ad_text": "Second text"}],
    "landing_page_url_list": [{"landing_page_url": "https://shop.example/spring"}],
    "call_to_action_list": [{"call_to_action": "SHOP_NOW"}],
    "ad_configuration": {"call_to_action_id": "cta-1"},
}


def test_smart_plus_ads_page_asks_the_smart_plus_endpoint_and_reads_its_shape(api, client):
    api.get(API + "smart_plus/ad/get/", json=page([SMART_PLUS_AD], page_size=1000))

    result = client.smart_plus_ads_page(ADVERTISER, filtering={"adgroup_ids": ["1800000000000109"]})

    assert query_of(api.calls[0]) == {
        "advertiser_id": ADVERTISER,
        "page": "1",
        "page_size": "1000",
        "filtering": '{"adgroup_ids":["1800000000000109"]}',
    }
    (ad,) = result.items
    assert ad.smart_plus is True
    assert (ad.ad_id, ad.adgroup_id, ad.campaign_id) == (
        "1850472306618481", "1800000000000109", "1800000000000009")
    assert (ad.identity_type, ad.identity_id) == ("BC_AUTH_TT", "idn-bc")
    assert ad.tiktok_item_id == "7300000000000000101"
    assert ad.tiktok_item_ids == ("7300000000000000101", "7300000000000000102")
    assert ad.video_id == "v10033g50000smart1"
    assert (ad.ad_text, ad.landing_page_url, ad.call_to_action) == (
        "Spring is here", "https://shop.example/spring", "SHOP_NOW")
    assert ad.ad_format == "SINGLE_VIDEO"


def test_iter_smart_plus_ads_steps_down_under_its_own_key(api, client, learned):
    fake = serve(api, FakeAdList(700, limit=500, id_key="smart_plus_ad_id"),
                 "smart_plus/ad/get/")

    ads = list(client.iter_smart_plus_ads(ADVERTISER))

    assert ids(ads) == [str(n) for n in range(700)]
    assert all(ad.smart_plus for ad in ads)
    assert fake.asked == [(1, 1000), (1, 500), (2, 500)]
    assert learned.snapshot() == {SMART_PLUS_AD_PAGE_SIZE: 500}


def test_ads_from_ad_get_are_not_smart_plus(api, client):
    api.get(API + "ad/get/", json=page([{"ad_id": "1", "tiktok_item_id": "73"}]))

    (ad,) = client.iter_ads(ADVERTISER)

    assert ad.smart_plus is False
    assert ad.tiktok_item_ids == ("73",)


@pytest.mark.parametrize(
    "error",
    [
        InvalidRequest("This API does not support Upgraded Smart Plus ads", 40002, "r"),
        InvalidRequest("Smart+ ads are not supported by this endpoint", 40002),
        InvalidRequest("comment list: unsupported for SMART PLUS ad groups", 40000),
        TikTokError("smart_plus adgroup not supported", 40006),
    ],
)
def test_comments_refused_recognises_tiktoks_refusal_for_smart_plus_ads(error):
    assert comments_refused(error)


@pytest.mark.parametrize(
    "error",
    [
        ServerError("Internal timeout", 51010),
        InvalidRequest("page_size: Must be between 1 and 100.", 40002),
        InvalidRequest("Smart Plus ad group", 40002),
        InvalidRequest("This API does not support Upgraded Smart Plus ads"),  # not from TikTok
        ValueError("This API does not support Upgraded Smart Plus ads"),
    ],
    ids=["51010", "other parameter", "no refusal", "local", "not a TikTok error"],
)
def test_comments_refused_is_false_for_anything_else(error):
    assert not comments_refused(error)


def test_a_refusal_from_comment_list_is_recognised(api, client):
    api.get(API + "comment/list/", json=envelope(
        code=40002, message="This API does not support Upgraded Smart Plus ads"))

    with pytest.raises(InvalidRequest) as caught:
        client.comments_page(ADVERTISER, "1800000000000109", "2026-01-01", "2026-01-30")

    assert comments_refused(caught.value)


# -- comment/list/ span -------------------------------------------------------------------


def span_error(message: str, code: int = 40002) -> InvalidRequest:
    return InvalidRequest(message, code, "req-span")


def test_the_comment_window_is_the_default_until_tiktok_refuses_one(client):
    assert client.comment_window_days() == 30
    assert client.comment_window_days(90) == 90


def test_a_refused_span_steps_down_to_the_stated_limit_and_is_learned(client, learned, changes):
    error = span_error("The time span between start_time and end_time must not exceed 30 days.")

    assert client.next_comment_window(error, 90) == 30
    assert learned.get(COMMENT_WINDOW_DAYS) == 30
    assert changes == [(COMMENT_WINDOW_DAYS, 30)]
    assert client.comment_window_days(90) == 30
    assert client.comment_window_days(14) == 14


def test_a_refused_span_without_a_limit_steps_down_the_ladder(client):
    too_long = span_error("end_time: the time range is too long.")

    assert client.next_comment_window(too_long, 30) == 14
    assert client.next_comment_window(too_long, 14) == 7
    assert client.next_comment_window(too_long, 7) == 3
    assert client.next_comment_window(too_long, 3) == 1
    assert client.next_comment_window(too_long, 1) is None
    assert client.comment_window_days() == 1


def test_a_refusal_naming_end_time_and_its_span_gives_the_stated_span(client):
    error = span_error("end_time: The span from start_time to end_time must not exceed 30 days.")

    assert client.next_comment_window(error, 31) == 30


def test_a_limit_stated_as_less_than_counts_one_day_less(client):
    error = span_error("start_time and end_time: date range must be less than 31 days", 40000)

    assert client.next_comment_window(error, 60) == 30


def test_a_span_learned_meanwhile_is_used_when_it_is_shorter(make_client):
    client = make_client(learned=Learned({COMMENT_WINDOW_DAYS: 7}))
    error = span_error("The time span between start_time and end_time must not exceed 30 days.")

    assert client.next_comment_window(error, 30) == 7


@pytest.mark.parametrize(
    "error",
    [
        span_error("start_time: Not a valid date."),
        span_error("end_time must be later than start_time"),
        span_error("search_value: adgroup 21 does not exist"),
        InvalidRequest("The time span must not exceed 30 days."),  # refused before sending
        ServerError("Internal timeout", 51010),
        ValueError("start_time after end_time"),
    ],
    ids=["date format", "order", "other parameter", "local", "51010", "not a TikTok error"],
)
def test_other_errors_are_not_a_refused_span(client, learned, error):
    assert client.next_comment_window(error, 30) is None
    assert learned.snapshot() == {}


def test_the_error_of_a_comments_page_call_gives_the_next_span(api, client):
    api.get(API + "comment/list/", json=envelope(
        code=40002, message="end_time: The time span must not exceed 7 days."))

    with pytest.raises(InvalidRequest) as caught:
        client.comments_page(ADVERTISER, "21", "2026-01-01", "2026-01-30")

    assert client.next_comment_window(caught.value, 30) == 7
    assert client.comment_window_days() == 7


# -- comment/post/ text length ------------------------------------------------------------


def reply(client: TikTokClient, text: str):
    return client.reply_to_comment(ADVERTISER, **{**REPLY_ARGS, "text": text})


def test_replies_start_at_1200_characters(client):
    assert MAX_REPLY_LENGTH == 1200
    assert client.ad_reply_limit() == 1200


def test_a_reply_over_the_learned_limit_is_refused_before_sending(api, make_client):
    client = make_client(learned=Learned({AD_REPLY_LENGTH: 500}))

    with pytest.raises(ReplyTooLong) as caught:
        reply(client, "x" * 501)

    assert (caught.value.limit, caught.value.length, caught.value.code) == (500, 501, None)
    assert "TikTok accepts at most 500 characters for replies to ad comments" in str(caught.value)
    assert "not posted" in str(caught.value)
    assert len(api.calls) == 0


def test_tiktok_refusing_the_text_as_too_long_teaches_the_stated_limit(api, client, changes):
    api.post(API + "comment/post/", json=envelope(
        code=40002, message="text: Length must be less than or equal to 300.",
        request_id="req-long"))

    with pytest.raises(ReplyTooLong) as caught:
        reply(client, "x" * 800)

    error = caught.value
    assert isinstance(error, InvalidRequest)
    assert (error.limit, error.length, error.code, error.request_id) == (300, 800, 40002,
                                                                         "req-long")
    assert "TikTok accepts at most 300 characters for replies to ad comments" in str(error)
    assert "not posted" in str(error)
    assert isinstance(error.__cause__, InvalidRequest)
    assert changes == [(AD_REPLY_LENGTH, 300)]
    assert client.ad_reply_limit() == 300
    assert len(api.calls) == 1

    with pytest.raises(ReplyTooLong):
        reply(client, "x" * 301)
    assert len(api.calls) == 1  # checked before sending from then on


def test_a_length_range_in_the_refusal_is_read_as_the_limit(api, client):
    api.post(API + "comment/post/", json=envelope(
        code=40002, message="text: Length must be between 1 and 500."))

    with pytest.raises(ReplyTooLong) as caught:
        reply(client, "x" * 501)

    assert caught.value.limit == 500


@pytest.mark.parametrize(("length", "learned_limit"), [(1200, 500), (1000, 500), (400, 150)])
def test_a_refusal_that_states_no_limit_steps_down_below_the_texts_length(
    api, client, length, learned_limit
):
    api.post(API + "comment/post/", json=envelope(code=40002, message="text: too long"))

    with pytest.raises(ReplyTooLong) as caught:
        reply(client, "x" * length)

    assert caught.value.limit == learned_limit
    assert client.ad_reply_limit() == learned_limit


@pytest.mark.parametrize(
    ("message", "length"),
    [
        ("text: too long", 100),  # shorter than the smallest rung: not about length
        ("text: Missing data for required field.", 800),
        ("text contains words that are not allowed", 800),
        ("identity_id: not authorized", 800),
    ],
)
def test_a_refusal_that_is_not_about_length_reaches_the_caller_unchanged(
    api, client, learned, message, length
):
    api.post(API + "comment/post/", json=envelope(code=40002, message=message))

    with pytest.raises(InvalidRequest) as caught:
        reply(client, "x" * length)

    assert type(caught.value) is InvalidRequest
    assert caught.value.message == message
    assert learned.snapshot() == {}


def test_a_refusal_under_a_learned_limit_lowers_it_further(api, make_client):
    client = make_client(learned=Learned({AD_REPLY_LENGTH: 500}))
    api.post(API + "comment/post/", json=envelope(code=40002, message="text: too long"))

    with pytest.raises(ReplyTooLong) as caught:
        reply(client, "x" * 450)

    assert caught.value.limit == 150
    assert client.ad_reply_limit() == 150


def test_check_reply_text_takes_the_limit_to_check_against():
    check_reply_text("x" * 1200)
    check_reply_text("x" * 150, 150)
    with pytest.raises(ReplyTooLong) as caught:
        check_reply_text("x" * 151, 150)
    assert (caught.value.limit, caught.value.length) == (150, 151)
    with pytest.raises(InvalidRequest, match="empty") as empty:
        check_reply_text("   ", 150)
    assert not isinstance(empty.value, ReplyTooLong)


def test_reply_too_long_survives_pickling():
    error = ReplyTooLong(code=40002, request_id="r", limit=300, length=800)

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is ReplyTooLong
    assert (copy.limit, copy.length, copy.code, copy.request_id, copy.message) == (
        300, 800, 40002, "r", error.message)


# -- comment/status/update/, comment/reference/, identities ---------------------------------


def test_set_comment_status_sends_ad_type_only_when_given(api, client):
    for _ in range(3):
        api.post(API + "comment/status/update/", json=envelope({}))

    client.set_comment_status(ADVERTISER, ["1"], "HIDDEN", ad_type="BRAND")
    client.hide_comments(ADVERTISER, ["2"], ad_type="BIDDING")
    client.unhide_comments(ADVERTISER, ["3"])

    assert [body_of(call).get("ad_type") for call in api.calls] == ["BRAND", "BIDDING", None]
    assert body_of(api.calls[0]) == {"advertiser_id": ADVERTISER, "comment_ids": ["1"],
                                     "operation": "HIDDEN", "ad_type": "BRAND"}


@pytest.mark.parametrize("ad_type", ["brand", "RESERVATION", ""])
def test_an_ad_type_tiktok_does_not_know_is_refused_before_sending(api, client, ad_type):
    with pytest.raises(ValueError, match="ad_type"):
        client.set_comment_status(ADVERTISER, ["1"], "HIDDEN", ad_type=ad_type)
    assert len(api.calls) == 0


def test_comment_reference_pages_hold_at_most_100(api, client):
    api.get(API + "comment/reference/", json=page([], "comments"))

    client.comment_reference(ADVERTISER, "1", page_size=100)
    with pytest.raises(ValueError, match="page_size"):
        client.comment_reference(ADVERTISER, "1", page_size=101)

    assert len(api.calls) == 1


@pytest.mark.parametrize(
    "identity_type", ["CUSTOMIZED_USER", "AUTH_CODE", "TT_USER", "BC_AUTH_TT", "BC_SELF_TT"]
)
def test_every_identity_type_tiktok_uses_is_sent_as_given(api, client, identity_type):
    api.post(API + "comment/post/", json=envelope(REPLY_DATA))
    api.post(API + "comment/delete/", json=envelope({}))
    identity = {"identity_type": identity_type, "identity_id": "idn-1"}

    client.reply_to_comment(ADVERTISER, **{**REPLY_ARGS, **identity})
    client.delete_comment(ADVERTISER, ad_id="11", tiktok_item_id="99", comment_id="2",
                          **identity)

    assert [body_of(call)["identity_type"] for call in api.calls] == [identity_type] * 2
