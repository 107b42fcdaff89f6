"""The Accounts API client against a faked wire: the account holder's authorization, tokens in
both documented shapes, cursor paging, organic comment writes and their failures."""

import json
import random
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from tiktok_client import (
    AccessTokenExpired,
    AccountToken,
    AuthCodeError,
    BusinessAccountClient,
    InvalidRequest,
    MalformedResponse,
    OrganicComment,
    OutcomeUnknown,
    PermissionDenied,
    RateLimiter,
    RefreshTokenError,
    TikTokClient,
    TokenError,
    account_authorization_url,
    exchange_account_code,
    get_account_token_info,
    parse_account_redirect,
    refresh_account_token,
    revoke_account_token,
)
from tiktok_client.accounts import MAX_ORGANIC_COMMENT_LENGTH, VIDEO_FIELDS

API = "https://business-api.tiktok.com/open_api/v1.3/"
APP_ID = "7100000000000000001"
SECRET = "app-secret-0f9e8d"
ACCESS = "act.access-SECRET-1"
REFRESH = "rft.refresh-SECRET-2"
OPEN_ID = "-000abcOpenId"
REDIRECT = "https://desk.example.com/accounts/callback"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
VIDEO = "7109000000000000001"
COMMENT = "7110000000000000001"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class HighestDelay(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def envelope(data=None, code=0, message="OK"):
    return {"code": code, "message": message, "request_id": "req-1", "data": data or {}}


def query_of(call) -> dict[str, str]:
    parsed = parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def body_of(call) -> dict:
    return json.loads(call.request.body)


def dropped() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError("Connection aborted: closed without response")


@pytest.fixture
def api():
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake) -> TikTokClient:
    return TikTokClient(
        None, sleep=fake.sleep, clock=fake.clock, rng=HighestDelay(),
        rate_limiter=RateLimiter(1000, 100_000, clock=fake.clock, sleep=fake.sleep),
    )


@pytest.fixture
def account(client) -> BusinessAccountClient:
    return BusinessAccountClient(client.with_token(ACCESS), OPEN_ID)


TOKEN_DATA = {
    "access_token": ACCESS,
    "token_type": "Bearer",
    "expires_in": 86400,
    "open_id": OPEN_ID,
    "refresh_token": REFRESH,
    "refresh_token_expires_in": 31536000,
    "scope": "user.info.basic,video.list,comment.list,comment.list.manage",
}
OLD_TOKEN_DATA = {
    "access_token": ACCESS,
    "creator_id": OPEN_ID,
    "expires": 86400,
    "refresh_expires": 31536000,
    "refresh_token": REFRESH,
    "scope": "user.info.basic,video.list,comment.list,comment.list.manage",
    "token_type": "bearer",
}


# -- authorization URL and redirect -------------------------------------------------------


def test_the_authorization_url_keeps_the_portal_url_and_adds_state_and_redirect():
    portal = ("https://www.tiktok.com/v2/auth/authorize?client_key=7100000000000000001"
              "&scope=user.info.basic,comment.list&response_type=code")

    url = account_authorization_url(portal, "st/ate+1", REDIRECT + "?x=1&y=2")

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.tiktok.com",
                                                        "/v2/auth/authorize")
    query = parse_qs(parts.query)
    assert query == {
        "client_key": ["7100000000000000001"],
        "scope": ["user.info.basic,comment.list"],
        "response_type": ["code"],
        "state": ["st/ate+1"],
        "redirect_uri": [REDIRECT + "?x=1&y=2"],
    }
    assert "st%2Fate%2B1" in parts.query, "state is percent-encoded"


def test_the_authorization_url_replaces_a_state_and_redirect_copied_with_it():
    portal = "https://auth.example/authorize?client_key=k&state=old&redirect_uri=https%3A%2F%2Fx"

    query = parse_qs(urlsplit(account_authorization_url(portal, "new", REDIRECT)).query)

    assert query["state"] == ["new"]
    assert query["redirect_uri"] == [REDIRECT]


def test_the_authorization_url_needs_the_portal_url():
    with pytest.raises(ValueError, match="developer portal"):
        account_authorization_url("", "s", REDIRECT)


@pytest.mark.parametrize("callback", [
    REDIRECT + "?code=xx-aw%2A3%214964&scopes=user.info.basic%2Cvideo.list&state=s1",
    "code=xx-aw%2A3%214964&scopes=user.info.basic%2Cvideo.list&state=s1",
    "?code=xx-aw%2A3%214964&scopes=user.info.basic%2Cvideo.list&state=s1",
    {"code": "xx-aw*3!4964", "scopes": "user.info.basic,video.list", "state": "s1"},
    {"code": ["xx-aw*3!4964"], "scopes": ["user.info.basic,video.list"], "state": ["s1"]},
])
def test_the_redirect_gives_code_scopes_and_state(callback):
    redirect = parse_account_redirect(callback)

    assert redirect.code == "xx-aw*3!4964"
    assert redirect.scopes == ("user.info.basic", "video.list")
    assert redirect.state == "s1"
    assert redirect.approved
    assert "xx-aw" not in repr(redirect)


def test_a_refused_authorization_redirects_with_an_error_and_no_code():
    redirect = parse_account_redirect(
        REDIRECT + "?error=access_denied&error_description=The+user+denied&state=s1")

    assert redirect.code is None
    assert not redirect.approved
    assert (redirect.error, redirect.error_description, redirect.state) == (
        "access_denied", "The user denied", "s1")


# -- tokens --------------------------------------------------------------------------------


def test_the_code_exchange_sends_the_documented_body_without_a_token_header(api, client):
    api.post(API + "tt_user/oauth2/token/", json=envelope(TOKEN_DATA))

    token = exchange_account_code(client, APP_ID, SECRET, "the-code", REDIRECT, now=NOW)

    call = api.calls[0]
    assert "Access-Token" not in call.request.headers
    assert body_of(call) == {
        "client_id": APP_ID, "client_secret": SECRET, "grant_type": "authorization_code",
        "auth_code": "the-code", "redirect_uri": REDIRECT,
    }
    assert token.access_token == ACCESS
    assert token.refresh_token == REFRESH
    assert token.open_id == token.business_id == OPEN_ID
    assert token.scope == ("user.info.basic", "video.list", "comment.list",
                           "comment.list.manage")
    assert token.access_expires_at == datetime(2025, 3, 2, 12, 0, 0, tzinfo=UTC)
    assert token.refresh_expires_at == NOW + timedelta(days=365)


def test_the_older_token_shape_reads_into_the_same_model():
    current = AccountToken.from_api(TOKEN_DATA, NOW)
    older = AccountToken.from_api(OLD_TOKEN_DATA, NOW)

    assert (older.access_token, older.refresh_token, older.open_id, older.scope) == (
        current.access_token, current.refresh_token, current.open_id, current.scope)
    assert older.access_expires_at == current.access_expires_at
    assert older.refresh_expires_at == current.refresh_expires_at


def test_an_older_expiry_given_as_a_moment_is_read_as_one():
    moment = int(datetime(2025, 3, 2, 8, 0, tzinfo=UTC).timestamp())

    token = AccountToken.from_api({**OLD_TOKEN_DATA, "expires": moment,
                                   "refresh_expires": str(moment + 86400)}, NOW)

    assert token.access_expires_at == datetime(2025, 3, 2, 8, 0, tzinfo=UTC)
    assert token.refresh_expires_at == datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def test_expiry_is_counted_from_the_injected_now_in_utc():
    berlin = datetime(2025, 3, 1, 13, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    naive = datetime(2025, 3, 1, 12, 0, 0)

    for now in (NOW, berlin, naive):
        token = AccountToken.from_api({**TOKEN_DATA, "expires_in": 3600}, now)
        assert token.access_expires_at == datetime(2025, 3, 1, 13, tzinfo=UTC)
        assert token.access_expires_at.utcoffset() == timedelta(0)


def test_a_refreshed_token_counts_the_year_down_rather_than_restarting_it():
    refreshed = AccountToken.from_api({**TOKEN_DATA, "refresh_token_expires_in": 31527314},
                                      NOW)

    assert refreshed.refresh_expires_at == NOW + timedelta(seconds=31527314)


def test_token_expiry_helpers():
    token = AccountToken.from_api(TOKEN_DATA, NOW)
    almost = NOW + timedelta(hours=23, minutes=58)

    assert not token.access_expired(almost)
    assert token.access_expired(almost, margin=timedelta(minutes=5))
    assert token.access_expired(NOW + timedelta(days=1))
    assert not token.refresh_expired(NOW + timedelta(days=364))
    assert token.refresh_expired(NOW + timedelta(days=365))
    assert AccountToken.from_api({"access_token": "a"}, NOW).refresh_expired(NOW), (
        "without a refresh token there is nothing to renew with")
    assert token.has_scope("comment.list.manage")
    assert not token.has_scope("video.publish")


def test_the_token_repr_never_shows_either_token():
    token = AccountToken.from_api(TOKEN_DATA, NOW)

    text = repr(token)

    assert ACCESS not in text and REFRESH not in text
    assert "<hidden>" in text and OPEN_ID in text
    assert token.to_record()["refresh_token"] == REFRESH, "stored with the credentials"


def test_the_refresh_sends_the_refresh_token_and_reads_the_new_pair(api, client):
    api.post(API + "tt_user/oauth2/refresh_token/",
             json=envelope({**TOKEN_DATA, "access_token": "act.new", "refresh_token": "rft.new",
                            "refresh_token_expires_in": 31000000}))

    token = refresh_account_token(client, APP_ID, SECRET, REFRESH, now=NOW)

    assert body_of(api.calls[0]) == {"client_id": APP_ID, "client_secret": SECRET,
                                     "grant_type": "refresh_token", "refresh_token": REFRESH}
    assert (token.access_token, token.refresh_token) == ("act.new", "rft.new")
    assert token.refresh_expires_at == NOW + timedelta(seconds=31000000)


@pytest.mark.parametrize("code", [40103, 40107])
def test_an_ended_refresh_token_asks_to_reconnect_without_showing_it(api, client, code):
    api.post(API + "tt_user/oauth2/refresh_token/",
             json=envelope(code=code, message=f"refresh_token {REFRESH} is invalid"))

    with pytest.raises(RefreshTokenError) as caught:
        refresh_account_token(client, APP_ID, SECRET, REFRESH)

    assert caught.value.code == code
    assert REFRESH not in str(caught.value)
    assert "Reconnect the TikTok account" in str(caught.value)
    assert len(api.calls) == 1


def test_a_lost_refresh_answer_is_outcome_unknown_and_not_sent_twice(api, client):
    api.post(API + "tt_user/oauth2/refresh_token/", body=dropped())

    with pytest.raises(OutcomeUnknown) as caught:
        refresh_account_token(client, APP_ID, SECRET, REFRESH)

    assert len(api.calls) == 1
    assert REFRESH not in str(caught.value) and SECRET not in str(caught.value)


def test_an_answer_without_an_access_token_is_malformed(api, client):
    api.post(API + "tt_user/oauth2/token/", json=envelope({"open_id": OPEN_ID}))

    with pytest.raises(MalformedResponse, match="no access token"):
        exchange_account_code(client, APP_ID, SECRET, "code", REDIRECT)


def test_no_code_no_exchange(api, client):
    with pytest.raises(AuthCodeError, match="No authorization code"):
        exchange_account_code(client, APP_ID, SECRET, "", REDIRECT)
    assert len(api.calls) == 0


def test_revoke_and_token_info(api, client):
    api.post(API + "tt_user/oauth2/revoke/", json=envelope())
    api.post(API + "tt_user/token_info/get/",
             json=envelope({"app_id": APP_ID, "creator_id": OPEN_ID,
                            "scope": "comment.list,video.list"}))

    revoke_account_token(client, APP_ID, SECRET, ACCESS)
    info = get_account_token_info(client, APP_ID, ACCESS)

    assert body_of(api.calls[0]) == {"client_id": APP_ID, "client_secret": SECRET,
                                     "access_token": ACCESS}
    assert body_of(api.calls[1]) == {"app_id": APP_ID, "access_token": ACCESS}
    assert (info.app_id, info.open_id, info.scope) == (APP_ID, OPEN_ID,
                                                       ("comment.list", "video.list"))


# -- profile and videos --------------------------------------------------------------------


def test_the_profile_call_sends_fields_and_dates_and_reads_metrics(api, account):
    api.get(API + "business/get/", json=envelope({
        "display_name": "Northwind", "username": "northwind.official", "follower_count": "1200",
        "profile_image": "https://p16/a.jpeg", "is_business_account": True,
        "metrics": [{"date": "2025-02-27", "video_views": 10, "daily_new_followers": 2}],
        "audience_countries": [{"country": "US", "percentage": 0.5}],
    }))

    profile = account.get_profile(["display_name", "video_views"],
                                  start_date=date(2025, 2, 27), end_date="2025-02-28")

    call = api.calls[0]
    assert call.request.headers["Access-Token"] == ACCESS
    assert query_of(call) == {"business_id": OPEN_ID, "fields": '["display_name","video_views"]',
                              "start_date": "2025-02-27", "end_date": "2025-02-28"}
    assert profile.business_id == OPEN_ID
    assert (profile.display_name, profile.username, profile.followers_count) == (
        "Northwind", "northwind.official", 1200)
    assert profile.metrics[0].date == date(2025, 2, 27)
    assert (profile.metrics[0].video_views, profile.metrics[0].daily_new_followers) == (10, 2)
    assert profile.audience_countries[0].key == "US"
    assert profile.to_record()["metrics"][0]["video_views"] == 10


def video_page(ids, cursor, has_more):
    return envelope({"videos": [{"item_id": i, "create_time": "1740000000"} for i in ids],
                     "cursor": cursor, "has_more": has_more})


def test_video_pages_follow_the_cursor_until_there_is_no_more(api, account):
    api.get(API + "business/video/list/", json=video_page(["v1", "v2"], 1740000000000, True))
    api.get(API + "business/video/list/", json=video_page(["v3", "v4"], 1730000000000, True))
    api.get(API + "business/video/list/", json=video_page(["v5"], 1720000000000, False))

    videos = list(account.iter_videos(max_count=2))

    assert [v.video_id for v in videos] == ["v1", "v2", "v3", "v4", "v5"]
    assert all(v.business_id == OPEN_ID for v in videos)
    assert videos[0].create_time == datetime.fromtimestamp(1740000000, UTC)
    sent = [query_of(call) for call in api.calls]
    assert "cursor" not in sent[0]
    assert [q.get("cursor") for q in sent[1:]] == ["1740000000000", "1730000000000"]
    assert all(q["max_count"] == "2" for q in sent)
    assert json.loads(sent[0]["fields"]) == list(VIDEO_FIELDS)


def test_video_filters_go_as_one_json_object(api, account):
    api.get(API + "business/video/list/", json=video_page(["v1"], 0, False))

    account.videos_page(video_ids=["v1", "v9"], ad_post_only=True, fields=["item_id"])

    query = query_of(api.calls[0])
    assert json.loads(query["filters"]) == {"video_ids": ["v1", "v9"], "ad_post_only": True}
    assert query["fields"] == '["item_id"]'


def test_every_documented_video_field_name_is_read():
    from tiktok_client import Video

    current = Video.from_api({"item_id": "1", "caption": "c", "video_views": 5, "likes": 2,
                              "comments": 3, "shares": 1, "thumbnail_url": "t", "is_ad": "true"})
    other = Video.from_api({"video_id": "1", "title": "c", "view_count": "5", "like_count": 2,
                            "comment_count": 3, "share_count": 1, "cover_image_url": "t",
                            "is_ad": 1})

    assert current == other
    assert (current.video_views, current.comments, current.is_ad) == (5, 3, True)


def test_a_page_that_promises_more_without_a_new_cursor_stops_the_iteration(api, account):
    api.get(API + "business/video/list/", json=video_page(["v1"], 5, True))
    api.get(API + "business/video/list/", json=video_page(["v2"], 5, True))

    with pytest.raises(MalformedResponse, match="no new cursor"):
        list(account.iter_videos())


@pytest.mark.parametrize("call", [
    lambda a: a.videos_page(max_count=21),
    lambda a: a.videos_page(max_count=0),
    lambda a: a.comments_page(VIDEO, max_count=31),
    lambda a: a.replies_page(VIDEO, COMMENT, max_count=31),
    lambda a: list(a.iter_comments(VIDEO, max_count=31)),
    lambda a: a.comments_page(VIDEO, comment_ids=[str(n) for n in range(31)]),
])
def test_page_sizes_are_checked_before_sending(api, account, call):
    with pytest.raises(ValueError):
        call(account)
    assert len(api.calls) == 0


# -- comments: read ------------------------------------------------------------------------


def comment_page(comments, cursor, has_more):
    return envelope({"comments": comments, "cursor": cursor, "has_more": has_more})


def test_comment_pages_send_status_sort_and_cursor_and_follow_it(api, account):
    api.get(API + "business/comment/list/",
            json=comment_page([{"comment_id": "c1", "text": "nice"}], 1, True))
    api.get(API + "business/comment/list/",
            json=comment_page([{"comment_id": "c2", "text": "wow"}], 2, False))

    comments = list(account.iter_comments(VIDEO, max_count=1, include_replies=True))

    assert [c.comment_id for c in comments] == ["c1", "c2"]
    assert all(c.video_id == VIDEO and c.business_id == OPEN_ID for c in comments)
    first, second = (query_of(call) for call in api.calls)
    assert first == {"business_id": OPEN_ID, "video_id": VIDEO, "status": "ALL",
                     "sort_field": "create_time", "sort_order": "asc", "max_count": "1",
                     "include_replies": "true"}
    assert second["cursor"] == "1"


def test_comments_can_be_fetched_by_id(api, account):
    api.get(API + "business/comment/list/", json=comment_page([], 0, False))

    account.comments_page(VIDEO, comment_ids=["c1", "c2"], status="PUBLIC")

    query = query_of(api.calls[0])
    assert query["comment_ids"] == '["c1","c2"]'
    assert query["status"] == "PUBLIC"


def test_a_comment_reads_every_field_and_its_embedded_replies():
    comment = OrganicComment.from_api({
        "comment_id": "7110150495453840130", "video_id": VIDEO, "unique_identifier": "hash123",
        "user_id": "367b786990e8dcebcf493e035b820f5be4834422511c851b3bd0010f9690adbc",
        "create_time": "1655461098", "text": "<img src=x onerror=alert(1)>", "likes": "3",
        "replies": 11, "owner": False, "liked": "false", "pinned": True, "status": "HIDDEN",
        "username": "phoenix", "display_name": "Phoenix", "profile_image": "https://p16/p.jpeg",
        "reply_list": [{"comment_id": "r1", "text": "hh", "create_time": 1656660622}],
    }, OPEN_ID)

    assert comment.text == "<img src=x onerror=alert(1)>", "text is kept verbatim"
    assert comment.create_time == datetime.fromtimestamp(1655461098, UTC)
    assert (comment.likes, comment.replies, comment.owner, comment.liked, comment.pinned) == (
        3, 11, False, False, True)
    assert comment.is_hidden and not comment.is_reply
    assert comment.comment_type == "COMMENT"
    assert comment.parent_comment_id is None
    [reply] = comment.reply_list
    assert (reply.comment_id, reply.parent_comment_id, reply.video_id) == (
        "r1", "7110150495453840130", VIDEO)
    assert reply.comment_type == "REPLY"
    assert "reply_list" not in comment.to_record()


def test_other_field_names_and_unknown_status_values_are_kept():
    comment = OrganicComment.from_api({
        "comment_id": 7110000000000000002, "item_id": VIDEO, "content": "hi", "user_name": "u",
        "comment_status": "UNDER_REVIEW", "is_pinned": 1, "user_avatar_url": "a",
        "reply_to_comment_id": COMMENT, "create_time": "2025-03-02 08:15:00 +0000 UTC",
    })

    assert comment.comment_id == "7110000000000000002"
    assert (comment.video_id, comment.text, comment.username, comment.status) == (
        VIDEO, "hi", "u", "UNDER_REVIEW")
    assert comment.pinned is True and comment.profile_image == "a"
    assert comment.parent_comment_id == COMMENT
    assert OrganicComment.from_api({"comment_id": "x", "parent_comment_id": "0"}
                                   ).parent_comment_id is None


def test_replies_name_their_parent_even_when_the_answer_does_not(api, account):
    api.get(API + "business/comment/reply/list/",
            json=comment_page([{"comment_id": "r1"}, {"comment_id": "r2"}], 2, False))

    replies = list(account.iter_replies(VIDEO, COMMENT))

    assert [(r.comment_id, r.parent_comment_id) for r in replies] == [("r1", COMMENT),
                                                                      ("r2", COMMENT)]
    assert query_of(api.calls[0])["comment_id"] == COMMENT


# -- comments: write -----------------------------------------------------------------------


def test_a_reply_of_1200_characters_is_sent_and_read_back(api, account):
    text = "é" * MAX_ORGANIC_COMMENT_LENGTH
    api.post(API + "business/comment/reply/create/", json=envelope(
        {"comment_id": "r9", "video_id": VIDEO, "create_time": 1627617835, "text": text}))

    reply = account.reply_to_comment(VIDEO, COMMENT, text)

    assert body_of(api.calls[0]) == {"business_id": OPEN_ID, "video_id": VIDEO,
                                     "comment_id": COMMENT, "text": text}
    assert (reply.comment_id, reply.parent_comment_id, reply.text) == ("r9", COMMENT, text)
    assert reply.create_time == datetime.fromtimestamp(1627617835, UTC)


@pytest.mark.parametrize(("text", "message"), [
    ("x" * 1201, "1201 characters long; the limit is 1200"),
    ("   ", "empty"),
    ("", "empty"),
])
def test_reply_text_is_checked_before_sending(api, account, text, message):
    with pytest.raises(InvalidRequest, match=message):
        account.reply_to_comment(VIDEO, COMMENT, text)
    with pytest.raises(InvalidRequest, match="comment"):
        account.create_comment(VIDEO, text)
    assert len(api.calls) == 0


@pytest.mark.parametrize(("call", "path", "body"), [
    (lambda a: a.hide_comment(VIDEO, COMMENT), "business/comment/hide/",
     {"video_id": VIDEO, "comment_id": COMMENT, "action": "HIDE"}),
    (lambda a: a.unhide_comment(VIDEO, COMMENT), "business/comment/hide/",
     {"video_id": VIDEO, "comment_id": COMMENT, "action": "UNHIDE"}),
    (lambda a: a.like_comment(COMMENT), "business/comment/like/",
     {"comment_id": COMMENT, "action": "LIKE"}),
    (lambda a: a.unlike_comment(COMMENT), "business/comment/like/",
     {"comment_id": COMMENT, "action": "UNLIKE"}),
    (lambda a: a.pin_comment(VIDEO, COMMENT), "business/comment/pin/",
     {"video_id": VIDEO, "comment_id": COMMENT, "action": "PIN"}),
    (lambda a: a.unpin_comment(VIDEO, COMMENT), "business/comment/pin/",
     {"video_id": VIDEO, "comment_id": COMMENT, "action": "UNPIN"}),
    (lambda a: a.delete_comment(COMMENT), "business/comment/delete/",
     {"comment_id": COMMENT}),
])
def test_moderation_writes_send_the_documented_body(api, account, call, path, body):
    api.post(API + path, json=envelope())

    call(account)

    assert body_of(api.calls[0]) == {"business_id": OPEN_ID, **body}
    assert api.calls[0].request.headers["Access-Token"] == ACCESS


def test_an_unknown_action_is_refused_locally(api, account):
    with pytest.raises(ValueError, match="'HIDE' or 'UNHIDE'"):
        account.set_comment_hidden(VIDEO, COMMENT, "HIDDEN")  # type: ignore[arg-type]
    assert len(api.calls) == 0


@pytest.mark.parametrize("failure", [
    dropped(),
    requests.exceptions.ReadTimeout("read timed out"),
])
def test_a_write_whose_answer_never_came_is_outcome_unknown_and_sent_once(api, account,
                                                                          failure):
    api.post(API + "business/comment/reply/create/", body=failure)

    with pytest.raises(OutcomeUnknown) as caught:
        account.reply_to_comment(VIDEO, COMMENT, "Thanks!")

    assert len(api.calls) == 1
    assert "business/comment/reply/create/" in str(caught.value)


def test_a_write_cut_short_is_outcome_unknown(api, account):
    api.post(API + "business/comment/hide/", body='{"code":0,"message":"OK","req')

    with pytest.raises(OutcomeUnknown):
        account.hide_comment(VIDEO, COMMENT)
    assert len(api.calls) == 1


def test_a_throttled_write_was_not_applied_and_is_sent_again(api, account, fake):
    api.post(API + "business/comment/delete/", json=envelope(code=40100, message="slow down"))
    api.post(API + "business/comment/delete/", json=envelope())

    account.delete_comment(COMMENT)

    assert len(api.calls) == 2


def test_reads_are_retried_on_a_server_timeout(api, account, fake):
    api.get(API + "business/comment/list/", json=envelope(code=51010, message="timeout"))
    api.get(API + "business/comment/list/", json=comment_page([{"comment_id": "c1"}], 1, False))

    page = account.comments_page(VIDEO)

    assert [c.comment_id for c in page] == ["c1"]
    assert len(api.calls) == 2
    assert fake.sleeps == [0.5]


@pytest.mark.parametrize(("code", "error"), [
    (40102, AccessTokenExpired),
    (40105, TokenError),
    (40104, TokenError),
    (40001, PermissionDenied),
    (40002, InvalidRequest),
])
def test_error_codes_map_to_typed_errors(api, account, code, error):
    api.get(API + "business/video/list/", json=envelope(code=code, message="no"))

    with pytest.raises(error) as caught:
        account.videos_page()

    assert caught.value.code == code
    assert len(api.calls) == 1, "none of these is retried"


def test_an_expired_access_token_says_to_renew_it(api, account):
    api.post(API + "business/comment/hide/",
             json=envelope(code=40102, message="Access token has expired"))

    with pytest.raises(AccessTokenExpired) as caught:
        account.hide_comment(VIDEO, COMMENT)

    assert "refresh token" in str(caught.value)
    assert not isinstance(caught.value, RefreshTokenError)


def test_for_token_binds_the_open_id_and_the_access_token(api, client):
    api.get(API + "business/get/", json=envelope({"display_name": "x"}))
    token = AccountToken.from_api(TOKEN_DATA, NOW)

    account = BusinessAccountClient.for_token(client, token)
    account.get_profile(None)

    assert account.business_id == OPEN_ID
    assert api.calls[0].request.headers["Access-Token"] == ACCESS
    assert query_of(api.calls[0]) == {"business_id": OPEN_ID}
    assert ACCESS not in repr(account)
    with pytest.raises(ValueError):
        BusinessAccountClient.for_token(client, AccountToken(access_token="a"))
