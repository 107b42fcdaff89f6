"""Checking for alerts and sending them: after every sync, by hand, and the test alert.

`check_and_send` raises the alerts the stored comments call for (`detect`), each with one
pending delivery per enabled channel (`store.raise_alerts`), then sends every delivery that
is due. A delivery is claimed before it is sent (one attempt, counted), so two checks at
once never both send it; when the channel does not take it, it is tried again after
`deliver.retry_delay`, and after `Thresholds.delivery_attempts` tries it is `failed`: kept,
shown with its error, and retried by hand with `retry`. A channel that failed is not tried
again within the same check, so a dead webhook costs one timeout per check, not one per
alert.

`check_after_sync` is what the sync pipeline calls: it never raises (a failure is logged,
and what was not sent stays pending for the next check).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from desk.alerts import deliver, detect
from desk.alerts import store as alerts_db
from desk.alerts.store import Channel, Delivery, Thresholds
from desk.config import Settings
from desk.store import Store
from desk.store.sql import Cursor
from desk.store.times import to_utc, utc_now

_log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=2)
"""How long a claimed delivery is left to the check that claimed it (longer than a send can
take): after a crash mid-send it is due again then."""
SENDS_PER_CHECK = 50
"""Deliveries one check sends at most; the rest wait for the next check."""


@dataclass(frozen=True)
class AlertRun:
    """What one check did: the alerts it raised and what became of the deliveries it tried."""

    raised: tuple[int, ...] = ()
    sent: int = 0
    retrying: int = 0  # failed this time, to be tried again
    failed: int = 0  # failed for the last time: retried only by hand

    def summary(self) -> str:
        parts = [f"{len(self.raised)} new alert{'s' if len(self.raised) != 1 else ''}",
                 f"{self.sent} sent"]
        if self.retrying:
            parts.append(f"{self.retrying} to retry")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)


def check_and_send(cur: Cursor, settings: Settings, now: datetime | None = None,
                   base_url: str | None = None) -> AlertRun:
    """Raise the alerts the comments call for now, and send every delivery that is due.
    `base_url` (default DESK_PUBLIC_URL) starts the links into the inbox."""
    now = to_utc(now or utc_now())
    limits = alerts_db.thresholds(cur)
    raised = raise_due(cur, limits, now, base_url or settings.public_url)
    delivered = send_due(cur, settings, now, limits)
    return AlertRun(tuple(raised), *delivered)


def raise_due(cur: Cursor, limits: Thresholds, now: datetime, base_url: str) -> list[int]:
    """Raise the alerts the stored comments call for now; their new alert_ids."""
    found = detect.candidates(cur, limits, now)
    new = [candidate.alert(now, limits.repeat_hours, base_url) for candidate in found]
    return alerts_db.raise_alerts(cur, new, repeat=timedelta(hours=limits.repeat_hours),
                                  now=now)


def send_due(cur: Cursor, settings: Settings, now: datetime,
             limits: Thresholds | None = None) -> tuple[int, int, int]:
    """Send the deliveries due now: how many were sent, will be retried, failed for good."""
    limits = limits or alerts_db.thresholds(cur)
    channels = {c.channel_id: c for c in alerts_db.list_channels(cur, enabled_only=True)}
    down: set[int] = set()
    sent = retrying = failed = 0
    for delivery in alerts_db.due_deliveries(cur, now, limit=SENDS_PER_CHECK):
        channel = channels.get(delivery.channel_id)
        if channel is None or channel.channel_id in down:
            continue
        outcome = _attempt(cur, settings, delivery, channel, now, limits)
        if outcome == "sent":
            sent += 1
        elif outcome is not None:
            down.add(channel.channel_id)
            retrying += outcome == "pending"
            failed += outcome == "failed"
    return sent, retrying, failed


def retry(cur: Cursor, settings: Settings, alert_id: int, channel_id: int,
          now: datetime | None = None) -> str | None:
    """Send one pending or failed delivery now (a person asked): None when it was sent, else
    why not. A failure counts as one more attempt; failed, it stays failed."""
    now = to_utc(now or utc_now())
    delivery = alerts_db.request_retry(cur, alert_id, channel_id, now)
    channels = {c.channel_id: c for c in alerts_db.list_channels(cur, enabled_only=True)}
    outcome = _attempt(cur, settings, delivery, channels[delivery.channel_id], now,
                       alerts_db.thresholds(cur))
    if outcome == "sent":
        return None
    if outcome is None:
        return "another check is sending it right now; reload the page in a moment"
    return alerts_db.delivery_error(cur, alert_id, channel_id) or "the channel did not take it"


def send_test(cur: Cursor, settings: Settings,
              base_url: str | None = None) -> list[tuple[Channel, str | None]]:
    """Send a test message to every enabled channel now (nothing is stored): each channel
    with None when it took it, else why not."""
    link = f"{(base_url or settings.public_url).rstrip('/')}/{detect.INBOX_PATH}"
    message = deliver.Message(
        "Test alert from Comment Desk",
        "Alerts reach this channel. Real alerts say which account needs attention and why.",
        link)
    results: list[tuple[Channel, str | None]] = []
    for channel in alerts_db.list_channels(cur, enabled_only=True):
        try:
            deliver.send(channel.kind, channel.target, message, settings)
        except deliver.DeliveryFailed as exc:
            _log.warning("test alert to channel %s (%s) not delivered: %s", channel.channel_id,
                         channel.kind, exc)
            results.append((channel, str(exc)))
        else:
            results.append((channel, None))
    return results


def check_after_sync(store: Store, settings: Settings) -> AlertRun | None:
    """check_and_send, for the sync pipeline: a failure is logged and never raised, and what
    was not sent stays pending for the next check. None when the check failed."""
    try:
        with store.cursor() as cur:
            return check_and_send(cur, settings)
    except Exception as exc:  # alerting must never fail a sync
        _log.warning("the alert check after the sync failed (%s): %s", type(exc).__name__,
                     deliver.scrub(" ".join(str(exc).split()), settings))
        return None


def _attempt(cur: Cursor, settings: Settings, delivery: Delivery, channel: Channel,
             now: datetime, limits: Thresholds) -> str | None:
    """One attempt at a delivery: "sent", "pending" (to retry), "failed" (for good), or None
    when another check had claimed it."""
    if not alerts_db.claim(cur, delivery, now, SEND_LEASE):
        return None
    attempts = delivery.attempts + 1
    message = deliver.Message(delivery.title, delivery.detail, delivery.link)
    try:
        deliver.send(channel.kind, channel.target, message, settings,
                     message_id=f"<alert-{delivery.alert_id}-{channel.channel_id}@comment-desk>")
    except deliver.DeliveryFailed as exc:
        final = attempts >= limits.delivery_attempts
        next_try = None if final else now + deliver.retry_delay(attempts)
        alerts_db.record_failure(cur, delivery, str(exc), next_try_at=next_try)
        _log.warning("alert %s to channel %s (%s) not delivered, attempt %s%s: %s",
                     delivery.alert_id, channel.channel_id, channel.kind, attempts,
                     " (the last: marked failed)" if final else "", exc)
        return "failed" if final else "pending"
    alerts_db.record_sent(cur, delivery, now)
    return "sent"

