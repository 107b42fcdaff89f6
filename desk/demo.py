"""Demo mode: the built-in sandbox's settings and the banner that says the data is made up.

Without TikTok app credentials Comment Desk runs against the sandbox (tiktok_sandbox), started
once per process on loopback. Its size can be set with DESK_SANDBOX_SEED,
DESK_SANDBOX_ADVERTISERS, DESK_SANDBOX_ADS, DESK_SANDBOX_COMMENTS,
DESK_SANDBOX_NEW_COMMENTS_PER_MINUTE, DESK_SANDBOX_QPS, DESK_SANDBOX_QPM,
DESK_SANDBOX_LATENCY_MS and, for its TikTok business accounts, DESK_SANDBOX_BUSINESS_ACCOUNTS,
DESK_SANDBOX_VIDEOS_PER_ACCOUNT, DESK_SANDBOX_ORGANIC_COMMENTS and
DESK_SANDBOX_NEW_ORGANIC_COMMENTS_PER_MINUTE (defaults: the sandbox's own), and
DESK_SANDBOX_SMART_PLUS_ADS: Upgraded Smart+ ads, whose comments TikTok does not provide
(DEMO_DEFAULTS: two, so the demo shows how the app says so), and
DESK_SANDBOX_RESERVATION_ADGROUPS: each advertiser's ad groups bought by reservation (Reach &
Frequency, TopView) rather than in the auction (DEMO_DEFAULTS: two, one of each).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType

DEMO_BANNER = (
    "Demo mode: a built-in sandbox stands in for TikTok, and its data starts afresh each "
    "time the app starts. Set TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET and "
    "TIKTOK_REDIRECT_URI to connect real accounts."
)
_OPTIONS: tuple[tuple[str, type], ...] = (
    ("seed", int), ("advertisers", int), ("ads", int), ("comments", int),
    ("new_comments_per_minute", float), ("qps", int), ("qpm", int), ("latency_ms", float),
    ("business_accounts", int), ("videos_per_account", int), ("organic_comments", int),
    ("new_organic_comments_per_minute", float), ("smart_plus_ads", int),
    ("reservation_adgroups", int),
)
DEMO_DEFAULTS: Mapping[str, float] = MappingProxyType({"smart_plus_ads": 2,
                                                       "reservation_adgroups": 2})
"""The demo's own choices where the sandbox's defaults would hide a feature."""
SANDBOX_SETTINGS = MappingProxyType(
    {f"DESK_SANDBOX_{option.upper()}": (option, kind) for option, kind in _OPTIONS})
"""Environment variable -> (the sandbox's option, its type)."""


def sandbox_options(environ: Mapping[str, str] | None = None) -> tuple[tuple[str, float], ...]:
    """The demo sandbox's settings: DEMO_DEFAULTS, then the DESK_SANDBOX_* variables that
    are set."""
    env = os.environ if environ is None else environ
    chosen = dict(DEMO_DEFAULTS)
    for name, (option, kind) in SANDBOX_SETTINGS.items():
        raw = (env.get(name) or "").strip()
        if not raw:
            continue
        try:
            chosen[option] = kind(raw)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {raw!r}") from None
    return tuple(sorted(chosen.items()))
