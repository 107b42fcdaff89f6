"""Saved replies: the store (per account, names and shortcuts unique whatever their case, who
changed what, uses) and the templates (the three placeholders filled exactly, nothing else
evaluated, the limit checked on the filled text, `/shortcut` expanded).

The database holds ad account A1 (comment c-ad on ad "Spring sale", whose Spark Ad promotes
video v1; comment c-text on an ad with no stored video, and c-none with nothing known) and
business account B1 (comment c-org on video v1, captioned "Our new mug ☕").
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from desk import replies
from desk import store as db
from desk.people import NotAllowed, Person
from desk.store import Store

SEEN = datetime(2025, 3, 9, 12, 0, tzinfo=UTC)
ANA = "ana@acme.example"
BEN = "ben@acme.example"
RESPONDER = Person(ANA, "responder")
VIEWER = Person(BEN, "viewer")


def comment(comment_id: str, **fields):
    return {"comment_id": comment_id, "source": "ad", "advertiser_id": "A1",
            "comment_type": "COMMENT", "comment_status": "PUBLIC", "content": "hi",
            "create_time": SEEN, "user_name": None, "ad_name": None, "ad_text": None,
            "tiktok_item_id": None, "video_id": None, "business_id": None, **fields}


@pytest.fixture
def cur(tmp_path):
    with Store.open(tmp_path / "x.duckdb") as store:
        cursor = store.cursor()
        db.upsert_comments(cursor, pd.DataFrame.from_records([
            comment("c-ad", user_name="Mia", ad_name="Spring sale", ad_text="Ad text",
                    tiktok_item_id="v1"),
            comment("c-text", user_name="Léo", ad_name="Winter", ad_text="Cosy socks 🧦",
                    tiktok_item_id="not-stored"),
            comment("c-none"),
            comment("c-org", source="organic", advertiser_id=None, business_id="B1",
                    video_id="v1", tiktok_item_id="v1", user_name="{ad_name}"),
        ]), SEEN)
        db.upsert_videos(cursor, pd.DataFrame.from_records([
            {"video_id": "v1", "business_id": "B1", "caption": "Our new mug ☕"}]), SEEN)
        yield cursor


def add(cur, name="Thanks", body="Thanks {user_name}!", shortcut=None, *, kind="ad",
        account="A1", by=ANA) -> int:
    return db.create_saved_reply(cur, kind, account, name=name, body=body, shortcut=shortcut,
                                 by=by)


# -- The store --------------------------------------------------------------------------------


def test_a_saved_reply_belongs_to_one_account_and_records_who_made_it(cur):
    made = datetime(2025, 3, 1, 9, tzinfo=UTC)
    reply_id = db.create_saved_reply(cur, "ad", "A1", name="  Thanks   a lot ",
                                     body=" Thanks {user_name}! ", shortcut="/thx", by=ANA,
                                     at=made)
    add(cur, "Welcome", kind="organic", account="B1")
    [saved] = db.list_saved_replies(cur, "ad", "A1")
    assert saved == db.get_saved_reply(cur, reply_id)
    assert (saved.name, saved.shortcut, saved.body) == ("Thanks a lot", "thx",
                                                        "Thanks {user_name}!")
    assert (saved.uses, saved.last_used_at) == (0, None)
    assert (saved.created_by, saved.created_at, saved.updated_by, saved.updated_at) == (
        ANA, made, ANA, made)
    assert saved.label == "Thanks a lot · /thx"
    assert [s.name for s in db.list_saved_replies(cur, "organic", "B1")] == ["Welcome"]
    assert db.list_saved_replies(cur, "ad", "B1") == []
    assert db.list_saved_replies(cur, "organic", "A1") == []


def test_the_list_is_by_name_whatever_its_case(cur):
    for name in ("banana", "Apple", "cherry"):
        add(cur, name)
    assert [s.name for s in db.list_saved_replies(cur, "ad", "A1")] == [
        "Apple", "banana", "cherry"]


def test_a_name_is_unique_per_account_whatever_its_case(cur):
    add(cur, "Straße")
    with pytest.raises(ValueError, match="already has a saved reply named 'Straße'"):
        add(cur, "STRASSE")
    with pytest.raises(ValueError, match="already has"):
        add(cur, " straße ")
    add(cur, "Straße", account="A2")  # another account may
    add(cur, "Straße", kind="organic", account="A1")  # and so may another kind of account
    assert len(db.list_saved_replies(cur, "ad", "A1")) == 1


def test_a_shortcut_is_one_short_word_unique_per_account(cur):
    add(cur, "One", shortcut="thx")
    with pytest.raises(ValueError, match="shortcut /THX is already used by 'One'"):
        add(cur, "Two", shortcut="THX")
    for bad in ("two words", "thänks", "x" * 21, "a/b", "{user_name}", "/?"):
        with pytest.raises(ValueError, match="a shortcut is one word"):
            add(cur, "Three", shortcut=bad)
    add(cur, "Four", shortcut="x" * 20)
    add(cur, "Five", shortcut="a-b_9")
    add(cur, "Six", shortcut="")  # none
    add(cur, "Seven", shortcut=None)  # two without a shortcut are fine
    assert sorted(s.shortcut or "" for s in db.list_saved_replies(cur, "ad", "A1")) == [
        "", "", "a-b_9", "thx", "x" * 20]


def test_names_bodies_and_kinds_are_checked(cur):
    with pytest.raises(ValueError, match="needs a name"):
        add(cur, "   ")
    with pytest.raises(ValueError, match="at most 80 characters"):
        add(cur, "n" * 81)
    with pytest.raises(ValueError, match="needs some text"):
        add(cur, body=" \n ")
    with pytest.raises(ValueError, match="at most 5,000 characters"):
        add(cur, body="b" * 5001)
    with pytest.raises(ValueError, match="'ad' or 'organic'"):
        add(cur, kind="business")
    assert db.list_saved_replies(cur, "ad", "A1") == []


def test_an_update_keeps_the_uses_and_records_who_changed_it(cur):
    made = datetime(2025, 3, 1, tzinfo=UTC)
    reply_id = db.create_saved_reply(cur, "ad", "A1", name="Thanks", body="Thanks!", by=ANA,
                                     at=made)
    db.record_use(cur, reply_id)
    later = datetime(2025, 3, 2, tzinfo=UTC)
    db.update_saved_reply(cur, reply_id, name="thanks", body="Thank you {user_name}!",
                          shortcut="ty", by=BEN, at=later)  # its own name, in another case
    saved = db.get_saved_reply(cur, reply_id)
    assert (saved.name, saved.body, saved.shortcut, saved.uses) == (
        "thanks", "Thank you {user_name}!", "ty", 1)
    assert (saved.created_by, saved.created_at, saved.updated_by, saved.updated_at) == (
        ANA, made, BEN, later)


def test_an_update_may_not_take_another_ones_name_or_shortcut(cur):
    add(cur, "One", shortcut="one")
    two = add(cur, "Two", shortcut="two")
    with pytest.raises(ValueError, match="named 'One'"):
        db.update_saved_reply(cur, two, name="one", body="x", shortcut="two", by=BEN)
    with pytest.raises(ValueError, match="/One is already used"):
        db.update_saved_reply(cur, two, name="Two", body="x", shortcut="One", by=BEN)
    with pytest.raises(ValueError, match="no saved reply 999"):
        db.update_saved_reply(cur, 999, name="Two", body="x", by=BEN)
    assert db.get_saved_reply(cur, two).body == "Thanks {user_name}!"  # nothing changed


def test_a_deletion_is_in_the_audit_log_with_the_person(cur):
    reply_id = add(cur, "Thanks", shortcut="thx")
    assert db.delete_saved_reply(cur, reply_id, by=BEN) is True
    assert db.get_saved_reply(cur, reply_id) is None
    assert db.delete_saved_reply(cur, reply_id, by=BEN) is False
    log = db.query_records(cur, "SELECT actor, event, detail, advertiser_id FROM audit_log "
                                "ORDER BY logged_at")
    assert [(e["actor"], e["event"], e["advertiser_id"]) for e in log] == [
        (ANA, "saved_reply", "A1"), (BEN, "saved_reply", "A1")]
    assert "'Thanks' of ad:A1 deleted" in log[-1]["detail"]
    add(cur, "Thanks", shortcut="thx")  # the name and shortcut are free again


def test_record_use_counts_each_reply_sent(cur):
    reply_id = add(cur)
    first, second = datetime(2025, 3, 5, tzinfo=UTC), datetime(2025, 3, 6, tzinfo=UTC)
    assert db.record_use(cur, reply_id, at=first) is True
    assert db.record_use(cur, reply_id, at=second) is True
    saved = db.get_saved_reply(cur, reply_id)
    assert (saved.uses, saved.last_used_at) == (2, second)
    assert db.record_use(cur, 999) is False


def test_find_by_shortcut_is_per_account_and_ignores_case(cur):
    mine = add(cur, "Thanks", shortcut="Thx")
    add(cur, "Theirs", shortcut="thx", account="A2")
    assert db.find_by_shortcut(cur, "ad", "A1", "thx").reply_id == mine
    assert db.find_by_shortcut(cur, "ad", "A1", "/THX").reply_id == mine
    assert db.find_by_shortcut(cur, "organic", "A1", "thx") is None
    assert db.find_by_shortcut(cur, "ad", "A1", "nope") is None
    assert db.find_by_shortcut(cur, "ad", "A1", "' OR 1=1 --") is None


def test_placeholder_values_come_from_the_comment_its_ad_and_its_video(cur):
    assert db.placeholder_values(cur, "c-ad") == {
        "user_name": "Mia", "ad_name": "Spring sale", "video_caption": "Our new mug ☕"}
    assert db.placeholder_values(cur, "c-text") == {  # no stored video: the ad's text
        "user_name": "Léo", "ad_name": "Winter", "video_caption": "Cosy socks 🧦"}
    assert db.placeholder_values(cur, "c-org") == {
        "user_name": "{ad_name}", "ad_name": None, "video_caption": "Our new mug ☕"}
    assert db.placeholder_values(cur, "c-none") == {
        "user_name": None, "ad_name": None, "video_caption": None}
    assert db.placeholder_values(cur, "unknown") == {
        "user_name": None, "ad_name": None, "video_caption": None}


# -- Templates --------------------------------------------------------------------------------


def test_the_three_placeholders_are_filled_from_the_comment(cur):
    body = "Hi {user_name}, thanks for watching {ad_name} ({video_caption})! {user_name} 💜"
    assert replies.check_template(body) is None
    assert replies.placeholders_in(body) == ["user_name", "ad_name", "video_caption"]
    assert replies.fill(body, db.placeholder_values(cur, "c-ad")) == (
        "Hi Mia, thanks for watching Spring sale (Our new mug ☕)! Mia 💜")


def test_missing_values_fill_as_nothing_never_none():
    body = "Hi {user_name}! {ad_name}|{video_caption}"
    assert replies.fill(body, {}) == "Hi ! |"
    assert replies.fill(body, {"user_name": None, "ad_name": float("nan"),
                               "video_caption": pd.NA}) == "Hi ! |"


def test_a_value_is_never_filled_again_nor_evaluated(cur):
    values = db.placeholder_values(cur, "c-org")  # the commenter is called "{ad_name}"
    assert replies.fill("Hi {user_name} on {ad_name}", values) == "Hi {ad_name} on "
    sneaky = {"user_name": "{video_caption} {0} {user_name.__class__} %s", "ad_name": "A"}
    assert replies.fill("{user_name}/{ad_name}", sneaky) == (
        "{video_caption} {0} {user_name.__class__} %s/A")


@pytest.mark.parametrize(("body", "reason"), [
    ("Hi {user_name.__class__}", "{user_name.__class__} is not a placeholder"),
    ("Hi {user_name!r}", "{user_name!r} is not a placeholder"),
    ("Hi {0}", "{0} is not a placeholder"),
    ("Hi {}", "{} is not a placeholder"),
    ("Hi {first_name}", "{first_name} is not a placeholder"),
    ("Hi {User_Name}", "{User_Name} is not a placeholder"),
    ("Hi { user_name }", "{ user_name } is not a placeholder"),
    ("Hi {first\nname}", "{first name} is not a placeholder"),
    ("Hi {" + "x" * 60 + "}", "{" + "x" * 39 + "…} is not a placeholder"),
    ("Hi {{user_name}}", "A brace stands alone"),
    ("Hi {user_name", "A brace stands alone"),
    ("Hi user_name}", "A brace stands alone"),
    ("Smile :-}", "A brace stands alone"),
    ("{ad_name}{", "A brace stands alone"),
    ("   ", "needs some text"),
])
def test_other_braces_are_refused_with_a_one_line_reason(body, reason):
    refused = replies.check_template(body)
    assert refused is not None and reason in refused
    assert "\n" not in refused
    assert "{user_name}, {ad_name} or {video_caption}" in refused or "text" in refused
    replies.fill(body, {"user_name": "x"})  # filling such a body still cannot fail


def test_the_limit_applies_to_the_filled_text_counted_as_the_writers_count():
    limit = 20
    assert replies.refusal("x" * 20, limit) is None
    why = replies.refusal("x" * 21, limit, name="Long one")
    assert why == ("The saved reply “Long one” is 21 characters long once filled in for this "
                   "comment; TikTok takes at most 20. Choose another or shorten it on the "
                   "Saved replies page. Nothing was sent.")
    # An emoji is one character, a combining accent one more, as len() and the writers count.
    assert replies.refusal("🙌" * 20, limit) is None
    assert replies.refusal("🙌" * 21, limit) is not None
    assert replies.refusal("e\u0301" * 10, limit) is None
    assert replies.refusal("e\u0301" * 10 + "!", limit) is not None
    assert "1,201 characters" in replies.refusal("x" * 1201, 1200)
    assert "empty once filled in" in replies.refusal(" ", limit, name="Blank")


def test_a_long_name_fills_a_template_past_the_limit():
    body = "Thanks {user_name}!"
    assert replies.fixed_length(body) == 8
    short = replies.fill(body, {"user_name": "Mia"})
    long = replies.fill(body, {"user_name": "🦄" * 1195})
    assert replies.refusal(short, 1200) is None
    assert "1,203 characters" in replies.refusal(long, 1200, name="Thanks")


def test_a_reply_of_exactly_a_shortcut_expands_to_its_saved_reply(cur):
    add(cur, "Thanks", shortcut="thx")
    add(cur, "Welcome", shortcut="Hi-there_2")
    add(cur, "No shortcut")
    saved = db.list_saved_replies(cur, "ad", "A1")
    assert replies.expand_shortcut("/thx", saved).name == "Thanks"
    assert replies.expand_shortcut("  /THX \n", saved).name == "Thanks"
    assert replies.expand_shortcut("/hi-there_2", saved).name == "Welcome"
    for typed in ("thx", "/thx please", "Say /thx", "//thx", "/", "", "/nope", "/thx!"):
        assert replies.expand_shortcut(typed, saved) is None, typed
    assert replies.shortcut_typed("/nope") == "nope"
    assert replies.shortcut_typed("/thx please") is None
    assert replies.expand_shortcut("/thx", []) is None


def test_saving_checks_the_role_the_template_and_the_limit(cur):
    with pytest.raises(NotAllowed, match="Only a responder or above may add, change or delete"):
        replies.save_reply(cur, VIEWER, "ad", "A1", name="x", body="y")
    with pytest.raises(ValueError, match="{user_name.__class__} is not a placeholder"):
        replies.save_reply(cur, RESPONDER, "ad", "A1", name="x", body="{user_name.__class__}")
    with pytest.raises(ValueError, match="11 characters long even with its placeholders empty"):
        replies.save_reply(cur, RESPONDER, "ad", "A1", name="x", body="{user_name}0123456789!",
                           limit=10)
    reply_id = replies.save_reply(cur, RESPONDER, "ad", "A1", name="x", shortcut="x",
                                  body="{user_name}0123456789", limit=10)
    assert db.get_saved_reply(cur, reply_id).created_by == ANA
    assert replies.save_reply(cur, Person(BEN, "admin"), "ad", "A1", reply_id=reply_id,
                              name="y", body="{ad_name}") == reply_id
    assert db.get_saved_reply(cur, reply_id).updated_by == BEN
    with pytest.raises(ValueError, match="not one of this account's"):
        replies.save_reply(cur, RESPONDER, "ad", "A2", reply_id=reply_id, name="z", body="z")
    with pytest.raises(NotAllowed):
        replies.delete_reply(cur, VIEWER, reply_id)
    assert replies.delete_reply(cur, RESPONDER, reply_id) is True
    assert db.list_saved_replies(cur, "ad", "A1") == []
