"""Each ad's daily delivery in the sandbox: impressions, spend, clicks, plays and likes, in step
with the comments it drew, for ``report/integrated/get/`` (``reporting_api.py``).

Days are days of the advertiser's time zone, as TikTok reports them. An ad delivers every day
from the day it was created: an enabled ad up to today (the sandbox clock's day), a disabled
one up to the day of its last comment in the generated world (it was switched off after).

Delivery follows the comments: on a day an ad drew ``c`` comments (viewers' comments and
replies in the generated world, the brand's own replies left out) it had about
``(c + b) * 1000 / r`` impressions, ``r`` the ad's comments per 1,000 impressions (0.4 to 2)
and ``b`` its quiet-day baseline (0.5 to 2.5 comments' worth), times a day's noise of +-15%.
So a day with more comments has more impressions, and comments per 1,000 impressions stay
plausible. Spend is impressions x the ad's CPM (4 to 12 US dollars, in the account's
currency), clicks, plays and likes are shares of impressions (CTR 0.4-2%, plays 55-90%,
likes 0.2-1.2%), each with its own day noise.

Every number comes from a hash of the seed, the ad and the day, so a day's delivery is the
same whenever and in whatever range it is asked for. Comments that arrive while the sandbox
runs do not change it, and a day's delivery is whole from its first hour (TikTok revises
recent days; the sandbox does not).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import threading
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from .data import ENABLE, REPLY, Ad, Advertiser, Comment

HOUR = 3600
CURRENCY_SCALE = MappingProxyType({
    "USD": 1.0, "EUR": 0.9, "GBP": 0.8, "JPY": 150.0, "BRL": 5.0, "KRW": 1350.0,
    "AED": 3.7,
})
"""What one US dollar of CPM is in each currency the sandbox's advertisers use (about)."""


@dataclasses.dataclass(frozen=True, slots=True)
class DayDelivery:
    """One ad's delivery on one day of its advertiser's time zone."""

    advertiser_id: str
    campaign_id: str
    adgroup_id: str
    ad_id: str
    day: date
    spend: float
    impressions: int
    clicks: int
    video_play_actions: int
    likes: int
    comments: int
    currency: str

    def truth(self) -> dict[str, object]:
        """As the ground truth gives it (``stat_day`` an ISO date)."""
        row = dataclasses.asdict(self)
        row["stat_day"] = row.pop("day").isoformat()
        return row


@dataclasses.dataclass(frozen=True, slots=True)
class _AdTraits:
    """An ad's own rates, drawn once from the seed."""

    per_thousand: float  # comments per 1,000 impressions
    baseline: float  # comments' worth of impressions on a quiet day
    cpm: float  # in the account's currency
    ctr: float
    play_rate: float
    like_rate: float


def uniforms(*parts: object, count: int) -> list[float]:
    """``count`` (at most 8) numbers in [0, 1) that depend only on ``parts``."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8 * count).digest()
    return [int.from_bytes(digest[8 * i:8 * i + 8], "big") / 2**64 for i in range(count)]


class LocalDays:
    """The day of a time zone a moment falls on, with the zone's offset looked up once per
    hour (offsets change on the hour)."""

    def __init__(self, timezone: str) -> None:
        self._zone = ZoneInfo(timezone)
        self._offsets: dict[int, int] = {}

    def day(self, ts: float) -> date:
        hour = int(ts // HOUR)
        offset = self._offsets.get(hour)
        if offset is None:
            moment = datetime.fromtimestamp(hour * HOUR, UTC).astimezone(self._zone)
            offset = int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]
            self._offsets[hour] = offset
        return date(1970, 1, 1) + timedelta(days=int((ts + offset) // 86_400))


REPORTS_KEPT = 8
"""How many reports' rows the book keeps for their next pages."""


class DeliveryBook:
    """The delivery of every ad of the generated world, computed when first asked for and
    kept, and the rows of the last few reports asked for, so that paging through a report
    costs one page per request and not the whole report again (as a report service would
    serve its pages). Thread-safe."""

    def __init__(self, seed: int, advertisers: Iterable[Advertiser], ads: Iterable[Ad],
                 comments: Iterable[Comment], now: Callable[[], float]) -> None:
        self._seed = seed
        self._now = now
        self._advertisers = {a.advertiser_id: a for a in advertisers}
        self._ads: dict[str, list[Ad]] = collections.defaultdict(list)
        for ad in ads:
            self._ads[ad.advertiser_id].append(ad)
        self._comments = comments  # the world as generated: live ones do not count
        self._lock = threading.Lock()
        self._days: dict[str, LocalDays] = {}
        self._counts: dict[str, collections.Counter[tuple[str, date]]] = {}
        self._last_comment: dict[str, date] = {}
        self._rows: dict[tuple[str, date], DayDelivery] = {}
        self._reports: collections.OrderedDict[Hashable, list] = collections.OrderedDict()

    def today(self, advertiser_id: str) -> date:
        """Today in the advertiser's time zone, on the sandbox clock."""
        return self._local(advertiser_id).day(self._now())

    def ads(self, advertiser_id: str) -> list[Ad]:
        return list(self._ads.get(advertiser_id, ()))

    def report(self, key: Hashable, build: Callable[[], list]) -> list:
        """The rows of the report `key` names (everything that shapes it but the page):
        built by `build()` the first time, then kept while it is among the last REPORTS_KEPT
        asked for. The rows are shared: callers slice them, never change them."""
        with self._lock:
            rows = self._reports.get(key)
            if rows is not None:
                self._reports.move_to_end(key)
                return rows
        rows = build()  # outside the lock: it reads rows(), which takes it
        with self._lock:
            self._reports[key] = rows
            while len(self._reports) > REPORTS_KEPT:
                self._reports.popitem(last=False)
        return rows

    def rows(self, advertiser_id: str, first: date | None = None, last: date | None = None,
             ads: Iterable[Ad] | None = None) -> list[DayDelivery]:
        """The advertiser's delivery from ``first`` to ``last`` (both included; None: from
        each ad's first day, up to today), of ``ads`` (None: all of its ads), by day then
        ad."""
        if advertiser_id not in self._advertisers:
            return []
        today = self.today(advertiser_id)
        last = today if last is None else min(last, today)
        with self._lock:
            counts = self._comment_counts(advertiser_id)
            found = []
            for ad in self._ads[advertiser_id] if ads is None else ads:
                start, end = self._span(ad, today)
                day = start if first is None else max(start, first)
                while day <= min(end, last):
                    found.append(self._row(ad, day, counts[(ad.ad_id, day)]))
                    day += timedelta(days=1)
        found.sort(key=lambda row: (row.day, row.ad_id))
        return found

    # -- what the numbers rest on --------------------------------------------------------

    def _local(self, advertiser_id: str) -> LocalDays:
        days = self._days.get(advertiser_id)
        if days is None:
            advertiser = self._advertisers.get(advertiser_id)
            days = LocalDays(advertiser.timezone if advertiser else "UTC")
            self._days[advertiser_id] = days
        return days

    def _comment_counts(self, advertiser_id: str) -> collections.Counter[tuple[str, date]]:
        """Each ad's comments per day of the generated world (brand replies left out)."""
        counts = self._counts.get(advertiser_id)
        if counts is None:
            local = self._local(advertiser_id)
            counts = collections.Counter()
            for comment in self._comments:
                if comment.ad.advertiser_id != advertiser_id:
                    continue
                if comment.comment_type == REPLY and comment.can_delete:
                    continue
                day = local.day(comment.create_ts)
                counts[(comment.ad.ad_id, day)] += 1
                if day > self._last_comment.get(comment.ad.ad_id, date.min):
                    self._last_comment[comment.ad.ad_id] = day
            self._counts[advertiser_id] = counts
        return counts

    def _span(self, ad: Ad, today: date) -> tuple[date, date]:
        first = self._local(ad.advertiser_id).day(ad.create_ts)
        if ad.operation_status == ENABLE:
            return first, today
        return first, max(first, self._last_comment.get(ad.ad_id, first))

    def _traits(self, ad: Ad) -> _AdTraits:
        a = uniforms(self._seed, "delivery", ad.ad_id, count=6)
        currency = self._advertisers[ad.advertiser_id].currency
        return _AdTraits(
            per_thousand=0.4 + 1.6 * a[0], baseline=0.5 + 2.0 * a[1],
            cpm=(4.0 + 8.0 * a[2]) * CURRENCY_SCALE.get(currency, 1.0),
            ctr=0.004 + 0.016 * a[3], play_rate=0.55 + 0.35 * a[4], like_rate=0.002 + 0.01 * a[5])

    def _row(self, ad: Ad, day: date, comments: int) -> DayDelivery:
        key = (ad.ad_id, day)
        row = self._rows.get(key)
        if row is not None:
            return row
        traits = self._traits(ad)
        u = uniforms(self._seed, "delivery", ad.ad_id, day.isoformat(), count=5)
        impressions = max(1, round((comments + traits.baseline) * 1000 / traits.per_thousand
                                   * (0.85 + 0.3 * u[0])))
        row = DayDelivery(
            advertiser_id=ad.advertiser_id, campaign_id=ad.adgroup.campaign.campaign_id,
            adgroup_id=ad.adgroup.adgroup_id, ad_id=ad.ad_id, day=day,
            spend=round(impressions / 1000 * traits.cpm * (0.9 + 0.2 * u[1]), 2),
            impressions=impressions,
            clicks=round(impressions * traits.ctr * (0.8 + 0.4 * u[2])),
            video_play_actions=min(impressions,
                                   round(impressions * traits.play_rate * (0.95 + 0.1 * u[3]))),
            likes=round(impressions * traits.like_rate * (0.7 + 0.6 * u[4])),
            comments=comments,
            currency=self._advertisers[ad.advertiser_id].currency,
        )
        self._rows[key] = row
        return row
