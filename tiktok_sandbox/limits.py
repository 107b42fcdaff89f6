"""Per-app rate limits and request statistics."""

from __future__ import annotations

import collections
import threading
from typing import Any


class RateLimiter:
    """Sliding windows over the app's admitted requests: ``qps`` in any 1 s, ``qpm`` in any 60 s.

    Refused requests do not count against the windows.
    """

    def __init__(self, qps: int, qpm: int) -> None:
        self.qps = qps
        self.qpm = qpm
        self._admitted: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def admit(self, now: float) -> str | None:
        """Record a request at ``now``; None when admitted, else the refusal message."""
        with self._lock:
            admitted = self._admitted
            while admitted and admitted[0] <= now - 60.0:
                admitted.popleft()
            if len(admitted) >= self.qpm:
                return (f"Rate limit exceeded: app QPM limit of {self.qpm} requests per "
                        "minute reached. Please retry later.")
            last_second = 0
            for moment in reversed(admitted):
                if moment <= now - 1.0:
                    break
                last_second += 1
            if last_second >= self.qps:
                return (f"Rate limit exceeded: app QPS limit of {self.qps} requests per "
                        "second reached. Please retry later.")
            admitted.append(now)
            return None


class RequestStats:
    """Counts of API requests: total, per path, per response code, throttled, faults."""

    FAULT_LOG_SIZE = 1000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_path: collections.Counter[str] = collections.Counter()
        self._by_code: collections.Counter[str] = collections.Counter()
        self._throttled = 0
        self._faults: collections.Counter[str] = collections.Counter()
        self._fault_log: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=self.FAULT_LOG_SIZE
        )

    def request(self, path: str) -> int:
        """Count one request and return its sequence number (1-based)."""
        with self._lock:
            self._total += 1
            self._by_path[path] += 1
            return self._total

    def answered(self, code: int) -> None:
        with self._lock:
            self._by_code[str(code)] += 1

    def throttled(self) -> None:
        with self._lock:
            self._throttled += 1

    def fault(self, sequence: int, method: str, path: str, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1
            self._fault_log.append(
                {"request": sequence, "method": method, "path": path, "kind": kind}
            )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "by_path": dict(self._by_path),
                "by_code": dict(self._by_code),
                "throttled": self._throttled,
                "faults": dict(self._faults),
                "fault_log": list(self._fault_log),
            }
