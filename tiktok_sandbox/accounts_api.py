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
- business/get also needs the scope of each field asked for (``PROFILE_FIELD_SCOPES``):
  one field the grant does not cover fails the whole call with 40130 naming the scope, as
  integrators saw live. username needs user.info.username; followers_count,
  following_count, total_likes and videos_count user.info.stats; is_business_account
  user.account.type; metric and audience fields user.insights; the rest user.info.basic.
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
- ``text`` is 1 to ``SandboxConfig.organic_text_limit`` characters (default 1,200, after
  TikTok's changelog of 2026-08-07), not blank; longer is 40002 naming ``text``. Image
  fields are accepted and ignored (there is no image upload).
- business/comment/like and business/comment/delete take ``business_id`` and ``comment_id``
  as documented; a ``video_id`` sent with them must be the comment's video. The endpoints
  ``SandboxConfig.account_video_id_endpoints`` names answer 40002 "video_id: Missing data for
  required field." without one, as integrators saw TikTok do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from . import endpoint, faults, render
from .accounts import AccessGrant, AccountsState
from .data import PUBLIC
from .endpoint import ApiRequest, Endpoint, Handler
from .errors import (
    INVALID_AUTH_PARAMS,
    INVALID_CORE_USER,
    INVALID_GRANT_TYPE,
    NO_PERMISSION,
    ApiError,
    param_error,
    token_invalid,
)
from .organic import HIDDEN
from .params import Params

SCOPE_NOT_AUTHORIZED = 40130

MAX_VIDEO_COUNT = 20
MAX_COMMENT_COUNT = 30
DEFAULT_COMMENT_COUNT = 20
MAX_METRIC_DAYS = 60
DEFAULT_PROFILE_FIELDS = ("display_name", "profile_image")
COMMENT_SORT_FIELDS = ("create_time", "likes", "replies")
CLIENT_CREDENTIALS = ("client_id", "client_secret")
# The scope each endpoint needs.
READ_PROFILE = "user.info.basic"
LIST_VIDEOS = "video.list"
LIST_COMMENTS = "comment.list"
MANAGE_COMMENTS = "comment.list.manage"
# The scope each business/get field needs, beyond the endpoint's own.
PROFILE_FIELD_SCOPES = {
    **dict.fromkeys(render.PROFILE_FIELDS, READ_PROFILE),
    **dict.fromkeys((*render.METRIC_FIELDS, *render.AUDIENCE_FIELDS), "user.insights"),
    "username": "user.info.username",
    "is_business_account": "user.account.type",
    **dict.fromkeys(("followers_count", "following_count", "total_likes", "videos_count"),
                    "user.info.stats"),
}


def _accounts(request: ApiRequest) -> AccountsState:
    return request.state.accounts


# Shared checks


def _check_business(grant: AccessGrant, business_id: str, scope: str) -> None:
    if business_id != grant.open_id:
        raise ApiError(INVALID_CORE_USER, "Invalid core user: the access token is not "
                                          f"authorized for business_id {business_id}.")
    if scope not in grant.scope:
        raise ApiError(NO_PERMISSION, f"No permission to operate: the access token lacks the "
                                      f"{scope} scope; authorize the account again and grant "
                                      "it.")


@dataclasses.dataclass(frozen=True)
class _BusinessCall:
    """A call on one business account. Opening it checks the token (40104; 40105, 40102)
    and reads ``business_id``; ``accounts(scope)`` checks that the token is the account's
    (40106) and holds ``scope`` (40001), once the handler has read the other parameters."""

    request: ApiRequest
    grant: AccessGrant
    business_id: str

    @classmethod
    def open(cls, request: ApiRequest) -> _BusinessCall:
        grant = _accounts(request).access_grant(request.required_token())
        return cls(request, grant, request.params.required("business_id"))

    @property
    def params(self) -> Params:
        return self.request.params

    def accounts(self, scope: str) -> AccountsState:
        _check_business(self.grant, self.business_id, scope)
        return _accounts(self.request)


def _check_field_scopes(grant: AccessGrant, fields: list[str]) -> None:
    """40130 for the first field asked for whose scope the grant lacks: the whole call fails."""
    for field in fields:
        scope = PROFILE_FIELD_SCOPES.get(field, READ_PROFILE)
        if scope not in grant.scope:
            raise ApiError(SCOPE_NOT_AUTHORIZED, f"Scope not authorized: the field {field} needs "
                                                 f"the {scope} scope, which the account holder "
                                                 "did not grant.")


def _check_grant_type(grant_type: str, expected: str) -> None:
    if grant_type != expected:
        raise ApiError(INVALID_GRANT_TYPE, f"Invalid grant_type: it must be {expected}.")


def _cursor(params: Params) -> int:
    return params.integer("cursor", default=0, minimum=0)


def _listing(rows: list[dict[str, Any]], key: str, cursor: int, has_more: bool
             ) -> dict[str, Any]:
    return {key: rows, "cursor": cursor, "has_more": has_more}


# Tokens


def tt_user_token(request: ApiRequest) -> dict[str, Any]:
    grant_type, auth_code, redirect_uri = endpoint.app_params(
        request, *CLIENT_CREDENTIALS, "grant_type", "auth_code", "redirect_uri")
    _check_grant_type(grant_type, "authorization_code")
    return _accounts(request).exchange_code(auth_code, redirect_uri)


def tt_user_refresh_token(request: ApiRequest) -> dict[str, Any]:
    grant_type, refresh_token = endpoint.app_params(request, *CLIENT_CREDENTIALS, "grant_type",
                                           "refresh_token")
    _check_grant_type(grant_type, "refresh_token")
    return _accounts(request).refresh(refresh_token)


def tt_user_revoke(request: ApiRequest) -> dict[str, Any]:
    (token,) = endpoint.app_params(request, *CLIENT_CREDENTIALS, "access_token")
    if not _accounts(request).revoke(token):
        raise token_invalid()
    return {}


def tt_user_token_info(request: ApiRequest) -> dict[str, Any]:
    params = request.params
    app_id = params.required("app_id")
    token = params.required("access_token")
    if app_id != request.config.app_id:
        raise ApiError(INVALID_AUTH_PARAMS, "Invalid auth params: app_id is wrong.")
    grant = _accounts(request).access_grant(token)
    return {"app_id": app_id, "creator_id": grant.open_id, "scope": ",".join(grant.scope)}


# Profile and videos


def _optional_date(params: Params, name: str) -> dt.date | None:
    return params.date(name) if params.present(name) else None


def _metric_days(params: Params, today: dt.date) -> list[dt.date]:
    """Each day from ``start_date`` to ``end_date``; none when neither is given."""
    start = _optional_date(params, "start_date")
    end = _optional_date(params, "end_date")
    if (start is None) != (end is None):
        raise param_error("end_date" if end is None else "start_date",
                          "start_date and end_date go together.")
    if start is None or end is None:
        return []
    if end < start:
        raise param_error("end_date", "Must not be earlier than start_date.")
    if end > today:
        raise param_error("end_date", "Must not be later than today (UTC).")
    if (end - start).days >= MAX_METRIC_DAYS:
        raise param_error("end_date", f"The span from start_date to end_date must not "
                                      f"exceed {MAX_METRIC_DAYS} days.")
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def business_get(request: ApiRequest) -> dict[str, Any]:
    call = _BusinessCall.open(request)
    allowed = tuple(dict.fromkeys(
        (*render.PROFILE_FIELDS, *render.METRIC_FIELDS, *render.AUDIENCE_FIELDS)))
    fields = endpoint.selected_fields(call.params, allowed) or list(DEFAULT_PROFILE_FIELDS)
    days = _metric_days(call.params, dt.datetime.fromtimestamp(request.state.now(), dt.UTC).date())
    accounts = call.accounts(READ_PROFILE)
    _check_field_scopes(call.grant, fields)
    return accounts.profile(
        call.business_id,
        fields=[f for f in fields if f in render.PROFILE_FIELDS],
        metric_fields=[f for f in fields if f in render.METRIC_FIELDS],
        audience_fields=[f for f in fields if f in render.AUDIENCE_FIELDS],
        days=days,
    )


def business_video_list(request: ApiRequest) -> dict[str, Any]:
    call = _BusinessCall.open(request)
    params = call.params
    fields = endpoint.selected_fields(params, render.VIDEO_FIELDS) or ["item_id"]
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
    rows, next_cursor, has_more = call.accounts(LIST_VIDEOS).list_videos(
        call.business_id, video_ids=None if video_ids is None else [str(v) for v in video_ids],
        ad_post_only=ad_post_only, cursor=cursor, max_count=max_count)
    return _listing(endpoint.project(rows, fields), "videos", next_cursor, has_more)


# Comments: read


def _comment_order(params: Params, *, smart: bool) -> dict[str, Any]:
    """Which comments of a list (``status``) come in which order, and which page of them:
    the keyword arguments of ``AccountsState.list_comments`` and ``list_replies``."""
    status = params.enum("status", (PUBLIC, "ALL"), default="ALL")
    sort_field = params.enum("sort_field", COMMENT_SORT_FIELDS, default="create_time")
    orders = ("asc", "desc", "smart") if smart else ("asc", "desc")
    sort_order = params.enum("sort_order", orders, default="desc")
    cursor = _cursor(params)
    max_count = params.integer("max_count", default=DEFAULT_COMMENT_COUNT, minimum=1,
                               maximum=MAX_COMMENT_COUNT)
    return {"statuses": {PUBLIC} if status == PUBLIC else {PUBLIC, HIDDEN},
            "sort_field": sort_field or "create_time", "sort_order": sort_order or "desc",
            "cursor": cursor, "max_count": max_count}


def business_comment_list(request: ApiRequest) -> dict[str, Any]:
    call = _BusinessCall.open(request)
    params = call.params
    video_id = params.required("video_id")
    comment_ids = params.string_list("comment_ids", max_items=MAX_COMMENT_COUNT)
    include_replies = params.boolean("include_replies", default=False)
    order = _comment_order(params, smart=False)
    rows, cursor, has_more = call.accounts(LIST_COMMENTS).list_comments(
        call.business_id, video_id, comment_ids=comment_ids,
        include_replies=bool(include_replies), **order)
    return _listing(rows, "comments", cursor, has_more)


def business_comment_reply_list(request: ApiRequest) -> dict[str, Any]:
    call = _BusinessCall.open(request)
    video_id = call.params.required("video_id")
    comment_id = call.params.required("comment_id")
    order = _comment_order(call.params, smart=True)
    rows, cursor, has_more = call.accounts(LIST_COMMENTS).list_replies(
        call.business_id, video_id, comment_id, **order)
    return _listing(rows, "comments", cursor, has_more)


# Comments: write


def _comment_write(path: str, apply: Callable[..., dict[str, Any] | None], *ids: str,
                   text: bool = False, switch: tuple[str, str] | None = None,
                   video_id: bool = False) -> Handler:
    """The handler of the comment write on ``path``, which needs comment.list.manage. It
    reads the required ``ids``, then the ``text`` (with ``text``) or the ``action`` that
    turns something on or off (``switch``: the two actions, "on" first), and calls
    ``apply(accounts, business_id, *ids, text or on)``. With ``video_id`` (a write whose
    documented body has none) a ``video_id`` sent is read first and passed on as a keyword,
    and it is required when ``account_video_id_endpoints`` names ``path``."""

    def handler(request: ApiRequest) -> dict[str, Any]:
        call = _BusinessCall.open(request)
        options: dict[str, Any] = {}
        if video_id:
            required = path in request.config.account_video_id_endpoints
            options["video_id"] = call.params.string("video_id", required=required)
        values: list[Any] = [call.params.required(name) for name in ids]
        if text:
            values.append(endpoint.comment_text(call.params,
                                                max_length=request.config.organic_text_limit))
        if switch is not None:
            values.append(call.params.enum("action", switch, required=True) == switch[0])
        return apply(call.accounts(MANAGE_COMMENTS), call.business_id, *values,
                     **options) or {}

    return handler


business_comment_create = _comment_write("business/comment/create/",
                                         AccountsState.create_comment, "video_id", text=True)
business_comment_reply_create = _comment_write("business/comment/reply/create/",
                                               AccountsState.create_reply, "video_id",
                                               "comment_id", text=True)
business_comment_hide = _comment_write("business/comment/hide/", AccountsState.hide,
                                       "video_id", "comment_id", switch=("HIDE", "UNHIDE"))
business_comment_like = _comment_write("business/comment/like/", AccountsState.like,
                                       "comment_id", switch=("LIKE", "UNLIKE"), video_id=True)
business_comment_pin = _comment_write("business/comment/pin/", AccountsState.pin, "video_id",
                                      "comment_id", switch=("PIN", "UNPIN"))
business_comment_delete = _comment_write("business/comment/delete/", AccountsState.delete,
                                         "comment_id", video_id=True)


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
