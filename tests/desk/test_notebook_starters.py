"""The starter notebooks, and the ones over delivery and labels in particular.

The account is tests/desk/test_notebook.py's (read its docstring), with the classifier's
verdicts and TikTok's delivery added here:

    verdicts (brand replies are classified too, and left out by every starter)
        question: c1 c2 c3 c5 c7 n3   complaint: c4 (-0.9)   praise: c6 (0.8) n1 (0.7) n2 (0.9)
        purchase_intent: c7           every other sentiment 0, n3 -0.3
    delivery (the ad account's days)   spend  impressions
        ad1 03-01                        10       1,000    said: c1 r2
        ad1 03-02                        30       3,000    said: c2 r3 c3 c4
        ad2 03-03                         5         500    said: c5 c6 c7
        ad2 03-04                         5         500    said: nothing
        ad3 03-01                        20       4,000    said: n1 (n2, n3 fall on 03-02,
                                                           a day without delivery)
    ad1 and ad2 show the same video, item-x.

2025-03-01 is a Saturday: its week starts on 02-24, and 03-03 starts the next.
"""

import shutil
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from desk import notebook as nbk
from desk import store as db
from desk.notebook import STARTERS, Notebook
from tests.desk.test_notebook import fill_account, records

VERDICTS = {
    "c1": ["question"], "c2": ["question"], "c3": ["question"], "c4": ["complaint"],
    "c5": ["question"], "c6": ["praise"], "c7": ["question", "purchase_intent"],
    "n1": ["praise"], "n2": ["praise"], "n3": ["question"],
    "r1": ["praise"], "r2": [], "r3": [], "r4": [], "r5": [], "r6": [], "rn": [],
}
SENTIMENT = {"c4": -0.9, "c6": 0.8, "n1": 0.7, "n2": 0.9, "n3": -0.3, "r1": 0.5}
DELIVERY = [
    ("A1", "ad1", date(2025, 3, 1), 10.0, 1000),
    ("A1", "ad1", date(2025, 3, 2), 30.0, 3000),
    ("A1", "ad2", date(2025, 3, 3), 5.0, 500),
    ("A1", "ad2", date(2025, 3, 4), 5.0, 500),
    ("A2", "ad3", date(2025, 3, 1), 20.0, 4000),
]
DELIVERY_STARTERS = ("Complaints per 1,000 impressions per ad", "Sentiment vs spend by day")


def add_verdicts_and_delivery(store):
    cur = store.cursor()
    frame = pd.DataFrame({
        "comment_id": list(VERDICTS),
        "language": ["en"] * len(VERDICTS),
        "sentiment": [SENTIMENT.get(c, 0.0) for c in VERDICTS],
        "labels": list(VERDICTS.values()),
    })
    db.save_classified(cur, frame, "test-1")
    for advertiser_id, ad_id, day, spend, impressions in DELIVERY:
        cur.execute(
            "INSERT INTO ad_delivery (advertiser_id, ad_id, stat_day, spend, impressions, "
            "clicks, video_play_actions, likes, currency, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, 0, 0, 0, ?, ?)",
            [advertiser_id, ad_id, day, spend, impressions,
             "JPY" if advertiser_id == "A1" else "USD", datetime(2025, 3, 5, tzinfo=UTC)],
        )
    cur.execute("UPDATE ads SET tiktok_item_id = 'item-x' WHERE ad_id IN ('ad1', 'ad2')")
    cur.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("starters") / "desk.duckdb"
    with db.Store.open(path) as opened:
        fill_account(opened)
        add_verdicts_and_delivery(opened)
    return path


@pytest.fixture
def nb(tmp_path, template):
    shutil.copy(template, tmp_path / "desk.duckdb")
    with db.Store.open(tmp_path / "desk.duckdb") as opened:
        yield Notebook(opened, timeout=10.0)


@pytest.fixture
def empty(tmp_path):
    with db.Store.open(tmp_path / "empty.duckdb") as opened:
        yield Notebook(opened, timeout=10.0)


def run(nb, name, cell=0):
    return records(nb.run(STARTERS[name][cell].sql).frame)


def test_every_starter_passes_the_guard_runs_and_its_chart_fits_its_result(nb):
    assert len(STARTERS) >= 8
    for name, cells in STARTERS.items():
        for cell in cells:
            nb.check(cell.sql)
            frame = nb.run(cell.sql).frame
            assert len(frame) > 0, name
            if cell.chart is not None:
                nbk.chart_figure(frame, cell.chart)


def test_every_starter_runs_on_an_empty_database(empty):
    for name, cells in STARTERS.items():
        for cell in cells:
            result = empty.run(cell.sql)
            assert result.total_rows == 0, name
            if cell.chart is not None:
                assert {cell.chart.x, cell.chart.y} <= set(result.columns), name


def test_new_starters_read_the_delivery_and_label_views():
    for name in (*DELIVERY_STARTERS, "Label mix by week"):
        sql = " ".join(cell.sql for cell in STARTERS[name])
        assert "ad_delivery" in sql or "labels" in sql, name


def test_complaints_per_1000_impressions_per_ad(nb):
    rows = run(nb, "Complaints per 1,000 impressions per ad")

    assert [(r["ad_id"], r["ad_name"], r["impressions"], r["spend"], r["currency"])
            for r in rows] == [
        ("ad1", "Spring promo", 4000, 40.0, "JPY"),
        ("ad2", "Summer sale", 1000, 10.0, "JPY"),
        ("ad3", "NY launch", 4000, 20.0, "USD"),
    ]
    ad1, ad2, ad3 = rows
    # ad1: c1 r2 on 03-01, c2 r3 c3 c4 on 03-02; the brand's r1 r4 r5 are left out.
    assert (ad1["comments"], ad1["questions"], ad1["complaints"], ad1["negative"]) == (6, 3, 1, 1)
    assert ad1["comments_per_1000_impressions"] == 1.5
    assert ad1["questions_per_1000_impressions"] == 0.75
    assert ad1["complaints_per_1000_impressions"] == 0.25
    assert ad1["negative_per_1000_impressions"] == 0.25
    assert ad1["comments_per_unit_spend"] == 0.15
    assert ad1["complaints_per_unit_spend"] == 0.025
    # ad2: c5 c6 c7 on 03-03, nothing on 03-04 (whose impressions still count).
    assert (ad2["comments"], ad2["questions"], ad2["complaints"]) == (3, 2, 0)
    assert ad2["comments_per_1000_impressions"] == 3.0
    # ad3: only n1 falls on a delivered day.
    assert (ad3["comments"], ad3["questions"], ad3["complaints_per_1000_impressions"]) == (1, 0, 0)


def test_complaints_per_1000_impressions_per_creative(nb):
    rows = run(nb, "Complaints per 1,000 impressions per ad", 1)

    assert [(r["video"], r["ads"], r["ad_names"], r["impressions"], r["comments"],
             r["complaints"], r["complaints_per_1000_impressions"]) for r in rows] == [
        ("item-x", 2, "Spring promo, Summer sale", 5000, 9, 1, 0.2),
        ("ad ad3", 1, "NY launch", 4000, 1, 0, 0.0),
    ]


def test_sentiment_vs_spend_by_day(nb):
    rows = run(nb, "Sentiment vs spend by day")

    assert [(r["day"], r["advertiser"], r["spend"], r["comments"], r["classified"],
             r["average_sentiment"], r["negative_share"]) for r in rows] == [
        ("2025-03-01", "Acme", 10.0, 2, 2, 0.0, 0.0),
        ("2025-03-01", "Beta", 20.0, 1, 1, 0.7, 0.0),
        ("2025-03-02", "Acme", 30.0, 4, 4, -0.225, 0.25),
        ("2025-03-03", "Acme", 5.0, 3, 3, 0.267, 0.0),
        ("2025-03-04", "Acme", 5.0, 0, 0, None, None),
    ]


def test_label_mix_by_week(nb):
    rows = run(nb, "Label mix by week")

    assert [tuple(r.values()) for r in rows] == [
        ("2025-02-24", "question", 4, 9, 0.444),  # c1 c2 c3 n3 of c1 r2 c2 r3 c3 c4 n1 n2 n3
        ("2025-02-24", "praise", 2, 9, 0.222),
        ("2025-02-24", "complaint", 1, 9, 0.111),
        ("2025-03-03", "question", 2, 3, 0.667),
        ("2025-03-03", "praise", 1, 3, 0.333),
        ("2025-03-03", "purchase_intent", 1, 3, 0.333),
    ]


def test_unclassified_comments_are_out_of_the_label_mix(tmp_path):
    with db.Store.open(tmp_path / "plain.duckdb") as store:
        fill_account(store)  # no verdicts
        assert Notebook(store).run(STARTERS["Label mix by week"][0].sql).total_rows == 0
