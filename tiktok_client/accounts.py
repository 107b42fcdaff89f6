"""TikTok's Accounts API: connect a TikTok business account and manage its organic comments.

The Accounts API shares the host, the ``Access-Token`` header and the envelope of the
Marketing API, but its token belongs to a TikTok account (not to an advertiser) and expires.

Connecting an account::

    url = account_authorization_url(TIKTOK_ACCOUNT_AUTH_URL, state, redirect_uri)
    # ... the account holder approves; TikTok redirects to redirect_uri?code=&scopes=&state=
    redirect = parse_account_redirect(callback_query)
    token = exchange_account_code(client, app_id, secret, redirect.code, redirect_uri)

Keeping it alive: the access token lives 24 hours (calls then fail with
:class:`~tiktok_client.errors.AccessTokenExpired`); :func:`refresh_account_token` trades the
refresh token for a new pair. The refresh token lasts one year from the first authorization;
refreshing does not extend it. When it has ended, calls raise
:class:`~tiktok_client.errors.RefreshTokenError`: the account holder must connect again.

Reading and moderating: :class:`BusinessAccountClient` wraps a :class:`TikTokClient` holding
the account's access token, for the account's ``business_id`` (the token's ``open_id``).
Lists are cursor-paged; the ``iter_*`` methods follow the cursor for you, with
:func:`iter_cursor_pages`.

The profile (business/get/) fails as a whole with 40130 when it asks for one field the
account holder's grant does not cover, so :meth:`BusinessAccountClient.get_profile` asks only
for the fields the granted scopes cover (:data:`PROFILE_FIELD_SCOPES`) and, refused all the
same, asks again for the basic fields alone.

Sources disagree on whether business/comment/like/ needs ``video_id``: the documented body is
sent, and when TikTok answers 40002 naming ``video_id`` as missing the call is sent once more
with it; that is remembered in ``client.learned`` (``video_id.<endpoint>``), so later calls
send it at once.

Writes behave like the ad-comment writes: they are never sent twice blindly. When a write was
sent and no usable answer came back, :class:`~tiktok_client.errors.OutcomeUnknown` is raised;
check the comment (list the video's comments or the replies) before sending it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from types import MappingProxyType
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .accounts_models import (
    AccountToken,
    AccountTokenInfo,
    BusinessProfile,
    CursorPage,
    OrganicComment,
    Video,
    parse_scopes,
)
from .checks import check_choice, check_count, check_ids, check_text
from .client import TikTokClient
from .errors import AuthCodeError, InvalidRequest, MalformedResponse, PermissionDenied
from .learned import VIDEO_ID_PREFIX, Learned
from .parsing import utc_now
from .wire import date_text

__all__ = [
    "ACCOUNT_SCOPES",
    "BASIC_PROFILE_FIELDS",
    "MAX_ORGANIC_COMMENT_LENGTH",
    "MAX_ORGANIC_COMMENT_PAGE_SIZE",
    "MAX_VIDEO_PAGE_SIZE",
    "PROFILE_FIELDS",
    "PROFILE_FIELD_SCOPES",
    "SCOPE_NOT_AUTHORIZED",
    "VIDEO_FIELDS",
    "AccountRedirect",
    "BusinessAccountClient",
    "account_authorization_url",
    "asks_for_video_id",
    "check_comment_text",
    "exchange_account_code",
    "get_account_token_info",
    "iter_cursor_pages",
    "parse_account_redirect",
    "profile_fields_for",
    "refresh_account_token",
    "revoke_account_token",
]

T = TypeVar("T")
log = logging.getLogger(__name__)

ACCOUNT_SCOPES: tuple[str, ...] = (
    "user.info.basic",
    "user.info.username",
    "user.info.stats",
    "user.account.type",
    "user.insights",
    "video.list",
    "video.insights",
    "comment.list",
    "comment.list.manage",
)
"""The scopes Comment Desk needs: profile and stats, videos, reading and managing comments."""

MAX_VIDEO_PAGE_SIZE = 20
MAX_ORGANIC_COMMENT_PAGE_SIZE = 30
MAX_ORGANIC_COMMENT_LENGTH = 1200
"""The longest text business/comment/create/ and business/comment/reply/create/ take: 1,200
characters since TikTok's changelog of 2026-08-07 (150 before)."""
MAX_COMMENT_IDS = 30
SCOPE_NOT_AUTHORIZED = 40130
"""The code of a call that asks for more than the account holder's grant covers."""

PROFILE_FIELDS: tuple[str, ...] = (
    "is_business_account",
    "username",
    "display_name",
    "profile_image",
    "profile_deep_link",
    "bio_description",
    "is_verified",
    "followers_count",
    "following_count",
    "total_likes",
    "videos_count",
)
"""The profile and totals :meth:`BusinessAccountClient.get_profile` asks for by default
(TikTok's own default is only display_name and profile_image)."""

BASIC_PROFILE_FIELDS: tuple[str, ...] = ("display_name", "profile_image")
"""What business/get/ answers without ``fields``; ``user.info.basic`` covers them."""

_METRIC_FIELDS = (
    "video_views", "unique_video_views", "profile_views", "likes", "comments", "shares",
    "daily_total_followers", "daily_new_followers", "daily_lost_followers",
    "engaged_audience", "bio_link_clicks",
)
_AUDIENCE_FIELDS = ("audience_countries", "audience_genders", "audience_ages",
                    "audience_cities")

PROFILE_FIELD_SCOPES: Mapping[str, str] = MappingProxyType({
    "display_name": "user.info.basic",
    "profile_image": "user.info.basic",
    # No source names a scope for these three on business/get/; the Accounts API has no
    # user.info.profile scope (which covers them in TikTok's Display API), so they are taken
    # as part of the basic profile.
    "bio_description": "user.info.basic",
    "is_verified": "user.info.basic",
    "profile_deep_link": "user.info.basic",
    "username": "user.info.username",
    "is_business_account": "user.account.type",  # by the scope's name; no source says
    "followers_count": "user.info.stats",
    "following_count": "user.info.stats",
    "total_likes": "user.info.stats",
    "videos_count": "user.info.stats",
    **dict.fromkeys((*_METRIC_FIELDS, *_AUDIENCE_FIELDS), "user.insights"),
})
"""The scope that covers each business/get/ field. A field not named here is asked for
whatever the scopes."""

VIDEO_FIELDS: tuple[str, ...] = (
    "item_id",
    "create_time",
    "caption",
    "share_url",
    "embed_url",
    "thumbnail_url",
    "media_type",
    "is_ad",
    "video_duration",
    "video_views",
    "reach",
    "likes",
    "comments",
    "shares",
    "favorites",
)
"""The video fields the video calls ask for by default (TikTok's own default is only
item_id)."""

HideAction = Literal["HIDE", "UNHIDE"]
LikeAction = Literal["LIKE", "UNLIKE"]
PinAction = Literal["PIN", "UNPIN"]


# -- connecting an account ---------------------------------------------------------------


def account_authorization_url(auth_url: str, state: str, redirect_uri: str) -> str:
    """The page where a TikTok account holder authorizes the app.

    ``auth_url`` is the "TikTok account holder authorization URL" as copied from TikTok's
    developer portal (it carries the app's client key and scopes); ``state`` and
    ``redirect_uri`` (the registered account-holder redirect URL) are added, replacing any
    the copied URL already had. TikTok then redirects to ``redirect_uri`` with ``code``,
    ``scopes`` and ``state``; read them with :func:`parse_account_redirect`.
    """
    if not auth_url:
        raise ValueError("auth_url is empty: copy the account holder authorization URL from "
                         "TikTok's developer portal")
    parts = urlsplit(auth_url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in ("state", "redirect_uri")]
    query = urlencode([*kept, ("state", state), ("redirect_uri", redirect_uri)],
                      quote_via=quote)
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True, slots=True, repr=False)
class AccountRedirect:
    """What TikTok's redirect after the account holder's decision carries.

    ``code`` is set when the account holder approved, ``error`` (e.g. "access_denied") when
    not. ``scopes`` are the scopes the account holder granted. ``repr`` hides the code.
    """

    code: str | None
    scopes: tuple[str, ...] = ()
    state: str | None = None
    error: str | None = None
    error_description: str | None = None

    @property
    def approved(self) -> bool:
        return bool(self.code) and not self.error

    def __repr__(self) -> str:
        code = "<hidden>" if self.code else None
        return (f"AccountRedirect(code={code}, scopes={self.scopes!r}, state={self.state!r}, "
                f"error={self.error!r}, error_description={self.error_description!r})")


def parse_account_redirect(callback: str | Mapping[str, Any]) -> AccountRedirect:
    """Read ``code``, ``scopes`` and ``state`` from the redirect.

    ``callback`` is the full redirect URL, its query string, or a mapping of the query
    parameters (such as Streamlit's ``st.query_params``; list values take their first item).
    """
    if isinstance(callback, str):
        query = urlsplit(callback).query if "?" in callback or "://" in callback else callback
        values: dict[str, Any] = {}
        for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
            values.setdefault(key, value)
    else:
        values = dict(callback)

    def one(name: str) -> str | None:
        value = values.get(name)
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if value is None:
            return None
        text = str(value)
        return text if text != "" else None

    return AccountRedirect(
        code=one("code") or one("auth_code"),
        scopes=parse_scopes(one("scopes") or one("scope") or ""),
        state=one("state"),
        error=one("error"),
        error_description=one("error_description"),
    )


def exchange_account_code(
    client: TikTokClient,
    app_id: str,
    secret: str,
    code: str,
    redirect_uri: str,
    *,
    now: datetime | None = None,
) -> AccountToken:
    """Trade the redirect's single-use ``code`` for the account's tokens.

    ``redirect_uri`` must be the one the authorization used (the registered account-holder
    redirect URL). Expiry moments are counted from ``now`` (default: the time of sending).
    The code works once, so a lost answer raises OutcomeUnknown and is not retried: start the
    authorization again.
    """
    if not code:
        raise AuthCodeError("No authorization code came back from TikTok.")
    body = _app_body(app_id, secret, grant_type="authorization_code", auth_code=code,
                     redirect_uri=redirect_uri)
    return _grant(client, "tt_user/oauth2/token/", body, (secret, code),
                  "the authorization code", now)


def refresh_account_token(
    client: TikTokClient,
    app_id: str,
    secret: str,
    refresh_token: str,
    *,
    now: datetime | None = None,
) -> AccountToken:
    """Trade the refresh token for a new access token and a new refresh token.

    Store both before using either. The refresh token's year is not extended: the new one
    expires when the old one would have. When the answer is lost, OutcomeUnknown is raised;
    keep the stored tokens and refresh again (TikTok keeps the old refresh token working
    until the new one has been used). RefreshTokenError means the account must reconnect.
    """
    if not refresh_token:
        raise InvalidRequest("There is no refresh token to renew the access token with.")
    body = _app_body(app_id, secret, grant_type="refresh_token", refresh_token=refresh_token)
    return _grant(client, "tt_user/oauth2/refresh_token/", body, (secret, refresh_token),
                  "the refresh token", now)


def revoke_account_token(client: TikTokClient, app_id: str, secret: str,
                         access_token: str) -> None:
    """Revoke the account's authorization: its access and refresh tokens stop working."""
    client._post_as_app("tt_user/oauth2/revoke/",
                        _app_body(app_id, secret, access_token=access_token),
                        secrets=(secret, access_token))


def get_account_token_info(client: TikTokClient, app_id: str,
                           access_token: str) -> AccountTokenInfo:
    """The open_id and granted scopes of an account access token."""
    data = client._post_as_app("tt_user/token_info/get/",
                               {"app_id": str(app_id), "access_token": access_token},
                               secrets=(access_token,), write=False)
    return AccountTokenInfo.from_api(data)


def _app_body(app_id: str, secret: str, **fields: str) -> dict[str, str]:
    """The body of a tt_user/oauth2/ call: the app's credentials and ``fields``."""
    return {"client_id": str(app_id), "client_secret": secret, **fields}


def _grant(client: TikTokClient, path: str, body: Mapping[str, Any], secrets: tuple[str, ...],
           what: str, now: datetime | None) -> AccountToken:
    """The tokens TikTok grants for ``what`` (an authorization code or a refresh token), their
    lifetimes counted from ``now`` (default: the time of sending)."""
    sent_at = utc_now(now)
    token = AccountToken.from_api(client._post_as_app(path, body, secrets=secrets), sent_at)
    if not token.access_token:
        raise MalformedResponse(
            f"TikTok accepted {what} but sent no access token; connect the account again"
        )
    return token


def check_comment_text(text: str, kind: str = "reply") -> None:
    """Refuse text TikTok would not take for an organic comment: empty, blank or over
    :data:`MAX_ORGANIC_COMMENT_LENGTH` characters. ``kind`` names it in the message ("reply"
    or "comment")."""
    check_text(text, kind, MAX_ORGANIC_COMMENT_LENGTH)


def profile_fields_for(scopes: Sequence[str], fields: Sequence[str] = PROFILE_FIELDS
                       ) -> tuple[str, ...]:
    """The ``fields`` of business/get/ that ``scopes`` (the token's granted scopes) cover, in
    order; fields :data:`PROFILE_FIELD_SCOPES` does not name are kept."""
    granted = set(scopes)
    return tuple(f for f in fields
                 if PROFILE_FIELD_SCOPES.get(f) is None or PROFILE_FIELD_SCOPES[f] in granted)


def asks_for_video_id(error: Exception) -> bool:
    """True when ``error`` is TikTok's 40002 saying that ``video_id`` is missing (as in
    "video_id: Missing data for required field.")."""
    message = (getattr(error, "message", "") or "").lower()
    return (isinstance(error, InvalidRequest) and error.code == 40002
            and "video_id" in message and "missing" in message)


# -- one business account ----------------------------------------------------------------


class BusinessAccountClient:
    """The Accounts API calls for one TikTok business account.

    ``client`` holds the account's access token (and the app's rate limiter, session, retry
    settings and what was learned about TikTok); ``business_id`` is the token's ``open_id``;
    ``scopes`` are the scopes the account holder granted (the token's ``scope``), when known.
    Use :meth:`for_token` to make one from an :class:`AccountToken` and any client of the app.
    """

    def __init__(self, client: TikTokClient, business_id: str, *,
                 scopes: Sequence[str] | None = None) -> None:
        if not business_id:
            raise ValueError("business_id is empty: use the open_id of the account's token")
        self._client = client
        self._business_id = str(business_id)
        self._scopes = tuple(scopes) if scopes else None

    @classmethod
    def for_token(cls, client: TikTokClient, token: AccountToken) -> BusinessAccountClient:
        """A client for ``token``'s account sharing ``client``'s settings and rate limiter."""
        if not token.open_id:
            raise ValueError("the token names no open_id; pass the business_id explicitly")
        return cls(client.with_token(token.access_token), token.open_id, scopes=token.scope)

    @property
    def business_id(self) -> str:
        """The account's ``open_id``, sent as ``business_id`` with every call."""
        return self._business_id

    @property
    def client(self) -> TikTokClient:
        """The client holding the account's access token."""
        return self._client

    @property
    def scopes(self) -> tuple[str, ...] | None:
        """The scopes the account holder granted, or None when not known."""
        return self._scopes

    @property
    def learned(self) -> Learned:
        """What was learned about TikTok at run time: the underlying client's, shared by every
        client of the app."""
        return self._client.learned

    def __repr__(self) -> str:
        return f"BusinessAccountClient(business_id={self._business_id!r}, client={self._client!r})"

    # -- profile and videos ---------------------------------------------------------------

    def get_profile(
        self,
        fields: Sequence[str] | None = PROFILE_FIELDS,
        *,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        fall_back: bool = True,
    ) -> BusinessProfile:
        """The account's profile and totals; daily ``metrics`` when metric fields (e.g.
        "video_views", "daily_new_followers") and both dates are given.

        When the granted scopes are known, only the ``fields`` they cover are asked for (none
        left: TikTok's default, display_name and profile_image). TikTok fails the whole call
        with 40130 for one field the grant does not cover; then, with ``fall_back``, the
        basic fields alone are asked for once, and the other fields of the profile are None.
        """
        if fields and self._scopes is not None:
            fields = profile_fields_for(self._scopes, fields)
        params = {
            "fields": list(fields) if fields else None,
            "start_date": None if start_date is None else date_text(start_date),
            "end_date": None if end_date is None else date_text(end_date),
        }
        try:
            data = self._get("business/get/", params)
        except PermissionDenied as err:
            beyond_basic = (bool(set(fields or ()) - set(BASIC_PROFILE_FIELDS))
                            or start_date is not None or end_date is not None)
            if not (fall_back and err.code == SCOPE_NOT_AUTHORIZED and beyond_basic):
                raise
            log.info("business/get/ refused the fields asked for (%s); asking for the basic "
                     "profile only", err.message)
            data = self._get("business/get/", {"fields": list(BASIC_PROFILE_FIELDS)})
        return BusinessProfile.from_api(data, self._business_id)

    def videos_page(
        self,
        cursor: int | None = None,
        max_count: int = MAX_VIDEO_PAGE_SIZE,
        *,
        fields: Sequence[str] | None = VIDEO_FIELDS,
        video_ids: Sequence[str] | None = None,
        ad_post_only: bool | None = None,
    ) -> CursorPage[Video]:
        """One page of the account's videos, newest first (at most 20 per page)."""
        check_count(max_count, MAX_VIDEO_PAGE_SIZE)
        filters: dict[str, Any] = {}
        if video_ids is not None:
            filters["video_ids"] = check_ids(video_ids, "video_ids")
        if ad_post_only is not None:
            filters["ad_post_only"] = bool(ad_post_only)
        params = {"max_count": max_count, "fields": list(fields) if fields else None,
                  "filters": filters or None, "cursor": cursor}
        return CursorPage.from_api(self._get("business/video/list/", params),
                                   partial(Video.from_api, business_id=self._business_id),
                                   "videos", "list")

    def iter_videos(
        self,
        max_count: int = MAX_VIDEO_PAGE_SIZE,
        *,
        fields: Sequence[str] | None = VIDEO_FIELDS,
        video_ids: Sequence[str] | None = None,
        ad_post_only: bool | None = None,
    ) -> Iterator[Video]:
        """Every video of the account, following the cursor."""
        check_count(max_count, MAX_VIDEO_PAGE_SIZE)
        fetch = partial(self.videos_page, max_count=max_count, fields=fields,
                        video_ids=video_ids, ad_post_only=ad_post_only)
        return iter_cursor_pages(fetch, "business/video/list/")

    # -- comments: read --------------------------------------------------------------------

    def comments_page(
        self,
        video_id: str,
        cursor: int | None = None,
        max_count: int = MAX_ORGANIC_COMMENT_PAGE_SIZE,
        *,
        status: str = "ALL",
        sort_field: str = "create_time",
        sort_order: str = "asc",
        include_replies: bool | None = None,
        comment_ids: Sequence[str] | None = None,
    ) -> CursorPage[OrganicComment]:
        """One page of a video's top-level comments (at most 30 per page).

        ``status`` "ALL" lists hidden comments too, "PUBLIC" only visible ones. The default
        order, oldest first, keeps paging stable while new comments arrive.
        ``comment_ids`` (at most 30) fetches given comments or replies.
        """
        check_count(max_count, MAX_ORGANIC_COMMENT_PAGE_SIZE)
        params: dict[str, Any] = {
            "video_id": str(video_id),
            "status": status,
            "sort_field": sort_field,
            "sort_order": sort_order,
            "max_count": max_count,
        }
        if include_replies is not None:
            params["include_replies"] = bool(include_replies)
        if comment_ids is not None:
            params["comment_ids"] = check_ids(comment_ids, "comment_ids", MAX_COMMENT_IDS)
        params["cursor"] = cursor
        return self._comments("business/comment/list/", params, video_id)

    def iter_comments(
        self,
        video_id: str,
        max_count: int = MAX_ORGANIC_COMMENT_PAGE_SIZE,
        *,
        status: str = "ALL",
        sort_field: str = "create_time",
        sort_order: str = "asc",
        include_replies: bool | None = None,
    ) -> Iterator[OrganicComment]:
        """Every top-level comment of a video, following the cursor."""
        check_count(max_count, MAX_ORGANIC_COMMENT_PAGE_SIZE)
        fetch = partial(self.comments_page, video_id, max_count=max_count, status=status,
                        sort_field=sort_field, sort_order=sort_order,
                        include_replies=include_replies)
        return iter_cursor_pages(fetch, "business/comment/list/")

    def replies_page(
        self,
        video_id: str,
        comment_id: str,
        cursor: int | None = None,
        max_count: int = MAX_ORGANIC_COMMENT_PAGE_SIZE,
        *,
        status: str = "ALL",
        sort_field: str = "create_time",
        sort_order: str = "asc",
    ) -> CursorPage[OrganicComment]:
        """One page of the replies to a top-level comment (at most 30 per page)."""
        check_count(max_count, MAX_ORGANIC_COMMENT_PAGE_SIZE)
        params = {
            "video_id": str(video_id),
            "comment_id": str(comment_id),
            "status": status,
            "sort_field": sort_field,
            "sort_order": sort_order,
            "max_count": max_count,
            "cursor": cursor,
        }
        return self._comments("business/comment/reply/list/", params, video_id, comment_id)

    def iter_replies(
        self,
        video_id: str,
        comment_id: str,
        max_count: int = MAX_ORGANIC_COMMENT_PAGE_SIZE,
        *,
        status: str = "ALL",
        sort_field: str = "create_time",
        sort_order: str = "asc",
    ) -> Iterator[OrganicComment]:
        """Every reply to a top-level comment, following the cursor."""
        check_count(max_count, MAX_ORGANIC_COMMENT_PAGE_SIZE)
        fetch = partial(self.replies_page, video_id, comment_id, max_count=max_count,
                        status=status, sort_field=sort_field, sort_order=sort_order)
        return iter_cursor_pages(fetch, "business/comment/reply/list/")

    def _comments(self, path: str, params: Mapping[str, Any], video_id: str,
                  parent_comment_id: str | None = None) -> CursorPage[OrganicComment]:
        """One page of comments of ``video_id`` (replies to ``parent_comment_id``, if given)."""
        parse = partial(OrganicComment.from_api, business_id=self._business_id,
                        video_id=str(video_id), parent_comment_id=parent_comment_id)
        return CursorPage.from_api(self._get(path, params), parse, "comments", "list")

    # -- comments: write -------------------------------------------------------------------

    def create_comment(self, video_id: str, text: str) -> OrganicComment:
        """Post a top-level comment on one of the account's videos, as the account.

        Text that is empty or longer than :data:`MAX_ORGANIC_COMMENT_LENGTH` characters is
        refused with InvalidRequest before anything is sent.
        """
        check_comment_text(text, "comment")
        body = {"business_id": self._business_id, "video_id": str(video_id), "text": text}
        data = self._client._request("POST", "business/comment/create/", json=body,
                                     write=True)
        return OrganicComment.from_api(data, self._business_id, video_id=str(video_id))

    def reply_to_comment(self, video_id: str, comment_id: str, text: str) -> OrganicComment:
        """Reply to a top-level comment as the account; returns the new reply.

        Text that is empty or longer than :data:`MAX_ORGANIC_COMMENT_LENGTH` characters is
        refused with InvalidRequest before anything is sent.
        """
        check_comment_text(text, "reply")
        body = {
            "business_id": self._business_id,
            "video_id": str(video_id),
            "comment_id": str(comment_id),
            "text": text,
        }
        data = self._client._request("POST", "business/comment/reply/create/", json=body,
                                     write=True)
        return OrganicComment.from_api(data, self._business_id, video_id=str(video_id),
                                       parent_comment_id=str(comment_id))

    def set_comment_hidden(self, video_id: str, comment_id: str, action: HideAction) -> None:
        """Hide (``"HIDE"``) or unhide (``"UNHIDE"``) a comment or reply."""
        check_choice("action", action, get_args(HideAction))
        self._write("business/comment/hide/", video_id=str(video_id),
                    comment_id=str(comment_id), action=action)

    def hide_comment(self, video_id: str, comment_id: str) -> None:
        self.set_comment_hidden(video_id, comment_id, "HIDE")

    def unhide_comment(self, video_id: str, comment_id: str) -> None:
        self.set_comment_hidden(video_id, comment_id, "UNHIDE")

    def set_comment_liked(self, comment_id: str, action: LikeAction, *,
                          video_id: str | None = None) -> None:
        """Like (``"LIKE"``) or unlike (``"UNLIKE"``) a comment as the account.

        The documented body has no ``video_id``; pass the comment's ``video_id`` when known:
        it is sent when TikTok asks for it (see :meth:`_write_with_video_id`).
        """
        check_choice("action", action, get_args(LikeAction))
        self._write_with_video_id("business/comment/like/", video_id,
                                  comment_id=str(comment_id), action=action)

    def like_comment(self, comment_id: str, *, video_id: str | None = None) -> None:
        self.set_comment_liked(comment_id, "LIKE", video_id=video_id)

    def unlike_comment(self, comment_id: str, *, video_id: str | None = None) -> None:
        self.set_comment_liked(comment_id, "UNLIKE", video_id=video_id)

    def set_comment_pinned(self, video_id: str, comment_id: str, action: PinAction) -> None:
        """Pin (``"PIN"``) or unpin (``"UNPIN"``) a top-level comment on its video."""
        check_choice("action", action, get_args(PinAction))
        self._write("business/comment/pin/", video_id=str(video_id),
                    comment_id=str(comment_id), action=action)

    def pin_comment(self, video_id: str, comment_id: str) -> None:
        self.set_comment_pinned(video_id, comment_id, "PIN")

    def unpin_comment(self, video_id: str, comment_id: str) -> None:
        self.set_comment_pinned(video_id, comment_id, "UNPIN")

    def delete_comment(self, comment_id: str) -> None:
        """Delete a comment or reply the account wrote itself (``owner``); others can only be
        hidden."""
        self._write("business/comment/delete/", comment_id=str(comment_id))

    def _get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """GET a business/* call for this account (parameters that are None are not sent)."""
        return self._client._request("GET", path,
                                     params={"business_id": self._business_id, **params})

    def _write(self, path: str, **fields: str) -> None:
        self._client._request("POST", path, json={"business_id": self._business_id, **fields},
                              write=True)

    def _write_with_video_id(self, path: str, video_id: str | None, **fields: str) -> None:
        """POST a write whose documented body has no ``video_id``.

        Once TikTok has asked this app for ``video_id`` on ``path`` (``learned`` key
        ``video_id.<endpoint>``), it is sent at once. Otherwise the documented body goes; when
        TikTok answers 40002 naming ``video_id`` as missing, that is learned and, with a
        ``video_id`` to give, the call is sent once more with it (a refused call changed
        nothing). Without one, the refusal reaches the caller.
        """
        key = f"{VIDEO_ID_PREFIX}{path.strip('/')}"
        with_video = {"video_id": str(video_id), **fields} if video_id is not None else None
        if with_video is not None and self.learned.get(key) is True:
            self._write(path, **with_video)
            return
        try:
            self._write(path, **fields)
        except InvalidRequest as err:
            if not asks_for_video_id(err):
                raise
            self.learned.learn(key, True)
            if with_video is None:
                raise
            log.info("%s asked for video_id; sending it with this and later calls", path)
            self._write(path, **with_video)


def iter_cursor_pages(fetch: Callable[[int | None], CursorPage[T]], action: str) -> Iterator[T]:
    """Every item of a cursor-paged list (business/video/list/, business/comment/list/,
    business/comment/reply/list/), each page fetched only when the items before it have been
    taken.

    ``fetch(cursor)`` returns one page: the first with ``cursor`` None, each next one with
    the ``cursor`` the answer before sent back; paging stops at a page whose ``has_more`` is
    false. A page that says there is more but brings no new cursor would loop for ever: once
    its items are yielded, MalformedResponse is raised, naming ``action`` (the call, e.g.
    "business/comment/list/").
    """
    cursor: int | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if not page.has_more:
            return
        if page.cursor is None or page.cursor == cursor:
            raise MalformedResponse(
                f"{action} said there is more but sent no new cursor ({page.cursor!r})"
            )
        cursor = page.cursor
