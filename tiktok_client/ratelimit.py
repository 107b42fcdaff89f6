"""A thread-safe limiter for TikTok's per-app request quotas.

TikTok counts requests per developer app, in tiers (queries per second / per minute):

========  ===  ====
tier      QPS  QPM
========  ===  ====
Basic      10   600   (the default for new apps)
Advanced   20  1200
Premium    30  1800
Ultimate   50  3000
========  ===  ====

There are no rate-limit headers: throttling shows up only as code 40100 in the body. So the app
keeps its own count with one :class:`RateLimiter`, shared by every thread that talks to TikTok.

TikTok's limits are sliding windows of one second and one minute, and a refused request is
simply not carried out. So a 40100 (:meth:`RateLimiter.throttled`) costs the app a short pause
of about two request intervals (enough for TikTok's second window to slide past the crowded
moment), doubled while 40100s keep coming, never more than a second; and it widens the
limiter's margin one step, so that a host whose requests reach TikTok unevenly (a busy CPU)
stops crowding TikTok's window. Every 10 s without one takes a step back: a wider margin costs
budget too (20 ms is 2% of it), about as much in 15 s as one 40100 does.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from types import MappingProxyType

__all__ = ["TIERS", "RateLimiter"]

TIERS = MappingProxyType(
    {
        "basic": (10, 600),
        "advanced": (20, 1200),
        "premium": (30, 1800),
        "ultimate": (50, 3000),
    }
)
"""TikTok's rate-limit tiers: name -> (queries per second, queries per minute)."""

_SECOND = 1.0
_MINUTE = 60.0

MARGIN_STEP = 0.02
"""Seconds a 40100 widens the limiter's windows by (up to ``MARGIN_CAP``)."""
MARGIN_CAP = 0.1
"""The widest margin throttling leads to: 91% of the budget still used."""
EASE_AFTER = 10.0
"""Seconds without a 40100 after which the margin steps back (one step per such period)."""
PAUSE_FLOOR = 0.1
PAUSE_CAP = 1.0
"""A 40100 pauses the app ``max(PAUSE_FLOOR, 2 / qps)`` seconds when paced (``burst`` 1),
doubled for each step the margin is already widened, at most ``PAUSE_CAP``."""


class RateLimiter:
    """Sliding-window limiter: at most ``qps`` sends in any 1 s and ``qpm`` in any 60 s.

    Limits are whole numbers of requests per window; fractional values round down, with a
    minimum of one. ``burst`` is how many sends may go out back to back: by default ``qps``
    (a whole second's quota at once, then the window slides); with 1 the sends are paced one
    every ``1/qps`` s, which keeps the whole budget busy while never crowding TikTok's
    window. ``clock`` must be monotonic; ``clock`` and ``sleep`` are injectable so that
    tests control time.

    An ``urgent`` acquirer (a reply or a hide a person or a rule asked for) goes before every
    other that is waiting, so a big sync never starves a write.

    ``margin`` widens both windows (a request reaches TikTok a little after it is let through,
    and not always equally late). After a 40100 (:meth:`throttled`) it adapts: one
    ``margin_step`` wider per 40100, at most ``margin_cap``, one step back for every
    ``ease_after`` seconds without one, never below ``margin``.
    """

    POLL = 0.01
    """Seconds a waiting non-urgent acquirer sleeps at most while an urgent one waits."""

    def __init__(
        self,
        qps: float = 10,
        qpm: float = 600,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = 0.0,
        burst: int | None = None,
        margin_step: float = MARGIN_STEP,
        margin_cap: float = MARGIN_CAP,
        ease_after: float = EASE_AFTER,
    ) -> None:
        if not (qps > 0 and qpm > 0) or math.isinf(qps) or math.isinf(qpm):
            raise ValueError(f"qps and qpm must be positive and finite, got {qps!r}, {qpm!r}")
        if not 0 <= margin < 1:
            raise ValueError(f"margin is a fraction of a second, got {margin!r}")
        if not (margin_step >= 0 and 0 <= margin_cap < 1 and ease_after > 0):
            raise ValueError("margin_step must be >= 0, margin_cap a fraction of a second and "
                             "ease_after positive")
        # A request reaches TikTok a little after it is let through, and not always equally
        # late; widening both windows by the margin keeps that jitter from tripping the limit.
        self._base_margin = margin
        self._margin_step = margin_step
        self._top_level = (0 if margin_step == 0 or margin_cap <= margin
                           else math.ceil(round((margin_cap - margin) / margin_step, 9)))
        self._margin_cap = max(margin, margin_cap)
        self._ease_after = ease_after
        self._level = 0  # margin steps a 40100 added and no quiet period has taken back yet
        self._level_since = -math.inf  # when the level last moved
        self._widened_at = -math.inf  # sends before this met the narrower margin
        self._second = _SECOND + margin
        self._minute = _MINUTE + margin
        self._per_second = max(1, int(qps))
        self._per_minute = max(1, int(qpm))
        if burst is not None and burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self._burst = min(burst or self._per_second, self._per_second)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._paused_until = -math.inf
        self._urgent_waiting = 0

    @classmethod
    def for_tier(cls, tier: str, **kwargs) -> RateLimiter:
        """A limiter for a named tier: basic, advanced, premium or ultimate."""
        try:
            qps, qpm = TIERS[tier.lower()]
        except KeyError:
            raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}") from None
        return cls(qps, qpm, **kwargs)

    qps = property(lambda self: self._per_second, doc="Requests allowed in any one second.")
    qpm = property(lambda self: self._per_minute, doc="Requests allowed in any one minute.")

    burst = property(lambda self: self._burst, doc="Sends that may go out back to back.")

    @property
    def margin(self) -> float:
        """Seconds both windows are widened by now (the base margin plus what 40100s added)."""
        with self._lock:
            self._ease(self._clock())
            return self._second - _SECOND

    @property
    def throttle_pause(self) -> float:
        """Seconds the next 40100 would pause the app for, were the margin not widened:
        about two send intervals (``burst / qps`` each: 2/qps for a paced limiter, a whole
        second for one that sends a second's quota at once)."""
        return min(PAUSE_CAP, max(PAUSE_FLOOR, 2 * self._burst / self._per_second))

    def acquire(self, urgent: bool = False) -> float:
        """Block until a request may be sent now; record it and return the clock time of
        sending. ``urgent`` ones go before every other waiting acquirer."""
        if urgent:
            with self._lock:
                self._urgent_waiting += 1
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    wait = self._wait_at(now)
                    if not urgent and self._urgent_waiting:
                        wait = max(wait, self.POLL)  # leave the next slot to the urgent one
                    if wait <= 0:
                        self._sent.append(now)
                        return now
                self._sleep(wait)
        finally:
            if urgent:
                with self._lock:
                    self._urgent_waiting -= 1

    def pause(self, seconds: float) -> None:
        """Make every acquirer wait at least until ``seconds`` from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def throttled(self, sent_at: float | None = None) -> float:
        """TikTok answered 40100 (too many requests) to the request sent at ``sent_at`` (what
        :meth:`acquire` returned; None: now). Pause every acquirer briefly and widen the
        margin one step; returns the pause in seconds.

        A request sent before the last widening (or at its moment) met the narrower margin:
        its 40100 belongs to the same crowded moment, so it pauses (at the current length) but
        widens nothing.
        """
        with self._lock:
            now = self._clock()
            self._ease(now)
            sent = now if sent_at is None else sent_at
            if sent > self._widened_at and self._level < self._top_level:
                self._level += 1
                self._level_since = self._widened_at = now
                self._set_margin()
            elif sent > self._widened_at:  # at the cap: still evidence, keep it there
                self._level_since = self._widened_at = now
            pause = min(PAUSE_CAP, self.throttle_pause * 2 ** max(0, self._level - 1))
            self._paused_until = max(self._paused_until, now + pause)
            return pause

    def _ease(self, now: float) -> None:
        """Take back one margin step for every quiet ``ease_after`` seconds (lock held)."""
        if self._level and now - self._level_since >= self._ease_after:
            steps = int((now - self._level_since) // self._ease_after)
            taken = min(steps, self._level)
            self._level -= taken
            self._level_since += taken * self._ease_after
            self._set_margin()

    def _set_margin(self) -> None:
        margin = min(self._margin_cap, self._base_margin + self._level * self._margin_step)
        self._second = _SECOND + margin
        self._minute = _MINUTE + margin

    def _wait_at(self, now: float) -> float:
        """Seconds to wait before a send at ``now`` keeps both windows; <= 0 means send now."""
        self._ease(now)
        sent = self._sent
        while sent and now - sent[0] >= self._minute:
            sent.popleft()
        wait = self._paused_until - now
        if len(sent) >= self._per_second:
            wait = max(wait, sent[-self._per_second] + self._second - now)
        if self._burst < self._per_second and len(sent) >= self._burst:
            # at most `burst` sends in any `burst` shares of a second: paced
            span = self._second * self._burst / self._per_second
            wait = max(wait, sent[-self._burst] + span - now)
        if len(sent) >= self._per_minute:
            wait = max(wait, sent[-self._per_minute] + self._minute - now)
        return wait

    def __repr__(self) -> str:
        return (f"RateLimiter(qps={self._per_second}, qpm={self._per_minute}, "
                f"burst={self._burst})")
