"""A TikTok business account's sync: profile, videos, and every organic comment.

How a sync walks an account (the Accounts API, cursor-paged):

1. business/get/ gives the profile (-> business_accounts), asking only for the fields the
   account holder's granted scopes cover (and for the basic ones alone when TikTok refuses
   them: tiktok_client's BusinessAccountClient.get_profile). A profile that cannot be read
   does not stop the sync: the result's `profile_error` says why, and the videos and comments
   sync all the same. business/video/list/, every page, gives the videos (-> videos) with
   each video's comment count.
2. Each video is then brought up to date, oldest first, the videos side by side (each walk
   is a chain of cursor pages; the app's rate limiter, not the walks, sets the pace):
   - *skip*: it was synced before and TikTok's comment count equals the number stored: no
     request at all. (The sandbox counts every comment and reply, hidden ones included. If
     TikTok's count leaves hidden ones out, the counts differ and the next step runs: slower,
     never wrong.)
   - *head*: it was synced before: top-level comments newest first (sort_field create_time,
     sort_order desc, status ALL so hidden ones come too) until a page reaches the video's
     high-water mark less `head_margin`. The cursor is an offset; a comment arriving while
     paging shifts the rest by one, so a comment can come twice (the upsert keeps one) but
     none is skipped.
   - *full*: never synced, or the head walk did not account for every comment TikTok counts
     (a new reply to an old comment): every top-level comment, oldest first.
   Replies (business/comment/reply/list/, status ALL) are fetched for each top-level comment
   seen whose `replies` count differs from the replies stored for it (and, in a refresh, for
   every one of the refresh period that has replies: step 4).
3. A video's rows are stored (one upsert of a DataFrame batch) before its high-water mark
   moves, so a sync stopped at any point and run again stores exactly what an uninterrupted
   one would.
4. A *refresh* (`OrganicSyncOptions(refresh_days=N)`) walks every video newest first down to
   the last N days whatever its count, and lists the replies of every top-level comment of
   those days that has any, whatever its count (one request per such comment and 100
   replies): likes, replies and status of stored comments and of their replies are brought up
   to date, and the stored comments TikTok no longer lists there (and the replies no longer
   listed under a comment whose replies were listed) are recorded as deleted. A reply to an
   older comment is refreshed only when that comment's reply count changed.
   `OrganicSyncOptions(full=True)` refetches everything.

The access token comes from a callable (TokenKeeper.access_token): it is asked before every
request, so a long sync refreshes on use; a call answered "token expired" is retried once with a
freshly asked token.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any, ClassVar, TypeVar

import pandas as pd

from desk import store as db
from desk.connect.tokens import TokenKeeper
from desk.errors import TIKTOK_ACCOUNT, SyncAborted
from desk.sources.ad_sync import DELETION_MARGIN, workers_for
from desk.sources.base import SyncResult, fraction_done, outcome, recorded_run
from tiktok_client.accounts import (
    MAX_ORGANIC_COMMENT_PAGE_SIZE,
    MAX_VIDEO_PAGE_SIZE,
    BusinessAccountClient,
)
from tiktok_client.accounts_models import CursorPage, OrganicComment, Video
from tiktok_client.client import TikTokClient
from tiktok_client.errors import (
    AccessTokenExpired,
    AppUnavailable,
    MalformedResponse,
    PermissionDenied,
    TikTokError,
    TokenError,
)

T = TypeVar("T")

SKIP, HEAD, FULL = "skip", "head", "full"
_INTEGER = range(-(2**31), 2**31)


@dataclass(frozen=True)
class OrganicSyncOptions:
    video_page_size: int = MAX_VIDEO_PAGE_SIZE
    comment_page_size: int = MAX_ORGANIC_COMMENT_PAGE_SIZE
    head_margin: timedelta = timedelta(hours=1)
    flush_rows: int = 5000  # comments are stored in batches of about this many
    full: bool = False  # refetch every comment of every video, ignoring high-water marks
    # Refresh the comments of the last `refresh_days` days of every video: their likes,
    # replies and status, and which were deleted. None: only what is new.
    refresh_days: int | None = None
    workers: int | None = None  # None: as many as the rate limit needs (ad_sync.workers_for)


@dataclass(frozen=True)
class OrganicSyncProgress:
    phase: str  # "profile", "videos", "comments" or "done"
    videos_done: int
    videos_total: int
    rows: int
    requests: int
    current_video: str | None

    @property
    def fraction(self) -> float:
        return fraction_done(self.phase, self.videos_done, self.videos_total)

    def line(self) -> str:
        return (f"{self.phase}: videos {self.videos_done}/{self.videos_total}, "
                f"{self.rows:,} comments, {self.requests} requests")


@dataclass(frozen=True)
class OrganicSyncResult(SyncResult):
    """How a business account's sync ended: the common counts, plus its videos."""

    part: ClassVar[str] = "video"
    videos: int = 0
    videos_skipped: int = 0  # known unchanged: not a single request
    profile_error: str | None = None  # why the profile could not be read; None when it was
    deleted: int = 0  # stored comments a refresh found TikTok no longer lists

    def _extra(self) -> str:
        return (f"; {self.videos_skipped} unchanged videos skipped" if self.videos_skipped
                else "")


def profile_note(error: str) -> str:
    """The sentence a sync's message ends with when the account's profile could not be read."""
    return (f" The account's profile could not be read ({error}); its videos and comments "
            "synced all the same.")


def _comment_frame(comments: list[OrganicComment]) -> pd.DataFrame:
    if any(c.comment_id is None for c in comments):
        raise MalformedResponse("business/comment/list returned a comment without a comment_id")
    records = []
    for comment in comments:
        record = comment.to_record()
        record["comment_type"] = comment.comment_type
        for name in ("likes", "replies"):
            if record[name] is not None and record[name] not in _INTEGER:
                record[name] = None
        records.append(record)
    return db.organic_comment_frame(records)


@dataclass
class _Video:
    """Where one video's walk stands: its top-level chain, and a chain of replies for each
    comment whose replies changed; the video is done when every chain is."""

    video: Video
    mode: str  # HEAD or FULL
    high_water: datetime | None  # HEAD: stop there, less the margin
    replies_stored: dict[str, int]
    refreshing: bool  # listing the refresh period whole: what is not listed was deleted
    chains: int = 1  # the top-level chain, and each reply chain still being walked
    newest: datetime | None = None
    seen: set[str] = field(default_factory=set)  # top-level comments TikTok listed
    replies_seen: dict[str, set[str]] = field(default_factory=dict)  # parent -> replies
    # a refresh: comments whose replies an earlier walk of this run listed already
    replies_listed: frozenset[str] = frozenset()

    @property
    def video_id(self) -> str:
        return str(self.video.video_id)

    @property
    def order(self) -> str:
        return "desc" if self.mode == HEAD else "asc"


class _Run:
    def __init__(self, cur: db.Cursor, client: TikTokClient, business_id: str,
                 token: Callable[[], str], options: OrganicSyncOptions,
                 progress: Callable[[OrganicSyncProgress], None] | None,
                 stop: threading.Event | None, scopes: Sequence[str] | None = None):
        self.cur = cur
        self.client, self.business_id, self.token = client, business_id, token
        self.scopes = tuple(scopes) if scopes else None
        self.profile_error: str | None = None
        self.options, self.report, self.stop = options, progress, stop or threading.Event()
        self.account: BusinessAccountClient | None = None
        self.account_token: str | None = None
        self._account_lock = threading.Lock()
        self.stats_at_start = client.stats.snapshot()["requests"]
        self.rows = self.videos_done = self.videos_total = self.skipped = self.deleted = 0
        self.current: str | None = None
        self.failures: dict[str, str] = {}
        self.buffer: list[pd.DataFrame] = []
        self.buffered = 0
        self.seen_at = datetime.now(UTC)
        # a refresh: the first moment of its period, whose comments' replies are all listed
        self.refresh_since = (None if options.refresh_days is None else datetime.combine(
            refresh_first_day(self.seen_at, options.refresh_days), day_time(), UTC))

    def progress(self, phase: str) -> OrganicSyncProgress:
        return OrganicSyncProgress(
            phase, self.videos_done, self.videos_total, self.rows,
            self.client.stats.snapshot()["requests"] - self.stats_at_start, self.current)

    def _report(self, phase: str) -> None:
        if self.report is not None:
            self.report(self.progress(phase))

    # talking to TikTok (from any thread)

    def _api(self) -> BusinessAccountClient:
        token = self.token()
        with self._account_lock:
            if self.account is None or token != self.account_token:
                self.account = BusinessAccountClient(self.client.with_token(token),
                                                     self.business_id, scopes=self.scopes)
                self.account_token = token
            return self.account

    def _call(self, fn: Callable[[BusinessAccountClient], T]) -> T:
        try:
            return fn(self._api())
        except AccessTokenExpired:
            with self._account_lock:
                self.account = None  # expired under us: ask for the token again, once
            return fn(self._api())

    def _pages(self, fetch: Callable[[BusinessAccountClient, int | None], CursorPage[T]],
               action: str) -> Iterator[CursorPage[T]]:
        cursor: int | None = None
        while True:
            page = self._call(lambda api, at=cursor: fetch(api, at))
            yield page
            cursor = _next_cursor(page, cursor, action)
            if cursor is None:
                return

    # storing (this thread only)

    def _buffer(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self.buffer.append(frame)
            self.buffered += len(frame)
        if self.buffered >= self.options.flush_rows:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            batch = pd.concat(self.buffer, ignore_index=True)
            self.buffer, self.buffered = [], 0
            self.rows += db.upsert_organic_comments(self.cur, batch, self.seen_at)

    # the profile and the videos

    def sync_profile(self) -> None:
        """Store the account's profile. What TikTok did not send (a field the grant does not
        cover) is left as stored; a profile that cannot be read at all is recorded in
        `profile_error` and the account is stored by its business_id alone. A refused token
        still stops the sync."""
        row: dict[str, object] = {"business_id": self.business_id}
        try:
            profile = self._call(lambda api: api.get_profile()).to_record()
        except TokenError:
            raise
        except TikTokError as exc:
            self.profile_error = str(exc)
        else:
            row.update((k, v) for k, v in profile.items()
                       if v is not None and not isinstance(v, list))
        db.upsert_business_accounts(self.cur, pd.DataFrame.from_records([row]))

    def sync_profile_and_videos(self) -> list[Video]:
        self._report("profile")
        self.sync_profile()
        self._report("videos")
        videos: list[Video] = []
        for page in self._pages(
            lambda api, cursor: api.videos_page(cursor, self.options.video_page_size),
            "business/video/list/",
        ):
            videos.extend(page.items)
        if any(v.video_id is None for v in videos):
            raise MalformedResponse("business/video/list returned a video without an item_id")
        if videos:
            frame = pd.DataFrame.from_records([v.to_record() for v in videos])
            frame["business_id"] = self.business_id
            db.upsert_videos(self.cur, frame, self.seen_at)
        self.videos_total = len(videos)
        return videos

    # the comments: every video's chains of pages side by side

    def plan(self, video: Video, cursors: dict[str, datetime | None],
             stored: dict[str, int]) -> _Video | None:
        """How to bring one video up to date; None when it is known unchanged (skipped)."""
        video_id = str(video.video_id)
        synced = video_id in cursors and not self.options.full
        refreshing = self.options.refresh_days is not None
        if synced and not refreshing and video.comments is not None \
                and video.comments == stored.get(video_id, 0):
            return None
        high_water = cursors.get(video_id)
        mode = HEAD if synced and (high_water is not None or refreshing) else FULL
        if refreshing and mode == HEAD:  # newest first down to the refresh period's start
            high_water = self.refresh_since + self.options.head_margin
            if cursors.get(video_id) is not None:
                high_water = min(high_water, cursors[video_id])
        return _Video(video, mode, high_water, db.organic_reply_counts(self.cur, video_id),
                      refreshing)

    def top_page(self, walk: _Video, cursor: int | None
                 ) -> CursorPage[OrganicComment]:
        size = self.options.comment_page_size
        return self._call(lambda api: api.comments_page(
            walk.video_id, cursor, size, status="ALL", sort_field="create_time",
            sort_order=walk.order))

    def reply_page(self, walk: _Video, parent: str, cursor: int | None
                   ) -> CursorPage[OrganicComment]:
        size = self.options.comment_page_size
        page = self._call(lambda api: api.replies_page(walk.video_id, parent, cursor, size,
                                                       status="ALL"))
        return replace(page, items=[r.with_parent(parent, walk.video_id) for r in page.items])

    def take_top(self, walk: _Video, cursor: int | None, page: CursorPage[OrganicComment],
                 submit: Callable[..., None]) -> None:
        """A page of top-level comments is in: buffer it, start the reply chains it calls for,
        and ask for the next page unless the walk is over."""
        self._buffer(_comment_frame(page.items))
        walk.seen.update(str(c.comment_id) for c in page.items)
        times = [c.create_time for c in page.items if c.create_time is not None]
        if times:
            walk.newest = max(times) if walk.newest is None else max(walk.newest, *times)
        for comment in page.items:
            if self.lists_replies(walk, comment):
                walk.chains += 1
                walk.replies_seen[str(comment.comment_id)] = set()
                submit("replies", walk, str(comment.comment_id), None)
        reached = (walk.mode == HEAD and walk.high_water is not None and times
                   and min(times) < walk.high_water - self.options.head_margin)
        following = None if reached else _next_cursor(page, cursor, "business/comment/list/")
        if following is None:
            walk.chains -= 1
        else:
            submit("top", walk, following)

    def lists_replies(self, walk: _Video, comment: OrganicComment) -> bool:
        """Whether to list a top-level comment's replies: when their count differs from the
        replies stored for it; in a refresh also when it is of the refresh period and has
        replies (their likes and status may have changed), once a run."""
        comment_id = str(comment.comment_id)
        stored = walk.replies_stored.get(comment_id, 0)
        if not (comment.replies or stored):
            return False
        if comment.replies != stored:
            return True
        return (self.refresh_since is not None and comment.create_time is not None
                and comment.create_time >= self.refresh_since
                and comment_id not in walk.replies_seen
                and comment_id not in walk.replies_listed)

    def take_replies(self, walk: _Video, parent: str, cursor: int | None,
                     page: CursorPage[OrganicComment], submit: Callable[..., None]) -> None:
        self._buffer(_comment_frame(page.items))
        walk.replies_seen[parent].update(str(r.comment_id) for r in page.items)
        following = _next_cursor(page, cursor, "business/comment/reply/list/")
        if following is None:
            walk.chains -= 1
        else:
            submit("replies", walk, parent, following)

    def video_walked(self, walk: _Video, submit: Callable[..., None]) -> bool:
        """Every chain of the video is in: store it, and either walk it again whole (a head
        walk that did not account for every comment TikTok counts) or record it done.
        Returns whether the video is done."""
        self.flush()
        video_id = walk.video_id
        if walk.refreshing:
            self._record_deletions(walk)
        if walk.mode == HEAD:
            stored = db.organic_counts(self.cur, self.business_id).get(video_id, 0)
            if walk.video.comments is None or walk.video.comments != stored:
                again = _Video(walk.video, FULL, None,
                               db.organic_reply_counts(self.cur, video_id), walk.refreshing,
                               newest=walk.newest,
                               replies_listed=walk.replies_listed | set(walk.replies_seen))
                submit("top", again, None)
                return False
        high_water = db.organic_cursors(self.cur, self.business_id).get(video_id)
        newest = walk.newest
        if high_water is not None:
            newest = high_water if newest is None else max(newest, high_water)
        db.set_organic_cursor(self.cur, self.business_id, video_id, newest)
        return True

    def _record_deletions(self, walk: _Video) -> None:
        """What a refresh listed whole and TikTok no longer lists was deleted: top-level
        comments of the refresh period (all of them after a full walk), and the replies of
        every comment whose replies were listed again."""
        until = self.seen_at - DELETION_MARGIN
        since = (walk.high_water - self.options.head_margin if walk.mode == HEAD
                 and walk.high_water is not None else datetime.min.replace(tzinfo=UTC))
        self.deleted += db.record_deleted_comments(
            self.cur, "organic", self.business_id, since=since, until=until, seen=walk.seen,
            video_id=walk.video_id, top_level_only=True)
        for parent, seen in walk.replies_seen.items():
            self.deleted += db.record_deleted_comments(
                self.cur, "organic", self.business_id, since=datetime.min.replace(tzinfo=UTC),
                until=until, seen=seen, video_id=walk.video_id, parent_id=parent)

    def sync_comments(self, videos: list[Video], run_id: int) -> None:
        """Every video's chains of pages side by side; this thread stores. Oldest videos
        first, and the pages of a video begun earlier before those of one begun later, so
        videos finish (and their high-water marks move) one after another: a sync stopped
        part way resumes after the videos it finished."""
        workers = self.options.workers or workers_for(self.client.rate_limiter.qps)
        most_active = max(3, workers // 2)  # videos walked at once
        cursors = db.organic_cursors(self.cur, self.business_id)
        stored = db.organic_counts(self.cur, self.business_id)
        waiting = deque(enumerate(reversed(videos)))
        ready: list[tuple[int, int, tuple[Any, ...]]] = []  # (video's turn, order, task)
        turns: dict[str, int] = {}
        order = itertools.count()
        in_flight: dict[Future, tuple[Any, ...]] = {}
        failed: set[str] = set()

        def submit(kind: str, walk: _Video, *rest: Any) -> None:
            heapq.heappush(ready, (turns[walk.video_id], next(order), (kind, walk, *rest)))

        def finished(walk: _Video) -> None:
            turns.pop(walk.video_id, None)
            self.videos_done += 1
            self._report("comments")

        with ThreadPoolExecutor(workers, thread_name_prefix="organic") as pool:
            try:
                while waiting or ready or in_flight:
                    while not self.stop.is_set() and len(in_flight) < workers * 2:
                        if waiting and len(turns) < most_active:
                            turn, video = waiting.popleft()
                            walk = self.plan(video, cursors, stored)
                            if walk is None:
                                self.skipped += 1
                                self.videos_done += 1
                                self._report("comments")
                            else:
                                turns[walk.video_id] = turn
                                submit("top", walk, None)
                            continue
                        if not ready:
                            break
                        task = heapq.heappop(ready)[2]
                        if task[1].video_id in failed:
                            continue
                        fetch = self.top_page if task[0] == "top" else self.reply_page
                        in_flight[pool.submit(fetch, *task[1:])] = task
                    if not in_flight:
                        break
                    done, _ = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        kind, walk, *rest = in_flight.pop(future)
                        if walk.video_id in failed:
                            continue
                        self.current = walk.video_id
                        try:
                            page = future.result()
                            if kind == "top":
                                self.take_top(walk, rest[0], page, submit)
                            else:
                                self.take_replies(walk, rest[0], rest[1], page, submit)
                            if walk.chains == 0 and self.video_walked(walk, submit):
                                finished(walk)
                        except TikTokError as exc:
                            if isinstance(exc, TokenError | PermissionDenied | AppUnavailable):
                                raise
                            failed.add(walk.video_id)  # its high-water mark stays where it was
                            self.failures[walk.video_id] = str(exc)
                            db.record_sync_failure(self.cur, run_id, self.business_id,
                                                   walk.video_id, str(exc), "organic")
                            finished(walk)
            finally:
                for future in in_flight:
                    future.cancel()
                self.flush()  # whatever was fetched is good data


def _next_cursor(page: CursorPage[Any], cursor: int | None, action: str) -> int | None:
    """The cursor of the page after `page` (fetched at `cursor`), or None when it was the
    last."""
    if not page.has_more:
        return None
    if page.cursor is None or page.cursor == cursor:
        raise MalformedResponse(f"{action} said there is more but sent no new cursor")
    return page.cursor


def date_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def refresh_first_day(now: datetime, days: int) -> date:
    """The first day a refresh of the last `days` days lists (a day early: any timezone)."""
    return date_of(now) - timedelta(days=days + 1)


def sync_business_account(
    store: db.Store,
    client: TikTokClient,
    business_id: str,
    token: Callable[[], str],
    *,
    options: OrganicSyncOptions | None = None,
    progress: Callable[[OrganicSyncProgress], None] | None = None,
    stop: threading.Event | None = None,
    scopes: Sequence[str] | None = None,
) -> OrganicSyncResult:
    """Bring the store up to date with one business account's profile, videos and organic
    comments. `client` carries the app's settings and rate limiter; `token()` gives the
    account's current access token; `scopes` are the scopes the account holder granted
    (stored with its tokens), when known: the profile asks only for the fields they cover.

    Raises SyncAborted when the token or the permission is refused; any other API error is
    recorded against its video and the other videos still sync. A profile that cannot be read
    (any error but a refused token) is reported in the result's `profile_error` and message.
    """
    options = options or OrganicSyncOptions()
    started = time.monotonic()
    business_id = str(business_id)
    with recorded_run(store, "organic", business_id,
                      options.refresh_days) as record, store.cursor() as cur:
        run = _Run(cur, client, business_id, token, options, progress, stop, scopes)
        try:
            videos = run.sync_profile_and_videos()
            run.sync_comments(videos, record.run_id)
            record.status, record.message = outcome(
                run.stop.is_set(), len(run.failures), OrganicSyncResult.part,
                f"{run.rows:,} organic comments from {len(videos)} videos.")
            if run.deleted:
                record.message += f" {run.deleted:,} comments were deleted on TikTok."
            if run.profile_error is not None:
                record.message += profile_note(run.profile_error)
        except (TokenError, PermissionDenied, AppUnavailable) as exc:
            raise SyncAborted(exc, TIKTOK_ACCOUNT) from exc
        finally:
            record.requests, record.rows = run.progress("done").requests, run.rows
            record.errors = len(run.failures)
            run._report("done")
    return OrganicSyncResult(**record.result_fields(time.monotonic() - started, run.failures),
                             videos=run.videos_total, videos_skipped=run.skipped,
                             profile_error=run.profile_error, deleted=run.deleted)


def run_organic_sync(
    store: db.Store,
    keeper: TokenKeeper,
    client: TikTokClient,
    business_id: str,
    *,
    clock: Callable[[], datetime] | None = None,
    options: OrganicSyncOptions | None = None,
    progress: Callable[[OrganicSyncProgress], None] | None = None,
    stop: threading.Event | None = None,
    scopes: Sequence[str] | None = None,
) -> OrganicSyncResult:
    """Sync a business account with the token the keeper holds for it (refreshed on use);
    `scopes` as in sync_business_account.

    Raises AccountNotConnected / AccountNeedsReconnect / TokenUnavailable from the keeper,
    and SyncAborted when TikTok refuses the token or the permission.
    """
    def token() -> str:
        return keeper.access_token(business_id, now=clock() if clock else None)

    return sync_business_account(store, client, business_id, token, options=options,
                                 progress=progress, stop=stop, scopes=scopes)
