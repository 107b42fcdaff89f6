"""What the live state of the ad world (``state.py``) and of the business accounts
(``accounts.py``) have in common: comments that keep arriving on the sandbox clock, replies
kept in time order under their comment, and single-use authorization codes."""

from __future__ import annotations

import bisect
import dataclasses
import math
import operator
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from .data import BaseComment, Popular, cumulative_popularity, weighted_pick
from .errors import INVALID_AUTH_CODE, ApiError

CODE_LIFETIME_SECONDS = 3600
# Share of arriving comments that answer a recent comment rather than start a thread.
USER_REPLY_SHARE = 0.15

by_time = operator.attrgetter("sort_key")
"""Sort key of a comment: (create time, comment ID)."""

P = TypeVar("P", bound=Popular)


class Arrivals(Generic[P]):
    """Comments arriving at ``rate`` per minute: arrival k is due at start + k * 60 / rate
    seconds, at most ``limit`` of them in all. Each goes to one of ``pool`` (an ad or a
    video) picked by popularity, and with odds of ``USER_REPLY_SHARE`` answers a recent
    comment there; the draws come from ``rng``."""

    def __init__(self, start_ts: int, rate: float, limit: int, pool: Sequence[P],
                 rng: random.Random) -> None:
        self._start_ts = start_ts
        self._rate = rate
        self._limit = limit
        self._pool = pool
        self._weights = cumulative_popularity(pool)
        self._rng = rng
        self._arrived = 0

    def catch_up(self, now: float, arrive: Callable[[int, P, bool], None]) -> int:
        """Have ``arrive`` create, in order, each arrival due by ``now`` and not created yet:
        it gets the arrival's time, where it goes and whether it is a reply. Returns how
        many there were."""
        if self._rate <= 0 or not self._pool:
            return 0
        elapsed = now - self._start_ts
        due = min(self._limit, max(0, math.floor(elapsed * self._rate / 60)))
        added = 0
        while self._arrived < due:
            self._arrived += 1
            target = weighted_pick(self._rng, self._pool, self._weights)
            arrive(self._start_ts + int(self._arrived * 60 / self._rate), target,
                   self._rng.random() < USER_REPLY_SHARE)
            added += 1
        return added


C = TypeVar("C", bound=BaseComment)
T = TypeVar("T")


class Replies(Generic[C]):
    """The replies to each comment, in time order. Adding or removing one keeps the
    comment's ``replies`` count."""

    def __init__(self, replies: Iterable[tuple[str, C]]) -> None:
        """``replies``: (parent comment ID, reply) pairs, whose counts are already set."""
        self._lists: dict[str, list[C]] = {}
        for parent_id, reply in replies:
            self._lists.setdefault(parent_id, []).append(reply)
        for listing in self._lists.values():
            listing.sort(key=by_time)

    def of(self, parent_id: str) -> list[C]:
        """The replies to ``parent_id``, oldest first (not to be changed)."""
        return self._lists.get(parent_id, [])

    def add(self, parent: C, reply: C) -> None:
        parent.replies += 1
        bisect.insort(self._lists.setdefault(parent.comment_id, []), reply, key=by_time)

    def remove(self, parent_id: str, reply: C, parent: C | None) -> None:
        """Take ``reply`` out from under ``parent_id``; ``parent`` is that comment if it is
        still there."""
        siblings = self._lists.get(parent_id, [])
        if reply in siblings:
            siblings.remove(reply)
        if parent is not None:
            parent.replies = max(0, parent.replies - 1)

    def pop_all(self, parent_id: str) -> list[C]:
        """Forget the replies to ``parent_id`` and return them."""
        return self._lists.pop(parent_id, [])


@dataclasses.dataclass
class _Issued(Generic[T]):
    grants: T
    issued_ts: float
    used: bool = False


class AuthCodes(Generic[T]):
    """Single-use authorization codes, each good for an hour, each standing for what it
    grants. ``expired`` is the code and message to answer an expired one with."""

    def __init__(self, expired: tuple[int, str]) -> None:
        self._issued: dict[str, _Issued[T]] = {}
        self._expired = expired

    def issue(self, code: str, grants: T, now: float) -> str:
        self._issued[code] = _Issued(grants, now)
        return code

    def redeem(self, code: str, now: float, check: Callable[[T], None] | None = None) -> T:
        """What ``code`` grants, using it up: 40110 when it is unknown or used, ``expired``
        once its hour is over. ``check`` may refuse it first, which leaves it usable."""
        entry = self._issued.get(code)
        if entry is None or entry.used:
            raise ApiError(INVALID_AUTH_CODE, "Invalid auth_code: it does not exist or has "
                                              "already been used.")
        if now - entry.issued_ts >= CODE_LIFETIME_SECONDS:
            raise ApiError(*self._expired)
        if check is not None:
            check(entry.grants)
        entry.used = True
        return entry.grants
