"""A TikTok business account's sync: profile, videos, and every organic comment.

How a sync walks an account (the Accounts API, cursor-paged):

1. business/get/ gives the profile (-> business_accounts), asking only for the fields the
   account holder's granted scopes cover (and for the basic ones alone when TikTok refuses
   them: tiktok_client's BusinessAccountClient.get_profile). A profile that cannot be read
   does not stop the sync: the result's `profile_error` says why, and the videos and comments
   sync all the same. business/video/list/, every page, gives the videos (-> videos) with
   each video's comment count.
2. Each video is then brought up to date, oldest work first:
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
   seen whose `replies` count differs from the replies stored for it.
3. A video's rows are stored (one upsert of a DataFrame batch) before its high-water mark
   moves, so a sync stopped at any point and run again stores exactly what an uninterrupted
   one would.

Not picked up incrementally: likes and hidden/visible changes on comments already stored
(the comment is not listed again) and deletions. `OrganicSyncOptions(full=True)` refetches
everything.

The access token comes from a callable (TokenKeeper.access_token): it is asked before every
request, so a long sync refreshes on use; a call answered "token expired" is retried once with a
freshly asked token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, TypeVar

import pandas as pd

from desk import store as db
from desk.connect.tokens import TokenKeeper
from desk.errors import TIKTOK_ACCOUNT, SyncAborted
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
    flush_rows: int = 5000  # a video with more comments is stored in batches of about this
    full: bool = False  # refetch every comment of every video, ignoring high-water marks


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
        self.stats_at_start = client.stats.snapshot()["requests"]
        self.rows = self.videos_done = self.videos_total = self.skipped = 0
        self.current: str | None = None
        self.failures: dict[str, str] = {}
        self.buffer: list[pd.DataFrame] = []
        self.buffered = 0

    def progress(self, phase: str) -> OrganicSyncProgress:
        return OrganicSyncProgress(
            phase, self.videos_done, self.videos_total, self.rows,
            self.client.stats.snapshot()["requests"] - self.stats_at_start, self.current)

    def _report(self, phase: str) -> None:
        if self.report is not None:
            self.report(self.progress(phase))

    # talking to TikTok

    def _api(self) -> BusinessAccountClient:
        token = self.token()
        if self.account is None or token != self.account_token:
            self.account = BusinessAccountClient(self.client.with_token(token), self.business_id,
                                                 scopes=self.scopes)
            self.account_token = token
        return self.account

    def _call(self, fn: Callable[[BusinessAccountClient], T]) -> T:
        try:
            return fn(self._api())
        except AccessTokenExpired:
            self.account = None  # expired under us: ask for the token again, once
            return fn(self._api())

    def _pages(self, fetch: Callable[[BusinessAccountClient, int | None], CursorPage[T]],
               action: str) -> Iterator[CursorPage[T]]:
        cursor: int | None = None
        while True:
            page = self._call(lambda api, at=cursor: fetch(api, at))
            yield page
            if not page.has_more:
                return
            if page.cursor is None or page.cursor == cursor:
                raise MalformedResponse(f"{action} said there is more but sent no new cursor")
            cursor = page.cursor

    # storing

    def _buffer(self, frame: pd.DataFrame, seen_at: datetime) -> None:
        if len(frame):
            self.buffer.append(frame)
            self.buffered += len(frame)
        if self.buffered >= self.options.flush_rows:
            self.flush(seen_at)

    def flush(self, seen_at: datetime) -> None:
        if self.buffer:
            batch = pd.concat(self.buffer, ignore_index=True)
            self.buffer, self.buffered = [], 0
            self.rows += db.upsert_organic_comments(self.cur, batch, seen_at)

    # the phases

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

    def sync_profile_and_videos(self, seen_at: datetime) -> list[Video]:
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
            db.upsert_videos(self.cur, frame, seen_at)
        self.videos_total = len(videos)
        return videos

    def sync_video(self, video: Video, seen_at: datetime) -> None:
        video_id = str(video.video_id)
        self.current = video_id
        cursors = db.organic_cursors(self.cur, self.business_id)
        stored = db.organic_counts(self.cur, self.business_id).get(video_id, 0)
        synced = video_id in cursors and not self.options.full
        if synced and video.comments is not None and video.comments == stored:
            self.skipped += 1
            return
        high_water = cursors.get(video_id)
        newest: datetime | None = None
        mode = HEAD if synced and high_water is not None else FULL
        if mode == HEAD:
            newest = self._walk(video_id, "desc", high_water, seen_at)
            self.flush(seen_at)
            stored = db.organic_counts(self.cur, self.business_id).get(video_id, 0)
            if video.comments is None or video.comments != stored:
                mode = FULL
        if mode == FULL:
            newest = self._walk(video_id, "asc", None, seen_at)
            self.flush(seen_at)
        if high_water is not None:
            newest = high_water if newest is None else max(newest, high_water)
        db.set_organic_cursor(self.cur, self.business_id, video_id, newest)

    def _walk(self, video_id: str, order: str, stop_at: datetime | None, seen_at: datetime
              ) -> datetime | None:
        """Store the video's top-level comments (and changed replies) in `order`; in head
        mode stop at `stop_at` less the margin. Returns the newest top-level create_time."""
        replies_stored = db.organic_reply_counts(self.cur, video_id)
        newest: datetime | None = None
        size = self.options.comment_page_size
        for page in self._pages(
            lambda api, cursor: api.comments_page(video_id, cursor, size, status="ALL",
                                                  sort_field="create_time", sort_order=order),
            "business/comment/list/",
        ):
            self._buffer(_comment_frame(page.items), seen_at)
            times = [c.create_time for c in page.items if c.create_time is not None]
            if times:
                newest = max(times) if newest is None else max(newest, *times)
            for comment in page.items:
                if comment.replies and comment.replies != replies_stored.get(
                        str(comment.comment_id), 0):
                    self._replies(video_id, str(comment.comment_id), seen_at)
            if stop_at is not None and times and min(times) < stop_at - self.options.head_margin:
                break
        return newest

    def _replies(self, video_id: str, comment_id: str, seen_at: datetime) -> None:
        size = self.options.comment_page_size
        for page in self._pages(
            lambda api, cursor: api.replies_page(video_id, comment_id, cursor, size,
                                                 status="ALL"),
            "business/comment/reply/list/",
        ):
            replies = [r.with_parent(comment_id, video_id) for r in page.items]
            self._buffer(_comment_frame(replies), seen_at)


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
    seen_at = datetime.now(UTC)
    business_id = str(business_id)
    with recorded_run(store, "organic", business_id) as record, store.cursor() as cur:
        run = _Run(cur, client, business_id, token, options, progress, stop, scopes)
        try:
            videos = run.sync_profile_and_videos(seen_at)
            # Oldest videos first keeps the order stable from run to run.
            for video in reversed(videos):
                if run.stop.is_set():
                    break
                try:
                    run.sync_video(video, seen_at)
                except TikTokError as exc:
                    if isinstance(exc, TokenError | PermissionDenied | AppUnavailable):
                        raise
                    run.buffer, run.buffered = [], 0  # its high-water mark stays where it was
                    run.failures[str(video.video_id)] = str(exc)
                    db.record_sync_failure(cur, record.run_id, business_id, str(video.video_id),
                                           str(exc), "organic")
                run.videos_done += 1
                run._report("comments")
            record.status, record.message = outcome(
                run.stop.is_set(), len(run.failures), OrganicSyncResult.part,
                f"{run.rows:,} organic comments from {len(videos)} videos.")
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
                             profile_error=run.profile_error)


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
