"""A sync against a sandbox that fails a fifth of its answers, every kind of failure included.

The sandbox runs on a ManualClock with a fixed start and the sync is given the sandbox's day,
so the requests, and so the faults the sandbox decides from them, are the same on every run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk import store as db
from desk.sources.ad_sync import SyncOptions, sync_advertiser
from desk.store import Store
from tests.desk.test_actions_support import make_client, sandbox_today
from tiktok_sandbox import ManualClock, SandboxConfig, start_sandbox

from .support import assert_store_matches_truth, busiest_advertiser, truth

START = 1_900_000_000.0
READ_FAULTS = {"http_5xx", "throttled", "internal_timeout", "stall", "truncated"}


@pytest.mark.slow
def test_a_sync_meeting_every_kind_of_fault_stores_exactly_the_sandboxs_data(tmp_path):
    config = SandboxConfig(
        seed=11, advertisers=2, ads=16, comments=1600, new_comments_per_minute=0,
        qps=100_000, qpm=10_000_000, fault_rate=0.2, stall_seconds=0.6,
        clock=ManualClock(START),
    )
    with start_sandbox(config) as sandbox, Store.open(tmp_path / "desk.duckdb") as store:
        advertiser_id = busiest_advertiser(sandbox)
        client = make_client(sandbox, timeout=0.25, max_attempts=10, deadline=120)
        today = sandbox_today(sandbox)

        result = sync_advertiser(store, client, advertiser_id, today=today,
                                 options=SyncOptions(lookback_days=130, page_size=10))

        faults = sandbox.stats()["faults"]
        assert set(faults) == READ_FAULTS, faults  # every kind a read can meet, each met
        assert (result.status, result.failures) == ("ok", ())
        # Each faulty answer cost one retry; throttling was only the injected kind.
        assert result.retried >= sum(faults.values())
        assert result.throttled == faults["throttled"]
        cur = store.cursor()
        assert_store_matches_truth(cur, sandbox, advertiser_id)
        adgroups = {a["adgroup_id"] for a in truth(sandbox, advertiser_id)["ads"].values()}
        cursors = db.get_cursors(cur, advertiser_id)
        assert set(cursors) == adgroups
        assert {c.synced_through for c in cursors.values()} == {today + timedelta(days=1)}
        run = db.last_sync_run(cur, advertiser_id)
        assert (run.status, run.errors, run.retried) == ("ok", 0, result.retried)
