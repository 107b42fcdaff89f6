"""The Blocked words page, in AppTest against the demo sandbox: an admin reads, pages, adds,
removes, checks and pushes a keyword rule, verified against the sandbox's own list; a viewer
reads and checks but changes nothing, however the request comes; errors in the app's words;
the comments TikTok hid, shown as plain text."""

from __future__ import annotations

import pytest

from desk import outbox, people
from desk import store as db
from desk.moderation import blocked, saved
from desk.moderation.rules import parse_rules
from desk.people import NotAllowed, Person
from desk.sources import AdAccount
from tests.pages.conftest import no_errors, open_page, page_context, plain
from tiktok_client.client import TikTokClient

PAGE = "pages/10_Blocked_words.py"
BOSS, VI = "boss@brand.example", "vi@agency.example"


@pytest.fixture
def roles(monkeypatch):
    monkeypatch.setenv("DESK_ADMINS", BOSS)
    monkeypatch.setenv("DESK_VIEWERS", VI)


def toasts(at) -> str:
    return " ".join(plain(t.value) for t in at.toast)


def errors(at) -> str:
    return " ".join(plain(e.value) for e in at.error)


def words_shown(at) -> list[str]:
    table = next(d for d in at.dataframe if "word" in d.value.columns
                 and list(d.value.columns) == ["word"])
    return list(table.value["word"])


def head(at) -> str:
    """The line above the list: how many words, which are shown."""
    return plain(at.main.markdown[0].value).replace("**", "")


def open_blocked(advertiser_id: str, email: str | None = None):
    at = open_page(PAGE, query={"advertiser": advertiser_id}, email=email)
    no_errors(at)
    return at


def add(at, lines: str):
    at.text_area(key="blocked_add_text").input(lines)
    return at.button(key="blocked_add").click().run()


def test_an_admin_adds_removes_checks_and_pushes_against_the_sandbox(token, advertisers,
                                                                     sandbox, store):
    advertiser_id = advertisers["WRITER"]
    saved.save(store.cursor(), parse_rules(
        '[[rule]]\nname = "giveaways"\nkeywords = ["giveaway", "free iphone"]\n'
        'action = "hide"\n')[0], by="local user")
    at = open_blocked(advertiser_id)
    assert "only ad accounts have one" in plain(at.caption[0].value)
    assert head(at) == "0 words"

    add(at, "dm me\n\nscam\n  Scam \nfree money")
    no_errors(at)
    assert sorted(sandbox.blocked_words(advertiser_id)) == ["dm me", "free money", "scam"]
    assert "3 words on the blocked-word list on TikTok." in toasts(at)
    assert sorted(words_shown(at)) == ["dm me", "free money", "scam"]

    at.multiselect(key="blocked_remove_words").select("scam").select("dm me")
    at.button(key="blocked_remove").click().run()
    no_errors(at)
    assert sandbox.blocked_words(advertiser_id) == ["free money"]
    assert "2 words taken off the blocked-word list on TikTok." in toasts(at)

    at.text_input(key="blocked_check_word").input(" Free Money ")
    at.button(key="blocked_check").click().run()
    assert [plain(s.value) for s in at.success] == ['"Free Money" is on the blocked-word list.']
    at.text_input(key="blocked_check_word").input("scam")
    at.button(key="blocked_check").click().run()
    assert '"scam" is not on the blocked-word list.' in [plain(i.value) for i in at.info]

    assert at.selectbox(key="blocked_rule").value is not None
    at.button(key="blocked_push").click().run()
    no_errors(at)
    assert sorted(sandbox.blocked_words(advertiser_id)) == [
        "free iphone", "free money", "giveaway"]

    changes = next(d.value for d in at.dataframe if "change" in d.value.columns)
    rows = changes[["change", "word", "status"]].values.tolist()
    assert sorted(rows[:2]) == [["add", "free iphone", "sent"], ["add", "giveaway", "sent"]]
    assert sorted(rows[2:4]) == [["remove", "dm me", "sent"], ["remove", "scam", "sent"]]
    assert sorted(rows[4:]) == [["add", "dm me", "sent"], ["add", "free money", "sent"],
                                ["add", "scam", "sent"]]  # newest first
    assert set(changes["actor"]) == {people.LOCAL_USER}
    assert sandbox.stats()["by_path"]["/open_api/v1.3/blockedword/create/"] == 2


def test_the_whole_list_is_paged_through(token, advertisers, sandbox):
    advertiser_id = advertisers["WRITER"]
    client = TikTokClient(token, base_url=sandbox.base_url)
    words = [f"word {n:03d}" for n in range(230)]
    client.blocked_words.add(advertiser_id, words)

    at = open_blocked(advertiser_id)
    assert head(at) == "230 words · showing 1–100"
    [pager] = at.get("pagination")
    assert pager.num_pages == 3
    pager.set_value(3).run()
    no_errors(at)
    assert head(at) == "230 words · showing 201–230"
    assert sorted(words_shown(at)) == sorted(sandbox.blocked_words(advertiser_id)[200:])
    assert at.multiselect(key="blocked_remove_words").options == words_shown(at)


def test_a_viewer_reads_and_checks_but_cannot_change_anything(roles, token, advertisers,
                                                              sandbox, settings):
    advertiser_id = advertisers["WRITER"]
    TikTokClient(token, base_url=sandbox.base_url).blocked_words.add(advertiser_id, ["spam"])
    at = open_blocked(advertiser_id, email=VI)
    assert words_shown(at) == ["spam"]
    for key in ("blocked_add", "blocked_remove", "blocked_push", "blocked_retry"):
        assert not [b for b in at.button if b.key == key]
    assert "Only an admin can change the list." in [plain(c.value) for c in at.caption]
    at.text_input(key="blocked_check_word").input("spam")
    at.button(key="blocked_check").click().run()
    assert [plain(s.value) for s in at.success] == ['"spam" is on the blocked-word list.']

    # What a replayed request would make the page do: the change itself refuses, on the server.
    viewer = page_context(settings, advertiser_id, person=Person(VI, "viewer"))
    before = sandbox.stats()["total"]
    with AdAccount(viewer.workspace, advertiser_id).writer() as writer, \
            viewer.store.cursor() as cur:
        with pytest.raises(NotAllowed, match="Only an admin or above may change the blocked"):
            blocked.add_words(cur, writer, ["scam"], person=viewer.person, request_key="k")
        with pytest.raises(NotAllowed):
            blocked.remove_words(cur, writer, ["spam"], person=viewer.person, request_key="k")
    assert sandbox.stats()["total"] == before
    assert sandbox.blocked_words(advertiser_id) == ["spam"]
    assert outbox.audit_log(viewer.store.cursor()).empty


def test_an_admin_demoted_meanwhile_changes_nothing_from_a_page_left_open(roles, token,
                                                                         advertisers, sandbox,
                                                                         store):
    advertiser_id = advertisers["WRITER"]
    boss = open_blocked(advertiser_id, email=BOSS)
    assert boss.button(key="blocked_add")
    people.set_role(store.cursor(), Person(BOSS, "admin"), VI, "admin")  # someone stays admin
    people.set_role(store.cursor(), Person(VI, "admin"), BOSS, "viewer")

    add(boss, "spam")
    no_errors(boss)
    assert sandbox.blocked_words(advertiser_id) == []
    assert not [b for b in boss.button if b.key == "blocked_add"]
    assert db.query_records(store.cursor(), "SELECT * FROM outbox") == []


def test_refusals_and_failures_are_shown_in_the_apps_words(token, advertisers, sandbox, store):
    read_only = advertisers["READ_ONLY"]
    at = open_blocked(read_only)
    add(at, "spam")
    no_errors(at)
    assert "permission to read or change the ad account's blocked-word list" in toasts(at)
    assert sandbox.blocked_words(read_only) == []
    changes = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert changes["status"].tolist() == ["failed"]
    assert at.button(key="blocked_retry")

    add(at, "")
    assert "Write at least one word first." in errors(at)

    saved.save(store.cursor(), parse_rules(
        '[[rule]]\nname = "links"\nkeywords = ["scam"]\nhas_link = true\naction = "hide"\n'
    )[0], by="local user")
    at = open_blocked(advertisers["WRITER"])
    assert "also needs has_link" in plain(at.warning[0].value)
    assert at.button(key="blocked_push").disabled


def test_the_comments_tiktok_hid_are_listed_as_plain_text(token, advertisers, sandbox, sync):
    advertiser_id = advertisers["WRITER"]
    TikTokClient(token, base_url=sandbox.base_url).blocked_words.add(advertiser_id, ["dm me"])
    hostile = "**DM me** <b>now</b> [x](javascript:alert(1))"
    hidden = sandbox.add_comment(hostile, advertiser_id)
    sync("WRITER")

    at = open_blocked(advertiser_id)
    table = next(d.value for d in at.dataframe if "content" in d.value.columns)
    row = table.set_index("comment_id").loc[hidden]
    assert row["content"] == hostile
    assert not any("javascript" in m.value for m in at.markdown)
    shown = [plain(c.value) for c in at.caption]
    assert any(c.startswith(f"{len(table)} comment") for c in shown)
