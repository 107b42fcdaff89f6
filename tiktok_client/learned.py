"""What the client learns about TikTok at run time: limits and request shapes no source settles.

No source gives ad/get's largest page, comment/list's longest date span or the longest reply
to an ad comment, and sources disagree on whether business/comment/like/ needs ``video_id``.
The client starts from the most efficient value and steps down only when TikTok itself
rejects a value (40000/40002 naming the parameter); what it learns is kept in one
:class:`Learned` shared by every client of one developer app and handed to ``on_change`` so
that the app can remember it across restarts. A value TikTok rejected is never sent again,
and a ladder ends: when its smallest value is rejected the error reaches the caller.

Keys (``KEYS``) name an endpoint and what was learned about it; values are plain JSON values.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import InvalidRequest, TikTokError

__all__ = [
    "AD_PAGE_SIZE",
    "AD_REPLY_LENGTH",
    "COMMENT_WINDOW_DAYS",
    "KEYS",
    "Learned",
    "rejects",
    "step_down",
    "stated_limit",
]

AD_PAGE_SIZE = "ad/get.page_size"
"""The largest ``page_size`` ad/get/ accepted (start: 1000, widely used; no source)."""
COMMENT_WINDOW_DAYS = "comment/list.window_days"
"""The longest ``start_time``..``end_time`` span, in days, comment/list/ accepted."""
AD_REPLY_LENGTH = "comment/post.text_length"
"""The longest reply text comment/post/ accepts (learned from a rejection; no source)."""
VIDEO_ID_PREFIX = "video_id."
"""``video_id.<endpoint>``: True once that Accounts API endpoint asked for ``video_id``."""

KEYS = (AD_PAGE_SIZE, COMMENT_WINDOW_DAYS, AD_REPLY_LENGTH)

OnChange = Callable[[str, Any], None]

# "must not exceed 30 days", "between 1 and 1000", "at most 500", "<= 100", "max 150"
_LIMIT = re.compile(
    r"(?:exceed|between\s+\d+\s+and|at\s+most|no\s+more\s+than|not\s+more\s+than|"
    r"up\s+to|max(?:imum)?(?:\s+is|\s+of)?|less\s+than\s+or\s+equal\s+to|<=|\[\s*\d+\s*,)"
    r"\s*(\d{1,7})",
    re.IGNORECASE,
)


class Learned:
    """Thread-safe values learned at run time, shared by every client of one app."""

    def __init__(self, known: Mapping[str, Any] | None = None,
                 on_change: OnChange | None = None) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Any] = dict(known or {})
        self._on_change = on_change

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(key, default)

    def learn(self, key: str, value: Any) -> bool:
        """Remember ``value`` for ``key``; True (and ``on_change`` called) when it is new."""
        with self._lock:
            if key in self._values and self._values[key] == value:
                return False
            self._values[key] = value
        if self._on_change is not None:
            self._on_change(key, value)
        return True

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def __repr__(self) -> str:
        return f"Learned({self.snapshot()!r})"


def rejects(error: TikTokError, parameter: str) -> bool:
    """True when ``error`` is TikTok refusing the value of ``parameter`` (40000/40002 with a
    message that names it), as opposed to any other failure."""
    return (isinstance(error, InvalidRequest) and error.code in (40000, 40002)
            and parameter.lower() in (error.message or "").lower())


def stated_limit(message: str) -> int | None:
    """The largest value an out-of-range message allows, when it states one."""
    found = [int(m.group(1)) for m in _LIMIT.finditer(message or "")]
    return min(found) if found else None


def step_down(refused: int, ladder: Sequence[int], message: str = "") -> int | None:
    """The value to try after TikTok refused ``refused``: the limit the message states when it
    is smaller, else the next smaller rung of ``ladder``; None when nothing smaller is left."""
    limit = stated_limit(message)
    if limit is not None and 0 < limit < refused:
        return limit
    smaller = [value for value in ladder if value < refused]
    return max(smaller) if smaller else None
