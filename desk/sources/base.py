"""The one interface for a comment source, and what every source shares.

A *comment source* is one account whose comments Comment Desk reads and answers: an ad
account (Marketing API, desk.sources.ads) or a TikTok business account (Accounts API,
desk.sources.accounts). Everything above this package (the outbox, the scheduler, the command
line, the pages) talks to a `CommentSource` and its `Writer`, and never asks which kind it is.

- `CommentSource` acts for one account with a `Workspace`: `sync()` brings the store up to date
  (one `sync_runs` row per run, progress, resumable, stoppable) and `writer()` opens a `Writer`
  with a client holding the account's token.
- `Writer` is what the outbox drives: the rules of a reply (first-level only, the text limit,
  what the outbox row records), the calls that reply and hide on TikTok, reading back what
  TikTok holds (for reconciling a write whose answer was lost), and storing a posted reply.

A new kind of source is one module with a `CommentSource` and a `Writer` subclass, named in
desk.sources.KINDS.
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import numpy as np
import pandas as pd

from desk import store as db
from desk.errors import FIRST_LEVEL_ONLY, DeskError
from desk.workspace import Workspace

if TYPE_CHECKING:
    from tiktok_client.client import TikTokClient

SourceKind = Literal["ad", "organic"]
"""The kind of account a comment came from: the `source` column of comments and the outbox."""
SyncStatus = Literal["ok", "partial", "failed", "interrupted"]

STOPPED = "Sync stopped before it finished; run it again to resume."


class Progress(Protocol):
    """Where a running sync is, for a progress bar and a progress line."""

    phase: str

    @property
    def fraction(self) -> float: ...

    def line(self) -> str: ...


def fraction_done(phase: str, done: int, total: int) -> float:
    """How far a sync is, 0 to 1, from the parts done of those known so far."""
    if phase == "done":
        return 1.0
    return min(1.0, done / total) if total else 0.0


@dataclass(frozen=True)
class SyncResult:
    """How one sync of one account ended; each source adds its own counts."""

    run_id: int
    account_id: str
    status: SyncStatus
    message: str
    rows: int
    requests: int
    seconds: float
    failures: tuple[tuple[str, str], ...] = ()  # (part, error)
    part: ClassVar[str] = "part"  # what a sync fetches one at a time: an ad group, a video

    def summary(self) -> str:
        """The one line a finished sync ends with."""
        return f"{self.message} {self.requests:,} requests in {self.seconds:.1f} s{self._extra()}."

    def _extra(self) -> str:
        return ""


def outcome(stopped: bool, failures: int, part: str, done: str) -> tuple[SyncStatus, str]:
    """A finished run's status and message: stopped, some `part`s failed, or `done`."""
    if stopped:
        return "interrupted", STOPPED
    if failures:
        return "partial", (f"{failures} {part}(s) could not be synced; the rest is up to date. "
                           "Sync again to retry them.")
    return "ok", done


@dataclass(frozen=True)
class PostedReply:
    """A brand reply as TikTok shows it: just posted, or found when reconciling."""

    comment_id: str | None
    text: str
    create_time: datetime | None
    user_name: str | None = None
    status: str | None = None
    by_brand: bool = True  # written by the account's own identity


class Writer(ABC):
    """Acts on TikTok for one account with a client holding its token (see the module doc)."""

    kind: ClassVar[SourceKind]
    noun: ClassVar[str]  # "ad account", "TikTok account": how messages name the account
    account_column: ClassVar[str]  # the comments and outbox column that holds the account
    status_batch: ClassVar[int]  # comment IDs one hide/unhide call takes
    missing_for_reply: ClassVar[tuple[str, ...]]  # columns a comment needs to be answered
    missing_reason: ClassVar[str]
    posted_as: ClassVar[str]  # who a reply appears as: "the ad's identity", "the TikTok account"
    max_reply_length: ClassVar[int]  # the reply limit when nothing was learned

    def __init__(self, account_id: str) -> None:
        self.account_id = str(account_id)

    # The rules: nothing here calls TikTok.

    @classmethod
    def can_reply(cls, row: Mapping[str, Any]) -> str | None:
        """None if a reply box may be offered for this stored comment, else why not."""
        comment_type = value(row.get("comment_type"))
        if comment_type == "REPLY" or (
            comment_type is None and value(row.get("original_comment_id")) is not None
        ):
            return FIRST_LEVEL_ONLY
        if any(value(row.get(name)) is None for name in cls.missing_for_reply):
            return cls.missing_reason
        return None

    @abstractmethod
    def check_text(self, text: str) -> None:
        """Raise InvalidRequest when TikTok would refuse this reply text."""

    @classmethod
    def can_change_status(cls, row: Mapping[str, Any]) -> bool:
        """Whether the stored comment holds what hiding or showing it on TikTok needs."""
        return True

    @classmethod
    def reply_limit(cls, learned: Mapping[str, Any]) -> int:
        """The most characters TikTok takes in a reply on this kind of account, given what was
        learned from TikTok so far (tiktok_client.learned)."""
        return cls.max_reply_length

    @classmethod
    def status_fixed(cls, row: Mapping[str, Any]) -> str | None:
        """Why TikTok lets nobody hide or unhide this comment by hand, or None."""
        return None

    def reply_fields(self, parent: Mapping[str, Any]) -> dict[str, Any]:
        """What the outbox row of a reply to `parent` records, besides the account."""
        return {}

    def status_fields(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """What the outbox row of a hide or unhide of `row` records, besides the account."""
        return {}

    def status_call(self, action: Mapping[str, Any]) -> Any:
        """What the comments of one hide or unhide call must have in common (the outbox
        sends rows that differ here in separate calls); nothing by default."""
        return None

    def describe(self, comment_id: str) -> str:
        """The comment as the audit log names it."""
        return f"comment {comment_id}"

    @property
    def advertiser_id(self) -> str | None:
        """The ad account the audit log files this account's writes under, if any."""
        return None

    def blocked_words_client(self) -> TikTokClient | None:
        """The client that reaches the account's blocked-word list on TikTok
        (``client.blocked_words``), or None when this kind of account has none (only ad
        accounts have one)."""
        return None

    # The store side.

    def comment(self, cur: db.Cursor, comment_id: str) -> dict[str, Any] | None:
        """This account's stored comment, or None."""
        rows = self.comments(cur, [comment_id])
        return rows.get(str(comment_id))

    def comments(self, cur: db.Cursor, comment_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """This account's stored comments among `comment_ids`, by id."""
        ids = [str(c) for c in comment_ids]
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = db.query_records(
            cur,
            f"SELECT * FROM comments WHERE comment_id IN ({marks}) "  # noqa: S608
            f"AND {self.account_column} = ? AND coalesce(source, 'ad') = ?",
            [*ids, self.account_id, self.kind],
        )
        return {row["comment_id"]: row for row in rows}

    def set_stored_status(self, cur: db.Cursor, comment_ids: Sequence[str], status: str) -> None:
        """Record in the store that TikTok shows these comments as `status`."""
        marks = ", ".join("?" for _ in comment_ids)
        cur.execute(
            f"UPDATE comments SET comment_status = ? WHERE comment_id IN ({marks}) "  # noqa: S608
            f"AND {self.account_column} = ? AND coalesce(source, 'ad') = ?",
            [status, *comment_ids, self.account_id, self.kind],
        ).fetchall()

    def store_reply(self, cur: db.Cursor, action: Mapping[str, Any], reply: PostedReply) -> None:
        """Put a reply the brand just made into the comments table, so the UI shows it at once.

        Built from the parent's row; the next sync overwrites it with TikTok's own version. A
        reply the store already has (a sync got there first) is left alone.
        """
        if reply.comment_id is None or self.comment(cur, reply.comment_id) is not None:
            return
        parent = self.comment(cur, action["comment_id"])
        if parent is None:
            return
        row = self.reply_row(parent, action, reply)
        row.update(
            comment_id=reply.comment_id,
            content=action["text"],
            likes=0,
            replies=0,
            comment_type="REPLY",
            original_comment_id=action["comment_id"],
            comment_status=reply.status or "PUBLIC",
            create_time=as_utc(reply.create_time) if reply.create_time else now(),
            is_pinned=False,
            can_delete=True,
            user_name=reply.user_name,
        )
        cur.begin()
        try:
            self.upsert(cur, pd.DataFrame([row]))
            cur.execute(
                "UPDATE comments SET replies = coalesce(replies, 0) + 1 WHERE comment_id = ? "
                "AND coalesce(source, 'ad') = ?",
                [action["comment_id"], self.kind],
            ).fetchall()
        except BaseException:
            cur.rollback()
            raise
        cur.commit()

    @abstractmethod
    def reply_row(self, parent: Mapping[str, Any], action: Mapping[str, Any],
                  reply: PostedReply) -> dict[str, Any]:
        """The stored row of a new reply: what it takes from its parent and its account."""

    @abstractmethod
    def upsert(self, cur: db.Cursor, frame: pd.DataFrame) -> None:
        """Store comment rows of this kind."""

    # TikTok.

    @abstractmethod
    def post_reply(self, action: Mapping[str, Any]) -> PostedReply:
        """Post the outbox row's reply on TikTok; TikTok's errors are raised as they come."""

    @abstractmethod
    def set_status(self, actions: Sequence[Mapping[str, Any]], hidden: bool) -> None:
        """Hide (or show) the outbox rows' comments on TikTok: at most `status_batch`."""

    @abstractmethod
    def replies_on_tiktok(self, action: Mapping[str, Any]) -> Iterable[PostedReply]:
        """Every reply TikTok lists under the outbox row's comment."""

    @abstractmethod
    def status_on_tiktok(self, cur: db.Cursor, action: Mapping[str, Any]) -> str | None:
        """The outbox row's comment's status on TikTok now (PUBLIC or HIDDEN), if listed."""


class CommentSource(ABC):
    """One account whose comments Comment Desk reads and answers (see the module doc)."""

    kind: ClassVar[SourceKind]
    writer_class: ClassVar[type[Writer]]

    def __init__(self, workspace: Workspace, account_id: str) -> None:
        self.workspace = workspace
        self.account_id = str(account_id)

    @property
    def noun(self) -> str:
        return self.writer_class.noun

    @property
    def key(self) -> str:
        """The account's name in schedules and sync slots: unique across kinds."""
        return f"{self.kind}:{self.account_id}"

    @abstractmethod
    def sync(self, *, progress: Callable[[Any], None] | None = None,
             stop: threading.Event | None = None, since: date | None = None,
             workers: int | None = None, refresh: bool | None = None) -> SyncResult:
        """Bring the store up to date with this account; one `sync_runs` row records it.

        `refresh`: list the last `settings.refresh_days` days again, so that likes, replies,
        hidden status and deletions of stored comments are picked up; None refreshes when the
        last refresh (or the first complete sync) is `settings.refresh_minutes` old
        (`refresh_days_now`).

        Raises NotConnected (or the token errors of desk.errors) when the account cannot be
        acted for, and SyncAborted when TikTok refuses the token or the permission.
        """

    def refresh_days_now(self, refresh: bool | None) -> int | None:
        """How many recent days this sync lists again, or None: `refresh` True forces a
        refresh, False never makes one, None makes one when the comments were last all read
        `settings.refresh_minutes` ago (an account never synced whole is read whole anyway)."""
        settings = self.workspace.settings
        if refresh is None:
            with self.workspace.store.cursor() as cur:
                last = db.last_refresh(cur, self.account_id, self.kind)
            refresh = last is not None and (
                now() - last >= timedelta(minutes=settings.refresh_minutes))
        return settings.refresh_days if refresh else None

    @abstractmethod
    def writer(self) -> AbstractContextManager[Writer]:
        """A Writer with a client holding the account's token, closed on exit."""

    def last_run(self, cur: db.Cursor) -> db.SyncRun | None:
        """The account's most recently started sync, or None."""
        return db.last_sync_run(cur, self.account_id, self.kind)


@contextmanager
def recorded_run(store: db.Store, kind: SourceKind, account_id: str,
                 refresh_days: int | None = None) -> Iterator[RunRecord]:
    """A `sync_runs` row for one run: started here, finished with what the record holds when
    the block ends (a run cut short by an exception ends as its record says, or interrupted).
    `refresh_days`: the run lists the last days again."""
    with store.cursor() as cur:
        record = RunRecord(db.start_sync_run(cur, account_id, kind, refresh_days), account_id)
        try:
            yield record
        except DeskError as exc:  # the token, the permission or the connection is gone
            record.status, record.message = "failed", str(exc)
            raise
        except BaseException as exc:
            record.status = "interrupted"
            record.message = f"Sync stopped: {type(exc).__name__}"
            raise
        finally:
            db.finish_sync_run(
                cur, record.run_id, status=record.status, message=record.message,
                requests=record.requests, pages=record.pages, rows=record.rows,
                throttled=record.throttled, retried=record.retried, errors=record.errors,
            )


@dataclass
class RunRecord:
    """What a running sync will record when it ends; the engine fills it in as it goes."""

    run_id: int
    account_id: str
    status: SyncStatus = "ok"
    message: str = ""
    requests: int = 0
    pages: int = 0
    rows: int = 0
    throttled: int = 0
    retried: int = 0
    errors: int = 0

    def result_fields(self, seconds: float,
                      failures: Mapping[str, str]) -> dict[str, Any]:
        """The fields every SyncResult has, as this record holds them."""
        return {"run_id": self.run_id, "account_id": self.account_id, "status": self.status,
                "message": self.message, "rows": self.rows, "requests": self.requests,
                "seconds": seconds, "failures": tuple(failures.items())}


def value(cell: Any) -> Any:
    """None for missing values (None, NaN, pd.NA, empty text); plain bools for booleans."""
    if cell is None or cell is pd.NA or cell is pd.NaT:
        return None
    if isinstance(cell, float) and math.isnan(cell):
        return None
    if isinstance(cell, str):
        return cell if cell.strip() else None
    if isinstance(cell, np.bool_):
        return bool(cell)
    return cell


def source_of(row: Mapping[str, Any]) -> SourceKind:
    """The kind of account a stored comment or outbox row belongs to (rows from before
    organic comments have no source: ad)."""
    return value(row.get("source")) or "ad"


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)
