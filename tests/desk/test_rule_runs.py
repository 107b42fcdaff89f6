"""Rules acting on an account's comments, ad or organic, through the one CommentSource
interface: dry run, apply to the backlog, the pass after every sync, undo; each checked
against what TikTok's side holds (the sandbox's ground truth) and the hides it carried out."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from desk import outbox
from desk import store as db
from desk.moderation import runs, saved
from desk.moderation.classify import Classifier
from desk.moderation.pipeline import sync_and_moderate
from desk.moderation.rules import parse_rules
from desk.sources import AdAccount, CommentSource
from tiktok_sandbox import start_sandbox

from .rules_support import (
    KINDS,
    LINKS,
    StatusWrites,
    account,
    advertiser_id_of,
    brand_names,
    hidden,
    hideable,
    on_tiktok,
    open_workspace,
    with_links,
    world,
)

ADMIN = "ana@brand.example"
PERSON = "maria@brand.example"
LINK_SPAM = "Free followers 👉 http://followers.example.invalid/free"


def no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def sandbox():
    with start_sandbox(world()) as sb:
        yield sb


@pytest.fixture
def workspace(sandbox, tmp_path):
    with open_workspace(sandbox, tmp_path) as opened:
        yield opened


@pytest.fixture
def writes(monkeypatch) -> StatusWrites:
    return StatusWrites().install(monkeypatch)


def synced(sandbox, workspace, kind: str) -> CommentSource:
    source = account(sandbox, workspace, kind)
    result = source.sync()
    assert result.status == "ok", result.message
    return source


def rule(text: str):
    [parsed] = parse_rules(text)
    return parsed


def person_sets_hidden(workspace, source: CommentSource, comment_id: str, hide: bool) -> None:
    """A person hides or unhides a comment on the Comments page (through the outbox)."""
    with workspace.store.cursor() as cur, source.writer() as writer:
        [done] = outbox.set_hidden(cur, writer, comment_ids=[comment_id], hidden=hide,
                                   actor=PERSON, request_key=f"page-{comment_id}-{hide}")
    assert done.status == "sent", done.message


def outbox_rows(cur, source: CommentSource) -> list[dict]:
    column = type(source).writer_class.account_column
    return db.query_records(cur, f"SELECT * FROM outbox WHERE {column} = ? "  # noqa: S608
                            "ORDER BY action_id", [source.account_id])


def add_new_comments(sandbox, kind: str, texts: list[str]) -> set[str]:
    """New comments arriving on TikTok: these texts on the ad account, or, on the business
    account (where viewers write what they like), as many comments as there are texts."""
    if kind == "ad":
        advertiser_id = advertiser_id_of(sandbox)
        return {sandbox.add_comment(text, advertiser_id) for text in texts}
    return set(sandbox.add_organic_comments(len(texts)))


def stored_status(cur, comment_ids) -> dict[str, str]:
    rows = db.query_records(cur, "SELECT comment_id, comment_status FROM comments "
                            "WHERE comment_id IN (SELECT unnest(?::VARCHAR[]))",
                            [sorted(comment_ids)])
    return {row["comment_id"]: row["comment_status"] for row in rows}


# ---------------------------------------------------------------------------------------------
# Dry run


@pytest.mark.parametrize("kind", KINDS)
def test_a_dry_run_counts_what_tiktok_holds_and_changes_nothing(sandbox, workspace, writes,
                                                                kind):
    source = synced(sandbox, workspace, kind)
    before = on_tiktok(sandbox, kind)
    matched = with_links(before)
    acting = hideable(before, matched)
    assert acting and matched - acting  # some matches are hidden already

    with workspace.store.cursor() as cur:
        result = runs.dry_run(cur, source, rule(LINKS))
        left = (len(outbox_rows(cur, source)), len(db.rule_runs(cur)))

    found = dict(zip(result.matches["comment_id"], result.matches["acts"], strict=True))
    assert set(found) == matched and result.matched == len(matched)
    assert {c for c, acts in found.items() if acts} == acting
    assert result.would_act == len(acting)
    assert result.scanned == sum(not c.own for c in before.values())
    examples = result.examples()
    assert len(examples) == min(20, len(matched))
    for row in examples.itertuples():
        assert row.content == before[row.comment_id].text
    places = {row.place: (row.matched, row.would_act)
              for row in result.by_place().itertuples(index=False)}
    assert places == {place: (count, sum(before[c].place == place for c in acting))
                      for place, count in Counter(before[c].place for c in matched).items()}
    texts = [before[c].text for c in sorted(matched)]
    names = [before[c].user_name for c in sorted(matched)]
    verdicts = Classifier(brand_names(sandbox, kind)).classify_many(texts, names)
    labels = Counter(label for found_labels in verdicts["labels"]
                     for label in (list(found_labels) or ["(none)"]))
    assert dict(zip(result.by_label()["label"], result.by_label()["matched"],
                    strict=True)) == labels
    assert labels["spam"]
    # Nothing was written: not to TikTok, not to the outbox, and no run was recorded.
    assert on_tiktok(sandbox, kind) == before
    assert writes.count() == 0
    assert left == (0, 0)


# ---------------------------------------------------------------------------------------------
# Apply


@pytest.mark.parametrize("kind", KINDS)
def test_apply_hides_exactly_the_matching_comments_each_once_as_the_rule(sandbox, workspace,
                                                                         writes, kind):
    source = synced(sandbox, workspace, kind)
    before = on_tiktok(sandbox, kind)
    expected = hideable(before, with_links(before))

    with workspace.store.cursor() as cur:
        saved.save_text(cur, LINKS.replace('"hide"', '"flag"'), by=ADMIN)
        [stored] = saved.take_in(cur, [rule(LINKS)], by=ADMIN)  # now hiding: version 2
        run = runs.apply(cur, source, stored, asked_by=ADMIN, sleep=no_sleep)
        rows = outbox_rows(cur, source)
        log = outbox.audit_log(cur, limit=10_000)
        hits = db.hits(cur, run.run_id)
        statuses = stored_status(cur, expected)

    assert stored.version == 2 and stored.actor == "rule:links v2"
    assert hidden(on_tiktok(sandbox, kind)) == hidden(before) | expected
    assert writes.hides == Counter(dict.fromkeys(expected, 1)) and not writes.unhides
    assert (run.mode, run.status, run.matched, run.done, run.failed) == (
        "backlog", "ok", len(expected), len(expected), 0)
    assert run.asked_by == ADMIN
    assert set(hits["comment_id"]) == expected and set(hits["state"]) == {"done"}
    assert set(statuses.values()) == {"HIDDEN"}
    # The outbox: one row per comment, sent, asked for by the rule's name and version.
    assert sorted(r["comment_id"] for r in rows) == sorted(expected)
    assert {(r["kind"], r["status"], r["actor"]) for r in rows} == {
        ("hide", "sent", "rule:links v2")}
    assert {r["request_key"] for r in rows} == {f"rule-run:{run.run_id}:{c}" for c in expected}
    audit = log[log["action_id"].isin([r["action_id"] for r in rows])]
    assert set(audit["actor"]) == {"rule:links v2"}
    assert Counter(audit.loc[audit["event"] == "sent", "action_id"]) == Counter(
        {r["action_id"]: 1 for r in rows})


@pytest.mark.parametrize("kind", KINDS)
def test_a_second_apply_does_not_act_again(sandbox, workspace, writes, kind):
    source = synced(sandbox, workspace, kind)
    with workspace.store.cursor() as cur:
        stored = saved.save_text(cur, LINKS, by=ADMIN)
        first = runs.apply(cur, source, stored, asked_by=ADMIN, sleep=no_sleep)
        sent = writes.count()
        second = runs.apply(cur, source, stored, asked_by=ADMIN, sleep=no_sleep)
        rows = outbox_rows(cur, source)

    assert first.done > 0 and writes.count() == sent
    assert (second.run_id != first.run_id, second.status, second.matched, second.done) == (
        True, "ok", 0, 0)
    assert len(rows) == first.done


def test_a_stopped_apply_is_carried_on_by_the_next_without_sending_twice(sandbox, workspace,
                                                                         writes):
    source = synced(sandbox, workspace, "organic")  # one request per hide: it stops midway
    before = on_tiktok(sandbox, "organic")
    expected = hideable(before, with_links(before))
    assert len(expected) >= 3
    stop = threading.Event()

    def stop_after_the_first(progress) -> None:
        if progress.phase == "acting":
            stop.set()

    with workspace.store.cursor() as cur:
        stored = saved.save_text(cur, LINKS, by=ADMIN)
        stopped = runs.apply(cur, source, stored, asked_by=ADMIN, progress=stop_after_the_first,
                             stop=stop, sleep=no_sleep)
        part = sum(writes.hides.values())
        carried = runs.apply(cur, source, stored, asked_by=ADMIN, sleep=no_sleep)

    assert (stopped.status, stopped.done) == ("interrupted", 1) and part == 1
    assert (carried.run_id, carried.status, carried.done) == (stopped.run_id, "ok",
                                                               len(expected))
    assert writes.hides == Counter(dict.fromkeys(expected, 1))
    assert hidden(on_tiktok(sandbox, "organic")) == hidden(before) | expected


def test_a_run_tiktok_refused_is_carried_on_by_the_next_apply(sandbox, workspace, writes,
                                                              monkeypatch):
    monkeypatch.setattr(runs, "SETTLE_ROUNDS", 1)  # it would refuse every time
    synced(sandbox, workspace, "ad")
    before = on_tiktok(sandbox, "ad")
    expected = hideable(before, with_links(before))
    token = sandbox.issue_token()
    revoked = AdAccount(workspace, advertiser_id_of(sandbox), access_token=token)
    sandbox.revoke_token(token)  # the connection was revoked meanwhile

    with workspace.store.cursor() as cur:
        stored = saved.save_text(cur, LINKS, by=ADMIN)
        refused = runs.apply(cur, revoked, stored, asked_by=ADMIN, sleep=no_sleep)
        assert not writes.count()
        again = runs.apply(cur, account(sandbox, workspace, "ad"), stored, asked_by=ADMIN,
                           sleep=no_sleep)

    assert (refused.status, refused.done, refused.failed) == ("partial", 0, len(expected))
    assert "Run it again to retry them" in refused.message
    assert (again.run_id, again.status, again.done) == (refused.run_id, "ok", len(expected))
    assert writes.hides == Counter(dict.fromkeys(expected, 1))
    assert hidden(on_tiktok(sandbox, "ad")) == hidden(before) | expected


# ---------------------------------------------------------------------------------------------
# Undo


@pytest.mark.parametrize("kind", KINDS)
def test_undo_unhides_exactly_what_the_run_hid_and_nothing_a_person_hid(sandbox, workspace,
                                                                        writes, kind):
    source = synced(sandbox, workspace, kind)
    start = on_tiktok(sandbox, kind)
    matched = with_links(start)
    spam_hidden_by_hand, *others = sorted(hideable(start, matched))
    plain_hidden_by_hand = min(c.comment_id for c in start.values()
                               if not c.own and not c.hidden and c.comment_id not in matched)
    person_sets_hidden(workspace, source, spam_hidden_by_hand, True)
    person_sets_hidden(workspace, source, plain_hidden_by_hand, True)
    before = on_tiktok(sandbox, kind)

    with workspace.store.cursor() as cur:
        stored = saved.save_text(cur, LINKS, by=ADMIN)
        run = runs.apply(cur, source, stored, asked_by=ADMIN, sleep=no_sleep)
        assert saved.last_undoable_run(cur, stored.rule_id, source.kind,
                                       source.account_id).run_id == run.run_id
        assert set(db.hits(cur, run.run_id)["comment_id"]) == set(others)
    seen_again, *rest = others  # a person shows one of them again before the undo
    person_sets_hidden(workspace, source, seen_again, False)
    unhides_before = Counter(writes.unhides)

    with workspace.store.cursor() as cur:
        undone = runs.undo(cur, source, run.run_id, asked_by=ADMIN, sleep=no_sleep)
        undo_hits = db.hits(cur, undone.run_id)
        original = db.hits(cur, run.run_id)
        rows = [r for r in outbox_rows(cur, source) if r["kind"] == "unhide"
                and r["actor"] == ADMIN]
        log = outbox.audit_log(cur, limit=10_000)

    assert hidden(on_tiktok(sandbox, kind)) == hidden(before)
    assert writes.unhides - unhides_before == Counter(dict.fromkeys(rest, 1))
    assert sum(writes.hides.values()) == len(others) + 2  # the run's, and the person's two
    assert (undone.mode, undone.undo_of, undone.status, undone.done) == (
        "undo", run.run_id, "ok", len(rest))
    states = dict(zip(undo_hits["comment_id"], undo_hits["state"], strict=True))
    assert states == {**dict.fromkeys(rest, "done"), seen_again: "skipped"}
    assert set(original.loc[original["comment_id"].isin(rest), "state"]) == {"undone"}
    assert sorted(r["comment_id"] for r in rows) == sorted(rest)
    assert {r["request_key"] for r in rows} == {f"rule-undo:{undone.run_id}:{c}" for c in rest}
    assert {r["status"] for r in rows} == {"sent"}
    assert f"run {undone.run_id} undoes run {run.run_id} of rule:links v1" in " ".join(
        log.loc[log["event"] == "rule_run_undo", "detail"])


@pytest.mark.parametrize("kind", KINDS)
def test_label_and_flag_rules_mark_without_writing_to_tiktok_and_undo_drops_the_marks(
        sandbox, workspace, writes, kind):
    source = synced(sandbox, workspace, kind)
    before = on_tiktok(sandbox, kind)
    linked = with_links(before)
    texts = {c.comment_id: (c.text, c.user_name) for c in before.values() if not c.own}
    verdicts = Classifier(brand_names(sandbox, kind)).classify_many(
        [t for t, _ in texts.values()], [n for _, n in texts.values()])
    questions = {c for c, labels in zip(texts, verdicts["labels"], strict=True)
                 if "question" in labels}
    assert linked and questions

    label = '[[rule]]\nname = "scam links"\nhas_link = true\naction = "label"\nlabel = "scam"\n'
    flag = '[[rule]]\nname = "questions"\nlabels = ["question"]\naction = "flag"\n'
    with workspace.store.cursor() as cur:
        stored = saved.take_in(cur, [rule(label), rule(flag)], by=ADMIN)
        applied = [runs.apply(cur, source, s, asked_by=ADMIN, sleep=no_sleep) for s in stored]
        marks = db.rule_marks(cur, sorted(texts))
        rows = outbox_rows(cur, source)
        undone = [runs.undo(cur, source, r.run_id, asked_by=ADMIN, sleep=no_sleep)
                  for r in applied]
        left = db.rule_marks(cur, sorted(texts))

    expected = {c: sorted(({"scam"} if c in linked else set())
                          | ({"flagged"} if c in questions else set()))
                for c in linked | questions}
    assert marks == expected
    assert [(r.status, r.done) for r in applied] == [("ok", len(linked)), ("ok", len(questions))]
    assert [(r.status, r.done) for r in undone] == [("ok", len(linked)), ("ok", len(questions))]
    assert left == {}
    assert writes.count() == 0 and rows == []
    assert on_tiktok(sandbox, kind) == before


# ---------------------------------------------------------------------------------------------
# After every sync


@pytest.mark.parametrize("kind", KINDS)
def test_an_enabled_rule_acts_only_on_comments_that_arrive_after_it_was_enabled(
        sandbox, workspace, writes, kind):
    source = synced(sandbox, workspace, kind)
    before = on_tiktok(sandbox, kind)
    assert hideable(before, with_links(before))  # the backlog has matches it leaves alone
    with workspace.store.cursor() as cur:
        stored = saved.save_text(cur, LINKS, by=ADMIN)
        db.set_rule_enabled(cur, stored.rule_id, True, by=ADMIN)  # for new comments only
    texts = [LINK_SPAM, "love this song", LINK_SPAM + " 2"]
    new = add_new_comments(sandbox, kind, texts if kind == "ad" else texts * 40)
    now = on_tiktok(sandbox, kind)
    expected = hideable(now, with_links({c: now[c] for c in new}))
    assert expected and new - expected

    outcome = sync_and_moderate(source)
    quiet = sync_and_moderate(source)  # nothing new: nothing to do

    assert outcome.status == "ok", outcome.summary()
    [run] = outcome.runs
    assert (run.mode, run.status, run.done, run.asked_by) == (
        "new", "ok", len(expected), "rule:links v1")
    assert f"Rules acted on {len(expected)} new comment" in outcome.summary()
    assert hidden(on_tiktok(sandbox, kind)) == hidden(now) | expected
    assert writes.hides == Counter(dict.fromkeys(expected, 1))
    assert quiet.status == "ok" and quiet.runs == ()
    assert sum(writes.hides.values()) == len(expected)


def test_a_refused_run_of_new_comments_is_retried_by_each_sync_without_holding_it_up(
        sandbox, workspace, writes):
    source = synced(sandbox, workspace, "ad")
    with workspace.store.cursor() as cur:
        stored = saved.save_text(cur, LINKS, by=ADMIN)
        db.set_rule_enabled(cur, stored.rule_id, True, by=ADMIN)
    new = add_new_comments(sandbox, "ad", [LINK_SPAM, LINK_SPAM + " 2"])
    source.sync()  # stored; the rule has not read them yet
    token = sandbox.issue_token()
    revoked = AdAccount(workspace, advertiser_id_of(sandbox), access_token=token)
    sandbox.revoke_token(token)  # every write is refused for as long as this lasts
    slept: list[float] = []

    with workspace.store.cursor() as cur:
        [refused] = runs.after_sync(cur, revoked, sleep=no_sleep)
        [again] = runs.after_sync(cur, revoked, sleep=slept.append)
        [settled] = runs.after_sync(cur, account(sandbox, workspace, "ad"), sleep=no_sleep)

    assert (refused.status, again.status) == ("partial", "partial")
    assert again.run_id == refused.run_id and sum(slept) <= runs.SETTLE_PAUSE
    assert (settled.run_id, settled.status, settled.done) == (refused.run_id, "ok", len(new))
    assert writes.hides == Counter(dict.fromkeys(new, 1))


def test_a_rule_whose_regex_runs_out_of_time_fails_alone_and_the_others_still_act(
        sandbox, workspace, writes):
    source = synced(sandbox, workspace, "ad")
    slow = '[[rule]]\nname = "slow"\nregex = "spam (a|aa)+$"\naction = "hide"\n'
    with workspace.store.cursor() as cur:
        for stored in saved.take_in(cur, [rule(slow), rule(LINKS)], by=ADMIN):
            db.set_rule_enabled(cur, stored.rule_id, True, by=ADMIN)
    stalling = add_new_comments(sandbox, "ad", ["spam " + "a" * 60 + "!"] * 3)
    [spam] = add_new_comments(sandbox, "ad", [LINK_SPAM])

    outcome = sync_and_moderate(source)

    runs_by_rule = {run.rule_name: run for run in outcome.runs}
    assert runs_by_rule["slow"].status == "failed"
    assert "regex ran past" in runs_by_rule["slow"].message
    assert (runs_by_rule["links"].status, runs_by_rule["links"].done) == ("ok", 1)
    assert outcome.status == "partial" and 'Rule "slow"' in outcome.summary()
    assert writes.hides == Counter({spam: 1})
    now = on_tiktok(sandbox, "ad")
    assert now[spam].hidden and not any(now[c].hidden for c in stalling)

    with workspace.store.cursor() as cur:  # and on the backlog: it fails, alone, as well
        stored = saved.stored_by_name(cur, "slow")
        failed = runs.apply(cur, source, stored, asked_by=ADMIN, sleep=no_sleep)
    assert (failed.status, failed.done) == ("failed", 0) and "regex ran past" in failed.message


def test_a_comment_a_person_showed_again_is_not_hidden_again_by_the_same_rule(
        sandbox, workspace, writes):
    source = synced(sandbox, workspace, "ad")
    with workspace.store.cursor() as cur:
        stored = saved.save_text(cur, LINKS, by=ADMIN)
        db.set_rule_enabled(cur, stored.rule_id, True, by=ADMIN)
    [spam] = add_new_comments(sandbox, "ad", [LINK_SPAM])
    first = sync_and_moderate(source)
    assert [run.done for run in first.runs] == [1] and on_tiktok(sandbox, "ad")[spam].hidden

    person_sets_hidden(workspace, source, spam, False)  # "this one is fine"
    [later] = add_new_comments(sandbox, "ad", [LINK_SPAM + " again"])
    second = sync_and_moderate(source, refresh=True)  # also reads the recent comments again
    shown = on_tiktok(sandbox, "ad")
    with workspace.store.cursor() as cur:  # the rule applied to the backlog as well
        backlog = runs.apply(cur, source, stored, asked_by=ADMIN, sleep=no_sleep)

    now = on_tiktok(sandbox, "ad")
    assert not now[spam].hidden and now[later].hidden
    assert [run.done for run in second.runs] == [1]
    older = hideable(shown, with_links(shown)) - {spam}
    assert older and (backlog.status, backlog.done) == ("ok", len(older))
    assert hidden(now) == hidden(shown) | older
    assert writes.hides[spam] == 1 and writes.hides[later] == 1
