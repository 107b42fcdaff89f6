"""Marketing API limits no source settles, and what TikTok's refusals say about them.

- ad/get/ and smart_plus/ad/get/ ``page_size``: starts at 1000 (the top of the documented
  range); a 40000/40002 naming ``page_size`` steps it down (``AD_PAGE_SIZE``,
  ``SMART_PLUS_AD_PAGE_SIZE``).
- comment/list/ date span: starts at the caller's; a 40000/40002 naming ``start_time`` or
  ``end_time`` and saying how long steps it down (``COMMENT_WINDOW_DAYS``).
- comment/post/ ``text``: starts at 1,200 characters; a 40000/40002 naming ``text`` and
  speaking of its length steps it down (``AD_REPLY_LENGTH``).

The keys are those of :mod:`tiktok_client.learned`. Each limit steps down a ladder (or straight
to the limit TikTok's message states) and only ever goes down.

1,200 characters is TikTok's documented limit for comments through the Accounts API
(changelog 2026-08-07); no source gives one for replies to ad comments, so it is only the
starting point.

Upgraded Smart+ ads are not listed by ad/get/ and comment/list/ may refuse their ad groups:
:func:`comments_refused` recognises that refusal.
"""

from __future__ import annotations

import re
from typing import Any

from .checks import check_text
from .errors import InvalidRequest, TikTokError
from .learned import (
    AD_REPLY_LENGTH,
    COMMENT_WINDOW_DAYS,
    REJECTION_CODES,
    Learned,
    rejects,
    stated_limit,
    step_down,
)

__all__ = [
    "AD_PAGE_SIZES",
    "AD_REPLY_LENGTHS",
    "COMMENT_WINDOW_SPANS",
    "MAX_REPLY_LENGTH",
    "ReplyTooLong",
    "check_reply_text",
    "comments_refused",
    "next_comment_window",
    "reply_rejection",
]

MAX_REPLY_LENGTH = 1200
"""The longest reply to an ad comment the client sends until TikTok says otherwise (the
Accounts API's documented comment limit; see :meth:`TikTokClient.ad_reply_limit`)."""
AD_PAGE_SIZES = (1000, 500, 200, 100, 50, 20, 10)
"""Page sizes tried for ad/get/ and smart_plus/ad/get/ after a refusal, largest first."""
COMMENT_WINDOW_SPANS = (90, 60, 30, 14, 7, 3, 1)
"""Spans (days) tried for comment/list/ after a refusal, longest first."""
AD_REPLY_LENGTHS = (MAX_REPLY_LENGTH, 500, 150)
"""Reply limits assumed after a refusal that states none, longest first."""

_SPAN_WORDS = re.compile(
    r"\b(?:range|span|interval|period|window|days?|exceed\w*|too\s+(?:long|large|wide))\b",
    re.IGNORECASE)
_TIME_RANGE = re.compile(r"\b(?:time|date)\s+(?:range|span|interval|period|window)\b",
                         re.IGNORECASE)
_LENGTH_WORDS = re.compile(
    r"\b(?:length|long|characters?|chars?|exceed\w*|too\s+many|max(?:imum)?|limit)\b",
    re.IGNORECASE)
_SMART_PLUS = re.compile(r"smart\s*(?:\+|plus\b)|smart_plus", re.IGNORECASE)
_NOT_SUPPORTED = re.compile(r"not\s+(?:be\s+)?support|unsupported", re.IGNORECASE)


class ReplyTooLong(InvalidRequest):
    """A reply to an ad comment is longer than TikTok accepts; it was not posted.

    ``limit`` is the most characters TikTok accepts (as far as the client knows), ``length``
    the reply's. Raised before sending when the reply is over the known limit (``code`` None),
    and when TikTok refused the text as too long (``code`` and ``request_id`` TikTok's; the
    limit is then learned, so later replies are checked against it before sending).
    """

    title = "The reply is too long"
    hint = "Shorten it and send it again."

    def __init__(self, message: str = "", code: int | None = None,
                 request_id: str | None = None, *, limit: int,
                 length: int | None = None) -> None:
        if not message:
            message = _too_long(limit, length)
        super().__init__(message, code, request_id)
        self.limit = limit
        self.length = length

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_reply_too_long,
                (self.message, self.code, self.request_id, self.limit, self.length))


def _rebuild_reply_too_long(message: str, code: int | None, request_id: str | None,
                            limit: int, length: int | None) -> ReplyTooLong:
    return ReplyTooLong(message, code, request_id, limit=limit, length=length)


def _too_long(limit: int, length: int | None) -> str:
    has = f"; this reply has {length}" if length is not None else ""
    return (f"TikTok accepts at most {limit} characters for replies to ad comments{has}, "
            "so the reply was not posted")


def check_reply_text(text: str, limit: int = MAX_REPLY_LENGTH) -> None:
    """Refuse reply text before it is sent: empty or blank (InvalidRequest), or longer than
    ``limit`` characters (:class:`ReplyTooLong`). Pass ``client.ad_reply_limit()`` as
    ``limit``: the default is only the starting value."""
    if isinstance(text, str) and text.strip() and len(text) > limit:
        raise ReplyTooLong(limit=limit, length=len(text))
    check_text(text, "reply", limit)


def reply_rejection(learned: Learned, error: TikTokError, text: str) -> ReplyTooLong | None:
    """The :class:`ReplyTooLong` to raise when comment/post/ answered ``error`` to ``text``,
    or None when the error is about something else.

    A rejection of ``text`` (or ``content``) that speaks of its length teaches the limit: the
    one the message states when it is below the text's length, else the next rung of
    :data:`AD_REPLY_LENGTHS` below it. The limit is kept in ``learned`` (it only goes down).
    A rejection that says nothing of length ("text: Missing data for required field.") and a
    text no rung is below teach nothing."""
    if not (rejects(error, "text") or rejects(error, "content")):
        return None
    message = error.message or ""
    if stated_limit(message) is None and not _LENGTH_WORDS.search(message):
        return None
    limit = step_down(len(text), AD_REPLY_LENGTHS, message)
    if limit is None:
        return None
    learned.lower(AD_REPLY_LENGTH, limit)
    return ReplyTooLong(_too_long(limit, len(text)), error.code, error.request_id,
                        limit=limit, length=len(text))


def next_comment_window(learned: Learned, error: BaseException, days: int) -> int | None:
    """The span (days) to ask comment/list/ for after it answered ``error`` to a span of
    ``days``, or None when the error is not about the span or no shorter span is left.

    The span counts as refused when TikTok's 40000/40002 names ``start_time`` or ``end_time``
    (or a "time range") and speaks of a span or states a limit ("The time span between
    start_time and end_time must not exceed 30 days."); a malformed date ("start_time: Not a
    valid date.") is not a refused span. The next span is the limit the message states, else
    the next rung of :data:`COMMENT_WINDOW_SPANS` below ``days``, or the span learned already
    when that is shorter still; it is kept in ``learned`` under ``COMMENT_WINDOW_DAYS`` (it
    only goes down)."""
    if not isinstance(error, TikTokError) or not _span_refused(error):
        return None
    shorter = step_down(days, COMMENT_WINDOW_SPANS, error.message)
    known = learned.get_limit(COMMENT_WINDOW_DAYS, days)
    if known < days:  # learned meanwhile (another ad group, another client of the app)
        shorter = known if shorter is None else min(shorter, known)
    if shorter is not None:
        learned.lower(COMMENT_WINDOW_DAYS, shorter)
    return shorter


def _span_refused(error: TikTokError) -> bool:
    if error.code not in REJECTION_CODES:
        return False
    message = error.message or ""
    names = (rejects(error, "start_time") or rejects(error, "end_time")
             or _TIME_RANGE.search(message) is not None)
    return names and (stated_limit(message) is not None or _SPAN_WORDS.search(message) is not None)


def comments_refused(error: BaseException) -> bool:
    """True when TikTok refused to list comments of an ad group because it holds Upgraded
    Smart+ ads: an error from TikTok whose message speaks of Smart+ (or Smart Plus) and of
    something not supported, as the 40002 "This API does not support Upgraded Smart Plus ads"
    an integrator met on comment/task/create/.

    The same integrator saw comment/list/ answer 51010 (internal timeout) for such ad groups.
    That code also means a passing timeout, so it is not recognised here: a 51010 that
    persists after retries on an ad group :meth:`TikTokClient.iter_smart_plus_ads` lists
    counts as refused too, and the caller decides when it persists."""
    if not isinstance(error, TikTokError) or error.code is None:
        return False
    message = error.message or ""
    return bool(_SMART_PLUS.search(message) and _NOT_SUPPORTED.search(message))
