"""Comments: filters and paging against the store, replies (once, refused, failed, unknown),
hide and unhide, and hostile comment text shown literally."""

from __future__ import annotations

import pytest

from desk import outbox, text
from desk import store as db
from desk.errors import ActionRefused
from desk.ui import writes
from tests.pages.conftest import (
    HOSTILE_ADVERTISER,
    HOSTILE_TEXTS,
    infos,
    no_errors,
    open_page,
    page_context,
    plain,
    post_count,
    sandbox_comments,
    seed_hostile,
    texts,
)
from tiktok_client.client import TikTokClient
from tiktok_client.errors import OutcomeUnknown, TransportError

PAGE = "pages/3_Comments.py"


def shown_ids(at) -> list[str]:
    return [c.key.removeprefix("comments_pick_") for c in at.checkbox
            if c.key and c.key.startswith("comments_pick_")]


def header(at) -> str:
    return at.main.markdown[0].value


def store_ids(store, filters, limit=25, offset=0) -> list[str]:
    return db.comments_page(store.cursor(), filters, limit, offset)["comment_id"].tolist()


def replyable(store, advertiser_id: str) -> str:
    """The newest first-level comment of the account that may be answered."""
    first_level = db.CommentFilters(advertiser_id, comment_type="COMMENT")
    page = db.comments_page(store.cursor(), first_level, 25, 0)
    return next(r["comment_id"] for r in page.to_dict("records") if outbox.can_reply(r) is None)


def open_comments(advertiser_id: str, comment_type: str = "All"):
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    if comment_type != "All":
        at.selectbox(key="comments_type").select(comment_type).run()
    no_errors(at)
    return at


def test_filters_and_paging_match_the_store(synced, store):
    advertiser_id = synced["WRITER"]
    everything = db.CommentFilters(advertiser_id)
    at = open_comments(advertiser_id)
    total = db.comments_count(store.cursor(), everything)
    assert f"**{text.plural(total, 'comment')}**" in header(at)
    assert shown_ids(at) == store_ids(store, everything)

    [pager] = at.get("pagination")
    assert pager.num_pages == -(-total // 25)
    pager.set_value(3).run()
    assert shown_ids(at) == store_ids(store, everything, offset=50)

    at.selectbox(key="comments_status").select("Hidden").run()
    hidden = db.CommentFilters(advertiser_id, status="HIDDEN")
    assert f"**{text.plural(db.comments_count(store.cursor(), hidden), 'comment')}**" in header(at)
    assert shown_ids(at) == store_ids(store, hidden)  # back on page 1

    at.selectbox(key="comments_status").select("All").run()
    at.text_input(key="comments_search").input("ship").run()
    at.toggle(key="comments_unanswered").set_value(True).run()
    narrow = db.CommentFilters(advertiser_id, search="ship", unanswered_only=True)
    assert f"**{text.plural(db.comments_count(store.cursor(), narrow), 'comment')}**" in header(at)
    assert shown_ids(at) == store_ids(store, narrow)

    at.button(key="comments_reset").click().run()
    at.selectbox(key="comments_page_size").select(50).run()
    at.selectbox(key="comments_order").select("most_liked").run()
    assert shown_ids(at) == db.comments_page(store.cursor(), everything, 50, 0,
                                             "most_liked")["comment_id"].tolist()


def test_filters_follow_to_the_other_pages(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_comments(advertiser_id, "Replies")
    at.switch_page("pages/6_Export.py").run()
    assert at.selectbox(key="export_type").value == "Replies"
    expected = db.comments_count(store.cursor(),
                                 db.CommentFilters(advertiser_id, comment_type="REPLY"))
    assert f"**{text.plural(expected, 'comment')}**" in at.main.markdown[0].value


def test_no_matching_comments_says_so(synced):
    at = open_comments(synced["WRITER"])
    at.text_input(key="comments_search").input("no comment says this, surely").run()
    no_errors(at)
    assert "No comments match these filters" in infos(at)[0]


def send(at, comment_id: str, body: str) -> None:
    at.button(key=f"comments_reply_open_{comment_id}").click().run()
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value(body)
    at.button(key=f"comments_reply_send_{comment_id}").click().run()


def test_a_reply_is_sent_and_shows_tiktoks_id(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    comment_id = replyable(store, advertiser_id)
    at = open_comments(advertiser_id, "Comments")
    send(at, comment_id, "Thanks so much! 🙌")
    no_errors(at)
    truth = sandbox_comments(sandbox, advertiser_id)
    [posted] = truth.loc[(truth["original_comment_id"] == comment_id)
                         & (truth["content"] == "Thanks so much! 🙌")].to_dict("records")
    assert posted["can_delete"] is True
    toast = plain(at.toast[0].value)
    assert "The reply is posted on TikTok" in toast and posted["comment_id"] in toast
    assert any(posted["comment_id"] in plain(c.value) for c in at.main.caption)
    assert f"comments_reply_text_{comment_id}" not in [t.key for t in at.text_area]
    assert posted["comment_id"] in db.replies_for(store.cursor(), [comment_id])[
        "comment_id"].tolist()


def test_a_double_click_sends_once(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    comment_id = replyable(store, advertiser_id)
    at = open_comments(advertiser_id, "Comments")
    at.button(key=f"comments_reply_open_{comment_id}").click().run()
    request_key = at.session_state[f"comments_reply_key_{comment_id}"]
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value("Once only")
    at.button(key=f"comments_reply_send_{comment_id}").click().run()
    assert post_count(sandbox) == 1
    at.run()  # a rerun sends nothing
    # The second click of a double click, landing in a run that began before the first
    # click's run could close the box: the same form, the same request key.
    at.session_state["comments_replying"] = comment_id
    at.session_state[f"comments_reply_key_{comment_id}"] = request_key
    at.run()
    at.text_area(key=f"comments_reply_text_{comment_id}").set_value("Once only")
    at.button(key=f"comments_reply_send_{comment_id}").click().run()
    no_errors(at)
    assert post_count(sandbox) == 1
    assert "nothing was sent again" in plain(at.toast[0].value)
    truth = sandbox_comments(sandbox, advertiser_id)
    mine = (truth["original_comment_id"] == comment_id) & (truth["content"] == "Once only")
    assert mine.sum() == 1


def test_a_reply_over_1200_characters_is_refused_before_sending(synced, store, sandbox,
                                                               settings):
    advertiser_id = synced["WRITER"]
    comment_id = replyable(store, advertiser_id)
    at = open_comments(advertiser_id, "Comments")
    at.button(key=f"comments_reply_open_{comment_id}").click().run()
    box = at.text_area(key=f"comments_reply_text_{comment_id}")
    assert box.max_chars == 1200  # the browser stops typing at the limit and counts down
    box.set_value("x" * 1201).run()  # even a crafted request gets no further than 1200
    assert at.text_area(key=f"comments_reply_text_{comment_id}").value == "x" * 1200
    assert any(c.value.startswith("1200/1200 characters") for c in at.main.caption)
    # Below the widget, the glue the page calls refuses a longer text without sending it.
    with pytest.raises(ActionRefused, match="1201 characters"):
        row = db.comments_page(store.cursor(), db.CommentFilters(advertiser_id), 100_000
                               ).set_index("comment_id").loc[comment_id]
        writes.send_reply(page_context(settings, advertiser_id), {**row, "comment_id": comment_id},
                      "x" * 1201, "k1201")
    assert post_count(sandbox) == 0
    assert outbox.recent_actions(store.cursor(), advertiser_id).empty


def test_a_reply_to_a_reply_gets_no_reply_box_but_the_reason(synced, store):
    at = open_comments(synced["WRITER"], "Replies")
    assert shown_ids(at)
    assert not [b for b in at.button if b.key and b.key.startswith("comments_reply_open_")]
    reasons = [c.value for c in at.main.caption if "first" in c.value]
    assert len(reasons) == len(shown_ids(at))
    assert "Only first-level comments can be answered" in plain(reasons[0])


def test_a_read_only_reply_fails_and_says_to_ask_for_comment_management(sync, store, sandbox):
    advertiser_id = sync("READ_ONLY")
    comment_id = replyable(store, advertiser_id)
    at = open_comments(advertiser_id, "Comments")
    send(at, comment_id, "Can we reply?")
    no_errors(at)
    assert "comment management permission" in plain(at.toast[0].value)
    assert any("comment management permission" in plain(e.value) for e in at.error)
    [action_id] = outbox.recent_actions(store.cursor(), advertiser_id)["action_id"].tolist()
    assert at.button(key=f"comments_retry_{action_id}")  # failed: Retry is offered
    truth = sandbox_comments(sandbox, advertiser_id)
    assert not (truth["content"] == "Can we reply?").any()


def test_an_unanswered_write_shows_checking_and_retry_settles_it(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    comment_id = replyable(store, advertiser_id)
    at = open_comments(advertiser_id, "Comments")
    with pytest.MonkeyPatch.context() as patch:  # the answer is lost, and TikTok is unreachable
        patch.setattr(TikTokClient, "reply_to_comment", fail_with(OutcomeUnknown("no answer")))
        patch.setattr(TikTokClient, "comment_reference", fail_with(TransportError("offline")))
        send(at, comment_id, "Lost in the post")
    no_errors(at)
    assert any("Checking with TikTok" in plain(w.value) for w in at.warning)
    [action_id] = outbox.recent_actions(store.cursor(), advertiser_id)["action_id"].tolist()
    at.button(key=f"comments_retry_{action_id}").click().run()
    no_errors(at)
    assert outbox.get_action(store.cursor(), action_id).status == "sent"
    truth = sandbox_comments(sandbox, advertiser_id)
    assert (truth["content"] == "Lost in the post").sum() == 1
    assert post_count(sandbox) == 1  # only the retry reached TikTok


def fail_with(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


def status_in(store, sandbox, advertiser_id, comment_id) -> tuple[str, str]:
    stored = db.comments_page(store.cursor(), db.CommentFilters(advertiser_id), 100000, 0)
    mine = stored.loc[stored["comment_id"] == comment_id, "comment_status"].iloc[0]
    truth = sandbox_comments(sandbox, advertiser_id)
    theirs = truth.loc[truth["comment_id"] == comment_id, "comment_status"].iloc[0]
    return mine, theirs


def test_hide_and_unhide_change_the_store_and_tiktok(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    at = open_comments(advertiser_id, "Comments")
    at.selectbox(key="comments_status").select("Public").run()
    comment_id = shown_ids(at)[0]
    at.button(key=f"comments_hide_{comment_id}").click().run()
    no_errors(at)
    assert status_in(store, sandbox, advertiser_id, comment_id) == ("HIDDEN", "HIDDEN")
    assert comment_id not in shown_ids(at)  # the Public filter no longer shows it
    at.selectbox(key="comments_status").select("Hidden").run()
    at.button(key=f"comments_unhide_{comment_id}").click().run()
    no_errors(at)
    assert status_in(store, sandbox, advertiser_id, comment_id) == ("PUBLIC", "PUBLIC")


def test_bulk_hide_hides_the_ticked_comments_and_unticks_them(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    at = open_comments(advertiser_id, "Comments")
    at.selectbox(key="comments_status").select("Public").run()
    chosen = shown_ids(at)[:3]
    for comment_id in chosen:
        at.checkbox(key=f"comments_pick_{comment_id}").check()
    at.run()
    assert at.button(key="comments_bulk_hide").label == "Hide selected (3)"
    at.button(key="comments_bulk_hide").click().run()
    no_errors(at)
    for comment_id in chosen:
        assert status_in(store, sandbox, advertiser_id, comment_id) == ("HIDDEN", "HIDDEN")
    assert "3 of 3 comments hidden" in plain(at.toast[0].value)
    assert at.button(key="comments_bulk_hide").label == "Hide selected (0)"


def test_hostile_comment_text_is_shown_literally(sandbox, store):
    seed_hostile(store)
    at = open_page(PAGE, query={"advertiser": HOSTILE_ADVERTISER})
    no_errors(at)
    shown = [t.value for t in at.text]
    for hostile in HOSTILE_TEXTS:
        assert hostile.strip() in shown  # st.text (which trims surrounding whitespace)
    markdown = [m.value for m in at.main.markdown] + [c.value for c in at.main.caption]
    for hostile in HOSTILE_TEXTS:
        assert not any(hostile.strip() in m for m in markdown if len(hostile.strip()) > 3)
    # Names in captions are escaped: no live tag, no live link, no directive.
    assert not any("<b>" in m or "javascript:" in m or "[x](" in m for m in markdown)
    assert any("\\<b\\>user1\\</b\\>" in m for m in markdown)
    assert all(not m.proto.allow_html for m in at.main.markdown)
    page = "\n".join(texts(at.main))
    assert "unsafe_allow_html: true" not in page


def test_after_tiktok_refused_a_write_every_comment_of_the_account_says_so_before_a_reply(
        sync, store):
    advertiser_id = sync("READ_ONLY")
    comment_id = replyable(store, advertiser_id)
    at = open_comments(advertiser_id, "Comments")
    assert not [w for w in at.warning if "TikTok refused" in plain(w.value)]  # not known yet
    send(at, comment_id, "Can we reply?")

    again = open_comments(advertiser_id, "Comments")

    notices = [plain(w.value) for w in again.warning if "TikTok refused" in plain(w.value)]
    assert notices and all("comment management permission" in n for n in notices)
    assert len(notices) == len(shown_ids(again))  # one above each comment shown


def test_a_comment_that_hit_a_blocked_word_offers_no_hide_button_but_the_reason(synced, store):
    advertiser_id = synced["WRITER"]
    blocked = db.query_records(store.cursor(), "SELECT comment_id FROM comments WHERE "
                               "advertiser_id = ? AND hit_blockedword AND comment_type = "
                               "'COMMENT' ORDER BY create_time DESC LIMIT 1", [advertiser_id])
    assert blocked
    comment_id = blocked[0]["comment_id"]
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    at.text_input(key="comments_search").set_value(
        db.query_records(store.cursor(), "SELECT content FROM comments WHERE comment_id = ?",
                         [comment_id])[0]["content"]).run()
    no_errors(at)
    assert comment_id in shown_ids(at)
    keys = {b.key for b in at.button}
    assert f"comments_unhide_{comment_id}" not in keys
    assert f"comments_hide_{comment_id}" not in keys
    assert any("blocked-word list" in plain(c.value) for c in at.main.caption)
