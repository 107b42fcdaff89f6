"""Text for people: values as display text, counts, moments, video labels, and escaping.

Comment text and other external text (names, captions, messages) are data. What must appear
inside markdown goes through `md_escape`, inside Plotly's HTML-like labels through
`chart_label`; both make every markup character inert.
"""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+\-.!|~$:&])")


def md_escape(value: Any) -> str:
    """External text made inert for markdown: every ASCII punctuation mark is escaped and
    line breaks become spaces, so links, HTML, emphasis and directives show as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text(value).split()))


def chart_label(value: Any) -> str:
    """External text made inert for Plotly's HTML-like labels and hover text."""
    return html.escape(" ".join(text(value).split()), quote=True)


def text(value: Any) -> str:
    """A value as display text: "" for None, NaN and pandas' missing markers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def plural(count: int, noun: str) -> str:
    """'1 comment', '2,345 comments'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'never', 'just now', '5 min ago', '3 h ago' or a date."""
    if moment is None or moment is pd.NaT:
        return "never"
    now = now or datetime.now(UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def local_time(value: Any) -> str:
    """A stored local wall-clock time as text."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def video_label(caption: Any, video_id: Any, width: int = 48) -> str:
    """A video's caption, shortened, with its ID: for pickers and charts."""
    words = " ".join(text(caption).split())
    if len(words) > width:
        words = words[: width - 1].rstrip() + "…"
    return f"{words or 'Untitled video'} · {video_id}"


def duration(minutes: Any) -> str:
    """A span of minutes as people read it: '45 min', '2 h', '1 h 30 min', '3 d 4 h' ('–' for
    none)."""
    if minutes is None or pd.isna(minutes):
        return "–"
    whole = round(float(minutes))
    days, rest = divmod(whole, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{mins} min" if mins and not days else ""]
    return " ".join(p for p in parts if p) or "0 min"
