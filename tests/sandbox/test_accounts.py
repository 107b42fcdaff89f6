"""The Accounts API in the sandbox: the account holder's consent, tokens that expire and
refresh, cursor-paged videos and organic comments, moderation, and the Spark Ads link."""

from __future__ import annotations

import html
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tiktok_sandbox import ManualClock, account_authorization_code, start_sandbox
from tiktok_sandbox.corpus import HOSTILE_COMMENTS
from tiktok_sandbox.faults import READ_KINDS, UNPROCESSED_KINDS, WRITE_KINDS
from tiktok_sandbox.server import ENDPOINTS

from .conftest import API, START, Api, small_config

DAY = 86_400
YEAR = 365 * DAY
REDIRECT = "http://127.0.0.1:8501/?page=accounts"
SCOPES = "user.info.basic,video.list,comment.list,comment.list.manage"


# -- helpers and fixtures ------------------------------------------------------------------


@pytest.fixture
def organic(sandbox):
    return sandbox.ground_truth_accounts()


@pytest.fixture
def account(organic):
    """The first business account: the ADMIN advertiser's own TikTok account."""
    return organic["accounts"][0]


@pytest.fixture
def tokens(sandbox, account):
    return sandbox.issue_account_token(account["business_id"])


@pytest.fixture
def biz(sandbox, tokens):
    return Api(sandbox.base_url, tokens["access_token"])


def busiest_video(organic, business_id):
    counts = Counter(c["video_id"] for c in organic["comments"]
                     if c["business_id"] == business_id and c["comment_type"] == "COMMENT")
    return max(counts, key=lambda v: (counts[v], v))


def busiest_thread(organic, business_id):
    """A top-level comment with the most replies, and its video."""
    parent = max((c for c in organic["comments"]
                  if c["business_id"] == business_id and c["comment_type"] == "COMMENT"),
                 key=lambda c: (c["replies"], c["comment_id"]))
    return parent["video_id"], parent["comment_id"]


def comment_in(organic, comment_id):
    return next((c for c in organic["comments"] if c["comment_id"] == comment_id), None)


def token_call(sandbox, endpoint, **body):
    defaults = {"client_id": sandbox.config.app_id, "client_secret": sandbox.config.secret}
    return Api(sandbox.base_url, None).post(endpoint, {**defaults, **body}, token=None)


def exchange(sandbox, code, redirect_uri=REDIRECT, **overrides):
    body = {"grant_type": "authorization_code", "auth_code": code,
            "redirect_uri": redirect_uri, **overrides}
    return token_call(sandbox, "tt_user/oauth2/token/", **body)


def refresh(sandbox, refresh_token, **overrides):
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token, **overrides}
    return token_call(sandbox, "tt_user/oauth2/refresh_token/", **body)


def consent(sandbox, **params):
    query = {"client_key": sandbox.config.app_id, "scope": SCOPES, "response_type": "code",
             "state": "s1", "redirect_uri": REDIRECT}
    query.update(params)
    return requests.get(f"{sandbox.base_url}/v2/auth/authorize/", params=query, timeout=5)


def decide(sandbox, action, **form):
    data = {"client_key": sandbox.config.app_id, "scope": SCOPES, "state": "s1",
            "redirect_uri": REDIRECT}
    data.update(form)
    return requests.post(f"{sandbox.base_url}/v2/auth/authorize/{action}", data=data,
                         allow_redirects=False, timeout=5)


def redirected_query(response):
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith("http://127.0.0.1:8501/?")
    return parse_qs(urlsplit(location).query)


def a_code(sandbox, open_id=None):
    return account_authorization_code(sandbox.base_url, client_key=sandbox.config.app_id,
                                      redirect_uri=REDIRECT, open_id=open_id)


def all_pages(fetch, key):
    """Follow the cursor of a list endpoint; returns the items and the cursors sent."""
    items, cursors, cursor = [], [], None
    while True:
        answer = fetch(cursor)
        assert answer["code"] == 0, answer
        data = answer["data"]
        assert set(data) == {key, "cursor", "has_more"}
        items += data[key]
        cursors.append(data["cursor"])
        if not data["has_more"]:
            return items, cursors
        cursor = data["cursor"]


# -- consent -------------------------------------------------------------------------------


def test_the_consent_screen_offers_every_account_and_names_the_scopes(sandbox, organic):
    page = consent(sandbox, state='"><script>alert(1)</script>')

    assert page.status_code == 200
    for account in organic["accounts"]:
        assert f'value="{account["business_id"]}"' in page.text
        assert html.escape(account["username"]) in page.text
    for scope in SCOPES.split(","):
        assert scope in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert page.text.count(" checked>") == 1


def test_authorize_redirects_with_code_scopes_and_state(sandbox, organic):
    chosen = organic["accounts"][1]["business_id"]

    query = redirected_query(decide(sandbox, "confirm", open_id=chosen, state="abc 123/=&"))

    assert set(query) == {"page", "code", "scopes", "state"}
    assert query["scopes"] == [SCOPES]
    assert query["state"] == ["abc 123/=&"]
    assert query["page"] == ["accounts"], "the redirect URI's own query is kept"
    answer = exchange(sandbox, query["code"][0])
    assert answer["code"] == 0, answer
    assert answer["data"]["open_id"] == chosen


def test_cancel_redirects_with_access_denied_and_no_code(sandbox):
    query = redirected_query(decide(sandbox, "cancel", state="xyz"))

    assert query["error"] == ["access_denied"]
    assert query["state"] == ["xyz"]
    assert "code" not in query


@pytest.mark.parametrize("change", [
    {"client_key": "another-app"},
    {"response_type": "token"},
    {"scope": ""},
    {"scope": "user.info.basic,ads.read"},
    {"redirect_uri": "https://attacker.example/cb"},
    {"redirect_uri": "javascript:alert(1)"},
])
def test_a_bad_authorization_request_is_an_error_page_never_a_redirect(sandbox, change):
    page = consent(sandbox, **change)
    assert page.status_code == 400
    assert "Location" not in page.headers
    if "response_type" not in change:
        assert decide(sandbox, "confirm", **change).status_code == 400


def test_account_redirect_uris_replace_the_loopback_rule(clock):
    allowed = "https://desk.example.com/accounts"
    with start_sandbox(small_config(clock, account_redirect_uris=[allowed])) as sandbox:
        assert consent(sandbox, redirect_uri=allowed + "?x=1").status_code == 200
        assert consent(sandbox, redirect_uri=REDIRECT).status_code == 400
        assert sandbox.config.redirect_uris is None, "advertiser redirects are unaffected"


def test_the_portal_url_of_the_handle_opens_the_consent_screen(sandbox):
    url = sandbox.account_auth_url + "&" + "state=s&redirect_uri=" + requests.utils.quote(
        REDIRECT, safe="")
    assert requests.get(url, timeout=5).status_code == 200
    assert "state" not in parse_qs(urlsplit(sandbox.account_auth_url).query)


# -- codes and tokens ----------------------------------------------------------------------


def test_a_code_gives_tokens_in_the_documented_shape(sandbox, account):
    answer = exchange(sandbox, a_code(sandbox, account["business_id"]))

    assert answer["code"] == 0
    data = answer["data"]
    assert set(data) == {"access_token", "token_type", "expires_in", "open_id",
                         "refresh_token", "refresh_token_expires_in", "scope"}
    assert data["access_token"].startswith("act.")
    assert data["refresh_token"].startswith("rft.")
    assert (data["expires_in"], data["refresh_token_expires_in"]) == (86_400, 31_536_000)
    assert data["open_id"] == account["business_id"]
    assert data["scope"].split(",")[0] == "user.info.basic"


def test_codes_are_single_use(sandbox):
    code = a_code(sandbox)
    assert exchange(sandbox, code)["code"] == 0
    assert exchange(sandbox, code)["code"] == 40110
    assert exchange(sandbox, "made-up")["code"] == 40110


def test_a_code_expires_after_one_hour(sandbox, clock):
    fresh, stale = a_code(sandbox), a_code(sandbox)
    clock.advance(3599)
    assert exchange(sandbox, fresh)["code"] == 0
    clock.advance(1)
    answer = exchange(sandbox, stale)
    assert answer["code"] == 40131
    assert "expired" in answer["message"]


def test_the_exchange_checks_app_redirect_and_grant_type_without_using_up_the_code(sandbox):
    code = a_code(sandbox)
    assert exchange(sandbox, code, client_secret="wrong")["code"] == 40101
    assert exchange(sandbox, code, client_id="other")["code"] == 40101
    assert exchange(sandbox, code, redirect_uri="http://127.0.0.1:9999/")["code"] == 40101
    assert exchange(sandbox, code, grant_type="refresh_token")["code"] == 40108
    missing = exchange(sandbox, code, redirect_uri="")
    assert (missing["code"], missing["message"].split(":")[0]) == (40002, "redirect_uri")
    assert exchange(sandbox, code)["code"] == 0


def test_the_access_token_lives_24_hours_on_the_sandbox_clock(sandbox, biz, account, clock):
    clock.advance(DAY - 1)
    assert biz.get("business/get/", business_id=account["business_id"])["code"] == 0
    clock.advance(1)
    answer = biz.get("business/get/", business_id=account["business_id"])
    assert answer["code"] == 40102
    assert "expired" in answer["message"]


def test_a_refresh_gives_a_new_pair_and_never_extends_the_year(sandbox, tokens, account, clock):
    clock.advance(100 * DAY)
    first = refresh(sandbox, tokens["refresh_token"])["data"]
    assert first["access_token"] != tokens["access_token"]
    assert first["refresh_token"] != tokens["refresh_token"]
    assert first["refresh_token_expires_in"] == YEAR - 100 * DAY
    assert first["expires_in"] == DAY
    assert Api(sandbox.base_url, first["access_token"]).get(
        "business/get/", business_id=account["business_id"])["code"] == 0

    clock.advance(200 * DAY)
    second = refresh(sandbox, first["refresh_token"])["data"]
    assert second["refresh_token_expires_in"] == YEAR - 300 * DAY

    clock.advance(65 * DAY - 1)
    last = refresh(sandbox, second["refresh_token"])
    assert last["code"] == 0 and last["data"]["refresh_token_expires_in"] == 1
    clock.advance(1)
    answer = refresh(sandbox, last["data"]["refresh_token"])
    assert answer["code"] == 40103, "a year after the first authorization, refreshing ends"


def test_the_old_refresh_token_works_until_the_new_one_is_used(sandbox, tokens):
    old = tokens["refresh_token"]
    lost = refresh(sandbox, old)["data"]["refresh_token"]  # as if the answer never arrived
    kept = refresh(sandbox, old)["data"]["refresh_token"]
    assert lost != kept

    newer = refresh(sandbox, kept)
    assert newer["code"] == 0
    assert refresh(sandbox, old)["code"] == 40107
    assert refresh(sandbox, lost)["code"] == 40107
    assert refresh(sandbox, kept)["code"] == 0, "kept works until its own successor is used"


def test_earlier_access_tokens_live_out_their_own_24_hours(sandbox, tokens, account, clock):
    clock.advance(DAY / 2)
    renewed = refresh(sandbox, tokens["refresh_token"])["data"]
    old, new = Api(sandbox.base_url, tokens["access_token"]), Api(sandbox.base_url,
                                                                  renewed["access_token"])
    assert old.get("business/get/", business_id=account["business_id"])["code"] == 0
    clock.advance(DAY / 2)
    assert old.get("business/get/", business_id=account["business_id"])["code"] == 40102
    assert new.get("business/get/", business_id=account["business_id"])["code"] == 0


def test_revoking_ends_access_and_refresh_tokens(sandbox, tokens, biz, account):
    answer = token_call(sandbox, "tt_user/oauth2/revoke/", access_token=tokens["access_token"])
    assert answer == {**answer, "code": 0, "data": {}}

    assert biz.get("business/get/", business_id=account["business_id"])["code"] == 40105
    assert refresh(sandbox, tokens["refresh_token"])["code"] == 40107
    again = token_call(sandbox, "tt_user/oauth2/revoke/", access_token=tokens["access_token"])
    assert again["code"] == 40105


def test_token_info_names_the_account_and_its_scopes(sandbox, tokens, account, clock):
    body = {"app_id": sandbox.config.app_id, "access_token": tokens["access_token"]}
    anonymous = Api(sandbox.base_url, None)

    info = anonymous.post("tt_user/token_info/get/", body, token=None)

    assert info["data"] == {"app_id": sandbox.config.app_id,
                            "creator_id": account["business_id"], "scope": tokens["scope"]}
    clock.advance(DAY)
    assert anonymous.post("tt_user/token_info/get/", body, token=None)["code"] == 40102


def test_refresh_rejects_a_wrong_grant_type_and_unknown_tokens(sandbox, tokens):
    assert refresh(sandbox, tokens["refresh_token"], grant_type="authorization_code")[
        "code"] == 40108
    assert refresh(sandbox, "rft.made-up")["code"] == 40107
    assert refresh(sandbox, tokens["refresh_token"], client_secret="x")["code"] == 40101


def test_account_and_advertiser_tokens_do_not_mix(sandbox, api, biz, account):
    advertiser = Api(sandbox.base_url, api.token)
    assert advertiser.get("business/get/", business_id=account["business_id"])["code"] == 40105
    assert biz.get("user/info/")["code"] == 40105


# -- validation ----------------------------------------------------------------------------


def test_every_call_needs_the_access_token_header(biz, account):
    answer = biz.get("business/get/", token=None, business_id=account["business_id"])
    assert answer["code"] == 40104


@pytest.mark.parametrize(("endpoint", "params", "named"), [
    ("business/get/", {}, "business_id"),
    ("business/video/list/", {"max_count": 21}, "max_count"),
    ("business/video/list/", {"max_count": 0}, "max_count"),
    ("business/video/list/", {"cursor": -1}, "cursor"),
    ("business/video/list/", {"fields": ["item_id", "secret_field"]}, "fields"),
    ("business/video/list/", {"filters": "{not json"}, "filters"),
    ("business/video/list/", {"filters": {"video_ids": ["1"] * 21}}, "filters.video_ids"),
    ("business/comment/list/", {}, "video_id"),
    ("business/comment/list/", {"video_id": "1", "max_count": 31}, "max_count"),
    ("business/comment/list/", {"video_id": "1", "status": "HIDDEN"}, "status"),
    ("business/comment/list/", {"video_id": "1", "sort_order": "smart"}, "sort_order"),
    ("business/comment/list/", {"video_id": "1", "sort_field": "LIKES"}, "sort_field"),
    ("business/comment/list/", {"video_id": "1", "include_replies": "yes"}, "include_replies"),
    ("business/comment/list/", {"video_id": "1", "comment_ids": [str(n) for n in range(31)]},
     "comment_ids"),
    ("business/comment/reply/list/", {"video_id": "1"}, "comment_id"),
    ("business/get/", {"start_date": "2025-10-01"}, "end_date"),
    ("business/get/", {"start_date": "2025-10-01", "end_date": "10/02/2025"}, "end_date"),
    ("business/get/", {"start_date": "2025-10-05", "end_date": "2025-10-01"}, "end_date"),
    ("business/get/", {"start_date": "2025-10-01", "end_date": "2025-10-10"}, "end_date"),
    ("business/get/", {"start_date": "2025-07-01", "end_date": "2025-09-30"}, "end_date"),
])
def test_bad_read_parameters_are_40002_naming_the_parameter(biz, account, endpoint, params,
                                                            named):
    params = {"business_id": account["business_id"], **params}
    if named == "business_id":
        del params["business_id"]

    answer = biz.get(endpoint, **params)

    assert answer["code"] == 40002, answer
    assert answer["message"].startswith(f"{named}:"), answer["message"]


@pytest.mark.parametrize(("endpoint", "body", "named"), [
    ("business/comment/reply/create/", {"video_id": "1", "comment_id": "2"}, "text"),
    ("business/comment/reply/create/", {"video_id": "1", "comment_id": "2", "text": "x" * 1201},
     "text"),
    ("business/comment/reply/create/", {"video_id": "1", "comment_id": "2", "text": "  "},
     "text"),
    ("business/comment/create/", {"text": "hi"}, "video_id"),
    ("business/comment/hide/", {"video_id": "1", "comment_id": "2", "action": "HIDDEN"},
     "action"),
    ("business/comment/hide/", {"video_id": "1", "comment_id": "2"}, "action"),
    ("business/comment/like/", {"comment_id": "2", "action": "LOVE"}, "action"),
    ("business/comment/pin/", {"video_id": "1", "action": "PIN"}, "comment_id"),
    ("business/comment/delete/", {}, "comment_id"),
])
def test_bad_write_parameters_are_40002_naming_the_parameter(biz, account, endpoint, body,
                                                             named):
    answer = biz.post(endpoint, {"business_id": account["business_id"], **body})

    assert answer["code"] == 40002, answer
    assert answer["message"].startswith(f"{named}:")


def test_another_accounts_business_id_is_40106(biz, organic):
    other = organic["accounts"][1]["business_id"]
    answer = biz.get("business/video/list/", business_id=other)
    assert answer["code"] == 40106
    assert other in answer["message"]


def test_a_missing_scope_is_40001_naming_it(sandbox, account):
    reader = Api(sandbox.base_url, sandbox.issue_account_token(
        account["business_id"], scopes=["user.info.basic", "video.list", "comment.list"]
    )["access_token"])
    video = reader.get("business/video/list/", business_id=account["business_id"])
    video_id = video["data"]["videos"][0]["item_id"]
    assert reader.get("business/comment/list/", business_id=account["business_id"],
                      video_id=video_id)["code"] == 0

    answer = reader.post("business/comment/hide/", {
        "business_id": account["business_id"], "video_id": video_id, "comment_id": "1",
        "action": "HIDE"})

    assert answer["code"] == 40001
    assert "comment.list.manage" in answer["message"]


def test_a_video_or_comment_of_another_account_is_refused(biz, organic, account):
    other = organic["accounts"][1]["business_id"]
    foreign_video = next(v["video_id"] for v in organic["videos"] if v["business_id"] == other)
    foreign = next(c for c in organic["comments"] if c["business_id"] == other)
    answer = biz.get("business/comment/list/", business_id=account["business_id"],
                     video_id=foreign_video)
    assert answer["code"] == 40002 and answer["message"].startswith("video_id:")
    answer = biz.post("business/comment/like/", {"business_id": account["business_id"],
                                                 "comment_id": foreign["comment_id"],
                                                 "action": "LIKE"})
    assert answer["code"] == 40002 and answer["message"].startswith("comment_id:")


# -- profile and videos --------------------------------------------------------------------


def test_the_profile_answers_the_fields_asked_for(biz, account):
    default = biz.get("business/get/", business_id=account["business_id"])["data"]
    assert default == {"display_name": account["display_name"],
                       "profile_image": account["profile_image"]}

    fields = ["username", "followers_count", "videos_count", "total_likes",
              "is_business_account", "audience_countries"]
    data = biz.get("business/get/", business_id=account["business_id"], fields=fields)["data"]

    assert set(data) == set(fields)
    assert {f: data[f] for f in fields[:5]} == {f: account[f] for f in fields[:5]}
    assert abs(sum(s["percentage"] for s in data["audience_countries"]) - 1) < 0.01


def test_daily_metrics_cover_each_day_asked_for(biz, account):
    data = biz.get("business/get/", business_id=account["business_id"],
                   fields=["video_views", "daily_new_followers"],
                   start_date="2025-10-03", end_date="2025-10-09")["data"]

    assert [m["date"] for m in data["metrics"]] == [f"2025-10-0{d}" for d in range(3, 10)]
    assert all(set(m) == {"date", "video_views", "daily_new_followers"} for m in data["metrics"])
    again = biz.get("business/get/", business_id=account["business_id"],
                    fields=["video_views", "daily_new_followers"],
                    start_date="2025-10-03", end_date="2025-10-09")["data"]
    assert again == data, "the same days give the same figures"


def test_videos_page_newest_first_with_a_millisecond_cursor(biz, organic, account):
    expected = [v for v in organic["videos"] if v["business_id"] == account["business_id"]]
    assert len(expected) > 5

    videos, cursors = all_pages(
        lambda cursor: biz.get("business/video/list/", business_id=account["business_id"],
                               fields=["item_id", "create_time"], max_count=5,
                               **({} if cursor is None else {"cursor": cursor})),
        "videos")

    assert [v["item_id"] for v in videos] == [v["video_id"] for v in expected]
    times = [int(v["create_time"]) for v in videos]
    assert times == sorted(times, reverse=True)
    assert cursors[0] == times[4] * 1000
    assert len(cursors) == -(-len(expected) // 5)


def test_without_fields_a_video_is_only_its_item_id(biz, account):
    data = biz.get("business/video/list/", business_id=account["business_id"],
                   max_count=2)["data"]
    assert [set(v) for v in data["videos"]] == [{"item_id"}, {"item_id"}]


def test_videos_by_id_and_ad_posts_only(biz, organic, account):
    mine = [v for v in organic["videos"] if v["business_id"] == account["business_id"]]
    wanted = [mine[-1]["video_id"], mine[0]["video_id"], "7000000000000000000"]

    data = biz.get("business/video/list/", business_id=account["business_id"],
                   filters={"video_ids": wanted})["data"]
    assert [v["item_id"] for v in data["videos"]] == [mine[0]["video_id"], mine[-1]["video_id"]]
    assert (data["cursor"], data["has_more"]) == (0, False)

    ads = biz.get("business/video/list/", business_id=account["business_id"],
                  filters={"ad_post_only": True}, fields=["item_id", "is_ad"])["data"]
    assert {v["item_id"] for v in ads["videos"]} == {v["video_id"] for v in mine if v["is_ad"]}
    assert ads["videos"] and all(v["is_ad"] for v in ads["videos"])


def test_spark_ads_promote_the_accounts_own_videos(sandbox, api, truth, organic):
    linked = [v for v in organic["videos"] if v["ad_ids"]]
    assert linked, "some ads are Spark Ads of a business account's video"
    accounts = {a["business_id"]: a for a in organic["accounts"]}
    for video in linked:
        account = accounts[video["business_id"]]
        [ad_id] = video["ad_ids"]
        answer = api.get("ad/get/", advertiser_id=account["advertiser_id"],
                         filtering={"ad_ids": [ad_id]})
        [ad] = answer["data"]["list"]
        assert ad["tiktok_item_id"] == video["video_id"]
        assert (ad["identity_type"], ad["identity_id"]) == ("TT_USER", account["identity_id"])
        assert ad["display_name"] == account["username"]
        assert video["is_ad"] is True
    unlinked = {a["tiktok_item_id"] for a in truth["ads"]} - {v["video_id"] for v in linked}
    assert unlinked, "ads with other identities promote no account video"
    assert not unlinked & {v["video_id"] for v in organic["videos"]}


# -- organic comments: reads ---------------------------------------------------------------


def list_comments(biz, account, video_id, **params):
    def fetch(cursor):
        extra = {} if cursor is None else {"cursor": cursor}
        return biz.get("business/comment/list/", business_id=account["business_id"],
                       video_id=video_id, **params, **extra)
    return all_pages(fetch, "comments")[0]


def test_comment_pages_cover_every_top_level_comment_once(biz, organic, account):
    video_id = busiest_video(organic, account["business_id"])
    expected = [c for c in organic["comments"]
                if c["video_id"] == video_id and c["comment_type"] == "COMMENT"]
    assert len(expected) > 60

    rows = list_comments(biz, account, video_id, max_count=30, sort_order="asc")

    assert [r["comment_id"] for r in rows] == [c["comment_id"] for c in expected]
    for row, truth in zip(rows, expected, strict=True):
        assert row["text"] == truth["text"]
        assert row["create_time"] == truth["create_time"]
        assert (row["status"], row["owner"], row["likes"], row["replies"]) == (
            truth["status"], truth["owner"], truth["likes"], truth["replies"])
        assert "parent_comment_id" not in row
        assert re.fullmatch(r"[0-9a-f]{64}", row["user_id"])


def test_default_order_is_newest_first_and_status_public_leaves_hidden_out(biz, organic,
                                                                          account):
    video_id = busiest_video(organic, account["business_id"])
    rows = list_comments(biz, account, video_id, max_count=30)
    times = [(int(r["create_time"]), r["comment_id"]) for r in rows]
    assert times == sorted(times, reverse=True)
    assert {r["status"] for r in rows} == {"PUBLIC", "HIDDEN"}

    public = list_comments(biz, account, video_id, max_count=30, status="PUBLIC")
    assert [r["comment_id"] for r in public] == [
        r["comment_id"] for r in rows if r["status"] == "PUBLIC"]


def test_oldest_first_paging_is_stable_while_comments_arrive(sandbox, biz, organic, account):
    video_id = busiest_video(organic, account["business_id"])
    first = biz.get("business/comment/list/", business_id=account["business_id"],
                    video_id=video_id, sort_order="asc", max_count=30)["data"]
    added = set(sandbox.add_organic_comments(40, account["business_id"]))
    rows, cursor = list(first["comments"]), first["cursor"]
    while True:
        data = biz.get("business/comment/list/", business_id=account["business_id"],
                       video_id=video_id, sort_order="asc", max_count=30, cursor=cursor)["data"]
        rows += data["comments"]
        if not data["has_more"]:
            break
        cursor = data["cursor"]
    truth = sandbox.ground_truth_accounts(video_id=video_id)
    expected = [c["comment_id"] for c in truth["comments"] if c["comment_type"] == "COMMENT"]
    assert [r["comment_id"] for r in rows] == expected
    assert added & set(expected), "the new comments on this video come last"


def test_sorting_by_likes_or_replies(biz, organic, account):
    video_id = busiest_video(organic, account["business_id"])
    for field in ("likes", "replies"):
        rows = list_comments(biz, account, video_id, sort_field=field, sort_order="desc",
                             max_count=30)
        values = [r[field] for r in rows]
        assert values == sorted(values, reverse=True)


def test_replies_page_and_embedded_replies(biz, organic, account):
    video_id, parent_id = busiest_thread(organic, account["business_id"])
    expected = [c for c in organic["comments"] if c["parent_comment_id"] == parent_id]
    assert len(expected) >= 2

    replies, _ = all_pages(
        lambda cursor: biz.get("business/comment/reply/list/",
                               business_id=account["business_id"], video_id=video_id,
                               comment_id=parent_id, sort_order="asc", max_count=1,
                               **({} if cursor is None else {"cursor": cursor})),
        "comments")
    assert [r["comment_id"] for r in replies] == [c["comment_id"] for c in expected]
    assert {r["parent_comment_id"] for r in replies} == {parent_id}

    rows = biz.get("business/comment/list/", business_id=account["business_id"],
                   video_id=video_id, comment_ids=[parent_id], include_replies="True"
                   )["data"]["comments"]
    [row] = rows
    assert [r["comment_id"] for r in row["reply_list"]] == [
        c["comment_id"] for c in expected][:3]


def test_comments_by_id_include_replies(biz, organic, account):
    video_id, parent_id = busiest_thread(organic, account["business_id"])
    reply = next(c for c in organic["comments"] if c["parent_comment_id"] == parent_id)

    rows = biz.get("business/comment/list/", business_id=account["business_id"],
                   video_id=video_id, comment_ids=[reply["comment_id"], parent_id, "999"],
                   sort_order="asc")["data"]["comments"]

    assert [r["comment_id"] for r in rows] == [parent_id, reply["comment_id"]]
    assert rows[1]["parent_comment_id"] == parent_id


def test_a_reply_has_no_replies_to_list(biz, organic, account):
    video_id, parent_id = busiest_thread(organic, account["business_id"])
    reply = next(c for c in organic["comments"] if c["parent_comment_id"] == parent_id)
    answer = biz.get("business/comment/reply/list/", business_id=account["business_id"],
                     video_id=video_id, comment_id=reply["comment_id"])
    assert answer["code"] == 40002 and answer["message"].startswith("comment_id:")


# -- organic comments: writes --------------------------------------------------------------


def write(biz, account, endpoint, **body):
    return biz.post(endpoint, {"business_id": account["business_id"], **body})


def a_viewer_comment(organic, account, **where):
    return next(c for c in organic["comments"]
                if c["business_id"] == account["business_id"] and not c["owner"]
                and c["comment_type"] == "COMMENT"
                and all(c[k] == v for k, v in where.items()))


def test_a_reply_appears_in_the_ground_truth_and_the_listing(sandbox, biz, organic, account,
                                                             clock):
    parent = a_viewer_comment(organic, account)
    clock.advance(60)

    answer = write(biz, account, "business/comment/reply/create/", video_id=parent["video_id"],
                   comment_id=parent["comment_id"], text="Thanks! 💛 <b>DM us</b>")

    assert answer["code"] == 0, answer
    data = answer["data"]
    assert set(data) == {"comment_id", "video_id", "create_time", "text", "parent_comment_id"}
    assert (data["parent_comment_id"], data["video_id"]) == (parent["comment_id"],
                                                             parent["video_id"])
    assert data["create_time"] == START + 60
    after = sandbox.ground_truth_accounts(video_id=parent["video_id"])
    reply = comment_in(after, data["comment_id"])
    assert reply["text"] == "Thanks! 💛 <b>DM us</b>"
    assert (reply["owner"], reply["username"], reply["status"]) == (
        True, account["username"], "PUBLIC")
    assert comment_in(after, parent["comment_id"])["replies"] == parent["replies"] + 1
    listed = biz.get("business/comment/reply/list/", business_id=account["business_id"],
                     video_id=parent["video_id"], comment_id=parent["comment_id"],
                     sort_order="desc", max_count=1)["data"]["comments"]
    assert listed[0]["comment_id"] == data["comment_id"]


def test_a_reply_to_a_reply_is_refused(biz, organic, account):
    reply = next(c for c in organic["comments"]
                 if c["business_id"] == account["business_id"] and c["comment_type"] == "REPLY")
    answer = write(biz, account, "business/comment/reply/create/", video_id=reply["video_id"],
                   comment_id=reply["comment_id"], text="Hi")
    assert answer["code"] == 40002
    assert answer["message"].startswith("comment_id:")


def test_hide_and_unhide(sandbox, biz, organic, account):
    comment = a_viewer_comment(organic, account, status="PUBLIC")
    target = {"video_id": comment["video_id"], "comment_id": comment["comment_id"]}

    assert write(biz, account, "business/comment/hide/", action="HIDE", **target)["data"] == {}
    assert comment_in(sandbox.ground_truth_accounts(), comment["comment_id"])["status"] == (
        "HIDDEN")
    public = list_comments(biz, account, comment["video_id"], status="PUBLIC", max_count=30)
    assert comment["comment_id"] not in {r["comment_id"] for r in public}

    assert write(biz, account, "business/comment/hide/", action="UNHIDE", **target)["code"] == 0
    assert comment_in(sandbox.ground_truth_accounts(), comment["comment_id"])["status"] == (
        "PUBLIC")


def test_only_the_accounts_own_comments_can_be_deleted(sandbox, biz, organic, account):
    viewer = a_viewer_comment(organic, account)
    answer = write(biz, account, "business/comment/delete/", comment_id=viewer["comment_id"])
    assert answer["code"] == 40001
    assert comment_in(sandbox.ground_truth_accounts(), viewer["comment_id"]) is not None

    own = next(c for c in organic["comments"]
               if c["business_id"] == account["business_id"] and c["owner"]
               and c["comment_type"] == "REPLY")
    parent_id = own["parent_comment_id"]
    before = comment_in(organic, parent_id)["replies"]
    assert write(biz, account, "business/comment/delete/",
                 comment_id=own["comment_id"])["code"] == 0
    after = sandbox.ground_truth_accounts()
    assert comment_in(after, own["comment_id"]) is None
    assert comment_in(after, parent_id)["replies"] == before - 1
    assert after["comment_count"] == organic["comment_count"] - 1


def test_deleting_an_own_top_level_comment_takes_its_replies_with_it(sandbox, biz, organic,
                                                                     account):
    created = write(biz, account, "business/comment/create/",
                    video_id=organic["videos"][0]["video_id"], text="Which colour next? 👇")
    assert created["code"] == 0, created
    comment_id = created["data"]["comment_id"]
    sandbox_truth = sandbox.ground_truth_accounts()
    assert comment_in(sandbox_truth, comment_id)["owner"] is True
    reply = write(biz, account, "business/comment/reply/create/",
                  video_id=created["data"]["video_id"], comment_id=comment_id, text="Blue!")

    assert write(biz, account, "business/comment/delete/", comment_id=comment_id)["code"] == 0

    after = sandbox.ground_truth_accounts()
    assert comment_in(after, comment_id) is None
    assert comment_in(after, reply["data"]["comment_id"]) is None
    assert after["comment_count"] == organic["comment_count"]


def test_likes_and_pins(sandbox, biz, organic, account):
    comment = a_viewer_comment(organic, account, liked=False)
    for _ in range(2):
        assert write(biz, account, "business/comment/like/", comment_id=comment["comment_id"],
                     action="LIKE")["code"] == 0
    liked = comment_in(sandbox.ground_truth_accounts(), comment["comment_id"])
    assert (liked["liked"], liked["likes"]) == (True, comment["likes"] + 1)
    write(biz, account, "business/comment/like/", comment_id=comment["comment_id"],
          action="UNLIKE")
    unliked = comment_in(sandbox.ground_truth_accounts(), comment["comment_id"])
    assert (unliked["liked"], unliked["likes"]) == (False, comment["likes"])

    video_id = comment["video_id"]
    others = [c for c in organic["comments"]
              if c["video_id"] == video_id and c["comment_type"] == "COMMENT"][:2]
    for target in others:
        write(biz, account, "business/comment/pin/", video_id=video_id,
              comment_id=target["comment_id"], action="PIN")
    pinned = [c["comment_id"] for c in sandbox.ground_truth_accounts(video_id=video_id)[
        "comments"] if c["pinned"]]
    assert pinned == [others[-1]["comment_id"]], "one pinned comment per video"


# -- the generated world -------------------------------------------------------------------


def organic_world(**overrides):
    with start_sandbox(small_config(ManualClock(START), **overrides)) as sandbox:
        return sandbox.ground_truth_accounts()


def test_the_same_seed_gives_identical_accounts_videos_and_comments():
    assert organic_world(seed=5) == organic_world(seed=5)
    assert organic_world(seed=5)["comments"] != organic_world(seed=6)["comments"]


def test_the_accounts_leave_the_ad_world_unchanged():
    def ads_world(**overrides):
        with start_sandbox(small_config(ManualClock(START), **overrides)) as sandbox:
            truth = sandbox.ground_truth()
        del truth["stats"]
        return truth

    assert ads_world(business_accounts=0, organic_comments=0) == ads_world(
        business_accounts=5, organic_comments=900)


def test_the_requested_sizes_are_met(organic, sandbox):
    assert len(organic["accounts"]) == 3
    assert len(organic["comments"]) == organic["comment_count"] == 800
    per_account = Counter(v["business_id"] for v in organic["videos"])
    assert all(count >= sandbox.config.videos_per_account for count in per_account.values())
    assert [a["advertiser_id"] is not None for a in organic["accounts"]] == [True] * 3
    assert len({a["business_id"] for a in organic["accounts"]}) == 3
    assert all(a["business_id"].startswith("-000") for a in organic["accounts"])


def test_standalone_accounts_beyond_the_advertisers():
    world = organic_world(business_accounts=5)
    assert [a["advertiser_id"] is None for a in world["accounts"]] == [False] * 3 + [True] * 2
    assert len({a["username"] for a in world["accounts"]}) == 5


def test_comments_are_multilingual_hostile_hidden_and_partly_the_accounts_own(organic):
    texts = [c["text"] for c in organic["comments"]]
    for hostile in HOSTILE_COMMENTS:
        assert hostile in texts
    assert any(re.search(r"[\u3040-\u30ff]", t) for t in texts), "Japanese"
    assert any(re.search(r"[\u0600-\u06ff]", t) for t in texts), "Arabic"
    assert any(c["status"] == "HIDDEN" for c in organic["comments"])
    for account in organic["accounts"]:
        mine = [c for c in organic["comments"] if c["business_id"] == account["business_id"]]
        assert any(c["owner"] for c in mine), "every account has a comment it may delete"
        assert any(c["comment_type"] == "REPLY" for c in mine)
    replies = Counter(c["parent_comment_id"] for c in organic["comments"]
                      if c["parent_comment_id"])
    tops = {c["comment_id"]: c for c in organic["comments"] if c["comment_type"] == "COMMENT"}
    assert all(tops[parent]["replies"] == n for parent, n in replies.items())
    assert all(c["create_ts"] >= next(v["create_ts"] for v in organic["videos"]
                                      if v["video_id"] == c["video_id"])
               for c in organic["comments"] if c["comment_type"] == "COMMENT")


def test_organic_comments_keep_arriving_on_the_sandbox_clock(clock):
    with start_sandbox(small_config(clock, new_organic_comments_per_minute=6.0)) as sandbox:
        before = sandbox.ground_truth_accounts()["comment_count"]
        clock.advance(600)
        after = sandbox.ground_truth_accounts()
    assert after["comment_count"] == before + 60
    newest = sorted(after["comments"], key=lambda c: c["create_ts"])[-60:]
    assert all(START < c["create_ts"] <= START + 600 for c in newest)


def test_organic_comment_ids_never_equal_ad_comment_ids(truth, organic):
    assert not {c["comment_id"] for c in truth["comments"]} & {
        c["comment_id"] for c in organic["comments"]}


# -- ground truth, faults, rate limits -----------------------------------------------------


def test_ground_truth_over_http_matches_the_handle(sandbox, organic, account):
    url = sandbox.base_url + "/_sandbox/ground_truth_accounts"
    assert requests.get(url, timeout=5).json() == organic
    narrowed = requests.get(url, params={"business_id": account["business_id"],
                                         "include": "videos"}, timeout=5).json()
    assert "comments" not in narrowed and "accounts" not in narrowed
    assert narrowed["videos"] == [v for v in organic["videos"]
                                  if v["business_id"] == account["business_id"]]
    health = requests.get(sandbox.base_url + "/_sandbox/health", timeout=5).json()
    assert (health["business_accounts"], health["organic_comments"]) == (3, 800)


def test_each_endpoint_meets_only_the_faults_its_kind_allows():
    kinds = {name: endpoint.fault_kinds for name, endpoint in ENDPOINTS.items()
             if name.startswith(("tt_user/", "business/"))}
    assert {kinds[n] for n in kinds if n.startswith("tt_user/")} == {UNPROCESSED_KINDS}
    assert {kinds[n] for n in kinds if n.startswith("business/") and ENDPOINTS[n].method ==
            "GET"} == {READ_KINDS}
    assert {kinds[n] for n in kinds if ENDPOINTS[n].method == "POST"
            and n.startswith("business/")} == {WRITE_KINDS}


def test_a_faulty_sandbox_refresh_never_loses_the_refresh_token(clock):
    with start_sandbox(small_config(clock, fault_rate=1.0, stall_seconds=0.05)) as sandbox:
        tokens = sandbox.issue_account_token()
        seen = []
        for _ in range(4):
            response = requests.post(
                sandbox.base_url + API + "tt_user/oauth2/refresh_token/", timeout=5,
                json={"client_id": sandbox.config.app_id,
                      "client_secret": sandbox.config.secret, "grant_type": "refresh_token",
                      "refresh_token": tokens["refresh_token"]})
            seen.append(response.json()["code"] if response.status_code == 200
                        else response.status_code)
        kinds = {entry["kind"] for entry in sandbox.stats()["fault_log"]}
    assert seen[:3] != [0, 0, 0] and seen[3] == 0, seen
    assert kinds <= set(UNPROCESSED_KINDS)


def test_the_apps_rate_limit_covers_the_accounts_api(clock, account):
    with start_sandbox(small_config(clock, qps=2, qpm=100)) as sandbox:
        tokens = sandbox.issue_account_token()
        biz = Api(sandbox.base_url, tokens["access_token"])
        codes = [biz.get("business/get/", business_id=tokens["open_id"])["code"]
                 for _ in range(3)]
        clock.advance(1)
        assert biz.get("business/get/", business_id=tokens["open_id"])["code"] == 0
    assert codes == [0, 0, 40100]
