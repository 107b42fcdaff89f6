"""The Accounts API endpoints under ``/open_api/v1.3/``: TikTok account tokens
(``tt_user/...``) and a business account's profile, videos and organic comments
(``business/...``).

Checks run in the same order as the Marketing API's: the Access-Token header (40104
missing, 40105 unknown or revoked, 40102 expired), then the parameters (40002, naming the
parameter), then the business_id against the token's open_id (40106), then the scope the
endpoint needs (40001), then the objects named (40002).

Where TikTok's documentation is silent the sandbox assumes (token rules: see
``accounts.py``):

- Scopes needed: business/get user.info.basic; business/video/list video.list; the comment
  lists comment.list; every comment write comment.list.manage.
- business/get without ``fields`` answers display_name and profile_image. Metric fields
  (video_views, daily_new_followers, ...) come as ``metrics``, one entry per UTC day from
  ``start_date`` to ``end_date`` (both needed, at most 60 days, not after today).
- business/video/list: newest first, ``max_count`` 1-20 (default 20); the cursor is the
  create time in milliseconds of the last video sent. ``filters.video_ids`` (at most 20)
  answers those videos at once. Without ``fields`` only item_id comes.
- The comment lists: ``max_count`` 1-30 (default 20); the cursor is an offset, so paging
  oldest first (``sort_order=asc``) is stable while comments arrive. Defaults:
  ``status`` ALL (hidden ones too), ``sort_field`` create_time, ``sort_order`` desc.
  ``include_replies`` embeds up to 3 replies per comment as ``reply_list``.
  ``comment_ids`` (at most 30) lists just those comments of the video, replies included.
- Replies answer only top-level comments; only top-level comments can be pinned, one per
  video (pinning another unpins the first). Only the account's own comments (``owner``)
  can be deleted; deleting a top-level comment deletes its replies. Liking twice is
  harmless.
- ``text`` is 1 to 150 characters, not blank. Image fields are accepted and ignored (there
  is no image upload).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import faults, render
from .accounts import AccessGrant, AccountsState
from .api import ApiRequest, Endpoint
from .data import PUBLIC
from .errors import (
    INVALID_AUTH_PARAMS,
    INVALID_CORE_USER,
    INVALID_GRANT_TYPE,
    NO_PERMISSION,
    TOKEN_EMPTY,
    TOKEN_INVALID,
    ApiError,
    param_error,
)
from .organic import HIDDEN
from .params import Params

MAX_TEXT_LENGTH = 150
MAX_VIDEO_COUNT = 20
MAX_COMMENT_COUNT = 30
DEFAULT_COMMENT_COUNT = 20
MAX_METRIC_DAYS = 60
DEFAULT_PROFILE_FIELDS = ("display_name", "profile_image")
COMMENT_SORT_FIELDS = ("create_time", "likes", "replies")


def _accounts(request: ApiRequest) -> AccountsState:
    return request.state.accounts


# Shared checks


def _grant(request: ApiRequest) -> AccessGrant:
    if not request.access_token:
        raise ApiError(TOKEN_EMPTY, "Access token is null: the Access-Token header is required.")
    return _accounts(request).access_grant(request.access_token)


def _business_id(request: ApiRequest) -> str:
    return request.params.required("business_id")


def _check_business(grant: AccessGrant, business_id: str, scope: str) -> None:
    if business_id != grant.open_id:
        raise ApiError(INVALID_CORE_USER, "Invalid core user: the access token is not "
                                          f"authorized for business_id {business_id}.")
    if scope not in grant.scope:
        raise ApiError(NO_PERMISSION, f"No permission to operate: the access token lacks the "
                                      f"{scope} scope; authorize the account again and grant "
                                      "it.")


def _check_client(request: ApiRequest) -> None:
    client_id = request.params.required("client_id")
    client_secret = request.params.required("client_secret")
    if client_id != request.config.app_id or client_secret != request.config.secret:
        raise ApiError(INVALID_AUTH_PARAMS, "Invalid auth params: client_id or client_secret "
                                            "is wrong.")


def _grant_type(request: ApiRequest, expected: str) -> None:
    if request.params.required("grant_type") != expected:
        raise ApiError(INVALID_GRANT_TYPE, f"Invalid grant_type: it must be {expected}.")


def _text(params: Params) -> str:
    text = params.required("text")
    if len(text) > MAX_TEXT_LENGTH:
        raise param_error("text", f"Length must be between 1 and {MAX_TEXT_LENGTH}.")
    if not text.strip():
        raise param_error("text", "Must not be blank.")
    return text


def _fields(params: Params, allowed: tuple[str, ...]) -> list[str] | None:
    fields = params.string_list("fields")
    for field in fields or ():
        if field not in allowed:
            raise param_error("fields", f"Unknown field {field!r}.")
    return fields


def _statuses(params: Params) -> set[str]:
    status = params.enum("status", (PUBLIC, "ALL"), default="ALL")
    return {PUBLIC} if status == PUBLIC else {PUBLIC, HIDDEN}


def _cursor(params: Params) -> int:
    return params.integer("cursor", default=0, minimum=0)


def _listing(rows: list[dict[str, Any]], key: str, cursor: int, has_more: bool
             ) -> dict[str, Any]:
    return {key: rows, "cursor": cursor, "has_more": has_more}


# Tokens


def tt_user_token(request: ApiRequest) -> dict[str, Any]:
    params = request.params
    for name in ("client_id", "client_secret", "grant_type"):
        params.required(name)
    auth_code = params.required("auth_code")
    redirect_uri = params.required("redirect_uri")
    _check_client(request)
    _grant_type(request, "authorization_code")
    return _accounts(request).exchange_code(auth_code, redirect_uri)


def tt_user_refresh_token(request: ApiRequest) -> dict[str, Any]:
    params = request.params
    for name in ("client_id", "client_secret", "grant_type"):
        params.required(name)
    refresh_token = params.required("refresh_token")
    _check_client(request)
    _grant_type(request, "refresh_token")
    return _accounts(request).refresh(refresh_token)


def tt_user_revoke(request: ApiRequest) -> dict[str, Any]:
    params = request.params
    for name in ("client_id", "client_secret"):
        params.required(name)
    access_token = params.required("access_token")
    _check_client(request)
    if not _accounts(request).revoke(access_token):
        raise ApiError(TOKEN_INVALID, "Access token is incorrect or has been revoked.")
    return {}


def tt_user_token_info(request: ApiRequest) -> dict[str, Any]:
    params = request.params
    app_id = params.required("app_id")
    access_token = params.required("access_token")
    if app_id != request.config.app_id:
        raise ApiError(INVALID_AUTH_PARAMS, "Invalid auth params: app_id is wrong.")
    grant = _accounts(request).access_grant(access_token)
    return {"app_id": app_id, "creator_id": grant.open_id, "scope": ",".join(grant.scope)}


# Profile and videos


def _optional_date(params: Params, name: str) -> dt.date | None:
    return params.date(name) if params.present(name) else None


def business_get(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    allowed = tuple(dict.fromkeys(
        (*render.PROFILE_FIELDS, *render.METRIC_FIELDS, *render.AUDIENCE_FIELDS)))
    fields = _fields(params, allowed) or list(DEFAULT_PROFILE_FIELDS)
    start = _optional_date(params, "start_date")
    end = _optional_date(params, "end_date")
    if (start is None) != (end is None):
        raise param_error("end_date" if end is None else "start_date",
                          "start_date and end_date go together.")
    days: list[dt.date] = []
    if start is not None and end is not None:
        today = dt.datetime.fromtimestamp(request.state.now(), dt.UTC).date()
        if end < start:
            raise param_error("end_date", "Must not be earlier than start_date.")
        if end > today:
            raise param_error("end_date", "Must not be later than today (UTC).")
        if (end - start).days >= MAX_METRIC_DAYS:
            raise param_error("end_date", f"The span from start_date to end_date must not "
                                          f"exceed {MAX_METRIC_DAYS} days.")
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    _check_business(grant, business_id, "user.info.basic")
    return _accounts(request).profile(
        business_id,
        fields=[f for f in fields if f in render.PROFILE_FIELDS],
        metric_fields=[f for f in fields if f in render.METRIC_FIELDS],
        audience_fields=[f for f in fields if f in render.AUDIENCE_FIELDS],
        days=days,
    )


def business_video_list(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    fields = _fields(params, render.VIDEO_FIELDS) or ["item_id"]
    filters = params.json_object("filters") or {}
    video_ids = filters.get("video_ids")
    if video_ids is not None and (
        not isinstance(video_ids, list) or len(video_ids) > MAX_VIDEO_COUNT
        or any(isinstance(v, bool) or not isinstance(v, str | int) for v in video_ids)
    ):
        raise param_error("filters.video_ids", f"Must be a list of at most {MAX_VIDEO_COUNT} "
                                               "video IDs.")
    ad_post_only = filters.get("ad_post_only", False)
    if not isinstance(ad_post_only, bool):
        raise param_error("filters.ad_post_only", "Not a valid boolean.")
    cursor = _cursor(params)
    max_count = params.integer("max_count", default=MAX_VIDEO_COUNT, minimum=1,
                               maximum=MAX_VIDEO_COUNT)
    _check_business(grant, business_id, "video.list")
    rows, next_cursor, has_more = _accounts(request).list_videos(
        business_id, video_ids=None if video_ids is None else [str(v) for v in video_ids],
        ad_post_only=ad_post_only, cursor=cursor, max_count=max_count)
    return _listing([{f: row[f] for f in fields} for row in rows], "videos", next_cursor,
                    has_more)


# Comments: read


def _comment_paging(params: Params, *, smart: bool) -> tuple[str, str, int, int]:
    sort_field = params.enum("sort_field", COMMENT_SORT_FIELDS, default="create_time")
    orders = ("asc", "desc", "smart") if smart else ("asc", "desc")
    sort_order = params.enum("sort_order", orders, default="desc")
    cursor = _cursor(params)
    max_count = params.integer("max_count", default=DEFAULT_COMMENT_COUNT, minimum=1,
                               maximum=MAX_COMMENT_COUNT)
    return sort_field or "create_time", sort_order or "desc", cursor, max_count


def business_comment_list(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    video_id = params.required("video_id")
    comment_ids = params.string_list("comment_ids", max_items=MAX_COMMENT_COUNT)
    include_replies = params.boolean("include_replies", default=False)
    statuses = _statuses(params)
    sort_field, sort_order, cursor, max_count = _comment_paging(params, smart=False)
    _check_business(grant, business_id, "comment.list")
    rows, next_cursor, has_more = _accounts(request).list_comments(
        business_id, video_id, comment_ids=comment_ids, include_replies=bool(include_replies),
        statuses=statuses, sort_field=sort_field, sort_order=sort_order, cursor=cursor,
        max_count=max_count)
    return _listing(rows, "comments", next_cursor, has_more)


def business_comment_reply_list(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    video_id = params.required("video_id")
    comment_id = params.required("comment_id")
    statuses = _statuses(params)
    sort_field, sort_order, cursor, max_count = _comment_paging(params, smart=True)
    _check_business(grant, business_id, "comment.list")
    rows, next_cursor, has_more = _accounts(request).list_replies(
        business_id, video_id, comment_id, statuses=statuses, sort_field=sort_field,
        sort_order=sort_order, cursor=cursor, max_count=max_count)
    return _listing(rows, "comments", next_cursor, has_more)


# Comments: write


def business_comment_create(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    video_id = params.required("video_id")
    text = _text(params)
    _check_business(grant, business_id, "comment.list.manage")
    return _accounts(request).create_comment(business_id, video_id, text)


def business_comment_reply_create(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    video_id = params.required("video_id")
    comment_id = params.required("comment_id")
    text = _text(params)
    _check_business(grant, business_id, "comment.list.manage")
    return _accounts(request).create_reply(business_id, video_id, comment_id, text)


def business_comment_hide(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    video_id = params.required("video_id")
    comment_id = params.required("comment_id")
    action = params.enum("action", ("HIDE", "UNHIDE"), required=True)
    _check_business(grant, business_id, "comment.list.manage")
    _accounts(request).hide(business_id, video_id, comment_id, action == "HIDE")
    return {}


def business_comment_like(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    comment_id = params.required("comment_id")
    action = params.enum("action", ("LIKE", "UNLIKE"), required=True)
    _check_business(grant, business_id, "comment.list.manage")
    _accounts(request).like(business_id, comment_id, action == "LIKE")
    return {}


def business_comment_pin(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    video_id = params.required("video_id")
    comment_id = params.required("comment_id")
    action = params.enum("action", ("PIN", "UNPIN"), required=True)
    _check_business(grant, business_id, "comment.list.manage")
    _accounts(request).pin(business_id, video_id, comment_id, action == "PIN")
    return {}


def business_comment_delete(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    params = request.params
    business_id = _business_id(request)
    comment_id = params.required("comment_id")
    _check_business(grant, business_id, "comment.list.manage")
    _accounts(request).delete(business_id, comment_id)
    return {}


ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({
    "tt_user/oauth2/token/": Endpoint("POST", tt_user_token, faults.UNPROCESSED_KINDS),
    "tt_user/oauth2/refresh_token/": Endpoint("POST", tt_user_refresh_token,
                                              faults.UNPROCESSED_KINDS),
    "tt_user/oauth2/revoke/": Endpoint("POST", tt_user_revoke, faults.UNPROCESSED_KINDS),
    "tt_user/token_info/get/": Endpoint("POST", tt_user_token_info, faults.UNPROCESSED_KINDS),
    "business/get/": Endpoint("GET", business_get, faults.READ_KINDS),
    "business/video/list/": Endpoint("GET", business_video_list, faults.READ_KINDS),
    "business/comment/list/": Endpoint("GET", business_comment_list, faults.READ_KINDS),
    "business/comment/reply/list/": Endpoint("GET", business_comment_reply_list,
                                             faults.READ_KINDS),
    "business/comment/create/": Endpoint("POST", business_comment_create, faults.WRITE_KINDS),
    "business/comment/reply/create/": Endpoint("POST", business_comment_reply_create,
                                               faults.WRITE_KINDS),
    "business/comment/hide/": Endpoint("POST", business_comment_hide, faults.WRITE_KINDS),
    "business/comment/like/": Endpoint("POST", business_comment_like, faults.WRITE_KINDS),
    "business/comment/pin/": Endpoint("POST", business_comment_pin, faults.WRITE_KINDS),
    "business/comment/delete/": Endpoint("POST", business_comment_delete, faults.WRITE_KINDS),
})
