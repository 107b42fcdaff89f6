"""desk.moderation.blocked and desk.outbox.words: an ad account's blocked-word list changed
through the outbox, exactly once, audited, settled by asking TikTok; keyword rules pushed to
it; the stored comments TikTok hid with it.

Every test runs against a real sandbox over loopback HTTP and a DuckDB file. Lost answers are
made two ways: `losing`, which stands in for the client's blocked-word calls and loses the
answer of one (the change reached TikTok, or it never did), and the sandbox's own injected
faults (a ManualClock with a fixed start makes them the same on every run).
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import duckdb
import pytest

from desk import outbox
from desk import store as db
from desk.errors import ActionRefused
from desk.moderation import blocked, saved
from desk.moderation.rules import parse_rules
from desk.outbox import ledger
from desk.outbox.words import WORD_LENGTH
from desk.people import NotAllowed, Person
from desk.sources import AdAccountWriter, TikTokAccountWriter
from desk.store import Store
from tiktok_client.blocked_words import BlockedWords
from tiktok_client.errors import OutcomeUnknown
from tiktok_sandbox import ManualClock, start_sandbox

from .test_actions_support import (
    advertiser_with_access,
    fill_store,
    make_client,
    sandbox_config,
    sandbox_today,
)

API = "/open_api/v1.3/"
ADMIN = Person("ana@brand.example", "admin")
RESPONDER = Person("jo@brand.example", "responder")
VIEWER = Person("vi@agency.example", "viewer")
START = 1_900_000_000.0  # fixed, so that injected faults are the same on every run


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


@pytest.fixture
def cur(store):
    return store.cursor()


@pytest.fixture
def sandbox():
    with start_sandbox(sandbox_config(comments=300, ads=9)) as sb:
        yield sb


@pytest.fixture
def advertiser(sandbox) -> str:
    return advertiser_with_access(sandbox, "WRITER")


@pytest.fixture
def writer(sandbox, advertiser) -> AdAccountWriter:
    return AdAccountWriter(make_client(sandbox), advertiser)


def calls(sandbox, endpoint: str) -> int:
    return sandbox.stats()["by_path"].get(f"{API}{endpoint}/", 0)


def audit_events(cur, advertiser: str) -> Counter:
    return Counter(outbox.audit_log(cur, advertiser, limit=10_000)["event"])


def word_rows(cur, advertiser: str) -> list[dict]:
    return db.query_records(
        cur, "SELECT action_id, kind, word, status, attempts, actor, comment_id FROM outbox "
        "WHERE advertiser_id = ? AND kind IN ('block_word', 'unblock_word') ORDER BY action_id",
        [advertiser])


@contextmanager
def losing(monkeypatch, *modes: str):
    """The client's add and remove calls lose answers, one mode per call: "lost" (TikTok
    made the change, the answer never came back), "not_sent" (TikTok never got it), "crash"
    (TikTok made it and the process died before the answer), then "ok"."""
    queue = list(modes)
    real_add, real_remove = BlockedWords.add, BlockedWords.remove

    def wrap(real):
        def call(self, advertiser_id, words):
            mode = queue.pop(0) if queue else "ok"
            if mode == "not_sent":
                raise OutcomeUnknown("blockedword was sent but no answer came back: HTTP 502")
            real(self, advertiser_id, words)
            if mode == "lost":
                raise OutcomeUnknown("blockedword was sent but no answer came back: timed out")
            if mode == "crash":
                raise Crash
        return call

    monkeypatch.setattr(BlockedWords, "add", wrap(real_add))
    monkeypatch.setattr(BlockedWords, "remove", wrap(real_remove))
    yield queue


class Crash(BaseException):
    """The process dying mid-send (not an Exception: nothing may catch it)."""


# ---------------------------------------------------------------------------------------------
# Adding, removing, checking


def test_added_words_land_on_tiktoks_list_one_outbox_row_each_audited_with_who_asked(
        cur, sandbox, writer, advertiser):
    change = blocked.add_words(cur, writer, ["free money", "Scam", " scam ", "", "dm me"],
                               person=ADMIN, request_key="k1")

    assert sorted(sandbox.blocked_words(advertiser)) == ["Scam", "dm me", "free money"]
    assert calls(sandbox, "blockedword/create") == 1
    assert [r.word for r in change.results] == ["free money", "Scam", "dm me"]
    assert {r.status for r in change.results} == {"sent"} and not change.too_long
    assert change.summary() == "3 words on the blocked-word list on TikTok."
    rows = word_rows(cur, advertiser)
    assert [(r["kind"], r["status"], r["actor"], r["comment_id"]) for r in rows] == [
        ("block_word", "sent", ADMIN.email, None)] * 3
    assert audit_events(cur, advertiser) == {"requested": 3, "sent": 3}
    log = outbox.audit_log(cur, advertiser)
    assert set(log["actor"]) == {ADMIN.email}
    assert 'add blocked word "free money"' in set(log["detail"])
    [analyst] = db.query_records(cur, "SELECT kind, word, actor FROM analyst.actions "
                                      "WHERE word = 'dm me'")
    assert analyst == {"kind": "block_word", "word": "dm me", "actor": ADMIN.email}


def test_removed_words_leave_the_list_and_check_says_so(cur, sandbox, writer, advertiser):
    blocked.add_words(cur, writer, ["spam", "scam", "fake"], person=ADMIN, request_key="add")
    change = blocked.remove_words(cur, writer, ["SPAM", "fake"], person=ADMIN,
                                  request_key="remove")

    assert sandbox.blocked_words(advertiser) == ["scam"]
    assert change.summary() == "2 words taken off the blocked-word list on TikTok."
    checked = blocked.check_words(writer, ["spam", " Scam ", "carefree"])
    assert checked.to_dict("records") == [{"word": "spam", "blocked": False},
                                          {"word": "Scam", "blocked": True},
                                          {"word": "carefree", "blocked": False}]
    page = blocked.words_page(writer)
    assert (page.total, page.pages, list(page.words["word"])) == (1, 1, ["scam"])


def test_the_list_is_read_page_after_page(cur, sandbox, writer, advertiser):
    many = [f"word {n:03d}" for n in range(23)]
    blocked.add_words(cur, writer, many, person=ADMIN, request_key="many")

    first, third = blocked.words_page(writer, 1, 10), blocked.words_page(writer, 3, 10)
    assert (first.total, first.pages, len(first.words), len(third.words)) == (23, 3, 10, 3)
    assert [*first.words["word"], *blocked.words_page(writer, 2, 10).words["word"],
            *third.words["word"]] == sandbox.blocked_words(advertiser)
    assert sorted(blocked.all_words(writer)) == many


def test_the_same_request_key_twice_sends_nothing_again(cur, sandbox, writer, advertiser):
    first = blocked.add_words(cur, writer, ["spam", "scam"], person=ADMIN, request_key="k")
    again = blocked.add_words(cur, writer, ["spam", "scam"], person=ADMIN, request_key="k")

    assert calls(sandbox, "blockedword/create") == 1
    assert [r.action_id for r in again.results] == [r.action_id for r in first.results]
    assert all(r.duplicate and r.status == "sent" for r in again.results)
    assert again.summary().endswith("This was already requested, so nothing was sent again.")
    assert len(word_rows(cur, advertiser)) == 2


def test_an_add_whose_answer_was_lost_is_settled_by_asking_tiktok_and_never_sent_again(
        cur, sandbox, writer, advertiser, monkeypatch):
    with losing(monkeypatch, "lost"):
        change = blocked.add_words(cur, writer, ["giveaway"], person=ADMIN, request_key="k")
        again = blocked.add_words(cur, writer, ["giveaway"], person=ADMIN, request_key="k")

    [result] = change.results
    assert result.status == "sent" and not result.duplicate
    assert again.results[0].duplicate and again.results[0].action_id == result.action_id
    assert sandbox.blocked_words(advertiser) == ["giveaway"]
    assert calls(sandbox, "blockedword/create") == 1
    assert calls(sandbox, "blockedword/check") == 1
    [row] = word_rows(cur, advertiser)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    log = outbox.audit_log(cur, advertiser)
    assert audit_events(cur, advertiser) == {"requested": 1, "unknown": 1, "reconciled": 1}
    assert 'TikTok lists "giveaway" as blocked: marked sent' in set(log["detail"])


def test_an_add_that_never_reached_tiktok_fails_on_checking_and_retry_sends_it_once(
        cur, sandbox, writer, advertiser, monkeypatch):
    with losing(monkeypatch, "not_sent"):
        [result] = blocked.add_words(cur, writer, ["crypto"], person=ADMIN,
                                     request_key="k").results
    assert result.status == "failed"
    assert result.message == ('"crypto" is not on the blocked-word list on TikTok; it was not '
                              "added. Retry to send it again.")
    assert sandbox.blocked_words(advertiser) == []

    [retried] = blocked.retry_unfinished(cur, writer, person=ADMIN)
    assert retried.status == "sent" and retried.action_id == result.action_id
    assert sandbox.blocked_words(advertiser) == ["crypto"]
    assert blocked.retry_unfinished(cur, writer, person=ADMIN) == []
    [row] = word_rows(cur, advertiser)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert calls(sandbox, "blockedword/create") == 1  # the first one never reached TikTok


def test_a_removal_whose_answer_was_lost_is_settled_as_done(cur, sandbox, writer, advertiser,
                                                            monkeypatch):
    blocked.add_words(cur, writer, ["spam", "scam"], person=ADMIN, request_key="add")
    with losing(monkeypatch, "lost"):
        change = blocked.remove_words(cur, writer, ["spam", "scam"], person=ADMIN,
                                      request_key="remove")
    assert {r.status for r in change.results} == {"sent"}
    assert sandbox.blocked_words(advertiser) == []
    assert calls(sandbox, "blockedword/delete") == 1
    assert 'TikTok does not list "spam": marked sent' in set(
        outbox.audit_log(cur, advertiser)["detail"])


def test_a_change_cut_off_mid_send_is_settled_by_reconciling_open_writes(
        cur, sandbox, writer, advertiser, monkeypatch):
    with losing(monkeypatch, "crash"), pytest.raises(Crash):
        blocked.add_words(cur, writer, ["betting"], person=ADMIN, request_key="k")
    [row] = word_rows(cur, advertiser)
    assert row["status"] == "pending"

    [settled] = outbox.reconcile_open(cur, writer, stale_after=timedelta(0))
    assert (settled.status, settled.word) == ("sent", "betting")
    assert calls(sandbox, "blockedword/create") == 1
    assert outbox.get_action(cur, row["action_id"]).message == (
        '"betting" is on the ad account\'s blocked-word list on TikTok.')


def test_words_go_in_calls_of_the_size_tiktok_takes(cur, store):
    with start_sandbox(sandbox_config(comments=100, ads=6, blocked_words_per_call=25)) as sb:
        advertiser = advertiser_with_access(sb, "WRITER")
        writer = AdAccountWriter(make_client(sb), advertiser)
        words = [f"w{n}" for n in range(60)]
        change = blocked.add_words(cur, writer, words, person=ADMIN, request_key="k")

        assert len(change.done) == 60 and sorted(sb.blocked_words(advertiser)) == sorted(words)
        assert calls(sb, "blockedword/create") == 1 + 3  # one refused count, then 25 a call
        assert audit_events(cur, advertiser) == {"requested": 60, "sent": 60}


def test_a_word_tiktok_refuses_as_too_long_is_reported_and_the_others_are_added(
        cur, sandbox, writer, advertiser):
    long_word = "x" * 31
    change = blocked.add_words(cur, writer, ["ok", long_word, "fine"], person=ADMIN,
                               request_key="k")

    assert sorted(sandbox.blocked_words(advertiser)) == ["fine", "ok"]
    assert change.too_long == (long_word,) and change.limit == 30
    assert [r.status for r in change.results] == ["sent", "failed", "sent"]
    assert change.results[1].message == (
        f'"{long_word}" has 31 characters; TikTok takes at most 30 in a blocked word, so '
        "shorten it and add it again.")
    assert change.summary() == (
        f'2 words on the blocked-word list on TikTok. TikTok does not take more than 30 '
        f'characters in a blocked word: "{long_word}"; shorten them and try again.')
    assert calls(sandbox, "blockedword/create") == 2  # refused whole, then without it
    assert writer.client.learned.get(WORD_LENGTH) == 30
    assert blocked.retry_unfinished(cur, writer, person=ADMIN) == []  # it cannot succeed

    # Known now: a longer word is refused before anything is sent, and audited.
    later = blocked.add_words(cur, writer, ["y" * 40, "short"], person=ADMIN, request_key="k2")
    assert later.too_long == ("y" * 40,) and later.done == ["short"]
    assert calls(sandbox, "blockedword/create") == 3
    refused = outbox.audit_log(cur, advertiser).query("event == 'refused'")
    assert list(refused["detail"]) == [
        f'add blocked word "{"y" * 40}": longer than the 30 characters TikTok takes']


def test_the_learned_word_length_is_kept_for_the_apps_next_clients(store, sandbox, advertiser):
    from desk.store import learned_values, save_learned

    cur = store.cursor()
    writer = AdAccountWriter(make_client(sandbox), advertiser)
    writer.client.learned._on_change = lambda key, value: save_learned(cur, "app", key, value)
    blocked.add_words(cur, writer, ["z" * 35, "fine"], person=ADMIN, request_key="k")
    assert learned_values(cur, "app") == {WORD_LENGTH: 30}
    changes = blocked.recent_changes(cur, advertiser, "app")
    assert changes[["word", "status", "unfinished"]].values.tolist() == [
        ["fine", "sent", False], ["z" * 35, "failed", False]]
    assert blocked.recent_changes(cur, advertiser)["unfinished"].tolist() == [False, True]


def test_without_permission_the_words_fail_with_words_about_the_list(cur, sandbox):
    read_only = advertiser_with_access(sandbox, "READ_ONLY")
    writer = AdAccountWriter(make_client(sandbox), read_only)
    change = blocked.add_words(cur, writer, ["spam", "scam"], person=ADMIN, request_key="k")

    assert [r.status for r in change.results] == ["failed", "failed"]
    assert "permission to read or change the ad account's blocked-word list" in (
        change.results[0].message)
    assert sandbox.blocked_words(read_only) == []
    assert calls(sandbox, "blockedword/create") == 1  # the second word was not sent


def test_only_an_admin_may_change_the_list_checked_before_anything_is_sent(
        cur, sandbox, writer, advertiser):
    blocked.add_words(cur, writer, ["spam"], person=ADMIN, request_key="k")
    stored = saved.save(cur, parse_rules(KEYWORD_RULE)[0], by=ADMIN.email)
    before = sandbox.stats()["total"]
    for person in (VIEWER, RESPONDER):
        with pytest.raises(NotAllowed, match="Only an admin or above may change the blocked"):
            blocked.add_words(cur, writer, ["scam"], person=person, request_key="v1")
        with pytest.raises(NotAllowed):
            blocked.remove_words(cur, writer, ["spam"], person=person, request_key="v2")
        with pytest.raises(NotAllowed):
            blocked.push_rule(cur, writer, stored, person=person, request_key="v3")
        with pytest.raises(NotAllowed):
            blocked.retry_unfinished(cur, writer, person=person)
    assert sandbox.stats()["total"] == before
    assert sandbox.blocked_words(advertiser) == ["spam"]
    assert len(word_rows(cur, advertiser)) == 1
    # Reading is for everyone who may read.
    assert blocked.check_words(writer, ["spam"])["blocked"].tolist() == [True]


def test_a_tiktok_account_has_no_blocked_word_list(cur):
    organic = TikTokAccountWriter(SimpleNamespace(business_id="7100000000000000001"))
    with pytest.raises(ActionRefused, match="only ad accounts have one"):
        blocked.add_words(cur, organic, ["spam"], person=ADMIN, request_key="k")
    with pytest.raises(ActionRefused, match="only ad accounts have one"):
        blocked.words_page(organic)


def test_nothing_to_add_is_refused_before_anything_is_sent(cur, sandbox, writer):
    with pytest.raises(ActionRefused, match="Write at least one word"):
        blocked.add_words(cur, writer, ["", "   "], person=ADMIN, request_key="k")
    with pytest.raises(ActionRefused, match="Write a word to check"):
        blocked.check_words(writer, [" "])
    assert sandbox.stats()["total"] == 0
    assert blocked.words_from_text("spam\n\n  Spam \nfree money\r\n") == ["spam", "free money"]


# ---------------------------------------------------------------------------------------------
# Under the sandbox's own faults


@pytest.mark.slow
def test_changes_under_injected_faults_each_land_exactly_once(cur):
    config = sandbox_config(comments=100, ads=6, fault_rate=1.0, stall_seconds=2.0,
                            clock=ManualClock(START))
    with start_sandbox(config) as sb:
        advertiser = advertiser_with_access(sb, "WRITER")
        writer = AdAccountWriter(make_client(sb, timeout=0.5, max_attempts=8), advertiser)
        words = [f"lost word {n}" for n in range(8)]
        firsts = [blocked.add_words(cur, writer, [w], person=ADMIN, request_key=f"lost-{n}")
                  for n, w in enumerate(words)]
        for _ in range(5):
            if not blocked.retry_unfinished(cur, writer, person=ADMIN):
                break
        assert sorted(sb.blocked_words(advertiser)) == sorted(words)
        rows = word_rows(cur, advertiser)
        assert [r["status"] for r in rows] == ["sent"] * 8
        log = outbox.audit_log(cur, advertiser, limit=10_000)
        assert "unknown" in set(log["event"])
        # Answers lost after TikTok made the change were settled without sending again.
        settled = log[(log["event"] == "reconciled") & log["detail"].str.endswith("marked sent")]
        assert len(settled) >= 1
        once = {r["action_id"] for r in rows if r["attempts"] == 1}
        assert set(settled["action_id"]) & once
        # The same request keys again: nothing is sent.
        before = calls(sb, "blockedword/create")
        again = [blocked.add_words(cur, writer, [w], person=ADMIN, request_key=f"lost-{n}")
                 for n, w in enumerate(words)]
        assert calls(sb, "blockedword/create") == before
        assert all(a.results[0].duplicate for a in again)
        assert [a.results[0].action_id for a in again] == [f.results[0].action_id
                                                           for f in firsts]


# ---------------------------------------------------------------------------------------------
# Keyword rules pushed to TikTok


KEYWORD_RULE = """
[[rule]]
name = "scam links"
keywords = ["free iphone", "dm me", "crypto"]
action = "hide"
"""


def test_a_keyword_rule_is_pushed_and_tiktok_then_hides_what_it_would(
        cur, sandbox, writer, advertiser):
    stored = saved.save(cur, parse_rules(KEYWORD_RULE)[0], by=ADMIN.email)
    change = blocked.push_rule(cur, writer, stored, person=ADMIN, request_key="push")

    assert sorted(sandbox.blocked_words(advertiser)) == ["crypto", "dm me", "free iphone"]
    assert change.summary() == "3 words on the blocked-word list on TikTok."
    details = set(outbox.audit_log(cur, advertiser)["detail"])
    assert 'add blocked word "dm me" (from rule "scam links" v1)' in details
    again = blocked.push_rule(cur, writer, stored, person=ADMIN, request_key="push")
    assert all(r.duplicate for r in again.results)
    assert calls(sandbox, "blockedword/create") == 1

    hidden = sandbox.add_comment("DM me for a free iPhone!!", advertiser)
    kept = sandbox.add_comment("is this iphone free?", advertiser)
    fill_store(cur, writer.client, advertiser, sandbox_today(sandbox), days=2)
    shown = blocked.hidden_comments(cur, advertiser)
    assert hidden in set(shown["comment_id"]) and kept not in set(shown["comment_id"])
    row = shown.set_index("comment_id").loc[hidden]
    assert row["content"] == "DM me for a free iPhone!!"
    assert blocked.hidden_count(cur, advertiser) == len(shown)


@pytest.mark.parametrize(("table", "reason"), [
    ('keywords = ["scam"]\nregex = "x+"\naction = "hide"', "also needs a regex"),
    ('keywords = ["scam"]\nlabels = ["spam"]\naction = "hide"', "also needs labels"),
    ('keywords = ["scam"]\nhas_link = true\naction = "hide"', "also needs has_link"),
    ('keywords = ["scam"]\nmin_likes = 5\naction = "hide"', "also needs min_likes"),
    ('keywords = ["scam"]\naction = "flag"', "flags comments"),
    ('keywords = ["scam"]\naction = "label"\nlabel = "x"', "labels comments"),
    ('regex = "scam"\naction = "hide"', "has no keywords"),
    ('keywords = ["scam"]\nscope = { ad_ids = ["1"], video_ids = [], source = "any" }\n'
     'action = "hide"', "some ads or videos only"),
    ('keywords = ["scam"]\nscope = { ad_ids = [], video_ids = [], source = "organic" }\n'
     'action = "hide"', "TikTok account comments"),
])
def test_a_rule_that_is_not_keywords_only_is_refused_with_the_reason(
        cur, sandbox, writer, advertiser, table, reason):
    stored = saved.save(cur, parse_rules(f'[[rule]]\nname = "r"\n{table}\n')[0],
                        by=ADMIN.email)
    with pytest.raises(ActionRefused, match=reason):
        blocked.push_rule(cur, writer, stored, person=ADMIN, request_key="push")
    assert sandbox.stats()["total"] == 0
    assert word_rows(cur, advertiser) == []
    [line] = outbox.audit_log(cur, advertiser).to_dict("records")
    assert line["event"] == "refused" and line["detail"].startswith('push rule "r" v1: ')


def test_a_keyword_rule_for_ad_comments_and_min_likes_zero_can_be_pushed():
    rule = parse_rules('[[rule]]\nname = "a"\nkeywords = ["x"]\nmin_likes = 0\n'
                       'scope = { ad_ids = [], video_ids = [], source = "ad" }\n'
                       'action = "hide"\n')[0]
    assert blocked.why_not_pushable(rule) is None


# ---------------------------------------------------------------------------------------------
# What the store knows


def test_recent_changes_list_the_lists_writes_with_their_status(cur, sandbox, writer,
                                                                advertiser, monkeypatch):
    blocked.add_words(cur, writer, ["spam"], person=ADMIN, request_key="a")
    with losing(monkeypatch, "not_sent"):
        blocked.remove_words(cur, writer, ["spam"], person=ADMIN, request_key="b")
    frame = blocked.recent_changes(cur, advertiser)
    assert frame[["change", "word", "status", "actor"]].to_dict("records") == [
        {"change": "remove", "word": "spam", "status": "failed", "actor": ADMIN.email},
        {"change": "add", "word": "spam", "status": "sent", "actor": ADMIN.email}]
    assert frame["message"].iloc[0] == ('"spam" is still on the blocked-word list on TikTok; '
                                        "it was not taken off. Retry to send it again.")
    # Comment writes are not among them, nor in the comment queries.
    assert outbox.actions_for_comments(cur, ["spam"]).empty


def test_an_outbox_of_before_blocked_words_keeps_its_rows_and_ids(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    db.migrate(con, db.MIGRATIONS[:11])
    con.execute(
        "INSERT INTO outbox (request_key, kind, advertiser_id, comment_id, status, attempts, "
        "actor, created_at, updated_at) VALUES ('k', 'hide', 'A1', 'C1', 'sent', 1, 'me', "
        "now(), now())")
    con.execute("INSERT INTO audit_log VALUES (now(), 1, 'me', 'A1', 'sent', 'hide C1')")
    con.close()

    with Store.open(path) as opened, opened.cursor() as c:
        assert db.schema_version(c) == len(db.MIGRATIONS)
        [row] = db.query_records(c, "SELECT action_id, kind, comment_id, word FROM outbox")
        assert row == {"action_id": 1, "kind": "hide", "comment_id": "C1", "word": None}
        action, new = ledger.claim(c, request_key="n", kind="block_word", comment_id=None,
                                   actor="me", detail="add blocked word", word="x",
                                   audit_advertiser_id="A1", advertiser_id="A1")
        assert new and action["action_id"] == 2  # the sequence goes on
        with pytest.raises(duckdb.ConstraintException):  # a word row names its word
            c.execute("INSERT INTO outbox (request_key, kind, advertiser_id, status, actor, "
                      "created_at, updated_at) VALUES ('w', 'block_word', 'A1', 'sent', 'me', "
                      "now(), now())")
