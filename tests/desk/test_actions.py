"""desk.outbox: replies, hides and unhides go through the outbox, exactly once, audited.

Every test runs against a real sandbox over loopback HTTP and a DuckDB file filled from it.
Lost answers are made by `Unreliable`, which stands in for the client and loses answers the
way a network does (the write reached TikTok, or it never did); test_actions_faults.py uses
the sandbox's own injected faults instead.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pandas as pd
import pytest

from desk import outbox
from desk import store as db
from desk.errors import ActionRefused, message_for
from desk.sources import AdAccountWriter
from desk.store import Store
from tiktok_client.errors import (
    AppUnavailable,
    AuthCodeError,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    PartialSuccess,
    PermissionDenied,
    RateLimited,
    ServerError,
    TikTokError,
    TokenError,
    TransportError,
)
from tiktok_sandbox import start_sandbox

from .test_actions_support import (
    ACTOR,
    STATUS_PATH,
    advertiser_with_access,
    fill_store,
    first_level_comments,
    make_client,
    sandbox_config,
    sandbox_replies,
    sandbox_today,
    sends,
)

OTHER = "sam@brand.example"


class Crash(BaseException):
    """The process dying mid-send (not an Exception: nothing may catch it)."""


class Unreliable:
    """Stands in for a TikTokClient and loses answers as told, one mode per call.

    Write modes: "ok"; "lost" (TikTok applies the write, the answer never comes back);
    "not_sent" (the answer never comes and TikTok never got the write); "crash" (TikTok
    applies it and the process dies before the answer). With reads_down, every read fails.
    """

    def __init__(self, client, *writes: str, reads_down: bool = False):
        self._client = client
        self.writes = list(writes)
        self.reads_down = reads_down

    def _write(self, call, action: str):
        mode = self.writes.pop(0) if self.writes else "ok"
        if mode == "not_sent":
            raise OutcomeUnknown(f"{action} was sent but no usable answer came back: HTTP 502")
        result = call()
        if mode == "lost":
            raise OutcomeUnknown(f"{action} was sent but no usable answer came back: timed out")
        if mode == "crash":
            raise Crash
        return result

    def ad_reply_limit(self) -> int:
        return self._client.ad_reply_limit()

    def reply_to_comment(self, *args, **kwargs):
        return self._write(
            lambda: self._client.reply_to_comment(*args, **kwargs), "POST comment/post/"
        )

    def set_comment_status(self, *args, **kwargs):
        return self._write(
            lambda: self._client.set_comment_status(*args, **kwargs), "POST comment/status/update/"
        )

    def comment_reference(self, *args, **kwargs):
        if self.reads_down:
            raise TransportError("GET comment/reference/ could not connect", possibly_applied=False)
        return self._client.comment_reference(*args, **kwargs)


@pytest.fixture
def sandbox():
    with start_sandbox(sandbox_config()) as sb:
        yield sb


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


@pytest.fixture
def cur(store):
    return store.cursor()


@pytest.fixture
def client(sandbox):
    return make_client(sandbox)


@pytest.fixture
def admin(sandbox, cur, client) -> str:
    """The ADMIN advertiser, its last 30 days of comments in the store."""
    advertiser_id = advertiser_with_access(sandbox, "WRITER")
    assert fill_store(cur, client, advertiser_id, sandbox_today(sandbox)) > 50
    return advertiser_id


@pytest.fixture
def parent(cur, admin) -> dict:
    return first_level_comments(cur, admin)[0]


def send_reply(
    cur, client, advertiser_id, parent, text="Thanks! DM us for your size 🙌", key="k1", actor=ACTOR
):
    return outbox.reply(cur, AdAccountWriter(client, advertiser_id),
        comment_id=parent["comment_id"],
        text=text,
        actor=actor,
        request_key=key,
    )


def stored(cur, comment_id) -> dict | None:
    rows = (
        cur.sql("SELECT * FROM comments WHERE comment_id = ?", params=[comment_id])
        .to_arrow_table()
        .to_pylist()
    )
    assert len(rows) <= 1
    return rows[0] if rows else None


def events(cur, advertiser_id) -> list[tuple]:
    log = outbox.audit_log(cur, advertiser_id)
    return list(zip(log["action_id"], log["event"], log["actor"], strict=True))[::-1]


# ---------------------------------------------------------------------------------------------
# Replies


def test_a_reply_is_sent_recorded_with_tiktoks_id_and_shows_in_the_store_at_once(
    sandbox, cur, client, admin, parent
):
    text = "Thanks! DM us for your size 🙌 <b>not markup</b>"
    result = send_reply(cur, client, admin, parent, text)

    [on_tiktok] = sandbox_replies(sandbox, admin, parent["comment_id"], text)
    assert result.status == "sent" and result.kind == "reply" and not result.duplicate
    assert result.result_comment_id == on_tiktok["comment_id"]
    assert result.comment_id == parent["comment_id"]
    assert result.message == "The reply is posted on TikTok."
    assert sends(sandbox) == 1

    reply = stored(cur, result.result_comment_id)
    assert reply["comment_type"] == "REPLY" and reply["content"] == text
    assert reply["original_comment_id"] == parent["comment_id"]
    assert reply["can_delete"] is True and reply["user_name"] is None
    for name in (
        "advertiser_id",
        "ad_id",
        "adgroup_id",
        "campaign_id",
        "tiktok_item_id",
        "identity_id",
        "identity_type",
    ):
        assert reply[name] == parent[name], name
    assert reply["create_time"] is not None
    brand = db.replies_for(cur, [parent["comment_id"]])
    assert brand.loc[brand["comment_id"] == result.result_comment_id, "is_brand"].item()
    assert stored(cur, parent["comment_id"])["replies"] == (parent["replies"] or 0) + 1

    # The next sync brings TikTok's version of the same reply: still one row.
    fill_store(cur, client, admin, sandbox_today(sandbox))
    assert stored(cur, result.result_comment_id)["user_name"] == on_tiktok["user_name"]


def test_a_double_click_sends_once(sandbox, cur, client, admin, parent):
    first = send_reply(cur, client, admin, parent, key="click-1")
    second = send_reply(cur, client, admin, parent, key="click-1")

    assert sends(sandbox) == 1
    assert second.duplicate and not first.duplicate
    assert (second.action_id, second.status, second.result_comment_id) == (
        first.action_id,
        "sent",
        first.result_comment_id,
    )
    assert "nothing was sent again" in second.message
    assert len(outbox.recent_actions(cur, admin)) == 1


def test_the_same_text_under_new_keys_is_a_new_reply(sandbox, cur, client, admin, parent):
    first = send_reply(cur, client, admin, parent, "Thank you!", key="a")
    second = send_reply(cur, client, admin, parent, "Thank you!", key="b")

    assert sends(sandbox) == 2
    assert first.result_comment_id != second.result_comment_id
    assert len(sandbox_replies(sandbox, admin, parent["comment_id"], "Thank you!")) == 2


def test_a_reply_over_1200_characters_is_refused_before_sending(sandbox, cur, client, admin,
                                                                parent):
    with pytest.raises(ActionRefused, match="1201 characters.*at most 1200") as refused:
        send_reply(cur, client, admin, parent, "x" * 1201)

    assert "shorten" in str(refused.value)
    assert sends(sandbox) == 0
    assert outbox.recent_actions(cur, admin).empty
    [(action_id, event, actor)] = events(cur, admin)
    assert (pd.isna(action_id), event, actor) == (True, "refused", ACTOR)


def test_a_reply_of_exactly_1200_characters_is_sent(sandbox, cur, client, admin, parent):
    assert send_reply(cur, client, admin, parent, "y" * 1200).status == "sent"
    assert sends(sandbox) == 1


@pytest.mark.parametrize("text", ["", "   \n"])
def test_an_empty_reply_is_refused_before_sending(sandbox, cur, client, admin, parent, text):
    with pytest.raises(ActionRefused, match="empty"):
        send_reply(cur, client, admin, parent, text)
    assert sends(sandbox) == 0


def test_a_reply_to_a_reply_is_refused_before_sending(sandbox, cur, client, admin):
    [reply_row] = (
        cur.sql(
            "SELECT * FROM comments WHERE advertiser_id = ? AND comment_type = 'REPLY' LIMIT 1",
            params=[admin],
        )
        .to_arrow_table()
        .to_pylist()
    )
    with pytest.raises(ActionRefused) as refused:
        send_reply(cur, client, admin, reply_row)

    assert str(refused.value) == (
        "Only first-level comments can be answered; reply to the original comment instead."
    )
    assert sends(sandbox) == 0
    assert events(cur, admin)[-1][1] == "refused"


def test_an_identity_without_comment_permission_is_refused_with_the_reason(
    sandbox, cur, client, admin
):
    locked = first_level_comments(cur, admin, manageable=False)[0]
    with pytest.raises(ActionRefused, match="comment-management permission"):
        send_reply(cur, client, admin, locked)
    assert sends(sandbox) == 0
    assert outbox.can_reply(locked) is not None


def test_an_unknown_comment_is_refused(sandbox, cur, client, admin, parent):
    with pytest.raises(ActionRefused, match="sync the account"):
        send_reply(cur, client, admin, {**parent, "comment_id": "404"})
    other = advertiser_with_access(sandbox, "READ_ONLY")
    with pytest.raises(ActionRefused, match="not in Comment Desk's data"):
        send_reply(cur, client, other, parent)  # a comment of another ad account
    assert sends(sandbox) == 0


def test_a_read_only_reply_fails_and_says_to_ask_for_comment_management(sandbox, cur, client):
    read_only = advertiser_with_access(sandbox, "READ_ONLY")
    fill_store(cur, client, read_only, sandbox_today(sandbox))
    parent = first_level_comments(cur, read_only)[0]

    result = send_reply(cur, client, read_only, parent, key="read_only-1")

    assert result.status == "failed" and result.result_comment_id is None
    assert "comment management permission" in result.message
    assert "Ad Comments" in result.message
    assert sends(sandbox) == 1
    [row] = outbox.recent_actions(cur, read_only).to_dict("records")
    assert row["error"] == result.message
    assert [e[1] for e in events(cur, read_only)] == ["requested", "failed"]
    assert stored(cur, parent["comment_id"])["replies"] == parent["replies"]


def test_retrying_a_refused_write_sends_it_again_only_once_per_retry(sandbox, cur, client):
    read_only = advertiser_with_access(sandbox, "READ_ONLY")
    fill_store(cur, client, read_only, sandbox_today(sandbox))
    parent = first_level_comments(cur, read_only)[0]
    failed = send_reply(cur, client, read_only, parent)

    again = outbox.retry(cur, AdAccountWriter(client, read_only), failed.action_id, actor=OTHER)

    assert again.status == "failed" and "comment management permission" in again.message
    assert sends(sandbox) == 2
    assert [e[1:] for e in events(cur, read_only)][-3:] == [
        ("reconciled", OTHER),
        ("retried", OTHER),
        ("failed", OTHER),
    ]


# ---------------------------------------------------------------------------------------------
# Lost answers, reconciling and retrying


def test_a_write_whose_answer_was_lost_ends_unknown_then_reconciles_to_sent_exactly_once(
    sandbox, cur, client, admin, parent
):
    offline = Unreliable(client, "lost", reads_down=True)
    result = send_reply(cur, offline, admin, parent, "We ship worldwide!")

    assert result.status == "unknown" and result.result_comment_id is None
    assert "not yet known" in result.message and "could not reach TikTok" in result.message
    assert sends(sandbox) == 1
    assert len(sandbox_replies(sandbox, admin, parent["comment_id"], "We ship worldwide!")) == 1

    settled = outbox.reconcile(cur, AdAccountWriter(client, admin), result.action_id)

    [on_tiktok] = sandbox_replies(sandbox, admin, parent["comment_id"], "We ship worldwide!")
    assert settled.status == "sent" and settled.result_comment_id == on_tiktok["comment_id"]
    assert stored(cur, on_tiktok["comment_id"])["content"] == "We ship worldwide!"
    again = outbox.retry(cur, AdAccountWriter(client, admin), result.action_id, actor=ACTOR)
    assert again.status == "sent" and "Nothing was sent again" in again.message
    assert sends(sandbox) == 1
    assert [e[1] for e in events(cur, admin)] == [
        "requested",
        "unknown",
        "reconcile_failed",
        "reconciled",
    ]


def test_a_lost_answer_is_reconciled_at_once_when_tiktok_can_be_asked(
    sandbox, cur, client, admin, parent
):
    result = send_reply(cur, Unreliable(client, "lost"), admin, parent, "See you soon")

    [on_tiktok] = sandbox_replies(sandbox, admin, parent["comment_id"], "See you soon")
    assert result.status == "sent" and result.result_comment_id == on_tiktok["comment_id"]
    assert sends(sandbox) == 1
    assert [e[1] for e in events(cur, admin)] == ["requested", "unknown", "reconciled"]


def test_a_reply_that_never_reached_tiktok_reconciles_to_failed_and_retry_sends_it_once(
    sandbox, cur, client, admin, parent
):
    result = send_reply(cur, Unreliable(client, "not_sent"), admin, parent, "Hello there")

    assert result.status == "failed"
    assert result.message == (
        "TikTok has no record of this reply; it was not posted. Retry to send it."
    )
    assert sends(sandbox) == 0

    retried = outbox.retry(cur, AdAccountWriter(client, admin), result.action_id, actor=OTHER)

    [on_tiktok] = sandbox_replies(sandbox, admin, parent["comment_id"], "Hello there")
    assert retried.status == "sent" and retried.result_comment_id == on_tiktok["comment_id"]
    assert retried.action_id == result.action_id
    assert sends(sandbox) == 1
    writer = AdAccountWriter(client, admin)
    assert outbox.retry(cur, writer, result.action_id, actor=OTHER).status == "sent"
    assert sends(sandbox) == 1
    [row] = outbox.recent_actions(cur, admin).to_dict("records")
    assert row["attempts"] == 2 and pd.isna(row["error"])


def test_reconciling_never_claims_another_actions_reply_with_the_same_text(
    sandbox, cur, client, admin, parent
):
    first = send_reply(cur, client, admin, parent, "Thank you!", key="a")
    second = send_reply(cur, Unreliable(client, "not_sent"), admin, parent, "Thank you!", key="b")

    assert first.status == "sent"
    assert second.status == "failed"  # the one "Thank you!" on TikTok is the first action's
    writer = AdAccountWriter(client, admin)
    assert outbox.retry(cur, writer, second.action_id, actor=ACTOR).status == "sent"
    assert len(sandbox_replies(sandbox, admin, parent["comment_id"], "Thank you!")) == 2


def test_a_crash_mid_send_leaves_a_pending_row_that_is_settled_later(
    sandbox, cur, client, admin, parent
):
    with pytest.raises(Crash):
        send_reply(cur, Unreliable(client, "crash"), admin, parent, "Restocked today")

    [row] = outbox.recent_actions(cur, admin).to_dict("records")
    assert row["status"] == "pending"
    fresh = outbox.retry(cur, AdAccountWriter(client, admin), row["action_id"], actor=ACTOR)
    assert fresh.status == "pending" and sends(sandbox) == 1  # maybe still sending: left alone
    assert outbox.reconcile_open(cur, AdAccountWriter(client, admin)) == []  # not stale yet

    [settled] = outbox.reconcile_open(cur, AdAccountWriter(client, admin), stale_after=timedelta(0))

    assert settled.status == "sent" and settled.result_comment_id
    assert sends(sandbox) == 1
    assert [e[1] for e in events(cur, admin)] == ["requested", "unknown", "reconciled"]


def test_retry_waits_while_tiktok_cannot_be_asked(sandbox, cur, client, admin, parent):
    result = send_reply(cur, Unreliable(client, "not_sent", reads_down=True), admin, parent)
    assert result.status == "unknown"

    still = outbox.retry(cur, AdAccountWriter(Unreliable(client, reads_down=True), admin),
                         result.action_id, actor=ACTOR)

    assert still.status == "unknown" and sends(sandbox) == 0
    writer = AdAccountWriter(client, admin)
    assert outbox.retry(cur, writer, result.action_id, actor=ACTOR).status == "sent"
    assert sends(sandbox) == 1


def test_concurrent_retries_of_one_action_send_it_once(sandbox, store, cur, client, admin, parent):
    failed = send_reply(cur, Unreliable(client, "not_sent"), admin, parent, "One and only")
    assert failed.status == "failed"
    start = threading.Barrier(4)
    outcomes: list = []

    def retry_it():
        own = store.cursor()
        start.wait()
        outcomes.append(outbox.retry(own, AdAccountWriter(client, admin), failed.action_id,
                                     actor=OTHER).status)

    threads = [threading.Thread(target=retry_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 4
    assert len(sandbox_replies(sandbox, admin, parent["comment_id"], "One and only")) == 1
    assert sends(sandbox) == 1
    assert outbox.get_action(cur, failed.action_id).status == "sent"


def test_reconcile_and_retry_of_an_unknown_action_are_refused(cur, client):
    with pytest.raises(ActionRefused, match="no action 999"):
        outbox.retry(cur, AdAccountWriter(client, admin), 999, actor=ACTOR)
    assert outbox.get_action(cur, 999) is None


# ---------------------------------------------------------------------------------------------
# Hide and unhide


def truth_status(sandbox, advertiser_id, comment_id) -> str:
    truth = sandbox.ground_truth(advertiser_id)
    return next(c["comment_status"] for c in truth["comments"] if c["comment_id"] == comment_id)


def store_status(cur, comment_id) -> str:
    return stored(cur, comment_id)["comment_status"]


def test_hide_then_unhide_changes_the_store_and_tiktok(sandbox, cur, client, admin):
    ids = [
        c["comment_id"] for c in first_level_comments(cur, admin) if c["comment_status"] == "PUBLIC"
    ][:3]

    hidden = outbox.set_hidden(cur, AdAccountWriter(client, admin),
        comment_ids=ids,
        hidden=True,
        actor=ACTOR,
        request_key="hide-1",
    )

    assert [(r.comment_id, r.kind, r.status) for r in hidden] == [(c, "hide", "sent") for c in ids]
    assert len({r.action_id for r in hidden}) == 3
    assert sends(sandbox, STATUS_PATH) == 1  # one call for the batch
    assert {truth_status(sandbox, admin, c) for c in ids} == {"HIDDEN"}
    assert {store_status(cur, c) for c in ids} == {"HIDDEN"}
    assert hidden[0].message == "The comment is hidden on TikTok."

    shown = outbox.set_hidden(cur, AdAccountWriter(client, admin),
        comment_ids=ids,
        hidden=False,
        actor=ACTOR,
        request_key="unhide-1",
    )

    assert [(r.kind, r.status) for r in shown] == [("unhide", "sent")] * 3
    assert sends(sandbox, STATUS_PATH) == 2
    assert {truth_status(sandbox, admin, c) for c in ids} == {"PUBLIC"}
    assert {store_status(cur, c) for c in ids} == {"PUBLIC"}
    keys = outbox.recent_actions(cur, admin)["request_key"]
    assert set(keys) == {f"hide-1:{c}" for c in ids} | {f"unhide-1:{c}" for c in ids}


def test_hiding_an_already_hidden_comment_is_fine(sandbox, cur, client, admin, parent):
    for key in ("first", "second"):
        [result] = outbox.set_hidden(cur, AdAccountWriter(client, admin),
            comment_ids=[parent["comment_id"]],
            hidden=True,
            actor=ACTOR,
            request_key=key,
        )
        assert result.status == "sent"
    assert truth_status(sandbox, admin, parent["comment_id"]) == "HIDDEN"


def test_a_double_click_on_hide_sends_once_and_adds_only_new_comments(sandbox, cur, client, admin):
    a, b = (c["comment_id"] for c in first_level_comments(cur, admin)[:2])
    outbox.set_hidden(cur, AdAccountWriter(client, admin), comment_ids=[a], hidden=True,
                      actor=ACTOR, request_key="k")
    again = outbox.set_hidden(cur, AdAccountWriter(client, admin),
        comment_ids=[a, b, a],
        hidden=True,
        actor=ACTOR,
        request_key="k",
    )

    assert [(r.comment_id, r.duplicate, r.status) for r in again] == [
        (a, True, "sent"),
        (b, False, "sent"),
    ]
    assert sends(sandbox, STATUS_PATH) == 2  # [a], then [b] only


def test_hiding_an_unknown_comment_is_refused_and_nothing_is_sent(
    sandbox, cur, client, admin, parent
):
    with pytest.raises(ActionRefused, match="1 of the chosen comments"):
        outbox.set_hidden(cur, AdAccountWriter(client, admin),
            comment_ids=[parent["comment_id"], "404"],
            hidden=True,
            actor=ACTOR,
            request_key="k",
        )
    assert sends(sandbox, STATUS_PATH) == 0
    assert outbox.recent_actions(cur, admin).empty
    assert events(cur, admin)[-1][1:] == ("refused", ACTOR)
    assert (
        outbox.set_hidden(cur, AdAccountWriter(client, admin),
            comment_ids=[],
            hidden=True,
            actor=ACTOR,
            request_key="k",
        )
        == []
    )


def test_a_read_only_user_cannot_hide(sandbox, cur, client):
    read_only = advertiser_with_access(sandbox, "READ_ONLY")
    fill_store(cur, client, read_only, sandbox_today(sandbox))
    comment = first_level_comments(cur, read_only)[0]
    [result] = outbox.set_hidden(cur, AdAccountWriter(client, read_only),
        comment_ids=[comment["comment_id"]],
        hidden=True,
        actor=ACTOR,
        request_key="k",
    )
    assert result.status == "failed"
    assert "comment management permission" in result.message and "Ad Comments" in result.message
    assert store_status(cur, comment["comment_id"]) == comment["comment_status"]


def test_a_hide_whose_answer_was_lost_is_settled_from_the_comments_status(
    sandbox, cur, client, admin
):
    a, b = [
        c["comment_id"] for c in first_level_comments(cur, admin) if c["comment_status"] == "PUBLIC"
    ][:2]

    [applied] = outbox.set_hidden(
        cur,
        AdAccountWriter(Unreliable(client, "lost"), admin),
        comment_ids=[a],
        hidden=True,
        actor=ACTOR,
        request_key="x",
    )
    [lost] = outbox.set_hidden(
        cur,
        AdAccountWriter(Unreliable(client, "not_sent"), admin),
        comment_ids=[b],
        hidden=True,
        actor=ACTOR,
        request_key="y",
    )

    assert applied.status == "sent" and store_status(cur, a) == "HIDDEN"
    assert lost.status == "failed" and "still shows this comment as public" in lost.message
    assert store_status(cur, b) == "PUBLIC"
    writer = AdAccountWriter(client, admin)
    assert outbox.retry(cur, writer, lost.action_id, actor=ACTOR).status == "sent"
    assert truth_status(sandbox, admin, b) == "HIDDEN" and store_status(cur, b) == "HIDDEN"


def test_hiding_a_reply_is_reconciled_through_its_original(sandbox, cur, client, admin):
    [reply_row] = (
        cur.sql(
            "SELECT * FROM comments WHERE advertiser_id = ? AND "
            "comment_type = 'REPLY' AND comment_status = 'PUBLIC' LIMIT 1",
            params=[admin],
        )
        .to_arrow_table()
        .to_pylist()
    )
    [result] = outbox.set_hidden(
        cur,
        AdAccountWriter(Unreliable(client, "lost"), admin),
        comment_ids=[reply_row["comment_id"]],
        hidden=True,
        actor=ACTOR,
        request_key="r",
    )
    assert result.status == "sent"
    assert truth_status(sandbox, admin, reply_row["comment_id"]) == "HIDDEN"


# ---------------------------------------------------------------------------------------------
# What the UI reads


def test_the_audit_log_records_who_did_what_and_when(sandbox, cur, client, admin):
    parents = first_level_comments(cur, admin)
    send_reply(cur, client, admin, parents[0], key="ok")
    send_reply(cur, Unreliable(client, "lost"), admin, parents[1], key="lost", actor=OTHER)
    failed = send_reply(cur, Unreliable(client, "not_sent"), admin, parents[2], key="gone")
    outbox.retry(cur, AdAccountWriter(client, admin), failed.action_id, actor=OTHER)
    with pytest.raises(ActionRefused):
        send_reply(cur, client, admin, parents[3], "z" * 1201, key="long")

    log = outbox.audit_log(cur, admin)

    assert {"requested", "sent", "unknown", "reconciled", "retried", "refused"} <= set(log["event"])
    assert set(log["actor"]) == {ACTOR, OTHER}
    assert log["logged_at"].is_monotonic_decreasing
    assert log["logged_at"].dt.tz is not None
    by_action = log.dropna(subset=["action_id"]).groupby("action_id")["event"].apply(list)
    assert by_action.map(lambda e: e[-1] == "requested").all()  # newest first: requested last
    assert (log["advertiser_id"] == admin).all()
    assert len(outbox.audit_log(cur, limit=2)) == 2
    assert outbox.audit_log(cur, "someone-else").empty
    for detail in log["detail"].dropna():
        assert client._access_token not in detail


def test_failed_sends_are_audited_as_failed(sandbox, cur, client):
    read_only = advertiser_with_access(sandbox, "READ_ONLY")
    fill_store(cur, client, read_only, sandbox_today(sandbox))
    send_reply(cur, client, read_only, first_level_comments(cur, read_only)[0])
    log = outbox.audit_log(cur, read_only)
    [detail] = log.loc[log["event"] == "failed", "detail"]
    assert "PermissionDenied" in detail and "40001" in detail


def test_recent_actions_and_actions_for_comments_list_newest_first_with_messages(
    sandbox, cur, client, admin
):
    parents = first_level_comments(cur, admin)
    one = send_reply(cur, client, admin, parents[0], key="1")
    two = send_reply(cur, Unreliable(client, "not_sent"), admin, parents[1], key="2")
    [three] = outbox.set_hidden(cur, AdAccountWriter(client, admin),
        comment_ids=[parents[0]["comment_id"]],
        hidden=True,
        actor=ACTOR,
        request_key="3",
    )

    recent = outbox.recent_actions(cur, admin)
    assert list(recent["action_id"]) == [three.action_id, two.action_id, one.action_id]
    assert list(recent["status"]) == ["sent", "failed", "sent"]
    assert list(recent["message"]) == [three.message, two.message, one.message]
    assert str(recent["attempts"].dtype) == "Int32"
    assert len(outbox.recent_actions(cur, admin, limit=1)) == 1

    mine = outbox.actions_for_comments(cur, [parents[0]["comment_id"]])
    assert list(mine["kind"]) == ["hide", "reply"]
    assert outbox.actions_for_comments(cur, []).empty
    assert "message" in outbox.actions_for_comments(cur, []).columns


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"comment_type": "REPLY", "original_comment_id": "1"}, "Only first-level comments"),
        ({"comment_type": None, "original_comment_id": "1"}, "Only first-level comments"),
        (
            {
                "comment_type": "COMMENT",
                "ad_id": "1",
                "tiktok_item_id": "2",
                "identity_type": "TT_USER",
                "identity_id": "3",
                "is_auth_comment_manage_scope": False,
            },
            "comment-management permission",
        ),
        (
            {
                "comment_type": "COMMENT",
                "ad_id": None,
                "tiktok_item_id": "2",
                "identity_type": "TT_USER",
                "identity_id": "3",
            },
            "missing its ad's video or identity",
        ),
        (
            {
                "comment_type": "COMMENT",
                "ad_id": "1",
                "tiktok_item_id": "2",
                "identity_type": "",
                "identity_id": "3",
            },
            "missing its ad's video or identity",
        ),
        (
            {
                "comment_type": "COMMENT",
                "ad_id": "1",
                "tiktok_item_id": "2",
                "identity_type": "TT_USER",
                "identity_id": "3",
                "is_auth_comment_manage_scope": True,
            },
            None,
        ),
        (
            {
                "comment_type": "COMMENT",
                "ad_id": "1",
                "tiktok_item_id": "2",
                "identity_type": "TT_USER",
                "identity_id": "3",
            },
            None,
        ),  # permission not reported
    ],
)
def test_can_reply_reasons(row, reason):
    answer = outbox.can_reply(row)
    assert answer is None if reason is None else reason in answer


def test_can_reply_reads_dataframe_rows_with_missing_values():
    frame = pd.DataFrame(
        {
            "comment_type": ["COMMENT", "COMMENT", "REPLY"],
            "original_comment_id": [None, None, "1"],
            "ad_id": ["1", None, "1"],
            "tiktok_item_id": ["2", "2", "2"],
            "identity_type": ["TT_USER"] * 3,
            "identity_id": ["3"] * 3,
            "is_auth_comment_manage_scope": pd.array([False, pd.NA, True], dtype="boolean"),
        }
    )
    reasons = [outbox.can_reply(row) for _, row in frame.iterrows()]
    assert "comment-management" in reasons[0]
    assert "missing" in reasons[1]
    assert reasons[2] == outbox.FIRST_LEVEL_ONLY


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (
            PermissionDenied("No permission to operate.", 40001),
            ["reply to or hide comments", "owner", "comment management permission"],
        ),
        (
            PermissionDenied("Developer has no permission.", 40125),
            ["comment management permission", "Business Center or Ads Manager", "reconnect"],
        ),
        (
            AppUnavailable("App is blocked.", 40113, "req-9"),
            ["blocked or non-existent", "TIKTOK_CLIENT_KEY", "developer portal", "req-9"],
        ),
        (
            PermissionDenied(
                "identity 5 has not authorized comment management "
                "(is_auth_comment_manage_scope is false).",
                40001,
            ),
            ["comment-management permission", "ask the owner"],
        ),
        (
            InvalidRequest("comment_id: only first-level comments can be replied to.", 40002),
            ["Only first-level comments", "original comment"],
        ),
        (
            InvalidRequest("text: Length must be between 1 and 150.", 40002),
            ["at most 150", "shorten"],
        ),
        (
            InvalidRequest("The reply is 151 characters long; the limit is 150."),
            ["151 characters", "shorten"],
        ),
        (InvalidRequest("The reply is empty; write some text first."), ["write some text"]),
        (InvalidRequest("comment_id: Comment 1 does not exist on ad 2.", 40002), ["sync"]),
        (InvalidRequest("search_value: wrong", 40002, "req-9"), ["sync", "req-9"]),
        (RateLimited("Rate limit exceeded", 40100), ["wait a minute", "retry"]),
        (
            TokenError("Access token is incorrect or has been revoked.", 40105),
            ["reconnect", "Home page"],
        ),
        (AuthCodeError("bad code", 40110), ["Home page"]),
        (ServerError("internal timeout", 51010, "req-1"), ["few minutes", "req-1"]),
        (TransportError("POST comment/post/ lost the connection"), ["few minutes"]),
        (
            TransportError("GET ad/get/ could not connect", possibly_applied=False),
            ["could not reach TikTok", "stay readable", "Try again"],
        ),
        (MalformedResponse("not JSON"), ["few minutes"]),
        (
            OutcomeUnknown("POST comment/post/ was sent but no usable answer came back"),
            ["did not confirm", "Retry", "twice"],
        ),
        (PartialSuccess("partial", 20001), ["retry the rest"]),
        (TikTokError("something new", 49999, "req-2"), ["try again later", "req-2"]),
        (ActionRefused("The reply is empty; write some text first."), ["write some text"]),
        (ValueError("internal detail"), ["ValueError", "try again"]),
    ],
)
def test_human_message_says_what_happened_and_what_to_do(error, says):
    message = message_for(error)
    for phrase in says:
        assert phrase in message
    assert "internal detail" not in message
    assert message[0].isupper() and message.rstrip(")").endswith((".", "req-1", "req-2", "req-9"))
