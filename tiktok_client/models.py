"""Dataclasses parsed tolerantly from TikTok API payloads.

Parsing never fails on content: unknown fields are ignored, missing fields become None, scalars
of the wrong type are coerced where the meaning is obvious ("3" -> 3, 123 -> "123" for IDs),
and enum values TikTok adds later are kept as the strings it sent. IDs are always strings.
Times are timezone-aware UTC datetimes. Each field is read by its type, from the key of its
name or the other names ``record(also=...)`` lists (see :mod:`tiktok_client.parsing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from .parsing import (
    Id,
    Record,
    as_id,
    as_mapping,
    as_text,
    entries,
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
    "BlockedWord",
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
    (``advertiser_name``).

    ``role`` is the account's type (``ROLE_ADVERTISER``, ``ROLE_CHILD_ADVERTISER``,
    ``ROLE_CHILD_AGENT``, ``ROLE_AGENT``), not the connected user's permission: whether the
    user may reply or hide shows only as a permission error on a write (and, for the ad's
    identity, as ``is_auth_comment_manage_scope`` on comments).
    """

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
    """An ad from ad/get/, or an Upgraded Smart+ ad from smart_plus/ad/get/ (``smart_plus``
    True; see :meth:`from_smart_plus`).

    ``tiktok_item_ids`` are the TikTok posts the ad shows: the one ``tiktok_item_id`` of an
    ad/get/ ad, every creative's post of a Smart+ ad (``tiktok_item_id`` is the first).
    """

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
    smart_plus: bool = False
    tiktok_item_ids: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> Ad:
        p = as_mapping(payload)
        item = as_id(p.get("tiktok_item_id"))
        return cls._read(p, smart_plus=False, tiktok_item_ids=(item,) if item else ())

    @classmethod
    def from_smart_plus(cls, payload: Mapping[str, Any] | None) -> Ad:
        """An Upgraded Smart+ ad from smart_plus/ad/get/.

        Its ID is ``smart_plus_ad_id`` (or ``ad_id``). Identity, post and video are read from
        the ad, else from ``ad_configuration``, else from the creatives of ``creative_list``
        (each ``{"creative_info": {...}}`` as documented, or flat); ad text, landing page and
        call to action from the ad, else from the first entry of ``ad_text_list``,
        ``landing_page_url_list`` and ``call_to_action_list``.
        """
        p = as_mapping(payload)
        config = as_mapping(p.get("ad_configuration"))
        creatives = [
            (as_mapping(entry.get("creative_info")), entry)
            for entry in entries(p.get("creative_list"))
        ]
        sources = [p, config, *(part for pair in creatives for part in pair)]
        items = _unique(as_id(first(part, "tiktok_item_id")) for pair in creatives for part in pair)
        top_item = as_id(p.get("tiktok_item_id"))
        if top_item:
            items = _unique([top_item, *items])
        identity_from = next((s for s in sources if as_id(s.get("identity_id"))), {})
        return cls._read(
            p,
            ad_id=as_id(first(p, "smart_plus_ad_id", "ad_id")),
            identity_id=as_id(identity_from.get("identity_id")),
            identity_type=as_text(identity_from.get("identity_type")),
            tiktok_item_id=items[0] if items else None,
            tiktok_item_ids=tuple(items),
            video_id=next(filter(None, (_video_id(s) for s in sources)), None),
            ad_format=next(filter(None, (as_text(s.get("ad_format")) for s in sources)), None),
            ad_text=as_text(p.get("ad_text")) or _first_of_list(p.get("ad_text_list"), "ad_text"),
            landing_page_url=as_text(p.get("landing_page_url"))
            or _first_of_list(p.get("landing_page_url_list"), "landing_page_url"),
            call_to_action=as_text(p.get("call_to_action"))
            or _first_of_list(first(p, "call_to_action_list", "call_to_action"), "call_to_action"),
            smart_plus=True,
        )


def _video_id(part: Mapping[str, Any]) -> str | None:
    return as_id(as_mapping(part.get("video_info")).get("video_id")) or as_id(part.get("video_id"))


def _first_of_list(value: Any, key: str) -> str | None:
    """The first non-empty ``key`` of a list of objects (or the first non-empty string)."""
    if not isinstance(value, list | tuple):
        return None
    for entry in value:
        text = as_text(entry.get(key)) if isinstance(entry, Mapping) else as_text(entry)
        if text:
            return text
    return None


def _unique(values: Any) -> list[str]:
    """The non-empty values, each once, in order."""
    return list(dict.fromkeys(v for v in values if v))


@record(also={"content": "text", "tiktok_item_id": "item_id", "is_pinned": "is_top"})
class Comment(Record):
    """A comment or reply from comment/list/ or comment/reference/.

    Also reads the v1.2 names (``item_id``, ``is_top``, ``text``). ``original_comment_id`` is
    None for top-level comments (TikTok sends "" or "0"). ``reply_user_name`` and
    ``reply_user_avatar_url`` come from comment/reference/'s ``reply_user_info``: an array
    in the OpenAPI description, an object in the docs' example; both are read (the array's
    first entry).
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
        reply_user = _reply_user(p.get("reply_user_info"))
        return cls._read(
            p,
            original_comment_id=parent_id(p.get("original_comment_id")),
            reply_user_name=as_text(reply_user.get("user_name")),
            reply_user_avatar_url=as_text(reply_user.get("user_avatar_url")),
        )

    @classmethod
    def columns_from_api(cls, payloads: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        """The comments' fields as ``[from_api(p).to_record() for p in payloads]`` has them,
        one list per field, without making the models: how a sync reads comment pages."""
        users = [_reply_user(p.get("reply_user_info")) for p in payloads]
        return cls._columns(payloads, {
            "original_comment_id": [parent_id(p.get("original_comment_id")) for p in payloads],
            "reply_user_name": [as_text(u.get("user_name")) for u in users],
            "reply_user_avatar_url": [as_text(u.get("user_avatar_url")) for u in users],
        })


def _reply_user(value: Any) -> Mapping[str, Any]:
    if isinstance(value, list | tuple):
        return next(iter(entries(value)), {})
    return as_mapping(value)


@dataclass(frozen=True, slots=True)
class BlockedWord:
    """A word on an ad account's blocked-word list, from blockedword/list/.

    TikTok lists each as ``{"bw_content": "..."}`` (OAS ``response_rule``;
    ``bububa/tiktok-business``; TSGEN; the SDK has no response model). A plain string, or an
    object naming the word ``word``, ``blocked_word`` or ``content``, is read too.
    """

    word: str

    @classmethod
    def from_api(cls, payload: Any) -> BlockedWord | None:
        """The word of one list item, trimmed; None when it has none."""
        if isinstance(payload, Mapping):
            payload = first(payload, "bw_content", "word", "blocked_word", "content")
        wordlike = isinstance(payload, str | int) and not isinstance(payload, bool)
        text = as_text(payload) if wordlike else None
        text = text.strip() if text else ""
        return cls(text) if text else None


@record
class PageInfo(Record):
    """Paging facts of a list answer; ``total_page`` tells when to stop."""

    page: int | None = None
    page_size: int | None = None
    total_number: int | None = None
    total_page: int | None = None


@dataclass(frozen=True, slots=True)
class ColumnPage:
    """One page of a list answer read column by column: each field's values, in the order
    of the items, and the paging facts (see :meth:`Comment.columns_from_api`)."""

    columns: dict[str, list[Any]]
    rows: int
    page_info: PageInfo = field(default_factory=PageInfo)

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None,
                 parse_columns: Callable[[Sequence[Mapping[str, Any]]], dict[str, list[Any]]],
                 *keys: str) -> ColumnPage:
        """Parse ``data``; items come from the first of ``keys`` present (default "list").
        Entries that are not objects are skipped."""
        d = as_mapping(data)
        raw = first(d, *(keys or ("list",)))
        items = [e for e in raw if isinstance(e, Mapping)] if isinstance(raw, list) else []
        return cls(parse_columns(items), len(items), PageInfo.from_api(d.get("page_info")))


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
