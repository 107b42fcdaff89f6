"""The Saved replies page and saved replies in the reply box: a responder adds, changes and
deletes templates of the chosen account; on the Comments page a saved reply (chosen, or typed
as /shortcut) is filled in for the comment, lands once at the sandbox and counts one use; one
too long once filled in is refused before anything is sent."""

from __future__ import annotations

import pandas as pd
import pytest

from desk import people, replies
from desk import store as db
from desk.people import Person
from tests.pages.conftest import (
    no_errors,
    open_page,
    plain,
    post_count,
    sandbox_comments,
)
from tests.pages.test_comments import replyable
from tests.pages.test_organic_pages import account as account  # noqa: F401 (the fixtures)
from tests.pages.test_organic_pages import client as client  # noqa: F401
from tests.pages.test_organic_pages import first_organic, organic_truth
from tests.pages.test_organic_pages import keeper as keeper  # noqa: F401
from tests.pages.test_organic_pages import organic as organic  # noqa: F401

PAGE = "pages/3_Saved_replies.py"
COMMENTS = "pages/3_Comments.py"
BOSS, JO, VI = "boss@brand.example", "jo@brand.example", "vi@agency.example"
THANKS = "Thanks {user_name}, glad you like {ad_name}!"


@pytest.fixture(autouse=True)
def roles(monkeypatch):
    """Boss is an admin, everyone at brand.example a responder, Vi a viewer."""
    monkeypatch.setenv("DESK_ADMINS", BOSS)
    monkeypatch.setenv("DESK_RESPONDERS", "@brand.example")
    monkeypatch.setenv("DESK_VIEWERS", VI)


def errors_shown(at) -> str:
    return " ".join(plain(e.value) for e in at.error)


def saved(store, kind: str, account_id: str) -> dict[str, db.SavedReply]:
    return {s.name: s for s in db.list_saved_replies(store.cursor(), kind, account_id)}


def fill_form(at, name: str, body: str, shortcut: str = ""):
    at.text_input(key="saved_replies_name").set_value(name)
    at.text_input(key="saved_replies_shortcut").set_value(shortcut)
    at.text_area(key="saved_replies_body").set_value(body)
    at.button(key="saved_replies_save").click().run()
    no_errors(at)
    return at


def row_of(store, advertiser_id: str, comment_id: str) -> dict:
    page = db.comments_page(store.cursor(), db.CommentFilters(advertiser_id), 100_000)
    return next(r for r in page.to_dict("records") if r["comment_id"] == comment_id)


def open_box(at, comment_id: str):
    at.selectbox(key="comments_type").select("Comments").run()
    at.button(key=f"comments_reply_open_{comment_id}").click().run()
    no_errors(at)
    return at


def posted_replies(sandbox, advertiser_id: str, comment_id: str) -> pd.DataFrame:
    truth = sandbox_comments(sandbox, advertiser_id)
    return truth.loc[truth["original_comment_id"] == comment_id]


def test_a_saved_reply_made_on_the_page_is_sent_from_a_reply_box_once(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id}, email=JO)
    no_errors(at)
    assert "No saved replies for this account yet" in " ".join(i.value for i in at.info)
    fill_form(at, "Thanks", THANKS, "/thx")
    thanks = saved(store, "ad", advertiser_id)["Thanks"]
    assert (thanks.shortcut, thanks.body, thanks.uses) == ("thx", THANKS, 0)
    assert (thanks.created_by, thanks.updated_by) == (JO, JO)
    [table] = at.dataframe
    assert table.value[["name", "shortcut", "body", "uses"]].to_dict("records") == [
        {"name": "Thanks", "shortcut": "/thx", "body": THANKS, "uses": 0}]

    comment_id = replyable(store, advertiser_id)
    row = row_of(store, advertiser_id, comment_id)
    expected = replies.fill(THANKS, row)
    assert row["user_name"] and row["ad_name"] and expected != THANKS
    at.switch_page(COMMENTS).run()
    open_box(at, comment_id)
    picker = at.selectbox(key=f"comments_template_{comment_id}")
    assert picker.options == [
        "None: write the reply", "Thanks · /thx"]
    picker.set_value(thanks.reply_id).run()
    no_errors(at)
    box = at.text_area(key=f"comments_reply_text_{comment_id}")
    assert box.value == expected
    assert any(c.value.startswith(f"{len(expected)}/1200 characters") for c in at.main.caption)
    at.button(key=f"comments_reply_send_{comment_id}").click().run()
    no_errors(at)

    posted = posted_replies(sandbox, advertiser_id, comment_id)
    assert posted["content"].tolist() == [expected]
    assert post_count(sandbox) == 1
    assert saved(store, "ad", advertiser_id)["Thanks"].uses == 1
    assert "The reply is posted on TikTok" in plain(at.toast[0].value)
    at.run()  # a rerun neither sends nor counts again
    assert post_count(sandbox) == 1
    assert saved(store, "ad", advertiser_id)["Thanks"].uses == 1
    at.switch_page(PAGE).run()
    assert at.dataframe[0].value["uses"].tolist() == [1]


def test_typing_the_shortcut_alone_sends_the_saved_reply_filled_in(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    with store.cursor() as cur:
        reply_id = db.create_saved_reply(cur, "ad", advertiser_id, name="Thanks", body=THANKS,
                                         shortcut="thx", by=BOSS)
    comment_id = replyable(store, advertiser_id)
    expected = replies.fill(THANKS, row_of(store, advertiser_id, comment_id))
    at = open_box(open_page(COMMENTS, query={"advertiser": advertiser_id}, email=JO),
                  comment_id)
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value("/THX ")
    at.button(key=f"comments_reply_send_{comment_id}").click().run()
    no_errors(at)
    assert posted_replies(sandbox, advertiser_id, comment_id)["content"].tolist() == [expected]
    assert post_count(sandbox) == 1
    assert db.get_saved_reply(store.cursor(), reply_id).uses == 1
    log = db.query_records(store.cursor(), "SELECT text, actor FROM outbox")
    assert log == [{"text": expected, "actor": JO}]


def test_an_unknown_shortcut_is_refused_and_nothing_is_sent(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    comment_id = replyable(store, advertiser_id)
    at = open_box(open_page(COMMENTS, query={"advertiser": advertiser_id}), comment_id)
    assert any("No saved replies for this account yet" in c.value for c in at.main.caption)
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value("/nope")
    at.button(key=f"comments_reply_send_{comment_id}").click().run()
    no_errors(at)
    assert "No saved reply of this ad account has the shortcut /nope" in errors_shown(at)
    assert post_count(sandbox) == 0


def test_a_saved_reply_too_long_once_filled_in_is_refused_before_sending(synced, store,
                                                                         sandbox):
    advertiser_id = synced["WRITER"]
    comment_id = replyable(store, advertiser_id)
    name = row_of(store, advertiser_id, comment_id)["user_name"]
    body = "{user_name}" + "x" * (1201 - len(name))  # 1,201 characters for this commenter
    assert replies.fixed_length(body) <= 1200  # short enough to be saved
    at = open_page(PAGE, query={"advertiser": advertiser_id}, email=JO)
    fill_form(at, "Long one", body, "long")
    long = saved(store, "ad", advertiser_id)["Long one"]

    at.switch_page(COMMENTS).run()
    open_box(at, comment_id)
    at.selectbox(key=f"comments_template_{comment_id}").set_value(long.reply_id).run()
    no_errors(at)
    shown = errors_shown(at)
    assert "The saved reply “Long one” is 1,201 characters long once filled in" in shown
    assert "TikTok takes at most 1,200" in shown and "Nothing was sent" in shown
    assert at.text_area(key=f"comments_reply_text_{comment_id}").value == ""  # not cut short
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value("my own words")
    at.button(key=f"comments_reply_send_{comment_id}").click().run()  # still chosen: refused
    no_errors(at)
    assert "“Long one” is 1,201 characters" in errors_shown(at)

    at.selectbox(key=f"comments_template_{comment_id}").set_value(None).run()
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value("/long")
    at.button(key=f"comments_reply_send_{comment_id}").click().run()
    no_errors(at)
    assert "“Long one” is 1,201 characters" in errors_shown(at)
    assert post_count(sandbox) == 0
    assert posted_replies(sandbox, advertiser_id, comment_id).empty
    assert db.get_saved_reply(store.cursor(), long.reply_id).uses == 0
    assert db.query_records(store.cursor(), "SELECT count(*) AS n FROM outbox") == [{"n": 0}]


def test_templates_are_checked_when_saved_and_changed_or_deleted_by_a_responder(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id}, email=JO)
    fill_form(at, "Bad", "Hi {user_name.__class__}")
    assert "{user_name.__class__} is not a placeholder" in errors_shown(at)
    fill_form(at, "Bad", "Smile :-}")
    assert "A brace stands alone" in errors_shown(at)
    fill_form(at, "Bad", "x" * 1201)
    assert "1,201 characters long even with its placeholders empty" in errors_shown(at)
    fill_form(at, "Bad", "Hi", "two words")
    assert "A shortcut is one word" in errors_shown(at)
    assert saved(store, "ad", advertiser_id) == {}
    assert at.text_area(key="saved_replies_body").value == "Hi"  # what was typed stays

    hostile = "**bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)> {ad_name}"
    fill_form(at, "Hostile <b>", hostile, "h")
    fill_form(at.selectbox(key="saved_replies_chosen").set_value(0).run(), "hostile <B>", "x")
    assert "already has a saved reply named 'Hostile <b>'" in errors_shown(at)
    shown = "\n".join(m.value for m in at.main.markdown)
    assert "javascript" not in shown and "**bold**" not in shown
    assert at.dataframe[0].value["body"].tolist() == [hostile]

    reply = saved(store, "ad", advertiser_id)["Hostile <b>"]
    at.selectbox(key="saved_replies_chosen").set_value(reply.reply_id).run()
    assert at.text_input(key="saved_replies_name").value == "Hostile <b>"
    assert at.text_area(key="saved_replies_body").value == hostile
    at.text_area(key="saved_replies_body").set_value("Thank you, {user_name}!")
    with store.cursor() as cur:  # Boss makes Jo an admin meanwhile: still allowed
        people.set_role(cur, Person(BOSS, "admin"), JO, "admin")
    at.button(key="saved_replies_save").click().run()
    no_errors(at)
    changed = db.get_saved_reply(store.cursor(), reply.reply_id)
    assert (changed.body, changed.updated_by, changed.created_by) == (
        "Thank you, {user_name}!", JO, JO)
    at.button(key="saved_replies_delete").click().run()
    no_errors(at)
    assert saved(store, "ad", advertiser_id) == {}
    assert "deleted" in plain(at.toast[0].value)
    assert at.selectbox(key="saved_replies_chosen").value == 0


def test_a_viewer_is_refused_the_page_and_a_demoted_responder_changes_nothing(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id}, email=VI)
    no_errors(at)
    assert "Only a responder or above may open the Saved replies page" in errors_shown(at)
    assert not at.text_input

    jo = open_page(PAGE, query={"advertiser": advertiser_id}, email=JO)
    with store.cursor() as cur:
        people.set_role(cur, Person(BOSS, "admin"), JO, "viewer")
    fill_form(jo, "Thanks", THANKS)  # the click's run opens the page as a viewer: refused
    assert "Only a responder or above may open the Saved replies page" in errors_shown(jo)
    assert saved(store, "ad", advertiser_id) == {}


def test_organic_saved_replies_fill_the_video_caption_and_stay_with_their_account(
        organic, synced, store, sandbox):  # noqa: F811 (fixtures)
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id, "account": organic}, email=JO)
    no_errors(at)
    choice = at.radio(key="saved_replies_account")
    assert choice.value == "ad" and len(choice.options) == 2
    assert plain(choice.options[1]).startswith("TikTok account: ")
    choice.set_value("organic").run()
    body = "Hi {user_name}! Glad you saw “{video_caption}”."
    fill_form(at, "Video thanks", body, "vt")
    [reply] = saved(store, "organic", organic).values()
    assert saved(store, "ad", advertiser_id) == {}

    comment_id = first_organic(store, organic)
    values = db.placeholder_values(store.cursor(), comment_id)
    caption = db.query_records(store.cursor(), "SELECT caption FROM videos WHERE video_id = "
                               "(SELECT video_id FROM comments WHERE comment_id = ?)",
                               [comment_id])[0]["caption"]
    assert caption and values["video_caption"] == caption
    expected = replies.fill(body, values)
    assert caption in expected and "{" not in expected

    at.switch_page(COMMENTS).run()
    at.selectbox(key="comments_order").select("newest").run()
    at.selectbox(key="comments_type").select("Comments").run()
    at.selectbox(key="comments_source").select("Ad comments").run()
    ad_comment = replyable(store, advertiser_id)
    at.button(key=f"comments_reply_open_{ad_comment}").click().run()
    no_errors(at)
    assert f"comments_template_{ad_comment}" not in [s.key for s in at.selectbox]
    assert any("No saved replies for this account yet" in c.value for c in at.main.caption)

    at.selectbox(key="comments_source").select("Organic comments").run()
    at.button(key=f"comments_reply_open_{comment_id}").click().run()
    picker = at.selectbox(key=f"comments_template_{comment_id}")
    assert picker.options == [
        "None: write the reply", "Video thanks · /vt"]
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value("/vt")
    at.button(key=f"comments_reply_send_{comment_id}").click().run()
    no_errors(at)
    truth = organic_truth(sandbox, organic)
    posted = truth.loc[truth["parent_comment_id"].astype(str) == comment_id, "text"]
    assert posted.tolist() == [expected]
    assert db.get_saved_reply(store.cursor(), reply.reply_id).uses == 1
