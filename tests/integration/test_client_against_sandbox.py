"""TikTokClient against a running sandbox, over real HTTP on loopback."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.desk.test_actions_support import make_client
from tests.world import advertisers_by_access
from tiktok_client.client import TikTokClient
from tiktok_client.errors import (
    AppUnavailable,
    AuthCodeError,
    InvalidRequest,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    ServerError,
    TokenError,
    lookup_code,
)
from tiktok_client.oauth import exchange_auth_code, list_authorized_advertisers
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig, start_sandbox, walk_consent

APP_ID, SECRET = "sandbox-app", "sandbox-secret"
REDIRECT = "http://127.0.0.1:8501/"


@pytest.fixture(scope="module")
def sandbox():
    config = SandboxConfig(seed=3, advertisers=3, ads=16, comments=1500, latency_ms=0,
                           qps=1000, qpm=100_000, new_comments_per_minute=0.0, port=0)
    with start_sandbox(config) as sb:
        yield sb


@pytest.fixture
def client(sandbox):
    return TikTokClient(sandbox.issue_token(), base_url=sandbox.base_url,
                        rate_limiter=RateLimiter(1000, 100_000))


def _consent(sandbox, state: str) -> str:
    """Follow the consent screen as a browser would; return the redirect location."""
    return walk_consent(sandbox.base_url, app_id=APP_ID, redirect_uri=REDIRECT, state=state)


def test_the_oauth_flow_grants_a_token_that_lists_the_advertisers(sandbox):
    location = _consent(sandbox, state="signed-state")
    assert location.startswith(REDIRECT)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["signed-state"]
    assert query["auth_code"] == query["code"]

    anonymous = TikTokClient(base_url=sandbox.base_url)
    grant = exchange_auth_code(anonymous, APP_ID, SECRET, query["auth_code"][0])
    truth_ids = {a["advertiser_id"] for a in sandbox.ground_truth()["advertisers"]}
    assert set(grant.advertiser_ids) == truth_ids
    assert grant.access_token not in repr(grant)

    listed = list_authorized_advertisers(anonymous.with_token(grant.access_token), APP_ID, SECRET)
    assert {a.advertiser_id for a in listed} == truth_ids

    with pytest.raises(AuthCodeError):  # codes are single-use
        exchange_auth_code(anonymous, APP_ID, SECRET, query["auth_code"][0])


def test_advertiser_info_and_every_ad_match_the_sandbox(sandbox, client):
    truth = sandbox.ground_truth()
    advertiser = truth["advertisers"][0]
    [info] = client.get_advertiser_info([advertiser["advertiser_id"]])
    assert (info.name, info.timezone, info.currency) == (
        advertiser["name"], advertiser["timezone"], advertiser["currency"])

    advertiser_id = advertiser["advertiser_id"]
    ads = list(client.iter_ads(advertiser_id, page_size=3))  # several pages
    expected = {a["ad_id"] for a in truth["ads"] if a["advertiser_id"] == advertiser_id}
    assert [a.ad_id for a in ads] and {a.ad_id for a in ads} == expected
    assert all(a.adgroup_id and a.identity_id for a in ads)


def test_every_comment_of_an_ad_group_window_is_listed_once(sandbox, client):
    truth = sandbox.ground_truth()
    advertiser_id = truth["advertisers"][0]["advertiser_id"]
    comments = [c for c in truth["comments"] if c["advertiser_id"] == advertiser_id]
    busiest = max({c["adgroup_id"] for c in comments},
                  key=lambda g: sum(c["adgroup_id"] == g for c in comments))
    end = datetime.fromtimestamp(truth["now_ts"], UTC).date()
    start = date.fromordinal(end.toordinal() - 29)
    expected = {
        c["comment_id"] for c in comments
        if c["adgroup_id"] == busiest
        and start <= datetime.fromtimestamp(c["create_ts"], UTC).date() <= end
    }
    listed = list(client.iter_comments(advertiser_id, busiest, start, end, page_size=20))
    ids = [c.comment_id for c in listed]
    assert len(ids) == len(set(ids)) == len(expected) > 20
    assert set(ids) == expected
    assert all(c.create_time.tzinfo is not None for c in listed)


def _a_comment(sandbox, access: str, *, manageable: bool = True) -> dict:
    truth = sandbox.ground_truth()
    advertiser_ids = {advertisers_by_access(truth)[access]}
    ads = {a["ad_id"]: a for a in truth["ads"]}
    identities = {i["identity_id"]: i for i in truth["identities"]}
    for c in truth["comments"]:
        ad = ads[c["ad_id"]]
        ok = identities[ad["identity_id"]].get("is_auth_comment_manage_scope", True)
        if (c["advertiser_id"] in advertiser_ids and c["comment_type"] == "COMMENT"
                and ok == manageable):
            return {**c, "tiktok_item_id": ad["tiktok_item_id"],
                    "identity_type": ad["identity_type"], "identity_id": ad["identity_id"]}
    raise AssertionError(f"no {access} comment in the sandbox data")


def _reply(client, c, text):
    return client.reply_to_comment(
        c["advertiser_id"], ad_id=c["ad_id"], tiktok_item_id=c["tiktok_item_id"],
        comment_id=c["comment_id"], text=text, identity_type=c["identity_type"],
        identity_id=c["identity_id"])


def test_a_reply_is_posted_and_shows_among_the_comments_replies(sandbox, client):
    c = _a_comment(sandbox, "WRITER")
    result = _reply(client, c, "Thanks for asking! DM us 🙌")
    assert result.comment_id and result.reply_to_comment_id == c["comment_id"]

    related = client.comment_reference(c["advertiser_id"], c["comment_id"]).items
    reply = next(r for r in related if r.comment_id == result.comment_id)
    assert reply.comment_type == "REPLY" and reply.content == "Thanks for asking! DM us 🙌"

    today = datetime.now(UTC).date()
    listed = client.iter_comments(c["advertiser_id"], c["adgroup_id"], today, today)
    reply = next(r for r in listed if r.comment_id == result.comment_id)
    assert reply.original_comment_id == c["comment_id"] and reply.can_delete is True

    with pytest.raises(InvalidRequest, match="first-level"):
        _reply(client, {**c, "comment_id": result.comment_id}, "a reply to a reply")


def test_a_read_only_user_cannot_reply_and_is_told_what_to_do(sandbox, client):
    c = _a_comment(sandbox, "READ_ONLY")
    with pytest.raises(PermissionDenied) as caught:
        _reply(client, c, "hello")
    assert "comment management permission" in str(caught.value)


def test_hide_and_unhide_change_the_comment_status(sandbox, client):
    c = _a_comment(sandbox, "WRITER")

    def status() -> str:
        page = client.comment_reference(c["advertiser_id"], c["comment_id"])
        return next(x.comment_status for x in page.items if x.comment_id == c["comment_id"])

    client.hide_comments(c["advertiser_id"], [c["comment_id"]])
    assert status() == "HIDDEN"
    client.unhide_comments(c["advertiser_id"], [c["comment_id"]])
    assert status() == "PUBLIC"


def test_a_revoked_token_is_a_token_error(sandbox):
    token = sandbox.issue_token()
    client = TikTokClient(token, base_url=sandbox.base_url, sleep=lambda s: None)
    sandbox.revoke_token(token)
    with pytest.raises(TokenError, match="[Rr]econnect"):
        list(client.iter_ads(sandbox.ground_truth()["advertisers"][0]["advertiser_id"]))


# TikTok's error codes, answered by the sandbox on the path a test chooses (fail_next)

POST_PATH = "/open_api/v1.3/comment/post/"


@pytest.mark.parametrize(("code", "message", "kind"), [
    (40132, "Request frequency limited: too many requests for this field value.", RateLimited),
    (52000, "DB error.", ServerError),
], ids=["40132 throttled", "52000 service error"])
def test_a_read_met_by_40132_or_a_52xxx_code_is_retried_and_succeeds(sandbox, code, message,
                                                                     kind):
    assert lookup_code(code).kind is kind and kind.retryable
    truth = sandbox.ground_truth()
    advertiser_id = truth["advertisers"][0]["advertiser_id"]
    client = make_client(sandbox)  # backoff and throttling pauses take no real time
    answered = sandbox.stats()["by_code"].get(str(code), 0)
    sandbox.fail_next("ad/get/", code, message, times=2)

    ads = list(client.iter_ads(advertiser_id))

    assert {a.ad_id for a in ads} == {
        a["ad_id"] for a in truth["ads"] if a["advertiser_id"] == advertiser_id}
    assert sandbox.stats()["by_code"][str(code)] - answered == 2
    assert sandbox.pending_failures() == 0
    stats = client.stats.snapshot()
    assert stats["retries"] == 2 and stats["errors"] == 0
    assert stats["throttled"] == (2 if kind is RateLimited else 0)


@pytest.mark.parametrize("applied", [False, True], ids=["not carried out", "carried out"])
def test_a_write_met_by_53103_is_an_unknown_outcome_and_is_not_sent_again(sandbox, applied):
    c = _a_comment(sandbox, "WRITER")
    text = f"Thanks! (53103, {'applied' if applied else 'not applied'})"
    client = make_client(sandbox)
    sends = sandbox.stats()["by_path"].get(POST_PATH, 0)
    sandbox.fail_next("comment/post/", 53103, "Serialization error.", applied=applied)

    with pytest.raises(OutcomeUnknown) as caught:
        _reply(client, c, text)

    assert isinstance(caught.value.cause, ServerError) and caught.value.code == 53103
    assert "Check the current state on TikTok" in str(caught.value)
    assert sandbox.stats()["by_path"][POST_PATH] - sends == 1  # sent once, never again
    assert client.stats.snapshot()["retries"] == 0
    replies = [r for r in sandbox.ground_truth(c["advertiser_id"])["comments"]
               if r["original_comment_id"] == c["comment_id"] and r["content"] == text]
    assert len(replies) == (1 if applied else 0)  # the sandbox's ground truth


def test_40113_is_the_app_blocked_or_not_existing_and_is_not_retried(sandbox):
    client = make_client(sandbox)
    advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
    sandbox.fail_next("ad/get/", 40113, "App has been blocked or does not exist.")

    with pytest.raises(AppUnavailable) as caught:
        list(client.iter_ads(advertiser_id))

    assert caught.value.code == 40113 and caught.value.request_id
    assert "as blocked or non-existent" in str(caught.value)
    assert "authorization code" not in str(caught.value)
    assert client.stats.snapshot()["retries"] == 0
    assert sandbox.pending_failures() == 0


def test_40300_is_an_advertiser_that_does_not_exist_as_the_error_table_says(sandbox):
    client = make_client(sandbox)
    advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
    sandbox.fail_next("advertiser/info/", 40300, "Advertiser does not exist.")

    with pytest.raises(InvalidRequest) as caught:
        client.get_advertiser_info([advertiser_id])

    row = lookup_code(40300)
    assert (row.name, row.kind) == ("ADVERTISER_NOT_EXIST", InvalidRequest)
    assert type(caught.value) is row.kind and caught.value.code == 40300
    assert str(caught.value).startswith(
        "The request is not valid: Advertiser does not exist. Correct the request")
    assert client.stats.snapshot()["retries"] == 0


# comment/reference's reply_user_info, as an object or as a list of one


@pytest.mark.parametrize("shape", ["object", "list"])
def test_the_reply_users_name_is_read_from_reply_user_info_either_way(shape):
    config = SandboxConfig(seed=3, advertisers=2, ads=8, comments=400, latency_ms=0, qps=1000,
                           qpm=100_000, new_comments_per_minute=0.0, port=0,
                           reference_reply_user_info=shape)
    with start_sandbox(config) as sb:
        truth = sb.ground_truth()
        parent = next(c for c in truth["comments"]
                      if c["comment_type"] == "COMMENT" and c["replies"] >= 1)
        token = sb.issue_token()
        raw = requests.get(f"{sb.base_url}/open_api/v1.3/comment/reference/", timeout=5,
                           headers={"Access-Token": token},
                           params={"advertiser_id": parent["advertiser_id"],
                                   "comment_id": parent["comment_id"],
                                   "comment_type": "COMMENT"}).json()["data"]["comments"]
        assert isinstance(raw[1]["reply_user_info"], dict if shape == "object" else list)
        client = make_client(sb, token)

        thread = client.comment_reference(parent["advertiser_id"], parent["comment_id"]).items
        reply = thread[1]
        from_reply = client.comment_reference(parent["advertiser_id"], reply.comment_id,
                                              "REPLY", parent["comment_id"]).items

    assert thread[0].comment_id == parent["comment_id"] and thread[0].reply_user_name is None
    assert len(thread) == parent["replies"] + 1
    assert all(r.reply_user_name == parent["user_name"] for r in thread[1:])
    assert all(r.reply_user_avatar_url for r in thread[1:])
    answered = next(r for r in from_reply if r.comment_id == reply.comment_id)
    assert answered.reply_user_name == parent["user_name"]


@pytest.mark.slow
def test_reads_succeed_through_throttling_and_injected_faults():
    config = SandboxConfig(seed=5, advertisers=2, ads=8, comments=800, latency_ms=0, qps=4,
                           qpm=10_000, fault_rate=0.3, stall_seconds=1.5,
                           new_comments_per_minute=0.0, port=0)
    with start_sandbox(config) as sb:
        truth = sb.ground_truth()
        client = TikTokClient(sb.issue_token(), base_url=sb.base_url, timeout=0.5,
                              rate_limiter=RateLimiter(50, 10_000), max_attempts=12,
                              deadline=120, sleep=lambda s: None)
        advertiser_id = truth["advertisers"][0]["advertiser_id"]
        ads = list(client.iter_ads(advertiser_id, page_size=2))
        assert {a.ad_id for a in ads} == {
            a["ad_id"] for a in truth["ads"] if a["advertiser_id"] == advertiser_id}
        end = datetime.fromtimestamp(truth["now_ts"], UTC).date()
        start = date.fromordinal(end.toordinal() - 29)
        for adgroup_id in {a.adgroup_id for a in ads}:
            listed = [c.comment_id for c in
                      client.iter_comments(advertiser_id, adgroup_id, start, end, page_size=10)]
            expected = {c["comment_id"] for c in truth["comments"]
                        if c["adgroup_id"] == adgroup_id
                        and start <= datetime.fromtimestamp(c["create_ts"], UTC).date() <= end}
            assert set(listed) == expected
        stats = client.stats.snapshot()
        assert stats["retries"] > 5 and stats["throttled"] > 0


@pytest.mark.slow
def test_a_write_whose_answer_is_lost_is_reported_as_outcome_unknown_not_resent():
    config = SandboxConfig(seed=11, advertisers=2, ads=8, comments=300, fault_rate=1.0,
                           stall_seconds=1.0, qps=1000, qpm=100_000,
                           new_comments_per_minute=0.0, port=0)
    with start_sandbox(config) as sb:
        client = TikTokClient(sb.issue_token(), base_url=sb.base_url, timeout=0.5,
                              rate_limiter=RateLimiter(1000, 100_000), sleep=lambda s: None)
        c = _a_comment(sb, "WRITER")
        outcomes = []
        for i in range(8):
            try:
                _reply(client, c, f"reply {i}")
                outcomes.append("sent")
            except OutcomeUnknown:
                outcomes.append("unknown")
            except Exception as exc:  # throttled every time, 5xx before applying...
                outcomes.append(type(exc).__name__)
        assert "unknown" in outcomes
        # One send per reply, plus only the retries of sends that certainly did not apply. A
        # send the client gave up waiting on may reach the (busy) sandbox a moment later.
        expected = len(outcomes) + client.stats.snapshot()["retries"]
        deadline = time.monotonic() + 5
        while (sb.stats()["by_path"]["/open_api/v1.3/comment/post/"] < expected
               and time.monotonic() < deadline):
            time.sleep(0.05)
        assert sb.stats()["by_path"]["/open_api/v1.3/comment/post/"] == expected
