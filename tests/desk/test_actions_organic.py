"""desk.outbox for organic comments (a business account's own videos) against the sandbox over
real HTTP: reply, hide and unhide through the same outbox and audit log as ad comments."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from desk import outbox
from desk import store as db
from desk.connect.tokens import AccountNeedsReconnect
from desk.errors import TIKTOK_ACCOUNT, message_for
from desk.sources import AdAccountWriter, TikTokAccountWriter
from desk.sources.account_sync import sync_business_account
from desk.store import Store
from tiktok_client.accounts import BusinessAccountClient
from tiktok_client.errors import AccessTokenExpired, RefreshTokenError
from tiktok_sandbox import ManualClock, start_sandbox

from .test_actions_support import ACTOR, make_client, sandbox_config

REPLY_PATH = "/open_api/v1.3/business/comment/reply/create/"
HIDE_PATH = "/open_api/v1.3/business/comment/hide/"
START = 1_900_000_000.0  # 2030-03-17, after any outbox row's created_at


def organic_config(**overrides):
    settings = dict(
        seed=5,
        advertisers=1,
        ads=4,
        comments=50,
        business_accounts=1,
        videos_per_account=3,
        organic_comments=200,
        new_organic_comments_per_minute=0.0,
        latency_ms=0,
    )
    settings.update(overrides)
    return sandbox_config(**settings)


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(organic_config()) as sb:
        yield sb


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


def business_id_of(sandbox) -> str:
    return sandbox.ground_truth_accounts()["accounts"][0]["business_id"]


def synced(sandbox, store, **options) -> tuple[object, BusinessAccountClient, str]:
    """A cursor on a store holding the account's organic comments, the account's client and
    its access token."""
    business_id = business_id_of(sandbox)
    token = sandbox.issue_account_token(business_id)["access_token"]
    account = BusinessAccountClient(make_client(sandbox, token, **options), business_id)
    result = sync_business_account(store, account.client, business_id, lambda: token)
    assert result.status == "ok", result.message
    return store.cursor(), account, token


def organic_rows(cur, business_id: str, comment_type: str, status: str = "PUBLIC") -> list[dict]:
    return db.query_records(
        cur,
        "SELECT * FROM comments WHERE source = 'organic' AND business_id = ? "
        "AND comment_type = ? AND comment_status = ? ORDER BY comment_id",
        [business_id, comment_type, status],
    )


def truth_replies(sandbox, business_id: str, parent_id: str, text: str) -> list[dict]:
    return [
        c
        for c in sandbox.ground_truth_accounts(business_id)["comments"]
        if c["parent_comment_id"] == parent_id and c["text"] == text
    ]


def requests_made(sandbox) -> int:
    return sandbox.stats()["total"]


def sends(sandbox, path: str = REPLY_PATH) -> int:
    return sandbox.stats()["by_path"].get(path, 0)


def test_a_reply_to_an_organic_comment_is_posted_once_and_stored(sandbox, store):
    cur, account, _ = synced(sandbox, store)
    parent = organic_rows(cur, account.business_id, "COMMENT")[0]
    text = "Thanks for watching! (organic)"

    result = outbox.reply(
        cur, TikTokAccountWriter(account), comment_id=parent["comment_id"], text=text, actor=ACTOR,
        request_key="organic-reply-1"
    )

    [posted] = truth_replies(sandbox, account.business_id, parent["comment_id"], text)
    assert result.status == "sent" and result.kind == "reply"
    assert result.result_comment_id == posted["comment_id"]
    assert posted["owner"] is True
    [row] = outbox.recent_actions(cur, None, business_id=account.business_id).to_dict("records")
    assert (row["source"], row["business_id"], row["video_id"]) == (
        "organic",
        account.business_id,
        parent["video_id"],
    )
    assert pd.isna(row["advertiser_id"])
    stored = db.query_records(
        cur, "SELECT * FROM comments WHERE comment_id = ?", [posted["comment_id"]]
    )
    assert stored[0]["source"] == "organic"
    assert stored[0]["original_comment_id"] == parent["comment_id"]
    assert stored[0]["content"] == text and stored[0]["comment_type"] == "REPLY"
    after = db.query_records(
        cur, "SELECT replies FROM comments WHERE comment_id = ?", [parent["comment_id"]]
    )
    assert after[0]["replies"] == (parent["replies"] or 0) + 1
    events = set(outbox.audit_log(cur, limit=1000)["event"])
    assert {"requested", "sent"} <= events


def test_a_double_click_with_the_same_request_key_sends_the_organic_reply_once(sandbox, store):
    cur, account, _ = synced(sandbox, store)
    parent = organic_rows(cur, account.business_id, "COMMENT")[1]
    text = "Double click, one reply."
    before = sends(sandbox)

    first = outbox.reply(cur, TikTokAccountWriter(account),
        comment_id=parent["comment_id"],
        text=text,
        actor=ACTOR,
        request_key="organic-double",
    )
    second = outbox.reply(cur, TikTokAccountWriter(account),
        comment_id=parent["comment_id"],
        text=text,
        actor=ACTOR,
        request_key="organic-double",
    )

    assert sends(sandbox) - before == 1
    assert len(truth_replies(sandbox, account.business_id, parent["comment_id"], text)) == 1
    assert not first.duplicate and second.duplicate
    assert second.action_id == first.action_id and second.status == "sent"
    assert "nothing was sent again" in second.message


def test_a_reply_to_an_organic_reply_is_refused_without_any_request(sandbox, store):
    cur, account, _ = synced(sandbox, store)
    a_reply = organic_rows(cur, account.business_id, "REPLY")[0]
    before = requests_made(sandbox)

    with pytest.raises(outbox.ActionRefused) as refused:
        outbox.reply(
            cur, TikTokAccountWriter(account), comment_id=a_reply["comment_id"], text="Hello",
            actor=ACTOR, request_key="organic-to-reply"
        )

    assert str(refused.value) == outbox.FIRST_LEVEL_ONLY
    assert requests_made(sandbox) == before
    assert outbox.recent_actions(cur, None, business_id=account.business_id).empty
    log = outbox.audit_log(cur, limit=100)
    assert list(log["event"]) == ["refused"]


def test_an_organic_reply_over_1200_characters_is_refused_without_any_request(sandbox, store):
    cur, account, _ = synced(sandbox, store)
    parent = organic_rows(cur, account.business_id, "COMMENT")[0]
    before = requests_made(sandbox)

    with pytest.raises(outbox.ActionRefused, match="1201 characters long"):
        outbox.reply(cur, TikTokAccountWriter(account),
            comment_id=parent["comment_id"],
            text="x" * 1201,
            actor=ACTOR,
            request_key="organic-long",
        )

    assert requests_made(sandbox) == before
    assert outbox.recent_actions(cur, None, business_id=account.business_id).empty


def test_hiding_then_unhiding_an_organic_comment_shows_on_tiktok_and_in_the_store(sandbox, store):
    cur, account, _ = synced(sandbox, store)
    comment = organic_rows(cur, account.business_id, "COMMENT")[2]
    comment_id = comment["comment_id"]

    def on_tiktok() -> str:
        truth = sandbox.ground_truth_accounts(account.business_id)["comments"]
        return next(c["status"] for c in truth if c["comment_id"] == comment_id)

    def in_store() -> str:
        return db.query_records(
            cur, "SELECT comment_status FROM comments WHERE comment_id = ?", [comment_id]
        )[0]["comment_status"]

    [hidden] = outbox.set_hidden(
        cur, TikTokAccountWriter(account), comment_ids=[comment["comment_id"]], hidden=True,
        actor=ACTOR, request_key="organic-hide"
    )
    assert (hidden.status, hidden.kind, on_tiktok(), in_store()) == (
        "sent",
        "hide",
        "HIDDEN",
        "HIDDEN",
    )
    sent_hides = sends(sandbox, HIDE_PATH)
    [again] = outbox.set_hidden(cur, TikTokAccountWriter(account),
        comment_ids=[comment_id],
        hidden=True,
        actor=ACTOR,
        request_key="organic-hide",
    )
    assert again.duplicate and sends(sandbox, HIDE_PATH) == sent_hides

    [shown] = outbox.set_hidden(cur, TikTokAccountWriter(account),
        comment_ids=[comment_id],
        hidden=False,
        actor=ACTOR,
        request_key="organic-unhide",
    )
    assert (shown.status, shown.kind, on_tiktok(), in_store()) == (
        "sent",
        "unhide",
        "PUBLIC",
        "PUBLIC",
    )


def test_a_revoked_account_token_fails_the_write_with_the_reconnect_message(sandbox, store):
    cur, account, token = synced(sandbox, store)
    parent = organic_rows(cur, account.business_id, "COMMENT")[3]
    sandbox.revoke_account_token(token)

    result = outbox.reply(cur, TikTokAccountWriter(account),
        comment_id=parent["comment_id"],
        text="Anyone there?",
        actor=ACTOR,
        request_key="organic-revoked",
    )

    assert result.status == "failed"
    assert "reconnect the TikTok account on the Home page" in result.message
    assert truth_replies(sandbox, account.business_id, parent["comment_id"], "Anyone there?") == []


@pytest.mark.parametrize(
    "error",
    [
        AccessTokenExpired("Access token is expired", 40102),
        RefreshTokenError("Refresh token is invalid", 40103),
        AccountNeedsReconnect("The TikTok business account 1 must be connected again."),
    ],
)
def test_account_token_trouble_says_to_reconnect_the_tiktok_account(error):
    message = message_for(error, TIKTOK_ACCOUNT)
    assert "reconnect the TikTok account on the Home page" in message


def test_an_organic_action_is_not_retried_with_another_accounts_client(sandbox, store):
    cur, account, _ = synced(sandbox, store)
    parent = organic_rows(cur, account.business_id, "COMMENT")[4]
    result = outbox.reply(cur, TikTokAccountWriter(account),
        comment_id=parent["comment_id"],
        text="Mine",
        actor=ACTOR,
        request_key="organic-owner",
    )
    ads_client = make_client(sandbox)

    with pytest.raises(outbox.ActionRefused, match=account.business_id):
        outbox.retry(cur, AdAccountWriter(ads_client, "7000000000000000001"), result.action_id,
                     actor=ACTOR)


def test_thirty_organic_replies_with_a_fifth_of_requests_failing_each_land_exactly_once(store):
    config = organic_config(fault_rate=0.2, stall_seconds=2.0, clock=ManualClock(START))
    with start_sandbox(config) as sandbox:
        cur, account, _ = synced(sandbox, store, timeout=0.5, max_attempts=8)
        parents = organic_rows(cur, account.business_id, "COMMENT")[:10]
        texts: dict[int, tuple[str, str]] = {}
        after_send: Counter = Counter()
        for i in range(30):
            parent = parents[i % len(parents)]
            text = f"organic reply #{i}: thank you!"
            result = outbox.reply(cur, TikTokAccountWriter(account),
                comment_id=parent["comment_id"],
                text=text,
                actor=ACTOR,
                request_key=f"organic-load-{i}",
            )
            texts[result.action_id] = (parent["comment_id"], text)
            after_send[result.status] += 1
        rounds = 0
        open_ids = [i for i in texts if outbox.get_action(cur, i).status != "sent"]
        while open_ids and rounds < 20:
            rounds += 1
            for action_id in open_ids:
                outbox.retry(cur, TikTokAccountWriter(account), action_id, actor=ACTOR)
            open_ids = [i for i in texts if outbox.get_action(cur, i).status != "sent"]

        assert not open_ids, f"{len(open_ids)} replies still not sent after {rounds} rounds"
        truth = sandbox.ground_truth_accounts(account.business_id)["comments"]
        on_tiktok = Counter((c["parent_comment_id"], c["text"]) for c in truth)
        ids = {(c["parent_comment_id"], c["text"]): c["comment_id"] for c in truth}
        for action_id, key in texts.items():
            assert on_tiktok[key] == 1, f"{key[1]!r} is on TikTok {on_tiktok[key]}x"
            assert outbox.get_action(cur, action_id).result_comment_id == ids[key]
        rows = outbox.recent_actions(cur, None, 1000, business_id=account.business_id)
        assert len(rows) == 30 and set(rows["status"]) == {"sent"}
        assert rows["result_comment_id"].is_unique
        faults = sandbox.stats()["faults"]
        assert faults.get("applied_dropped", 0) >= 1
        assert "unknown" in set(outbox.audit_log(cur, limit=10_000)["event"])
