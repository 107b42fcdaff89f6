"""TikTok's own Python SDK (business_api_client) works against the sandbox unchanged: the
way it encodes parameters and the shapes it reads are the ones the sandbox speaks.

The SDK returns ``{"data", "request_id"}`` on code 0 and raises TiktokSDKError otherwise."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

business_api_client = pytest.importorskip("business_api_client")
from business_api_client.models import (  # noqa: E402
    BlockedwordCreateBody,
    BlockedwordDeleteBody,
    BlockedwordTaskCreateBody,
    BlockedwordUpdateBody,
    CommentPostBody,
    FilteringAdGet,
    Oauth2AccessTokenBody,
    PageInfo,
    StatusUpdateBody,
)
from business_api_client.tiktok_business.tiktok_exceptions import TiktokSDKError  # noqa: E402

WINDOW = ("2025-09-10", "2025-10-09")


@pytest.fixture
def client(sandbox):
    configuration = business_api_client.Configuration()
    configuration.host = sandbox.base_url
    return business_api_client.ApiClient(configuration)


@pytest.fixture
def token(sandbox, client):
    """A token obtained the way an app does: consent screen, redirect, code exchange."""
    redirect = requests.post(
        f"{sandbox.base_url}/portal/auth/authorize", allow_redirects=False, timeout=5,
        data={"app_id": sandbox.config.app_id, "state": "sdk",
              "redirect_uri": "http://127.0.0.1:8501/"},
    )
    code = parse_qs(urlsplit(redirect.headers["Location"]).query)["auth_code"][0]
    answer = business_api_client.AuthenticationApi(client).oauth2_access_token(
        body=Oauth2AccessTokenBody(app_id=sandbox.config.app_id, secret=sandbox.config.secret,
                                   auth_code=code))
    return answer["data"]["access_token"]


@pytest.fixture
def writable(truth):
    """A writable advertiser's ad group and a top-level comment on an ad that may be
    answered."""
    admin = next(a["advertiser_id"] for a in truth["advertisers"] if a["user_can_write"])
    ads = {a["ad_id"]: a for a in truth["ads"]}
    low, high = 1_757_462_400, 1_760_054_400  # WINDOW in epoch seconds
    comment = max(
        (c for c in truth["comments"]
         if c["advertiser_id"] == admin and c["comment_type"] == "COMMENT"
         and ads[c["ad_id"]]["is_auth_comment_manage_scope"] and low <= c["create_ts"] < high),
        key=lambda c: c["create_ts"],
    )
    return admin, comment, ads[comment["ad_id"]]


def list_comments(client, token, advertiser_id, adgroup_id, **options):
    rows, page = [], 1
    while True:
        answer = business_api_client.CommentsApi(client).comment_list(
            advertiser_id, WINDOW[0], WINDOW[1], "ADGROUP_ID", adgroup_id, token,
            page=page, page_size=100, **options)
        rows += answer["data"]["comments"]
        if page >= answer["data"]["page_info"]["total_page"]:
            return {row["comment_id"]: row for row in rows}
        page += 1


def test_sdk_exchanges_a_code_and_lists_the_granted_advertisers(sandbox, client, token, truth):
    answer = business_api_client.AuthenticationApi(client).oauth2_advertiser_get(
        sandbox.config.app_id, sandbox.config.secret, token)
    assert answer["request_id"]
    assert {a["advertiser_id"] for a in answer["data"]["list"]} == {
        a["advertiser_id"] for a in truth["advertisers"]}


def test_sdk_lists_ads_with_filtering_and_fields(client, token, truth, writable):
    advertiser_id, _, ad = writable
    answer = business_api_client.AdApi(client).ad_get(
        advertiser_id, token, filtering=FilteringAdGet(adgroup_ids=[ad["adgroup_id"]]),
        fields=["ad_id", "adgroup_id", "identity_id", "tiktok_item_id"], page=1, page_size=100)
    expected = {a["ad_id"] for a in truth["ads"] if a["adgroup_id"] == ad["adgroup_id"]}
    assert {row["ad_id"] for row in answer["data"]["list"]} == expected
    assert answer["data"]["page_info"]["total_number"] == len(expected)


def test_sdk_lists_comments_with_list_parameters_in_both_encodings(client, token, truth,
                                                                   writable):
    advertiser_id, comment, _ = writable
    adgroup_id = comment["adgroup_id"]
    as_json = list_comments(client, token, advertiser_id, adgroup_id, comment_type=["ALL"],
                            comment_status=["PUBLIC", "HIDDEN"], sort_type="ASC")
    repeated = list_comments(client, token, advertiser_id, adgroup_id, comment_type=("ALL",),
                             comment_status=("PUBLIC", "HIDDEN"))
    assert as_json == repeated
    low, high = 1_757_462_400, 1_760_054_400
    assert set(as_json) == {c["comment_id"] for c in truth["comments"]
                            if c["adgroup_id"] == adgroup_id and low <= c["create_ts"] < high}


def test_sdk_reply_then_appears_in_the_listing(client, token, writable):
    advertiser_id, comment, ad = writable
    answer = business_api_client.CommentsApi(client).comment_post(token, body=CommentPostBody(
        advertiser_id=advertiser_id, ad_id=ad["ad_id"], tiktok_item_id=ad["tiktok_item_id"],
        comment_id=comment["comment_id"], comment_type="REPLY", text="Thanks! DM us 💬",
        identity_type=ad["identity_type"], identity_id=ad["identity_id"]))
    reply_id = answer["data"]["comment_id"]
    assert answer["data"]["reply_to_comment_id"] == comment["comment_id"]
    rows = list_comments(client, token, advertiser_id, comment["adgroup_id"])
    assert rows[reply_id]["comment_type"] == "REPLY"
    assert rows[reply_id]["original_comment_id"] == comment["comment_id"]
    assert rows[reply_id]["content"] == "Thanks! DM us 💬"
    assert rows[comment["comment_id"]]["replies"] == comment["replies"] + 1


def test_sdk_hides_a_comment(client, token, writable):
    advertiser_id, comment, _ = writable
    answer = business_api_client.CommentsApi(client).comment_status_update(
        token, body=StatusUpdateBody(advertiser_id=advertiser_id,
                                     comment_ids=[comment["comment_id"]], operation="HIDDEN"))
    assert answer["data"] == {}
    rows = list_comments(client, token, advertiser_id, comment["adgroup_id"],
                         comment_status=["HIDDEN"])
    assert rows[comment["comment_id"]]["comment_status"] == "HIDDEN"


def test_sdk_raises_on_api_error_codes(client, writable):
    advertiser_id, comment, ad = writable
    with pytest.raises(TiktokSDKError, match="40105"):
        business_api_client.CommentsApi(client).comment_list(
            advertiser_id, WINDOW[0], WINDOW[1], "ADGROUP_ID", comment["adgroup_id"], "bad")


def test_sdk_reply_to_a_reply_is_refused(client, token, truth, writable):
    advertiser_id, comment, ad = writable
    reply = next(c for c in truth["comments"]
                 if c["ad_id"] == ad["ad_id"] and c["comment_type"] == "REPLY")
    body = CommentPostBody(
        advertiser_id=advertiser_id, ad_id=ad["ad_id"], tiktok_item_id=ad["tiktok_item_id"],
        comment_id=reply["comment_id"], comment_type="REPLY", text="Hi",
        identity_type=ad["identity_type"], identity_id=ad["identity_id"])
    with pytest.raises(TiktokSDKError, match="40002"):
        business_api_client.CommentsApi(client).comment_post(token, body=body)


def test_sdk_manages_the_blocked_word_list(sandbox, client, token, writable):
    advertiser_id, _, _ = writable
    comments = business_api_client.CommentsApi(client)
    created = comments.blockedword_create(token, body=BlockedwordCreateBody(
        advertiser_id=advertiser_id, blocked_words=["free money", "scam", "dm me"]))
    assert created["data"] == {} and created["request_id"]

    comments.blockedword_update(token, body=BlockedwordUpdateBody(
        advertiser_id=advertiser_id, old_word="scam", new_word="scammer"))
    comments.blockedword_delete(token, body=BlockedwordDeleteBody(
        advertiser_id=advertiser_id, blocked_words=["dm me"]))

    first = comments.blockedword_list(advertiser_id, token,
                                      page_info=PageInfo(page=1, page_size=1))
    second = comments.blockedword_list(advertiser_id, token,
                                       page_info=PageInfo(page=2, page_size=1))
    assert first["data"]["page_info"] == {"page": 1, "page_size": 1, "total_number": 2,
                                          "total_page": 2}
    assert [item["bw_content"] for item in first["data"]["list"] + second["data"]["list"]] == [
        "scammer", "free money"]
    assert sandbox.blocked_words(advertiser_id) == ["scammer", "free money"]


@pytest.mark.parametrize("words", [["scam", "Free Money"], ("scam", "Free Money")],
                         ids=["json-array", "repeated"])
def test_sdk_checks_words_in_both_query_encodings(client, token, writable, words):
    advertiser_id, _, _ = writable
    comments = business_api_client.CommentsApi(client)
    comments.blockedword_create(token, body=BlockedwordCreateBody(
        advertiser_id=advertiser_id, blocked_words=["free money"]))
    answer = comments.blockedword_check(advertiser_id, words, token)
    assert answer["data"]["results"] == [{"word": "scam", "blocked": False},
                                         {"word": "Free Money", "blocked": True}]


def test_sdk_exports_the_blocked_words(sandbox, client, token, writable):
    advertiser_id, _, _ = writable
    comments = business_api_client.CommentsApi(client)
    comments.blockedword_create(token, body=BlockedwordCreateBody(
        advertiser_id=advertiser_id, blocked_words=["spam", "scam"]))
    task = comments.blockedword_task_create(token, body=BlockedwordTaskCreateBody(
        advertiser_id=advertiser_id, blocked_words=["scam"], lang="ZH"))
    task_id = task["data"]["task_id"]
    statuses = [comments.blockedword_task_check(task_id, advertiser_id, token)["data"]
                for _ in range(2)]
    assert statuses == [{"task_id": task_id, "status": "RUNNING"},
                        {"task_id": task_id, "status": "SUCCEED"}]
    # The SDK has no download call; ENDPOINTS lists it. Fetch it as an app would.
    response = requests.get(f"{sandbox.base_url}/open_api/v1.3/blockedword/task/download/",
                            params={"advertiser_id": advertiser_id, "task_id": task_id},
                            headers={"Access-Token": token}, timeout=5)
    assert response.content.decode("utf-8").splitlines() == ["屏蔽词", "scam"]


def test_sdk_raises_on_blocked_word_errors(client, token, writable):
    advertiser_id, _, _ = writable
    comments = business_api_client.CommentsApi(client)
    with pytest.raises(TiktokSDKError, match="40002"):
        comments.blockedword_update(token, body=BlockedwordUpdateBody(
            advertiser_id=advertiser_id, old_word="never added", new_word="x"))
    with pytest.raises(TiktokSDKError, match="40002"):
        comments.blockedword_list(advertiser_id, token,
                                  page_info=PageInfo(page=1, page_size=501))
