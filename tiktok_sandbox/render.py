"""The sandbox's objects in the shapes TikTok's API answers with.

The order of the keys in a row is the order TikTok sends them in.
"""

from __future__ import annotations

import operator
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


def epoch_text(ts: float) -> str:
    """Epoch seconds as a string, as the Accounts API sends ``create_time``."""
    return str(int(ts))


def _attributes(obj: object, *names: str) -> dict[str, Any]:
    """The attributes ``names`` (two or more) of ``obj``, each under its own name."""
    return dict(zip(names, operator.attrgetter(*names)(obj), strict=True))


def _row(obj: object, fields: tuple[str, ...], **computed: Any) -> dict[str, Any]:
    """The ``fields`` of ``obj``, in order: each the attribute of the same name, unless
    ``computed`` gives it."""
    return {field: computed[field] if field in computed else getattr(obj, field)
            for field in fields}


# The Marketing API

def _identity_part(c: Comment) -> dict[str, Any]:
    """The identity an ad comment is answered as, and what it may do with the comment."""
    identity = c.ad.identity
    return {
        **_attributes(identity, "identity_id", "identity_type"),
        **_attributes(c, "is_pinned", "can_delete"),
        "is_auth_ttba": identity.is_auth_ttba,
        "is_auth_comment_manage_scope": identity.can_manage_comments,
    }


def comment_row(c: Comment) -> dict[str, Any]:
    """A ``data.comments[]`` item of comment/list."""
    ad = c.ad
    return {
        "comment_id": c.comment_id,
        "app": "TIKTOK",
        **_attributes(c, "content", "likes", "replies", "comment_type", "original_comment_id",
                      "comment_status", "hit_blockedword"),
        "ad_text": ad.ad_text,
        "create_time": comment_time(c.create_ts),
        **_attributes(ad.adgroup.campaign, "campaign_id", "campaign_name"),
        **_attributes(ad.adgroup, "adgroup_id", "adgroup_name"),
        **_attributes(ad, "ad_id", "ad_name", "tiktok_item_id"),
        **_identity_part(c),
        **_attributes(ad, "video_play_url", "video_cover_url"),
        **_attributes(c, "user_avatar_url", "user_name", "user_id"),
    }


def reference_row(c: Comment, original: Comment | None, *, info_as_list: bool = False
                  ) -> dict[str, Any]:
    """A ``data.comments[]`` item of comment/reference. ``reply_user_info`` names the author
    of ``original``: one object or None, or with ``info_as_list`` a list of at most one."""
    info = ({"user_name": original.user_name, "user_avatar_url": original.user_avatar_url}
            if original is not None else None)
    if info_as_list:
        info = [info] if info is not None else []
    return {
        **_attributes(c, "comment_id", "content", "comment_type", "comment_status",
                      "hit_blockedword"),
        "create_time": comment_time(c.create_ts),
        **_attributes(c, "user_name", "user_id", "user_avatar_url"),
        "tiktok_item_id": c.ad.tiktok_item_id,
        **_identity_part(c),
        "reply_user_info": info,
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
    identity = ad.identity
    return _row(
        ad, AD_FIELDS,
        campaign_id=adgroup.campaign.campaign_id, campaign_name=adgroup.campaign.campaign_name,
        adgroup_id=adgroup.adgroup_id, adgroup_name=adgroup.adgroup_name,
        create_time=api_time(ad.create_ts), modify_time=api_time(ad.modify_ts),
        identity_id=identity.identity_id, identity_type=identity.identity_type,
        display_name=identity.display_name, image_ids=[], ad_format="SINGLE_VIDEO",
        is_aco=False, creative_type=None,
    )


CAMPAIGN_FIELDS = (
    "advertiser_id", "campaign_id", "campaign_name", "objective_type", "operation_status",
    "create_time", "modify_time",
)


def campaign_row(campaign: Campaign) -> dict[str, Any]:
    created = api_time(campaign.create_ts)
    return _row(campaign, CAMPAIGN_FIELDS, create_time=created, modify_time=created)


ADGROUP_FIELDS = (
    "advertiser_id", "campaign_id", "campaign_name", "adgroup_id", "adgroup_name",
    "operation_status", "create_time", "modify_time",
)


def adgroup_row(adgroup: AdGroup) -> dict[str, Any]:
    created = api_time(adgroup.create_ts)
    return _row(adgroup, ADGROUP_FIELDS, campaign_id=adgroup.campaign.campaign_id,
                campaign_name=adgroup.campaign.campaign_name, create_time=created,
                modify_time=created)


ADVERTISER_FIELDS = (
    "advertiser_id", "name", "company", "status", "currency", "timezone", "display_timezone",
    "country", "create_time", "role",
)


def advertiser_row(advertiser: Advertiser) -> dict[str, Any]:
    """A ``data.list[]`` item of advertiser/info: ``role`` is the account's type."""
    return _row(advertiser, ADVERTISER_FIELDS, display_timezone=advertiser.timezone,
                create_time=advertiser.create_ts, role=advertiser.account_type)


SMART_PLUS_AD_FIELDS = (
    "advertiser_id", "campaign_id", "adgroup_id", "smart_plus_ad_id", "ad_name",
    "operation_status", "secondary_status", "create_time", "modify_time", "creative_list",
    "ad_text_list", "call_to_action_list", "landing_page_url_list",
)


def smart_plus_ad_row(ad: Ad) -> dict[str, Any]:
    """A ``data.list[]`` item of smart_plus/ad/get: the lists and creative shapes of the
    official SDK's SmartPlusAdCreateBody, one creative (a video post) per ad."""
    identity = ad.identity
    creative = {
        "ad_format": "SINGLE_VIDEO",
        "identity_id": identity.identity_id,
        "identity_type": identity.identity_type,
        "tiktok_item_id": ad.tiktok_item_id,
        "video_info": {"video_id": ad.video_id, "file_name": f"{ad.video_id}.mp4"},
    }
    return _row(
        ad, SMART_PLUS_AD_FIELDS,
        campaign_id=ad.adgroup.campaign.campaign_id, adgroup_id=ad.adgroup.adgroup_id,
        smart_plus_ad_id=ad.ad_id, create_time=api_time(ad.create_ts),
        modify_time=api_time(ad.modify_ts), creative_list=[{"creative_info": creative}],
        ad_text_list=[{"ad_text": ad.ad_text}],
        call_to_action_list=[{"call_to_action": ad.call_to_action}],
        landing_page_url_list=[{"landing_page_url": ad.landing_page_url}],
    )


IDENTITY_FIELDS = (
    "identity_id", "identity_type", "display_name", "advertiser_id",
    "is_auth_comment_manage_scope", "is_auth_ttba",
)


def identity_row(identity: Identity) -> dict[str, Any]:
    """An identity as the ground truth lists it."""
    return _row(identity, IDENTITY_FIELDS,
                is_auth_comment_manage_scope=identity.can_manage_comments)


def truth_comment(c: Comment) -> dict[str, Any]:
    """A comment as the ground truth lists it: compact, with IDs of everything above it."""
    ad = c.ad
    return {
        "comment_id": c.comment_id,
        "advertiser_id": ad.advertiser_id,
        "campaign_id": ad.adgroup.campaign.campaign_id,
        "adgroup_id": ad.adgroup.adgroup_id,
        "ad_id": ad.ad_id,
        **_attributes(c, "comment_type", "original_comment_id", "comment_status", "content"),
        "create_time": comment_time(c.create_ts),
        **_attributes(c, "create_ts", "likes", "replies", "user_name", "user_id", "can_delete",
                      "hit_blockedword", "is_pinned"),
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
# Who wrote an organic comment, as TikTok shows them.
_ORGANIC_AUTHOR = ("username", "display_name", "profile_image")


def profile_row(account: BusinessAccount, total_likes: int, videos_count: int
                ) -> dict[str, Any]:
    """Every profile field of business/get (``fields`` picks from them)."""
    return _row(account, PROFILE_FIELDS, is_business_account=True, total_likes=total_likes,
                videos_count=videos_count)


def video_row(video: Video, comment_count: int) -> dict[str, Any]:
    """Every field of a business/video/list video (``fields`` picks from them)."""
    video_id = video.video_id
    return _row(
        video, VIDEO_FIELDS,
        item_id=video_id, create_time=epoch_text(video.create_ts),
        share_url=f"https://www.tiktok.com/@{video.account.username}/video/{video_id}",
        embed_url=f"https://www.tiktok.com/embed/v2/{video_id}",
        thumbnail_url=f"https://p16-sign.sandbox.invalid/thumb/{video_id}.jpeg",
        media_type="VIDEO", video_duration=video.duration, comments=comment_count,
        total_time_watched=round(video.video_views * video.duration * 0.41, 1),
        average_time_watched=round(video.duration * 0.41, 2), full_video_watched_rate=0.23,
    )


def organic_comment_row(c: OrganicComment) -> dict[str, Any]:
    """A ``data.comments[]`` item of business/comment/list and business/comment/reply/list.

    A top-level comment has no ``parent_comment_id`` key.
    """
    row: dict[str, Any] = {
        "comment_id": c.comment_id,
        "video_id": c.video.video_id,
        **_attributes(c, "user_id", "unique_identifier"),
        "create_time": epoch_text(c.create_ts),
        **_attributes(c, "text", "likes", "replies", "owner", "liked", "pinned", "status",
                      *_ORGANIC_AUTHOR),
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
        **_attributes(c, "create_ts", "likes", "replies", "status", "owner", "liked", "pinned",
                      "user_id", "unique_identifier", *_ORGANIC_AUTHOR),
    }
