"""Response times in the store: targets, first responses and who gave them, the medians and
p90s per person and per ad or video, and the backlog through time, against a real database;
and the notebook's views `response_times` and `inbox_backlog` agree with them.

Ad account A1 (ads ad1, ad2; time zone UTC), its TikTok account B1 (video v1) and another ad
account A2. Every time is on 1 March 2025 (UTC) unless said. Targets: A1 'all' 60 min,
'question' 30, 'complaint' 45; B1 'all' 120. "Brand" replies have can_delete = true; who sent
them is the outbox row (ANA, BEN) or nobody in Comment Desk (outside).

    id  where   created  labels              first brand reply   by       min  target  within
    q1  A1 ad1  10:00    question            10:20               ANA       20  30 q    yes
    q2  A1 ad1  10:00    question,complaint  10:40               BEN       40  30 q    no
    c1  A1 ad1  11:00                        12:30 (ANA 13:00)   outside   90  60      no
    h1  A1 ad1  08:00    HIDDEN              08:10               outside   10  60      yes
    k1  A1 ad1  13:00                        13:30 (BEN 17:00)   ANA       30  60      yes
    s1  A1 ad1  14:00    snoozed 14:30 to 2 March                            60
    c2  A1 ad2  11:00    praise              11:50               ANA       50  60      yes
    c3  A1 ad2  12:00                                                        60
    d1  A1 ad2  09:00    done at 12:00 by BEN, never answered                60
    s2  A1 ad2  09:30    done at 10:00, snoozed at 11:00 until 12:00         60
    o1  B1 v1   10:00                        12:01               ANA      121  120     no
    z1  A2 ad3  10:00                        10:05               ANA        5  -       -

k1 is marked done at 14:00; its commenter writes again at 15:00 (u1), which reopens it (as
of 15:00) when the sync notices at 16:00; BEN answers at 17:00.

Owed periods (an instant T counts what happened strictly before it): q1 10:00-10:20, q2
10:00-10:40, c1 11:00-12:30, c2 11:00-11:50, c3 12:00-, d1 09:00-12:00, o1 10:00-12:01, k1
13:00-13:30 and 15:00-17:00 (waiting since 15:00), s1 14:00-, s2 09:30-10:00 and 11:00-
(waiting since 09:30). h1 is hidden: never owed.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from desk import store as db
from desk.notebook import Notebook
from desk.store import Store
from desk.store import responses as rt

SEEN = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 2, 0, 0, tzinfo=UTC)
ANA = "ana@acme.example"
BEN = "ben@acme.example"
BOTH = db.CommentFilters("A1", business_id="B1")


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def comment(comment_id, created, *, account="A1", ad_id="ad1", labels=(), status="PUBLIC"):
    organic = account.startswith("B")
    return {
        "comment_id": comment_id,
        "source": "organic" if organic else "ad",
        "advertiser_id": None if organic else account,
        "business_id": account if organic else None,
        "ad_id": None if organic else ad_id,
        "ad_name": None if organic else f"Ad {ad_id}",
        "video_id": "v1" if organic else None,
        "tiktok_item_id": "v1" if organic else f"item-{ad_id}",
        "comment_type": "COMMENT",
        "original_comment_id": None,
        "comment_status": status,
        "likes": 0,
        "create_time": created,
        "labels": list(labels),
        "language": "en",
        "user_name": f"user_{comment_id}",
        "content": f"comment {comment_id}",
        "can_delete": False,
    }


def reply(comment_id, parent, created, *, brand=True, account="A1", ad_id="ad1"):
    return {**comment(comment_id, created, account=account, ad_id=ad_id),
            "comment_type": "REPLY", "original_comment_id": parent, "can_delete": brand,
            "labels": []}


def sent(cur, reply_id: str, parent: str, actor: str, *, status: str = "sent") -> None:
    """An outbox reply row as Comment Desk leaves it once TikTok answered."""
    cur.execute(
        "INSERT INTO outbox (request_key, kind, comment_id, status, result_comment_id, actor, "
        "created_at, updated_at, source) VALUES (?, 'reply', ?, ?, ?, ?, ?, ?, 'ad')",
        [f"key-{reply_id}-{status}", parent, status, reply_id, actor, SEEN, SEEN]).fetchall()


def build(store: Store) -> None:
    cur = store.cursor()
    db.upsert_comments(cur, pd.DataFrame.from_records([
        comment("q1", at(10), labels=["question"]),
        reply("r_q1", "q1", at(10, 20)),
        comment("q2", at(10), labels=["question", "complaint"]),
        reply("r_q2", "q2", at(10, 40)),
        comment("c1", at(11)),
        reply("r_c1", "c1", at(12, 30)),
        reply("r_c1b", "c1", at(13)),
        comment("h1", at(8), status="HIDDEN"),
        reply("r_h1", "h1", at(8, 10)),
        comment("k1", at(13)),
        reply("r_k1", "k1", at(13, 30)),
        reply("u1", "k1", at(15), brand=False),
        reply("r_k1b", "k1", at(17)),
        comment("s1", at(14)),
        comment("c2", at(11), ad_id="ad2", labels=["praise"]),
        reply("r_c2", "c2", at(11, 50), ad_id="ad2"),
        comment("c3", at(12), ad_id="ad2"),
        comment("d1", at(9), ad_id="ad2"),
        comment("s2", at(9, 30), ad_id="ad2"),
        comment("o1", at(10), account="B1"),
        reply("r_o1", "o1", at(12, 1), account="B1"),
        comment("z1", at(10), account="A2", ad_id="ad3"),
        reply("r_z1", "z1", at(10, 5), account="A2", ad_id="ad3"),
    ]), SEEN)
    for reply_id, parent, actor in (("r_q1", "q1", ANA), ("r_q2", "q2", BEN),
                                    ("r_c1b", "c1", ANA), ("r_k1", "k1", ANA),
                                    ("r_k1b", "k1", BEN), ("r_c2", "c2", ANA),
                                    ("r_o1", "o1", ANA), ("r_z1", "z1", ANA)):
        sent(cur, reply_id, parent, actor)
    sent(cur, "r_c1", "c1", BEN, status="failed")  # only sent rows say who answered
    rt.set_target(cur, "ad", "A1", "all", 60, BEN, at=at(7))
    rt.set_target(cur, "ad", "A1", "question", 30, BEN, at=at(7))
    rt.set_target(cur, "ad", "A1", "complaint", 45, BEN, at=at(7))
    rt.set_target(cur, "organic", "B1", "all", 120, BEN, at=at(7))
    db.mark_done(cur, ["s2"], BEN, at=at(10))
    db.snooze(cur, ["s2"], at(12), BEN, at=at(11))
    db.mark_done(cur, ["d1"], BEN, at=at(12))
    db.mark_done(cur, ["k1"], BEN, at=at(14))
    db.snooze(cur, ["s1"], NOW, ANA, at=at(14, 30))
    assert db.reopen_answered_again(cur, at=at(16)) == 1


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("responses") / "desk.duckdb"
    with Store.open(path) as store:
        build(store)
    return path


@pytest.fixture
def store(tmp_path, built):
    shutil.copy(built, tmp_path / "desk.duckdb")
    with Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


@pytest.fixture
def cur(store):
    with store.cursor() as cursor:
        yield cursor


def plain(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, missing values as None and floats rounded to 6 places."""
    frame = frame.astype(object).where(frame.notna(), None)
    return [{k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()}
            for row in frame.to_dict("records")]


# --- targets -------------------------------------------------------------------------------


def test_targets_are_listed_per_account_with_who_set_them(cur):
    targets = rt.list_targets(cur)

    assert [tuple(r) for r in targets[["account_kind", "account_id", "scope", "minutes",
                                       "set_by"]].itertuples(index=False)] == [
        ("ad", "A1", "all", 60, BEN),
        ("ad", "A1", "question", 30, BEN),
        ("ad", "A1", "complaint", 45, BEN),
        ("organic", "B1", "all", 120, BEN),
    ]
    assert rt.list_targets(cur, "organic", "B1")["minutes"].tolist() == [120]


def test_setting_a_target_again_replaces_it_and_the_audit_log_says_who(cur):
    rt.set_target(cur, "ad", "A1", "question", 15, ANA, at=at(20))

    row = rt.list_targets(cur, "ad", "A1").set_index("scope").loc["question"]
    assert (row["minutes"], row["set_by"]) == (15, ANA)
    audit = cur.execute("SELECT actor, event, detail FROM audit_log WHERE actor = ?",
                        [ANA]).fetchall()
    assert audit == [(ANA, "response_target", "ad account A1: question within 15 min")]


def test_deleting_a_target_says_whether_there_was_one(cur):
    assert rt.delete_target(cur, "ad", "A1", "complaint", ANA) is True
    assert rt.delete_target(cur, "ad", "A1", "complaint", ANA) is False
    assert rt.list_targets(cur, "ad", "A1")["scope"].tolist() == ["all", "question"]


@pytest.mark.parametrize(("args", "message"), [
    (("ad", "A1", "all", 0), "above 0"),
    (("ad", "A1", "all", -5), "above 0"),
    (("ad", "A1", "all", 1.5), "whole number"),
    (("ad", "A1", "all", True), "whole number"),
    (("ad", "A1", "sarcasm", 60), "scope is one of all, question"),
    (("shop", "A1", "all", 60), "ad or organic"),
    (("ad", " ", "all", 60), "give its ID"),
])
def test_a_target_that_makes_no_sense_is_refused(cur, args, message):
    with pytest.raises(ValueError, match=message):
        rt.set_target(cur, *args, ANA)
    assert len(rt.list_targets(cur)) == 4


# --- first responses -----------------------------------------------------------------------


def test_each_first_level_comment_gets_its_first_brand_reply_who_sent_it_and_its_target(cur):
    frame = rt.first_responses(cur, BOTH)

    assert list(frame.columns) == list(rt.RESPONSE_COLUMNS)
    rows = {r["comment_id"]: r for r in plain(frame)}
    assert set(rows) == {"q1", "q2", "c1", "h1", "k1", "s1", "c2", "c3", "d1", "s2", "o1"}
    got = {cid: (r["minutes_to_first_response"], r["answered_by"], r["target_minutes"],
                 r["target_scope"], r["within_target"], r["first_response_id"])
           for cid, r in rows.items()}
    assert got == {
        "q1": (20.0, ANA, 30, "question", True, "r_q1"),
        "q2": (40.0, BEN, 30, "question", False, "r_q2"),  # the shorter labelled target
        "c1": (90.0, rt.OUTSIDE_DESK, 60, "all", False, "r_c1"),  # the failed row names nobody
        "h1": (10.0, rt.OUTSIDE_DESK, 60, "all", True, "r_h1"),  # hidden, but it was answered
        "k1": (30.0, ANA, 60, "all", True, "r_k1"),  # the first wait, not the reopened one
        "s1": (None, None, 60, "all", None, None),
        "c2": (50.0, ANA, 60, "all", True, "r_c2"),  # no praise target: the account's all
        "c3": (None, None, 60, "all", None, None),
        "d1": (None, None, 60, "all", None, None),  # done, never answered: no time
        "s2": (None, None, 60, "all", None, None),
        "o1": (121.0, ANA, 120, "all", False, "r_o1"),
    }
    assert rows["q1"]["first_response_at"] == at(10, 20)
    assert rows["o1"]["source"] == "organic" and rows["o1"]["video_id"] == "v1"


def test_without_a_target_there_is_no_verdict(cur):
    rt.delete_target(cur, "organic", "B1", "all", ANA)

    [o1] = plain(rt.first_responses(cur, db.CommentFilters("", business_id="B1")))
    assert (o1["target_minutes"], o1["within_target"], o1["minutes_to_first_response"]) == (
        None, None, 121.0)


def test_first_responses_page_in_creation_order(cur):
    first = rt.first_responses(cur, BOTH, limit=3)
    second = rt.first_responses(cur, BOTH, limit=3, offset=3)

    assert first["comment_id"].tolist() == ["h1", "d1", "s2"]
    assert second["comment_id"].tolist() == ["o1", "q1", "q2"]


# --- summaries -----------------------------------------------------------------------------


def test_per_person_the_median_p90_and_share_within_target_are_exact(cur):
    frame = rt.response_times_by_person(cur, BOTH)

    assert plain(frame) == [
        # ANA: 20, 30, 50, 121 -> median 40; p90 at rank 2.7: 50 + 0.7 * 71 = 99.7
        {"answered_by": ANA, "answered": 4, "median_minutes": 40.0, "p90_minutes": 99.7,
         "with_target": 4, "within_target": 3, "share_within_target": 0.75},
        # outside: 10, 90 -> median 50; p90 at rank 0.9: 10 + 0.9 * 80 = 82
        {"answered_by": rt.OUTSIDE_DESK, "answered": 2, "median_minutes": 50.0, "p90_minutes": 82.0,
         "with_target": 2, "within_target": 1, "share_within_target": 0.5},
        {"answered_by": BEN, "answered": 1, "median_minutes": 40.0, "p90_minutes": 40.0,
         "with_target": 1, "within_target": 0, "share_within_target": 0.0},
    ]
    ana = [20, 30, 50, 121]
    assert frame.loc[0, "p90_minutes"] == pytest.approx(np.percentile(ana, 90))


def test_per_ad_and_video_with_the_backlog_owed_now(cur):
    frame = rt.response_times_by_ad(cur, BOTH)

    assert plain(frame) == [
        # ad1: 10, 20, 30, 40, 90 -> median 30; p90 at rank 3.6: 40 + 0.6 * 50 = 70
        {"source": "ad", "ad_id": "ad1", "video_id": None, "name": "Ad ad1", "comments": 6,
         "answered": 5, "median_minutes": 30.0, "p90_minutes": 70.0, "with_target": 5,
         "within_target": 3, "share_within_target": 0.6, "backlog": 1,
         "waiting_since": at(14)},
        {"source": "ad", "ad_id": "ad2", "video_id": None, "name": "Ad ad2", "comments": 4,
         "answered": 1, "median_minutes": 50.0, "p90_minutes": 50.0, "with_target": 1,
         "within_target": 1, "share_within_target": 1.0, "backlog": 2,
         "waiting_since": at(9, 30)},
        {"source": "organic", "ad_id": None, "video_id": "v1", "name": None, "comments": 1,
         "answered": 1, "median_minutes": 121.0, "p90_minutes": 121.0, "with_target": 1,
         "within_target": 0, "share_within_target": 0.0, "backlog": 0, "waiting_since": None},
    ]


def test_the_overall_numbers_and_the_backlog_agree_with_the_inbox(cur):
    overall = rt.response_time_overall(cur, BOTH)

    # 20, 30, 50, 121, 10, 90, 40 -> sorted 10 20 30 40 50 90 121: median 40;
    # p90 at rank 5.4: 90 + 0.4 * 31 = 102.4
    assert {k: round(v, 6) if isinstance(v, float) else v for k, v in overall.items()} == {
        "comments": 11, "answered": 7, "median_minutes": 40.0, "p90_minutes": 102.4,
        "with_target": 7, "within_target": 4, "share_within_target": round(4 / 7, 6),
        "backlog": 3,
    }
    assert overall["backlog"] == db.inbox_counts(cur, advertiser_id="A1", business_id="B1",
                                                 now=NOW)["open"]


def test_the_summaries_follow_the_filters(cur):
    questions = db.CommentFilters("A1", labels=("question",))
    ad2 = db.CommentFilters("A1", ad_ids=("ad2",))

    assert plain(rt.response_times_by_person(cur, questions))[0]["answered"] == 1
    assert rt.response_times_by_person(cur, questions)["answered_by"].tolist() == [ANA, BEN]
    assert rt.response_time_overall(cur, ad2)["comments"] == 4
    assert rt.response_time_overall(cur, ad2)["backlog"] == 2
    other = rt.response_times_by_person(cur, db.CommentFilters("A2"))
    assert other["answered_by"].tolist() == [ANA]
    nothing = rt.response_time_overall(cur, db.CommentFilters("nobody"))
    assert nothing == {"comments": 0, "answered": 0, "median_minutes": None,
                       "p90_minutes": None, "with_target": 0, "within_target": 0,
                       "share_within_target": None, "backlog": 0}


# --- the backlog ---------------------------------------------------------------------------


def test_owed_periods_follow_replies_done_snoozes_and_reopening(cur):
    periods = rt.owed_periods(cur, BOTH)

    got = sorted((r["comment_id"], r["owed_from"], r["owed_until"], r["waiting_since"])
                 for r in plain(periods))
    assert got == sorted([
        ("q1", at(10), at(10, 20), at(10)),
        ("q2", at(10), at(10, 40), at(10)),
        ("c1", at(11), at(12, 30), at(11)),
        ("c2", at(11), at(11, 50), at(11)),
        ("c3", at(12), None, at(12)),
        ("d1", at(9), at(12), at(9)),
        ("o1", at(10), at(12, 1), at(10)),
        ("k1", at(13), at(13, 30), at(13)),
        ("k1", at(15), at(17), at(15)),
        ("s1", at(14), None, at(14)),
        ("s2", at(9, 30), at(10), at(9, 30)),
        ("s2", at(11), None, at(9, 30)),
    ])


def test_a_reopening_by_a_reply_stamped_in_the_second_of_the_done_counts_after_the_done(cur):
    """TikTok stamps comments to the second: the commenter's reply that reopens a comment
    can look older than the done it undoes (done 18:00:00.5, reply 18:00:00)."""
    done = at(18).replace(microsecond=500_000)
    db.upsert_comments(cur, pd.DataFrame.from_records([
        comment("m1", at(17)), reply("u_m1", "m1", at(18), brand=False)]), SEEN)
    cur.execute("INSERT INTO inbox_events (comment_id, kind, value, actor, acted_at) VALUES "
                "('m1', 'done', NULL, ?, ?), ('m1', 'reopen', 'u_m1', 'desk', ?)",
                [BEN, done, at(19)]).fetchall()

    got = [(r["owed_from"], r["owed_until"], r["waiting_since"])
           for r in plain(rt.owed_periods(cur, db.CommentFilters("A1", ad_ids=("ad1",))))
           if r["comment_id"] == "m1"]
    assert got == [(at(17), done, at(17)), (done, None, done)]


BACKLOG = [  # as_of, backlog, over_target, oldest, median age (minutes)
    (at(9), 0, 0, None, None),
    (at(10), 2, 0, 60.0, 45.0),  # d1 60, s2 30
    (at(11), 2, 1, 120.0, 90.0),  # d1 120 (over 60), o1 60
    (at(12), 4, 2, 180.0, 135.0),  # d1 180, s2 150 (over), o1 120 (at 120: not over), c1 60
    (at(13), 2, 1, 210.0, 135.0),  # s2 210, c3 60
    (at(14), 2, 2, 270.0, 195.0),  # s2 270, c3 120
    (at(15), 3, 2, 330.0, 180.0),  # s2 330, c3 180, s1 60
    (at(16), 4, 3, 390.0, 180.0),  # s2 390, c3 240, s1 120, k1 60 (since its reopening)
    (at(17), 4, 4, 450.0, 240.0),  # k1 answered at 17:00: still owed at 17:00
    (at(18), 3, 3, 510.0, 360.0),
]


def test_the_backlog_hour_by_hour_is_exact(cur):
    frame = rt.backlog_over_time(cur, BOTH, start=at(8), end=at(18), grain="hour", now=NOW)

    assert frame["bucket"].tolist() == [pd.Timestamp(2025, 3, 1, h) for h in range(8, 18)]
    got = [(r["as_of"], r["backlog"], r["over_target"], r["oldest_minutes"],
            r["median_age_minutes"]) for r in plain(frame)]
    assert got == BACKLOG


def test_the_backlog_stops_at_now_and_the_bucket_under_way_is_measured_at_now(cur):
    frame = rt.backlog_over_time(cur, BOTH, start=at(8), end=at(18), grain="hour",
                                 now=at(12, 15))

    assert frame["as_of"].tolist()[-2:] == [at(12), at(12, 15)]
    assert plain(frame)[-1]["backlog"] == 3  # d1 done at 12:00, c1, s2, o1 still owed


def test_the_backlog_by_day_counts_at_each_local_midnight(cur):
    cur.execute("INSERT INTO advertisers (advertiser_id, name, timezone, updated_at) "
                "VALUES ('A1', 'Acme', 'Europe/Berlin', ?)", [SEEN]).fetchall()

    frame = rt.backlog_over_time(cur, BOTH, start=at(0), end=at(0, day=3), grain="day",
                                 now=at(6, day=2))

    # Berlin is UTC+1 in March: the days start at 23:00 UTC; the last one is under way
    assert frame["bucket"].tolist() == [pd.Timestamp(2025, 3, d) for d in (1, 2)]
    assert frame["as_of"].tolist() == [at(23), at(6, day=2)]
    assert frame["backlog"].tolist() == [3, 3]  # c3, s1, s2


def test_the_backlog_ignores_the_period_filter_and_takes_the_other_filters(cur):
    period = db.CommentFilters("A1", business_id="B1", date_from=datetime(2025, 3, 5).date())
    ad1 = db.CommentFilters("A1", ad_ids=("ad1",))

    same = rt.backlog_over_time(cur, period, start=at(8), end=at(18), grain="hour", now=NOW)
    only_ad1 = rt.backlog_over_time(cur, ad1, start=at(8), end=at(18), grain="hour", now=NOW)

    assert same["backlog"].tolist() == [row[1] for row in BACKLOG]
    assert only_ad1["backlog"].tolist() == [0, 0, 0, 1, 0, 0, 1, 2, 2, 1]


def test_a_backlog_window_must_make_sense(cur):
    with pytest.raises(ValueError, match="hour or day"):
        rt.backlog_over_time(cur, BOTH, start=at(8), end=at(18), grain="week", now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ends after it starts"):
        rt.backlog_over_time(cur, BOTH, start=at(8), end=at(8), now=NOW)


# --- the notebook's views ------------------------------------------------------------------


IN_SCOPE = "WHERE advertiser_id = 'A1' OR (source = 'organic' AND business_id = 'B1')"


def test_the_notebook_view_response_times_is_the_store_function(store):
    nb = Notebook(store, timeout=10.0)

    view = nb.run(f"SELECT * FROM response_times {IN_SCOPE} "  # noqa: S608
                  "ORDER BY create_time, comment_id").frame
    with store.cursor() as cur:
        stored = rt.first_responses(cur, BOTH)

    assert list(view.columns) == list(rt.RESPONSE_COLUMNS)
    assert plain(view) == plain(stored)


def test_the_notebook_view_inbox_backlog_is_the_store_function(store):
    nb = Notebook(store, timeout=10.0)

    view = nb.run(f"SELECT * FROM inbox_backlog {IN_SCOPE} "  # noqa: S608
                  "ORDER BY owed_from, comment_id").frame
    with store.cursor() as cur:
        stored = rt.owed_periods(cur, BOTH)
        backlog = rt.backlog_over_time(cur, BOTH, start=at(8), end=at(18), grain="hour",
                                       now=NOW)

    assert plain(view) == plain(stored)
    # the backlog at an instant, as docs/inbox.md tells analysts to count it
    counted = nb.run(
        "SELECT t.as_of, count(b.comment_id) AS n FROM "
        "(SELECT unnest(generate_series(TIMESTAMPTZ '2025-03-01 09:00:00+00', "
        "TIMESTAMPTZ '2025-03-01 18:00:00+00', INTERVAL 1 HOUR)) AS as_of) t "
        f"LEFT JOIN (SELECT * FROM inbox_backlog {IN_SCOPE}) b "  # noqa: S608
        "ON b.owed_from < t.as_of AND (b.owed_until IS NULL OR b.owed_until >= t.as_of) "
        "GROUP BY t.as_of ORDER BY t.as_of").frame
    assert counted["n"].tolist() == backlog["backlog"].tolist()
