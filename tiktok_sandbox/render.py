"""The sandbox's objects in the shapes TikTok's API answers with."""

from __future__ import annotations

import time
from typing import Any

from .data import Ad, AdGroup, Advertiser, Campaign, Comment, Identity
from .organic import BusinessAccount, OrganicComment, Video


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


# The Accounts API (TikTok business accounts)

PROFILE_FIELDS = (
    "is_business_account", "username", "display_name", "profile_image", "profile_deep_link",
    "bio_description", "is_verified", "followers_count", "following_count", "total_likes",
    "videos_count",
)
AUDIENCE_FIELDS = ("audience_countries", "audience_genders", "audience_ages", "audience_cities")
METRIC_FIELDS = (
    "video_views", "unique_video_views", "profile_views", "likes", "comments", "shares",
    "followers_count", "daily_total_followers", "daily_new_followers", "daily_lost_followers",
    "engaged_audience", "bio_link_clicks",
)
VIDEO_FIELDS = (
    "item_id", "create_time", "caption", "share_url", "embed_url", "thumbnail_url",
    "media_type", "is_ad", "video_duration", "video_views", "reach", "likes", "comments",
    "shares", "favorites", "total_time_watched", "average_time_watched",
    "full_video_watched_rate",
)


def epoch_text(ts: float) -> str:
    """Epoch seconds as a string, as the Accounts API sends ``create_time``."""
    return str(int(ts))


def profile_row(account: BusinessAccount, total_likes: int, videos_count: int
                ) -> dict[str, Any]:
    """Every profile field of business/get (``fields`` picks from them)."""
    return {
        "is_business_account": True,
        "username": account.username,
        "display_name": account.display_name,
        "profile_image": account.profile_image,
        "profile_deep_link": account.profile_deep_link,
        "bio_description": account.bio_description,
        "is_verified": account.is_verified,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "total_likes": total_likes,
        "videos_count": videos_count,
    }


def video_row(video: Video, comment_count: int) -> dict[str, Any]:
    """Every field of a business/video/list video (``fields`` picks from them)."""
    watched = round(video.video_views * video.duration * 0.41, 1)
    return {
        "item_id": video.video_id,
        "create_time": epoch_text(video.create_ts),
        "caption": video.caption,
        "share_url": f"https://www.tiktok.com/@{video.account.username}/video/{video.video_id}",
        "embed_url": f"https://www.tiktok.com/embed/v2/{video.video_id}",
        "thumbnail_url": f"https://p16-sign.sandbox.invalid/thumb/{video.video_id}.jpeg",
        "media_type": "VIDEO",
        "is_ad": video.is_ad,
        "video_duration": video.duration,
        "video_views": video.video_views,
        "reach": video.reach,
        "likes": video.likes,
        "comments": comment_count,
        "shares": video.shares,
        "favorites": video.favorites,
        "total_time_watched": watched,
        "average_time_watched": round(video.duration * 0.41, 2),
        "full_video_watched_rate": 0.23,
    }


def organic_comment_row(c: OrganicComment) -> dict[str, Any]:
    """A ``data.comments[]`` item of business/comment/list and business/comment/reply/list.

    A top-level comment has no ``parent_comment_id`` key.
    """
    row: dict[str, Any] = {
        "comment_id": c.comment_id,
        "video_id": c.video.video_id,
        "user_id": c.user_id,
        "unique_identifier": c.unique_identifier,
        "create_time": epoch_text(c.create_ts),
        "text": c.text,
        "likes": c.likes,
        "replies": c.replies,
        "owner": c.owner,
        "liked": c.liked,
        "pinned": c.pinned,
        "status": c.status,
        "username": c.username,
        "display_name": c.display_name,
        "profile_image": c.profile_image,
    }
    if c.parent_comment_id:
        row["parent_comment_id"] = c.parent_comment_id
    return row


def truth_account(account: BusinessAccount, total_likes: int, videos_count: int
                  ) -> dict[str, Any]:
    row = {"business_id": account.open_id, "open_id": account.open_id,
           "advertiser_id": account.advertiser_id, "identity_id": account.identity_id}
    row.update(profile_row(account, total_likes, videos_count))
    return row


def truth_video(video: Video, comment_count: int) -> dict[str, Any]:
    row = video_row(video, comment_count)
    return {"video_id": row.pop("item_id"), "business_id": video.account.open_id,
            "create_ts": video.create_ts, "ad_ids": list(video.ad_ids), **row}


def truth_organic_comment(c: OrganicComment) -> dict[str, Any]:
    """An organic comment as the ground truth lists it (``parent_comment_id`` None at the top)."""
    return {
        "comment_id": c.comment_id,
        "business_id": c.video.account.open_id,
        "video_id": c.video.video_id,
        "parent_comment_id": c.parent_comment_id or None,
        "comment_type": "REPLY" if c.parent_comment_id else "COMMENT",
        "text": c.text,
        "create_time": epoch_text(c.create_ts),
        "create_ts": c.create_ts,
        "likes": c.likes,
        "replies": c.replies,
        "status": c.status,
        "owner": c.owner,
        "liked": c.liked,
        "pinned": c.pinned,
        "user_id": c.user_id,
        "unique_identifier": c.unique_identifier,
        "username": c.username,
        "display_name": c.display_name,
        "profile_image": c.profile_image,
    }
