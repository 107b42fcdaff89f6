"""Errors raised by the TikTok client, chosen from TikTok's error codes.

Every error carries ``code`` (TikTok's code, or None when the failure happened before or
outside the API), ``message`` (TikTok's own text, or ours) and ``request_id`` (quote it to
TikTok support). ``str(error)`` is a sentence a person can act on: what happened, what to do
next, then the code and request ID when known. Messages never contain access tokens or secrets.

Two class attributes drive retries in the client:

- ``retryable``: sending the same read again may succeed.
- ``possibly_applied``: a write may have taken effect even though no usable answer came back.
  A write is retried only when it is retryable and certainly not applied; when it may have been
  applied the client raises :class:`OutcomeUnknown` instead.

The classes::

    TikTokError            an unknown code, or the base of all below
    ├── TokenError         the access token is missing, revoked or not for this account
    │   ├── AccessTokenExpired   a TikTok account's 24-hour token ran out: renew it
    │   └── RefreshTokenError    a TikTok account's refresh token ended: reconnect
    ├── AuthCodeError      the authorization code or the app credentials were refused
    ├── AppUnavailable     TikTok reports the developer app as blocked or not existing
    ├── PermissionDenied   the connection lacks a permission (scope, comment management)
    ├── InvalidRequest     a parameter was rejected, by TikTok or before sending
    ├── RateLimited        throttled (retryable, certainly not applied)
    ├── ServerError        trouble on TikTok's side (retryable, possibly applied)
    ├── PartialSuccess     part of a batch was carried out
    ├── TransportError     no API answer at all (network, HTTP status, HTML page)
    ├── MalformedResponse  an answer that is not a readable envelope
    └── OutcomeUnknown     a write was sent and its answer was lost

Which code raises which class is decided by one table, :data:`ERROR_CODES`: every code the
client knows, with TikTok's official name, its meaning, its class and the sources it rests
on (the keys of :data:`SOURCES`). A row may cover a range of codes; a row for a single code
inside a range takes precedence. :data:`CODE_CLASSES` and :func:`error_for` are derived from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any, ClassVar, Literal

__all__ = [
    "CODE_CLASSES",
    "ERROR_CODES",
    "SOURCES",
    "AccessTokenExpired",
    "AppUnavailable",
    "AuthCodeError",
    "ErrorCode",
    "InvalidRequest",
    "MalformedResponse",
    "OutcomeUnknown",
    "PartialSuccess",
    "PermissionDenied",
    "RateLimited",
    "RefreshTokenError",
    "ServerError",
    "TikTokError",
    "TokenError",
    "TransportError",
    "error_for",
    "lookup_code",
]


class TikTokError(Exception):
    """A request to TikTok failed. Subclasses say why; unknown codes raise this class itself."""

    title: ClassVar[str] = "TikTok returned an error"
    hint: ClassVar[str] = (
        "Try again later; if it keeps happening, contact TikTok support with the request ID."
    )
    retryable: bool = False
    possibly_applied: bool = False
    _keywords: ClassVar[tuple[str, ...]] = ()
    """The keyword-only arguments of a subclass's constructor, kept as attributes."""

    def __init__(
        self, message: str = "", code: int | None = None, request_id: str | None = None
    ) -> None:
        self.message = message
        self.code = code
        self.request_id = request_id
        super().__init__(message)

    def __str__(self) -> str:
        text = f"{self.title}: {self.message}" if self.message else self.title
        text = text.rstrip()
        if not text.endswith((".", "!", "?")):
            text += "."
        text = f"{text} {self.hint}"
        reference = []
        if self.code is not None:
            reference.append(f"code {self.code}")
        if self.request_id:
            reference.append(f"request_id {self.request_id}")
        if reference:
            text += f" ({', '.join(reference)})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code!r}, "
            f"request_id={self.request_id!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception pickles only ``args``; rebuild from the constructor's arguments instead.
        extra = {name: getattr(self, name) for name in self._keywords}
        return (partial(type(self), **extra), (self.message, self.code, self.request_id))


class TokenError(TikTokError):
    """The access token is missing, revoked or does not match the account.

    Two subclasses tell the Accounts API's token states apart: :class:`AccessTokenExpired`
    (renew it) and :class:`RefreshTokenError` (reconnect).
    """

    title = "The connection to this TikTok ad account no longer works"
    hint = (
        "Reconnect the account: its access token is missing, was revoked, or the advertiser "
        "removed the app's authorization."
    )


class AccessTokenExpired(TokenError):
    """A TikTok account's access token has passed its 24 hours (Accounts API tokens only).

    Not a broken connection: renew the token with the refresh token, then send the request
    again. Marketing API (advertiser) tokens do not expire.
    """

    title = "The TikTok account's access token has expired"
    hint = (
        "Renew it with the account's refresh token and send the request again; reconnect the "
        "account only if renewing fails."
    )


class RefreshTokenError(TokenError):
    """A TikTok account's refresh token expired, was replaced by a newer one, or was revoked."""

    title = "The authorization of this TikTok account has ended"
    hint = (
        "Reconnect the TikTok account: its refresh token has expired (one year after the "
        "account was first connected), was replaced by a newer one, or was revoked."
    )


class AuthCodeError(TikTokError):
    """The authorization code is bad, used or expired, or the app credentials do not match."""

    title = "TikTok did not accept the authorization"
    hint = (
        "Start the connection again: an authorization code works once and for one hour, and "
        "the app ID and secret must belong to the same TikTok app."
    )


class AppUnavailable(TikTokError):
    """TikTok reports the developer app (its app ID) as blocked or not existing (code 40113).

    Not the account's fault and not a bad authorization code: every call made with this app
    fails the same way until the app ID and secret are corrected or TikTok unblocks the app.
    """

    title = "TikTok reports this app (the TIKTOK_CLIENT_KEY app) as blocked or non-existent"
    hint = (
        "Check the app ID (TIKTOK_CLIENT_KEY) and its secret in the settings, and the app's "
        "status in the TikTok developer portal (My Apps); nothing can be connected or synced "
        "until it is fixed."
    )


class PermissionDenied(TikTokError):
    """This connection lacks a permission: a scope the account holder did not grant, or
    comment management the account's owner did not give.

    advertiser/info's ``role`` (ROLE_ADVERTISER, ROLE_AGENT, ...) is the account's type, not
    this permission: TikTok shows the permission only by refusing a call.
    """

    title = "TikTok does not allow this action for this account"
    hint = (
        "TikTok refused this connection permission to reply to or hide comments on this "
        "account: ask the account's owner to give you comment management permission in TikTok "
        "(Business Center or Ads Manager), or reconnect the account granting the Ad Comments "
        "permission (for a TikTok account: the comment permissions)."
    )


class InvalidRequest(TikTokError):
    """A parameter was rejected, by TikTok or locally before sending."""

    title = "The request is not valid"
    hint = "Correct the request and try again; the message says what was wrong."


class RateLimited(TikTokError):
    """TikTok throttled the app or the advertiser."""

    title = "TikTok is limiting how fast this app may send requests"
    hint = "Wait a little and try again; the limit is per second, per minute and per day."
    retryable = True


class ServerError(TikTokError):
    """TikTok reported a failure on its side (system error, internal timeout, maintenance)."""

    title = "TikTok had a temporary problem"
    hint = "Try again in a few minutes."
    retryable = True
    possibly_applied = True


class PartialSuccess(TikTokError):
    """TikTok carried out part of a batch request (code 20001)."""

    title = "TikTok carried out only part of the request"
    hint = "Refresh to see which items changed, then try the rest again."


class TransportError(TikTokError):
    """No API answer: connection failure, timeout, an HTTP error status or an HTML page.

    ``status`` is the HTTP status when one was received. ``retryable`` and
    ``possibly_applied`` are set per instance: a refused connection is retryable and certainly
    not applied; a read timeout is retryable but may have been applied; an HTTP 404 (wrong
    address) is neither.
    """

    title = "Could not get an answer from TikTok"
    hint = "Check the network connection and try again."
    retryable = True
    possibly_applied = True
    _keywords = ("status", "retryable", "possibly_applied")

    def __init__(self, message: str = "", code: int | None = None,
                 request_id: str | None = None, *, status: int | None = None,
                 retryable: bool = True, possibly_applied: bool = True) -> None:
        super().__init__(message, code, request_id)
        self.status = status
        self.retryable = retryable
        self.possibly_applied = possibly_applied


class MalformedResponse(TikTokError):
    """An answer arrived but is not a readable API envelope."""

    title = "TikTok's answer could not be read"
    hint = "Try again; if it keeps happening, TikTok or a proxy in between is misbehaving."
    retryable = True
    possibly_applied = True


class OutcomeUnknown(TikTokError):
    """A write was sent and no usable answer came back: it may or may not have taken effect.

    ``cause`` is the underlying error. Check the current state on TikTok (for example list
    the comment's replies) before sending the write again.
    """

    title = "It is not known whether TikTok carried out the change"
    hint = "Check the current state on TikTok before trying again, so nothing happens twice."
    possibly_applied = True
    _keywords = ("cause",)

    def __init__(self, message: str = "", code: int | None = None,
                 request_id: str | None = None, *, cause: TikTokError | None = None) -> None:
        super().__init__(message, code, request_id)
        self.cause = cause

    @classmethod
    def from_cause(cls, cause: TikTokError, action: str) -> OutcomeUnknown:
        """Wrap ``cause``, the error met after ``action`` (e.g. "POST comment/post/") was sent."""
        detail = cause.message or cause.title
        if detail.startswith(f"{action} "):
            detail = f"it {detail[len(action) + 1 :]}"
        return cls(
            f"{action} was sent but no usable answer came back: {detail}",
            cause.code,
            cause.request_id,
            cause=cause,
        )


# ---------------------------------------------------------------------------------------------
# The codes

Source = Literal["SDK", "OAS", "DOCCOPY", "ENDPOINTS", "PYTIKTOK", "NOTES", "NOTES2", "LIVE2"]

SOURCES: Mapping[Source, str] = MappingProxyType({
    "SDK": "TikTok's official Business API SDK, tiktok/tiktok-business-api-sdk, "
           "python_sdk/business_api_client/tiktok_business/tiktok_code.py",
    "OAS": "api-evangelist/tiktok-ads errors/tiktok-ads-error-codes.yml, a copy of TikTok's "
           "error code page (business-api.tiktok.com/portal/docs?id=1737172488964097)",
    "DOCCOPY": "a public copy of TikTok's Ad Comments v1.3 documentation pages",
    "ENDPOINTS": "a capture of TikTok's list of available v1.3 endpoints and permissions",
    "PYTIKTOK": "sns-sdks/python-tiktok v0.1.12 (pytiktok)",
    "NOTES": "integrators' notes from the live API (not authoritative)",
    "NOTES2": "integrators' notes verified against the live API on 2026-08-06",
    "LIVE2": "an integration module that probed the live ad comment endpoints",
})
"""The sources a row of :data:`ERROR_CODES` can rest on."""


@dataclass(frozen=True)
class ErrorCode:
    """One row of :data:`ERROR_CODES`: a TikTok code (or the codes ``code`` to ``through``,
    both included), what it means, the class it raises and the sources that say so."""

    code: int
    name: str | None
    """The official SDK's name (its ``ERROR_CODE_`` constant without the prefix), or None
    when the SDK has none; for a range, None (the SDK names each code of it)."""
    meaning: str
    kind: type[TikTokError]
    sources: tuple[Source, ...]
    through: int | None = None
    """The last code of a range row; None for a single code."""
    doubt: str = ""
    """Why the class is uncertain, when the sources do not settle it; empty when they do."""

    @property
    def codes(self) -> range:
        """Every code the row covers."""
        return range(self.code, (self.through or self.code) + 1)


_SDK_OAS: tuple[Source, ...] = ("SDK", "OAS")

ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode(20001, "PARTIAL_OK", "partially successful", PartialSuccess, _SDK_OAS),
    # The request
    ErrorCode(40000, "INVALID_PARAMS", "the parameters provided are invalid", InvalidRequest,
              _SDK_OAS),
    ErrorCode(40002, "PARAM_ERROR", "parameter error; the message says which", InvalidRequest,
              _SDK_OAS),
    ErrorCode(40007, "NOT_EXIST", "the operation or object does not exist", InvalidRequest,
              _SDK_OAS),
    ErrorCode(40011, "ID_LIMIT_EXCEED", "too many IDs in one request", InvalidRequest, _SDK_OAS),
    ErrorCode(40108, "INVALID_GRANT_TYPE", "invalid grant_type for a token call", InvalidRequest,
              _SDK_OAS),
    ErrorCode(40300, "ADVERTISER_NOT_EXIST", "the advertiser does not exist or has been deleted "
              "(an incorrect advertiser_id)", InvalidRequest, _SDK_OAS),
    ErrorCode(40301, "ADVERTISER_ROLE_ERROR", "the advertiser cannot be matched (an incorrect "
              "advertiser_id)", InvalidRequest, _SDK_OAS,
              doubt="the SDK's name speaks of a role; OAS gives an incorrect advertiser_id as "
                    "the cause, so it is not treated as a permission refusal"),
    # Permissions
    ErrorCode(40001, "PERMISSION_ERROR", "no permission to perform the operation",
              PermissionDenied, _SDK_OAS),
    ErrorCode(40003, "FORBIDDEN", "forbidden", PermissionDenied, ("SDK",),
              doubt="only the SDK's name; OAS does not document it"),
    ErrorCode(40125, "DEVELOPER_NO_PERMISSION", "the developer lacks the permission (missing "
              "permission or unsupported fields)", PermissionDenied, _SDK_OAS),
    ErrorCode(40130, "SCOPE_NOT_AUTHORIZED", "the scope is not authorized (also asking "
              "business/get for a field the grant does not cover)", PermissionDenied,
              ("SDK", "NOTES2")),
    # Access and refresh tokens
    ErrorCode(40102, "ACCESS_TOKEN_EXPIRE", "the access token has expired (a TikTok account's "
              "24-hour token)", AccessTokenExpired, _SDK_OAS),
    ErrorCode(40103, "REFRESH_TOKEN_EXPIRE", "the refresh token has expired", RefreshTokenError,
              _SDK_OAS),
    ErrorCode(40104, "EMPTY_ACCESS_TOKEN", "the access token is empty", TokenError, _SDK_OAS),
    ErrorCode(40105, "INVALID_ACCESS_TOKEN", "invalid or incorrect access token (revoked or "
              "de-authorized)", TokenError, _SDK_OAS),
    ErrorCode(40106, "INVALID_CORE_USER", "the core user is invalid: the token is not for this "
              "advertiser_id", TokenError, _SDK_OAS),
    ErrorCode(40107, "INVALID_REFRESH_TOKEN", "invalid or incorrect refresh token (also when "
              "refreshing a Marketing API token)", RefreshTokenError, _SDK_OAS),
    # Authorization codes and app credentials
    ErrorCode(40101, "INVALID_PARTNER", "invalid authentication values: app ID and secret do not "
              "match, or a bad authorization code", AuthCodeError, _SDK_OAS),
    ErrorCode(40110, "AUTH_CODE_ERROR", "invalid authorization code (cancelled, used or "
              "expired)", AuthCodeError, _SDK_OAS),
    ErrorCode(40115, "AUTH_TIMESTAMP_EXPIRE", "the authentication timestamp has expired (the "
              "authorization code is invalid)", AuthCodeError, _SDK_OAS),
    ErrorCode(40131, "SCOPE_TT_USER_OAUTH_FAILED", "a TikTok account's authorization failed "
              "(seen as \"Authorization code is expired\")", AuthCodeError, ("SDK", "NOTES")),
    ErrorCode(40113, "APP_FORBIDDEN", "the app has been blocked or does not exist (wrong app ID "
              "or secret); seen on business/comment/list", AppUnavailable,
              ("SDK", "OAS", "NOTES2")),
    # Throttling
    ErrorCode(40016, "BIZ_FC_ERROR", "requests made too frequently (the endpoint's app-level "
              "limit)", RateLimited, _SDK_OAS),
    ErrorCode(40100, "REQUEST_TOO_FREQUENT", "requests made too frequently (the app's QPS, QPM "
              "or QPD limit)", RateLimited, _SDK_OAS),
    ErrorCode(40132, "REQUEST_FREQUENCY_LIMITED", "requests made too frequently for one field "
              "value", RateLimited, _SDK_OAS),
    ErrorCode(40133, None, "requests made too frequently for one advertiser (its QPS limit on "
              "the path)", RateLimited, ("OAS",)),
    ErrorCode(61000, "TOO_MANY_REQUESTS_BL", "too many requests", RateLimited, ("SDK",),
              doubt="only the SDK's name; OAS does not document it"),
    # TikTok's side
    ErrorCode(50000, "SYS_ERROR", "system error", ServerError, _SDK_OAS),
    ErrorCode(50002, "SYS_TIMEOUT", "error processing the request on TikTok's side",
              ServerError, _SDK_OAS),
    ErrorCode(51000, None, "an internal service failed (RPC_ERROR 51000 to "
              "STATISTICS_NEW_ERROR 51099)", ServerError, _SDK_OAS, through=51099,
              doubt="retrying rests on OAS's \"5xxxx: service error\", not on a per-code rule"),
    ErrorCode(51010, "INTERNAL_TIME_OUT", "internal timeout; seen on comment/list (sorting by "
              "likes over a long window, and Upgraded Smart+ ads)", ServerError,
              ("SDK", "NOTES", "LIVE2")),
    ErrorCode(51305, None, "satellite service error", ServerError, ("OAS",),
              doubt="absent from the SDK, whose SATELLITE_ERROR is 51035: perhaps a typo"),
    ErrorCode(52000, None, "a storage service failed (DB_ERROR 52000 to TOS_PUT_OBJECT 52204)",
              ServerError, _SDK_OAS, through=52999,
              doubt="retrying rests on OAS's \"5xxxx: service error\", not on a per-code rule"),
    ErrorCode(53102, "DESERIALIZATION_ERROR", "deserialization error", ServerError, _SDK_OAS,
              doubt="retrying rests on OAS's \"5xxxx: service error\", not on a per-code rule"),
    ErrorCode(53103, "SERIALIZATION_ERROR", "serialization error", ServerError, _SDK_OAS,
              doubt="retrying rests on OAS's \"5xxxx: service error\", not on a per-code rule"),
    ErrorCode(60001, "MAINTENANCE", "the system is in maintenance", ServerError, _SDK_OAS),
)
"""Every TikTok code the client knows: one row per code or range, the only place codes are
assigned to classes. Codes not in it raise :class:`TikTokError` itself."""


def _index(rows: Iterable[ErrorCode]) -> Mapping[int, ErrorCode]:
    """Each code's row; a single-code row inside a range wins. Duplicate single codes and
    overlapping ranges are refused, so the table cannot say two things about a code."""
    ranges = sorted((row for row in rows if row.through is not None), key=lambda r: r.code)
    singles = [row for row in rows if row.through is None]
    index: dict[int, ErrorCode] = {}
    for row in ranges:
        if not row.codes:
            raise ValueError(f"the range row {row.code} ends before it starts")
        if any(code in index for code in row.codes):
            raise ValueError(f"the range row {row.code} overlaps another range")
        index.update(dict.fromkeys(row.codes, row))
    seen: set[int] = set()
    for row in singles:
        if row.code in seen:
            raise ValueError(f"code {row.code} has two rows")
        seen.add(row.code)
        index[row.code] = row
    return MappingProxyType(index)


_BY_CODE = _index(ERROR_CODES)

CODE_CLASSES: Mapping[int, type[TikTokError]] = MappingProxyType(
    {code: row.kind for code, row in sorted(_BY_CODE.items())}
)
"""TikTok error code -> error class, for every code the client knows (ranges spelled out)."""


def lookup_code(code: int | None) -> ErrorCode | None:
    """The row of :data:`ERROR_CODES` that covers ``code``, or None for a code not in it."""
    return _BY_CODE.get(code) if code is not None else None


def error_for(code: int | None, message: str, request_id: str | None = None) -> TikTokError:
    """The error for a non-zero ``code``; codes the client does not know get the base class."""
    row = lookup_code(code)
    cls = row.kind if row is not None else TikTokError
    return cls(message, code, request_id)
