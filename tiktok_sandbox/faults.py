"""Deterministic fault injection.

Whether a request meets a fault, and which, is decided from a hash of (seed, method, path,
the request's parameters without volatile ones such as tokens and one-time codes, and how
many times this same request has been seen). The same sequence of requests therefore
meets the same faults whatever the thread interleaving, and a retried request is decided
afresh each time; after ``MAX_CONSECUTIVE`` faults in a row the same request succeeds.

Kinds, chosen with equal odds among those allowed for the endpoint:

- ``http_5xx``: HTTP 502 or 503 with an HTML body. Nothing is processed.
- ``throttled``: envelope 40100, as if the app's rate limit were hit. Nothing is processed.
- ``internal_timeout``: envelope 51010 "internal timeout". Nothing is processed.
- ``stall``: processed at once (a write is applied), but the answer is held back for
  ``stall_seconds``, longer than a client's timeout.
- ``truncated``: processed, then the JSON answer is cut short; either with the
  Content-Length of the full body and the connection closed, or with a Content-Length
  that matches the cut (so the client sees invalid JSON).
- ``applied_dropped`` (writes only): the change is applied, then the connection is closed
  without any answer.

Single-use calls (code exchange, token revoke) only meet the kinds that process nothing,
so that retrying them can succeed.

Chosen failures (:class:`ScriptedFaults`, set with ``SandboxHandle.fail_next``): the next
``times`` requests to one endpoint are answered with a TikTok code and message of the test's
choosing, in TikTok's envelope (HTTP 200, ``code``, ``message``, ``request_id``, ``data``
``{}``), whatever the fault rate. By default nothing is processed; ``applied=True`` carries
the request out first (a write is applied) and then answers the code, as a service error
after the change would. A request that meets one meets no random fault and no rate limit,
so the next ``times`` requests to the endpoint are exactly the ones that fail.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import threading

HTTP_5XX = "http_5xx"
THROTTLED = "throttled"
INTERNAL_TIMEOUT = "internal_timeout"
STALL = "stall"
TRUNCATED = "truncated"
APPLIED_DROPPED = "applied_dropped"
SCRIPTED = "scripted"  # a failure a test chose (ScriptedFaults), as counted in the stats

UNPROCESSED_KINDS = (HTTP_5XX, THROTTLED, INTERNAL_TIMEOUT)
READ_KINDS = (*UNPROCESSED_KINDS, STALL, TRUNCATED)
WRITE_KINDS = (*READ_KINDS, APPLIED_DROPPED)

MAX_CONSECUTIVE = 3


@dataclasses.dataclass(frozen=True)
class Fault:
    kind: str
    variant: int  # 0..255, picks e.g. 502 or 503, or how a body is cut

    @property
    def processes_request(self) -> bool:
        return self.kind not in UNPROCESSED_KINDS


class FaultInjector:
    """Decides per request whether to inject a fault; thread-safe."""

    def __init__(self, seed: int, rate: float) -> None:
        self.seed = seed
        self.rate = rate
        self._lock = threading.Lock()
        self._seen: dict[bytes, int] = {}
        self._streak: dict[bytes, int] = {}

    def decide(self, method: str, path: str, canonical_params: str,
               kinds: tuple[str, ...]) -> Fault | None:
        if self.rate <= 0.0 or not kinds:
            return None
        key = hashlib.sha256(f"{method} {path} {canonical_params}".encode()).digest()
        with self._lock:
            occurrence = self._seen.get(key, 0) + 1
            self._seen[key] = occurrence
            streak = self._streak.get(key, 0)
            digest = hashlib.sha256(
                self.seed.to_bytes(16, "big", signed=True) + key + occurrence.to_bytes(8, "big")
            ).digest()
            draw = int.from_bytes(digest[:8], "big") / 2**64
            if streak >= MAX_CONSECUTIVE or draw >= self.rate:
                self._streak[key] = 0
                return None
            self._streak[key] = streak + 1
        kind = kinds[int.from_bytes(digest[8:12], "big") % len(kinds)]
        return Fault(kind, digest[12])


@dataclasses.dataclass(frozen=True)
class ScriptedFailure:
    """An answer a test chose: TikTok's ``code`` and ``message``; ``applied``: the request is
    carried out before the code is answered."""

    code: int
    message: str
    applied: bool = False


class ScriptedFaults:
    """The failures tests queued per endpoint (``comment/post/``); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, collections.deque[ScriptedFailure]] = {}

    def add(self, endpoint: str, failure: ScriptedFailure, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with ``failure`` (after those
        queued before)."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if failure.code == 0:
            raise ValueError("code 0 is TikTok's success, not a failure")
        with self._lock:
            self._queued.setdefault(endpoint, collections.deque()).extend([failure] * times)

    def take(self, endpoint: str) -> ScriptedFailure | None:
        """The failure this request to ``endpoint`` meets, if one is queued (used up)."""
        with self._lock:
            queued = self._queued.get(endpoint)
            if not queued:
                return None
            failure = queued.popleft()
            if not queued:
                del self._queued[endpoint]
            return failure

    def pending(self, endpoint: str | None = None) -> int:
        """How many queued failures are left (for ``endpoint``, or for all)."""
        with self._lock:
            if endpoint is not None:
                return len(self._queued.get(endpoint, ()))
            return sum(len(queued) for queued in self._queued.values())
