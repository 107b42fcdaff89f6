"""The Accounts API client against a running sandbox, over real HTTP on loopback: connecting a
TikTok account, keeping its token alive, reading everything exactly once, and moderating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tiktok_client import (
    AccessTokenExpired,
    AccountToken,
    BusinessAccountClient,
    InvalidRequest,
    OutcomeUnknown,
    PermissionDenied,
    RateLimiter,
    RefreshTokenError,
    TikTokClient,
    account_authorization_url,
    exchange_account_code,
    get_account_token_info,
    parse_account_redirect,
    refresh_account_token,
    revoke_account_token,
)
from tiktok_sandbox import ManualClock, SandboxConfig, start_sandbox, walk_account_consent

APP_ID, SECRET = "sandbox-app", "sandbox-secret"
REDIRECT = "http://127.0.0.1:8501/accounts"
START = 1_760_000_000
DAY = 86_400


def config(clock: ManualClock, **overrides) -> SandboxConfig:
    settings = dict(seed=4, advertisers=2, ads=12, comments=300, business_accounts=3,
                    organic_comments=900, new_comments_per_minute=0.0,
                    new_organic_comments_per_minute=0.0, qps=1000, qpm=100_000, port=0,
                    clock=clock)
    settings.update(overrides)
    return SandboxConfig(**settings)


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def sandbox(clock):
    with start_sandbox(config(clock)) as sb:
        yield sb


def sandbox_now(clock: ManualClock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


@pytest.fixture
def app_client(sandbox):
    return TikTokClient(base_url=sandbox.base_url, rate_limiter=RateLimiter(1000, 100_000))


@pytest.fixture
def connected(sandbox, app_client, clock):
    """An account connected through the consent screen, as the app does it."""
    url = account_authorization_url(sandbox.account_auth_url, "signed-state", REDIRECT)
    redirect = parse_account_redirect(walk_account_consent(url))
    token = exchange_account_code(app_client, APP_ID, SECRET, redirect.code, REDIRECT,
                                  now=sandbox_now(clock))
    return token, BusinessAccountClient.for_token(app_client, token)


def test_connecting_an_account_through_the_consent_screen(sandbox, app_client, clock):
    organic = sandbox.ground_truth_accounts()
    second = organic["accounts"][1]["business_id"]
    url = account_authorization_url(sandbox.account_auth_url, "signed-state", REDIRECT)

    location = walk_account_consent(url, open_id=second)
    redirect = parse_account_redirect(location)

    assert location.startswith(REDIRECT + "?")
    assert redirect.approved and redirect.state == "signed-state"
    assert "comment.list.manage" in redirect.scopes
    token = exchange_account_code(app_client, APP_ID, SECRET, redirect.code, REDIRECT,
                                  now=sandbox_now(clock))
    assert token.open_id == second
    assert token.access_expires_at == sandbox_now(clock) + timedelta(days=1)
    assert token.refresh_expires_at == sandbox_now(clock) + timedelta(days=365)
    assert token.access_token not in repr(token) and token.refresh_token not in repr(token)
    info = get_account_token_info(app_client, APP_ID, token.access_token)
    assert (info.open_id, info.scope) == (second, token.scope)

    refused = parse_account_redirect(walk_account_consent(url, approve=False))
    assert not refused.approved and refused.error == "access_denied"


def test_profile_videos_comments_and_replies_match_the_ground_truth(sandbox, connected):
    token, account = connected
    truth = sandbox.ground_truth_accounts(token.open_id)
    [expected_profile] = truth["accounts"]

    profile = account.get_profile()
    assert (profile.username, profile.followers_count, profile.videos_count,
            profile.total_likes) == (expected_profile["username"],
                                     expected_profile["followers_count"],
                                     expected_profile["videos_count"],
                                     expected_profile["total_likes"])

    videos = list(account.iter_videos(max_count=5))
    assert [v.video_id for v in videos] == [v["video_id"] for v in truth["videos"]]
    assert [(v.comments, v.is_ad, v.caption) for v in videos] == [
        (v["comments"], v["is_ad"], v["caption"]) for v in truth["videos"]]

    seen = []
    for video in videos:
        for comment in account.iter_comments(video.video_id, max_count=30):
            seen.append(comment)
            if comment.replies:
                seen.extend(account.iter_replies(video.video_id, comment.comment_id,
                                                 max_count=7))
    assert sorted(c.comment_id for c in seen) == sorted(c["comment_id"]
                                                        for c in truth["comments"])
    by_id = {c["comment_id"]: c for c in truth["comments"]}
    for comment in seen:
        row = by_id[comment.comment_id]
        assert (comment.text, comment.status, comment.owner, comment.parent_comment_id,
                comment.video_id, int(comment.create_time.timestamp())) == (
            row["text"], row["status"], row["owner"], row["parent_comment_id"],
            row["video_id"], row["create_ts"])


def test_the_token_expires_refreshes_and_finally_needs_a_reconnect(sandbox, app_client,
                                                                   connected, clock):
    token, account = connected
    clock.advance(DAY)
    assert token.access_expired(sandbox_now(clock))
    with pytest.raises(AccessTokenExpired):
        account.get_profile()

    renewed = refresh_account_token(app_client, APP_ID, SECRET, token.refresh_token,
                                    now=sandbox_now(clock))
    assert renewed.refresh_expires_at == token.refresh_expires_at, "the year is not extended"
    account = BusinessAccountClient.for_token(app_client, renewed)
    assert account.get_profile().username

    clock.advance(364 * DAY)
    with pytest.raises(RefreshTokenError, match="Reconnect the TikTok account"):
        refresh_account_token(app_client, APP_ID, SECRET, renewed.refresh_token)


def test_revoking_ends_the_connection(sandbox, app_client, connected):
    token, account = connected
    revoke_account_token(app_client, APP_ID, SECRET, token.access_token)
    with pytest.raises(RefreshTokenError):
        refresh_account_token(app_client, APP_ID, SECRET, token.refresh_token)


def test_reply_hide_and_delete_show_in_the_ground_truth(sandbox, connected):
    token, account = connected
    truth = sandbox.ground_truth_accounts(token.open_id)
    parent = next(c for c in truth["comments"] if c["comment_type"] == "COMMENT"
                  and not c["owner"] and c["status"] == "PUBLIC")

    reply = account.reply_to_comment(parent["video_id"], parent["comment_id"],
                                     "We ship worldwide 🌍")
    account.hide_comment(parent["video_id"], parent["comment_id"])
    with pytest.raises(InvalidRequest):
        account.reply_to_comment(parent["video_id"], parent["comment_id"], "x" * 1201)
    with pytest.raises(PermissionDenied):
        account.delete_comment(parent["comment_id"])

    after = {c["comment_id"]: c for c in sandbox.ground_truth_accounts(token.open_id)[
        "comments"]}
    assert after[reply.comment_id]["parent_comment_id"] == parent["comment_id"]
    assert after[reply.comment_id]["owner"] is True
    assert after[parent["comment_id"]]["status"] == "HIDDEN"
    assert after[parent["comment_id"]]["replies"] == parent["replies"] + 1

    account.delete_comment(reply.comment_id)
    account.unhide_comment(parent["video_id"], parent["comment_id"])
    final = {c["comment_id"]: c for c in sandbox.ground_truth_accounts(token.open_id)[
        "comments"]}
    assert reply.comment_id not in final
    assert final[parent["comment_id"]]["status"] == "PUBLIC"


def test_a_write_whose_answer_is_lost_raises_outcome_unknown_and_was_applied(clock):
    """With every first attempt faulty, some replies are applied and their answer dropped or
    cut: the client must say the outcome is unknown, never send them again."""
    with start_sandbox(config(clock, fault_rate=1.0, stall_seconds=0.05)) as sandbox:
        tokens = sandbox.issue_account_token()
        waited = [0.0]  # backoff and throttle pauses pass on a clock of their own

        def wait(seconds: float) -> None:
            waited[0] += seconds

        client = TikTokClient(
            tokens["access_token"], base_url=sandbox.base_url, timeout=2, sleep=wait,
            clock=lambda: waited[0],
            rate_limiter=RateLimiter(1000, 100_000, clock=lambda: waited[0], sleep=wait))
        account = BusinessAccountClient(client, tokens["open_id"])
        truth = sandbox.ground_truth_accounts(tokens["open_id"])
        parent = next(c for c in truth["comments"] if c["comment_type"] == "COMMENT")
        outcomes = {}
        for n in range(12):
            text = f"Thanks {n}"
            try:
                account.reply_to_comment(parent["video_id"], parent["comment_id"], text)
                outcomes[text] = "ok"
            except OutcomeUnknown:
                outcomes[text] = "unknown"
        kinds = {entry["kind"] for entry in sandbox.stats()["fault_log"]}
        after = sandbox.ground_truth_accounts(tokens["open_id"])["comments"]
    texts = [c["text"] for c in after if c["parent_comment_id"] == parent["comment_id"]]
    assert "applied_dropped" in kinds or "truncated" in kinds
    unknown = [text for text, outcome in outcomes.items() if outcome == "unknown"]
    assert any(text in texts for text in unknown), "some of them were applied all the same"
    for text, outcome in outcomes.items():
        assert texts.count(text) <= 1, "nothing was sent twice blindly"
        if outcome == "ok":
            assert texts.count(text) == 1


# -- fields by granted scope, video_id as asked for ----------------------------------------

BASIC_SCOPES = ("user.info.basic", "video.list", "comment.list", "comment.list.manage")
PROFILE_PATH = "/open_api/v1.3/business/get/"
LIKE_PATH = "/open_api/v1.3/business/comment/like/"


def calls_to(sandbox, path: str) -> int:
    return sandbox.stats()["by_path"].get(path, 0)


def test_a_grant_without_stats_still_reads_the_basic_profile(sandbox, app_client, clock):
    tokens = sandbox.issue_account_token(scopes=BASIC_SCOPES)
    token = AccountToken.from_api(tokens, sandbox_now(clock))
    [truth] = sandbox.ground_truth_accounts(token.open_id)["accounts"]

    knowing = BusinessAccountClient.for_token(app_client, token).get_profile()
    assert calls_to(sandbox, PROFILE_PATH) == 1, "only the covered fields were asked for"

    guessing = BusinessAccountClient(app_client.with_token(token.access_token),
                                     token.open_id).get_profile()
    assert calls_to(sandbox, PROFILE_PATH) == 3, "refused with 40130, then the basic fields"

    for profile in (knowing, guessing):
        assert (profile.display_name, profile.profile_image) == (truth["display_name"],
                                                                 truth["profile_image"])
        assert (profile.username, profile.followers_count) == (None, None)


def test_a_like_learns_to_send_the_video_id_when_tiktok_asks_for_it(clock):
    with start_sandbox(config(clock, account_video_id_endpoints=("business/comment/like/",))
                       ) as sandbox:
        tokens = sandbox.issue_account_token()
        client = TikTokClient(tokens["access_token"], base_url=sandbox.base_url,
                              rate_limiter=RateLimiter(1000, 100_000))
        account = BusinessAccountClient(client, tokens["open_id"])
        comment = next(c for c in sandbox.ground_truth_accounts(tokens["open_id"])["comments"]
                       if not c["liked"] and not c["owner"])

        account.like_comment(comment["comment_id"], video_id=comment["video_id"])
        assert calls_to(sandbox, LIKE_PATH) == 2, "refused once, then sent with video_id"
        assert client.learned.get("video_id.business/comment/like") is True

        account.unlike_comment(comment["comment_id"], video_id=comment["video_id"])
        assert calls_to(sandbox, LIKE_PATH) == 3, "sent with video_id at once"
        after = next(c for c in sandbox.ground_truth_accounts(tokens["open_id"])["comments"]
                     if c["comment_id"] == comment["comment_id"])
    assert (after["liked"], after["likes"]) == (False, comment["likes"])


def test_against_the_documented_api_a_like_goes_once_without_video_id(sandbox, connected):
    token, account = connected
    comment = next(c for c in sandbox.ground_truth_accounts(token.open_id)["comments"]
                   if not c["liked"] and not c["owner"])

    account.like_comment(comment["comment_id"], video_id=comment["video_id"])

    assert calls_to(sandbox, LIKE_PATH) == 1
    assert account.learned.snapshot() == {}
    after = next(c for c in sandbox.ground_truth_accounts(token.open_id)["comments"]
                 if c["comment_id"] == comment["comment_id"])
    assert after["liked"] is True
