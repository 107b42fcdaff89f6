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
    ) -> None:
        if not (qps > 0 and qpm > 0) or math.isinf(qps) or math.isinf(qpm):
            raise ValueError(f"qps and qpm must be positive and finite, got {qps!r}, {qpm!r}")
        if not 0 <= margin < 1:
            raise ValueError(f"margin is a fraction of a second, got {margin!r}")
        # A request reaches TikTok a little after it is let through, and not always equally
        # late; widening both windows by `margin` keeps that jitter from tripping the limit.
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
        """Make every acquirer wait at least until ``seconds`` from now (e.g. after code 40100)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _wait_at(self, now: float) -> float:
        """Seconds to wait before a send at ``now`` keeps both windows; <= 0 means send now."""
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
