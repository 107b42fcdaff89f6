"""What the weekly summary says, read from the store: one account, one week (Monday to Sunday
in the account's time zone) beside the week before.

Every number comes from the store's own reads, so the summary agrees with Insights:
`comments_count` (comments and replies, hidden ones), `response_report` (first-level
comments, the reply rate, the median and p90 time to first response, the share within
target: desk/store/responses.py has the definitions), `backlog_over_time` (what was owed an
answer at the end of each day), `label_counts`, `comment_volume_over_time`,
`comment_volume_by_ad` / `comment_volume_by_video`, `response_report`'s per-item table and
`comments_page`; the classifier's mix and the delivery from desk/store/weekly.py.

Delivery (spend, impressions) exists for ad accounts only, once their delivery is synced;
the rates per 1,000 impressions count people's comments and replies (not the brand's replies)
on the ads that had delivery that week, over those ads' impressions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from desk import store as db
from desk.moderation.labels import LABELS, language_name
from desk.report import charts, render
from desk.store import weekly as reads
from desk.store.schema import COMMENT_SOURCES, CommentSource
from desk.store.sql import Cursor
from desk.store.times import to_utc, utc_now
from desk.text import text, video_label

TOP_ITEMS = 10
"""How many ads or videos the summary ranks."""
TOP_COMPLAINTS = 5
"""How many complaints it quotes (the most liked)."""

NumberKind = Literal["count", "share", "minutes", "money", "rate"]
"""How a key number is written: a count, a share (0..1), minutes, an amount of money, or a
rate per 1,000 impressions."""


@dataclass(frozen=True)
class Account:
    """An account a summary is about: an ad account ("ad", its advertiser_id) or a TikTok
    business account ("organic", its business_id)."""

    kind: CommentSource
    account_id: str

    def __post_init__(self) -> None:
        if self.kind not in COMMENT_SOURCES:
            raise ValueError(f"an account is an ad or organic one, not {self.kind!r}")
        if not str(self.account_id or "").strip():
            raise ValueError("an account needs its ID")

    @property
    def filters(self) -> db.CommentFilters:
        """Every comment of the account: an ad account's ad comments, a TikTok account's
        organic ones."""
        if self.kind == "ad":
            return db.CommentFilters(self.account_id)
        return db.CommentFilters("", business_id=self.account_id)

    @property
    def noun(self) -> str:
        return "ad account" if self.kind == "ad" else "TikTok account"


@dataclass(frozen=True)
class Week:
    """Monday `start` to the Sunday after, in the time zone `tz`."""

    start: date
    tz: str

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) or not isinstance(self.start, date):
            raise ValueError(f"a week starts on a day (a date), not {self.start!r}")
        if self.start.weekday() != 0:
            raise ValueError(f"a week starts on a Monday; {self.start:%Y-%m-%d} is a "
                             f"{self.start:%A}")
        _zone(self.tz)

    @property
    def end(self) -> date:
        """Its Sunday."""
        return self.start + timedelta(days=6)

    @property
    def starts_at(self) -> datetime:
        """Monday 00:00 in the time zone, in UTC."""
        return _midnight(self.start, self.tz)

    @property
    def ends_at(self) -> datetime:
        """The next Monday 00:00 in the time zone, in UTC: the week runs up to it."""
        return _midnight(self.start + timedelta(days=7), self.tz)

    @property
    def before(self) -> Week:
        return Week(self.start - timedelta(days=7), self.tz)

    def of(self, filters: db.CommentFilters) -> db.CommentFilters:
        """The filters narrowed to the week's days."""
        return replace(filters, date_from=self.start, date_to=self.end)

    def label(self) -> str:
        """'Mon 3 Mar – Sun 9 Mar 2025'."""
        first = f"{self.start:%a} {self.start.day} {self.start:%b}"
        if self.start.year != self.end.year:
            first += f" {self.start.year}"
        return f"{first} – {self.end:%a} {self.end.day} {self.end:%b %Y}"


@dataclass(frozen=True)
class Delivery:
    """An ad account's delivery over a week: per ad (desk.store.weekly.delivery_by_ad) and
    summed."""

    by_ad: pd.DataFrame

    @property
    def spend(self) -> float | None:
        return _total(self.by_ad["spend"], float)

    @property
    def impressions(self) -> int | None:
        return _total(self.by_ad["impressions"], int)

    @property
    def currency(self) -> str:
        names = {c for value in self.by_ad["currency"] for c in text(value).split(", ") if c}
        return ", ".join(sorted(names))

    @property
    def comments(self) -> int:
        return int(self.by_ad["comments"].sum())

    @property
    def complaints(self) -> int:
        return int(self.by_ad["complaints"].sum())

    def per_mille(self, count: int) -> float | None:
        """`count` per 1,000 of the week's impressions (None without impressions)."""
        return per_mille(count, self.impressions)


@dataclass(frozen=True)
class WeekNumbers:
    """One week of one account, as the store has it."""

    week: Week
    comments: int
    hidden: int
    response: dict[str, Any]
    response_items: pd.DataFrame
    """The week's response times per ad or video (ResponseReport.by_item)."""
    backlog: pd.DataFrame
    labels: dict[str, int]
    classifier: dict[str, int]
    languages: pd.DataFrame
    per_day: pd.DataFrame
    delivery: Delivery | None = None

    @property
    def first_level(self) -> int:
        return int(self.response["comments"] or 0)

    @property
    def answered(self) -> int:
        return int(self.response["answered"] or 0)

    @property
    def reply_rate(self) -> float | None:
        return self.answered / self.first_level if self.first_level else None

    @property
    def hidden_share(self) -> float | None:
        return self.hidden / self.comments if self.comments else None

    @property
    def negative_share(self) -> float | None:
        classified = self.classifier["classified"]
        return self.classifier["negative"] / classified if classified else None

    @property
    def backlog_at_end(self) -> int | None:
        """Comments owed an answer at the week's end (or now, for a week under way)."""
        return int(self.backlog["backlog"].iloc[-1]) if len(self.backlog) else None

    @property
    def over_target_at_end(self) -> int | None:
        return int(self.backlog["over_target"].iloc[-1]) if len(self.backlog) else None


@dataclass(frozen=True)
class KeyNumber:
    """A row of the summary's table: this week's value beside the week before's."""

    key: str
    label: str
    kind: NumberKind
    this: float | int | None
    before: float | int | None
    note: str = ""
    unit: str = ""


def account_timezone(cur: Cursor, account: Account) -> str:
    """The zone an account's days are counted in: an ad account's own (UTC when unknown),
    UTC for a TikTok account (TikTok gives it none), as Insights counts them."""
    return db.advertiser_timezone(cur, account.account_id) if account.kind == "ad" else "UTC"


def account_name(cur: Cursor, account: Account) -> str:
    """The account's name as stored ('' when it has none)."""
    if account.kind == "ad":
        frame = db.list_advertisers(cur)
        names = frame.loc[frame["advertiser_id"] == account.account_id, "name"]
    else:
        frame = db.list_business_accounts(cur)
        match = frame[frame["business_id"] == account.account_id]
        names = match["display_name"].where(match["display_name"].notna(), match["username"])
    return text(names.iloc[0]) if len(names) else ""


def last_full_week(tz: str, now: datetime | None = None) -> date:
    """The Monday of the last whole week (Monday to Sunday) before now, in `tz`."""
    today = to_utc(now or utc_now()).astimezone(_zone(tz)).date()
    return today - timedelta(days=today.weekday() + 7)


def report_file_name(account: Account, week_start: date) -> str:
    """'weekly-summary-ad-7000000000000000001-2025-03-03.html'."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in account.account_id)
    return f"weekly-summary-{account.kind}-{safe}-{week_start:%Y-%m-%d}.html"


def weekly_report(cur: Cursor, account: Account, week_start: date, tz: str | None = None,
                  *, now: datetime | None = None) -> bytes:
    """The weekly summary of `account` for the week starting on Monday `week_start`, beside
    the week before: a self-contained HTML file (UTF-8), plotly.js inline, nothing to load.

    `tz` is the account's time zone (None: account_timezone). The store counts an account's
    days in that zone, so another zone is refused rather than silently ignored. `now` (for
    tests) bounds the backlog of a week still under way.
    """
    zone = account_timezone(cur, account)
    if tz is not None and tz != zone:
        raise ValueError(f"the {account.noun} {account.account_id} counts its days in {zone}, "
                         f"not {tz}")
    week = Week(week_start, zone)
    moment = to_utc(now or utc_now())
    if week.starts_at >= moment:
        raise ValueError(f"the week of {week.start:%Y-%m-%d} has not begun yet")
    # The backlog reads every comment the account ever had: once for both weeks.
    backlog = db.backlog_over_time(cur, account.filters, start=week.before.starts_at,
                                   end=week.ends_at, grain="day", now=moment)
    this_week = backlog["bucket"] >= pd.Timestamp(week.start)
    this = week_numbers(cur, account, week, backlog[this_week].reset_index(drop=True))
    before = week_numbers(cur, account, week.before,
                          backlog[~this_week].reset_index(drop=True))
    return render.render_report(_context(cur, account, this, before, moment))


def week_numbers(cur: Cursor, account: Account, week: Week,
                 backlog: pd.DataFrame) -> WeekNumbers:
    """Everything the summary says about one week of the account, given its backlog at the
    end of each day (backlog_over_time)."""
    chosen = week.of(account.filters)
    counted = db.label_counts(cur, chosen)
    labels = {label: 0 for label in LABELS}
    for label, comments in zip(counted["label"], counted["comments"], strict=True):
        if isinstance(label, str):
            labels[label] = int(comments)
    delivery = None
    if account.kind == "ad":
        by_ad = reads.delivery_by_ad(cur, account.account_id, week.start, week.end,
                                     week.starts_at, week.ends_at)
        delivery = Delivery(by_ad) if len(by_ad) else None
    responses = db.response_report(cur, chosen)
    return WeekNumbers(
        week=week,
        comments=db.comments_count(cur, chosen),
        hidden=db.comments_count(cur, replace(chosen, status="HIDDEN")),
        response=responses.overall,
        response_items=responses.by_item,
        backlog=backlog,
        labels=labels,
        classifier=reads.classifier_mix(cur, chosen),
        languages=reads.language_mix(cur, chosen),
        per_day=db.comment_volume_over_time(cur, chosen, "day"),
        delivery=delivery,
    )


def key_numbers(this: WeekNumbers, before: WeekNumbers) -> list[KeyNumber]:
    """The summary's table, in order; the delivery rows only when either week has any."""
    def row(key: str, label: str, kind: NumberKind, get, note: str = "") -> KeyNumber:
        return KeyNumber(key, label, kind, get(this), get(before), note)

    rows = [
        row("comments", "Comments and replies", "count", lambda w: w.comments),
        row("first_level", "First-level comments", "count", lambda w: w.first_level),
        row("reply_rate", "Reply rate", "share", lambda w: w.reply_rate,
            "first-level comments the brand has replied to"),
        row("median_minutes", "Median time to first response", "minutes",
            lambda w: _number(w.response["median_minutes"])),
        row("p90_minutes", "90th percentile time to first response", "minutes",
            lambda w: _number(w.response["p90_minutes"])),
        row("share_within_target", "Answered within target", "share",
            lambda w: _number(w.response["share_within_target"]),
            "of the answered comments that have a target"),
        row("hidden_share", "Hidden", "share", lambda w: w.hidden_share),
        row("negative_share", "Negative sentiment", "share", lambda w: w.negative_share,
            "of the classified comments"),
        row("complaints", "Complaints", "count", lambda w: w.labels["complaint"]),
        row("questions", "Questions", "count", lambda w: w.labels["question"]),
        row("backlog", "Waiting for an answer at the week's end", "count",
            lambda w: w.backlog_at_end, "first-level comments owed an answer"),
        row("over_target", "… of them waiting past their target", "count",
            lambda w: w.over_target_at_end),
    ]
    if this.delivery is None and before.delivery is None:
        return rows
    currency = (this.delivery or before.delivery).currency  # type: ignore[union-attr]
    return [*rows,
            KeyNumber("spend", "Spend", "money", _of(this.delivery, "spend"),
                      _of(before.delivery, "spend"), unit=currency),
            row("impressions", "Impressions", "count",
                lambda w: _of(w.delivery, "impressions")),
            row("comments_per_mille", "Comments per 1,000 impressions", "rate",
                lambda w: w.delivery.per_mille(w.delivery.comments) if w.delivery else None,
                "people's comments and replies on the ads with delivery"),
            row("complaints_per_mille", "Complaints per 1,000 impressions", "rate",
                lambda w: w.delivery.per_mille(w.delivery.complaints) if w.delivery else None)]


def per_mille(count: int, impressions: int | None) -> float | None:
    """`count` per 1,000 impressions (None without impressions)."""
    return count * 1000 / impressions if impressions else None


def top_by_comments(cur: Cursor, account: Account, filters: db.CommentFilters) -> pd.DataFrame:
    """The ads (an ad account; the rest as one "Other ads" row) or videos (a TikTok account)
    with the most comments and replies: name, comments."""
    if account.kind == "ad":
        frame = db.comment_volume_by_ad(cur, filters, TOP_ITEMS)
        names = [text(n) or f"Ad {text(a)}" for n, a in zip(frame["ad_name"], frame["ad_id"],
                                                             strict=True)]
        return pd.DataFrame({"name": names, "comments": frame["comments"].astype("int64")})
    frame = db.comment_volume_by_video(cur, account.account_id, filters)
    totals = (frame.groupby(["video_id"], sort=False)
              .agg(caption=("caption", "first"), comments=("comments", "sum"))
              .reset_index().sort_values(["comments", "video_id"], ascending=[False, True],
                                         kind="stable").head(TOP_ITEMS))
    return pd.DataFrame({
        "name": [video_label(c, v, width=40) for c, v in zip(totals["caption"],
                                                             totals["video_id"], strict=True)],
        "comments": totals["comments"].astype("int64").to_numpy(),
    })


def top_complaints(cur: Cursor, filters: db.CommentFilters) -> pd.DataFrame:
    """The most liked comments labelled complaints: content, user_name, likes,
    create_time_local, where (the ad's name or the video)."""
    page = db.comments_page(cur, replace(filters, labels=("complaint",)), TOP_COMPLAINTS, 0,
                            "most_liked")
    if page.empty:
        return page
    whole = db.comments_by_id(cur, list(page["comment_id"]))
    where = [video_label(caption, video, width=40) if source == "organic" else
             (text(ad_name) or f"Ad {text(ad_id)}")
             for source, caption, video, ad_name, ad_id in zip(
                 whole["source"], whole["video_caption"], whole["video_id"], whole["ad_name"],
                 whole["ad_id"], strict=True)]
    return whole.assign(where=where)


# --- putting it together -------------------------------------------------------------------


def _context(cur: Cursor, account: Account, this: WeekNumbers, before: WeekNumbers,
             now: datetime) -> dict[str, Any]:
    """What the template is given: plain values and rows (the template escapes them all)."""
    week = this.week
    chosen = week.of(account.filters)
    top = top_by_comments(cur, account, chosen)
    run = db.last_sync_run(cur, account.account_id, account.kind)
    delivery = this.delivery
    return {
        "account": account,
        "name": account_name(cur, account),
        "week": week,
        "under_way": now < week.ends_at,
        "numbers": key_numbers(this, before),
        "this": this,
        "before": before,
        "items": _item_rows(this.response_items.head(TOP_ITEMS)),
        "complaints": _records(top_complaints(cur, chosen)),
        "languages": _language_rows(this.languages),
        "last_sync": None if run is None else (run.finished_at or run.started_at),
        "last_sync_status": None if run is None else run.status,
        "delivery_through": (reads.delivery_synced_through(cur, account.account_id)
                             if account.kind == "ad" else None),
        "delivery_rows": [] if delivery is None else _delivery_rows(delivery.by_ad),
        "currency": "" if delivery is None else delivery.currency,
        "charts": {
            "per_day": charts.per_day(this.per_day, before.per_day, week.tz),
            "top": charts.top_items(top, "Ads" if account.kind == "ad" else "Videos"),
            "labels": charts.labels(this.labels, before.labels),
            "sentiment": charts.sentiment(this.classifier, before.classifier),
            "backlog": charts.backlog(this.backlog, week.tz),
        },
    }


def _item_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """response_times_by_ad's rows with a name to show."""
    rows = _records(frame)
    for row in rows:
        if row["source"] == "organic":
            row["name"] = video_label(row["name"], row["video_id"], width=48)
        else:
            row["name"] = text(row["name"]) or f"Ad {text(row['ad_id'])}"
    return rows


def _delivery_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """delivery_by_ad's rows with their rates per 1,000 impressions."""
    rows = _records(frame)
    for row in rows:
        row["name"] = text(row["ad_name"]) or f"Ad {text(row['ad_id'])}"
        row["comments_per_mille"] = per_mille(row["comments"], row["impressions"])
        row["complaints_per_mille"] = per_mille(row["complaints"], row["impressions"])
    return rows


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _language_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    named = frame[frame["language"].notna()]
    total = int(named["comments"].sum())
    return [{"language": language_name(code), "comments": int(n),
             "share": int(n) / total if total else None}
            for code, n in zip(named["language"].head(8), named["comments"].head(8),
                               strict=True)]


def _total(values: pd.Series, kind: type) -> Any:
    """The sum of the values TikTok gave (None when it gave none)."""
    given = values.dropna()
    return kind(given.sum()) if len(given) else None


def _of(delivery: Delivery | None, name: str) -> Any:
    return getattr(delivery, name) if delivery is not None else None


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{tz!r} is not a time zone") from exc


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=_zone(tz)).astimezone(UTC)
