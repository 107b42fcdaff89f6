"""What calls for an alert now: set-based checks over the stored comments.

Each check is one aggregate query over every account and returns `Candidate`s; whether one
becomes an alert (its dedup key, the repeat spacing) is settled when it is raised
(`desk.alerts.store.raise_alerts`). An account is ('ad', advertiser_id) or ('organic',
business_id); times are the comments' `create_time`, against the `now` of the check.

- **Backlog** (`backlog`): the comments that need attention (the inbox's definition:
  first-level, not hidden, not answered by the brand, neither done nor snoozed) that have
  waited longer than their account's response-time target. A comment's target is as
  desk/store/responses.py has it: its labels' targets win over the account's 'all' target,
  the shortest of them when several apply. It waits since it was written, or since it was
  reopened (the inbox's `reopened_at`: when its commenter wrote again). Unlike the
  response-time backlog, a snoozed comment does not count: someone chose to wait.
- **Negative or toxic share** (`negative_spike`, `toxic_spike`): among an account's
  classified comments (brand replies aside) the share that is negative (sentiment below
  -SENTIMENT_CUT) or labelled toxic, over the last `share_window_hours`, against the share of
  the `baseline_days` before. A spike needs `share_min_comments` in the window, a share at
  least `share_spike_ratio` times the baseline's and `share_spike_points` points above it.
- **Volume per ad** (`volume_spike`): an ad's comments in the last hour against its hourly
  baseline over the `baseline_days` before (counted from its first comment in them, when
  that is later). A spike needs `volume_min_comments` and `volume_spike_ratio` times the
  baseline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from desk.alerts.store import AccountKind, AlertKind, NewAlert, Thresholds
from desk.store.filters import SENTIMENT_CUT
from desk.store.inbox import OPEN, UNANSWERED, InboxScope
from desk.store.sql import Cursor, fetch_rows, query_records
from desk.store.times import to_utc
from desk.text import plural

INBOX_PATH = "Inbox"
"""The Inbox page's URL path (pages/3_Inbox.py)."""

# The account a comment belongs to, over `comments c`.
_ACCOUNT_KIND = "CASE WHEN c.source = 'organic' THEN 'organic' ELSE 'ad' END"
_ACCOUNT_ID = "CASE WHEN c.source = 'organic' THEN c.business_id ELSE c.advertiser_id END"
_NOT_BRAND = "NOT (c.comment_type = 'REPLY' AND coalesce(c.can_delete, false))"


@dataclass(frozen=True)
class Candidate:
    """Something that calls for an alert, with the words it is sent with."""

    kind: AlertKind
    account_kind: AccountKind
    account_id: str
    ad_id: str | None
    title: str
    detail: str

    def dedup_key(self, now: datetime, repeat_hours: int) -> str:
        """The same for every check of one `repeat_hours` period: e.g.
        'backlog:ad:123:2025-03-10T08' (the period's start, UTC)."""
        parts = [self.kind, self.account_kind, self.account_id]
        if self.ad_id is not None:
            parts.append(self.ad_id)
        return ":".join([*parts, period_start(now, repeat_hours).strftime("%Y-%m-%dT%H")])

    def alert(self, now: datetime, repeat_hours: int, base_url: str) -> NewAlert:
        return NewAlert(self.dedup_key(now, repeat_hours), self.kind, self.account_kind,
                        self.account_id, self.ad_id, self.title, self.detail,
                        inbox_link(base_url, self.account_kind, self.account_id, self.ad_id))


def period_start(now: datetime, hours: int) -> datetime:
    """The start of the `hours`-long period (counted from the Unix epoch) `now` falls in."""
    step = int(hours) * 3600
    seconds = int(to_utc(now).timestamp()) // step * step
    return datetime.fromtimestamp(seconds, UTC)


def inbox_link(base_url: str, account_kind: str, account_id: str,
               ad_id: str | None = None) -> str:
    """The Inbox page showing the account (and ad), as the pages read their addresses:
    `?advertiser=<id>` (with `&ad=<id>`) or `?account=<business_id>`."""
    params = {"advertiser": account_id} if account_kind == "ad" else {"account": account_id}
    if ad_id is not None:
        params["ad"] = ad_id
    return f"{base_url.rstrip('/')}/{INBOX_PATH}?{urlencode(params)}"


def candidates(cur: Cursor, thresholds: Thresholds, now: datetime) -> list[Candidate]:
    """Every check, in one list: backlog breaches, share spikes, volume spikes."""
    return [*backlog_breaches(cur, thresholds, now), *share_spikes(cur, thresholds, now),
            *volume_spikes(cur, thresholds, now)]


def backlog_breaches(cur: Cursor, thresholds: Thresholds, now: datetime) -> list[Candidate]:
    """Accounts with at least `backlog_min_comments` comments past their target."""
    now = to_utc(now)
    base, base_params = InboxScope().where()
    rows = query_records(cur, f"""
        WITH waiting AS (
            SELECT {_ACCOUNT_KIND} AS account_kind, {_ACCOUNT_ID} AS account_id, c.comment_id,
                   c.labels, greatest(c.create_time, s.reopened_at) AS since
            FROM comments c LEFT JOIN inbox_states s USING (comment_id)
            WHERE {base} AND {OPEN} AND {UNANSWERED}
              AND EXISTS (SELECT 1 FROM response_targets t
                          WHERE t.account_kind = {_ACCOUNT_KIND}
                            AND t.account_id = {_ACCOUNT_ID})
        ), targeted AS (
            SELECT w.account_kind, w.account_id, w.comment_id, w.since,
                   coalesce(min(t.minutes) FILTER (WHERE t.scope <> 'all'),
                            min(t.minutes) FILTER (WHERE t.scope = 'all')) AS minutes
            FROM waiting w JOIN response_targets t
              ON t.account_kind = w.account_kind AND t.account_id = w.account_id
             AND (t.scope = 'all' OR list_contains(w.labels, t.scope))
            GROUP BY w.account_kind, w.account_id, w.comment_id, w.since
        ), late AS (
            SELECT * FROM targeted WHERE since + to_minutes(minutes) <= ?
        )
        SELECT account_kind, account_id, count(*) AS late, min(since) AS oldest
        FROM late GROUP BY account_kind, account_id HAVING count(*) >= ?
        ORDER BY account_kind, account_id""",  # noqa: S608 (constants)
        [*base_params, now, now, thresholds.backlog_min_comments])
    names = _account_names(cur, [(r["account_kind"], r["account_id"]) for r in rows])
    found = []
    for row in rows:
        account = (row["account_kind"], row["account_id"])
        waited = _duration(now - row["oldest"])
        found.append(Candidate(
            "backlog", *account, None, f"Backlog over target: {names[account]}",
            f"{plural(row['late'], 'comment')} need an answer and are past the response-time "
            f"target; the oldest has waited {waited}."))
    return found


def share_spikes(cur: Cursor, thresholds: Thresholds, now: datetime) -> list[Candidate]:
    """Accounts whose negative or toxic share over the window spikes against the baseline."""
    now = to_utc(now)
    window = now - timedelta(hours=thresholds.share_window_hours)
    start = window - timedelta(days=thresholds.baseline_days)
    rows = query_records(cur, f"""
        SELECT {_ACCOUNT_KIND} AS account_kind, {_ACCOUNT_ID} AS account_id,
               count(*) FILTER (WHERE c.create_time >= ?) AS recent,
               count(*) FILTER (WHERE c.create_time >= ? AND c.sentiment < ?)
                   AS recent_negative,
               count(*) FILTER (WHERE c.create_time >= ? AND list_contains(c.labels, 'toxic'))
                   AS recent_toxic,
               count(*) FILTER (WHERE c.create_time < ?) AS before,
               count(*) FILTER (WHERE c.create_time < ? AND c.sentiment < ?) AS before_negative,
               count(*) FILTER (WHERE c.create_time < ? AND list_contains(c.labels, 'toxic'))
                   AS before_toxic
        FROM comments c
        WHERE c.create_time >= ? AND c.create_time < ? AND c.classified_with IS NOT NULL
          AND {_NOT_BRAND} AND {_ACCOUNT_ID} IS NOT NULL
        GROUP BY ALL HAVING count(*) FILTER (WHERE c.create_time >= ?) >= ?
        ORDER BY account_kind, account_id""",  # noqa: S608 (constants)
        [window, window, -SENTIMENT_CUT, window, window, window, -SENTIMENT_CUT, window, start,
         now, window, thresholds.share_min_comments])
    names = _account_names(cur, [(r["account_kind"], r["account_id"]) for r in rows])
    found = []
    for row in rows:
        account = (row["account_kind"], row["account_id"])
        for kind, word in (("negative_spike", "negative"), ("toxic_spike", "toxic")):
            share = row[f"recent_{word}"] / row["recent"]
            baseline = row[f"before_{word}"] / row["before"] if row["before"] else 0.0
            if not is_share_spike(share, baseline, thresholds):
                continue
            found.append(Candidate(
                kind, *account, None,  # type: ignore[arg-type]
                f"{word.capitalize()} comments spiking: {names[account]}",
                f"{share:.0%} of the {row['recent']:,} comments of the last "
                f"{plural(thresholds.share_window_hours, 'hour')} are {word}, against "
                f"{baseline:.0%} over the {plural(thresholds.baseline_days, 'day')} before."))
    return found


def is_share_spike(share: float, baseline: float, thresholds: Thresholds) -> bool:
    """Whether a window's share spikes against the baseline's (both 0..1)."""
    return (share >= thresholds.share_spike_ratio * baseline
            and (share - baseline) * 100 >= thresholds.share_spike_points and share > 0)


def volume_spikes(cur: Cursor, thresholds: Thresholds, now: datetime) -> list[Candidate]:
    """Ads whose comments of the last hour spike against their hourly baseline."""
    now = to_utc(now)
    hour = now - timedelta(hours=1)
    start = hour - timedelta(days=thresholds.baseline_days)
    rows = query_records(cur, f"""
        WITH recent AS (
            SELECT c.advertiser_id, c.ad_id, count(*) AS recent, max(c.ad_name) AS ad_name
            FROM comments c
            WHERE c.source = 'ad' AND c.ad_id IS NOT NULL AND c.advertiser_id IS NOT NULL
              AND c.create_time >= ? AND c.create_time < ? AND {_NOT_BRAND}
            GROUP BY c.advertiser_id, c.ad_id HAVING count(*) >= ?
        )
        SELECT r.advertiser_id, r.ad_id, r.recent, r.ad_name,
               count(c.comment_id) AS before, min(c.create_time) AS first_before
        FROM recent r LEFT JOIN comments c
          ON c.ad_id = r.ad_id AND c.advertiser_id = r.advertiser_id
         AND c.create_time >= ? AND c.create_time < ? AND {_NOT_BRAND}
        GROUP BY r.advertiser_id, r.ad_id, r.recent, r.ad_name
        ORDER BY r.advertiser_id, r.ad_id""",  # noqa: S608 (constants)
        [hour, now, thresholds.volume_min_comments, start, hour])
    names = _account_names(cur, [("ad", r["advertiser_id"]) for r in rows])
    found = []
    for row in rows:
        if row["before"]:
            hours = (hour - max(start, row["first_before"])).total_seconds() / 3600
            rate = row["before"] / min(max(hours, 1.0), thresholds.baseline_days * 24.0)
        else:
            rate = 0.0
        if row["recent"] < thresholds.volume_spike_ratio * rate:
            continue
        ad = row["ad_name"] or row["ad_id"]
        found.append(Candidate(
            "volume_spike", "ad", row["advertiser_id"], row["ad_id"],
            f"Comment volume spiking on ad {ad} ({names[('ad', row['advertiser_id'])]})",
            f"{plural(row['recent'], 'comment')} in the last hour, against {rate:.1f} an hour "
            f"over the {plural(thresholds.baseline_days, 'day')} before."))
    return found


def _account_names(cur: Cursor, accounts: Iterable[tuple[str, str]]) -> dict[tuple[str, str],
                                                                              str]:
    """Each account's name as people know it (its ID when it has none stored)."""
    wanted = set(accounts)
    ads = [i for kind, i in wanted if kind == "ad"]
    organic = [i for kind, i in wanted if kind == "organic"]
    names = {account: account[1] for account in wanted}
    if ads:
        for advertiser_id, name in fetch_rows(
                cur, "SELECT advertiser_id, name FROM advertisers "
                     "WHERE advertiser_id IN (SELECT unnest(?::VARCHAR[]))", [ads]):
            if name:
                names[("ad", advertiser_id)] = name
    if organic:
        for business_id, name in fetch_rows(
                cur, "SELECT business_id, coalesce(nullif(display_name, ''), username) "
                     "FROM business_accounts WHERE business_id IN (SELECT unnest(?::VARCHAR[]))",
                [organic]):
            if name:
                names[("organic", business_id)] = name
    return names


def _duration(delta: timedelta) -> str:
    """'45 min', '5 h 10 min', '3 d 4 h'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
