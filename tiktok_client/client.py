"""TikTokClient: the Marketing API v1.3 endpoints Comment Desk uses.

Every call goes through :meth:`TikTokClient._request`, which builds the URL, adds the
``Access-Token`` header, JSON-encodes list and object query parameters, waits for the shared
rate limiter, parses TikTok's ``{code, message, request_id, data}`` envelope (HTTP status is 200
even on errors) and raises the typed errors of :mod:`tiktok_client.errors`.

Retries: reads are retried on retryable errors with exponential backoff and full jitter, within
``max_attempts`` and a total ``deadline``; a host that refuses connections is given up on after
``UNREACHABLE_ATTEMPTS``. Writes are retried only when they certainly did not
take effect (throttled, or the connection was never made); when a write was sent and no usable
answer came back, :class:`~tiktok_client.errors.OutcomeUnknown` is raised at once
(:mod:`tiktok_client.transport` tells which failures certainly never reached TikTok).

Limits no source settles (ad/get/'s largest page, comment/list/'s longest span, the longest
reply to an ad comment) are found out from TikTok's refusals and kept in ``client.learned``
(:mod:`tiktok_client.learned`, :mod:`tiktok_client.marketing_limits`); lists are walked by
:mod:`tiktok_client.paging`; :mod:`tiktok_client.wire` encodes queries and parses answers.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

import requests

from .blocked_words import BlockedWords
from .checks import check_choice, check_ids, check_page
from .errors import (
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    TikTokError,
    TokenError,
    TransportError,
    error_for,
)
from .learned import (
    AD_PAGE_SIZE,
    AD_REPLY_LENGTH,
    COMMENT_WINDOW_DAYS,
    SMART_PLUS_AD_PAGE_SIZE,
    Learned,
)
from .marketing_limits import (
    AD_PAGE_SIZES,
    MAX_REPLY_LENGTH,
    ReplyTooLong,
    check_reply_text,
    next_comment_window,
    reply_rejection,
)
from .models import Ad, Advertiser, ColumnPage, Comment, Page, ReplyResult
from .paging import iter_numbered_pages, iter_stepping_pages
from .ratelimit import RateLimiter
from .reporting import Reporting
from .transport import redact, transport_error, unreachable
from .wire import (
    code_of,
    date_text,
    encode_query,
    loads,
    new_session,
    string_list,
    text_or_none,
)

__all__ = [
    "AD_TYPES",
    "API_PREFIX",
    "DEFAULT_BASE_URL",
    "MAX_AD_PAGE_SIZE",
    "MAX_COMMENT_PAGE_SIZE",
    "MAX_REFERENCE_PAGE_SIZE",
    "MAX_REPLY_LENGTH",
    "ClientStats",
    "ReplyTooLong",
    "TikTokClient",
    "check_reply_text",
    "iter_numbered_pages",
]

DEFAULT_BASE_URL = "https://business-api.tiktok.com"
API_PREFIX = "/open_api/v1.3/"
MAX_AD_PAGE_SIZE = AD_PAGE_SIZES[0]
"""The page size ad/get/ and smart_plus/ad/get/ start at (the documented range is 1-1,000)."""
MAX_COMMENT_PAGE_SIZE = 100
MAX_REFERENCE_PAGE_SIZE = 100
"""comment/reference/'s largest page: 100 in the OpenAPI description (a docs copy says 1000)."""
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# Attempts at a host that refuses connections (or cannot be found) before giving up: a blip
# is ridden out, an outage is reported in seconds instead of after the whole deadline.
UNREACHABLE_ATTEMPTS = 3

_RETRYABLE_4XX = frozenset({408, 429})

log = logging.getLogger(__name__)

T = TypeVar("T")
CommentOperation = Literal["HIDDEN", "PUBLIC"]
AdType = Literal["BIDDING", "BRAND"]
"""comment/status/update/'s ``ad_type``: auction (BIDDING, TikTok's default) or reservation
(BRAND) ads."""
AD_TYPES: tuple[AdType, ...] = get_args(AdType)


class ClientStats:
    """Thread-safe counters of one client: HTTP attempts, retries, throttled answers, errors.

    ``requests`` counts every HTTP attempt, ``retries`` the attempts that repeated an earlier
    one, ``throttled`` the rate-limit answers, ``errors`` the errors raised to callers.
    """

    FIELDS = ("requests", "retries", "throttled", "errors")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.FIELDS, 0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def __repr__(self) -> str:
        return f"ClientStats({self.snapshot()})"


class TikTokClient:
    """A client of TikTok's Business API for one access token.

    Share one :class:`RateLimiter` between all clients of the same TikTok app. Without one, the
    client makes its own at the Basic tier using ``clock`` and ``sleep``. ``timeout`` applies to
    each HTTP attempt; ``deadline`` bounds a call including its retries. ``sleep``, ``rng`` and
    ``clock`` are injectable so that tests are exact.
    """

    def __init__(
        self,
        access_token: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        rate_limiter: RateLimiter | None = None,
        deadline: float = 60.0,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        learned: Learned | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if not deadline > 0 or not timeout > 0:
            raise ValueError("timeout and deadline must be positive")
        self._access_token = access_token or None
        self._base_url = base_url.rstrip("/")
        self._host = urlsplit(self._base_url).netloc or self._base_url
        self._timeout = timeout
        self._deadline = deadline
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._rate_limiter = rate_limiter or RateLimiter(clock=clock, sleep=sleep)
        self._owns_session = session is None
        self._session = session if session is not None else new_session(self._base_url)
        self.stats = ClientStats()
        self.learned = learned if learned is not None else Learned()
        """Limits learned from TikTok's answers (see :mod:`tiktok_client.learned`)."""

    @property
    def base_url(self) -> str:
        """The API host, without a trailing slash."""
        return self._base_url

    @property
    def rate_limiter(self) -> RateLimiter:
        """The limiter every request of this client waits for (shared by :meth:`with_token`)."""
        return self._rate_limiter

    @property
    def has_token(self) -> bool:
        return self._access_token is not None

    @property
    def blocked_words(self) -> BlockedWords:
        """The ad accounts' blocked-word lists (:mod:`tiktok_client.blocked_words`)."""
        return BlockedWords(self)

    @property
    def reporting(self) -> Reporting:
        """Synchronous reports: each ad's daily delivery (:mod:`tiktok_client.reporting`)."""
        return Reporting(self)

    def with_token(self, access_token: str) -> TikTokClient:
        """A client for another token that shares this one's settings, session, rate limiter,
        learned limits and request counts (so a run that switches tokens still counts every
        request)."""
        other = TikTokClient(
            access_token,
            base_url=self._base_url,
            timeout=self._timeout,
            rate_limiter=self._rate_limiter,
            deadline=self._deadline,
            max_attempts=self._max_attempts,
            sleep=self._sleep,
            rng=self._rng,
            session=self._session,
            clock=self._clock,
            learned=self.learned,
        )
        other.stats = self.stats
        return other

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        token = "<set>" if self._access_token else None
        return f"TikTokClient(base_url={self._base_url!r}, access_token={token})"

    # -- advertisers and ads -------------------------------------------------------------

    def get_advertiser_info(
        self, advertiser_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> list[Advertiser]:
        """Details (name, timezone, currency, ...) of ad accounts the token may read."""
        if not advertiser_ids:
            return []
        params: dict[str, Any] = {"advertiser_ids": [str(a) for a in advertiser_ids]}
        if fields:
            params["fields"] = list(fields)
        return self._get_page("advertiser/info/", params, Advertiser.from_api).items

    def ad_page_size(self) -> int:
        """The page size ad/get/ is asked for: the one learned from TikTok, else 1000."""
        return self.learned.get_limit(AD_PAGE_SIZE, MAX_AD_PAGE_SIZE)

    def ads_page(
        self,
        advertiser_id: str,
        page: int = 1,
        page_size: int | None = None,
        filtering: Mapping[str, Any] | None = None,
    ) -> Page[Ad]:
        """One page of ad/get/ (``page_size`` None: :meth:`ad_page_size`). ``filtering`` is
        TikTok's filter object (e.g. ``ad_ids``, or ``buying_types``: ``AUCTION``,
        ``RESERVATION_RF`` and, alone, ``RESERVATION_TOP_VIEW``)."""
        size = self.ad_page_size() if page_size is None else page_size
        return self._ads_page("ad/get/", Ad.from_api, advertiser_id, page, size, filtering)

    def iter_ads(
        self,
        advertiser_id: str,
        page_size: int | None = None,
        filtering: Mapping[str, Any] | None = None,
    ) -> Iterator[Ad]:
        """Every ad of the advertiser, page after page (Upgraded Smart+ ads are not among
        them: see :meth:`iter_smart_plus_ads`).

        Pages are as large as TikTok allows: ``page_size`` (None: 1000), but never above a
        size learned from TikTok. When TikTok refuses the size, the next is the limit its
        message states or the next of 1000, 500, 200, 100, 50, 20, 10; paging restarts from
        page 1 of that size without yielding an ad twice, and the size is learned
        (``client.learned``, key ``AD_PAGE_SIZE``) so that later calls use it at once. When
        the smallest size is refused too, that error reaches the caller.

        Without ``buying_types`` in ``filtering`` TikTok lists auction and Reach & Frequency
        ads; TopView ads only with ``{"buying_types": ["RESERVATION_TOP_VIEW"]}``.
        """
        return self._iter_ads("ad/get/", Ad.from_api, AD_PAGE_SIZE, advertiser_id, page_size,
                              filtering)

    def smart_plus_ads_page(
        self,
        advertiser_id: str,
        page: int = 1,
        page_size: int | None = None,
        filtering: Mapping[str, Any] | None = None,
    ) -> Page[Ad]:
        """One page of smart_plus/ad/get/: Upgraded Smart+ ads, which ad/get/ does not list
        (``smart_plus`` True). ``filtering`` takes ``campaign_ids``, ``adgroup_ids``,
        ``smart_plus_ad_ids`` (each up to 100), ``primary_status``, ... ``page_size`` None:
        the learned size, else 1000."""
        if page_size is None:
            page_size = self.learned.get_limit(SMART_PLUS_AD_PAGE_SIZE, MAX_AD_PAGE_SIZE)
        return self._ads_page("smart_plus/ad/get/", Ad.from_smart_plus, advertiser_id, page,
                              page_size, filtering)

    def iter_smart_plus_ads(
        self,
        advertiser_id: str,
        page_size: int | None = None,
        filtering: Mapping[str, Any] | None = None,
    ) -> Iterator[Ad]:
        """Every Upgraded Smart+ ad of the advertiser, page after page, the page size found
        out as in :meth:`iter_ads` (key ``SMART_PLUS_AD_PAGE_SIZE``). comment/list/ may
        refuse their ad groups: see :func:`~tiktok_client.marketing_limits.comments_refused`.
        """
        return self._iter_ads("smart_plus/ad/get/", Ad.from_smart_plus, SMART_PLUS_AD_PAGE_SIZE,
                              advertiser_id, page_size, filtering)

    def _ads_page(
        self, path: str, parse: Callable[[Mapping[str, Any]], Ad], advertiser_id: str,
        page: int, page_size: int, filtering: Mapping[str, Any] | None,
    ) -> Page[Ad]:
        check_page(page, page_size)
        params: dict[str, Any] = {
            "advertiser_id": str(advertiser_id),
            "page": page,
            "page_size": page_size,
            "filtering": dict(filtering) if filtering else None,
        }
        return self._get_page(path, params, parse)

    def _iter_ads(
        self, path: str, parse: Callable[[Mapping[str, Any]], Ad], key: str,
        advertiser_id: str, page_size: int | None, filtering: Mapping[str, Any] | None,
    ) -> Iterator[Ad]:
        if page_size is not None:
            check_page(1, page_size)
        wanted = MAX_AD_PAGE_SIZE if page_size is None else page_size
        start = min(wanted, self.learned.get_limit(key, MAX_AD_PAGE_SIZE))
        return iter_stepping_pages(
            lambda page, size: self._ads_page(path, parse, advertiser_id, page, size, filtering),
            start,
            AD_PAGE_SIZES,
            learn=partial(self.learned.learn, key),
            key=lambda ad: ad.ad_id or ad,
        )

    # -- comments: read ------------------------------------------------------------------

    def comments_page(
        self,
        advertiser_id: str,
        adgroup_id: str,
        start_date: date | str,
        end_date: date | str,
        page: int = 1,
        page_size: int = 100,
        comment_type: str | Sequence[str] = "ALL",
        comment_status: str | Sequence[str] = "ALL",
        sort_field: str = "CREATE_TIME",
        sort_type: str = "ASC",
    ) -> Page[Comment]:
        """One page of comment/list/ for one ad group between two dates (inclusive).

        TikTok lists comments only per ad group; ``page_size`` is at most 100.
        """
        return self._get_page("comment/list/", self._comment_list_params(
            advertiser_id, adgroup_id, start_date, end_date, page, page_size, comment_type,
            comment_status, sort_field, sort_type), Comment.from_api, "comments", "list")

    def comment_columns_page(
        self,
        advertiser_id: str,
        adgroup_id: str,
        start_date: date | str,
        end_date: date | str,
        page: int = 1,
        page_size: int = 100,
        sort_type: str = "ASC",
    ) -> ColumnPage:
        """:meth:`comments_page` (every comment and reply, by creation time) read column by
        column, as ``Comment.to_record()`` has each field, without making the models: the
        bulk path of a sync."""
        params = self._comment_list_params(advertiser_id, adgroup_id, start_date, end_date, page,
                                           page_size, "ALL", "ALL", "CREATE_TIME", sort_type)
        return ColumnPage.from_api(self._request("GET", "comment/list/", params=params),
                                   Comment.columns_from_api, "comments", "list")

    @staticmethod
    def _comment_list_params(
        advertiser_id: str, adgroup_id: str, start_date: date | str, end_date: date | str,
        page: int, page_size: int, comment_type: str | Sequence[str],
        comment_status: str | Sequence[str], sort_field: str, sort_type: str,
    ) -> dict[str, Any]:
        check_page(page, page_size, MAX_COMMENT_PAGE_SIZE)
        return {
            "advertiser_id": str(advertiser_id),
            "search_field": "ADGROUP_ID",
            "search_value": str(adgroup_id),
            "start_time": date_text(start_date),
            "end_time": date_text(end_date),
            "comment_type": string_list(comment_type),
            "comment_status": string_list(comment_status),
            "sort_field": sort_field,
            "sort_type": sort_type,
            "page": page,
            "page_size": page_size,
        }

    def iter_comments(
        self,
        advertiser_id: str,
        adgroup_id: str,
        start_date: date | str,
        end_date: date | str,
        page_size: int = 100,
        comment_type: str | Sequence[str] = "ALL",
        comment_status: str | Sequence[str] = "ALL",
        sort_field: str = "CREATE_TIME",
        sort_type: str = "ASC",
    ) -> Iterator[Comment]:
        """Every comment of one ad group between two dates, page after page."""
        check_page(1, page_size, MAX_COMMENT_PAGE_SIZE)
        fetch = partial(self.comments_page, advertiser_id, adgroup_id, start_date, end_date,
                        page_size=page_size, comment_type=comment_type,
                        comment_status=comment_status, sort_field=sort_field, sort_type=sort_type)
        return iter_numbered_pages(fetch, page_size)

    def comment_window_days(self, default: int = 30) -> int:
        """The longest span, in days, to ask comment/list/ for: ``default``, or the span
        learned from TikTok's refusals when that is shorter."""
        return min(default, self.learned.get_limit(COMMENT_WINDOW_DAYS, default))

    def next_comment_window(self, error: BaseException, days: int) -> int | None:
        """After :meth:`comments_page` raised ``error`` for a span of ``days`` days (from
        start_date to end_date, both included): the shorter span to ask for instead, or None
        when the error is not about the span or no shorter span is left (then handle
        ``error`` as any other).

        The contract for a sync: ask for spans of :meth:`comment_window_days`; when a page
        fails, call this with the error and the span that page asked for; on a number, split
        the window into spans of at most that many days and fetch them from page 1 (pages of
        one span do not carry over to another); on None, re-raise or record the error. The
        shorter span is learned at once (key ``COMMENT_WINDOW_DAYS``; it only goes down), so
        :meth:`comment_window_days` returns it from then on, to every client of the app.
        It is the limit TikTok's message states, else the next of 90, 60, 30, 14, 7, 3, 1
        days below ``days``; a refusal of a date's format is not a refused span (see
        :func:`~tiktok_client.marketing_limits.next_comment_window`).
        """
        return next_comment_window(self.learned, error, days)

    def comment_reference(
        self,
        advertiser_id: str,
        comment_id: str,
        comment_type: str = "COMMENT",
        original_comment_id: str | None = None,
        page: int = 1,
        page_size: int = 100,
    ) -> Page[Comment]:
        """A comment with its replies (for a COMMENT), or a reply with its original (REPLY);
        ``page_size`` is at most 100."""
        check_page(page, page_size, MAX_REFERENCE_PAGE_SIZE)
        if comment_type == "REPLY" and not original_comment_id:
            raise ValueError("original_comment_id is required when comment_type is REPLY")
        params = {
            "advertiser_id": str(advertiser_id),
            "comment_id": str(comment_id),
            "comment_type": comment_type,
            "page": page,
            "page_size": page_size,
            "original_comment_id": str(original_comment_id) if original_comment_id else None,
        }
        return self._get_page("comment/reference/", params, Comment.from_api, "comments", "list")

    # -- comments: write -----------------------------------------------------------------

    def ad_reply_limit(self) -> int:
        """The most characters a reply to an ad comment may have: the limit learned from
        TikTok's refusals, else 1,200 (:data:`MAX_REPLY_LENGTH`). For the app's reply box."""
        return self.learned.get_limit(AD_REPLY_LENGTH, MAX_REPLY_LENGTH)

    def reply_to_comment(
        self,
        advertiser_id: str,
        *,
        ad_id: str,
        tiktok_item_id: str,
        comment_id: str,
        text: str,
        identity_type: str,
        identity_id: str,
    ) -> ReplyResult:
        """Reply to a top-level comment as the ad's identity (take ``identity_type`` and
        ``identity_id`` from the comment row; every type TikTok uses is sent as given:
        CUSTOMIZED_USER, AUTH_CODE, TT_USER, BC_AUTH_TT, BC_SELF_TT).

        Empty text is refused with InvalidRequest, and text over :meth:`ad_reply_limit`
        with :class:`ReplyTooLong`, before anything is sent. When TikTok refuses the text as
        too long, the limit it states (or the next of 1,200, 500, 150 below the text's
        length) is learned and ReplyTooLong raised; the reply was not posted.
        """
        check_reply_text(text, self.ad_reply_limit())
        body = {
            "advertiser_id": str(advertiser_id),
            "ad_id": str(ad_id),
            "tiktok_item_id": str(tiktok_item_id),
            "comment_id": str(comment_id),
            "comment_type": "REPLY",
            "text": text,
            "identity_type": identity_type,
            "identity_id": str(identity_id),
        }
        try:
            data = self._request("POST", "comment/post/", json=body, write=True)
        except TikTokError as err:
            too_long = reply_rejection(self.learned, err, text)
            if too_long is None:
                raise
            raise too_long from err
        return ReplyResult.from_api(data)

    def set_comment_status(
        self,
        advertiser_id: str,
        comment_ids: Sequence[str],
        operation: CommentOperation,
        ad_type: AdType | None = None,
    ) -> None:
        """Hide (``"HIDDEN"``) or unhide (``"PUBLIC"``) comments. ``ad_type`` says whether
        they are on auction (``"BIDDING"``) or reservation (``"BRAND"``) ads; None sends none,
        and TikTok takes BIDDING."""
        check_choice("operation", operation, get_args(CommentOperation))
        if ad_type is not None:
            check_choice("ad_type", ad_type, AD_TYPES)
        ids = check_ids(comment_ids, "comment_ids")
        if not ids:
            return
        body = {"advertiser_id": str(advertiser_id), "comment_ids": ids, "operation": operation}
        if ad_type is not None:
            body["ad_type"] = ad_type
        self._request("POST", "comment/status/update/", json=body, write=True)

    def hide_comments(self, advertiser_id: str, comment_ids: Sequence[str],
                      ad_type: AdType | None = None) -> None:
        self.set_comment_status(advertiser_id, comment_ids, "HIDDEN", ad_type)

    def unhide_comments(self, advertiser_id: str, comment_ids: Sequence[str],
                        ad_type: AdType | None = None) -> None:
        self.set_comment_status(advertiser_id, comment_ids, "PUBLIC", ad_type)

    def delete_comment(
        self,
        advertiser_id: str,
        *,
        ad_id: str,
        tiktok_item_id: str,
        comment_id: str,
        identity_type: str,
        identity_id: str,
    ) -> None:
        """Delete a comment the ad's own identity posted (users' comments can only be hidden)."""
        body = {
            "advertiser_id": str(advertiser_id),
            "ad_id": str(ad_id),
            "tiktok_item_id": str(tiktok_item_id),
            "comment_id": str(comment_id),
            "identity_type": identity_type,
            "identity_id": str(identity_id),
        }
        self._request("POST", "comment/delete/", json=body, write=True)

    # -- request shapes ------------------------------------------------------------------

    def _get_page(
        self, path: str, params: Mapping[str, Any], parse_item: Callable[[Mapping[str, Any]], T],
        *keys: str,
    ) -> Page[T]:
        """GET one page of a page-numbered list; items come from the first of ``keys``."""
        return Page.from_api(self._request("GET", path, params=params), parse_item, *keys)

    def _post_as_app(
        self, path: str, body: Mapping[str, Any], *, secrets: Sequence[str], write: bool = True
    ) -> dict[str, Any]:
        """POST a call authorized by the app credentials in ``body`` rather than by an access
        token (token exchange, refresh, revocation); ``secrets`` never appear in errors."""
        return self._request("POST", path, json=body, write=write, auth=False, redact=secrets)

    # -- the choke point -----------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        write: bool = False,
        auth: bool = True,
        redact: Sequence[str] = (),
        file: bool = False,
    ) -> dict[str, Any]:
        """Send one API call with rate limiting and retries; return the envelope's ``data``.

        ``write`` marks calls that change something on TikTok (see the module docstring for
        how they are retried). ``auth=False`` sends no Access-Token header. ``redact`` lists
        further secrets (app secret, auth code) that must never appear in error messages.
        ``file=True`` also takes an answer that is a file, not an envelope (an export's
        download), as ``{"file": bytes, "content_type": str}``.
        """
        method = method.upper()
        url = self._url(path)
        action = f"{method} {path.strip('/')}/"
        headers: dict[str, str] = {}
        if auth:
            if not self._access_token:
                raise TokenError(f"{action} needs an access token and this client has none")
            headers["Access-Token"] = self._access_token
        query = encode_query(params) if params else None
        secrets = tuple(s for s in (self._access_token, *redact) if s)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            sent_at = self._rate_limiter.acquire(urgent=write)
            try:
                return self._attempt(method, url, action, query, json, headers, write, secrets,
                                     file)
            except TikTokError as err:
                if isinstance(err, RateLimited):
                    self.stats.add("throttled")
                    # every request of the app waits a moment; the limiter widens its margin
                    self._rate_limiter.throttled(sent_at)
                if write and err.possibly_applied:
                    self.stats.add("errors")
                    log.warning("%s: outcome unknown after %s", action, type(err).__name__)
                    raise OutcomeUnknown.from_cause(err, action) from err
                if (not err.retryable or attempt >= self._max_attempts
                        or (unreachable(err) and attempt >= UNREACHABLE_ATTEMPTS)):
                    self.stats.add("errors")
                    raise
                delay = self._backoff(attempt)
                if self._clock() - started + delay > self._deadline:
                    self.stats.add("errors")
                    raise
                self.stats.add("retries")
                log.info(
                    "%s: %s (code %s, request_id %s); retry %d in %.2fs",
                    action,
                    type(err).__name__,
                    err.code,
                    err.request_id,
                    attempt,
                    delay,
                )
                self._sleep(delay)

    def _url(self, path: str) -> str:
        path = path.strip("/")
        if not path:
            raise ValueError("empty API path")
        return f"{self._base_url}{API_PREFIX}{path}/"

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random delay up to base * 2^(attempt-1), capped."""
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _attempt(
        self,
        method: str,
        url: str,
        action: str,
        query: dict[str, str] | None,
        body: Any,
        headers: dict[str, str],
        write: bool,
        secrets: tuple[str, ...],
        file: bool = False,
    ) -> dict[str, Any]:
        """One HTTP exchange: the envelope's data, or a typed error."""
        self.stats.add("requests")
        try:
            response = self._session.request(
                method,
                url,
                params=query,
                json=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as exc:
            raise transport_error(exc, action, secrets) from None
        return self._parse(response, action, write, secrets, file)

    def _parse(
        self,
        response: requests.Response,
        action: str,
        write: bool,
        secrets: tuple[str, ...],
        file: bool = False,
    ) -> dict[str, Any]:
        status = response.status_code
        log_id = response.headers.get("X-Tt-Logid") or None
        content = response.content or b""
        # Sniff the body, not the Content-Type: JSON answers are sometimes labelled text/html.
        is_html = content.lstrip()[:1] == b"<"
        if not 200 <= status < 300:
            what = "an HTML error page" if is_html else f"{len(content)} bytes"
            raise TransportError(
                f"{action} got HTTP {status} from {self._host} ({what})",
                request_id=log_id,
                status=status,
                retryable=status >= 500 or status in _RETRYABLE_4XX,
                possibly_applied=not 400 <= status < 500,
            )
        if is_html:
            raise TransportError(
                f"{action} got an HTML page from {self._host} instead of an API answer",
                request_id=log_id,
                status=status,
            )
        if file and content.lstrip()[:1] != b"{":
            return {"file": content, "content_type": response.headers.get("Content-Type", "")}
        try:
            envelope = loads(content)
        except (ValueError, RecursionError):
            raise MalformedResponse(
                f"{action} got an answer that is not valid JSON ({len(content)} bytes)",
                request_id=log_id,
            ) from None
        if not isinstance(envelope, dict):
            raise MalformedResponse(
                f"{action} got JSON that is not an object ({type(envelope).__name__})",
                request_id=log_id,
            )
        request_id = text_or_none(envelope.get("request_id")) or log_id
        code = code_of(envelope.get("code"))
        if code is None:
            raise MalformedResponse(
                f"{action} got an answer without a valid code", request_id=request_id
            )
        if code != 0:
            message = redact(text_or_none(envelope.get("message")) or "", secrets)
            log.debug("%s: code %s, request_id %s", action, code, request_id)
            raise error_for(code, message, request_id)
        data = envelope.get("data")
        if isinstance(data, dict):
            return data
        if data is None or write:
            return {}
        raise MalformedResponse(
            f"{action} got data that is not an object ({type(data).__name__})",
            request_id=request_id,
        )
