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
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading

HTTP_5XX = "http_5xx"
THROTTLED = "throttled"
INTERNAL_TIMEOUT = "internal_timeout"
STALL = "stall"
TRUNCATED = "truncated"
APPLIED_DROPPED = "applied_dropped"

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
