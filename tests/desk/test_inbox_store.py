"""The inbox in the store: states, assignment, notes and the queue, against a real database.

Ad account A1 (ads ad1 and ad2, ad1 promoting video item-ad1), its business account B1
(organic video v1), and another ad account A2. "Brand" replies are the ones with
can_delete = true. Every time is in March 2025, UTC.

    id  where     type     parent  created   likes  labels       language  note
    p2  A1 ad2    COMMENT          03-03     9                   es
    p1  A1 ad2    COMMENT          03-04     9      praise       en
    q1  A1 ad1    COMMENT          03-05     0      question     en
    u1  A1 ad1    REPLY    q1      03-05 13  0                             a user's reply
    k1  A1 ad1    COMMENT          03-06     3      complaint    en
    a1  A1 ad1    COMMENT          03-02     4      question     en        the brand answered
    b1  A1 ad1    REPLY    a1      03-02 10  0                             the brand's answer
    h1  A1 ad1    COMMENT          03-01     2      complaint    en        HIDDEN
    o1  B1 v1     COMMENT          03-07     1      question     en        organic
    x1  A2 ad3    COMMENT          03-08     0                   en

The queue for A1 and B1: k1, o1, q1 (questions and complaints, by likes), then p2, p1 (nine
likes each, the older first).
"""

import random
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from desk import store as db
from desk.store import Store

SEEN = datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
ANA = "ana@acme.example"
BEN = "ben@acme.example"
BOTH = {"advertiser_id": "A1", "business_id": "B1"}


def utc(day: int, hour: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


def comment(comment_id, created, *, account="A1", ad_id="ad1", likes=0, labels=(),
            language="en", status="PUBLIC"):
    organic = account.startswith("B")
    return {
        "comment_id": comment_id,
        "source": "organic" if organic else "ad",
        "advertiser_id": None if organic else account,
        "business_id": account if organic else None,
        "ad_id": None if organic else ad_id,
        "video_id": "v1" if organic else None,
        "tiktok_item_id": "v1" if organic else f"item-{ad_id}",
        "comment_type": "COMMENT",
        "original_comment_id": None,
        "comment_status": status,
        "likes": likes,
        "create_time": created,
        "labels": list(labels),
        "language": language,
        "user_name": f"user_{comment_id}",
        "content": f"comment {comment_id}",
        "can_delete": False,
    }


def reply(comment_id, parent, created, *, brand, status="PUBLIC"):
    return {**comment(comment_id, created, status=status), "comment_type": "REPLY",
            "original_comment_id": parent, "can_delete": brand, "labels": []}


def store_comments(cur, records):
    db.upsert_comments(cur, pd.DataFrame.from_records(records), SEEN)


@pytest.fixture
def cur(tmp_path):
    with Store.open(tmp_path / "x.duckdb") as store:
        cursor = store.cursor()
        store_comments(cursor, [
            comment("p2", utc(3), ad_id="ad2", likes=9, language="es"),
            comment("p1", utc(4), ad_id="ad2", likes=9, labels=["praise"]),
            comment("q1", utc(5), labels=["question"]),
            reply("u1", "q1", utc(5, 13), brand=False),
            comment("k1", utc(6), likes=3, labels=["complaint"]),
            comment("a1", utc(2), likes=4, labels=["question"]),
            reply("b1", "a1", utc(2, 10), brand=True),
            comment("h1", utc(1), likes=2, labels=["complaint"], status="HIDDEN"),
            comment("o1", utc(7), account="B1", likes=1, labels=["question"]),
            comment("x1", utc(8), account="A2", ad_id="ad3"),
        ])
        yield cursor


def queue_ids(cur, now=NOW, **scope):
    return db.inbox_queue(cur, **{**BOTH, **scope}, now=now)["comment_id"].tolist()


def events(cur, *comment_ids):
    frame = db.inbox_events(cur, comment_ids)[["comment_id", "kind", "value", "actor", "acted_at"]]
    frame = frame.astype(object).where(frame.notna(), None)
    return list(frame.itertuples(index=False, name=None))


def test_the_queue_puts_questions_and_complaints_first_then_likes_then_age(cur):
    queue = db.inbox_queue(cur, **BOTH, now=NOW)

    assert queue["comment_id"].tolist() == ["k1", "o1", "q1", "p2", "p1"]
    assert queue["priority"].tolist() == [1, 1, 1, 2, 2]
    assert queue["state"].tolist() == ["open"] * 5
    assert queue["assignee"].isna().all()


def test_the_labels_that_come_first_are_the_users_choice(cur):
    praise_first = db.inbox_queue(cur, **BOTH, now=NOW, priority_labels=["praise"])

    assert praise_first["comment_id"].tolist() == ["p1", "p2", "k1", "o1", "q1"]
    assert praise_first["priority"].tolist() == [1, 2, 2, 2, 2]
    assert set(db.inbox_queue(cur, **BOTH, now=NOW, priority_labels=[])["priority"]) == {2}


def test_within_a_priority_comments_past_their_target_come_first(cur):
    # k1 (complaint, day 6) and q1 (question, day 5) share priority 1; k1 has more likes.
    db.set_target(cur, "ad", "A1", "question", 24 * 60, ANA)  # q1 waited 5 days: overdue
    db.set_target(cur, "ad", "A1", "all", 30 * 24 * 60, ANA)  # k1 (4 days) is not
    queue = db.inbox_queue(cur, **BOTH, now=NOW)

    assert queue["comment_id"].tolist() == ["q1", "k1", "o1", "p2", "p1"]
    assert queue["overdue"].tolist() == [True, False, False, False, False]

    db.set_target(cur, "organic", "B1", "all", 60, ANA)  # o1 (day 7) too, and p1/p2 stay
    assert queue_ids(cur) == ["o1", "q1", "k1", "p2", "p1"]
    # a comment reopened an hour ago waits from then: within the organic target again
    db.reopen(cur, ["o1"], BEN, at=NOW - timedelta(minutes=30))
    assert queue_ids(cur) == ["q1", "k1", "o1", "p2", "p1"]


def test_with_answer_scores_the_score_orders_each_priority_after_overdue_before_likes(cur):
    # What desk.learning writes while an answer model is in use; k1 and p2 not scored yet.
    scores = {"q1": 0.9, "o1": 0.5, "p1": 0.8}
    for comment_id, score in scores.items():
        cur.execute("UPDATE comments SET answer_score = ? WHERE comment_id = ?",
                    [score, comment_id])
    queue = db.inbox_queue(cur, **BOTH, now=NOW, answer_scores=True)

    assert queue["comment_id"].tolist() == ["q1", "o1", "k1", "p1", "p2"]
    assert queue["answer_score"].tolist()[:2] == pytest.approx([0.9, 0.5])
    assert "answer_score" not in db.inbox_queue(cur, **BOTH, now=NOW).columns
    assert queue_ids(cur) == ["k1", "o1", "q1", "p2", "p1"], "without: as before"
    page, counts = db.inbox_page(cur, **BOTH, now=NOW, answer_scores=True, limit=2, offset=1)
    assert page["comment_id"].tolist() == ["o1", "k1"] and counts["open"] == 5
    db.set_target(cur, "ad", "A1", "complaint", 60, ANA)  # k1 is overdue: ahead of scores
    assert db.inbox_queue(cur, **BOTH, now=NOW, answer_scores=True)["comment_id"].tolist()[:3] \
        == ["k1", "q1", "o1"]


def test_the_queue_keeps_the_comments_nobody_holds(cur):
    db.assign(cur, ["k1", "p2"], ANA, BEN)

    assert queue_ids(cur, assignee=db.UNASSIGNED) == ["o1", "q1", "p1"]
    assert queue_ids(cur, assignee=ANA) == ["k1", "p2"]


def test_answered_hidden_and_other_accounts_comments_and_replies_are_not_in_the_queue(cur):
    everywhere = db.inbox_queue(cur, now=NOW)["comment_id"].tolist()

    assert set(everywhere) == {"k1", "o1", "q1", "p2", "p1", "x1"}
    assert queue_ids(cur, business_id=None) == ["k1", "q1", "p2", "p1"]
    assert queue_ids(cur, advertiser_id=None) == ["o1"]


def test_the_queue_pages_in_order(cur):
    assert queue_ids(cur, limit=2) == ["k1", "o1"]
    assert queue_ids(cur, limit=2, offset=2) == ["q1", "p2"]
    with pytest.raises(ValueError, match="limit"):
        queue_ids(cur, limit=-1)


def test_the_queue_filters_by_label_language_ad_video_and_assignee(cur):
    db.assign(cur, ["p1", "o1"], ANA, BEN)

    assert queue_ids(cur, labels=["question"]) == ["o1", "q1"]
    assert queue_ids(cur, labels=["question", "complaint"]) == ["k1", "o1", "q1"]
    assert queue_ids(cur, language="es") == ["p2"]
    assert queue_ids(cur, ad_id="ad2") == ["p2", "p1"]
    assert queue_ids(cur, video_id="v1") == ["o1"]
    assert queue_ids(cur, video_id="item-ad1") == ["k1", "q1"]
    assert queue_ids(cur, assignee=ANA) == ["o1", "p1"]


def test_a_comment_marked_done_leaves_the_queue(cur):
    assert db.mark_done(cur, ["q1", "k1"], ANA) == 2

    assert queue_ids(cur) == ["o1", "p2", "p1"]
    assert db.inbox_counts(cur, **BOTH, now=NOW)["done"] == 2


def test_unknown_comments_and_replies_are_skipped(cur):
    assert db.mark_done(cur, ["q1", "u1", "nope", "q1"], ANA) == 1
    assert [row[:4] for row in events(cur, "q1", "u1", "nope")] == [("q1", "done", None, ANA)]


def test_a_snoozed_comment_leaves_the_queue_and_comes_back_when_the_snooze_ends(cur):
    until = NOW + timedelta(hours=2)
    assert db.snooze(cur, ["k1"], until, ANA, at=NOW) == 1

    assert "k1" not in queue_ids(cur)
    assert db.inbox_counts(cur, **BOTH, now=NOW)["snoozed"] == 1
    later = until + timedelta(minutes=1)
    assert queue_ids(cur, now=later)[0] == "k1"
    assert db.inbox_counts(cur, **BOTH, now=later)["snoozed"] == 0


def test_a_snooze_must_end_in_the_future(cur):
    with pytest.raises(ValueError, match="future"):
        db.snooze(cur, ["k1"], NOW - timedelta(minutes=1), ANA, at=NOW)
    assert events(cur, "k1") == []


def test_reopening_brings_back_a_done_or_even_an_answered_comment(cur):
    db.mark_done(cur, ["k1"], ANA)
    db.reopen(cur, ["k1", "a1"], BEN, at=NOW)

    assert queue_ids(cur) == ["a1", "k1", "o1", "q1", "p2", "p1"]
    # until the brand answers it again
    store_comments(cur, [reply("b2", "a1", NOW + timedelta(minutes=5), brand=True)])
    assert "a1" not in queue_ids(cur)


def test_a_done_comment_reopens_when_the_commenter_writes_again(cur):
    db.mark_done(cur, ["q1", "k1"], ANA, at=utc(9))
    store_comments(cur, [reply("u2", "q1", utc(9, 1), brand=False),
                         reply("u3", "q1", utc(9, 2), brand=False)])

    assert db.reopen_answered_again(cur, at=NOW) == 1

    assert "q1" in queue_ids(cur) and "k1" not in queue_ids(cur)
    assert events(cur, "q1")[-1] == ("q1", "reopen", "u3", db.inbox.REOPENED_BY, NOW)
    assert db.reopen_answered_again(cur, at=NOW) == 0


def test_a_reopened_comment_the_brand_then_answered_stays_out_of_the_queue(cur):
    db.mark_done(cur, ["q1"], ANA, at=utc(9))
    store_comments(cur, [reply("u2", "q1", utc(9, 1), brand=False),
                         reply("b2", "q1", utc(9, 3), brand=True)])

    assert db.reopen_answered_again(cur, at=NOW) == 1
    assert "q1" not in queue_ids(cur)


def test_a_brand_reply_an_older_reply_or_a_hidden_one_does_not_reopen_a_done_comment(cur):
    # u1, a user's reply under q1, was written before q1 was done
    db.mark_done(cur, ["q1"], ANA, at=utc(9))
    store_comments(cur, [reply("b2", "q1", utc(9, 1), brand=True),
                         reply("s1", "q1", utc(9, 2), brand=False, status="HIDDEN")])

    assert db.reopen_answered_again(cur, at=NOW) == 0
    assert "q1" not in queue_ids(cur)
    assert db.inbox_counts(cur, **BOTH, now=NOW)["done"] == 1


def test_take_returns_who_held_the_comment_before(cur):
    assert db.take(cur, "k1", ANA) is None
    assert db.take(cur, "k1", BEN) == ANA
    assert db.holder(cur, "k1") == BEN
    assert db.holder(cur, "q1") is None
    with pytest.raises(ValueError, match="no first-level comment"):
        db.take(cur, "u1", ANA)


def test_assigning_and_releasing_keeps_the_state(cur):
    db.mark_done(cur, ["k1"], ANA)
    assert db.assign(cur, ["k1", "q1"], BEN, ANA) == 2

    assert db.holder(cur, "k1") == BEN and db.holder(cur, "q1") == BEN
    assert "k1" not in queue_ids(cur)
    assert queue_ids(cur, assignee=BEN) == ["q1"]

    assert db.assign(cur, ["q1"], None, BEN) == 1
    assert db.holder(cur, "q1") is None
    assert [row[1:4] for row in events(cur, "q1")] == [("assign", BEN, ANA),
                                                       ("release", None, BEN)]


def test_done_and_reopen_keep_the_assignee(cur):
    db.take(cur, "k1", ANA)
    db.mark_done(cur, ["k1"], ANA)
    db.reopen(cur, ["k1"], ANA)

    assert db.inbox_queue(cur, **BOTH, now=NOW).set_index("comment_id").at["k1", "assignee"] \
        == ANA


def test_notes_are_kept_in_order_with_their_author(cur):
    first = db.add_note(cur, "q1", "  Ask logistics  ", ANA, at=utc(9))
    second = db.add_note(cur, "q1", "Logistics say Monday", BEN, at=utc(9, 1))
    db.add_note(cur, "k1", "Refund?", ANA, at=utc(9, 2))

    frame = db.notes(cur, ["q1"])

    assert frame["note_id"].tolist() == [first, second]
    assert frame[["author", "body"]].values.tolist() == [[ANA, "Ask logistics"],
                                                         [BEN, "Logistics say Monday"]]
    assert events(cur, "q1") == [("q1", "note", str(first), ANA, utc(9)),
                                 ("q1", "note", str(second), BEN, utc(9, 1))]
    assert len(db.notes(cur, ["q1", "k1"])) == 3


def test_an_empty_note_or_a_note_on_no_comment_is_refused(cur):
    with pytest.raises(ValueError, match="text"):
        db.add_note(cur, "q1", "   ", ANA)
    with pytest.raises(ValueError, match="no comment"):
        db.add_note(cur, "nope", "hello", ANA)
    assert db.notes(cur, ["q1", "nope"]).empty


def test_the_counts_per_state_and_mine(cur):
    db.mark_done(cur, ["p1"], ANA)
    db.snooze(cur, ["p2"], NOW + timedelta(days=1), ANA, at=NOW)
    db.assign(cur, ["k1", "o1", "p1"], ANA, BEN)

    assert db.inbox_counts(cur, **BOTH, me=ANA, now=NOW) == {
        "open": 3, "snoozed": 1, "done": 1, "assigned_to_me": 2}
    assert db.inbox_counts(cur, **BOTH, me=BEN, now=NOW)["assigned_to_me"] == 0
    assert db.inbox_counts(cur, advertiser_id="A1", labels=["complaint"], me=ANA, now=NOW) == {
        "open": 1, "snoozed": 0, "done": 0, "assigned_to_me": 1}


def test_every_change_is_recorded_with_the_person_and_the_time(cur):
    until = utc(11)
    db.take(cur, "k1", ANA, at=utc(9, 1))
    db.snooze(cur, ["k1"], until, ANA, at=utc(9, 2))
    db.assign(cur, ["k1"], BEN, ANA, at=utc(9, 3))
    db.reopen(cur, ["k1"], BEN, at=utc(9, 4))
    db.mark_done(cur, ["k1"], BEN, at=utc(9, 5))

    assert events(cur, "k1") == [
        ("k1", "take", ANA, ANA, utc(9, 1)),
        ("k1", "snooze", until.isoformat(), ANA, utc(9, 2)),
        ("k1", "assign", BEN, ANA, utc(9, 3)),
        ("k1", "reopen", None, BEN, utc(9, 4)),
        ("k1", "done", None, BEN, utc(9, 5)),
    ]
    state = db.query_records(cur, "SELECT * FROM analyst.inbox WHERE comment_id = 'k1'")
    assert state == [{"comment_id": "k1", "state": "done", "snoozed_until": None,
                      "assignee": BEN, "changed_by": BEN, "changed_at": utc(9, 5),
                      "reopened_at": utc(9, 4)}]


def test_the_analyst_views_carry_the_inbox_its_events_and_notes(cur):
    db.add_note(cur, "q1", "Ask logistics", ANA)

    def columns(view):
        return [row[0] for row in cur.execute(f"DESCRIBE analyst.{view}").fetchall()]

    assert columns("inbox") == ["comment_id", "state", "snoozed_until", "assignee",
                                "changed_by", "changed_at", "reopened_at"]
    assert columns("inbox_events") == ["event_id", "comment_id", "kind", "value", "actor",
                                       "acted_at"]
    assert columns("comment_notes") == ["note_id", "comment_id", "author", "body",
                                        "created_at"]


def test_a_thousand_comments_are_marked_done_in_one_call(cur):
    many = [f"m{i:04d}" for i in range(1000)]
    store_comments(cur, [comment(i, utc(8), likes=20) for i in many])
    assert set(many) <= set(queue_ids(cur, limit=2000))

    started = time.perf_counter()
    done = db.mark_done(cur, many, ANA)
    elapsed = time.perf_counter() - started

    assert done == 1000
    assert elapsed < 1.0
    assert not set(queue_ids(cur, limit=2000)) & set(many)
    assert db.inbox_counts(cur, **BOTH, now=NOW)["done"] == 1000
    assert len(db.inbox_events(cur, many)) == 1000


# A varied store: three accounts, ties in likes and times, labels, user and brand replies
# (some hidden), and every kind of state, for checking the queue and its counts against the
# rules written out plainly, and the one-read page against the two separate reads.

VARIED_SCOPES = [{}, {"advertiser_id": "A1"}, BOTH, {"business_id": "B1"},
                 {"advertiser_id": "A2"}, {**BOTH, "labels": ["question"]},
                 {"advertiser_id": "A1", "assignee": ANA}, {"labels": ["praise", "complaint"]},
                 {**BOTH, "language": "es"}, {"ad_id": "ad2"}, {"video_id": "v1"}]


@pytest.fixture
def varied(tmp_path):
    rng = random.Random(17)
    with Store.open(tmp_path / "varied.duckdb") as store:
        cursor = store.cursor()
        firsts, records = [], []
        for n in range(150):
            account = rng.choice(["A1", "A1", "B1", "A2"])
            labels = rng.choice([(), (), ("question",), ("complaint",), ("praise",),
                                 ("question", "praise")])
            comment_id = f"c{n:03d}"
            firsts.append(comment_id)
            records.append(comment(
                comment_id, utc(1 + rng.randrange(8), rng.randrange(3)), account=account,
                ad_id=rng.choice(["ad1", "ad2"]), likes=rng.choice([0, 0, 1, 2, 5, 5, 9]),
                labels=labels, language=rng.choice(["en", "en", "es"]),
                status="HIDDEN" if rng.random() < 0.1 else "PUBLIC"))
        for n in range(180):
            parent = rng.choice(firsts)
            records.append(reply(f"r{n:03d}", parent, utc(9, rng.randrange(12)),
                                 brand=rng.random() < 0.6,
                                 status="HIDDEN" if rng.random() < 0.1 else "PUBLIC"))
        store_comments(cursor, records)

        picked = rng.sample(firsts, 70)
        db.mark_done(cursor, picked[:15], ANA, at=utc(9, 12))
        db.snooze(cursor, picked[15:25], NOW + timedelta(hours=3), ANA, at=NOW)
        db.snooze(cursor, picked[25:32], NOW - timedelta(hours=1), ANA, at=utc(9, 12))
        db.reopen(cursor, picked[32:50], BEN, at=utc(9, 6))  # some answered after it
        db.assign(cursor, picked[5:10] + picked[30:45] + picked[55:65], ANA, BEN)
        db.assign(cursor, picked[45:55], BEN, BEN)
        yield cursor


def expected_inbox(cur, scope, me=None, now=NOW):
    """The queue's ids and the counts, from the rules in the module docstring, in Python."""
    rows = db.query_records(cur, "SELECT * FROM comments")
    states = {r["comment_id"]: r for r in db.query_records(cur, "SELECT * FROM inbox_states")}
    answers = {}
    for r in rows:
        if r["comment_type"] == "REPLY" and r["can_delete"]:
            answers.setdefault(r["original_comment_id"], []).append(r["create_time"])

    def in_scope(c, s):
        accounts = [c["advertiser_id"] == scope["advertiser_id"]] if "advertiser_id" in scope \
            else []
        if "business_id" in scope:
            accounts.append(c["source"] == "organic" and c["business_id"] == scope["business_id"])
        return ((not accounts or any(accounts))
                and scope.get("ad_id", c["ad_id"]) == c["ad_id"]
                and scope.get("video_id", c["tiktok_item_id"]) == c["tiktok_item_id"]
                and (not scope.get("labels") or set(scope["labels"]) & set(c["labels"]))
                and scope.get("language", c["language"]) == c["language"]
                and ("assignee" not in scope or (s or {}).get("assignee") == scope["assignee"]))

    queue, counts = [], {"open": 0, "snoozed": 0, "done": 0, "assigned_to_me": 0}
    for c in rows:
        s = states.get(c["comment_id"])
        if c["comment_type"] != "COMMENT" or c["comment_status"] == "HIDDEN" \
                or not in_scope(c, s):
            continue
        state = s["state"] if s else "open"
        counts["done"] += state == "done"
        counts["snoozed"] += state == "snoozed" and s["snoozed_until"] > now
        waiting = state == "open" or (state == "snoozed" and s["snoozed_until"] <= now)
        reopened = s["reopened_at"] if s else None
        answered = any(reopened is None or at > reopened
                       for at in answers.get(c["comment_id"], []))
        if waiting and not answered:
            counts["open"] += 1
            counts["assigned_to_me"] += s is not None and s["assignee"] == me
            priority = 1 if set(c["labels"]) & set(db.PRIORITY_LABELS) else 2
            queue.append((priority, -c["likes"], c["create_time"], c["comment_id"]))
    return [key[-1] for key in sorted(queue)], counts


@pytest.mark.parametrize("scope", VARIED_SCOPES)
def test_the_queue_and_its_counts_follow_the_rules_on_a_varied_store(varied, scope):
    ids, counts = expected_inbox(varied, scope, me=ANA)

    assert db.inbox_queue(varied, **scope, now=NOW, limit=500)["comment_id"].tolist() == ids
    paged = [db.inbox_queue(varied, **scope, now=NOW, limit=7, offset=offset)["comment_id"]
             for offset in range(0, len(ids) + 7, 7)]
    assert pd.concat(paged).tolist() == ids
    assert db.inbox_counts(varied, **scope, me=ANA, now=NOW) == counts


@pytest.mark.parametrize("scope", VARIED_SCOPES)
def test_the_page_is_the_queue_and_the_counts_read_at_once(varied, scope):
    for limit, offset in [(50, 0), (7, 3), (10, 10_000), (0, 0)]:
        for me, now in [(ANA, NOW), (None, NOW + timedelta(days=1))]:
            queue, counts = db.inbox.inbox_page(varied, **scope, me=me, now=now, limit=limit,
                                                offset=offset)

            pd.testing.assert_frame_equal(
                queue, db.inbox_queue(varied, **scope, now=now, limit=limit, offset=offset))
            assert counts == db.inbox_counts(varied, **scope, me=me, now=now)


def test_the_page_refuses_what_the_queue_refuses(cur):
    with pytest.raises(ValueError, match="offset"):
        db.inbox.inbox_page(cur, **BOTH, now=NOW, offset=-1)
