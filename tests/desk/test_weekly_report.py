"""The weekly summary (desk.report) against a real database: its numbers are the store's, its
week runs Monday to Sunday in the account's time zone, comment text stays text, it loads
nothing from anywhere, and delivery is shown only where there is some.

Ad account A1 (America/New_York; its week of 3 March 2025 runs from 05:00 UTC on Monday 3
March to 04:00 UTC on Monday 10 March, summer time beginning on Sunday 9 March), with ads ad1
and ad2 and a target of 60 minutes for every comment. "Brand" replies have can_delete = true.
Times in UTC (New York time in brackets):

    id    ad   created               type     labels     sentiment  answered (brand)
    p2    ad2  02-26 12:00           COMMENT  question   0.0        never
    p1    ad1  03-03 04:30 (Sun 23:30) COMMENT complaint -0.6       04:40 (10 min)
    a1    ad1  03-03 05:00 (Mon 00:00) COMMENT question  0.0        05:30 (30 min)
    u1    ad1  03-03 06:00           REPLY to a1 (a person)  0.1
    a2    ad1  03-04 15:00           COMMENT  complaint  -0.8       17:00 (120 min), liked 10,
                                                                    text <script>alert(1)</script>
    a3    ad2  03-05 12:00           COMMENT  praise     0.9        never
    a4    ad2  03-06 12:00           COMMENT  complaint  -0.5       HIDDEN, liked 3
    a5    ad1  03-10 03:30 (Sun 23:30) COMMENT (not classified)     never
    n1    ad1  03-10 04:00 (Mon 00:00) COMMENT                       the week after

Delivery of A1: ad1 1,000 impressions and 10.00 USD each day from 3 to 9 March, and 2,000
and 20.00 USD on 2 March (the week before) and on 10 March (the week after); ad2 500
impressions and 2.50 USD on 5 March. Ad account A2 (UTC) has a comment and no delivery;
TikTok account B1 an organic comment.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from desk import store as db
from desk.report import Account, Week, last_full_week, report_file_name, weekly_report
from desk.store import Store
from desk.store import responses as rt

SEEN = datetime(2025, 3, 20, tzinfo=UTC)
NOW = datetime(2025, 3, 20, tzinfo=UTC)
WEEK = date(2025, 3, 3)
A1, A2, B1 = Account("ad", "A1"), Account("ad", "A2"), Account("organic", "B1")
HOSTILE = "<script>alert(1)</script>"
HOSTILE_AD = "Sale <img src=x onerror=alert(2)>"


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def comment(comment_id, created, *, account="A1", ad_id="ad1", labels=(), sentiment=0.0,
            status="PUBLIC", likes=0, content=None, classified=True):
    organic = account.startswith("B")
    return {
        "comment_id": comment_id,
        "source": "organic" if organic else "ad",
        "advertiser_id": None if organic else account,
        "business_id": account if organic else None,
        "ad_id": None if organic else ad_id,
        "ad_name": None if organic else (HOSTILE_AD if ad_id == "ad1" else f"Ad {ad_id}"),
        "video_id": "v1" if organic else None,
        "tiktok_item_id": "v1" if organic else f"item-{ad_id}",
        "comment_type": "COMMENT",
        "original_comment_id": None,
        "comment_status": status,
        "likes": likes,
        "create_time": created,
        "labels": list(labels),
        "sentiment": sentiment if classified else None,
        "language": ("en" if comment_id != "a3" else "es") if classified else None,
        "classified_with": "test" if classified else None,
        "user_name": f"user_{comment_id}",
        "content": content or f"comment {comment_id}",
        "can_delete": False,
    }


def reply(comment_id, parent, created, *, brand=True, ad_id="ad1", sentiment=0.0):
    return {**comment(comment_id, created, ad_id=ad_id, sentiment=sentiment),
            "comment_type": "REPLY", "original_comment_id": parent, "can_delete": brand}


def delivery(cur, ad_id: str, day: date, impressions: int, spend: float) -> None:
    cur.execute(
        "INSERT INTO ad_delivery (advertiser_id, ad_id, stat_day, spend, impressions, clicks, "
        "video_play_actions, likes, currency, fetched_at) VALUES ('A1', ?, ?, ?, ?, ?, NULL, "
        "NULL, 'USD', ?)", [ad_id, day, spend, impressions, impressions // 100, SEEN]).fetchall()


@pytest.fixture
def cur(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as store:
        cursor = store.cursor()
        db.upsert_advertisers(cursor, pd.DataFrame([
            {"advertiser_id": "A1", "name": "Acme <b>US</b>", "timezone": "America/New_York",
             "currency": "USD"},
            {"advertiser_id": "A2", "name": "Other", "timezone": "UTC", "currency": "EUR"},
        ]))
        db.upsert_comments(cursor, pd.DataFrame.from_records([
            comment("p2", utc(26, 12, month=2), ad_id="ad2", labels=["question"]),
            comment("p1", utc(3, 4, 30), labels=["complaint"], sentiment=-0.6),
            reply("r_p1", "p1", utc(3, 4, 40)),
            comment("a1", utc(3, 5), labels=["question"]),
            reply("r_a1", "a1", utc(3, 5, 30)),
            reply("u1", "a1", utc(3, 6), brand=False, sentiment=0.1),
            comment("a2", utc(4, 15), labels=["complaint"], sentiment=-0.8, likes=10,
                    content=HOSTILE),
            reply("r_a2", "a2", utc(4, 17)),
            comment("a3", utc(5, 12), ad_id="ad2", labels=["praise"], sentiment=0.9),
            comment("a4", utc(6, 12), ad_id="ad2", labels=["complaint"], sentiment=-0.5,
                    status="HIDDEN", likes=3),
            comment("a5", utc(10, 3, 30), classified=False),
            comment("n1", utc(10, 4)),
            comment("x1", utc(4, 12), account="A2", ad_id="ad9"),
            comment("o1", utc(4, 12), account="B1"),
        ]), SEEN)
        db.upsert_videos(cursor, pd.DataFrame([
            {"video_id": "v1", "business_id": "B1", "caption": "Spring <b>drop</b>"}]), SEEN)
        rt.set_target(cursor, "ad", "A1", "all", 60, "boss@acme.example", at=utc(1, 0))
        for day in range(3, 10):
            delivery(cursor, "ad1", date(2025, 3, day), 1000, 10.0)
        delivery(cursor, "ad1", date(2025, 3, 2), 2000, 20.0)
        delivery(cursor, "ad1", date(2025, 3, 10), 2000, 20.0)
        delivery(cursor, "ad2", date(2025, 3, 5), 500, 2.5)
        yield cursor


class Page(HTMLParser):
    """What a test reads from the file: the key numbers (data-key -> [this, before] from the
    cells' data-value), every tag with its attributes, the scripts and the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.numbers: dict[str, list[str]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._row: str | None = None
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "tr":
            self._row = found.get("data-key")
            if self._row:
                self.numbers[self._row] = []
        elif tag == "td" and self._row and "data-value" in found:
            self.numbers[self._row].append(found["data-value"] or "")
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    @property
    def words(self) -> str:
        """The visible text, whitespace collapsed."""
        return " ".join(" ".join(self.text).split())

    def number(self, key: str, which: int = 0) -> float | None:
        value = self.numbers[key][which]
        return float(value) if value else None

    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.tags if attrs.get("id")}

    def chart(self, div_id: str) -> list[dict]:
        """The traces of the figure drawn into the div `div_id`."""
        [script] = [s for s in self.scripts if "Plotly.newPlot" in s and f'"{div_id}",' in s]
        start = script.index("[", script.index(f'"{div_id}",'))
        return json.JSONDecoder().raw_decode(script[start:])[0]


def report(cur, account=A1, week=WEEK) -> str:
    return weekly_report(cur, account, week, now=NOW).decode("utf-8")


# --- the numbers ---------------------------------------------------------------------------


def test_the_key_numbers_are_the_ones_worked_out_by_hand(cur):
    page = Page(report(cur))

    assert page.numbers["comments"] == ["8", "3"]
    assert page.numbers["first_level"] == ["5", "2"]
    assert page.number("reply_rate") == pytest.approx(2 / 5)
    assert page.number("reply_rate", 1) == pytest.approx(1 / 2)
    assert page.number("median_minutes") == pytest.approx(75)
    assert page.number("p90_minutes") == pytest.approx(30 + 0.9 * 90)
    assert page.number("median_minutes", 1) == pytest.approx(10)
    assert page.number("share_within_target") == pytest.approx(1 / 2)
    assert page.number("share_within_target", 1) == pytest.approx(1)
    assert page.number("hidden_share") == pytest.approx(1 / 8)
    assert page.number("negative_share") == pytest.approx(2 / 7)  # a5 is not classified
    assert page.numbers["complaints"] == ["2", "1"]
    assert page.numbers["questions"] == ["1", "1"]
    assert page.numbers["backlog"] == ["3", "1"]  # a3, a5 and p2; then p2
    assert page.numbers["over_target"] == ["2", "1"]  # a5 has waited 30 minutes
    assert page.number("spend") == pytest.approx(72.5)
    assert page.number("spend", 1) == pytest.approx(20.0)
    assert page.numbers["impressions"] == ["7500", "2000"]
    # people's comments on the ads with delivery: a1..a5 and u1; the week before p1 (ad1)
    assert page.number("comments_per_mille") == pytest.approx(6 * 1000 / 7500)
    assert page.number("complaints_per_mille") == pytest.approx(2 * 1000 / 7500)
    assert page.number("comments_per_mille", 1) == pytest.approx(1 * 1000 / 2000)
    shown = page.words
    assert "Median time to first response 1 h 15 min 10 min +1 h 5 min" in shown
    assert "Reply rate first-level comments the brand has replied to 40.0% 50.0% −10.0 pts" \
        in shown
    assert "Spend 72.50 USD 20.00 USD +52.50 USD" in shown


def test_the_key_numbers_are_the_stores_own(cur):
    page = Page(report(cur))

    for column, week in ((0, Week(WEEK, "America/New_York")),
                         (1, Week(date(2025, 2, 24), "America/New_York"))):
        chosen = week.of(A1.filters)
        overall = rt.response_time_overall(cur, chosen)
        assert page.number("comments", column) == db.comments_count(cur, chosen)
        assert page.number("first_level", column) == overall["comments"]
        assert page.number("reply_rate", column) == pytest.approx(
            overall["answered"] / overall["comments"])
        for key in ("median_minutes", "p90_minutes", "share_within_target"):
            assert page.number(key, column) == pytest.approx(overall[key])
        hidden = db.comments_count(cur, db.CommentFilters("A1", status="HIDDEN",
                                                          date_from=week.start,
                                                          date_to=week.end))
        assert page.number("hidden_share", column) == pytest.approx(
            hidden / db.comments_count(cur, chosen))
        labels = db.label_counts(cur, chosen).set_index("label")["comments"]
        assert page.number("complaints", column) == labels.get("complaint", 0)
        negative = db.comments_count(cur, db.CommentFilters(
            "A1", sentiment="negative", date_from=week.start, date_to=week.end))
        classified = int(labels[labels.index.isna()].iloc[0])
        assert page.number("negative_share", column) == pytest.approx(negative / classified)
        backlog = rt.backlog_over_time(cur, A1.filters, start=week.starts_at,
                                       end=week.ends_at, now=NOW)
        assert page.number("backlog", column) == backlog["backlog"].iloc[-1]
        assert backlog["as_of"].iloc[-1] == week.ends_at


def test_the_charts_hold_the_same_counts(cur):
    page = Page(report(cur))

    this, before = page.chart("chart-per-day")
    assert this["x"] == ["Mon 3 Mar", "Tue 4 Mar", "Wed 5 Mar", "Thu 6 Mar", "Fri 7 Mar",
                         "Sat 8 Mar", "Sun 9 Mar"]
    assert this["y"] == [3, 2, 1, 1, 0, 0, 1]
    assert before["y"] == [0, 0, 1, 0, 0, 0, 2]  # p2 on Wednesday, p1 and r_p1 on Sunday
    assert [t["y"] for t in page.chart("chart-backlog")] == [
        [0, 0, 0, 0, 0, 0, 1],  # within target: a5, 30 minutes old at the week's end
        [1, 1, 2, 2, 2, 2, 2]]  # past target: p2 throughout, a3 from Wednesday
    [top] = page.chart("chart-top")
    assert top["x"] == [6, 2]
    assert top["y"] == ["Sale &lt;img src=x onerror=alert(2)&gt;", "Ad ad2"]
    labels = {t["name"]: dict(zip(t["y"], t["x"], strict=True))
              for t in page.chart("chart-labels")}
    assert labels["This week"]["Complaint"] == 2 and labels["Week before"]["Complaint"] == 1
    delivered = {attrs["data-ad"] for tag, attrs in page.tags if attrs.get("data-ad")}
    assert delivered == {"ad1", "ad2"}


# --- the week -------------------------------------------------------------------------------


def test_the_week_runs_monday_to_sunday_in_the_accounts_time_zone(cur):
    week = Week(WEEK, "America/New_York")
    assert (week.starts_at, week.ends_at) == (utc(3, 5), utc(10, 4))  # summer time on the 9th

    html = report(cur)
    page = Page(html)

    # a1 (Monday 00:00 there) and a5 (Sunday 23:30 there) are in; p1 (Sunday 23:30 the day
    # before) is the week before's, n1 (Monday 00:00 after) the next week's.
    assert page.numbers["first_level"] == ["5", "2"]
    assert "Mon 3 Mar – Sun 9 Mar 2025 (America/New_York)" in page.words
    assert "compared with Mon 24 Feb – Sun 2 Mar 2025" in page.words
    assert "user_a2 · Sale <img src=x onerror=alert(2)> · 2025-03-04 10:00 · 10 likes" \
        in page.words  # text, in New York time


def test_a_week_is_named_by_its_monday_in_the_accounts_own_zone(cur):
    with pytest.raises(ValueError, match="Monday"):
        weekly_report(cur, A1, date(2025, 3, 4), now=NOW)
    with pytest.raises(ValueError, match="counts its days in America/New_York"):
        weekly_report(cur, A1, WEEK, "UTC", now=NOW)
    with pytest.raises(ValueError, match="has not begun"):
        weekly_report(cur, A1, date(2025, 3, 24), now=NOW)
    assert weekly_report(cur, A1, WEEK, "America/New_York", now=NOW) == report(cur).encode()


def test_the_last_full_week_is_the_one_before_this_in_the_zone():
    # Monday 10 March 03:00 UTC is still Sunday 9 March in New York
    assert last_full_week("America/New_York", utc(10, 3)) == date(2025, 2, 24)
    assert last_full_week("UTC", utc(10, 3)) == date(2025, 3, 3)
    assert report_file_name(A1, WEEK) == "weekly-summary-ad-A1-2025-03-03.html"


def test_a_week_under_way_says_so_and_counts_its_backlog_to_now(cur):
    page = Page(weekly_report(cur, A1, WEEK, now=utc(5, 0)).decode())
    assert "under-way" in page.ids()
    assert page.numbers["backlog"][0] == "1"  # at 00:00 UTC on the 5th: p2 (a2 answered)


# --- safe and self-contained ---------------------------------------------------------------


def test_comment_text_and_names_stay_text(cur):
    html = report(cur)
    page = Page(html)

    assert HOSTILE not in html and "alert(1)" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE in page.text  # shown as written
    assert "<img" not in html.replace(get_plotlyjs(), "")
    assert not any(tag in ("img", "iframe", "object", "embed") for tag, _ in page.tags)
    assert "Acme &lt;b&gt;US&lt;/b&gt;" in html
    charts = [s for s in page.scripts if "Plotly.newPlot" in s]
    assert len(page.scripts) == 2 + len(charts)  # the config, plotly.js, one per chart
    assert all(HOSTILE not in s for s in page.scripts)


def test_nothing_is_loaded_from_anywhere(cur):
    html = report(cur)
    page = Page(html)

    bundle = get_plotlyjs()
    assert html.count(bundle) == 1  # plotly.js, inline, once
    assert not re.search(r"https?://", html.replace(bundle, ""))
    for tag, attrs in page.tags:
        assert "src" not in attrs and tag not in ("link", "base"), (tag, attrs)
        assert not (attrs.get("href") or "").startswith(("http:", "https:", "//"))
    [policy] = [a["content"] for t, a in page.tags if a.get("http-equiv") ==
                "Content-Security-Policy"]
    assert policy.startswith("default-src 'none';") and "http" not in policy


# --- delivery ------------------------------------------------------------------------------


def test_an_ad_account_without_delivery_says_there_is_none(cur):
    page = Page(report(cur, A2))

    assert "no-delivery" in page.ids() and "delivery-by-ad" not in page.ids()
    assert "No delivery data for this week" in page.words
    assert "spend" not in page.numbers and "impressions" not in page.numbers
    assert page.numbers["comments"] == ["1", "0"]


def test_a_tiktok_account_has_no_delivery_and_ranks_its_videos(cur):
    page = Page(report(cur, B1))

    assert "no-delivery" in page.ids()
    assert "reported for ad accounts only" in page.words
    assert page.numbers["comments"] == ["1", "0"]
    assert page.chart("chart-top")[0]["y"] == ["Spring &lt;b&gt;drop&lt;/b&gt; · v1"]


@pytest.mark.e2e
def test_the_file_draws_its_charts_in_a_browser_with_no_network(cur, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS

    path = tmp_path / report_file_name(A1, WEEK)
    path.write_bytes(weekly_report(cur, A1, WEEK, now=NOW))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            asked, errors = [], []
            page.on("request", lambda r: asked.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(path.as_uri())
            page.wait_for_selector("#chart-backlog .main-svg")
            drawn = page.locator(".plotly-graph-div").count()
        finally:
            browser.close()
    assert drawn == 5
    assert asked == [path.as_uri()] and errors == []
