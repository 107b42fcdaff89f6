"""Dataclasses parsed tolerantly from TikTok API payloads.

Parsing never fails on content: unknown fields are ignored, missing fields become None, scalars
of the wrong type are coerced where the meaning is obvious ("3" -> 3, 123 -> "123" for IDs),
and enum values TikTok adds later are kept as the strings it sent. IDs are always strings.
Times are timezone-aware UTC datetimes. Each field is read by its type, from the key of its
name or the other names ``record(also=...)`` lists (see :mod:`tiktok_client.parsing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from .parsing import (
    Id,
    Record,
    as_mapping,
    as_text,
    first,
    id_list,
    int_list,
    parent_id,
    parse_time,
    record,
    record_of,
)

__all__ = [
    "Ad",
    "Advertiser",
    "Comment",
    "Page",
    "PageInfo",
    "ReplyResult",
    "TokenGrant",
    "parse_time",
]

T = TypeVar("T")


@record(also={"name": "advertiser_name", "timezone": "display_timezone", "country": "country_code"})
class Advertiser(Record):
    """An ad account, from advertiser/info/ (``name``) or oauth2/advertiser/get/
    (``advertiser_name``)."""

    advertiser_id: Id
    name: str | None = None
    timezone: str | None = None
    currency: str | None = None
    company: str | None = None
    status: str | None = None
    country: str | None = None
    role: str | None = None


@record
class Ad(Record):
    """An ad from ad/get/."""

    advertiser_id: Id
    campaign_id: Id = None
    campaign_name: str | None = None
    adgroup_id: Id = None
    adgroup_name: str | None = None
    ad_id: Id = None
    ad_name: str | None = None
    create_time: datetime | None = None
    modify_time: datetime | None = None
    identity_id: Id = None
    identity_type: str | None = None
    video_id: Id = None
    tiktok_item_id: Id = None
    ad_text: str | None = None
    operation_status: str | None = None
    secondary_status: str | None = None
    ad_format: str | None = None
    display_name: str | None = None
    call_to_action: str | None = None
    landing_page_url: str | None = None


@record(also={"content": "text", "tiktok_item_id": "item_id", "is_pinned": "is_top"})
class Comment(Record):
    """A comment or reply from comment/list/ or comment/reference/.

    Also reads the v1.2 names (``item_id``, ``is_top``, ``text``). ``original_comment_id`` is
    None for top-level comments (TikTok sends "" or "0"). ``reply_user_name`` and
    ``reply_user_avatar_url`` come from comment/reference/'s ``reply_user_info``.
    """

    comment_id: Id
    app: str | None = None
    content: str | None = None
    likes: int | None = None
    replies: int | None = None
    comment_type: str | None = None
    original_comment_id: Id = None
    comment_status: str | None = None
    hit_blockedword: bool | None = None
    ad_text: str | None = None
    create_time: datetime | None = None
    campaign_id: Id = None
    campaign_name: str | None = None
    adgroup_id: Id = None
    adgroup_name: str | None = None
    ad_id: Id = None
    ad_name: str | None = None
    tiktok_item_id: Id = None
    identity_id: Id = None
    identity_type: str | None = None
    is_pinned: bool | None = None
    can_delete: bool | None = None
    is_auth_ttba: bool | None = None
    is_auth_comment_manage_scope: bool | None = None
    video_play_url: str | None = None
    video_cover_url: str | None = None
    user_avatar_url: str | None = None
    user_name: str | None = None
    user_id: Id = None
    reply_user_name: str | None = None
    reply_user_avatar_url: str | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> Comment:
        p = as_mapping(payload)
        reply_user = as_mapping(p.get("reply_user_info"))
        return cls._read(
            p,
            original_comment_id=parent_id(p.get("original_comment_id")),
            reply_user_name=as_text(reply_user.get("user_name")),
            reply_user_avatar_url=as_text(reply_user.get("user_avatar_url")),
        )


@record
class PageInfo(Record):
    """Paging facts of a list answer; ``total_page`` tells when to stop."""

    page: int | None = None
    page_size: int | None = None
    total_number: int | None = None
    total_page: int | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list answer: its items and paging facts."""

    items: list[T] = field(default_factory=list)
    page_info: PageInfo = field(default_factory=PageInfo)

    @classmethod
    def from_api(
        cls,
        data: Mapping[str, Any] | None,
        parse_item: Callable[[Mapping[str, Any]], T],
        *keys: str,
    ) -> Page[T]:
        """Parse ``data``; items come from the first of ``keys`` present (default "list").

        Entries that are not objects are skipped.
        """
        d = as_mapping(data)
        raw = first(d, *(keys or ("list",)))
        entries = raw if isinstance(raw, list) else []
        items = [parse_item(entry) for entry in entries if isinstance(entry, Mapping)]
        return cls(items=items, page_info=PageInfo.from_api(d.get("page_info")))

    def to_record(self) -> dict[str, Any]:
        """The items as records plus the paging facts."""
        return {
            "items": [record_of(item) for item in self.items],
            "page_info": self.page_info.to_record(),
        }

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@record(also={"tiktok_item_id": "item_id", "text": "content"})
class ReplyResult(Record):
    """The reply created by comment/post/: read from ``data.comment``, then from ``data``."""

    comment_id: Id
    tiktok_item_id: Id = None
    text: str | None = None
    create_time: datetime | None = None
    reply_to_comment_id: Id = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> ReplyResult:
        flat = as_mapping(payload)
        return cls._read(as_mapping(flat.get("comment")), flat)


@record(repr=False)
class TokenGrant(Record):
    """The result of exchanging an authorization code: a long-lived advertiser token.

    ``repr`` never shows the token; ``to_record`` does, for storing it with the credentials.
    """

    access_token: str
    advertiser_ids: list[str] = field(default_factory=list)
    scope: list[int] = field(default_factory=list)

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> TokenGrant:
        p = as_mapping(payload)
        return cls(
            access_token=as_text(p.get("access_token")) or "",
            advertiser_ids=id_list(p.get("advertiser_ids")),
            scope=int_list(p.get("scope")),
        )

    def __repr__(self) -> str:
        shown = "<hidden>" if self.access_token else "''"
        return (
            f"TokenGrant(access_token={shown}, advertiser_ids={self.advertiser_ids!r}, "
            f"scope={self.scope!r})"
        )
