"""The sandbox's objects in the shapes TikTok's API answers with."""

from __future__ import annotations

import time
from typing import Any

from .data import Ad, AdGroup, Advertiser, Campaign, Comment, Identity


def api_time(ts: float) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, as in ad/get and comment/post."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def comment_time(ts: float) -> str:
    """``YYYY-MM-DD HH:MM:SS +0000 UTC``, as in comment/list (the documented example)."""
    return time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(ts))


def comment_row(c: Comment) -> dict[str, Any]:
    """A ``data.comments[]`` item of comment/list."""
    ad = c.ad
    adgroup = ad.adgroup
    campaign = adgroup.campaign
    identity = ad.identity
    return {
        "comment_id": c.comment_id,
        "app": "TIKTOK",
        "content": c.content,
        "likes": c.likes,
        "replies": c.replies,
        "comment_type": c.comment_type,
        "original_comment_id": c.original_comment_id,
        "comment_status": c.comment_status,
        "hit_blockedword": c.hit_blockedword,
        "ad_text": ad.ad_text,
        "create_time": comment_time(c.create_ts),
        "campaign_id": campaign.campaign_id,
        "campaign_name": campaign.campaign_name,
        "adgroup_id": adgroup.adgroup_id,
        "adgroup_name": adgroup.adgroup_name,
        "ad_id": ad.ad_id,
        "ad_name": ad.ad_name,
        "tiktok_item_id": ad.tiktok_item_id,
        "identity_id": identity.identity_id,
        "identity_type": identity.identity_type,
        "is_pinned": c.is_pinned,
        "can_delete": c.can_delete,
        "is_auth_ttba": identity.is_auth_ttba,
        "is_auth_comment_manage_scope": identity.can_manage_comments,
        "video_play_url": ad.video_play_url,
        "video_cover_url": ad.video_cover_url,
        "user_avatar_url": c.user_avatar_url,
        "user_name": c.user_name,
        "user_id": c.user_id,
    }


def reference_row(c: Comment, original: Comment | None) -> dict[str, Any]:
    """A ``data.comments[]`` item of comment/reference."""
    identity = c.ad.identity
    return {
        "comment_id": c.comment_id,
        "content": c.content,
        "comment_type": c.comment_type,
        "comment_status": c.comment_status,
        "hit_blockedword": c.hit_blockedword,
        "create_time": comment_time(c.create_ts),
        "user_name": c.user_name,
        "user_id": c.user_id,
        "user_avatar_url": c.user_avatar_url,
        "tiktok_item_id": c.ad.tiktok_item_id,
        "identity_id": identity.identity_id,
        "identity_type": identity.identity_type,
        "is_pinned": c.is_pinned,
        "can_delete": c.can_delete,
        "is_auth_ttba": identity.is_auth_ttba,
        "is_auth_comment_manage_scope": identity.can_manage_comments,
        "reply_user_info": (
            {"user_name": original.user_name, "user_avatar_url": original.user_avatar_url}
            if original is not None else None
        ),
    }


AD_FIELDS = (
    "advertiser_id", "campaign_id", "campaign_name", "adgroup_id", "adgroup_name", "ad_id",
    "ad_name", "create_time", "modify_time", "identity_id", "identity_type", "display_name",
    "video_id", "image_ids", "tiktok_item_id", "ad_text", "call_to_action",
    "landing_page_url", "operation_status", "secondary_status", "ad_format",
    "is_aco", "creative_type",
)


def ad_row(ad: Ad) -> dict[str, Any]:
    """A ``data.list[]`` item of ad/get."""
    adgroup = ad.adgroup
    campaign = adgroup.campaign
    return {
        "advertiser_id": ad.advertiser_id,
        "campaign_id": campaign.campaign_id,
        "campaign_name": campaign.campaign_name,
        "adgroup_id": adgroup.adgroup_id,
        "adgroup_name": adgroup.adgroup_name,
        "ad_id": ad.ad_id,
        "ad_name": ad.ad_name,
        "create_time": api_time(ad.create_ts),
        "modify_time": api_time(ad.modify_ts),
        "identity_id": ad.identity.identity_id,
        "identity_type": ad.identity.identity_type,
        "display_name": ad.identity.display_name,
        "video_id": ad.video_id,
        "image_ids": [],
        "tiktok_item_id": ad.tiktok_item_id,
        "ad_text": ad.ad_text,
        "call_to_action": ad.call_to_action,
        "landing_page_url": ad.landing_page_url,
        "operation_status": ad.operation_status,
        "secondary_status": ad.secondary_status,
        "ad_format": "SINGLE_VIDEO",
        "is_aco": False,
        "creative_type": None,
    }


CAMPAIGN_FIELDS = (
    "advertiser_id", "campaign_id", "campaign_name", "objective_type", "operation_status",
    "create_time", "modify_time",
)


def campaign_row(campaign: Campaign) -> dict[str, Any]:
    return {
        "advertiser_id": campaign.advertiser_id,
        "campaign_id": campaign.campaign_id,
        "campaign_name": campaign.campaign_name,
        "objective_type": campaign.objective_type,
        "operation_status": campaign.operation_status,
        "create_time": api_time(campaign.create_ts),
        "modify_time": api_time(campaign.create_ts),
    }


ADGROUP_FIELDS = (
    "advertiser_id", "campaign_id", "campaign_name", "adgroup_id", "adgroup_name",
    "operation_status", "create_time", "modify_time",
)


def adgroup_row(adgroup: AdGroup) -> dict[str, Any]:
    return {
        "advertiser_id": adgroup.advertiser_id,
        "campaign_id": adgroup.campaign.campaign_id,
        "campaign_name": adgroup.campaign.campaign_name,
        "adgroup_id": adgroup.adgroup_id,
        "adgroup_name": adgroup.adgroup_name,
        "operation_status": adgroup.operation_status,
        "create_time": api_time(adgroup.create_ts),
        "modify_time": api_time(adgroup.create_ts),
    }


ADVERTISER_FIELDS = (
    "advertiser_id", "name", "company", "status", "currency", "timezone", "display_timezone",
    "country", "create_time", "role",
)


def advertiser_row(advertiser: Advertiser) -> dict[str, Any]:
    """A ``data.list[]`` item of advertiser/info."""
    return {
        "advertiser_id": advertiser.advertiser_id,
        "name": advertiser.name,
        "company": advertiser.company,
        "status": advertiser.status,
        "currency": advertiser.currency,
        "timezone": advertiser.timezone,
        "display_timezone": advertiser.timezone,
        "country": advertiser.country,
        "create_time": advertiser.create_ts,
        "role": advertiser.role,
    }


def identity_row(identity: Identity) -> dict[str, Any]:
    return {
        "identity_id": identity.identity_id,
        "identity_type": identity.identity_type,
        "display_name": identity.display_name,
        "advertiser_id": identity.advertiser_id,
        "is_auth_comment_manage_scope": identity.can_manage_comments,
        "is_auth_ttba": identity.is_auth_ttba,
    }


def truth_comment(c: Comment) -> dict[str, Any]:
    """A comment as the ground truth lists it: compact, with IDs of everything above it."""
    ad = c.ad
    return {
        "comment_id": c.comment_id,
        "advertiser_id": ad.advertiser_id,
        "campaign_id": ad.adgroup.campaign.campaign_id,
        "adgroup_id": ad.adgroup.adgroup_id,
        "ad_id": ad.ad_id,
        "comment_type": c.comment_type,
        "original_comment_id": c.original_comment_id,
        "comment_status": c.comment_status,
        "content": c.content,
        "create_time": comment_time(c.create_ts),
        "create_ts": c.create_ts,
        "likes": c.likes,
        "replies": c.replies,
        "user_name": c.user_name,
        "user_id": c.user_id,
        "can_delete": c.can_delete,
        "hit_blockedword": c.hit_blockedword,
        "is_pinned": c.is_pinned,
    }
