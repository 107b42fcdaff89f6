"""How a failed HTTP exchange becomes a :class:`~tiktok_client.errors.TransportError`: whether
the request certainly never reached TikTok (so a write may be sent again), whether trying again
may help, and a message free of query strings and secrets."""

from __future__ import annotations

import re

import requests
import urllib3.exceptions

from .errors import TikTokError, TransportError

__all__ = ["certainly_not_sent", "redact", "transport_error", "unreachable"]

_NOT_SENT_REQUEST_ERRORS = (
    requests.exceptions.ConnectTimeout,
    requests.exceptions.URLRequired,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidJSONError,
)
_NOT_SENT_CAUSES = (
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    ConnectionRefusedError,
)
_RETRYABLE_REQUEST_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_QUERY_STRING = re.compile(r"\?[^\s'\")]+")


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def unreachable(err: TikTokError) -> bool:
    """True when no connection could be made at all (no HTTP status, nothing sent)."""
    return isinstance(err, TransportError) and err.status is None and not err.possibly_applied


def certainly_not_sent(exc: BaseException) -> bool:
    """True when the request never reached the server (refused, DNS failure, connect timeout)."""
    if isinstance(exc, _NOT_SENT_REQUEST_ERRORS):
        return True
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _NOT_SENT_CAUSES):
            return True
        linked = [*current.args, getattr(current, "reason", None)]
        linked += [current.__cause__, current.__context__]
        pending.extend(e for e in linked if isinstance(e, BaseException))
    return False


def transport_error(
    exc: requests.exceptions.RequestException, action: str, secrets: tuple[str, ...]
) -> TransportError:
    """A TransportError for a failed HTTP exchange, its text free of query strings and secrets."""
    not_sent = certainly_not_sent(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        what = "timed out connecting"
    elif isinstance(exc, requests.exceptions.Timeout):
        what = "timed out waiting for the answer"
    elif not_sent:
        what = "could not connect"
    else:
        what = "lost the connection"
    detail = redact(_QUERY_STRING.sub("?…", str(exc)), secrets)[:300]
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return TransportError(
        f"{action} {what} ({reason})",
        retryable=isinstance(exc, _RETRYABLE_REQUEST_ERRORS),
        possibly_applied=not not_sent,
    )
