"""The sandbox's Accounts API where sources disagree or changed: business/get/ fields by
granted scope (40130), the scopes an account holder grants, video_id on comment writes that
document none, and the 1,200-character organic text limit."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tiktok_sandbox import ManualClock, SandboxConfig, account_authorization_code, start_sandbox

from .conftest import START, Api, small_config

REDIRECT = "http://127.0.0.1:8501/?page=accounts"
MISSING_VIDEO = "video_id: Missing data for required field."
NO_STATS = ("user.info.basic", "video.list", "comment.list", "comment.list.manage")


@pytest.fixture
def organic(sandbox):
    return sandbox.ground_truth_accounts()


@pytest.fixture
def account(organic):
    return organic["accounts"][0]


def reader(sandbox, account, scopes=None) -> Api:
    tokens = sandbox.issue_account_token(account["business_id"], scopes=scopes)
    return Api(sandbox.base_url, tokens["access_token"])


def a_viewer_comment(organic, account):
    return next(c for c in organic["comments"]
                if c["business_id"] == account["business_id"] and not c["owner"]
                and c["comment_type"] == "COMMENT" and not c["liked"])


def other_video(organic, account, video_id):
    return next(v["video_id"] for v in organic["videos"]
                if v["business_id"] == account["business_id"] and v["video_id"] != video_id)


def write(api, account, endpoint, **body):
    return api.post(endpoint, {"business_id": account["business_id"], **body})


# -- business/get/: every field needs its scope --------------------------------------------


@pytest.mark.parametrize(("fields", "scope"), [
    (["username"], "user.info.username"),
    (["followers_count"], "user.info.stats"),
    (["following_count", "display_name"], "user.info.stats"),
    (["total_likes"], "user.info.stats"),
    (["videos_count"], "user.info.stats"),
    (["is_business_account"], "user.account.type"),
    (["audience_countries"], "user.insights"),
])
def test_a_field_the_grant_does_not_cover_fails_the_whole_call_with_40130(
        sandbox, account, fields, scope):
    api = reader(sandbox, account, NO_STATS)

    answer = api.get("business/get/", business_id=account["business_id"], fields=fields)

    assert answer["code"] == 40130, answer
    assert scope in answer["message"]
    assert answer["data"] == {}


def test_the_basic_fields_need_only_the_basic_scope(sandbox, account):
    api = reader(sandbox, account, NO_STATS)
    fields = ["display_name", "profile_image", "bio_description", "is_verified",
              "profile_deep_link"]

    answer = api.get("business/get/", business_id=account["business_id"], fields=fields)

    assert answer["code"] == 0, answer
    assert set(answer["data"]) == set(fields)
    assert api.get("business/get/", business_id=account["business_id"])["code"] == 0


def test_daily_metrics_need_the_insights_scope(sandbox, account):
    params = dict(business_id=account["business_id"], fields=["video_views"],
                  start_date="2025-10-03", end_date="2025-10-04")

    refused = reader(sandbox, account, NO_STATS).get("business/get/", **params)
    allowed = reader(sandbox, account, (*NO_STATS, "user.insights")).get("business/get/",
                                                                        **params)

    assert refused["code"] == 40130 and "user.insights" in refused["message"]
    assert allowed["code"] == 0 and len(allowed["data"]["metrics"]) == 2


def test_without_the_basic_scope_the_profile_is_40001(sandbox, account):
    api = reader(sandbox, account, ("video.list", "comment.list"))

    answer = api.get("business/get/", business_id=account["business_id"])

    assert answer["code"] == 40001 and "user.info.basic" in answer["message"]


def test_by_default_every_scope_is_granted_and_every_field_answers(sandbox, account):
    tokens = sandbox.issue_account_token(account["business_id"])
    api = Api(sandbox.base_url, tokens["access_token"])

    answer = api.get("business/get/", business_id=account["business_id"],
                     fields=["username", "followers_count", "is_business_account"])

    assert answer["code"] == 0, answer
    assert "user.info.stats" in tokens["scope"].split(",")


# -- the scopes an account holder grants ---------------------------------------------------


@pytest.fixture
def stingy():
    """A sandbox whose account holders grant only the basic profile, videos and comments."""
    config = small_config(ManualClock(START), account_granted_scopes=NO_STATS)
    with start_sandbox(config) as sandbox:
        yield sandbox


def test_the_consent_screen_shows_which_scopes_are_not_granted(stingy):
    query = {"client_key": stingy.config.app_id, "response_type": "code", "state": "s1",
             "redirect_uri": REDIRECT, "scope": "user.info.basic,user.info.stats,comment.list"}

    page = requests.get(f"{stingy.base_url}/v2/auth/authorize/", params=query, timeout=5)

    assert page.status_code == 200
    assert "user.info.stats</span> (not granted)" in page.text
    assert "user.info.basic</span> (not granted)" not in page.text


def test_only_the_granted_scopes_reach_the_redirect_and_the_token(stingy):
    account = stingy.ground_truth_accounts()["accounts"][0]
    form = {"client_key": stingy.config.app_id, "scope": "user.info.basic,user.info.stats",
            "state": "s1", "redirect_uri": REDIRECT, "open_id": account["business_id"]}

    answer = requests.post(f"{stingy.base_url}/v2/auth/authorize/confirm", data=form,
                           allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["scopes"] == ["user.info.basic"]

    code = account_authorization_code(stingy.base_url, client_key=stingy.config.app_id,
                                      redirect_uri=REDIRECT)
    tokens = Api(stingy.base_url, None).post("tt_user/oauth2/token/", {
        "client_id": stingy.config.app_id, "client_secret": stingy.config.secret,
        "grant_type": "authorization_code", "auth_code": code, "redirect_uri": REDIRECT,
    }, token=None)["data"]
    assert tokens["scope"].split(",") == list(NO_STATS)
    assert stingy.issue_account_token()["scope"].split(",") == list(NO_STATS)
    api = Api(stingy.base_url, tokens["access_token"])
    assert api.get("business/get/", business_id=tokens["open_id"],
                   fields=["username"])["code"] == 40130


def test_unknown_granted_scopes_are_refused_at_start():
    with pytest.raises(ValueError, match="unknown scopes"):
        start_sandbox(small_config(ManualClock(START), account_granted_scopes=("ad.read",)))


# -- video_id on writes that document none -------------------------------------------------


def test_by_default_a_like_needs_no_video_id_and_a_video_id_sent_must_match(sandbox, organic,
                                                                          account):
    api = reader(sandbox, account)
    comment = a_viewer_comment(organic, account)

    plain = write(api, account, "business/comment/like/", comment_id=comment["comment_id"],
                  action="LIKE")
    named = write(api, account, "business/comment/like/", comment_id=comment["comment_id"],
                  video_id=comment["video_id"], action="UNLIKE")
    wrong = write(api, account, "business/comment/like/", comment_id=comment["comment_id"],
                  video_id=other_video(organic, account, comment["video_id"]), action="LIKE")

    assert (plain["code"], named["code"]) == (0, 0)
    assert wrong["code"] == 40002 and wrong["message"].startswith("comment_id:")


@pytest.fixture
def asking():
    """A sandbox that, like the live API integrators met, wants video_id on like."""
    config = small_config(ManualClock(START),
                          account_video_id_endpoints=("business/comment/like/",))
    with start_sandbox(config) as sandbox:
        yield sandbox


def test_a_configured_endpoint_answers_exactly_the_missing_video_id_error(asking):
    organic = asking.ground_truth_accounts()
    account = organic["accounts"][0]
    api = reader(asking, account)
    comment = a_viewer_comment(organic, account)

    refused = write(api, account, "business/comment/like/", comment_id=comment["comment_id"],
                    action="LIKE")
    liked = write(api, account, "business/comment/like/", comment_id=comment["comment_id"],
                  video_id=comment["video_id"], action="LIKE")

    assert (refused["code"], refused["message"], refused["data"]) == (40002, MISSING_VIDEO, {})
    assert liked["code"] == 0
    after = next(c for c in asking.ground_truth_accounts()["comments"]
                 if c["comment_id"] == comment["comment_id"])
    assert (after["liked"], after["likes"]) == (True, comment["likes"] + 1), "liked once"
    assert write(api, account, "business/comment/delete/",
                 comment_id=comment["comment_id"])["code"] == 40001, "delete is not asked"


@pytest.mark.parametrize("endpoints", [("business/like/",), ("business/comment/like",)])
def test_the_video_id_endpoints_must_be_comment_endpoints(endpoints):
    with pytest.raises(ValueError, match="account_video_id_endpoints"):
        SandboxConfig(account_video_id_endpoints=endpoints)


# -- organic text: up to 1,200 characters --------------------------------------------------


@pytest.mark.parametrize("endpoint", ["business/comment/create/",
                                      "business/comment/reply/create/"])
def test_organic_text_takes_1200_characters_and_refuses_more(sandbox, organic, account,
                                                             endpoint):
    api = reader(sandbox, account)
    comment = a_viewer_comment(organic, account)
    target = {"video_id": comment["video_id"]}
    if endpoint.startswith("business/comment/reply"):
        target["comment_id"] = comment["comment_id"]

    longest = write(api, account, endpoint, text="x" * 1200, **target)
    longer = write(api, account, endpoint, text="x" * 1201, **target)

    assert longest["code"] == 0, longest
    assert longer["code"] == 40002 and longer["message"].startswith("text:")
    assert "1200" in longer["message"]


def test_the_organic_text_limit_is_configurable():
    with start_sandbox(small_config(ManualClock(START), organic_text_limit=150)) as sandbox:
        organic = sandbox.ground_truth_accounts()
        account = organic["accounts"][0]
        comment = a_viewer_comment(organic, account)
        answer = write(reader(sandbox, account), account, "business/comment/create/",
                       video_id=comment["video_id"], text="x" * 151)
    assert answer["code"] == 40002 and "150" in answer["message"]
    with pytest.raises(ValueError, match="organic_text_limit"):
        SandboxConfig(organic_text_limit=0)
    assert SandboxConfig().organic_text_limit == 1200
