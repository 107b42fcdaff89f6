"""python-tiktok (``pytiktok.BusinessAccountApi``) drives the sandbox's Accounts API unchanged:
its paths, methods, parameter encoding (Python booleans in the query included) and the shapes
its models read are the ones the sandbox speaks."""

from __future__ import annotations

import pytest
import pytiktok
from pytiktok.error import PyTiktokError

from tiktok_sandbox import account_authorization_code

REDIRECT = "http://127.0.0.1:8501/"
DAY = 86_400


@pytest.fixture
def organic(sandbox):
    return sandbox.ground_truth_accounts()


@pytest.fixture
def business(sandbox):
    return pytiktok.BusinessAccountApi(
        app_id=sandbox.config.app_id, app_secret=sandbox.config.secret, timeout=10,
        base_url=f"{sandbox.base_url}/open_api", oauth_redirect_uri=REDIRECT)


@pytest.fixture
def token(sandbox, business, organic):
    """Tokens obtained as an app does: consent screen, redirect, code exchange."""
    open_id = organic["accounts"][0]["business_id"]
    code = account_authorization_code(sandbox.base_url, client_key=sandbox.config.app_id,
                                      redirect_uri=REDIRECT, open_id=open_id)
    return business.generate_access_token(code)


def busiest_thread(organic, business_id):
    parent = max((c for c in organic["comments"]
                  if c["business_id"] == business_id and c["comment_type"] == "COMMENT"),
                 key=lambda c: (c["replies"], c["comment_id"]))
    return parent


def test_generate_access_token_from_the_redirect_code(business, token, organic):
    assert token.open_id == organic["accounts"][0]["business_id"]
    assert (token.expires_in, token.refresh_token_expires_in) == (DAY, 365 * DAY)
    assert token.refresh_token.startswith("rft.")
    assert "comment.list.manage" in token.scope.split(",")
    assert business.access_token == token.access_token, "the client now holds the token"


def test_refresh_access_token_counts_the_year_down(business, token, clock):
    clock.advance(10 * DAY)

    renewed = business.refresh_access_token(token.refresh_token)

    assert renewed.access_token != token.access_token
    assert renewed.refresh_token != token.refresh_token
    assert renewed.refresh_token_expires_in == 355 * DAY
    assert business.access_token == renewed.access_token


def test_token_info_and_revoke(business, token, sandbox):
    info = business.get_token_info(token.access_token)
    assert (info.app_id, info.creator_id) == (sandbox.config.app_id, token.open_id)

    revoked = business.revoke_access_token(token.access_token)
    assert revoked.code == 0
    with pytest.raises(PyTiktokError, match="40105"):
        business.get_account_data(token.open_id)


def test_get_account_data(business, token, organic):
    account = organic["accounts"][0]
    answer = business.get_account_data(
        token.open_id, fields=["username", "display_name", "followers_count", "videos_count",
                               "video_views", "audience_genders"],
        start_date="2025-10-01", end_date="2025-10-07")

    data = answer.data
    assert (data.username, data.display_name, data.followers_count, data.videos_count) == (
        account["username"], account["display_name"], account["followers_count"],
        account["videos_count"])
    assert [m.date for m in data.metrics] == [f"2025-10-0{d}" for d in range(1, 8)]
    assert all(m.video_views is not None for m in data.metrics)
    assert {g.gender for g in data.audience_genders} == {"Female", "Male", "Other"}


def test_get_account_videos_pages_with_the_cursor(business, token, organic):
    videos, cursor = [], None
    while True:
        answer = business.get_account_videos(
            token.open_id, fields=["item_id", "create_time", "caption", "is_ad", "comments"],
            cursor=cursor, max_count=4)
        videos += answer.data.videos
        if not answer.data.has_more:
            break
        cursor = answer.data.cursor

    expected = [v for v in organic["videos"] if v["business_id"] == token.open_id]
    assert [v.item_id for v in videos] == [v["video_id"] for v in expected]
    assert [(v.caption, v.is_ad, v.comments) for v in videos] == [
        (v["caption"], v["is_ad"], v["comments"]) for v in expected]

    ads = business.get_account_videos(token.open_id, filters={"ad_post_only": True})
    assert {v.item_id for v in ads.data.videos} == {v["video_id"] for v in expected
                                                    if v["is_ad"]}


def test_get_video_comments_and_replies(business, token, organic):
    parent = busiest_thread(organic, token.open_id)
    video_id = parent["video_id"]
    comments, cursor = [], None
    while True:
        answer = business.get_video_comments(
            token.open_id, video_id, include_replies=True, status="ALL",
            sort_field="create_time", sort_order="asc", cursor=cursor, max_count=30)
        comments += answer.data.comments
        if not answer.data.has_more:
            break
        cursor = answer.data.cursor

    tops = [c for c in organic["comments"]
            if c["video_id"] == video_id and c["comment_type"] == "COMMENT"]
    assert [c.comment_id for c in comments] == [c["comment_id"] for c in tops]
    assert [c.text for c in comments] == [c["text"] for c in tops]
    assert [c.create_time for c in comments] == [c["create_ts"] for c in tops]
    with_replies = next(c for c in comments if c.comment_id == parent["comment_id"])
    assert 1 <= len(with_replies.reply_list) <= 3

    replies = business.get_comment_replies(token.open_id, video_id, parent["comment_id"],
                                           sort_order="asc", max_count=30)
    assert [r.comment_id for r in replies.data.comments] == [
        c["comment_id"] for c in organic["comments"]
        if c["parent_comment_id"] == parent["comment_id"]]
    assert {r.parent_comment_id for r in replies.data.comments} == {parent["comment_id"]}


def test_create_reply_then_it_is_listed(business, token, organic, sandbox):
    parent = busiest_thread(organic, token.open_id)

    created = business.create_reply(token.open_id, parent["video_id"], parent["comment_id"],
                                    text="Thanks for asking! 🙏")

    assert created.data.parent_comment_id == parent["comment_id"]
    assert created.data.text == "Thanks for asking! 🙏"
    listed = business.get_comment_replies(token.open_id, parent["video_id"],
                                          parent["comment_id"], sort_order="desc", max_count=1)
    assert listed.data.comments[0].comment_id == created.data.comment_id
    assert listed.data.comments[0].owner is True
    truth = sandbox.ground_truth_accounts(video_id=parent["video_id"])
    assert created.data.comment_id in {c["comment_id"] for c in truth["comments"]}


def test_hide_comment_and_unhide_it(business, token, organic, sandbox):
    comment = next(c for c in organic["comments"] if c["business_id"] == token.open_id
                   and c["status"] == "PUBLIC" and c["comment_type"] == "COMMENT")

    hidden = business.hide_comment(token.open_id, comment["video_id"], comment["comment_id"])
    assert hidden.code == 0
    public = business.get_video_comments(token.open_id, comment["video_id"], status="PUBLIC",
                                         comment_ids=[comment["comment_id"]])
    assert public.data.comments is None or public.data.comments == []
    truth = sandbox.ground_truth_accounts(video_id=comment["video_id"])
    assert next(c for c in truth["comments"]
                if c["comment_id"] == comment["comment_id"])["status"] == "HIDDEN"

    business.hide_comment(token.open_id, comment["video_id"], comment["comment_id"],
                          action="UNHIDE")
    again = business.get_video_comments(token.open_id, comment["video_id"], status="PUBLIC",
                                        comment_ids=[comment["comment_id"]])
    assert [c.comment_id for c in again.data.comments] == [comment["comment_id"]]


def test_like_pin_and_delete(business, token, organic, sandbox):
    own = next(c for c in organic["comments"]
               if c["business_id"] == token.open_id and c["owner"])
    viewer = next(c for c in organic["comments"] if c["business_id"] == token.open_id
                  and not c["owner"] and c["comment_type"] == "COMMENT" and not c["liked"])

    assert business.like_comment(token.open_id, viewer["comment_id"]).code == 0
    assert business.pin_comment(token.open_id, viewer["video_id"],
                                viewer["comment_id"]).code == 0
    assert business.delete_comment(token.open_id, own["comment_id"]).code == 0
    with pytest.raises(PyTiktokError, match="40001"):
        business.delete_comment(token.open_id, viewer["comment_id"])

    truth = {c["comment_id"]: c for c in sandbox.ground_truth_accounts()["comments"]}
    assert own["comment_id"] not in truth
    assert truth[viewer["comment_id"]]["liked"] and truth[viewer["comment_id"]]["pinned"]


def test_api_errors_raise_with_the_code(business, token, clock):
    with pytest.raises(PyTiktokError, match="40002"):
        business.get_account_videos(token.open_id, max_count=21)
    clock.advance(DAY)
    with pytest.raises(PyTiktokError, match="40102"):
        business.get_account_data(token.open_id)
