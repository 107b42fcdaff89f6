"""Settings of one sandbox server, and a clock that tests can move by hand."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Literal

LOOPBACK_HOST = "127.0.0.1"
ACCEPTED_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclasses.dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox needs; the defaults suit the app's demo mode.

    - ``host``/``port``: always 127.0.0.1 (``localhost`` is accepted as a name for it); port
      0 picks a free port.
    - ``seed``: everything generated, and every injected fault, follows from it.
    - ``advertisers``, ``ads``, ``comments``: size of the world. The ads are split evenly
      over the advertisers; each advertiser gets ceil(its ads / 2) ad groups and
      ceil(its ad groups / 4) campaigns (see ``data.py``). ``comments`` is the exact number
      of comment rows at start, replies included, spread over the last ``history_days``.
    - ``new_comments_per_minute``: comments that keep arriving while the sandbox runs, at
      most ``max_live_comments`` in all.
    - ``latency_ms``: delay before every API answer.
    - ``qps``, ``qpm``: the app's rate limits (sliding windows of 1 s and 60 s).
    - ``fault_rate``: share of API requests that meet a fault (see ``faults.py``);
      ``stall_seconds`` is how long a stalled answer is held back.
    - ``ad_page_size_max``: the largest ``page_size`` ad/get/ and smart_plus/ad/get/ take:
      1000 by default, the 1-1,000 that ``bububa/tiktok-business`` (a Go SDK quoting the
      documentation, ``model/ad/get.go`` and ``model/ad/smartplus/get.go``) gives for both;
      the official SDK gives no maximum. ``comment_window_days``: how many days
      comment/list's ``end_time`` may be after its ``start_time`` (30 accepts
      2025-01-01..2025-01-31); ``ad_reply_max_length``: the longest ``text`` comment/post
      takes. No source gives these two: None (their default) sets none. None for any of the
      three sets no limit, and values beyond a set one are answered with 40002.
    - Blocked words (see ``blocked_words.py``): ``blocked_word_max_length`` is the longest
      word (characters, after trimming) and ``blocked_words_per_call`` the most words one
      blockedword/create, delete, check or task/create call takes; beyond either the call is
      refused with 40002 naming ``blocked_words`` and the limit. No source gives them: 30
      and 100 (the size of TikTok's other ID lists) are the sandbox's choice.
      ``blocked_word_page_size_max`` is blockedword/list's largest ``page_size`` (500, per
      TikTok's OpenAPI). ``blocked_words_hide_existing``: whether a word added hides the
      comments already there that contain it (True) or only comments created afterwards
      (False, the default; no source says). ``blocked_word_export_running_checks``: how many
      blockedword/task/check calls answer RUNNING before SUCCEED.
    - ``reference_reply_user_info``: comment/reference sends ``reply_user_info`` as one
      object (``"object"``, as TikTok's documentation shows it) or as a list of one
      (``"list"``; the OpenAPI capture's notation could be read so).
    - ``smart_plus_ads``: Upgraded Smart+ ads (see ``smart_plus.py``), each in its own ad
      group with its own comments; smart_plus/ad/get/ lists them, ad/get/ does not.
      ``smart_plus_refusal`` is how comment/list answers for their ad groups, on every try:
      ``"40002"`` "This API does not support Upgraded Smart Plus ads", or ``"51010"``
      internal timeout.
    - ``comment_spread``: how comments are spread over the ads: ``"zipf"`` (a few popular
      ads draw most, as on TikTok) or ``"even"`` (about equally: every ad group busy).
    - ``reservation_adgroups``: how many of each advertiser's ad groups (its first ones) were
      reserved rather than bought in the auction, alternately Reach & Frequency
      (``RESERVATION_RF``) and TopView (``RESERVATION_TOP_VIEW``). ad/get lists TopView ads
      only when ``filtering.buying_types`` is ``["RESERVATION_TOP_VIEW"]``, and
      comment/status/update changes comments on reserved ads only with ``ad_type`` BRAND.
    - Reporting (``report/integrated/get/``, see ``reporting_api.py`` and ``delivery.py``):
      ``report_daily_span_days`` is the most days (both ends counted) one request with the
      ``stat_time_day`` dimension covers: 30 by default, as TikTok's documentation says
      (``bububa/tiktok-business`` ``model/report/integrated_get.go``; 365 days without it);
      ``report_page_size_max`` the largest ``page_size`` (1000, SDK ReportingApi.md); None for
      either sets no limit, and beyond a set one the request is refused with 40002 stating it.
      ``report_unavailable_metrics``: metrics refused as TikTok refuses a metric an account
      cannot have (40002 "... Invalid metric fields: ['likes']."; none by default).
    - ``app_id``, ``secret``, ``app_name``: the one registered app.
    - ``redirect_uris``: allowed OAuth redirect URIs; None allows any loopback http(s) URL.
    - ``clock``: epoch seconds; defaults to ``time.time``. Pass a ``ManualClock`` to move
      time by hand (code and token expiry, rate limits, arriving comments).

    TikTok accounts (the Accounts API, see ``accounts.py`` and ``organic.py``):

    - ``business_accounts``: TikTok business accounts. Account i belongs to advertiser i
      (its brand TT_USER identity) while there are advertisers; the rest stand alone.
    - ``videos_per_account``: videos of each account; an account also has a video for each
      Spark Ad its advertiser runs with the account's identity, so it may have more.
    - ``organic_comments``: organic comment rows at start, replies included, over all the
      accounts' videos.
    - ``new_organic_comments_per_minute``: organic comments that keep arriving, at most
      ``max_live_comments`` in all.
    - ``account_redirect_uris``: allowed account-holder redirect URIs; None allows any
      loopback http(s) URL.
    - ``account_granted_scopes``: the scopes an account holder grants of those asked for (on
      the consent screen, and by ``issue_account_token`` without ``scopes``); None grants
      every scope asked for. business/get/ answers 40130 for a field they do not cover.
    - ``account_video_id_endpoints``: comment writes that answer 40002 "video_id: Missing
      data for required field." without ``video_id`` although TikTok's documentation leaves
      it out (e.g. ``("business/comment/like/",)``); hide and pin always need it.
    - ``organic_text_limit``: the longest text business/comment/create/ and
      business/comment/reply/create/ take (TikTok's changelog of 2026-08-07: 1,200).
    """

    host: str = LOOPBACK_HOST
    port: int = 0
    seed: int = 7
    advertisers: int = 3
    ads: int = 30
    comments: int = 6000
    history_days: int = 120
    new_comments_per_minute: float = 3.0
    max_live_comments: int = 100_000
    latency_ms: float = 0.0
    qps: int = 10
    qpm: int = 600
    fault_rate: float = 0.0
    stall_seconds: float = 12.0
    ad_page_size_max: int | None = 1000
    comment_window_days: int | None = None
    ad_reply_max_length: int | None = None
    blocked_word_max_length: int = 30
    blocked_words_per_call: int = 100
    blocked_word_page_size_max: int = 500
    blocked_words_hide_existing: bool = False  # True: a new word hides existing comments too
    blocked_word_export_running_checks: int = 1
    reference_reply_user_info: Literal["object", "list"] = "object"
    smart_plus_ads: int = 0
    smart_plus_refusal: Literal["40002", "51010"] = "40002"
    reservation_adgroups: int = 0
    comment_spread: Literal["zipf", "even"] = "zipf"
    report_daily_span_days: int | None = 30
    report_page_size_max: int | None = 1000
    report_unavailable_metrics: tuple[str, ...] = ()
    app_id: str = "sandbox-app"
    secret: str = "sandbox-secret"  # noqa: S105 (the sandbox's public demo secret)
    app_name: str = "Comment Desk"
    redirect_uris: tuple[str, ...] | None = None
    clock: Callable[[], float] | None = None
    business_accounts: int = 3
    videos_per_account: int = 12
    organic_comments: int = 1500
    new_organic_comments_per_minute: float = 1.0
    account_redirect_uris: tuple[str, ...] | None = None
    account_granted_scopes: tuple[str, ...] | None = None
    account_video_id_endpoints: tuple[str, ...] = ()
    organic_text_limit: int = 1200

    def __post_init__(self) -> None:
        if self.host not in ACCEPTED_HOSTS:
            raise ValueError(
                f"the sandbox only listens on loopback ({LOOPBACK_HOST}), not on {self.host!r}"
            )
        for name in ("redirect_uris", "account_redirect_uris", "account_granted_scopes",
                     "account_video_id_endpoints", "report_unavailable_metrics"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        checks = [
            (0 <= self.port <= 65535, "port must be between 0 and 65535"),
            (self.advertisers >= 1, "advertisers must be at least 1"),
            (self.ads >= self.advertisers, "ads must be at least the number of advertisers"),
            (self.comments >= 0, "comments must not be negative"),
            (self.history_days >= 1, "history_days must be at least 1"),
            (self.new_comments_per_minute >= 0, "new_comments_per_minute must not be negative"),
            (self.latency_ms >= 0, "latency_ms must not be negative"),
            (self.qps >= 1 and self.qpm >= 1, "qps and qpm must be at least 1"),
            (0.0 <= self.fault_rate <= 1.0, "fault_rate must be between 0 and 1"),
            (self.stall_seconds >= 0, "stall_seconds must not be negative"),
            (self.ad_page_size_max is None or self.ad_page_size_max >= 1,
             "ad_page_size_max must be at least 1"),
            (self.comment_window_days is None or self.comment_window_days >= 0,
             "comment_window_days must not be negative"),
            (self.ad_reply_max_length is None or self.ad_reply_max_length >= 1,
             "ad_reply_max_length must be at least 1"),
            (self.blocked_word_max_length >= 1 and self.blocked_words_per_call >= 1
             and self.blocked_word_page_size_max >= 1,
             "blocked_word_max_length, blocked_words_per_call and blocked_word_page_size_max "
             "must be at least 1"),
            (self.blocked_word_export_running_checks >= 0,
             "blocked_word_export_running_checks must not be negative"),
            (self.reference_reply_user_info in ("object", "list"),
             "reference_reply_user_info must be 'object' or 'list'"),
            (self.smart_plus_ads >= 0, "smart_plus_ads must not be negative"),
            (self.smart_plus_refusal in ("40002", "51010"),
             "smart_plus_refusal must be '40002' or '51010'"),
            (self.reservation_adgroups >= 0, "reservation_adgroups must not be negative"),
            (self.comment_spread in ("zipf", "even"), "comment_spread must be 'zipf' or 'even'"),
            (self.report_daily_span_days is None or self.report_daily_span_days >= 1,
             "report_daily_span_days must be at least 1"),
            (self.report_page_size_max is None or self.report_page_size_max >= 1,
             "report_page_size_max must be at least 1"),
            (bool(self.app_id) and bool(self.secret), "app_id and secret must not be empty"),
            (self.business_accounts >= 0, "business_accounts must not be negative"),
            (self.videos_per_account >= 1, "videos_per_account must be at least 1"),
            (self.organic_comments >= 0, "organic_comments must not be negative"),
            (self.new_organic_comments_per_minute >= 0,
             "new_organic_comments_per_minute must not be negative"),
            (all(isinstance(s, str) and s for s in self.account_granted_scopes or ()),
             "account_granted_scopes must be scope names"),
            (all(isinstance(e, str) and e.startswith("business/comment/") and e.endswith("/")
                 for e in self.account_video_id_endpoints),
             "account_video_id_endpoints must name business/comment/.../ endpoints"),
            (self.organic_text_limit >= 1, "organic_text_limit must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def bind_host(self) -> str:
        """The address actually bound: always the IPv4 loopback."""
        return LOOPBACK_HOST

    def now(self) -> float:
        """Current time in epoch seconds on the configured clock."""
        return (self.clock or time.time)()


class ManualClock:
    """A clock that only moves when told to: ``SandboxConfig(clock=ManualClock(...))``."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` and return the new time."""
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        with self._lock:
            self._now = float(now)
