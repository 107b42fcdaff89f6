"""Sign-in per person: the sign-in screen, roles checked by every page and every action on the
server, the Settings page where an admin gives and takes roles, and the audit log naming the
person (AppTest's `user` stands in for the identity provider; tests/e2e signs in through a real
one)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desk import outbox
from desk import store as db
from desk.people import NotAllowed, Person
from desk.sources import AdAccount
from desk.ui import handles, writes
from tests.pages.conftest import no_errors, open_page, page_context, plain, post_count
from tests.pages.test_comments import PAGE, replyable, send

BOSS, JO, VI, STRANGER = ("boss@brand.example", "jo@brand.example", "vi@agency.example",
                          "x@elsewhere.example")


@pytest.fixture(autouse=True)
def roles(monkeypatch):
    monkeypatch.setenv("DESK_ADMINS", BOSS)
    monkeypatch.setenv("DESK_RESPONDERS", "@brand.example")
    monkeypatch.setenv("DESK_VIEWERS", VI)


def errors_shown(at) -> str:
    return " ".join(plain(e.value) for e in at.error)


def test_nothing_shows_before_signing_in_with_the_identity_provider(synced):
    at = open_page(PAGE, query={"advertiser": synced["WRITER"]}, email=JO)
    at.user = {"is_logged_in": False}
    at.run()
    no_errors(at)
    assert at.button(key="signin_login").label == "Sign in"
    assert not at.checkbox and "Comments" not in [t.value for t in at.title]


def test_someone_without_a_role_is_refused_every_page(synced):
    for page in ("Home.py", PAGE, "pages/5_Notebook.py"):
        at = open_page(page, query={"advertiser": synced["WRITER"]}, email=STRANGER)
        no_errors(at)
        assert "x@elsewhere.example has no role in Comment Desk" in errors_shown(at)
        assert at.button(key="signin_logout")  # the way out


def test_a_viewer_reads_but_gets_no_buttons_and_a_forced_reply_is_refused(synced, store,
                                                                         sandbox, settings):
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id}, email=VI)
    no_errors(at)
    assert at.main.markdown and not [b for b in at.button if b.key and "reply" in b.key]
    assert not [b for b in at.button if b.key and b.key.startswith("comments_hide")]
    assert f"Signed in as {VI} (viewer)" in " ".join(plain(c.value) for c in at.sidebar.caption)
    comment_id = replyable(store, advertiser_id)
    row = db.comments_page(store.cursor(), db.CommentFilters(advertiser_id), 500, 0)
    row = next(r for r in row.to_dict("records") if r["comment_id"] == comment_id)
    # What a replayed widget message would make the page do: the write itself refuses.
    viewer = page_context(settings, advertiser_id, person=Person(VI, "viewer"))
    before = post_count(sandbox)
    with pytest.raises(NotAllowed, match="Only a responder or above may reply"):
        writes.send_reply(viewer, row, "sneaky", "replayed-key")
    with pytest.raises(NotAllowed):
        writes.set_hidden(viewer, [row], True)
    assert post_count(sandbox) == before
    assert outbox.audit_log(store.cursor()).empty


def test_a_responders_reply_carries_their_email_in_the_audit_log(synced, store):
    advertiser_id = synced["WRITER"]
    comment_id = replyable(store, advertiser_id)
    at = open_page(PAGE, query={"advertiser": advertiser_id, "type": "COMMENT"}, email=JO)
    at.selectbox(key="comments_type").select("Comments").run()
    send(at, comment_id, "Thanks, Jo here!")
    no_errors(at)
    log = outbox.audit_log(store.cursor())
    assert set(log["actor"]) == {JO}
    assert {"requested", "sent"} <= set(log["event"])
    [action] = db.query_records(store.cursor(), "SELECT actor, kind FROM analyst.actions")
    assert action == {"actor": JO, "kind": "reply"}
    insights = open_page("pages/4_Insights.py", query={"advertiser": advertiser_id}, email=VI)
    no_errors(insights)
    [table] = [d.value for d in insights.dataframe if "person" in d.value.columns]
    assert table[["person", "replies", "hidden"]].to_dict("records") == [
        {"person": JO, "replies": 1, "hidden": 0}]


def test_only_an_admin_opens_settings_and_a_role_change_applies_at_the_next_action(synced,
                                                                                    store):
    advertiser_id = synced["WRITER"]
    refused = open_page("pages/8_Settings.py", email=JO)
    assert "Only an admin or above may open the Settings page" in errors_shown(refused)

    jo = open_page(PAGE, query={"advertiser": advertiser_id}, email=JO)
    assert [b for b in jo.button if b.key and b.key.startswith("comments_reply_open")]

    admin = open_page("pages/8_Settings.py", email=BOSS)
    no_errors(admin)
    shown = admin.dataframe[0].value.set_index("pattern")["role"].to_dict()
    assert shown == {BOSS: "admin", "@brand.example": "responder", VI: "viewer"}
    admin.text_input(key="settings_who").input(JO)
    admin.selectbox(key="settings_role").select("viewer")
    admin.button(key="settings_save").click().run()
    no_errors(admin)
    assert "jo@brand.example is now a viewer" in plain(admin.toast[0].value)
    assert admin.dataframe[0].value.set_index("pattern")["role"].to_dict()[JO] == "viewer"

    jo.run()  # Jo's next action, in the same session: no restart
    no_errors(jo)
    assert not [b for b in jo.button if b.key and b.key.startswith("comments_reply_open")]
    [line] = db.query_records(store.cursor(), "SELECT actor, detail FROM audit_log "
                                              "WHERE event = 'role'")
    assert line == {"actor": BOSS, "detail": "jo@brand.example is now a viewer"}


def test_a_removed_person_is_refused_at_their_next_action(synced):
    advertiser_id = synced["WRITER"]
    vi = open_page(PAGE, query={"advertiser": advertiser_id}, email=VI)
    assert not errors_shown(vi) and vi.main.markdown

    admin = open_page("pages/8_Settings.py", email=BOSS)
    admin.text_input(key="settings_who").input(VI)
    admin.selectbox(key="settings_role").select("no role (remove)")
    admin.button(key="settings_save").click().run()
    vi.run()

    assert "vi@agency.example has no role in Comment Desk" in errors_shown(vi)
    assert not vi.checkbox


def test_the_last_admin_cannot_be_removed(synced):
    admin = open_page("pages/8_Settings.py", email=BOSS)
    admin.text_input(key="settings_who").input(BOSS)
    admin.selectbox(key="settings_role").select("responder")
    admin.button(key="settings_save").click().run()
    assert "is the only admin" in errors_shown(admin)


@pytest.mark.parametrize("now", ["responder", None])
def test_an_admin_demoted_after_the_page_was_drawn_cannot_change_automatic_sync(
        token, advertisers, store, sandbox, settings, now):
    advertiser_id = advertisers["WRITER"]
    at = open_page("pages/1_Advertisers.py", query={"advertiser": advertiser_id}, email=BOSS)
    no_errors(at)
    assert not at.toggle(key="advertisers_autosync").disabled  # drawn for an admin

    for who in ([BOSS] if now else [BOSS, "@brand.example"]):  # removed: no domain role either
        db.put_role(store.cursor(), who, now, "other-admin@brand.example")
    at.number_input(key="advertisers_autosync_minutes").set_value(30)
    at.toggle(key="advertisers_autosync").set_value(True).run()

    no_errors(at)
    signed_in = replace(settings, identity_provider=True)  # the settings the page has
    scheduler = handles.auto_sync_scheduler(signed_in, sandbox.base_url, sandbox.config.app_id,
                                            sandbox.config.secret)
    assert scheduler.status(f"{AdAccount.kind}:{advertiser_id}") is None
    if now == "responder":
        assert ("Only an admin or above may turn automatic sync on or off; boss@brand.example "
                "is a responder") in " ".join(plain(t.value) for t in at.toast)
        assert at.toggle(key="advertisers_autosync").value is False
        assert at.toggle(key="advertisers_autosync").disabled
        assert at.number_input(key="advertisers_autosync_minutes").value == 15  # undone too
    else:
        assert f"{BOSS} has no role in Comment Desk" in errors_shown(at)
        assert not at.toggle


def test_only_an_admin_connects_accounts(synced):
    jo = open_page("Home.py", email=JO)
    no_errors(jo)
    assert not jo.get("link_button") and not [b for b in jo.button
                                                if b.key and "disconnect" in b.key]
    boss = open_page("Home.py", email=BOSS)
    assert [b.label for b in boss.get("link_button")][0] == "Connect a TikTok ad account"


def test_signing_out_ends_the_session(synced):
    at = open_page(PAGE, query={"advertiser": synced["WRITER"]}, email=JO)
    at.button(key="signin_logout").click().run()
    assert at.user == {"is_logged_in": False}
    at.run()  # where the browser goes once the sign-out has cleared its cookie
    no_errors(at)
    assert at.button(key="signin_login")
    assert not at.checkbox


def test_a_saved_notebook_says_who_saved_it(synced, store):
    at = open_page("pages/5_Notebook.py", email=VI)
    at.text_input(key="notebook_name").input("vi's notes").run()
    at.button(key="notebook_save").click().run()
    no_errors(at)
    [row] = db.query_records(store.cursor(), "SELECT name, saved_by FROM notebooks")
    assert row == {"name": "vi's notes", "saved_by": VI}
