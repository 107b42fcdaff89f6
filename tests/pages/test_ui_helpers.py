"""desk.ui's plain helpers: escaping, periods, sandbox settings, error messages."""

from __future__ import annotations

from datetime import date

import pytest

from desk import demo, scheduler, text
from desk.connect.state import StateExpired
from desk.errors import NotConnected, SyncAborted
from desk.ui import context, filters
from tiktok_client.errors import AuthCodeError, PermissionDenied, RateLimited, TokenError


@pytest.mark.parametrize("raw, escaped", [
    ("[click](javascript:alert(1))", r"\[click\](javascript\:alert(1))"),
    ("<img src=x onerror=alert(1)>", r"\<img src=x onerror=alert(1)\>"),
    ("**bold** _it_ `code`", r"\*\*bold\*\* \_it\_ \`code\`"),
    (":red[text] :smile: $x$", r"\:red\[text\] \:smile\: \$x\$"),
    ("# heading\n- item", r"\# heading \- item"),
    ("www.example.com &amp;", r"www\.example\.com \&amp;"),
    (None, ""),
])
def test_md_escape_makes_text_inert(raw, escaped):
    assert text.md_escape(raw) == escaped


def test_chart_labels_are_html_escaped():
    assert text.chart_label('<b onclick="x">Ad</b>') == (
        "&lt;b onclick=&quot;x&quot;&gt;Ad&lt;/b&gt;")


@pytest.mark.parametrize("period, dates, expected", [
    ("All time", None, (None, None)),
    ("Last 7 days", None, (date(2025, 3, 4), date(2025, 3, 10))),
    ("Last 30 days", None, (date(2025, 2, 9), date(2025, 3, 10))),
    ("Custom range", (date(2025, 1, 5), date(2025, 1, 1)), (date(2025, 1, 1), date(2025, 1, 5))),
    ("Custom range", (date(2025, 1, 5),), (date(2025, 1, 5), date(2025, 1, 5))),
])
def test_period_ranges(period, dates, expected):
    assert filters.period_range(period, dates, date(2025, 3, 10)) == expected


def test_sandbox_options_come_from_the_environment():
    # the demo shows Smart+ ads and reserved ones
    assert demo.sandbox_options({}) == (("reservation_adgroups", 2), ("smart_plus_ads", 2))
    assert demo.sandbox_options({"DESK_SANDBOX_COMMENTS": "500", "DESK_SANDBOX_QPS": "50",
                                 "DESK_SANDBOX_SMART_PLUS_ADS": "0"}) == (
        ("comments", 500), ("qps", 50), ("reservation_adgroups", 2), ("smart_plus_ads", 0))
    with pytest.raises(ValueError, match="DESK_SANDBOX_ADS must be a number"):
        demo.sandbox_options({"DESK_SANDBOX_ADS": "lots"})


@pytest.mark.parametrize("error, words", [
    (SyncAborted(TokenError("revoked", 40105)), "reconnect the account on the Home page"),
    (PermissionDenied("No permission to operate.", 40001), "comment management permission"),
    (RateLimited("slow down", 40100), "wait a minute"),
    (AuthCodeError("bad code", 40110), "click Connect to start again"),
    (NotConnected("No connected account grants it. Connect it on the Home page first."),
     "Home page"),
    (StateExpired(), "10 minutes"),
    (scheduler.SyncBusy(), "already running"),
])
def test_every_error_has_a_next_step(error, words):
    assert words in context.error_message(error)
