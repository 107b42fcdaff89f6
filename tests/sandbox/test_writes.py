"""Replying, hiding and deleting: what TikTok accepts, what it refuses, and what listings
show afterwards."""

from __future__ import annotations

import re

import pytest

from .conftest import TODAY, read_only_advertiser, writable_advertiser


def ads_by_id(truth):
    return {a["ad_id"]: a for a in truth["ads"]}


def pick_comment(truth, *, writable=True, permitted=True, comment_type="COMMENT"):
    """A comment of the first advertiser the user may write on (or, with ``writable``
    false, of the read-only one), on an ad whose identity may manage comments or not."""
    advertiser = writable_advertiser(truth) if writable else read_only_advertiser(truth)
    ads = ads_by_id(truth)
    return next(
        c for c in truth["comments"]
        if c["advertiser_id"] == advertiser["advertiser_id"]
        and c["comment_type"] == comment_type
        and ads[c["ad_id"]]["is_auth_comment_manage_scope"] is permitted
    )


def reply_body(truth, comment, text="Thanks for asking! 🙏"):
    ad = ads_by_id(truth)[comment["ad_id"]]
    return {
        "advertiser_id": comment["advertiser_id"], "ad_id": ad["ad_id"],
        "tiktok_item_id": ad["tiktok_item_id"], "comment_id": comment["comment_id"],
        "comment_type": "REPLY", "text": text, "identity_type": ad["identity_type"],
        "identity_id": ad["identity_id"],
    }


def listing_of(api, comment, start, end):
    """The comment's ad group's comments created from ``start`` to ``end``, by ID."""
    rows, page = [], 1
    while True:
        data = api.get("comment/list/", advertiser_id=comment["advertiser_id"],
                       search_field="ADGROUP_ID", search_value=comment["adgroup_id"],
                       start_time=start, end_time=end, page=page, page_size=100)["data"]
        rows += data["comments"]
        if page >= data["page_info"]["total_page"]:
            return {r["comment_id"]: r for r in rows}
        page += 1


def today_listing(api, comment):
    return listing_of(api, comment, TODAY, TODAY)


def test_a_reply_is_answered_flat_and_appears_as_a_reply(api, truth, sandbox):
    comment = pick_comment(truth)
    ad = ads_by_id(truth)[comment["ad_id"]]
    answer = api.post("comment/post/", reply_body(truth, comment))
    assert answer["code"] == 0, answer
    data = answer["data"]
    assert set(data) == {"comment_id", "tiktok_item_id", "text", "create_time",
                         "reply_to_comment_id"}
    assert data["reply_to_comment_id"] == comment["comment_id"]
    assert data["tiktok_item_id"] == ad["tiktok_item_id"]
    assert data["text"] == "Thanks for asking! 🙏"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", data["create_time"])
    assert re.fullmatch(r"\d{19}", data["comment_id"])

    rows = today_listing(api, comment)
    reply = rows[data["comment_id"]]
    assert reply["comment_type"] == "REPLY"
    assert reply["original_comment_id"] == comment["comment_id"]
    assert reply["content"] == "Thanks for asking! 🙏"
    assert reply["can_delete"] is True
    assert reply["user_name"] == ad["display_name"]
    assert reply["comment_status"] == "PUBLIC"
    parent = next(c for c in sandbox.ground_truth()["comments"]
                  if c["comment_id"] == comment["comment_id"])
    assert parent["replies"] == comment["replies"] + 1


def test_replying_to_a_reply_is_refused(api, truth):
    reply = pick_comment(truth, comment_type="REPLY")
    answer = api.post("comment/post/", reply_body(truth, reply))
    assert answer["code"] == 40002
    assert "only first-level comments can be replied to" in answer["message"]


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_reply_is_refused(api, truth, text):
    answer = api.post("comment/post/", reply_body(truth, pick_comment(truth), text))
    assert answer["code"] == 40002
    assert answer["message"].startswith("text:")


@pytest.mark.parametrize("field", ["advertiser_id", "ad_id", "tiktok_item_id", "comment_id",
                                   "comment_type", "text", "identity_type", "identity_id"])
def test_every_reply_field_is_required(api, truth, field):
    body = reply_body(truth, pick_comment(truth))
    del body[field]
    answer = api.post("comment/post/", body)
    assert answer["code"] == 40002
    assert answer["message"].startswith(f"{field}:")


def test_comment_type_of_a_reply_must_be_reply(api, truth):
    body = {**reply_body(truth, pick_comment(truth)), "comment_type": "COMMENT"}
    assert api.post("comment/post/", body)["code"] == 40002


def test_reply_must_use_the_ads_identity(api, truth):
    body = {**reply_body(truth, pick_comment(truth)), "identity_id": "7100000000000000000"}
    answer = api.post("comment/post/", body)
    assert answer["code"] == 40002
    assert answer["message"].startswith("identity_id:")


def test_a_read_only_user_cannot_reply_and_is_told_without_a_role(api, truth):
    comment = pick_comment(truth, writable=False)
    answer = api.post("comment/post/", reply_body(truth, comment))
    assert answer["code"] == 40001
    assert answer["message"] == ("You don't have permission to operate this advertiser: "
                                 f"{comment['advertiser_id']}.")


def test_an_identity_without_comment_permission_cannot_reply(api, truth):
    answer = api.post("comment/post/", reply_body(truth, pick_comment(truth, permitted=False)))
    assert answer["code"] == 40001
    assert "is_auth_comment_manage_scope" in answer["message"]


def status_body(comment, operation, ids=None):
    return {"advertiser_id": comment["advertiser_id"],
            "comment_ids": ids or [comment["comment_id"]], "operation": operation}


def status_in_truth(sandbox, comment_id):
    return next(c["comment_status"] for c in sandbox.ground_truth()["comments"]
                if c["comment_id"] == comment_id)


def test_hiding_and_unhiding_change_the_status(api, truth, sandbox):
    second = writable_advertiser(truth, 1)["advertiser_id"]
    comment = next(c for c in truth["comments"] if c["comment_status"] == "PUBLIC"
                   and c["advertiser_id"] == second)
    answer = api.post("comment/status/update/", status_body(comment, "HIDDEN"))
    assert (answer["code"], answer["data"]) == (0, {})
    assert status_in_truth(sandbox, comment["comment_id"]) == "HIDDEN"
    day = comment["create_time"][:10]
    hidden = listing_of(api, comment, day, day)[comment["comment_id"]]
    assert hidden["comment_status"] == "HIDDEN"
    assert api.post("comment/status/update/", status_body(comment, "PUBLIC"))["code"] == 0
    assert status_in_truth(sandbox, comment["comment_id"]) == "PUBLIC"


def test_a_read_only_user_cannot_hide(api, truth):
    comment = pick_comment(truth, writable=False)
    assert api.post("comment/status/update/", status_body(comment, "HIDDEN"))["code"] == 40001


def test_a_status_update_with_an_unknown_comment_changes_nothing(api, truth, sandbox):
    writer = writable_advertiser(truth)["advertiser_id"]
    comment = next(c for c in truth["comments"] if c["comment_status"] == "PUBLIC"
                   and c["advertiser_id"] == writer)
    body = status_body(comment, "HIDDEN", [comment["comment_id"], "7000000000000000000"])
    answer = api.post("comment/status/update/", body)
    assert answer["code"] == 40002
    assert answer["message"].startswith("comment_ids:")
    assert status_in_truth(sandbox, comment["comment_id"]) == "PUBLIC"


def test_status_operation_must_be_hidden_or_public(api, truth):
    answer = api.post("comment/status/update/", status_body(pick_comment(truth), "HIDE"))
    assert answer["code"] == 40002
    assert answer["message"].startswith("operation:")


def delete_body(truth, comment):
    body = reply_body(truth, comment)
    del body["comment_type"], body["text"]
    return body


def test_deleting_an_own_reply_removes_it_and_decrements_the_count(api, truth, sandbox):
    comment = pick_comment(truth)
    reply_id = api.post("comment/post/", reply_body(truth, comment))["data"]["comment_id"]
    body = {**delete_body(truth, comment), "comment_id": reply_id}
    assert api.post("comment/delete/", body)["code"] == 0
    after = {c["comment_id"]: c for c in sandbox.ground_truth()["comments"]}
    assert reply_id not in after
    assert after[comment["comment_id"]]["replies"] == comment["replies"]
    assert reply_id not in today_listing(api, comment)


def test_deleting_a_viewers_comment_is_refused(api, truth):
    answer = api.post("comment/delete/", delete_body(truth, pick_comment(truth)))
    assert answer["code"] == 40001


def test_reference_of_a_comment_lists_it_with_its_replies(api, truth):
    parent = next(c for c in truth["comments"] if c["replies"] >= 2)
    answer = api.get("comment/reference/", advertiser_id=parent["advertiser_id"],
                     comment_id=parent["comment_id"], comment_type="COMMENT", page_size=100)
    rows = answer["data"]["comments"]
    assert rows[0]["comment_id"] == parent["comment_id"]
    assert rows[0]["reply_user_info"] is None
    assert len(rows) == parent["replies"] + 1
    assert all(r["reply_user_info"]["user_name"] == parent["user_name"] for r in rows[1:])


def test_reference_of_a_reply_lists_it_with_its_original(api, truth):
    reply = pick_comment(truth, comment_type="REPLY")
    answer = api.get("comment/reference/", advertiser_id=reply["advertiser_id"],
                     comment_id=reply["comment_id"], comment_type="REPLY",
                     original_comment_id=reply["original_comment_id"])
    assert [r["comment_id"] for r in answer["data"]["comments"]] == [
        reply["comment_id"], reply["original_comment_id"]]
    missing = api.get("comment/reference/", advertiser_id=reply["advertiser_id"],
                      comment_id=reply["comment_id"], comment_type="REPLY")
    assert missing["code"] == 40002
    assert missing["message"].startswith("original_comment_id:")


IDENTITY_TYPES = ["CUSTOMIZED_USER", "AUTH_CODE", "TT_USER", "BC_AUTH_TT", "BC_SELF_TT"]


@pytest.mark.parametrize("identity_type", IDENTITY_TYPES)
def test_every_identity_type_of_the_openapi_is_taken(api, truth, identity_type):
    """An identity type TikTok lists passes the parameter check; the identity must still be
    the ad's own."""
    comment = pick_comment(truth)
    ad = ads_by_id(truth)[comment["ad_id"]]
    for endpoint, body in (("comment/post/", reply_body(truth, comment)),
                           ("comment/delete/", delete_body(truth, comment))):
        answer = api.post(endpoint, {**body, "identity_type": identity_type})
        if identity_type == ad["identity_type"]:
            assert answer["code"] == (0 if endpoint == "comment/post/" else 40001), answer
        else:
            assert answer["code"] == 40002
            assert answer["message"].startswith("identity_id:")


@pytest.mark.parametrize("identity_type", ["UNSET", "TIKTOK_USER"])
def test_an_identity_type_tiktok_does_not_list_is_refused(api, truth, identity_type):
    comment = pick_comment(truth)
    for body in (reply_body(truth, comment), delete_body(truth, comment)):
        answer = api.post("comment/post/" if "text" in body else "comment/delete/",
                          {**body, "identity_type": identity_type})
        assert answer["code"] == 40002
        assert answer["message"] == ("identity_type: Must be one of: "
                                     f"{', '.join(IDENTITY_TYPES)}.")


def blocked_comment(truth):
    writer = writable_advertiser(truth)["advertiser_id"]
    return next(c for c in truth["comments"]
                if c["hit_blockedword"] and c["advertiser_id"] == writer)


@pytest.mark.parametrize("operation", ["PUBLIC", "HIDDEN"])
def test_a_comment_that_hit_a_blocked_word_cannot_be_shown_or_hidden(api, truth, sandbox,
                                                                     operation):
    comment = blocked_comment(truth)
    answer = api.post("comment/status/update/", status_body(comment, operation))
    assert answer["code"] == 40002
    assert answer["message"] == (f"comment_ids: Comment {comment['comment_id']} hit a "
                                 "blocked word; its status cannot be changed by hand.")
    assert status_in_truth(sandbox, comment["comment_id"]) == "HIDDEN"


def test_a_batch_with_a_blocked_word_comment_changes_nothing(api, truth, sandbox):
    blocked = blocked_comment(truth)
    public = next(c for c in truth["comments"] if c["comment_status"] == "PUBLIC"
                  and c["advertiser_id"] == blocked["advertiser_id"])
    body = status_body(public, "HIDDEN", [public["comment_id"], blocked["comment_id"]])
    answer = api.post("comment/status/update/", body)
    assert answer["code"] == 40002
    assert answer["message"].startswith("comment_ids:")
    assert status_in_truth(sandbox, public["comment_id"]) == "PUBLIC"


@pytest.mark.parametrize(("ad_type", "code"),
                         [("BIDDING", 0), ("BRAND", 40002), ("AUCTION", 40002)])
def test_status_update_takes_an_optional_ad_type(api, truth, sandbox, ad_type, code):
    """Comments on auction ads are BIDDING ones (see test_reservation for BRAND)."""
    writer = writable_advertiser(truth)["advertiser_id"]
    comment = next(c for c in truth["comments"] if c["comment_status"] == "PUBLIC"
                   and c["advertiser_id"] == writer)
    answer = api.post("comment/status/update/",
                      {**status_body(comment, "HIDDEN"), "ad_type": ad_type})
    assert answer["code"] == code
    if code:
        assert answer["message"].startswith("ad_type:")
