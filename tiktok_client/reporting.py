"""TikTok's synchronous reports (Marketing API v1.3 ``report/integrated/get/``), and each ad's
daily delivery read from them.

Reach the calls as ``client.reporting`` (a :class:`Reporting` bound to the client)::

    reporting = client.reporting
    page = reporting.report_integrated_get(
        advertiser_id, dimensions=["ad_id", "stat_time_day"], metrics=["spend", "impressions"],
        start_date="2025-06-01", end_date="2025-06-30")
    [row.metrics["spend"] for row in page.items]          # "12.34": TikTok sends text
    for window in reporting.iter_ad_delivery(advertiser_id, date(2025, 3, 1), date(2025, 6, 30)):
        window.table                                      # a pyarrow.Table of DELIVERY_SCHEMA

Every call goes through the client's one request path: the app's rate limiter, retries, typed
errors. The parameters and the metric names are those of TikTok's official SDK
(``ReportingApi.report_integrated_get`` and its ReportingApi.md): ``report_type`` BASIC,
``data_level`` AUCTION_AD, ``dimensions`` ["ad_id", "stat_time_day"], ``metrics`` spend,
impressions, clicks, video_play_actions, likes; ``start_date`` and ``end_date`` (YYYY-MM-DD,
both included, days of the ad account's time zone); ``page`` and ``page_size`` (1-1000).

An answer is ``data.list[]`` of ``{"dimensions": {...}, "metrics": {...}}`` with
``page_info``; metric values come as text ("12.34", "1200"), sometimes as numbers, and "-"
where TikTok has none. :func:`delivery_table` reads either, and a metric that is missing, empty
or "-" is null.

Limits, each learned from TikTok's refusal and kept in ``client.learned`` (it only goes down):

- ``page_size`` starts at 1000, the documented top; refused, it steps down to the limit the
  message states or 500, 200, 100, 50, 20, 10 (key :data:`PAGE_SIZE`).
- With ``stat_time_day`` among the dimensions a request covers at most 30 days (TikTok's
  documentation as ``bububa/tiktok-business`` quotes it; 365 days without it). A refused span
  (40000/40002 naming ``start_date`` or ``end_date`` and speaking of a span, or stating a
  limit) steps down to the stated limit or 14, 7, 3, 1 days (key :data:`DAILY_SPAN`).
- A metric TikTok refuses for the account ("Invalid metric fields: ['likes']") is asked for no
  more and stays null (key :data:`UNAVAILABLE_METRICS`), so the other metrics still arrive.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .checks import check_choice, check_page
from .errors import TikTokError
from .learned import REJECTION_CODES, rejects, stated_limit, step_down
from .models import Page
from .paging import iter_stepping_pages
from .parsing import as_date, as_float, as_id, as_int, as_mapping, as_text
from .wire import date_text

if TYPE_CHECKING:
    from .client import TikTokClient

__all__ = [
    "DAILY_SPAN",
    "DAILY_SPANS",
    "DAILY_SPAN_DAYS",
    "DATA_LEVELS",
    "DELIVERY_DIMENSIONS",
    "DELIVERY_METRICS",
    "DELIVERY_SCHEMA",
    "MAX_PAGE_SIZE",
    "PAGE_SIZE",
    "PAGE_SIZES",
    "REPORT_TYPES",
    "UNAVAILABLE_METRICS",
    "DeliveryWindow",
    "ReportRow",
    "Reporting",
    "delivery_table",
    "refused_metrics",
]

log = logging.getLogger(__name__)

REPORT_PATH = "report/integrated/get/"
REPORT_TYPES = ("BASIC", "AUDIENCE", "PLAYABLE_MATERIAL", "CATALOG", "BC", "TT_SHOP")
"""``report_type``: SDK ReportingApi.md (BASIC, AUDIENCE, PLAYABLE_MATERIAL, CATALOG) and
``bububa/tiktok-business`` (BC, TT_SHOP)."""
DATA_LEVELS = ("AUCTION_AD", "AUCTION_ADGROUP", "AUCTION_CAMPAIGN", "AUCTION_ADVERTISER",
               "RESERVATION_AD", "RESERVATION_ADGROUP", "RESERVATION_CAMPAIGN",
               "RESERVATION_ADVERTISER")
"""``data_level``: SDK ReportingApi.md (the RESERVATION_* ones deprecated, per bububa)."""
DELIVERY_DIMENSIONS = ("ad_id", "stat_time_day")
DELIVERY_METRICS = ("spend", "impressions", "clicks", "video_play_actions", "likes")
MAX_PAGE_SIZE = 1000
"""``page_size``: "Value range 1-1000. Default value 10" (SDK ReportingApi.md)."""
PAGE_SIZE = "report/integrated/get.page_size"
PAGE_SIZES = (1000, 500, 200, 100, 50, 20, 10)
DAILY_SPAN_DAYS = 30
"""The most days, both ends counted, one request with ``stat_time_day`` covers (the docs as
``bububa/tiktok-business`` ``model/report/integrated_get.go`` quotes them)."""
DAILY_SPAN = "report/integrated/get.daily_span_days"
DAILY_SPANS = (30, 14, 7, 3, 1)
UNAVAILABLE_METRICS = "report/integrated/get.unavailable_metrics"
"""The delivery metrics TikTok refused for this app (a sorted list of names)."""

DELIVERY_SCHEMA = pa.schema([
    ("advertiser_id", pa.string()),
    ("ad_id", pa.string()),
    ("stat_day", pa.date32()),
    ("spend", pa.float64()),
    ("impressions", pa.int64()),
    ("clicks", pa.int64()),
    ("video_play_actions", pa.int64()),
    ("likes", pa.int64()),
    ("currency", pa.string()),
])
"""Each ad's delivery on one day (``stat_day``: a day of the ad account's time zone, as
TikTok reports it); a metric TikTok did not give is null, ``currency`` too unless the report
carried it."""

_SPAN_WORDS = re.compile(
    r"\b(?:range|span|interval|period|window|days?|exceed\w*|too\s+(?:long|large|wide))\b",
    re.IGNORECASE)
_TIME_RANGE = re.compile(r"\b(?:time|date|query)\s+(?:range|span|interval|period|window)\b",
                         re.IGNORECASE)
_METRIC_LIST = re.compile(r"invalid\s+metric\s+fields?\W*[\[(]([^\])]*)[\])]", re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NO_VALUE = frozenset({"", "-", "--", "N/A", "null", "None"})


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One row of a report: its dimensions (IDs, ``stat_time_day``) and its metrics as
    TikTok sent them (text, numbers or "-")."""

    dimensions: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, entry: Mapping[str, Any]) -> ReportRow:
        """A ``{"dimensions", "metrics"}`` entry; an entry without those objects is read
        as both at once (flat)."""
        dimensions, metrics = entry.get("dimensions"), entry.get("metrics")
        if not isinstance(dimensions, Mapping) and not isinstance(metrics, Mapping):
            return cls(dict(entry), dict(entry))
        return cls(dict(as_mapping(dimensions)), dict(as_mapping(metrics)))


@dataclass(frozen=True, slots=True)
class DeliveryWindow:
    """The delivery of the days ``first_day`` to ``last_day`` (both included)."""

    first_day: date
    last_day: date
    table: pa.Table
    requests: int = 0


class Reporting:
    """The reporting calls of one :class:`~tiktok_client.client.TikTokClient`: its token,
    rate limiter, learned limits and statistics."""

    def __init__(self, client: TikTokClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"Reporting({self._client!r})"

    # -- what was learned ----------------------------------------------------------------

    def page_size(self) -> int:
        """The page size asked for: the one learned from TikTok, else 1000."""
        return self._client.learned.get_limit(PAGE_SIZE, MAX_PAGE_SIZE)

    def daily_span_days(self) -> int:
        """The most days one daily report asks for: learned, else 30."""
        return self._client.learned.get_limit(DAILY_SPAN, DAILY_SPAN_DAYS)

    def unavailable_metrics(self) -> frozenset[str]:
        """The delivery metrics TikTok refused for this app: they are not asked for."""
        known = self._client.learned.get(UNAVAILABLE_METRICS)
        return frozenset(m for m in known if isinstance(m, str)) if isinstance(
            known, list) else frozenset()

    # -- one page --------------------------------------------------------------------------

    def report_integrated_get(
        self,
        advertiser_id: str,
        *,
        dimensions: Sequence[str],
        metrics: Sequence[str] | None = None,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        report_type: str = "BASIC",
        data_level: str | None = "AUCTION_AD",
        service_type: str | None = None,
        filtering: Sequence[Mapping[str, Any]] | None = None,
        query_lifetime: bool | None = None,
        order_field: str | None = None,
        order_type: str | None = None,
        page: int = 1,
        page_size: int | None = None,
    ) -> Page[ReportRow]:
        """One page of a synchronous report (``page_size`` None: :meth:`page_size`).

        ``metrics`` None sends none (TikTok's default: spend and impressions); ``filtering``
        is TikTok's list of ``{"field_name", "filter_type", "filter_value"}``."""
        size = self.page_size() if page_size is None else page_size
        check_page(page, size)
        check_choice("report_type", report_type, REPORT_TYPES)
        if data_level is not None:
            check_choice("data_level", data_level, DATA_LEVELS)
        if not dimensions or isinstance(dimensions, str):
            raise ValueError("dimensions must be a non-empty list of dimension names")
        params: dict[str, Any] = {
            "advertiser_id": str(advertiser_id),
            "report_type": report_type,
            "data_level": data_level,
            "service_type": service_type,
            "dimensions": list(dimensions),
            "metrics": None if metrics is None else list(metrics),
            "start_date": None if start_date is None else date_text(start_date),
            "end_date": None if end_date is None else date_text(end_date),
            "filtering": None if filtering is None else [dict(f) for f in filtering],
            "query_lifetime": query_lifetime,
            "order_field": order_field,
            "order_type": order_type,
            "page": page,
            "page_size": size,
        }
        data = self._client._request("GET", REPORT_PATH, params=params)
        return Page.from_api(data, ReportRow.from_api, "list", "report")

    def iter_report(self, advertiser_id: str, *, page_size: int | None = None,
                    **options: Any) -> Iterator[ReportRow]:
        """Every row of a report, page after page, each (dimensions) once: pages as large as
        TikTok takes (``page_size`` None: 1000, never above a size learned), a refused size
        stepping down as the module docstring says. ``options`` are those of
        :meth:`report_integrated_get`."""
        if page_size is not None:
            check_page(1, page_size)
        wanted = MAX_PAGE_SIZE if page_size is None else page_size
        return iter_stepping_pages(
            lambda page, size: self.report_integrated_get(
                advertiser_id, page=page, page_size=size, **options),
            min(wanted, self.page_size()),
            PAGE_SIZES,
            learn=partial(self._client.learned.lower, PAGE_SIZE),
            key=lambda row: tuple(sorted((k, str(v)) for k, v in row.dimensions.items())),
        )

    # -- each ad's daily delivery ------------------------------------------------------------

    def iter_ad_delivery(self, advertiser_id: str, start_date: date, end_date: date, *,
                         page_size: int | None = None) -> Iterator[DeliveryWindow]:
        """Each ad's delivery per day from ``start_date`` to ``end_date`` (days of the ad
        account's time zone, both included), one window of days at a time, oldest first;
        each window's table holds every row TikTok gave for its days (DELIVERY_SCHEMA).

        A window spans :meth:`daily_span_days`; when TikTok refuses the span the window is
        asked for again, shorter, and the span is learned."""
        if end_date < start_date:
            return
        day, span = start_date, self.daily_span_days()
        while day <= end_date:
            last = min(end_date, day + timedelta(days=span - 1))
            before = self._requests()
            try:
                table = self._delivery_days(advertiser_id, day, last, page_size)
            except TikTokError as err:
                shorter = self._narrower_span(err, (last - day).days + 1)
                if shorter is None:
                    raise
                log.info("report/integrated/get refused %s..%s (code %s); %d days a request",
                         day, last, err.code, shorter)
                span = shorter
                continue
            yield DeliveryWindow(day, last, table, self._requests() - before)
            day = last + timedelta(days=1)

    def ad_delivery(self, advertiser_id: str, start_date: date, end_date: date, *,
                    page_size: int | None = None) -> pa.Table:
        """:meth:`iter_ad_delivery`'s windows in one table."""
        tables = [w.table for w in self.iter_ad_delivery(advertiser_id, start_date, end_date,
                                                          page_size=page_size)]
        return pa.concat_tables(tables) if tables else DELIVERY_SCHEMA.empty_table()

    def _delivery_days(self, advertiser_id: str, first: date, last: date,
                       page_size: int | None) -> pa.Table:
        """One window's rows; a metric TikTok refuses is dropped (and learned) and the
        window asked for again without it."""
        while True:
            metrics = [m for m in DELIVERY_METRICS if m not in self.unavailable_metrics()]
            if not metrics:
                raise TikTokError("TikTok refused every delivery metric for this app")
            try:
                rows = list(self.iter_report(
                    advertiser_id, page_size=page_size, report_type="BASIC",
                    data_level="AUCTION_AD", dimensions=list(DELIVERY_DIMENSIONS),
                    metrics=metrics, start_date=first, end_date=last))
            except TikTokError as err:
                refused = refused_metrics(err, metrics)
                if not refused:
                    raise
                log.info("report/integrated/get refused the metrics %s; asking without them",
                         ", ".join(refused))
                self._client.learned.learn(
                    UNAVAILABLE_METRICS, sorted(self.unavailable_metrics() | set(refused)))
                continue
            return delivery_table(rows, advertiser_id)

    def _narrower_span(self, error: TikTokError, days: int) -> int | None:
        """The span to try after TikTok answered ``error`` to a window of ``days`` days, or
        None when the error is not about the span or no shorter span is left."""
        if not _span_refused(error):
            return None
        shorter = step_down(days, DAILY_SPANS, error.message)
        known = self.daily_span_days()
        if known < days:  # learned meanwhile by another client of the app
            shorter = known if shorter is None else min(shorter, known)
        if shorter is not None:
            self._client.learned.lower(DAILY_SPAN, shorter)
        return shorter

    def _requests(self) -> int:
        return self._client.stats.snapshot()["requests"]


def _span_refused(error: TikTokError) -> bool:
    """TikTok's 40000/40002 naming start_date or end_date (or a "time range") that speaks of
    a span or states a limit; a malformed date ("start_date: Not a valid date.") is not."""
    if error.code not in REJECTION_CODES:
        return False
    message = error.message or ""
    names = (rejects(error, "start_date") or rejects(error, "end_date")
             or _TIME_RANGE.search(message) is not None)
    return names and (stated_limit(message) is not None or _SPAN_WORDS.search(message) is not None)


def refused_metrics(error: BaseException, asked: Sequence[str]) -> list[str]:
    """The metrics of ``asked`` that ``error`` refuses: TikTok's 40000/40002 "Please correct
    the information in invalid metric fields and try again. Invalid metric fields:
    ['voucher_spend', 'cash_spend']." (an integration met it live); empty for any other
    error."""
    if not isinstance(error, TikTokError) or error.code not in REJECTION_CODES:
        return []
    match = _METRIC_LIST.search(error.message or "")
    if match is None:
        return []
    named = set(_NAME.findall(match.group(1)))
    return [m for m in asked if m in named]


def delivery_table(rows: Sequence[ReportRow], advertiser_id: str) -> pa.Table:
    """Report rows of ``ad_id`` x ``stat_time_day`` as a table of DELIVERY_SCHEMA: metrics
    read from text or numbers, null where missing, empty or "-"; a row without an ad or a day
    is left out, and of rows for one ad and day the last counts."""
    kept: dict[tuple[str, date], ReportRow] = {}
    for row in rows:
        ad_id = as_id(row.dimensions.get("ad_id"))
        day = as_date(row.dimensions.get("stat_time_day"))
        if ad_id and day is not None:
            kept[(ad_id, day)] = row
    ordered = sorted(kept.items(), key=lambda item: (item[0][1], item[0][0]))
    metrics = [row.metrics for _, row in ordered]
    return pa.table({
        "advertiser_id": [str(advertiser_id)] * len(ordered),
        "ad_id": [key[0] for key, _ in ordered],
        "stat_day": [key[1] for key, _ in ordered],
        "spend": [metric_number(m.get("spend")) for m in metrics],
        "impressions": [metric_count(m.get("impressions")) for m in metrics],
        "clicks": [metric_count(m.get("clicks")) for m in metrics],
        "video_play_actions": [metric_count(m.get("video_play_actions")) for m in metrics],
        "likes": [metric_count(m.get("likes")) for m in metrics],
        "currency": [_currency(m.get("currency")) for m in metrics],
    }, schema=DELIVERY_SCHEMA)


def metric_number(value: Any) -> float | None:
    """A metric as a number: "12.34", 12.34, "1,234.5"; None for "-", "" or nothing."""
    if isinstance(value, str):
        value = value.strip().replace(",", "")
        if value in _NO_VALUE:
            return None
    return as_float(value)


def metric_count(value: Any) -> int | None:
    """A metric as a whole number: "1200", 1200, "1200.0"; None for "-", "" or nothing."""
    number = metric_number(value)
    if number is None:
        return None
    whole = as_int(number)
    return whole if whole is not None else round(number)


def _currency(value: Any) -> str | None:
    text = as_text(value)
    return text.strip() if text and text.strip() not in _NO_VALUE else None
