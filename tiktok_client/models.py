"""Dataclasses parsed tolerantly from TikTok API payloads.

Parsing never fails on content: unknown fields are ignored, missing fields become None, scalars
of the wrong type are coerced where the meaning is obvious ("3" -> 3, 123 -> "123" for IDs),
and enum values TikTok adds later are kept as the strings it sent. IDs are always strings.
Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

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

_EPOCH_MS_THRESHOLD = 1e12
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")
_TRAILING_ZONE_NAME = re.compile(r"\s+(UTC|GMT|Z)$", re.IGNORECASE)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S.%f %z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
)


def parse_time(value: Any) -> datetime | None:
    """A UTC datetime from any time format TikTok uses; None when empty or unreadable.

    Accepts "2021-01-14 07:04:16 +0000 UTC", "2021-01-14 07:04:16" (taken as UTC), ISO 8601
    ("2021-01-14T07:04:16Z", with or without offset), epoch seconds as int, float or string,
    epoch milliseconds (values above 1e12) and datetime objects (naive ones taken as UTC).
    """
    try:
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, datetime):
            return _as_utc(value)
        if isinstance(value, int | float):
            return _from_epoch(float(value))
        if isinstance(value, str):
            return _parse_time_text(value)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _parse_time_text(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        return _from_epoch(float(text))
    text = _TRAILING_ZONE_NAME.sub("", text) if " " in text else text
    for fmt in _TIME_FORMATS:
        try:
            return _as_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        return _as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _from_epoch(seconds: float) -> datetime | None:
    if not math.isfinite(seconds):
        return None
    if abs(seconds) > _EPOCH_MS_THRESHOLD:
        seconds /= 1000.0
    return datetime.fromtimestamp(seconds, tz=UTC)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _id(value: Any) -> str | None:
    """An ID as a string; None when absent or empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int | str):
        text = _unicode(str(value).strip())
        return text or None
    return None


def _text(value: Any) -> str | None:
    """A string field; numbers are turned into text, containers are dropped."""
    if value is None or isinstance(value, dict | list | tuple):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _unicode(str(value))


def _unicode(text: str) -> str:
    """Text that can be encoded: JSON may escape lone UTF-16 surrogates ("\\ud83d", half an
    emoji), which no UTF-8 writer accepts; each becomes U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = value.strip()
        try:
            return int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(payload: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present with a non-None value (current name first)."""
    for key in keys:
        value = payload.get(key)
        if value is not None:
            return value
    return None


def _id_list(value: Any) -> list[str]:
    if isinstance(value, str | int):
        value = str(value).split(",")
    if not isinstance(value, list | tuple):
        return []
    return [item for item in (_id(v) for v in value) if item is not None]


def _int_list(value: Any) -> list[int]:
    if isinstance(value, str):
        value = value.split(",")
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return [item for item in (_int(v) for v in value) if item is not None]


class _Record:
    __slots__ = ()

    def to_record(self) -> dict[str, Any]:
        """The fields as a plain dict (one row of a DataFrame)."""
        record = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            record[f.name] = list(value) if isinstance(value, list) else value
        return record


@dataclass(frozen=True, slots=True)
class Advertiser(_Record):
    """An ad account, from advertiser/info/ (``name``) or oauth2/advertiser/get/
    (``advertiser_name``)."""

    advertiser_id: str | None
    name: str | None = None
    timezone: str | None = None
    currency: str | None = None
    company: str | None = None
    status: str | None = None
    country: str | None = None
    role: str | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> Advertiser:
        p = _mapping(payload)
        return cls(
            advertiser_id=_id(p.get("advertiser_id")),
            name=_text(_first(p, "name", "advertiser_name")),
            timezone=_text(_first(p, "timezone", "display_timezone")),
            currency=_text(p.get("currency")),
            company=_text(p.get("company")),
            status=_text(p.get("status")),
            country=_text(_first(p, "country", "country_code")),
            role=_text(p.get("role")),
        )


@dataclass(frozen=True, slots=True)
class Ad(_Record):
    """An ad from ad/get/."""

    advertiser_id: str | None
    campaign_id: str | None = None
    campaign_name: str | None = None
    adgroup_id: str | None = None
    adgroup_name: str | None = None
    ad_id: str | None = None
    ad_name: str | None = None
    create_time: datetime | None = None
    modify_time: datetime | None = None
    identity_id: str | None = None
    identity_type: str | None = None
    video_id: str | None = None
    tiktok_item_id: str | None = None
    ad_text: str | None = None
    operation_status: str | None = None
    secondary_status: str | None = None
    ad_format: str | None = None
    display_name: str | None = None
    call_to_action: str | None = None
    landing_page_url: str | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> Ad:
        p = _mapping(payload)
        return cls(
            advertiser_id=_id(p.get("advertiser_id")),
            campaign_id=_id(p.get("campaign_id")),
            campaign_name=_text(p.get("campaign_name")),
            adgroup_id=_id(p.get("adgroup_id")),
            adgroup_name=_text(p.get("adgroup_name")),
            ad_id=_id(p.get("ad_id")),
            ad_name=_text(p.get("ad_name")),
            create_time=parse_time(p.get("create_time")),
            modify_time=parse_time(p.get("modify_time")),
            identity_id=_id(p.get("identity_id")),
            identity_type=_text(p.get("identity_type")),
            video_id=_id(p.get("video_id")),
            tiktok_item_id=_id(p.get("tiktok_item_id")),
            ad_text=_text(p.get("ad_text")),
            operation_status=_text(p.get("operation_status")),
            secondary_status=_text(p.get("secondary_status")),
            ad_format=_text(p.get("ad_format")),
            display_name=_text(p.get("display_name")),
            call_to_action=_text(p.get("call_to_action")),
            landing_page_url=_text(p.get("landing_page_url")),
        )


def _original_comment_id(value: Any) -> str | None:
    cid = _id(value)
    return None if cid == "0" else cid


@dataclass(frozen=True, slots=True)
class Comment(_Record):
    """A comment or reply from comment/list/ or comment/reference/.

    Also reads the v1.2 names (``item_id``, ``is_top``, ``text``). ``original_comment_id`` is
    None for top-level comments (TikTok sends "" or "0"). ``reply_user_name`` and
    ``reply_user_avatar_url`` come from comment/reference/'s ``reply_user_info``.
    """

    comment_id: str | None
    app: str | None = None
    content: str | None = None
    likes: int | None = None
    replies: int | None = None
    comment_type: str | None = None
    original_comment_id: str | None = None
    comment_status: str | None = None
    hit_blockedword: bool | None = None
    ad_text: str | None = None
    create_time: datetime | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    adgroup_id: str | None = None
    adgroup_name: str | None = None
    ad_id: str | None = None
    ad_name: str | None = None
    tiktok_item_id: str | None = None
    identity_id: str | None = None
    identity_type: str | None = None
    is_pinned: bool | None = None
    can_delete: bool | None = None
    is_auth_ttba: bool | None = None
    is_auth_comment_manage_scope: bool | None = None
    video_play_url: str | None = None
    video_cover_url: str | None = None
    user_avatar_url: str | None = None
    user_name: str | None = None
    user_id: str | None = None
    reply_user_name: str | None = None
    reply_user_avatar_url: str | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> Comment:
        p = _mapping(payload)
        reply_user = _mapping(p.get("reply_user_info"))
        return cls(
            comment_id=_id(p.get("comment_id")),
            app=_text(p.get("app")),
            content=_text(_first(p, "content", "text")),
            likes=_int(p.get("likes")),
            replies=_int(p.get("replies")),
            comment_type=_text(p.get("comment_type")),
            original_comment_id=_original_comment_id(p.get("original_comment_id")),
            comment_status=_text(p.get("comment_status")),
            hit_blockedword=_bool(p.get("hit_blockedword")),
            ad_text=_text(p.get("ad_text")),
            create_time=parse_time(p.get("create_time")),
            campaign_id=_id(p.get("campaign_id")),
            campaign_name=_text(p.get("campaign_name")),
            adgroup_id=_id(p.get("adgroup_id")),
            adgroup_name=_text(p.get("adgroup_name")),
            ad_id=_id(p.get("ad_id")),
            ad_name=_text(p.get("ad_name")),
            tiktok_item_id=_id(_first(p, "tiktok_item_id", "item_id")),
            identity_id=_id(p.get("identity_id")),
            identity_type=_text(p.get("identity_type")),
            is_pinned=_bool(_first(p, "is_pinned", "is_top")),
            can_delete=_bool(p.get("can_delete")),
            is_auth_ttba=_bool(p.get("is_auth_ttba")),
            is_auth_comment_manage_scope=_bool(p.get("is_auth_comment_manage_scope")),
            video_play_url=_text(p.get("video_play_url")),
            video_cover_url=_text(p.get("video_cover_url")),
            user_avatar_url=_text(p.get("user_avatar_url")),
            user_name=_text(p.get("user_name")),
            user_id=_id(p.get("user_id")),
            reply_user_name=_text(reply_user.get("user_name")),
            reply_user_avatar_url=_text(reply_user.get("user_avatar_url")),
        )


@dataclass(frozen=True, slots=True)
class PageInfo(_Record):
    """Paging facts of a list answer; ``total_page`` tells when to stop."""

    page: int | None = None
    page_size: int | None = None
    total_number: int | None = None
    total_page: int | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> PageInfo:
        p = _mapping(payload)
        return cls(
            page=_int(p.get("page")),
            page_size=_int(p.get("page_size")),
            total_number=_int(p.get("total_number")),
            total_page=_int(p.get("total_page")),
        )


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
        d = _mapping(data)
        raw = _first(d, *(keys or ("list",)))
        entries = raw if isinstance(raw, list) else []
        items = [parse_item(entry) for entry in entries if isinstance(entry, Mapping)]
        return cls(items=items, page_info=PageInfo.from_api(d.get("page_info")))

    def to_record(self) -> dict[str, Any]:
        """The items as records plus the paging facts."""
        return {
            "items": [_record_of(item) for item in self.items],
            "page_info": self.page_info.to_record(),
        }

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _record_of(item: Any) -> Any:
    to_record = getattr(item, "to_record", None)
    return to_record() if callable(to_record) else item


@dataclass(frozen=True, slots=True)
class ReplyResult(_Record):
    """The reply created by comment/post/ (flat ``data`` or nested ``data.comment``)."""

    comment_id: str | None
    tiktok_item_id: str | None = None
    text: str | None = None
    create_time: datetime | None = None
    reply_to_comment_id: str | None = None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> ReplyResult:
        flat = _mapping(payload)
        nested = _mapping(flat.get("comment"))

        def pick(*keys: str) -> Any:
            value = _first(nested, *keys)
            return value if value is not None else _first(flat, *keys)

        return cls(
            comment_id=_id(pick("comment_id")),
            tiktok_item_id=_id(pick("tiktok_item_id", "item_id")),
            text=_text(pick("text", "content")),
            create_time=parse_time(pick("create_time")),
            reply_to_comment_id=_id(pick("reply_to_comment_id")),
        )


@dataclass(frozen=True, slots=True, repr=False)
class TokenGrant(_Record):
    """The result of exchanging an authorization code: a long-lived advertiser token.

    ``repr`` never shows the token; ``to_record`` does, for storing it with the credentials.
    """

    access_token: str
    advertiser_ids: list[str] = field(default_factory=list)
    scope: list[int] = field(default_factory=list)

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> TokenGrant:
        p = _mapping(payload)
        return cls(
            access_token=_text(p.get("access_token")) or "",
            advertiser_ids=_id_list(p.get("advertiser_ids")),
            scope=_int_list(p.get("scope")),
        )

    def __repr__(self) -> str:
        shown = "<hidden>" if self.access_token else "''"
        return (
            f"TokenGrant(access_token={shown}, advertiser_ids={self.advertiser_ids!r}, "
            f"scope={self.scope!r})"
        )
