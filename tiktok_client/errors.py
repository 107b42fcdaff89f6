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
"""

from __future__ import annotations

from functools import partial
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "AccessTokenExpired",
    "AuthCodeError",
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
]


class TikTokError(Exception):
    """A request to TikTok failed. Subclasses say why; unknown codes raise this class itself."""

    title: ClassVar[str] = "TikTok returned an error"
    hint: ClassVar[str] = (
        "Try again later; if it keeps happening, contact TikTok support with the request ID."
    )
    codes: ClassVar[frozenset[int]] = frozenset()
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
    codes = frozenset({40104, 40105, 40106})


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
    codes = frozenset({40102})


class RefreshTokenError(TokenError):
    """A TikTok account's refresh token expired, was replaced by a newer one, or was revoked."""

    title = "The authorization of this TikTok account has ended"
    hint = (
        "Reconnect the TikTok account: its refresh token has expired (one year after the "
        "account was first connected), was replaced by a newer one, or was revoked."
    )
    codes = frozenset({40103, 40107})


class AuthCodeError(TikTokError):
    """The authorization code is bad, used or expired, or the app credentials do not match."""

    title = "TikTok did not accept the authorization"
    hint = (
        "Start the connection again: an authorization code works once and for one hour, and "
        "the app ID and secret must belong to the same TikTok app."
    )
    codes = frozenset({40101, 40110, 40113, 40131})


class PermissionDenied(TikTokError):
    """The app or the user lacks a permission (scope or ad account role)."""

    title = "TikTok does not allow this action for this account"
    hint = (
        "Ask an admin of the ad account for the Admin or Operator role (the Analyst role "
        "cannot reply to or hide comments), or reconnect the account and grant the Ad "
        "Comments permission (for a TikTok account: the comment permissions)."
    )
    codes = frozenset({40001, 40125, 40130})


class InvalidRequest(TikTokError):
    """A parameter was rejected, by TikTok or locally before sending."""

    title = "The request is not valid"
    hint = "Correct the request and try again; the message says what was wrong."
    codes = frozenset({40000, 40002, 40007, 40011, 40108})


class RateLimited(TikTokError):
    """TikTok throttled the app or the advertiser."""

    title = "TikTok is limiting how fast this app may send requests"
    hint = "Wait a little and try again; the limit is per second, per minute and per day."
    codes = frozenset({40100, 40133, 40016, 61000})
    retryable = True


class ServerError(TikTokError):
    """TikTok reported a failure on its side (system error, internal timeout, maintenance)."""

    title = "TikTok had a temporary problem"
    hint = "Try again in a few minutes."
    codes = frozenset({50000, 50002, 51010, 60001})
    retryable = True
    possibly_applied = True


class PartialSuccess(TikTokError):
    """TikTok carried out part of a batch request (code 20001)."""

    title = "TikTok carried out only part of the request"
    hint = "Refresh to see which items changed, then try the rest again."
    codes = frozenset({20001})


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


_CODED_CLASSES: tuple[type[TikTokError], ...] = (
    TokenError,
    AccessTokenExpired,
    RefreshTokenError,
    AuthCodeError,
    PermissionDenied,
    InvalidRequest,
    RateLimited,
    ServerError,
    PartialSuccess,
)

CODE_CLASSES = MappingProxyType({code: cls for cls in _CODED_CLASSES for code in sorted(cls.codes)})
"""TikTok error code -> error class, for the codes the client knows."""


def error_for(code: int | None, message: str, request_id: str | None = None) -> TikTokError:
    """The error for a non-zero ``code``; codes the client does not know get the base class."""
    cls = CODE_CLASSES.get(code, TikTokError) if code is not None else TikTokError
    return cls(message, code, request_id)
