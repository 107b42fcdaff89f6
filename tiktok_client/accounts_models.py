"""Dataclasses for TikTok's Accounts API (business accounts, their videos and organic comments).

Parsed as tolerantly as :mod:`tiktok_client.models`: unknown fields are ignored, missing ones
become None, obvious coercions are made ("3" -> 3), enum values TikTok adds later are kept as
sent, IDs are strings and times are timezone-aware UTC datetimes. Where TikTok has used more
than one name for a field, every name is read (the current one first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from .parsing import (
    Id,
    Record,
    as_bool,
    as_id,
    as_int,
    as_mapping,
    as_text,
    entries,
    first,
    parent_id,
    parse_time,
    record,
    record_of,
    utc_now,
)

__all__ = [
    "AccountMetric",
    "AccountToken",
    "AccountTokenInfo",
    "AudienceShare",
    "BusinessProfile",
    "CursorPage",
    "OrganicComment",
    "Video",
    "parse_scopes",
]

T = TypeVar("T")

_SCOPE_SEPARATORS = re.compile(r"[,\s]+")
# Older token answers (`expires`, `refresh_expires`) carry seconds to live, like the current
# `*_expires_in`; a value this large can only be a moment (epoch seconds), and is read as one.
_EPOCH_THRESHOLD = 1_000_000_000


def parse_scopes(value: Any) -> tuple[str, ...]:
    """Scope names from "a,b", "a b" or ["a", "b"], in order, without blanks or repeats."""
    if isinstance(value, str):
        parts: list[Any] = _SCOPE_SEPARATORS.split(value)
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        return ()
    seen: dict[str, None] = {}
    for part in parts:
        text = as_text(part)
        if text and text.strip():
            seen.setdefault(text.strip(), None)
    return tuple(seen)


def _expiry(now: datetime, seconds_to_live: Any, legacy: Any) -> datetime | None:
    """``now`` plus the lifetime TikTok sent, from the current field or the older one."""
    seconds = as_int(seconds_to_live)
    if seconds is not None:
        return now + timedelta(seconds=seconds)
    old = as_int(legacy)
    if old is None:
        return None
    if old >= _EPOCH_THRESHOLD:
        return parse_time(old)
    return now + timedelta(seconds=old)


@record(also={"open_id": ("creator_id", "business_id")}, repr=False)
class AccountToken(Record):
    """A TikTok account's tokens from tt_user/oauth2/token/ or tt_user/oauth2/refresh_token/.

    Reads both documented shapes: ``open_id``, ``expires_in``, ``refresh_token_expires_in``
    and the older ``creator_id``, ``expires``, ``refresh_expires``. The lifetimes are turned
    into moments (``access_expires_at``, ``refresh_expires_at``, UTC) counted from ``now``,
    the time the request was sent. ``open_id`` is the ``business_id`` of every business/*
    call. ``repr`` never shows a token; ``to_record`` does, for storing with the credentials.
    """

    access_token: str
    refresh_token: str | None = None
    open_id: Id = None
    scope: tuple[str, ...] = ()
    token_type: str | None = None
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None, now: datetime | None = None
                 ) -> AccountToken:
        p = as_mapping(payload)
        moment = utc_now(now)
        return cls._read(
            p,
            access_token=as_text(p.get("access_token")) or "",
            refresh_token=as_text(p.get("refresh_token")) or None,
            scope=parse_scopes(first(p, "scope", "scopes")),
            access_expires_at=_expiry(moment, p.get("expires_in"), p.get("expires")),
            refresh_expires_at=_expiry(
                moment, p.get("refresh_token_expires_in"), p.get("refresh_expires")
            ),
        )

    @property
    def business_id(self) -> str | None:
        """The ``business_id`` to send with business/* calls (the token's ``open_id``)."""
        return self.open_id

    def access_expired(self, now: datetime | None = None, *,
                       margin: timedelta = timedelta(0)) -> bool:
        """True when the access token is expired at ``now`` (or within ``margin`` of it).

        A token without a known expiry is taken as valid.
        """
        if self.access_expires_at is None:
            return False
        return utc_now(now) + margin >= self.access_expires_at

    def refresh_expired(self, now: datetime | None = None) -> bool:
        """True when the refresh token can no longer be used: the account must reconnect."""
        if not self.refresh_token:
            return True
        if self.refresh_expires_at is None:
            return False
        return utc_now(now) >= self.refresh_expires_at

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope

    def __repr__(self) -> str:
        access = "<hidden>" if self.access_token else "''"
        refresh = "<hidden>" if self.refresh_token else None
        return (
            f"AccountToken(access_token={access}, refresh_token={refresh}, "
            f"open_id={self.open_id!r}, scope={self.scope!r}, "
            f"access_expires_at={self.access_expires_at!r}, "
            f"refresh_expires_at={self.refresh_expires_at!r})"
        )


@record(also={"open_id": ("creator_id", "business_id")})
class AccountTokenInfo(Record):
    """What tt_user/token_info/get/ says about an access token (``creator_id`` = open_id)."""

    app_id: Id
    open_id: Id = None
    scope: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> AccountTokenInfo:
        p = as_mapping(payload)
        return cls._read(
            p,
            app_id=as_id(first(p, "app_id", "client_id", "client_key")),
            scope=parse_scopes(first(p, "scope", "scopes")),
        )


@record
class AudienceShare(Record):
    """One slice of an audience breakdown: a country, gender, age range or city and its share."""

    key: str | None
    percentage: float | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None, *keys: str) -> AudienceShare:
        """Parse one slice; ``keys`` name the field that holds the slice ("country", ...)."""
        p = as_mapping(payload)
        return cls._read(p, key=as_text(first(p, *keys)))


@record(also={"followers_count": "follower_count", "video_views": "views"})
class AccountMetric(Record):
    """One UTC day of a business account's statistics (``metrics[]`` of business/get/)."""

    date: date | None
    followers_count: int | None = None
    daily_total_followers: int | None = None
    daily_new_followers: int | None = None
    daily_lost_followers: int | None = None
    video_views: int | None = None
    unique_video_views: int | None = None
    profile_views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    engaged_audience: int | None = None
    bio_link_clicks: int | None = None


_AUDIENCES = (
    ("audience_countries", ("country",)),
    ("audience_genders", ("gender",)),
    ("audience_ages", ("age",)),
    ("audience_cities", ("city_name", "city")),
)
"""BusinessProfile's audience breakdowns: the field, and the keys naming each slice."""


@record(also={
    "username": "unique_id",
    "profile_image": ("avatar_url", "profile_image_url"),
    "profile_deep_link": "profile_deep_link_url",
    "bio_description": "bio",
    "followers_count": "follower_count",
    "total_likes": "likes_count",
    "videos_count": "video_count",
})
class BusinessProfile(Record):
    """A business account's profile and totals from business/get/.

    ``business_id`` is the one the profile was asked for (TikTok does not repeat it).
    ``metrics`` holds one entry per day when metric fields and dates were asked for.
    """

    business_id: Id
    is_business_account: bool | None = None
    username: str | None = None
    display_name: str | None = None
    profile_image: str | None = None
    profile_deep_link: str | None = None
    bio_description: str | None = None
    is_verified: bool | None = None
    followers_count: int | None = None
    following_count: int | None = None
    total_likes: int | None = None
    videos_count: int | None = None
    metrics: tuple[AccountMetric, ...] = ()
    audience_countries: tuple[AudienceShare, ...] = ()
    audience_genders: tuple[AudienceShare, ...] = ()
    audience_ages: tuple[AudienceShare, ...] = ()
    audience_cities: tuple[AudienceShare, ...] = ()

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None, business_id: str | None = None
                 ) -> BusinessProfile:
        p = as_mapping(payload)
        audiences = {
            name: tuple(AudienceShare.from_api(e, *keys) for e in entries(p.get(name)))
            for name, keys in _AUDIENCES
        }
        return cls._read(
            p,
            business_id=as_id(business_id) or as_id(first(p, "business_id", "open_id")),
            metrics=tuple(AccountMetric.from_api(e) for e in entries(p.get("metrics"))),
            **audiences,
        )

    def to_record(self) -> dict[str, Any]:
        """The profile as one row; metrics and audience slices as lists of dicts."""
        record = Record.to_record(self)
        for name in ("metrics", *(name for name, _ in _AUDIENCES)):
            record[name] = [entry.to_record() for entry in getattr(self, name)]
        return record


@record(also={
    "caption": ("title", "video_description"),
    "embed_url": "embed_link",
    "thumbnail_url": "cover_image_url",
    "video_duration": "duration",
    "video_views": ("view_count", "views"),
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "share_count",
    "favorites": "favorite_count",
})
class Video(Record):
    """A video (post) of a business account from business/video/list/.

    ``video_id`` is TikTok's ``item_id``: the ``video_id`` of the comment calls, and the
    ``tiktok_item_id`` of the Spark Ads that promote this post. Counts are None unless their
    fields were asked for.
    """

    video_id: Id
    business_id: Id = None
    create_time: datetime | None = None
    caption: str | None = None
    share_url: str | None = None
    embed_url: str | None = None
    thumbnail_url: str | None = None
    media_type: str | None = None
    is_ad: bool | None = None
    video_duration: float | None = None
    video_views: int | None = None
    reach: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    favorites: int | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None, business_id: str | None = None
                 ) -> Video:
        p = as_mapping(payload)
        return cls._read(
            p,
            video_id=as_id(first(p, "item_id", "video_id", "id")),
            business_id=as_id(business_id),
        )


@record(also={
    "text": "content",
    "likes": "like_count",
    "replies": "reply_count",
    "status": "comment_status",
    "owner": "is_owner",
    "pinned": ("is_pinned", "is_top"),
    "username": "user_name",
    "profile_image": ("user_avatar_url", "avatar_url"),
})
class OrganicComment(Record):
    """A comment or reply on a business account's video (business/comment/list/,
    business/comment/reply/list/, or the answer of a create call).

    ``parent_comment_id`` is None for a top-level comment (TikTok leaves it out, or sends ""
    or "0"). ``status`` is PUBLIC or HIDDEN (other values are kept as sent). ``owner`` is
    True for comments the account wrote itself: only those can be deleted. ``reply_list``
    holds the replies TikTok embeds when ``include_replies`` was asked for.
    """

    comment_id: Id
    video_id: Id = None
    business_id: Id = None
    parent_comment_id: Id = None
    text: str | None = None
    create_time: datetime | None = None
    likes: int | None = None
    replies: int | None = None
    status: str | None = None
    owner: bool | None = None
    liked: bool | None = None
    pinned: bool | None = None
    user_id: Id = None
    unique_identifier: Id = None
    username: str | None = None
    display_name: str | None = None
    profile_image: str | None = None
    image_url: str | None = None
    reply_list: tuple[OrganicComment, ...] = ()

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None, business_id: str | None = None,
                 *, video_id: str | None = None, parent_comment_id: str | None = None
                 ) -> OrganicComment:
        """Parse one comment; ``video_id`` and ``parent_comment_id`` fill in what the
        payload leaves out (replies embedded in ``reply_list`` name neither)."""
        p = as_mapping(payload)
        comment_id = as_id(p.get("comment_id"))
        own_video = as_id(first(p, "video_id", "item_id", "tiktok_item_id")) or as_id(video_id)
        parent = parent_id(
            first(p, "parent_comment_id", "reply_to_comment_id", "original_comment_id")
        )
        return cls._read(
            p,
            comment_id=comment_id,
            video_id=own_video,
            business_id=as_id(business_id),
            parent_comment_id=parent or parent_id(parent_comment_id),
            reply_list=tuple(
                cls.from_api(e, business_id, video_id=own_video, parent_comment_id=comment_id)
                for e in entries(p.get("reply_list"))
            ),
        )

    @property
    def is_reply(self) -> bool:
        return self.parent_comment_id is not None

    @property
    def is_hidden(self) -> bool:
        return self.status == "HIDDEN"

    @property
    def comment_type(self) -> str:
        """COMMENT or REPLY, as the Marketing API names the two."""
        return "REPLY" if self.is_reply else "COMMENT"

    def with_parent(self, parent_comment_id: str | None, video_id: str | None = None
                    ) -> OrganicComment:
        """A copy that names its parent and video where the payload did not."""
        return replace(
            self,
            parent_comment_id=self.parent_comment_id or parent_id(parent_comment_id),
            video_id=self.video_id or as_id(video_id),
        )

    def to_record(self) -> dict[str, Any]:
        """The comment as one row; ``reply_list`` is left out (its replies are rows of their
        own: iterate over ``reply_list``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "reply_list"}


@dataclass(frozen=True, slots=True)
class CursorPage(Generic[T]):
    """One page of a cursor-paged list: its items, the cursor to send back, and whether
    there is more."""

    items: list[T] = field(default_factory=list)
    cursor: int | None = None
    has_more: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None,
                 parse_item: Callable[[Mapping[str, Any]], T], *keys: str) -> CursorPage[T]:
        """Parse ``data``; items come from the first of ``keys`` present. Entries that are
        not objects are skipped."""
        d = as_mapping(data)
        items = [parse_item(entry) for entry in entries(first(d, *keys))]
        return cls(items=items, cursor=as_int(d.get("cursor")),
                   has_more=bool(as_bool(d.get("has_more"))))

    def to_record(self) -> dict[str, Any]:
        return {
            "items": [record_of(item) for item in self.items],
            "cursor": self.cursor,
            "has_more": self.has_more,
        }

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
