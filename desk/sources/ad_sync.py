"""An ad account's sync: ads, then every comment of every ad group, concurrently, resumably.

How a sync walks an advertiser, keeping the app's whole request budget busy from the first
second (every request waits for the app's one rate limiter, nothing else):

1. At once and side by side: `advertiser/info/` (when the stored details are a day old),
   `ad/get/` (all pages), `ad/get/` filtered by buying type (which ads were reserved: Reach &
   Frequency, and TopView, which ad/get lists only that way) and `smart_plus/ad/get/` (the
   Upgraded Smart+ ads). Comments are listed per ad group, so each ad group's comments start
   as soon as the listing that names it is in; the ads are stored once every listing is.
2. Each ad group gets a list of date windows: the widest span TikTok accepts (the whole
   look-back in one window, unless TikTok refused a span before and it was learned: see
   TikTokClient.next_comment_window), never starting earlier than the ad group's oldest ad.
   Without a cursor a window is fetched in *full* mode: oldest first, page 1 says how many
   pages there are and the rest are fetched in parallel. Comments that arrive meanwhile land
   after the last page, so pages never shift under us.
3. With a cursor, the first window starts a day before it (the overlap) and is fetched in *head*
   mode: newest first, page by page, until a page reaches comments older than the cursor's
   high-water mark (less a margin). A sync with nothing new costs one request per ad group.
4. A *refresh* (`SyncOptions.refresh_days`) lists the recent days again in full mode, so that
   likes, replies and hidden status of stored comments are brought up to date, and the
   comments TikTok no longer lists for those days are recorded as deleted.
5. A cursor advances only after its whole window is stored, so a sync killed at any moment
   and started again stores exactly what an uninterrupted one would. The first page is stored
   at once, so the first comments can be read while the rest streams in.

Worker threads talk to TikTok and read its pages into Arrow tables; the calling thread
schedules; one store thread (desk.sources.storing) writes, so the requests do not wait for the
database, unless it falls behind by more than two batches: then the calling thread waits for
it before asking for more, so batches never pile up in memory.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any, ClassVar

import pandas as pd
import pyarrow as pa

from desk import store as db
from desk.errors import SyncAborted
from desk.sources.base import SyncResult, fraction_done, outcome, recorded_run
from desk.sources.storing import Storer
from tiktok_client.client import TikTokClient
from tiktok_client.errors import (
    AppUnavailable,
    MalformedResponse,
    PermissionDenied,
    ServerError,
    TikTokError,
    TokenError,
)
from tiktok_client.marketing_limits import comments_refused
from tiktok_client.models import Ad, Advertiser, ColumnPage, Comment

FULL, HEAD = "full", "head"
# How an ad was bought (ad/get's filtering.buying_types); comments on reserved ads are hidden
# with ad_type BRAND (desk.sources.ads).
AUCTION, RESERVATION_RF, RESERVATION_TOP_VIEW = "AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW"
log = logging.getLogger(__name__)
ADVERTISER_REFRESH = timedelta(hours=24)  # names and timezones rarely change
MAX_WINDOW_PAGES = 10_000  # a million comments in one ad group's window: more is a broken answer
DELETION_MARGIN = timedelta(minutes=5)  # comments this young may be missing for a moment
BUSY_BATCH = 2
"""While the store thread is busy, pages gather into batches of this many `flush_rows`: with
the batch it stores, the two that may wait (storing.QUEUED) and the one handed over, at most
about 4 x 2 x 20,000 rows are held in memory."""
_INTEGER = range(-(2**31), 2**31)  # what the store's INTEGER columns (likes, replies) hold
Listing = tuple[str, Callable[[], Any]]


def workers_for(qps: int) -> int:
    """Threads a sync may keep talking to TikTok: enough requests in flight to spend `qps` a
    second at up to 0.8 s a request, at least 8 and at most 48."""
    return max(8, min(48, math.ceil(qps * 0.8)))


class InFlight:
    """How many requests a sync keeps in flight: by Little's law, the rate it can spend times
    the time TikTok takes to answer (the fastest of the recent answers, which did not queue),
    with room to grow; never more, since more requests than that only queue for the rate
    limiter or make the threads queue for the CPU.

    `rate` is the rate limit, or the rate answers come in when something else (the CPU) holds
    the sync below it. Until enough answers are in, `most`.
    """

    def __init__(self, qps: float, most: int, *, clock: Callable[[], float] = time.monotonic,
                 window: float = 2.0, sample: int = 50) -> None:
        self.qps, self.most, self.clock, self.window = qps, most, clock, window
        self.durations: deque[float] = deque(maxlen=sample)
        self.answered: deque[float] = deque()

    def done(self, seconds: float) -> None:
        """A request was answered after `seconds`."""
        now = self.clock()
        self.durations.append(seconds)
        self.answered.append(now)
        while self.answered and now - self.answered[0] > self.window:
            self.answered.popleft()

    @property
    def limit(self) -> int:
        if len(self.durations) < 10:
            return self.most
        rate = min(self.qps, len(self.answered) / self.window)
        return max(2, min(self.most, math.ceil(rate * min(self.durations) * 1.5) + 2))


@dataclass(frozen=True)
class SyncOptions:
    lookback_days: int = 90
    # The longest span of days one comment/list request covers. None: the whole look-back in
    # one request, or the shorter span TikTok's refusals taught (TikTokClient.
    # comment_window_days); a span TikTok refuses steps down and is remembered. No source
    # gives the limit (docs/tiktok-api-notes.md).
    window_days: int | None = None
    overlap_days: int = 1
    head_margin: timedelta = timedelta(hours=1)
    workers: int | None = None  # None: workers_for(the rate limit's qps)
    page_size: int = 100
    since: date | None = None  # refetch from this day, ignoring cursors
    # Refresh the comments of the last `refresh_days` days: their likes, replies and status,
    # and which were deleted. None: only what is new.
    refresh_days: int | None = None
    flush_rows: int = 20_000  # pages are stored in batches of about this many rows
    flush_seconds: float = 2.0  # ... and about this often, so cursors keep moving


@dataclass(frozen=True)
class AdSyncProgress:
    phase: str  # "ads", "comments" or "done"
    pages_done: int
    pages_expected: int
    rows: int
    requests: int
    throttled: int
    retried: int
    adgroups_done: int
    adgroups_total: int
    current_adgroup: str | None
    failures: int

    @property
    def fraction(self) -> float:
        return fraction_done(self.phase, self.pages_done, self.pages_expected)

    def line(self) -> str:
        """One line a person can read: the CLI prints it, the app shows it."""
        return (
            f"{self.phase}: {self.pages_done}/{self.pages_expected} pages, "
            f"{self.rows:,} comments, ad groups {self.adgroups_done}/{self.adgroups_total}, "
            f"{self.requests} requests, {self.throttled} throttled, {self.retried} retried"
            + (f", {self.failures} failed" if self.failures else "")
        )


@dataclass(frozen=True)
class AdSyncResult(SyncResult):
    """How an ad account's sync ended: the common counts, plus ads, pages and throttling."""

    part: ClassVar[str] = "ad group"
    ads: int = 0
    pages: int = 0
    throttled: int = 0
    retried: int = 0
    refused: tuple[str, ...] = ()
    """Ad groups whose comments TikTok does not provide (Upgraded Smart+ ads)."""
    deleted: int = 0
    """Stored comments a refresh found TikTok no longer lists."""

    def _extra(self) -> str:
        return f", {self.throttled} throttled" if self.throttled else ""


@dataclass
class _Window:
    adgroup_id: str
    start: date
    end: date
    mode: str
    high_water: datetime | None  # head mode: where already-stored comments begin
    total_pages: int | None = None
    next_page: int = 1  # head mode: sequential paging
    outstanding: set[int] = field(default_factory=set)
    stored: set[int] = field(default_factory=set)
    newest: datetime | None = None
    finished: bool = False

    def complete(self) -> bool:
        if self.mode == HEAD:
            return self.finished and not self.outstanding
        return self.total_pages is not None and len(self.stored) >= self.total_pages


def date_windows(start: date, end: date, days: int) -> list[tuple[date, date]]:
    """Split [start, end] (inclusive) into consecutive windows of at most `days` days."""
    windows = []
    while start <= end:
        stop = min(end, start + timedelta(days=days - 1))
        windows.append((start, stop))
        start = stop + timedelta(days=1)
    return windows


def plan_windows(
    adgroup_id: str,
    cursor: db.SyncCursor | None,
    oldest_ad: datetime | None,
    today: date,
    options: SyncOptions,
) -> list[_Window]:
    """The windows one ad group needs, oldest first."""
    # Dates go to TikTok as whole days; a day either side covers every advertiser timezone.
    end = today + timedelta(days=1)
    if options.since is not None:
        start, high_water = options.since, None
    elif cursor is not None:
        start = cursor.synced_through - timedelta(days=options.overlap_days)
        high_water = cursor.high_water
        if options.refresh_days is not None:  # listed again whole, newest state
            start = min(start, refresh_start(today, options.refresh_days))
            high_water = None
    else:
        start, high_water = today - timedelta(days=options.lookback_days), None
        if oldest_ad is not None:
            start = max(start, oldest_ad.date() - timedelta(days=1))
    span = options.window_days or _span(start, end)
    return _windows(adgroup_id, start, end, span, high_water)


def refresh_start(today: date, days: int) -> date:
    """The first day a refresh of the last `days` days lists (a day early: any timezone)."""
    return today - timedelta(days=days + 1)


def _span(start: date, end: date) -> int:
    """Days from `start` to `end`, both included."""
    return (end - start).days + 1


def _windows(adgroup_id: str, start: date, end: date, span: int,
             high_water: datetime | None) -> list[_Window]:
    """[start, end] in windows of `span` days; the first in head mode when there is a
    high-water mark to stop at."""
    windows = []
    for i, (lo, hi) in enumerate(date_windows(start, end, max(1, span))):
        head = i == 0 and high_water is not None
        windows.append(
            _Window(adgroup_id, lo, hi, HEAD if head else FULL, high_water if head else None)
        )
    return windows


def _check_page(page: ColumnPage) -> None:
    """Refuse a comment/list page that cannot be stored whole, as a typed error: its ad group
    fails and its cursor stays where it was."""
    if any(c is None for c in page.columns["comment_id"]):
        raise MalformedResponse("comment/list returned a comment without a comment_id")
    total = page.page_info.total_page
    if total is not None and total > MAX_WINDOW_PAGES:
        raise MalformedResponse(
            f"comment/list reported {total} pages for one ad group's dates; "
            f"at most {MAX_WINDOW_PAGES} are expected"
        )


_ARROW_TYPES = {str: pa.string(), int: pa.int64(), bool: pa.bool_(), float: pa.float64(),
                datetime: pa.timestamp("us", tz="UTC"), date: pa.date32()}
COMMENT_TYPES = {name: _ARROW_TYPES[kind] for name, kind in Comment.field_types().items()}
"""A comment/list page's columns as the sync hands them to the store (the types given, an
Arrow table is made several times faster than with types inferred)."""


def _page_table(page: ColumnPage, advertiser_id: str) -> pa.Table:
    """A page's comments as an Arrow table for the store (a count no INTEGER holds is
    unreadable, like "abc")."""
    columns = {name: values for name, values in page.columns.items()}
    for name in ("likes", "replies"):
        values = columns[name]
        if any(v is not None and v not in _INTEGER for v in values):
            columns[name] = [v if v is None or v in _INTEGER else None for v in values]
    arrays = {name: pa.array(values, COMMENT_TYPES[name]) for name, values in columns.items()}
    arrays["advertiser_id"] = pa.array([advertiser_id] * page.rows, pa.string())
    return pa.table(arrays)


class _Run:
    """One sync of one advertiser: the scheduler state, driven from the calling thread."""

    def __init__(self, cur: db.Cursor, storer: Storer, client: TikTokClient,
                 advertiser_id: str, options: SyncOptions,
                 progress: Callable[[AdSyncProgress], None] | None,
                 stop: threading.Event | None, today: date, seen_at: datetime):
        self.cur, self.client, self.advertiser_id = cur, client, advertiser_id
        self.options, self.report, self.stop = options, progress, stop or threading.Event()
        self.today, self.seen_at = today, seen_at
        self.plans: dict[str, deque[_Window]] = {}
        self.ready: deque[tuple[_Window, int]] = deque()
        self.listings: deque[Listing] = deque()
        self.listed: dict[str, Any] = {}
        self.failures: dict[str, str] = {}
        self.smart_plus: set[str] = set()  # ad groups of Upgraded Smart+ ads
        self.refused: dict[str, str] = {}  # ad group -> TikTok's refusal of its comments
        self.provided: set[str] = set()  # ad groups whose comments came in whole
        self.oldest: dict[str, datetime | None] = {}  # ad group -> its oldest ad's creation
        self.stored: dict[str, Ad] = {}  # the ads stored so far, by ad_id
        self.types_stored = False  # whether they were stored with their buying types
        self.cursors: dict[str, db.SyncCursor] = db.get_cursors(cur, advertiser_id)
        self.seen: dict[str, set[str]] = {}  # refresh: the comments TikTok listed per ad group
        self.buffer: list[pa.Table] = []
        self.buffered_rows = 0
        self.unflushed: list[_Window] = []  # fetched whole; their cursors move on the next flush
        self.flushed_at = -math.inf  # the first page is stored at once
        self.storer = storer
        self.pages_done = self.rows = self.deleted = 0
        self.adgroups_done = 0
        self.current: str | None = None
        self.stats_at_start = client.stats.snapshot()

    # progress

    def _stat(self, name: str) -> int:
        return self.client.stats.snapshot()[name] - self.stats_at_start[name]

    def _pages_expected(self) -> int:
        expected = self.pages_done
        for windows in self.plans.values():
            for w in windows:
                if w.mode == FULL and w.total_pages is not None:
                    expected += w.total_pages - len(w.stored)
                else:
                    expected += 1
        return expected

    def progress(self, phase: str) -> AdSyncProgress:
        return AdSyncProgress(
            phase=phase, pages_done=self.pages_done, pages_expected=self._pages_expected(),
            rows=self.rows, requests=self._stat("requests"), throttled=self._stat("throttled"),
            retried=self._stat("retries"), adgroups_done=self.adgroups_done,
            adgroups_total=len(self.plans) + self.adgroups_done,
            current_adgroup=self.current, failures=len(self.failures),
        )

    def _report(self, phase: str) -> None:
        if self.report is not None:
            self.report(self.progress(phase))

    # the ads: every listing at once

    def plan_listings(self) -> None:
        """Queue the listings of the advertiser and its ads; they run side by side."""
        known = db.advertiser_updated_at(self.cur, self.advertiser_id)
        if known is None or self.seen_at - known > ADVERTISER_REFRESH:
            self.listings.append(("info", lambda: self.client.get_advertiser_info(
                [self.advertiser_id])))
        aid = self.advertiser_id
        self.listings.append(("ads", lambda: list(self.client.iter_ads(aid))))
        for kind in (RESERVATION_RF, RESERVATION_TOP_VIEW):
            self.listings.append((kind, self._optional(lambda k=kind: list(
                self.client.iter_ads(aid, filtering={"buying_types": [k]})))))
        self.listings.append(("smart_plus", self._optional(
            lambda: list(self.client.iter_smart_plus_ads(aid)))))

    def _optional(self, listing: Callable[[], list[Ad]]) -> Callable[[], list[Ad] | None]:
        """A listing an account or app may be unable to make: None instead of the error, so
        the other ads still sync (only a refused token or an unavailable app stops it)."""
        def run() -> list[Ad] | None:
            try:
                return listing()
            except (TokenError, AppUnavailable):
                raise
            except TikTokError as exc:
                log.info("an ad listing of %s failed: %s", self.advertiser_id, exc)
                return None
        return run

    def take_listing(self, name: str, result: Any) -> None:
        """A listing is in: plan the comments of the ad groups it names and store its ads."""
        self.listed[name] = result
        if name == "info":
            infos = [a for a in result if isinstance(a, Advertiser) and a.advertiser_id]
            if infos:  # details without an ID cannot be stored; they only refresh names
                frame = pd.DataFrame.from_records([a.to_record() for a in infos])
                self.storer.submit(lambda cur: db.upsert_advertisers(cur, frame))
            return
        if name == "ads" and any(ad.ad_id is None for ad in result):
            raise MalformedResponse("ad/get returned an ad without an ad_id")
        ads = [ad for ad in result or () if ad.ad_id is not None]
        if name == "smart_plus":
            self.smart_plus = {ad.adgroup_id for ad in ads if ad.adgroup_id is not None}
        if name in ("ads", RESERVATION_TOP_VIEW, "smart_plus"):
            self._plan_adgroups(ads)
        self._store_ads()
    def _plan_adgroups(self, ads: Iterable[Ad]) -> None:
        """Plan, and queue at once, the comments of ad groups not planned yet."""
        new: dict[str, datetime | None] = {}
        for ad in ads:
            if ad.adgroup_id is None or ad.adgroup_id in self.oldest:
                continue
            have, created = new.get(ad.adgroup_id), ad.create_time
            new[ad.adgroup_id] = created if have is None or (
                created is not None and created < have) else have
        for adgroup_id in sorted(new):
            self.oldest[adgroup_id] = new[adgroup_id]
            windows = plan_windows(adgroup_id, self.cursors.get(adgroup_id), new[adgroup_id],
                                   self.today, self.options)
            if self.options.window_days is None and windows:
                # One window over everything, unless TikTok's refusals taught a shorter span.
                whole = windows[0]
                days = self.client.comment_window_days(_span(whole.start, whole.end))
                windows = _windows(adgroup_id, whole.start, whole.end, days, whole.high_water)
            if windows:
                self.plans[adgroup_id] = deque(windows)
                self.ready.append((windows[0], 1))
                if self._refreshing(windows[0]):
                    self.seen[adgroup_id] = set()

    def _refreshing(self, first: _Window) -> bool:
        """Whether this run lists the ad group's whole refresh period, so that what TikTok
        no longer lists there can be called deleted."""
        days = self.options.refresh_days
        return (days is not None and first.mode == FULL
                and (self.options.since is None
                     or self.options.since <= refresh_start(self.today, days)))

    def _store_ads(self) -> None:
        """Store the ads of the listings that are in, each once, from ad/get's listing on
        (an ad it lists is kept as it has it); with how each was bought once TikTok said."""
        if "ads" not in self.listed:
            return
        new = []
        for name in ("ads", RESERVATION_TOP_VIEW, "smart_plus"):
            for ad in self.listed.get(name) or ():
                if ad.ad_id is not None and ad.ad_id not in self.stored:
                    self.stored[ad.ad_id] = ad
                    new.append(ad)
        bought = self._buying_types()
        if bought is not None and not self.types_stored:
            new, self.types_stored = list(self.stored.values()), True
        if not new:
            return
        frame = pd.DataFrame.from_records([ad.to_record() for ad in new])
        frame["advertiser_id"] = self.advertiser_id
        if bought is not None:  # else what an earlier sync learned stays
            frame["buying_type"] = [bought.get(ad.ad_id, AUCTION) for ad in new]
        self.storer.submit(lambda cur: db.upsert_ads(cur, frame, self.seen_at))

    def _buying_types(self) -> dict[str, str] | None:
        """Reserved ads by how they were bought, once both listings by buying type are in;
        None while one is not, or when TikTok would not filter by buying type."""
        reach_frequency = self.listed.get(RESERVATION_RF)
        top_view = self.listed.get(RESERVATION_TOP_VIEW)
        if reach_frequency is None or top_view is None:
            return None
        bought = {ad.ad_id: RESERVATION_RF for ad in reach_frequency if ad.ad_id is not None}
        bought.update({ad.ad_id: RESERVATION_TOP_VIEW for ad in top_view
                       if ad.ad_id is not None})
        return bought

    # the comments

    def _fetch(self, window: _Window, page: int) -> tuple[ColumnPage, pa.Table, float]:
        """A page of comments, as a table, and the seconds TikTok took to give it."""
        started = time.monotonic()
        result = self.client.comment_columns_page(
            self.advertiser_id, window.adgroup_id, window.start, window.end, page=page,
            page_size=self.options.page_size,
            sort_type="DESC" if window.mode == HEAD else "ASC",
        )
        took = time.monotonic() - started
        _check_page(result)
        return result, _page_table(result, self.advertiser_id), took

    def _take_page(self, window: _Window, page_no: int, page: ColumnPage,
                   table: pa.Table) -> None:
        """Buffer a fetched page for the writer and schedule what it makes necessary."""
        window.outstanding.discard(page_no)
        window.stored.add(page_no)
        self.pages_done += 1
        self.current = window.adgroup_id
        times = [t for t in page.columns["create_time"] if t is not None]
        if table.num_rows:
            self.buffer.append(table)
            self.buffered_rows += table.num_rows
            if times:
                newest = max(times)
                window.newest = newest if window.newest is None else max(window.newest, newest)
        seen = self.seen.get(window.adgroup_id)
        if seen is not None:
            seen.update(page.columns["comment_id"])
        total = max(1, page.page_info.total_page or 1) if page.page_info else 1
        if window.mode == FULL:
            if window.total_pages is None:
                window.total_pages = total
                for n in range(2, total + 1):
                    self.ready.append((window, n))
            return
        # Head mode: newest first; stop once a page reaches what an earlier sync stored.
        reached = (
            window.high_water is not None and times
            and min(times) < window.high_water - self.options.head_margin
        )
        if reached or not page.rows or page_no >= total:
            window.finished = True
        else:
            window.next_page = page_no + 1
            self.ready.append((window, window.next_page))

    def _window_done(self, window: _Window) -> None:
        """A window is fetched whole: queue the ad group's next one; its cursor waits for the
        flush that stores its rows."""
        self.unflushed.append(window)
        windows = self.plans[window.adgroup_id]
        windows.popleft()
        if windows:
            self.ready.append((windows[0], 1))
        else:
            del self.plans[window.adgroup_id]
            self.adgroups_done += 1
            self.provided.add(window.adgroup_id)

    def flush(self) -> None:
        """Have the store thread store the buffered pages in one upsert, then move the
        cursors of the windows they complete and record what a finished refresh found
        deleted."""
        batch = pa.concat_tables(self.buffer) if self.buffer else None
        self.buffer, self.buffered_rows = [], 0
        moves = []
        for window in self.unflushed:
            previous = self.cursors.get(window.adgroup_id)
            high_water = window.newest
            if previous is not None and previous.high_water is not None:
                high_water = previous.high_water if high_water is None else max(
                    high_water, previous.high_water)
            self.cursors[window.adgroup_id] = db.SyncCursor(window.end, high_water)
            deleted = (self.seen.pop(window.adgroup_id, None)
                       if window.adgroup_id in self.provided else None)
            moves.append((window.adgroup_id, window.end, high_water, deleted))
        self.unflushed = []
        self.flushed_at = time.monotonic()
        if batch is not None or moves:
            self.storer.submit(lambda cur: self._store(cur, batch, moves))

    def _store(self, cur: db.Cursor, batch: pa.Table | None,
               moves: list[tuple[str, date, datetime | None, set[str] | None]]) -> None:
        """In the store thread: the rows first, then the cursors they back."""
        if batch is not None:
            self.rows += db.upsert_comments(cur, batch, self.seen_at)
        for adgroup_id, through, high_water, seen in moves:
            db.set_cursor(cur, self.advertiser_id, adgroup_id, through, high_water)
            if seen is not None:
                self._record_deletions(cur, adgroup_id, seen)

    def _record_deletions(self, cur: db.Cursor, adgroup_id: str, seen: set[str]) -> None:
        """After a refresh listed an ad group's recent days whole: the stored comments of those
        days TikTok no longer lists were deleted."""
        first = refresh_start(self.today, self.options.refresh_days or 0) + timedelta(days=1)
        self.deleted += db.record_deleted_comments(
            cur, "ad", self.advertiser_id, since=datetime.combine(first, day_time(), UTC),
            until=self.seen_at - DELETION_MARGIN, seen=seen, adgroup_id=adgroup_id)

    def _flush_due(self) -> bool:
        """Store the first page at once; then whenever the store thread is free and a batch
        is big or old enough (while it is busy, pages gather into the next batch)."""
        if not (self.buffer or self.unflushed):
            return False
        if self.storer.busy:
            return self.buffered_rows >= BUSY_BATCH * self.options.flush_rows
        return self.buffered_rows >= self.options.flush_rows or (
            time.monotonic() - self.flushed_at >= self.options.flush_seconds)

    def _narrow(self, window: _Window, error: TikTokError) -> bool:
        """When TikTok refused `window`'s date span, plan the rest of its ad group again in
        shorter windows (TikTokClient.next_comment_window) and return True; False when the
        error is something else or no shorter span is left."""
        shorter = self.client.next_comment_window(error, _span(window.start, window.end))
        if shorter is None:
            return False
        windows = self.plans[window.adgroup_id]
        last = windows[-1].end
        windows.clear()
        windows.extend(_windows(window.adgroup_id, window.start, last, shorter,
                                window.high_water))
        self.ready.append((windows[0], 1))
        return True

    def _refused(self, adgroup_id: str, error: TikTokError) -> bool:
        """When TikTok does not provide this ad group's comments (Upgraded Smart+ ads: the
        40002 "does not support Upgraded Smart Plus ads", or a 51010 that outlasted the
        retries on a Smart+ ad group), record that on its ads and return True. Not a failure:
        a sync cannot change it."""
        if not (comments_refused(error) or (
                adgroup_id in self.smart_plus and isinstance(error, ServerError)
                and error.code == 51010)):
            return False
        said = f"{error.message or error.title} (code {error.code})"
        self.refused[adgroup_id] = said
        self._drop(adgroup_id)
        return True

    def refused_ads(self) -> list[Ad]:
        """The ads of the ad groups whose comments TikTok does not provide, by name then ID."""
        ads = [ad for ad in self.stored.values() if ad.adgroup_id in self.refused]
        return sorted(ads, key=lambda ad: (ad.ad_name or "", ad.ad_id or ""))

    def _fail(self, adgroup_id: str, error: TikTokError, run_id: int) -> None:
        self.failures[adgroup_id] = str(error)
        self.storer.submit(lambda cur: db.record_sync_failure(
            cur, run_id, self.advertiser_id, adgroup_id, str(error)))
        self._drop(adgroup_id)

    def _drop(self, adgroup_id: str) -> None:
        """Fetch nothing more of this ad group in this run."""
        self.seen.pop(adgroup_id, None)
        if self.plans.pop(adgroup_id, None) is not None:
            self.adgroups_done += 1
        self.ready = deque((w, p) for w, p in self.ready if w.adgroup_id != adgroup_id)

    def _take_comments(self, window: _Window, page_no: int, future: Future, run_id: int
                       ) -> None:
        if window.adgroup_id in self.failures or window.adgroup_id in self.refused:
            return
        try:
            page, table, took = future.result()
        except (TokenError, PermissionDenied, AppUnavailable) as exc:
            raise SyncAborted(exc) from exc
        except TikTokError as exc:
            if not ((page_no == 1 and self._narrow(window, exc))
                    or self._refused(window.adgroup_id, exc)):
                self._fail(window.adgroup_id, exc, run_id)
            return
        self.in_flight.done(took)
        self._take_page(window, page_no, page, table)
        if window.complete():
            self._window_done(window)

    def run(self, run_id: int) -> None:
        """Every listing and every comment page, as many at a time as keep the budget busy
        (InFlight); this thread stores."""
        workers = self.options.workers or workers_for(self.client.rate_limiter.qps)
        self.in_flight = InFlight(self.client.rate_limiter.qps, 2 * workers)
        in_flight: dict[Future, Callable[[Future], None]] = {}
        self._report("ads")
        with ThreadPoolExecutor(workers, thread_name_prefix="sync") as pool:
            try:
                while self.listings or self.ready or in_flight:
                    while len(in_flight) < self.in_flight.limit and not self.stop.is_set() and (
                            self.listings or self.ready):
                        if self.listings:
                            name, call = self.listings.popleft()
                            in_flight[pool.submit(call)] = (
                                lambda f, n=name: self.take_listing(n, f.result()))
                            continue
                        window, page_no = self.ready.popleft()
                        if window.adgroup_id in self.failures:
                            continue
                        window.outstanding.add(page_no)
                        in_flight[pool.submit(self._fetch, window, page_no)] = (
                            lambda f, w=window, p=page_no: self._take_comments(w, p, f, run_id))
                    if not in_flight:
                        break
                    done, _ = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        in_flight.pop(future)(future)
                    if self._flush_due():
                        self.flush()
                    if done:
                        self._report("comments" if "ads" in self.listed else "ads")
            finally:
                for future in in_flight:
                    future.cancel()
                try:
                    # Whatever was fetched is good data, even when the run stops early.
                    self.flush()
                    provided, refused = sorted(self.provided), dict(self.refused)

                    def mark_refused(cur: db.Cursor) -> None:
                        db.set_comments_refused(cur, self.advertiser_id, provided, None)
                        for adgroup_id, said in refused.items():
                            db.set_comments_refused(cur, self.advertiser_id, [adgroup_id],
                                                    said)

                    self.storer.submit(mark_refused)
                finally:  # the store thread ends even when storing failed
                    self.storer.close()


REFUSED_ADS_NAMED = 5
"""How many ads whose comments TikTok does not provide a sync's message names."""
_NAME_LENGTH = 60  # the longest ad name quoted whole in a sync's message


def refused_ads_sentence(ads: list[Ad], adgroups: int) -> str:
    """The sync message's sentence naming the ads whose comments TikTok does not provide
    (each by its name, else its ID; the first few, then how many more), or, when no stored ad
    is known for them, their `adgroups` ad groups."""
    if not ads:
        return (f"TikTok does not provide the comments of {adgroups} ad group(s) (Upgraded "
                "Smart+ ads); the Ads page lists their ads.")
    names = []
    for ad in ads[:REFUSED_ADS_NAMED]:
        name = " ".join((ad.ad_name or "").split())
        if len(name) > _NAME_LENGTH:
            name = name[:_NAME_LENGTH - 1].rstrip() + "…"
        names.append(f'"{name}"' if name else f"ad {ad.ad_id}")
    listed = ", ".join(names)
    if len(ads) > REFUSED_ADS_NAMED:
        listed += f" and {len(ads) - REFUSED_ADS_NAMED} more"
    which = "this Upgraded Smart+ ad" if len(ads) == 1 else (
        f"these {len(ads)} Upgraded Smart+ ads")
    where = "the Ads page marks it" if len(ads) == 1 else "the Ads page lists them all"
    return f"TikTok does not provide the comments of {which}: {listed}; {where}."


def sync_advertiser(
    store: db.Store,
    client: TikTokClient,
    advertiser_id: str,
    *,
    options: SyncOptions | None = None,
    progress: Callable[[AdSyncProgress], None] | None = None,
    stop: threading.Event | None = None,
    today: date | None = None,
) -> AdSyncResult:
    """Bring the store up to date with one advertiser's ads and comments.

    Raises SyncAborted when the token or the permission is refused; every other API error
    is recorded against its ad group and the rest of the account still syncs.
    """
    options = options or SyncOptions()
    started = time.monotonic()
    seen_at = datetime.now(UTC)
    today = today or seen_at.date()
    advertiser_id = str(advertiser_id)
    with recorded_run(store, "ad", advertiser_id,
                      options.refresh_days) as record, store.cursor() as cur:
        run = _Run(cur, Storer(store, f"desk-store-{advertiser_id}"), client, advertiser_id,
                   options, progress, stop, today, seen_at)
        try:
            run.plan_listings()
            run.run(record.run_id)
            record.status, record.message = outcome(
                run.stop.is_set(), len(run.failures), AdSyncResult.part,
                f"{run.rows:,} comments from {len(run.stored)} ads.")
            if run.deleted:
                record.message += f" {run.deleted:,} comments were deleted on TikTok."
            if run.refused:
                record.message += " " + refused_ads_sentence(run.refused_ads(), len(run.refused))
        except TikTokError as exc:
            raise SyncAborted(exc) from exc
        finally:
            prog = run.progress("done")
            record.requests, record.pages, record.rows = prog.requests, run.pages_done, run.rows
            record.throttled, record.retried = prog.throttled, prog.retried
            record.errors = len(run.failures)
            run._report("done")
    return AdSyncResult(**record.result_fields(time.monotonic() - started, run.failures),
                        ads=len(run.stored), pages=run.pages_done, throttled=prog.throttled,
                        retried=prog.retried, refused=tuple(sorted(run.refused)),
                        deleted=run.deleted)
