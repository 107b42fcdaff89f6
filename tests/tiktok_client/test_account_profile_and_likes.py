"""The Accounts API client against a faked wire: a profile asked for only as far as the grant
covers it, the basic profile when TikTok refuses more, and a like that learns to send the
comment's video_id when TikTok asks for it."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from tiktok_client import (
    AccountToken,
    BusinessAccountClient,
    InvalidRequest,
    PermissionDenied,
    RateLimiter,
    TikTokClient,
)
from tiktok_client.accounts import (
    BASIC_PROFILE_FIELDS,
    MAX_ORGANIC_COMMENT_LENGTH,
    PROFILE_FIELD_SCOPES,
    PROFILE_FIELDS,
    profile_fields_for,
)
from tiktok_client.learned import VIDEO_ID_PREFIX, Learned

API = "https://business-api.tiktok.com/open_api/v1.3/"
ACCESS = "act.access-SECRET-1"
OPEN_ID = "-000abcOpenId"
VIDEO = "7109000000000000001"
COMMENT = "7110000000000000001"
LIKE = API + "business/comment/like/"
LIKE_KEY = f"{VIDEO_ID_PREFIX}business/comment/like"
MISSING_VIDEO = "video_id: Missing data for required field."
BASIC = ("user.info.basic", "video.list", "comment.list", "comment.list.manage")


def envelope(data=None, code=0, message="OK"):
    return {"code": code, "message": message, "request_id": "req-1", "data": data or {}}


def fields_of(call) -> list[str] | None:
    query = parse_qs(urlsplit(call.request.url).query)
    return json.loads(query["fields"][0]) if "fields" in query else None


def body_of(call) -> dict:
    return json.loads(call.request.body)


@pytest.fixture
def api():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def saved() -> list[tuple[str, object]]:
    return []


@pytest.fixture
def client(saved) -> TikTokClient:
    learned = Learned(on_change=lambda key, value: saved.append((key, value)))
    return TikTokClient(None, sleep=lambda _: None, rate_limiter=RateLimiter(1000, 100_000),
                        learned=learned)


def account_with(client, scopes=None) -> BusinessAccountClient:
    return BusinessAccountClient(client.with_token(ACCESS), OPEN_ID, scopes=scopes)


# -- which scope covers which profile field -----------------------------------------------


def test_every_default_profile_field_is_covered_by_a_scope_the_app_asks_for():
    from tiktok_client.accounts import ACCOUNT_SCOPES

    assert set(PROFILE_FIELDS) <= set(PROFILE_FIELD_SCOPES)
    assert {PROFILE_FIELD_SCOPES[f] for f in PROFILE_FIELDS} <= set(ACCOUNT_SCOPES)
    assert {PROFILE_FIELD_SCOPES[f] for f in BASIC_PROFILE_FIELDS} == {"user.info.basic"}
    assert profile_fields_for(ACCOUNT_SCOPES) == PROFILE_FIELDS


def test_the_fields_of_a_scope_not_granted_are_left_out_in_order():
    fields = profile_fields_for(("user.info.basic", "user.info.stats"))

    assert "username" not in fields and "is_business_account" not in fields
    assert fields == tuple(f for f in PROFILE_FIELDS
                           if f not in ("username", "is_business_account"))
    assert profile_fields_for((), ["display_name", "a_field_no_source_names"]) == (
        "a_field_no_source_names",)


# -- the profile ---------------------------------------------------------------------------


def test_the_profile_asks_only_for_the_fields_the_granted_scopes_cover(api, client):
    api.get(API + "business/get/", json=envelope({"display_name": "Northwind"}))
    token = AccountToken.from_api({"access_token": ACCESS, "open_id": OPEN_ID,
                                   "scope": ",".join(BASIC)})

    account = BusinessAccountClient.for_token(client, token)
    profile = account.get_profile()

    assert account.scopes == BASIC
    assert fields_of(api.calls[0]) == list(profile_fields_for(BASIC))
    assert "username" not in fields_of(api.calls[0])
    assert (profile.display_name, profile.username) == ("Northwind", None)
    assert len(api.calls) == 1


def test_explicit_fields_are_narrowed_to_the_grant_as_well(api, client):
    api.get(API + "business/get/", json=envelope({"display_name": "Northwind"}))

    account_with(client, BASIC).get_profile(["display_name", "followers_count", "video_views"])

    assert fields_of(api.calls[0]) == ["display_name"]


def test_a_profile_refused_with_40130_is_asked_again_for_the_basic_fields(api, client):
    api.get(API + "business/get/", json=envelope(
        code=40130, message="Scope not authorized: user.info.stats"))
    api.get(API + "business/get/", json=envelope({"display_name": "Northwind",
                                                   "profile_image": "https://p16/a.jpeg"}))

    profile = account_with(client).get_profile(start_date="2025-02-01", end_date="2025-02-02")

    assert len(api.calls) == 2
    assert fields_of(api.calls[0]) == list(PROFILE_FIELDS)
    assert fields_of(api.calls[1]) == list(BASIC_PROFILE_FIELDS)
    assert "start_date" not in api.calls[1].request.url
    assert (profile.display_name, profile.followers_count) == ("Northwind", None)


@pytest.mark.parametrize(("fields", "fall_back", "code"), [
    (BASIC_PROFILE_FIELDS, True, 40130),  # nothing smaller to ask for
    (None, True, 40130),  # TikTok's default is the basic fields
    (PROFILE_FIELDS, False, 40130),
    (PROFILE_FIELDS, True, 40001),  # the endpoint itself is refused, not a field
])
def test_a_refused_profile_reaches_the_caller_when_there_is_nothing_to_fall_back_to(
        api, client, fields, fall_back, code):
    api.get(API + "business/get/", json=envelope(code=code, message="no"))

    with pytest.raises(PermissionDenied) as caught:
        account_with(client).get_profile(fields, fall_back=fall_back)

    assert caught.value.code == code
    assert len(api.calls) == 1


def test_a_refused_fallback_reaches_the_caller_after_one_retry(api, client):
    api.get(API + "business/get/", json=envelope(code=40130, message="no"))

    with pytest.raises(PermissionDenied):
        account_with(client).get_profile()

    assert len(api.calls) == 2


# -- like: video_id as TikTok asks for it ---------------------------------------------------


def test_a_like_sends_the_documented_body_even_when_the_video_is_known(api, client, saved):
    api.post(LIKE, json=envelope())

    account_with(client).like_comment(COMMENT, video_id=VIDEO)

    assert body_of(api.calls[0]) == {"business_id": OPEN_ID, "comment_id": COMMENT,
                                     "action": "LIKE"}
    assert saved == []


def test_a_like_refused_for_its_video_id_is_sent_once_more_with_it_and_later_ones_at_once(
        api, client, saved):
    api.post(LIKE, json=envelope(code=40002, message=MISSING_VIDEO))
    api.post(LIKE, json=envelope())
    account = account_with(client)

    account.like_comment(COMMENT, video_id=VIDEO)

    assert [body_of(c) for c in api.calls] == [
        {"business_id": OPEN_ID, "comment_id": COMMENT, "action": "LIKE"},
        {"business_id": OPEN_ID, "video_id": VIDEO, "comment_id": COMMENT, "action": "LIKE"},
    ]
    assert account.learned.get(LIKE_KEY) is True
    assert saved == [(LIKE_KEY, True)], "the app is told, so that it can remember it"

    other = account_with(client)  # another client of the same app shares what was learned
    other.unlike_comment(COMMENT, video_id=VIDEO)

    assert len(api.calls) == 3
    assert body_of(api.calls[2]) == {"business_id": OPEN_ID, "video_id": VIDEO,
                                     "comment_id": COMMENT, "action": "UNLIKE"}


def test_what_earlier_runs_learned_sends_the_video_id_at_once(api):
    api.post(LIKE, json=envelope())
    client = TikTokClient(ACCESS, rate_limiter=RateLimiter(1000, 100_000),
                          learned=Learned({LIKE_KEY: True}))

    BusinessAccountClient(client, OPEN_ID).like_comment(COMMENT, video_id=VIDEO)

    assert len(api.calls) == 1
    assert body_of(api.calls[0])["video_id"] == VIDEO


def test_the_retry_with_the_video_id_happens_once(api, client):
    api.post(LIKE, json=envelope(code=40002, message=MISSING_VIDEO))

    with pytest.raises(InvalidRequest, match="video_id"):
        account_with(client).like_comment(COMMENT, video_id=VIDEO)

    assert len(api.calls) == 2


def test_without_a_video_id_to_give_the_refusal_reaches_the_caller_and_is_learned(api, client):
    api.post(LIKE, json=envelope(code=40002, message=MISSING_VIDEO))
    account = account_with(client)

    with pytest.raises(InvalidRequest, match="video_id"):
        account.like_comment(COMMENT)

    assert len(api.calls) == 1
    assert account.learned.get(LIKE_KEY) is True


@pytest.mark.parametrize("message", [
    "comment_id: Comment 1 does not exist.",
    "video_id: Video 1 does not exist.",
])
def test_another_refusal_is_neither_retried_nor_learned(api, client, saved, message):
    api.post(LIKE, json=envelope(code=40002, message=message))

    with pytest.raises(InvalidRequest):
        account_with(client).like_comment(COMMENT, video_id=VIDEO)

    assert len(api.calls) == 1
    assert saved == []


def test_hide_and_pin_always_send_the_video_id_as_documented(api, client):
    api.post(API + "business/comment/hide/", json=envelope())
    api.post(API + "business/comment/pin/", json=envelope())
    account = account_with(client)

    account.hide_comment(VIDEO, COMMENT)
    account.pin_comment(VIDEO, COMMENT)

    assert [body_of(c)["video_id"] for c in api.calls] == [VIDEO, VIDEO]
    assert len(api.calls) == 2


# -- organic text ----------------------------------------------------------------------------


def test_organic_comments_take_1200_characters_and_refuse_more_before_sending(api, client):
    account = account_with(client)
    assert MAX_ORGANIC_COMMENT_LENGTH == 1200

    with pytest.raises(InvalidRequest, match="1201 characters long; the limit is 1200"):
        account.create_comment(VIDEO, "x" * 1201)
    assert len(api.calls) == 0

    api.post(API + "business/comment/create/", json=envelope(
        {"comment_id": "c9", "video_id": VIDEO, "create_time": 1627617835, "text": "x"}))
    account.create_comment(VIDEO, "x" * 1200)
    assert body_of(api.calls[0])["text"] == "x" * 1200
