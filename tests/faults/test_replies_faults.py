"""200 replies while a fifth of the sandbox's answers fail, lost-after-applied ones included.

The sandbox runs on a ManualClock with a fixed start (as in tests/desk/test_actions_faults.py),
so its IDs, and so the faults it decides from each request, are the same on every run.
"""

from __future__ import annotations

from collections import Counter

import pytest

from desk import store as db
from desk.outbox import ledger
from desk.store import Store
from tests.desk.test_actions_support import (
    POST_PATH,
    advertiser_with_access,
    assert_exactly_once,
    fill_store,
    first_level_comments,
    make_client,
    reply_until_settled,
    sandbox_config,
    sandbox_today,
    sends,
)
from tiktok_sandbox import ManualClock, start_sandbox

START = 1_900_000_000.0  # 2030-03-17, after any outbox row's created_at
REPLIES = 200


def replies_on_tiktok(sandbox, advertiser_id: str) -> Counter:
    return Counter(
        (c["original_comment_id"], c["content"])
        for c in sandbox.ground_truth(advertiser_id)["comments"]
        if c["comment_type"] == "REPLY"
    )


@pytest.mark.slow
def test_two_hundred_replies_under_faults_each_exist_once_and_the_outbox_agrees(tmp_path):
    config = sandbox_config(fault_rate=0.2, stall_seconds=1.0, clock=ManualClock(START))
    with Store.open(tmp_path / "desk.duckdb") as store, start_sandbox(config) as sandbox:
        cur = store.cursor()
        client = make_client(sandbox, timeout=0.4, max_attempts=8)
        admin = advertiser_with_access(sandbox, "WRITER")
        fill_store(cur, client, admin, sandbox_today(sandbox))
        parents = first_level_comments(cur, admin)[:40]
        assert len(parents) == 40
        before = replies_on_tiktok(sandbox, admin)

        report = reply_until_settled(cur, client, admin, parents, REPLIES, key_prefix="busy")

        # Every reply is on TikTok exactly once, under its comment, with the outbox's ID.
        assert_exactly_once(cur, sandbox, admin, report)
        added = replies_on_tiktok(sandbox, admin) - before
        assert sum(added.values()) == REPLIES and set(added.values()) == {1}
        assert set(added) == set(report.texts.values())
        # The outbox agrees: one row per reply, all sent, none pending, no ID twice.
        outbox = db.query_records(
            cur, "SELECT status, result_comment_id, request_key FROM outbox "
                 "WHERE advertiser_id = ?", [admin])
        assert len(outbox) == REPLIES
        assert Counter(r["status"] for r in outbox) == {"sent": REPLIES}
        assert len({r["result_comment_id"] for r in outbox}) == REPLIES
        # The store shows each reply once, under its comment, as TikTok has it.
        ids = [r["result_comment_id"] for r in outbox]
        stored = db.query_records(
            cur, "SELECT comment_id, original_comment_id, content FROM comments WHERE "
                 f"comment_id IN ({', '.join('?' for _ in ids)})", ids)  # noqa: S608
        assert len(stored) == REPLIES
        assert {(r["original_comment_id"], r["content"]) for r in stored} == set(added)

        # The faults were met: answers lost after TikTok applied the reply among them, and
        # those replies were settled by asking TikTok, never by sending them again.
        faults = sandbox.stats()["faults"]
        assert faults.get("applied_dropped", 0) >= 1, faults
        assert {"http_5xx", "throttled", "internal_timeout", "stall", "truncated"} <= set(faults)
        log = ledger.audit_log(cur, admin, limit=100_000)
        found = log[(log["event"] == "reconciled") & log["detail"].str.endswith("marked sent")]
        assert len(found) >= faults["applied_dropped"]
        assert sends(sandbox, POST_PATH) > REPLIES  # some were sent again, none landed twice
