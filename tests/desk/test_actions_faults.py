"""desk.outbox under the sandbox's own injected faults: lost answers, stalls, 5xx, throttling.

The sandbox runs on a ManualClock with a fixed start so that its IDs, and so the faults it
injects (decided from a hash of each request), are the same on every run.
"""

from __future__ import annotations

from collections import Counter

import pytest

from desk import outbox
from desk.sources import AdAccountWriter
from desk.store import Store
from tiktok_sandbox import ManualClock, start_sandbox

from .test_actions_support import (
    ACTOR,
    POST_PATH,
    STATUS_PATH,
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

START = 1_900_000_000.0  # 2030-03-17, after any outbox row's created_at


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


def faulty(fault_rate: float):
    return start_sandbox(
        sandbox_config(fault_rate=fault_rate, stall_seconds=2.0, clock=ManualClock(START))
    )


def filled(sandbox, cur, client) -> str:
    admin = advertiser_with_access(sandbox, "WRITER")
    fill_store(cur, client, admin, sandbox_today(sandbox))
    return admin


@pytest.mark.slow
def test_every_reply_whose_answer_the_sandbox_lost_is_settled_exactly_once(store):
    cur = store.cursor()
    with faulty(1.0) as sandbox:
        client = make_client(sandbox, timeout=0.5, max_attempts=8)
        admin = filled(sandbox, cur, client)
        parents = first_level_comments(cur, admin)[:4]

        report = reply_until_settled(cur, client, admin, parents, 12, key_prefix="lost")

        assert_exactly_once(cur, sandbox, admin, report)
        log = outbox.audit_log(cur, admin, limit=10_000)
        reconciled = log[(log["event"] == "reconciled") & log["detail"].str.endswith("marked sent")]
        # Some answers were lost after TikTok applied the reply: settled without resending.
        assert report.statuses_after_send["sent"] >= 1 and len(reconciled) >= 1
        assert "unknown" in set(log["event"])
        faults = sandbox.stats()["faults"]
        assert faults.get("applied_dropped", 0) + faults.get("stall", 0) >= 1
        assert sends(sandbox) > len(report.action_ids)  # resends happened, never duplicates


@pytest.mark.slow
def test_fifty_replies_with_a_fifth_of_requests_failing_all_land_exactly_once(store):
    cur = store.cursor()
    with faulty(0.2) as sandbox:
        client = make_client(sandbox, timeout=0.5, max_attempts=8)
        admin = filled(sandbox, cur, client)
        parents = first_level_comments(cur, admin)[:25]

        report = reply_until_settled(cur, client, admin, parents, 50, key_prefix="fifty")

        assert_exactly_once(cur, sandbox, admin, report)
        assert sends(sandbox) >= 50
        assert report.rounds <= 5
        events = Counter(outbox.audit_log(cur, admin, limit=10_000)["event"])
        assert events["requested"] == 50
        assert events["sent"] + events["reconciled"] >= 50


@pytest.mark.slow
def test_hides_under_faults_end_with_every_comment_hidden(store):
    cur = store.cursor()
    with faulty(0.5) as sandbox:
        client = make_client(sandbox, timeout=0.5, max_attempts=8)
        admin = filled(sandbox, cur, client)
        ids = [
            c["comment_id"]
            for c in first_level_comments(cur, admin)
            if c["comment_status"] == "PUBLIC"
        ][:12]

        results = []
        for i in range(0, len(ids), 3):
            results += outbox.set_hidden(cur, AdAccountWriter(client, admin),
                comment_ids=ids[i : i + 3],
                hidden=True,
                actor=ACTOR,
                request_key=f"hide-{i}",
            )
        for _ in range(10):
            open_ids = [
                r.action_id
                for r in results
                if outbox.get_action(cur, r.action_id).status != "sent"
            ]
            if not open_ids:
                break
            for action_id in open_ids:
                outbox.retry(cur, AdAccountWriter(client, admin), action_id, actor=ACTOR)

        truth = {
            c["comment_id"]: c["comment_status"] for c in sandbox.ground_truth(admin)["comments"]
        }
        assert {truth[c] for c in ids} == {"HIDDEN"}
        assert {outbox.get_action(cur, r.action_id).status for r in results} == {"sent"}
        stored = cur.sql(
            "SELECT DISTINCT comment_status FROM comments WHERE comment_id IN "
            f"({', '.join('?' for _ in ids)})",
            params=ids,
        ).fetchall()
        assert stored == [("HIDDEN",)]
        assert sends(sandbox, STATUS_PATH) >= 4
        assert sends(sandbox, POST_PATH) == 0
