"""The Rules page: reading rules as anyone, writing, checking and saving them as an admin, a dry
run that finds what the engine finds, applying a rule to an account's backlog (the sandbox
hides exactly the matched comments) and undoing it, turning a rule on for new comments, and
the background classification of the stored comments."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pandas as pd
import pytest

from desk import people
from desk import store as db
from desk.moderation import runs, saved
from desk.moderation.classify import CLASSIFIER_VERSION
from desk.people import NotAllowed, Person
from desk.sources import AdAccount, TikTokAccount
from desk.store import Store
from desk.store.rules import RuleRun
from desk.tasks import Tasks
from desk.ui import handles
from desk.ui import rules as rules_ui
from tests.pages.conftest import (
    app_scheduler,
    no_errors,
    open_page,
    page_context,
    plain,
    sandbox_comments,
    seed_hostile,
)
from tests.pages.test_organic_pages import account as account  # noqa: F401 (the fixtures)
from tests.pages.test_organic_pages import client as client  # noqa: F401
from tests.pages.test_organic_pages import keeper as keeper  # noqa: F401
from tests.pages.test_organic_pages import organic as organic  # noqa: F401
from tests.pages.test_organic_pages import organic_truth

PAGE = "pages/9_Rules.py"
BOSS, JO, VI = "boss@brand.example", "jo@brand.example", "vi@agency.example"
LINKS = '[[rule]]\nname = "links"\nhas_link = true\naction = "hide"\n'
SMALL_WORLD = {
    "DESK_SANDBOX_ADVERTISERS": "2",
    "DESK_SANDBOX_ADS": "8",
    "DESK_SANDBOX_COMMENTS": "400",
    "DESK_SANDBOX_VIDEOS_PER_ACCOUNT": "2",
    "DESK_SANDBOX_ORGANIC_COMMENTS": "100",
}


@pytest.fixture(autouse=True)
def small_world(demo_env, monkeypatch):
    """A smaller sandbox than the other page tests need: rules read every stored comment."""
    for name, value in SMALL_WORLD.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def roles(monkeypatch):
    """Boss is an admin and Vi a viewer (set before the database opens, which seeds them)."""
    monkeypatch.setenv("DESK_ADMINS", f"{BOSS},{JO}")
    monkeypatch.setenv("DESK_VIEWERS", VI)


def wait_for(runner: Tasks, key: str, timeout: float = 60):
    """The task's state once it has ended."""
    deadline = time.monotonic() + timeout
    while (state := runner.state(key)) is None or state.running:
        assert time.monotonic() < deadline, f"the task {key} did not end"
        time.sleep(0.05)
    return state


def errors_shown(at) -> str:
    return " ".join(plain(e.value) for e in at.error)


def saved_rule(store: Store, text: str = LINKS, by: str = BOSS):
    with store.cursor() as cur:
        return saved.save_text(cur, text, by=by)


def kept_run(store: Store):
    """A stand-in run (as a replayed undo would name it)."""
    return RuleRun(1, 1, "links", 1, "backlog", None, "ad", "1", BOSS, "ok",
                   datetime.now(UTC), None, 1, 1, 0, None)


def table(at, column: str) -> pd.DataFrame:
    """The page's first table with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def click(at, key: str):
    at.button(key=key).click().run()
    no_errors(at)
    return at


def statuses(sandbox, advertiser_id: str) -> dict[str, str]:
    truth = sandbox_comments(sandbox, advertiser_id)
    return dict(zip(truth["comment_id"], truth["comment_status"], strict=True))


def test_a_viewer_reads_the_rules_and_every_change_is_refused_on_the_server(
        roles, synced, store, settings):
    kept = saved_rule(store)
    at = open_page(PAGE, query={"advertiser": synced["WRITER"]}, email=VI)
    no_errors(at)
    overview = table(at, "description")
    assert overview[["name", "enabled", "version"]].to_dict("records") == [
        {"name": "links", "enabled": False, "version": 1}]
    assert overview["description"][0] == "When a comment has a link: hide it."
    for key in ("rules_save", "rules_delete", "rules_dry_run", "rules_enable",
                "rules_enable_apply"):
        assert at.button(key=key).disabled, key
    assert at.text_area(key="rules_editor").disabled

    # An admin made a viewer after the page was drawn: the click changes nothing.
    jo = open_page(PAGE, query={"advertiser": synced["WRITER"]}, email=JO)
    jo.text_area(key="rules_editor").set_value(LINKS.replace("hide", "flag"))
    with store.cursor() as cur:
        people.set_role(cur, Person(BOSS, "admin"), JO, "viewer")
    jo.button(key="rules_save").click().run()
    no_errors(jo)
    assert jo.button(key="rules_save").disabled and jo.button(key="rules_enable").disabled
    with store.cursor() as cur:
        assert [(r.version, r.enabled) for r in db.list_rules(cur)] == [(1, False)]
        assert db.rule_runs(cur, kept.rule_id).empty
    assert app_scheduler().tasks.state(rules_ui.dry_run_key(
        kept.rule_id, AdAccount(page_context(settings, None).workspace, synced["WRITER"]))) is None

    viewer = page_context(settings, synced["WRITER"], person=Person(VI, "viewer"))
    account = AdAccount(viewer.workspace, synced["WRITER"])
    for action in (lambda: rules_ui.set_enabled(viewer, kept.rule_id, True),
                   lambda: rules_ui.start_apply(viewer, kept, account),
                   lambda: rules_ui.start_dry_run(viewer, kept, account),
                   lambda: rules_ui.start_undo(viewer, kept_run(store)),
                   lambda: rules_ui.save(viewer, LINKS, kept.rule_id, 1),
                   lambda: rules_ui.delete(viewer, kept.rule_id)):
        with pytest.raises(NotAllowed):
            action()
    with store.cursor() as cur:
        assert [(r.version, r.enabled) for r in db.list_rules(cur)] == [(1, False)]


def test_an_admin_saves_a_rule_and_an_invalid_regex_is_refused_with_its_reason(store):
    at = open_page(PAGE)
    no_errors(at)
    assert at.selectbox(key="rules_chosen").value == 0  # no rules yet: a new one
    assert '[[rule]]\nname = "scam links"' in at.text_area(key="rules_editor").value

    at.text_area(key="rules_editor").set_value(
        '[[rule]]\nname = "chat apps"\nregex = "(whats ?app"\naction = "hide"\n')
    click(at, "rules_check")
    assert "Not valid: rule 1 (\"chat apps\"): regex is not valid: missing )" in errors_shown(at)
    click(at, "rules_save")
    assert "Not saved: rule 1 (\"chat apps\"): regex is not valid" in errors_shown(at)
    with store.cursor() as cur:
        assert db.list_rules(cur) == []

    good = '[[rule]]\nname = "chat apps"\nregex = "\\\\b(whats ?app|telegram)\\\\b"\n' \
           'action = "flag"\n'
    at.text_area(key="rules_editor").set_value(good)
    click(at, "rules_check")
    assert "When a comment matches /\\b(whats ?app|telegram)\\b/: flag it for review." in [
        plain(s.value) for s in at.success]
    click(at, "rules_save")
    assert '"chat apps" saved as version 1.' in [plain(t.value) for t in at.toast]
    with store.cursor() as cur:
        [kept] = db.list_rules(cur)
    assert (kept.name, kept.version, kept.enabled, kept.changed_by) == (
        "chat apps", 1, False, "local user")
    assert at.selectbox(key="rules_chosen").value == kept.rule_id

    click(at, "rules_save")  # nothing changed: no new version
    assert "No change" in " ".join(plain(t.value) for t in at.toast)
    at.text_area(key="rules_editor").set_value(good.replace("flag", "hide"))
    click(at, "rules_save")
    with store.cursor() as cur:
        assert db.get_rule(cur, kept.rule_id).version == 2
        log = db.query_records(cur, "SELECT actor, event FROM audit_log "
                                    "WHERE event = 'rule_saved' ORDER BY logged_at")
    assert log == [{"actor": "local user", "event": "rule_saved"}] * 2

    click(at, "rules_delete")
    click(at, "rules_delete_confirm")
    with store.cursor() as cur:
        assert db.list_rules(cur) == []


def test_a_dry_run_shows_what_the_engine_finds_in_the_stored_comments(synced, store, settings):
    advertiser_id = synced["WRITER"]
    kept = saved_rule(store)
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    no_errors(at)
    assert at.selectbox(key="rules_account").value == f"ad:{advertiser_id}"
    click(at, "rules_dry_run")
    account = AdAccount(page_context(settings, advertiser_id).workspace, advertiser_id)
    wait_for(app_scheduler().tasks, rules_ui.dry_run_key(kept.rule_id, account))
    at.run()
    no_errors(at)

    with store.cursor() as cur:
        direct = runs.dry_run(cur, account, runs.rule_of(kept))
    assert direct.matched > 3 and 0 < direct.would_act < direct.matched  # some are hidden
    shown = {m.label: m.value for m in at.metric}
    assert shown == {"Comments read": f"{direct.scanned:,}", "Matched": f"{direct.matched:,}",
                     "Would act on": f"{direct.would_act:,}"}
    examples = table(at, "user_name")
    assert set(examples["comment_id"]) == set(direct.examples()["comment_id"].astype(str))
    assert examples["content"].map(type).eq(str).all()
    by_place = table(at, "would_act")
    assert by_place["matched"].sum() == direct.matched
    assert by_place.to_dict("records") == direct.by_place().to_dict("records")
    assert table(at, "label").to_dict("records") == \
        direct.by_label().to_dict("records")


def test_applying_to_the_backlog_hides_the_matches_on_tiktok_and_undo_restores_them(
        synced, store, sandbox, settings):
    advertiser_id = synced["WRITER"]
    kept = saved_rule(store)
    account = AdAccount(page_context(settings, advertiser_id).workspace, advertiser_id)
    with store.cursor() as cur:
        planned = runs.dry_run(cur, account, runs.rule_of(kept)).matches
    to_hide = set(planned.loc[planned["acts"], "comment_id"].astype(str))
    before = statuses(sandbox, advertiser_id)
    assert to_hide and all(before[c] == "PUBLIC" for c in to_hide)

    at = open_page(PAGE, query={"advertiser": advertiser_id})
    click(at, "rules_enable_apply")
    wait_for(app_scheduler().tasks, rules_ui.run_key(kept.rule_id, account))
    at.run()
    no_errors(at)
    after = statuses(sandbox, advertiser_id)
    assert {c for c, s in after.items() if s != before[c]} == to_hide
    assert all(after[c] == "HIDDEN" for c in to_hide)
    assert [plain(s.value) for s in at.success] == [
        f"Run 1 acted on {len(to_hide)} of {len(to_hide)} comments."]
    with store.cursor() as cur:
        assert db.get_rule(cur, kept.rule_id).enabled

    shown_runs = table(at, "asked_by")
    assert shown_runs[["run_id", "mode", "asked_by", "status", "matched", "done"]].to_dict(
        "records") == [{"run_id": 1, "mode": "Backlog", "asked_by": "local user",
                        "status": "ok", "matched": len(to_hide), "done": len(to_hide)}]
    with store.cursor() as cur:  # the writes name the rule and its version
        writers = db.query_records(cur, "SELECT DISTINCT actor FROM audit_log "
                                        "WHERE action_id IS NOT NULL")
    assert writers == [{"actor": "rule:links v1"}]

    assert at.selectbox(key="rules_undo_run").value == 1
    click(at, "rules_undo")
    wait_for(app_scheduler().tasks, rules_ui.undo_key(1))
    at.run()
    no_errors(at)
    assert statuses(sandbox, advertiser_id) == before
    assert f"Run 2 gave back {len(to_hide)} of {len(to_hide)} comments." in [
        plain(s.value) for s in at.success]
    shown_runs = table(at, "asked_by")
    assert shown_runs[["run_id", "mode", "asked_by", "status"]].to_dict("records") == [
        {"run_id": 2, "mode": "Undo", "asked_by": "local user", "status": "ok"},
        {"run_id": 1, "mode": "Backlog", "asked_by": "local user", "status": "ok"}]
    assert "rules_undo_run" not in [s.key for s in at.selectbox]  # nothing left to undo
    with store.cursor() as cur:
        undo_events = db.query_records(cur, "SELECT actor FROM audit_log "
                                            "WHERE event = 'rule_run_undo'")
    assert undo_events == [{"actor": "local user"}]


def test_a_rule_turned_on_hides_the_new_comments_a_sync_brings(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    kept = saved_rule(store)
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    click(at, "rules_enable")
    assert '"links" is on for new comments.' in [plain(t.value) for t in at.toast]
    assert at.button(key="rules_disable")
    with store.cursor() as cur:
        assert db.get_rule(cur, kept.rule_id).enabled
        assert db.query_records(cur, "SELECT actor FROM audit_log WHERE event = "
                                     "'rule_enabled'") == [{"actor": "local user"}]

    before = statuses(sandbox, advertiser_id)
    spam = sandbox.add_comment("cheap followers at www.spam-shop.example", advertiser_id)
    plain_one = sandbox.add_comment("love these, what size do you wear?", advertiser_id)
    scheduler = app_scheduler()
    scheduler.run_now(f"ad:{advertiser_id}")
    wait_for(scheduler.tasks, f"ad:{advertiser_id}")
    after = statuses(sandbox, advertiser_id)
    assert (after[spam], after[plain_one]) == ("HIDDEN", "PUBLIC")
    assert all(after[c] == s for c, s in before.items())  # only the new comment: not the backlog

    at.run()
    shown_runs = table(at, "asked_by")
    assert shown_runs[["mode", "asked_by", "matched", "done"]].to_dict("records") == [
        {"mode": "New comments", "asked_by": "rule:links v1", "matched": 1, "done": 1}]

    click(at, "rules_disable")
    with store.cursor() as cur:
        assert not db.get_rule(cur, kept.rule_id).enabled


def test_the_stored_comments_are_classified_in_the_background_with_a_notice(synced, store):
    with store.cursor() as cur:
        waiting = db.unclassified_count(cur, CLASSIFIER_VERSION)
    assert waiting > 0  # the comments the test synced, without the app's classifier
    at = open_page(PAGE)
    no_errors(at)
    assert f"{waiting:,} comments await classification" in " ".join(
        plain(c.value) for c in at.caption)
    click(at, "rules_classify")
    state = wait_for(handles.store_tasks(store.path), handles.CLASSIFY_BACKLOG)
    assert state.error is None and state.result == waiting
    at.run()
    no_errors(at)
    assert "await classification" not in " ".join(plain(c.value) for c in at.caption)
    with store.cursor() as cur:
        assert db.unclassified_count(cur, CLASSIFIER_VERSION) == 0


def test_a_store_opened_with_comments_to_classify_classifies_them_at_once(settings):
    with Store.open(settings.db_path) as earlier:  # what an older version of the app stored
        rows = seed_hostile(earlier)
    store = handles.store_for(settings)  # the app opens its database
    state = wait_for(handles.store_tasks(store.path), handles.CLASSIFY_BACKLOG)
    assert state.error is None and state.result == len(rows)
    with store.cursor() as cur:
        assert db.unclassified_count(cur, CLASSIFIER_VERSION) == 0
        verdicts = db.query_frame(cur, "SELECT classified_with FROM comments")
    assert verdicts["classified_with"].eq(CLASSIFIER_VERSION).all()


def test_a_tiktok_accounts_organic_comments_are_hidden_and_given_back_the_same_way(
        organic, store, sandbox, settings):
    kept = saved_rule(store, '[[rule]]\nname = "words"\nkeywords = ["my", "song"]\n'
                             'scope = { source = "organic" }\naction = "hide"\n')
    account = TikTokAccount(page_context(settings, None, organic).workspace, organic)
    with store.cursor() as cur:
        planned = runs.dry_run(cur, account, runs.rule_of(kept)).matches
    to_hide = set(planned.loc[planned["acts"], "comment_id"].astype(str))
    truth = organic_truth(sandbox, organic)
    before = dict(zip(truth["comment_id"], truth["status"], strict=True))
    assert to_hide

    at = open_page(PAGE, query={"account": organic})
    assert at.selectbox(key="rules_account").value == f"organic:{organic}"
    click(at, "rules_enable_apply")
    wait_for(app_scheduler().tasks, rules_ui.run_key(kept.rule_id, account))
    truth = organic_truth(sandbox, organic)
    after = dict(zip(truth["comment_id"], truth["status"], strict=True))
    assert {c for c, s in after.items() if s != before[c]} == to_hide

    at.run()
    no_errors(at)
    assert table(at, "asked_by")["account"].tolist() == [
        rules_ui.accounts(page_context(settings, None, organic))[f"organic:{organic}"]]
    click(at, "rules_undo")
    wait_for(app_scheduler().tasks, rules_ui.undo_key(1))
    truth = organic_truth(sandbox, organic)
    assert dict(zip(truth["comment_id"], truth["status"], strict=True)) == before


def test_a_backlog_run_is_refused_while_the_account_syncs(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    kept = saved_rule(store)
    before = statuses(sandbox, advertiser_id)
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    with app_scheduler().syncing(f"ad:{advertiser_id}"):  # a sync of the account is running
        click(at, "rules_enable_apply")
    assert "This ad account is syncing, or a rule is acting on it, right now" in errors_shown(at)
    with store.cursor() as cur:
        assert not db.get_rule(cur, kept.rule_id).enabled
        assert db.rule_runs(cur, kept.rule_id).empty
    assert statuses(sandbox, advertiser_id) == before
