"""The Inbox page against the sandbox: the queue of comments that need a person, first things
first; done, snooze, assign, take, release and notes from the comment in hand, each recorded
with the person and checked on the server for their role."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk import store as db
from desk.people import NotAllowed, Person
from desk.store.times import utc_now
from desk.ui import inbox
from tests.pages.conftest import no_errors, open_page, page_context, plain, post_count

INBOX = "pages/3_Inbox.py"
BOSS, JO, KIM, VI = ("boss@brand.example", "jo@brand.example", "kim@brand.example",
                     "vi@agency.example")


@pytest.fixture(autouse=True)
def roles(monkeypatch):
    monkeypatch.setenv("DESK_ADMINS", BOSS)
    monkeypatch.setenv("DESK_RESPONDERS", f"{JO},{KIM}")
    monkeypatch.setenv("DESK_VIEWERS", VI)


def queue(store, advertiser_id: str):
    with store.cursor() as cur:
        return db.inbox_queue(cur, advertiser_id=advertiser_id, now=utc_now(), limit=10_000)


def in_hand(at) -> str:
    """The comment id of the card in hand (its container's key)."""
    keys = [b.key for b in at.button if b.key and b.key.startswith("inbox_reply_open_")]
    assert len(keys) == 1, keys
    return keys[0].removeprefix("inbox_reply_open_")


def count(at, label: str) -> str:
    """A count of the sidebar (Open, Mine, Snoozed, Done)."""
    return next(m.value for m in at.sidebar.metric if m.label == label)


def shown(at) -> str:
    return " ".join(plain(x.value) for x in [*at.markdown, *at.caption, *at.warning,
                                              *at.success, *at.error])


def test_the_queue_is_the_unanswered_visible_comments_questions_and_complaints_first(
        synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    no_errors(at)
    expected = queue(store, advertiser_id)
    assert len(expected) > 50  # the sandbox leaves plenty unanswered
    table = at.dataframe[0].value
    assert table["content"].tolist() == expected["content"].head(50).fillna("").tolist()
    priorities = [p.split(" ")[0] for p in table["priority"]]
    assert priorities == sorted(priorities)  # every P1 before any P2
    with store.cursor() as cur:
        answered = db.comments_page(cur, db.CommentFilters(advertiser_id), 5000, 0)
    replied = set(answered.loc[answered["answered"].fillna(False).astype(bool), "comment_id"])
    assert not replied & set(expected["comment_id"])
    assert f"{len(expected):,} comments need attention" in shown(at)
    assert count(at, "Open") == f"{len(expected):,}"


def test_done_takes_the_comment_in_hand_out_and_records_who(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    first = in_hand(at)
    second = str(queue(store, advertiser_id)["comment_id"].iloc[1])
    at.button(key="inbox_done").click().run()
    no_errors(at)
    assert first not in set(queue(store, advertiser_id)["comment_id"])
    assert in_hand(at) == second  # the next one is in hand
    with store.cursor() as cur:
        events = db.inbox_events(cur, [first])
    assert events[["kind", "actor"]].values.tolist() == [["done", JO]]
    assert count(at, "Done") == "1"


def test_snooze_hides_a_comment_until_its_time(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    first = in_hand(at)
    at.selectbox(key="inbox_snooze_for").select("4 hours")
    at.button(key="inbox_snooze").click().run()
    no_errors(at)
    assert first not in set(queue(store, advertiser_id)["comment_id"])
    with store.cursor() as cur:
        later = db.inbox_queue(cur, advertiser_id=advertiser_id, limit=10_000,
                               now=utc_now() + timedelta(hours=5))
    assert first in set(later["comment_id"])
    assert count(at, "Snoozed") == "1"


def test_a_comment_someone_else_holds_says_who_and_taking_it_says_from_whom(synced, store):
    advertiser_id = synced["WRITER"]
    first = str(queue(store, advertiser_id)["comment_id"].iloc[0])
    with store.cursor() as cur:
        db.take(cur, first, KIM)
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    assert in_hand(at) == first
    assert f"{KIM} holds this comment" in shown(at)
    at.button(key="inbox_take").click().run()
    no_errors(at)
    with store.cursor() as cur:
        assert db.holder(cur, first) == JO
        kinds = db.inbox_events(cur, [first])[["kind", "actor"]].values.tolist()
    assert kinds == [["take", KIM], ["take", JO]]
    assert "You hold this comment." in shown(at)
    at.button(key="inbox_release").click().run()
    with store.cursor() as cur:
        assert db.holder(cur, first) is None


def test_assign_gives_the_comment_in_hand_to_a_teammate(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=BOSS)
    first = in_hand(at)
    assert set(at.selectbox(key="inbox_assignee_pick").options) >= {BOSS, JO, KIM}
    at.selectbox(key="inbox_assignee_pick").select(KIM)
    at.button(key="inbox_assign").click().run()
    no_errors(at)
    with store.cursor() as cur:
        assert db.holder(cur, first) == KIM
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=KIM)
    assert count(at, "Mine") == "1"
    at.selectbox(key="inbox_assignee").select("me").run()
    assert at.dataframe[0].value["assignee"].tolist() == [KIM]


def test_a_note_stays_in_the_team_and_names_its_author(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    first = in_hand(at)
    before = len(sandbox.ground_truth()["comments"])
    at.text_area(key=f"inbox_note_{first}").input("Customer wrote to support too")
    at.button(key=f"FormSubmitter:inbox_note_form_{first}-Add note").click().run()
    no_errors(at)
    with store.cursor() as cur:
        notes = db.notes(cur, [first])
    assert notes[["author", "body"]].values.tolist() == [[JO, "Customer wrote to support too"]]
    assert len(sandbox.ground_truth()["comments"]) == before  # nothing went to TikTok
    assert "Customer wrote to support too" in [t.value for t in at.text]


def test_a_viewer_reads_the_inbox_and_every_change_is_refused_on_the_server(
        synced, store, settings):
    advertiser_id = synced["WRITER"]
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=VI)
    no_errors(at)
    assert at.dataframe[0].value is not None
    assert not [b for b in at.button if b.key and b.key.startswith(
        ("inbox_done", "inbox_bulk", "inbox_take", "inbox_assign", "inbox_reply"))]
    first = str(queue(store, advertiser_id)["comment_id"].iloc[0])
    viewer = page_context(settings, advertiser_id, person=Person(VI, "viewer"))
    for action, args in ((inbox.mark_done, ([first],)), (inbox.take, (first,)),
                         (inbox.assign, ([first], VI)), (inbox.add_note, (first, "x")),
                         (inbox.hide, ([first],))):
        with pytest.raises(NotAllowed):
            action(viewer, *args)
    with store.cursor() as cur:
        assert db.inbox_events(cur, [first]).empty


def reply(at, comment_id: str, body: str) -> None:
    at.button(key=f"inbox_reply_open_{comment_id}").click().run()
    at.text_area(key=f"inbox_reply_text_{comment_id}").set_value(body)
    at.button(key=f"inbox_reply_send_{comment_id}").click().run()


def test_a_reply_to_a_comment_someone_else_holds_asks_first(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    first = str(queue(store, advertiser_id)["comment_id"].iloc[0])
    with store.cursor() as cur:
        db.take(cur, first, KIM)
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    before = post_count(sandbox)
    reply(at, first, "Jo here, happy to help!")
    no_errors(at)
    assert f"{KIM} holds this comment and may be answering it" in shown(at)
    assert post_count(sandbox) == before  # asked, nothing sent
    at.button(key=f"inbox_reply_hold_{first}").click().run()
    assert "may be answering it" not in shown(at) and post_count(sandbox) == before

    at.button(key=f"inbox_reply_send_{first}").click().run()
    at.button(key=f"inbox_reply_anyway_{first}").click().run()
    no_errors(at)
    assert post_count(sandbox) == before + 1
    assert first not in set(queue(store, advertiser_id)["comment_id"])  # answered
    with store.cursor() as cur:
        log = db.comments_by_id(cur, [first])
    assert bool(log["answered"].iloc[0])


def test_the_holder_replies_without_being_asked(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    first = in_hand(at)
    at.button(key="inbox_take").click().run()
    before = post_count(sandbox)
    reply(at, first, "Thanks, on it!")
    no_errors(at)
    assert "may be answering it" not in shown(at)
    assert post_count(sandbox) == before + 1


def test_the_priority_is_shown_and_the_person_changes_it(synced, store):
    advertiser_id = synced["WRITER"]
    praised = queue(store, advertiser_id)["comment_id"].tolist()[-3:]  # the last three
    with store.cursor() as cur:
        cur.execute("UPDATE comments SET labels = ['praise'] WHERE comment_id IN "
                    "(SELECT unnest(?::VARCHAR[]))", [praised])
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    at.multiselect(key="inbox_priority_labels").set_value(["praise"]).run()
    no_errors(at)
    with store.cursor() as cur:
        expected = db.inbox_queue(cur, advertiser_id=advertiser_id, now=utc_now(),
                                  priority_labels=["praise"])
    table = at.dataframe[0].value
    assert table["content"].tolist() == expected["content"].fillna("").tolist()
    assert table["priority"].tolist()[:3] == ["P1 · Praise"] * 3
    assert not any(p.startswith("P1") for p in table["priority"].iloc[3:])


def test_comments_past_their_target_are_marked_and_nobodys_can_be_picked(synced, store):
    advertiser_id = synced["WRITER"]
    first = str(queue(store, advertiser_id)["comment_id"].iloc[0])
    with store.cursor() as cur:
        db.set_target(cur, "ad", advertiser_id, "all", 60, BOSS)
        db.take(cur, first, KIM)
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    assert all(age.startswith("⏰") for age in at.dataframe[0].value["age"])  # all old
    at.selectbox(key="inbox_assignee").select("nobody").run()
    no_errors(at)
    shown = at.dataframe[0].value
    assert (shown["assignee"] == "").all() and len(shown) == 50
