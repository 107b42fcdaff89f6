"""An ad account's sync: ads, then every comment of every ad group, concurrently, resumably.

How a sync walks an advertiser:

1. `ad/get/` (all pages) gives the ads and so the ad groups; comments are listed per ad group.
   ad/get filtered by buying type says which ads were reserved (Reach & Frequency, TopView,
   the latter listed only that way), and `smart_plus/ad/get/` adds the Upgraded Smart+ ads.
2. Each ad group gets a list of date windows. Without a cursor they cover the look-back period
   (never earlier than the ad group's oldest ad) and are fetched in *full* mode: oldest first,
   page 1 says how many pages there are and the rest are fetched in parallel. Comments that
   arrive meanwhile land after the last page, so pages never shift under us.
3. With a cursor, the first window starts a day before it (the overlap) and is fetched in *head*
   mode: newest first, page by page, until a page reaches comments older than the cursor's
   high-water mark (less a margin). A sync with nothing new costs one request per ad group.
4. A cursor advances only after its whole window is stored, so a sync killed at any moment
   and started again stores exactly what an uninterrupted one would.

Only the calling thread writes to the store; worker threads only talk to TikTok.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

import pandas as pd

from desk import store as db
from desk.errors import SyncAborted
from desk.sources.base import SyncResult, fraction_done, outcome, recorded_run
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
from tiktok_client.models import Ad, Page

FULL, HEAD = "full", "head"
# How an ad was bought (ad/get's filtering.buying_types); comments on reserved ads are hidden
# with ad_type BRAND (desk.sources.ads).
AUCTION, RESERVATION_RF, RESERVATION_TOP_VIEW = "AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW"
log = logging.getLogger(__name__)
ADVERTISER_REFRESH = timedelta(hours=24)  # names and timezones rarely change
MAX_WINDOW_PAGES = 10_000  # a million comments in one ad group's window: more is a broken answer
_INTEGER = range(-(2**31), 2**31)  # what the store's INTEGER columns (likes, replies) hold


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
    workers: int = 8
    page_size: int = 100
    since: date | None = None  # refetch from this day, ignoring cursors
    flush_rows: int = 5000  # the writer stores pages in batches of about this many rows
    flush_seconds: float = 2.0  # ... and at least this often, so cursors keep moving


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
    else:
        start, high_water = today - timedelta(days=options.lookback_days), None
        if oldest_ad is not None:
            start = max(start, oldest_ad.date() - timedelta(days=1))
    span = options.window_days or _span(start, end)
    return _windows(adgroup_id, start, end, span, high_water)


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


def _check_page(page: Page) -> None:
    """Refuse a comment/list page that cannot be stored whole, as a typed error: its ad group
    fails and its cursor stays where it was."""
    if any(c.comment_id is None for c in page.items):
        raise MalformedResponse("comment/list returned a comment without a comment_id")
    total = page.page_info.total_page
    if total is not None and total > MAX_WINDOW_PAGES:
        raise MalformedResponse(
            f"comment/list reported {total} pages for one ad group's dates; "
            f"at most {MAX_WINDOW_PAGES} are expected"
        )


def _page_frame(page: Page) -> pd.DataFrame:
    records = [c.to_record() for c in page.items]
    for record in records:
        for name in ("likes", "replies"):  # a count no INTEGER holds is unreadable, like "abc"
            if record[name] is not None and record[name] not in _INTEGER:
                record[name] = None
    return pd.DataFrame.from_records(records)


class _Run:
    """One sync of one advertiser: the scheduler state, driven from the calling thread."""

    def __init__(self, cur: db.Cursor, client: TikTokClient, advertiser_id: str,
                 options: SyncOptions, progress: Callable[[AdSyncProgress], None] | None,
                 stop: threading.Event | None):
        self.cur, self.client, self.advertiser_id = cur, client, advertiser_id
        self.options, self.report, self.stop = options, progress, stop or threading.Event()
        self.plans: dict[str, deque[_Window]] = {}
        self.ready: deque[tuple[_Window, int]] = deque()
        self.failures: dict[str, str] = {}
        self.smart_plus: set[str] = set()  # ad groups of Upgraded Smart+ ads
        self.refused: dict[str, str] = {}  # ad group -> TikTok's refusal of its comments
        self.provided: set[str] = set()  # ad groups whose comments came in whole
        self.cursors: dict[str, db.SyncCursor] = {}
        self.buffer: list[pd.DataFrame] = []
        self.buffered_rows = 0
        self.unflushed: list[_Window] = []  # fetched whole; their cursors move on the next flush
        self.flushed_at = time.monotonic()
        self.pages_done = self.rows = self.ads = 0
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

    # the phases

    def sync_ads(self, seen_at: datetime) -> dict[str, datetime | None]:
        """Store every ad; return each ad group with its oldest ad's creation time."""
        self._report("ads")
        known = db.advertiser_updated_at(self.cur, self.advertiser_id)
        if known is None or seen_at - known > ADVERTISER_REFRESH:
            # Details without an ID cannot be stored; they only refresh names, so skip them.
            infos = [a for a in self.client.get_advertiser_info([self.advertiser_id])
                     if a.advertiser_id is not None]
            if infos:
                db.upsert_advertisers(
                    self.cur, pd.DataFrame.from_records([a.to_record() for a in infos])
                )
        ads = list(self.client.iter_ads(self.advertiser_id))
        if any(ad.ad_id is None for ad in ads):
            raise MalformedResponse("ad/get returned an ad without an ad_id")
        top_view, bought = self._buying_types(ads)
        ads += top_view
        smart_plus = self._smart_plus_ads({ad.ad_id for ad in ads})
        ads += smart_plus
        if bought:  # Upgraded Smart+ ads are bought in the auction
            bought.update({ad.ad_id: AUCTION for ad in smart_plus})
        self.ads = len(ads)
        oldest: dict[str, datetime | None] = {}
        if ads:
            frame = pd.DataFrame.from_records([ad.to_record() for ad in ads])
            frame["advertiser_id"] = self.advertiser_id
            if bought:  # else what an earlier sync learned stays
                frame["buying_type"] = [bought.get(ad.ad_id) for ad in ads]
            db.upsert_ads(self.cur, frame, seen_at)
            # From the ads themselves, not the frame: pandas turns a missing ID into NaN.
            for ad in ads:
                if ad.adgroup_id is None:
                    continue
                have, created = oldest.get(ad.adgroup_id), ad.create_time
                oldest[ad.adgroup_id] = created if have is None or (
                    created is not None and created < have) else have
        return oldest

    def _buying_types(self, ads: list[Ad]) -> tuple[list[Ad], dict[str | None, str]]:
        """The TopView ads, which ad/get lists only when asked for them alone, and how each ad
        was bought (AUCTION, RESERVATION_RF or RESERVATION_TOP_VIEW), from ad/get's
        `filtering.buying_types`: hiding a comment on a reserved ad takes ad_type BRAND. When
        TikTok will not filter by buying type, nothing is known (an empty mapping) and the
        sync goes on."""
        try:
            reach_frequency = {ad.ad_id for ad in self.client.iter_ads(
                self.advertiser_id, filtering={"buying_types": [RESERVATION_RF]})}
            top_view = [ad for ad in self.client.iter_ads(
                self.advertiser_id, filtering={"buying_types": [RESERVATION_TOP_VIEW]})
                if ad.ad_id is not None]
        except (TokenError, AppUnavailable):
            raise
        except TikTokError as exc:
            log.info("ad/get/ by buying type for %s: %s", self.advertiser_id, exc)
            return [], {}
        bought = {ad.ad_id: RESERVATION_RF if ad.ad_id in reach_frequency else AUCTION
                  for ad in ads}
        bought.update({ad.ad_id: RESERVATION_TOP_VIEW for ad in top_view})
        listed = {ad.ad_id for ad in ads}
        return [ad for ad in top_view if ad.ad_id not in listed], bought

    def _smart_plus_ads(self, listed: set[str | None]) -> list[Ad]:
        """The Upgraded Smart+ ads, which ad/get leaves out (smart_plus/ad/get/). An account
        or app that cannot list them still syncs its other ads: only a refused token or
        permission stops the sync."""
        try:
            found = [ad for ad in self.client.iter_smart_plus_ads(self.advertiser_id)
                     if ad.ad_id is not None and ad.ad_id not in listed]
        except (TokenError, AppUnavailable):
            raise
        except TikTokError as exc:
            log.info("smart_plus/ad/get/ for %s: %s", self.advertiser_id, exc)
            return []
        self.smart_plus = {ad.adgroup_id for ad in found if ad.adgroup_id is not None}
        return found

    def plan(self, oldest: dict[str, datetime | None], today: date) -> None:
        self.cursors = db.get_cursors(self.cur, self.advertiser_id)
        for adgroup_id in sorted(oldest):
            windows = plan_windows(adgroup_id, self.cursors.get(adgroup_id),
                                   oldest[adgroup_id], today, self.options)
            if self.options.window_days is None and windows:
                # One window over everything, unless TikTok's refusals taught a shorter span.
                whole = windows[0]
                days = self.client.comment_window_days(_span(whole.start, whole.end))
                windows = _windows(adgroup_id, whole.start, whole.end, days, whole.high_water)
            if windows:
                self.plans[adgroup_id] = deque(windows)
                self.ready.append((windows[0], 1))

    def _fetch(self, window: _Window, page: int) -> tuple[Page, pd.DataFrame]:
        result = self.client.comments_page(
            self.advertiser_id, window.adgroup_id, window.start, window.end, page=page,
            page_size=self.options.page_size,
            sort_type="DESC" if window.mode == HEAD else "ASC",
        )
        _check_page(result)
        return result, _page_frame(result)

    def _take_page(self, window: _Window, page_no: int, page: Page, frame: pd.DataFrame) -> None:
        """Buffer a fetched page for the writer and schedule what it makes necessary."""
        window.outstanding.discard(page_no)
        window.stored.add(page_no)
        self.pages_done += 1
        self.current = window.adgroup_id
        if len(frame):
            frame["advertiser_id"] = self.advertiser_id
            self.buffer.append(frame)
            self.buffered_rows += len(frame)
            times = [c.create_time for c in page.items if c.create_time is not None]
            if times:
                newest = max(times)
                window.newest = newest if window.newest is None else max(window.newest, newest)
        total = max(1, page.page_info.total_page or 1) if page.page_info else 1
        if window.mode == FULL:
            if window.total_pages is None:
                window.total_pages = total
                for n in range(2, total + 1):
                    self.ready.append((window, n))
            return
        # Head mode: newest first; stop once a page reaches what an earlier sync stored.
        times = [c.create_time for c in page.items if c.create_time is not None]
        reached = (
            window.high_water is not None and times
            and min(times) < window.high_water - self.options.head_margin
        )
        if reached or not page.items or page_no >= total:
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

    def flush(self, seen_at: datetime) -> None:
        """Store the buffered pages in one upsert, then move the cursors of complete windows."""
        if self.buffer:
            batch = pd.concat(self.buffer, ignore_index=True)
            self.buffer, self.buffered_rows = [], 0
            self.rows += db.upsert_comments(self.cur, batch, seen_at)
        for window in self.unflushed:
            previous = self.cursors.get(window.adgroup_id)
            high_water = window.newest
            if previous is not None and previous.high_water is not None:
                high_water = previous.high_water if high_water is None else max(
                    high_water, previous.high_water)
            db.set_cursor(self.cur, self.advertiser_id, window.adgroup_id, window.end,
                          high_water)
            self.cursors[window.adgroup_id] = db.SyncCursor(window.end, high_water)
        self.unflushed = []
        self.flushed_at = time.monotonic()

    def _flush_due(self) -> bool:
        return self.buffered_rows >= self.options.flush_rows or (
            (self.buffer or self.unflushed)
            and time.monotonic() - self.flushed_at >= self.options.flush_seconds
        )

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
        db.set_comments_refused(self.cur, self.advertiser_id, [adgroup_id], said)
        if self.plans.pop(adgroup_id, None) is not None:
            self.adgroups_done += 1
        self.ready = deque((w, p) for w, p in self.ready if w.adgroup_id != adgroup_id)
        return True

    def _fail(self, adgroup_id: str, error: TikTokError, run_id: int) -> None:
        self.failures[adgroup_id] = str(error)
        db.record_sync_failure(self.cur, run_id, self.advertiser_id, adgroup_id, str(error))
        if self.plans.pop(adgroup_id, None) is not None:
            self.adgroups_done += 1
        self.ready = deque((w, p) for w, p in self.ready if w.adgroup_id != adgroup_id)

    def sync_comments(self, run_id: int, seen_at: datetime) -> None:
        in_flight: dict[Future, tuple[_Window, int]] = {}
        limit = self.options.workers * 2  # keeps memory flat: a bounded number of pages held
        with ThreadPoolExecutor(self.options.workers, thread_name_prefix="sync") as pool:
            try:
                while self.ready or in_flight:
                    while self.ready and len(in_flight) < limit and not self.stop.is_set():
                        window, page_no = self.ready.popleft()
                        if window.adgroup_id in self.failures:
                            continue
                        window.outstanding.add(page_no)
                        in_flight[pool.submit(self._fetch, window, page_no)] = (window, page_no)
                    if not in_flight:
                        break
                    done, _ = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        window, page_no = in_flight.pop(future)
                        if window.adgroup_id in self.failures or window.adgroup_id in self.refused:
                            continue
                        try:
                            page, frame = future.result()
                        except (TokenError, PermissionDenied, AppUnavailable) as exc:
                            raise SyncAborted(exc) from exc
                        except TikTokError as exc:
                            if not ((page_no == 1 and self._narrow(window, exc))
                                    or self._refused(window.adgroup_id, exc)):
                                self._fail(window.adgroup_id, exc, run_id)
                            continue
                        self._take_page(window, page_no, page, frame)
                        if window.complete():
                            self._window_done(window)
                    if self._flush_due():
                        self.flush(seen_at)
                    if done:
                        self._report("comments")
            finally:
                for future in in_flight:
                    future.cancel()
                # Whatever was fetched is good data, even when the run stops early.
                self.flush(seen_at)
                db.set_comments_refused(self.cur, self.advertiser_id, sorted(self.provided),
                                        None)


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
    with recorded_run(store, "ad", advertiser_id) as record, store.cursor() as cur:
        run = _Run(cur, client, advertiser_id, options, progress, stop)
        try:
            run.plan(run.sync_ads(seen_at), today)
            run.sync_comments(record.run_id, seen_at)
            record.status, record.message = outcome(
                run.stop.is_set(), len(run.failures), AdSyncResult.part,
                f"{run.rows:,} comments from {run.ads} ads.")
            if run.refused:
                record.message += (
                    f" TikTok does not provide the comments of {len(run.refused)} ad groups "
                    "(Upgraded Smart+ ads); the Ads page names their ads.")
        except TikTokError as exc:
            raise SyncAborted(exc) from exc
        finally:
            prog = run.progress("done")
            record.requests, record.pages, record.rows = prog.requests, run.pages_done, run.rows
            record.throttled, record.retried = prog.throttled, prog.retried
            record.errors = len(run.failures)
            run._report("done")
    return AdSyncResult(**record.result_fields(time.monotonic() - started, run.failures),
                        ads=run.ads, pages=run.pages_done, throttled=prog.throttled,
                        retried=prog.retried, refused=tuple(sorted(run.refused)))
