"""What the client learns about TikTok at run time: limits and request shapes no source settles.

No source gives comment/list's longest date span or the longest reply to an ad comment, only a
copy of the docs gives ad/get's largest page, and sources disagree on whether
business/comment/like/ needs ``video_id``. The client starts from the most efficient value and
steps down only when TikTok itself rejects a value (40000/40002 naming the parameter); what it
learns is kept in one :class:`Learned` shared by every client of one developer app and handed
to ``on_change`` so that the app can remember it across restarts. A value TikTok rejected is
never sent again, and a ladder ends: when its smallest value is rejected the error reaches the
caller.

Keys (``KEYS``) name an endpoint and what was learned about it; values are plain JSON values.

The helpers read TikTok's answers:

- :func:`rejects` tells a rejection of one parameter from any other failure;
- :func:`stated_limit` reads the limit an out-of-range message states
  ("page_size: Must be between 1 and 1000." -> 1000);
- :func:`step_down` picks the value to try next.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import TikTokError

__all__ = [
    "AD_PAGE_SIZE",
    "AD_REPLY_LENGTH",
    "COMMENT_WINDOW_DAYS",
    "KEYS",
    "REJECTION_CODES",
    "SMART_PLUS_AD_PAGE_SIZE",
    "Learned",
    "rejects",
    "step_down",
    "stated_limit",
]

AD_PAGE_SIZE = "ad/get.page_size"
"""The largest ``page_size`` ad/get/ accepted (start: 1000, the documented range's top)."""
SMART_PLUS_AD_PAGE_SIZE = "smart_plus/ad/get.page_size"
"""The largest ``page_size`` smart_plus/ad/get/ accepted (start: 1000, as for ad/get/)."""
COMMENT_WINDOW_DAYS = "comment/list.window_days"
"""The longest ``start_time``..``end_time`` span, in days, comment/list/ is asked for."""
AD_REPLY_LENGTH = "comment/post.text_length"
"""The longest reply text comment/post/ accepts (learned from a rejection; no source)."""
VIDEO_ID_PREFIX = "video_id."
"""``video_id.<endpoint>``: True once that Accounts API endpoint asked for ``video_id``."""

KEYS = (AD_PAGE_SIZE, SMART_PLUS_AD_PAGE_SIZE, COMMENT_WINDOW_DAYS, AD_REPLY_LENGTH)

REJECTION_CODES = frozenset({40000, 40002})
"""TikTok's codes for a parameter it refused: invalid parameters (40000), parameter error
(40002, the message names the parameter)."""

OnChange = Callable[[str, Any], None]

# A number as TikTok writes it: "1000" or "1,000".
_NUM = r"(\d{1,3}(?:,\d{3})+|\d{1,7})(?![\d,]*\d)"
# Each pattern captures the largest value allowed; the int is added to it ("less than 31" -> 30).
_LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    # "between 1 and 1000"
    (re.compile(rf"between\s+{_NUM}\s+and\s+{_NUM}", re.IGNORECASE), 0),
    # "in the range [1, 100]", "range: 1-1000", "within 1~30"
    (re.compile(rf"(?:range|within|from)\s*(?:of|is|:)?\s*[\[(]?\s*{_NUM}\s*(?:-|~|to|,)\s*{_NUM}",
                re.IGNORECASE), 0),
    # "[1, 1000]", "(0, 100]"
    (re.compile(rf"[\[(]\s*{_NUM}\s*,\s*{_NUM}\s*\]"), 0),
    # "less than 31" (but not "less than or equal to")
    (re.compile(rf"less\s+than\s+(?!or\b){_NUM}", re.IGNORECASE), -1),
    # "must not exceed 30 days", "at most 500", "max 150", "maximum length is 150", "<= 100",
    # "no more than 1,200", "up to 1200", "cannot be longer than 150"
    (re.compile(
        r"(?:exceed(?:s|ed|ing)?|at\s+most|(?:no|not)\s+more\s+than|up\s+to|max(?:imum)?\b|"
        r"limit(?:ed)?\b|less\s+than\s+or\s+equal\s+to|<=|≤|"
        r"(?:no|not|cannot\s+be|can't\s+be)\s+(?:longer|greater|larger|more)\s+than)"
        rf"[^\d.;]{{0,24}}?{_NUM}",
        re.IGNORECASE), 0),
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

    def get_limit(self, key: str, default: int) -> int:
        """The limit learned for ``key`` when it is a whole number of at least 1, else
        ``default`` (a value stored by an older version, or damaged, is ignored)."""
        value = self.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        return default

    def learn(self, key: str, value: Any) -> bool:
        """Remember ``value`` for ``key``; True (and ``on_change`` called) when it is new."""
        with self._lock:
            if key in self._values and self._values[key] == value:
                return False
            self._values[key] = value
        self._changed(key, value)
        return True

    def lower(self, key: str, value: int) -> bool:
        """Remember the limit ``value`` for ``key`` unless a smaller one is known already;
        True (and ``on_change`` called) when it changed. Limits learned from rejections only
        ever go down, whichever of several threads learns first."""
        with self._lock:
            known = self._values.get(key)
            if (isinstance(known, int) and not isinstance(known, bool) and 1 <= known <= value):
                return False
            self._values[key] = value
        self._changed(key, value)
        return True

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def _changed(self, key: str, value: Any) -> None:
        if self._on_change is not None:
            self._on_change(key, value)

    def __repr__(self) -> str:
        return f"Learned({self.snapshot()!r})"


def rejects(error: BaseException, parameter: str) -> bool:
    """True when ``error`` is TikTok refusing the value of ``parameter``: code 40000 or 40002
    with a message that names it as a word ("page_size: Must be between 1 and 1000."), as
    opposed to any other failure. ``page`` is not named by a message about ``page_size``,
    nor ``text`` by one about ``ad_text``."""
    if not isinstance(error, TikTokError) or error.code not in REJECTION_CODES:
        return False
    name = rf"(?<![A-Za-z0-9_]){re.escape(parameter)}(?![A-Za-z0-9_])"
    return re.search(name, error.message or "", re.IGNORECASE) is not None


def stated_limit(message: str | None) -> int | None:
    """The largest value an out-of-range message allows, when it states one (the smallest if
    it states several): "page_size: Must be between 1 and 1000." -> 1000, "must not exceed
    30 days" -> 30, "less than 31" -> 30; None for "Not a valid date"."""
    found = []
    for pattern, offset in _LIMITS:
        for match in pattern.finditer(message or ""):
            value = int(match.groups()[-1].replace(",", "")) + offset
            if value >= 1:
                found.append(value)
    return min(found) if found else None


def step_down(refused: int, ladder: Sequence[int], message: str | None = "") -> int | None:
    """The value to try after TikTok refused ``refused``: the limit the message states when it
    is smaller, else the next smaller rung of ``ladder``; None when nothing smaller is left.

    The result is always smaller than ``refused``, so repeated step-downs end."""
    limit = stated_limit(message)
    if limit is not None and 0 < limit < refused:
        return limit
    smaller = [value for value in ladder if 0 < value < refused]
    return max(smaller) if smaller else None
