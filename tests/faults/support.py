"""Checks shared by the fault and crash tests (no tests here): the store against the sandbox."""

from __future__ import annotations

from collections import Counter
from typing import Any

from desk import store as db
from tiktok_client.models import parse_time

COMMENT_FIELDS = (
    "ad_id", "adgroup_id", "campaign_id", "content", "comment_type", "original_comment_id",
    "comment_status", "likes", "replies", "user_name", "user_id", "can_delete",
    "hit_blockedword", "is_pinned",
)
AD_FIELDS = (
    "campaign_id", "campaign_name", "adgroup_id", "adgroup_name", "ad_name", "tiktok_item_id",
    "video_id", "identity_type", "identity_id", "ad_text", "operation_status",
    "secondary_status",
)


def busiest_advertiser(sandbox) -> str:
    counts = Counter(c["advertiser_id"] for c in sandbox.ground_truth()["comments"])
    return max(sorted(counts), key=counts.__getitem__)


def truth(sandbox, advertiser_id: str) -> dict[str, Any]:
    """The sandbox's ads and comments of one advertiser, by ID."""
    world = sandbox.ground_truth(advertiser_id)
    return {
        "ads": {a["ad_id"]: a for a in world["ads"]},
        "comments": {c["comment_id"]: c for c in world["comments"]},
    }


def _blank(value: Any) -> Any:
    return None if value in ("", None) else value


def assert_comment_is_true(row: dict[str, Any], expected: dict[str, Any]) -> None:
    for name in COMMENT_FIELDS:
        assert row[name] == _blank(expected.get(name)), (row["comment_id"], name)
    assert row["create_time"].timestamp() == expected["create_ts"], row["comment_id"]


def assert_store_matches_truth(cur, sandbox, advertiser_id: str) -> None:
    """Exactly the sandbox's ads and comments of the advertiser, field by field, no duplicate."""
    world = truth(sandbox, advertiser_id)
    comments = db.query_records(cur, "SELECT * FROM comments WHERE advertiser_id = ?",
                                [advertiser_id])
    assert len(comments) == len({r["comment_id"] for r in comments}), "duplicate comment rows"
    assert {r["comment_id"] for r in comments} == set(world["comments"])
    for row in comments:
        assert_comment_is_true(row, world["comments"][row["comment_id"]])
    ads = db.query_records(cur, "SELECT * FROM ads WHERE advertiser_id = ?", [advertiser_id])
    assert {r["ad_id"] for r in ads} == set(world["ads"])
    for row in ads:
        expected = world["ads"][row["ad_id"]]
        for name in AD_FIELDS:
            assert row[name] == _blank(expected.get(name)), (row["ad_id"], name)
        assert row["create_time"] == parse_time(expected["create_time"]), row["ad_id"]


ORGANIC_FIELDS = {  # stored column -> the sandbox's field
    "business_id": "business_id", "video_id": "video_id", "tiktok_item_id": "video_id",
    "content": "text", "comment_type": "comment_type", "original_comment_id":
    "parent_comment_id", "comment_status": "status", "likes": "likes", "replies": "replies",
    "can_delete": "owner", "is_pinned": "pinned", "user_id": "user_id",
    "user_name": "username",
}


def assert_account_matches_truth(cur, sandbox, business_id: str) -> None:
    """Exactly the sandbox's organic comments and replies of the business account, field by
    field, no duplicate."""
    world = {c["comment_id"]: c for c in sandbox.ground_truth_accounts(business_id)["comments"]}
    rows = db.query_records(cur, "SELECT * FROM comments WHERE source = 'organic' "
                                 "AND business_id = ?", [business_id])
    assert len(rows) == len({r["comment_id"] for r in rows}), "duplicate comment rows"
    assert {r["comment_id"] for r in rows} == set(world)
    for row in rows:
        expected = world[row["comment_id"]]
        for column, name in ORGANIC_FIELDS.items():
            assert row[column] == _blank(expected.get(name)), (row["comment_id"], column)
        assert row["create_time"].timestamp() == expected["create_ts"], row["comment_id"]
