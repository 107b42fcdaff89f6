"""An ad account's delivery: each ad's impressions, spend, clicks, plays and likes per day,
read from TikTok's reporting after the account's comments, with the same client (the same
token and the app's one rate limiter).

What is read: from the account's cursor (`delivery_cursors.synced_through`, the last day
stored) less REVISIT_DAYS, since TikTok revises its recent days, or, without a cursor, from
the look-back (`Settings.lookback_days`); up to today in the account's time zone (the days
TikTok reports in). `since` reads again from that day. Each window of days TikTok answers
(30 at most; see tiktok_client.reporting) is stored at once with the cursor, so a sync cut
short goes on from there the next time.

Reading delivery never fails the comment sync: a refusal (a connection without the Reporting
permission: TikTok's 40001), an outage or anything else ends it, and the sync's result says
so in one sentence (`DeliverySync.sentence`).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from desk import store as db
from desk.sources.base import SyncResult
from tiktok_client.client import TikTokClient
from tiktok_client.errors import PermissionDenied, TikTokError

log = logging.getLogger(__name__)

REVISIT_DAYS = 3
"""Days before the cursor read again: TikTok revises recent delivery (its documentation warns
of metrics delayed 11 hours to two days)."""

R = TypeVar("R", bound=SyncResult)


@dataclass(frozen=True)
class DeliverySync:
    """What reading an ad account's delivery did: the days asked for, the ad days stored,
    the requests it took, and why it ended early (None: it did not)."""

    first_day: date
    last_day: date
    rows: int = 0
    stored_through: date | None = None
    requests: int = 0
    problem: str | None = None

    def sentence(self) -> str:
        """One sentence for the sync's message."""
        span = f"{self.first_day:%Y-%m-%d} to {self.last_day:%Y-%m-%d}"
        if self.problem is None:
            if not self.rows:
                return f"Delivery: no ad delivered from {span}."
            return f"Delivery: {self.rows:,} ad days from {span}."
        done = (f" ({self.rows:,} ad days up to {self.stored_through:%Y-%m-%d} were stored)"
                if self.stored_through else "")
        return f"Delivery from {span} was not read{done}: {self.problem}"


def first_day_to_read(cursor: date | None, today: date, lookback_days: int,
                      since: date | None = None) -> date:
    """The first day a sync asks for: `since`, else the cursor less REVISIT_DAYS (never after
    today), else the look-back."""
    if since is not None:
        return since
    if cursor is not None:
        return min(cursor, today) - timedelta(days=REVISIT_DAYS)
    return today - timedelta(days=lookback_days)


def account_today(store: db.Store, advertiser_id: str, now: datetime | None = None) -> date:
    """Today in the ad account's time zone (UTC when it is not known)."""
    with store.cursor() as cur:
        zone = ZoneInfo(db.advertiser_timezone(cur, advertiser_id))
    return (now or datetime.now(UTC)).astimezone(zone).date()


def sync_delivery(store: db.Store, client: TikTokClient, advertiser_id: str, *,
                  lookback_days: int, since: date | None = None, now: datetime | None = None,
                  stop: threading.Event | None = None, page_size: int | None = None
                  ) -> DeliverySync:
    """Read and store the ad account's delivery (see the module docstring); never raises
    for what TikTok answers or the store refuses: the result says what went wrong."""
    advertiser_id = str(advertiser_id)
    today = account_today(store, advertiser_id, now)
    with store.cursor() as cur:
        cursor = db.delivery_cursor(cur, advertiser_id)
        currency = _currency(cur, advertiser_id)
    first = first_day_to_read(cursor, today, lookback_days, since)
    result = DeliverySync(first, today)
    windows = client.reporting.iter_ad_delivery(advertiser_id, first, today,
                                                page_size=page_size)
    try:
        for window in windows:
            with store.cursor() as cur:
                rows = db.store_delivery(cur, advertiser_id, window.first_day, window.last_day,
                                         window.table, datetime.now(UTC), currency)
            result = dataclasses.replace(result, rows=result.rows + rows,
                                         stored_through=window.last_day,
                                         requests=result.requests + window.requests)
            if stop is not None and stop.is_set() and window.last_day < today:
                return dataclasses.replace(
                    result, problem="the sync was stopped; the next one goes on from there.")
    except Exception as exc:  # noqa: BLE001 (delivery never fails the comment sync)
        log.warning("delivery of %s not read: %s", advertiser_id, exc,
                    exc_info=not isinstance(exc, TikTokError))
        return dataclasses.replace(result, problem=_problem(exc))
    return result


def _currency(cur: db.Cursor, advertiser_id: str) -> str | None:
    """The ad account's currency (advertiser/info): TikTok reports money in it."""
    rows = db.query_records(cur, "SELECT currency FROM advertisers WHERE advertiser_id = ?",
                            [advertiser_id])
    return rows[0]["currency"] if rows and rows[0]["currency"] else None


def _problem(exc: Exception) -> str:
    """Why delivery could not be read, and what happens next, in words a person can use."""
    if isinstance(exc, PermissionDenied):
        return (f"TikTok refused this connection its reporting ({exc.message or exc.title}, "
                f"code {exc.code}); reconnect the ad account granting the Reporting "
                "permission to see comments per 1,000 impressions.")
    if isinstance(exc, TikTokError):
        said = exc.message or exc.title
        code = f", code {exc.code}" if exc.code is not None else ""
        return (f"TikTok answered {said!r}{code}; the comments are synced, and delivery is "
                "asked for again at the next sync.")
    return (f"{type(exc).__name__}: {exc}; the comments are synced, and delivery is asked for "
            "again at the next sync.")


def with_delivery(store: db.Store, result: R, delivery: DeliverySync) -> R:
    """The comment sync's result with the delivery's sentence and requests added, in the
    returned result and in its `sync_runs` row."""
    sentence = delivery.sentence()
    try:
        with store.cursor() as cur:
            db.note_on_sync_run(cur, result.run_id, sentence, delivery.requests)
    except Exception:  # noqa: BLE001 (the sync is done; only its note is missing)
        log.warning("could not note delivery on sync run %s", result.run_id, exc_info=True)
    message = f"{result.message} {sentence}".strip()
    return dataclasses.replace(result, message=message,
                               requests=result.requests + delivery.requests)
