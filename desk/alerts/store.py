"""The alert tables: channels, thresholds, raised alerts and their deliveries.

A channel is where alerts go: an incoming-webhook URL (a secret: shown masked, kept out of
the analyst views and the audit log) or e-mail addresses. Thresholds are name/value rows of
`alert_settings`; `Thresholds` reads them over their defaults. An alert is raised once per
`dedup_key`, together with one pending delivery per enabled channel; a delivery moves by
compare-and-set (`claim`, then `record_sent` or `record_failure`), so two checks running at
once never send it twice, and a delivery is never deleted while its channel exists: after
the last attempt it is `failed`, shown with its error, and can be retried by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import duckdb
import pandas as pd
import pyarrow as pa

from desk.store.audit import audit_event
from desk.store.sql import (
    Cursor,
    fetch_first,
    fetch_rows,
    query_frame,
    query_records,
    registered,
    transaction,
    whole_number,
)
from desk.store.times import to_utc, utc_now

AlertKind = Literal["backlog", "negative_spike", "toxic_spike", "volume_spike"]
ALERT_KINDS: tuple[AlertKind, ...] = get_args(AlertKind)
ChannelKind = Literal["webhook", "email"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = get_args(ChannelKind)
DeliveryStatus = Literal["pending", "sent", "failed"]
AccountKind = Literal["ad", "organic"]

KIND_NAMES = {"backlog": "Backlog over target", "negative_spike": "Negative spike",
              "toxic_spike": "Toxic spike", "volume_spike": "Volume spike"}

# ---------------------------------------------------------------------------------------------
# Thresholds


@dataclass(frozen=True)
class Thresholds:
    """When alerts are raised and how their deliveries are retried (see docs/inbox.md)."""

    repeat_hours: int = 4
    """At most one alert of a kind per account (per ad, for volume) in this many hours, for
    as long as the condition lasts."""
    backlog_min_comments: int = 1
    """Comments past their response-time target that make a backlog breach."""
    baseline_days: int = 7
    """The baseline of the spikes: the days before the window."""
    share_window_hours: int = 3
    """The window whose negative and toxic share is compared with the baseline's."""
    share_min_comments: int = 20
    """Classified comments the window needs before its share can spike."""
    share_spike_ratio: float = 2.0
    """The window's share is at least this many times the baseline's..."""
    share_spike_points: float = 10.0
    """...and at least this many percentage points above it."""
    volume_min_comments: int = 30
    """Comments on an ad in the last hour before its volume can spike."""
    volume_spike_ratio: float = 3.0
    """The last hour has at least this many times the ad's hourly baseline."""
    delivery_attempts: int = 6
    """Tries before a delivery is marked failed (it can still be retried by hand)."""


@dataclass(frozen=True)
class ThresholdSpec:
    """How a threshold is shown and checked."""

    name: str
    label: str
    minimum: float
    maximum: float


THRESHOLD_SPECS: tuple[ThresholdSpec, ...] = (
    ThresholdSpec("repeat_hours", "Repeat an alert at most every (hours)", 1, 168),
    ThresholdSpec("backlog_min_comments", "Backlog: comments past their target", 1, 100_000),
    ThresholdSpec("baseline_days", "Spikes: baseline (days before the window)", 1, 90),
    ThresholdSpec("share_window_hours", "Negative/toxic share: window (hours)", 1, 72),
    ThresholdSpec("share_min_comments", "Negative/toxic share: comments in the window, at least",
                  1, 100_000),
    ThresholdSpec("share_spike_ratio", "Negative/toxic share: times the baseline share", 1, 100),
    ThresholdSpec("share_spike_points", "Negative/toxic share: points above the baseline",
                  0, 100),
    ThresholdSpec("volume_min_comments", "Ad volume: comments in the last hour, at least",
                  1, 1_000_000),
    ThresholdSpec("volume_spike_ratio", "Ad volume: times the ad's hourly baseline", 1, 1000),
    ThresholdSpec("delivery_attempts", "Deliveries: tries before marked failed", 1, 50),
)
_SPECS = {spec.name: spec for spec in THRESHOLD_SPECS}
_TYPES = {f.name: f.type for f in fields(Thresholds)}


def thresholds(cur: Cursor) -> Thresholds:
    """The thresholds in force: the stored ones over the defaults (a stored value that no
    longer parses counts as unset)."""
    stored = dict(fetch_rows(cur, "SELECT name, value FROM alert_settings"))
    values: dict[str, Any] = {}
    for name in _SPECS:
        if name in stored:
            try:
                values[name] = _parse(name, stored[name])
            except ValueError:
                continue
    return Thresholds(**values)


def set_thresholds(cur: Cursor, values: Mapping[str, Any], actor: str, *,
                   at: datetime | None = None) -> list[str]:
    """Store these thresholds (all checked first: none is stored if one is wrong), recording
    who set them; returns the names whose value changed."""
    parsed = {name: _parse(name, value) for name, value in values.items()}
    current = asdict(thresholds(cur))
    changed = [name for name, value in parsed.items() if value != current[name]]
    if not changed:
        return []
    moment = to_utc(at or utc_now())
    with transaction(cur):
        for name in changed:
            fetch_rows(cur, "INSERT INTO alert_settings (name, value, set_by, set_at) "
                            "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                            "value = excluded.value, set_by = excluded.set_by, "
                            "set_at = excluded.set_at",
                       [name, str(parsed[name]), actor, moment])
        audit_event(cur, actor, "alert_settings",
                    ", ".join(f"{name} = {parsed[name]}" for name in changed), at=moment)
    return changed


def _parse(name: str, value: Any) -> int | float:
    spec = _SPECS.get(name)
    if spec is None:
        raise ValueError(f"There is no alert threshold called {name!r}")
    whole = _TYPES[name] in (int, "int")
    try:
        if isinstance(value, bool):
            raise ValueError
        number: int | float = float(str(value).strip())
        if whole:
            if number != int(number):
                raise ValueError
            number = int(number)
    except (TypeError, ValueError):
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{spec.label} must be {kind}, not {value!r}") from None
    if not spec.minimum <= number <= spec.maximum:
        raise ValueError(f"{spec.label} must be from {spec.minimum:g} to {spec.maximum:g}, "
                         f"not {value!r}")
    return number


# ---------------------------------------------------------------------------------------------
# Channels

_ADDRESS = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")


@dataclass(frozen=True)
class Channel:
    """Where alerts go. `target` is a webhook URL (a secret) or comma-separated addresses."""

    channel_id: int
    kind: ChannelKind
    target: str
    enabled: bool
    created_by: str
    created_at: datetime

    @property
    def shown(self) -> str:
        """The target as people may see it (a webhook by its host and last 4 characters)."""
        return masked(self.kind, self.target)

    def __repr__(self) -> str:
        return (f"Channel({self.channel_id}, {self.kind}, {self.shown!r}, "
                f"enabled={self.enabled})")


def masked(kind: str, target: str) -> str:
    """A channel's target fit to show: e-mail addresses as they are; a webhook URL as its
    host and last four characters ("hooks.slack.com/…f3Xz")."""
    if kind != "webhook":
        return target
    host = urlsplit(target).hostname or "?"
    return f"{host}/…{target[-4:]}"


def webhook_url(text: str) -> str:
    """The URL of an incoming webhook, checked: http or https, with a host; ValueError else."""
    url = (text or "").strip()
    try:
        parts = urlsplit(url)
        usable = (parts.scheme in ("http", "https") and bool(parts.hostname)
                  and parts.port != 0)  # .port raises for a port out of range
    except ValueError:  # a broken [IPv6] host, a port out of range
        usable = False
    if not usable or any(ch.isspace() for ch in url):
        raise ValueError("A webhook URL starts with https:// (or http://) and names a host, "
                         "like the one Slack or Teams gives for an incoming webhook")
    return url


def email_addresses(text: str) -> list[str]:
    """The addresses of a comma-separated list, checked; ValueError when one is not one."""
    found = [part.strip() for part in re.split(r"[,;]", text or "") if part.strip()]
    if not found:
        raise ValueError("Give at least one e-mail address, like team@brand.example")
    wrong = [part for part in found if not _ADDRESS.fullmatch(part)]
    if wrong:
        raise ValueError(f"{wrong[0]!r} is not an e-mail address; separate addresses with "
                         "commas")
    return list(dict.fromkeys(found))


def add_channel(cur: Cursor, kind: ChannelKind, target: str, actor: str, *,
                at: datetime | None = None) -> int:
    """Add an enabled channel (the target checked first); returns its channel_id."""
    if kind == "webhook":
        target = webhook_url(target)
    elif kind == "email":
        target = ", ".join(email_addresses(target))
    else:
        raise ValueError(f"a channel is a webhook or e-mail, not {kind!r}")
    moment = to_utc(at or utc_now())
    with transaction(cur):
        row = fetch_first(cur, "INSERT INTO alert_channels (kind, target, enabled, created_by, "
                               "created_at) VALUES (?, ?, true, ?, ?) RETURNING channel_id",
                          [kind, target, actor, moment])
        assert row is not None
        audit_event(cur, actor, "alert_channel", f"added {kind} {masked(kind, target)}",
                    at=moment)
    return int(row[0])


def set_channel_enabled(cur: Cursor, channel_id: int, enabled: bool, actor: str) -> None:
    """Turn a channel on or off: off, it is sent nothing (its pending deliveries wait)."""
    channel = _channel(cur, channel_id)
    with transaction(cur):
        fetch_rows(cur, "UPDATE alert_channels SET enabled = ? WHERE channel_id = ?",
                   [bool(enabled), channel.channel_id])
        audit_event(cur, actor, "alert_channel",
                    f"{'enabled' if enabled else 'disabled'} {channel.kind} {channel.shown}")


def remove_channel(cur: Cursor, channel_id: int, actor: str) -> None:
    """Remove a channel and its deliveries (the alerts stay)."""
    channel = _channel(cur, channel_id)
    with transaction(cur):
        fetch_rows(cur, "DELETE FROM alert_deliveries WHERE channel_id = ?", [channel_id])
        fetch_rows(cur, "DELETE FROM alert_channels WHERE channel_id = ?", [channel_id])
        audit_event(cur, actor, "alert_channel", f"removed {channel.kind} {channel.shown}")


def list_channels(cur: Cursor, *, enabled_only: bool = False) -> list[Channel]:
    """The channels, oldest first."""
    where = "WHERE enabled" if enabled_only else ""
    rows = query_records(cur, "SELECT channel_id, kind, target, enabled, created_by, "  # noqa: S608
                              f"created_at FROM alert_channels {where} ORDER BY channel_id")
    return [Channel(**row) for row in rows]


def _channel(cur: Cursor, channel_id: int) -> Channel:
    found = [c for c in list_channels(cur) if c.channel_id == int(channel_id)]
    if not found:
        raise ValueError(f"There is no alert channel {channel_id}; reload the page")
    return found[0]


# ---------------------------------------------------------------------------------------------
# Alerts and deliveries


@dataclass(frozen=True)
class NewAlert:
    """An alert to raise: its dedup key, what it is about and the words it is sent with."""

    dedup_key: str
    kind: AlertKind
    account_kind: AccountKind
    account_id: str
    ad_id: str | None
    title: str
    detail: str
    link: str


def raise_alerts(cur: Cursor, alerts: Sequence[NewAlert], *, repeat: timedelta,
                 now: datetime) -> list[int]:
    """Store the alerts not raised before, each with a pending delivery per enabled channel;
    returns the new alert_ids.

    An alert is skipped when its dedup_key was raised, or when an alert of its kind about the
    same account (and ad) was raised within `repeat` before `now`. Another check raising the
    same alert at the same moment makes this one raise nothing (the other one has them).
    """
    if not alerts:
        return []
    moment = to_utc(now)
    table = pa.Table.from_pylist(
        [{name: getattr(alert, name) for name in _ALERT_COLUMNS} for alert in alerts],
        schema=pa.schema([(name, pa.string()) for name in _ALERT_COLUMNS]))
    columns = ", ".join(_ALERT_COLUMNS)
    try:
        with transaction(cur), registered(cur, table, "alerts") as view:
            rows = fetch_rows(cur, f"""
                INSERT INTO alerts ({columns}, raised_at)
                SELECT {columns}, ? FROM {view} n
                WHERE NOT EXISTS (
                    SELECT 1 FROM alerts a
                    WHERE a.kind = n.kind AND a.account_kind = n.account_kind
                      AND a.account_id = n.account_id
                      AND a.ad_id IS NOT DISTINCT FROM n.ad_id AND a.raised_at > ?)
                ON CONFLICT (dedup_key) DO NOTHING
                RETURNING alert_id""", [moment, moment - repeat])  # noqa: S608 (constants)
            raised = sorted(int(row[0]) for row in rows)
            if raised:
                fetch_rows(cur, "INSERT INTO alert_deliveries (alert_id, channel_id, status, "
                                "attempts, next_try_at) SELECT a.alert_id, c.channel_id, "
                                "'pending', 0, ? FROM (SELECT unnest(?::BIGINT[]) AS alert_id) a "
                                "CROSS JOIN alert_channels c WHERE c.enabled",
                           [moment, raised])
    except duckdb.TransactionException:
        return []  # another check raised them at the same moment
    return raised


_ALERT_COLUMNS = ("dedup_key", "kind", "account_kind", "account_id", "ad_id", "title",
                  "detail", "link")


@dataclass(frozen=True)
class Delivery:
    """One alert to one channel, as it stands."""

    alert_id: int
    channel_id: int
    status: DeliveryStatus
    attempts: int
    title: str
    detail: str
    link: str
    kind: AlertKind
    raised_at: datetime


def due_deliveries(cur: Cursor, now: datetime, *, limit: int = 50) -> list[Delivery]:
    """Pending deliveries to enabled channels whose time has come, oldest alert first."""
    return _deliveries(cur, "d.status = 'pending' AND coalesce(d.next_try_at, a.raised_at) <= ?",
                       [to_utc(now)], limit)


def _deliveries(cur: Cursor, where: str, params: Sequence[Any], limit: int) -> list[Delivery]:
    rows = query_records(cur, f"""
        SELECT d.alert_id, d.channel_id, d.status, d.attempts, a.title, a.detail, a.link,
               a.kind, a.raised_at
        FROM alert_deliveries d JOIN alerts a USING (alert_id)
        JOIN alert_channels c USING (channel_id)
        WHERE c.enabled AND {where}
        ORDER BY a.raised_at, d.alert_id, d.channel_id LIMIT ?""",  # noqa: S608 (constants)
        [*params, whole_number(limit, "limit")])
    return [Delivery(**row) for row in rows]


def claim(cur: Cursor, delivery: Delivery, now: datetime, lease: timedelta) -> bool:
    """Take a due delivery for one attempt (counted now): False when another check has it.
    Until `lease` has passed nobody else takes it; a crash mid-send is retried after that."""
    try:
        rows = fetch_rows(cur, "UPDATE alert_deliveries SET attempts = attempts + 1, "
                               "next_try_at = ? WHERE alert_id = ? AND channel_id = ? "
                               "AND status = 'pending' AND attempts = ? RETURNING attempts",
                          [to_utc(now) + lease, delivery.alert_id, delivery.channel_id,
                           delivery.attempts])
    except duckdb.TransactionException:
        return False
    return bool(rows)


def record_sent(cur: Cursor, delivery: Delivery, now: datetime) -> None:
    fetch_rows(cur, "UPDATE alert_deliveries SET status = 'sent', sent_at = ?, "
                    "last_error = NULL, next_try_at = NULL "
                    "WHERE alert_id = ? AND channel_id = ?",
               [to_utc(now), delivery.alert_id, delivery.channel_id])


def record_failure(cur: Cursor, delivery: Delivery, error: str, *,
                   next_try_at: datetime | None) -> None:
    """The attempt failed: pending again from `next_try_at`, or failed (None): kept, shown
    with its error, retried only by hand."""
    status = "failed" if next_try_at is None else "pending"
    fetch_rows(cur, "UPDATE alert_deliveries SET status = ?, last_error = ?, next_try_at = ? "
                    "WHERE alert_id = ? AND channel_id = ?",
               [status, error, None if next_try_at is None else to_utc(next_try_at),
                delivery.alert_id, delivery.channel_id])


def request_retry(cur: Cursor, alert_id: int, channel_id: int, now: datetime) -> Delivery:
    """Make a pending or failed delivery due now (a person asked); the delivery as it is then.
    A sent one cannot be retried."""
    rows = fetch_rows(cur, "UPDATE alert_deliveries SET status = 'pending', next_try_at = ? "
                           "WHERE alert_id = ? AND channel_id = ? AND status <> 'sent' "
                           "RETURNING alert_id",
                      [to_utc(now), int(alert_id), int(channel_id)])
    if not rows:
        raise ValueError("That delivery was sent already, or is gone; reload the page")
    found = _deliveries(cur, "d.alert_id = ? AND d.channel_id = ?",
                        [int(alert_id), int(channel_id)], 1)
    if not found:
        raise ValueError("That delivery's channel is turned off; turn it on in Settings first")
    return found[0]


def delivery_error(cur: Cursor, alert_id: int, channel_id: int) -> str | None:
    """The error of a delivery's last failed attempt (None: none, or no such delivery)."""
    row = fetch_first(cur, "SELECT last_error FROM alert_deliveries "
                           "WHERE alert_id = ? AND channel_id = ?",
                      [int(alert_id), int(channel_id)])
    return None if row is None else row[0]


def recent_alerts(cur: Cursor, *, limit: int = 50) -> pd.DataFrame:
    """The latest alerts, newest first, one row per delivery (an alert with no channel has
    one row with no delivery): alert_id, raised_at, kind, title, detail, link, channel_id,
    channel_kind, channel (masked), status, attempts, last_error, next_try_at, sent_at."""
    frame = query_frame(cur, """
        SELECT a.alert_id, a.raised_at, a.kind, a.title, a.detail, a.link, d.channel_id,
               c.kind AS channel_kind, c.target, d.status, d.attempts, d.last_error,
               d.next_try_at, d.sent_at
        FROM (SELECT * FROM alerts ORDER BY raised_at DESC, alert_id DESC LIMIT ?) a
        LEFT JOIN alert_deliveries d USING (alert_id)
        LEFT JOIN alert_channels c USING (channel_id)
        ORDER BY a.raised_at DESC, a.alert_id DESC, d.channel_id""",
        [whole_number(limit, "limit")])
    frame.insert(8, "channel", [
        None if kind is None or pd.isna(kind) else masked(kind, target)
        for kind, target in zip(frame["channel_kind"], frame["target"], strict=True)])
    return frame.drop(columns=["target"])
