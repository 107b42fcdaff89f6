"""The inbox and the sync: a done comment whose commenter writes again on TikTok is back in
the queue after the next sync, for the app's syncs and the command line alike
(desk.moderation.pipeline.sync_and_moderate)."""

from __future__ import annotations

import pytest

from desk import store as db
from desk.moderation.pipeline import sync_and_moderate
from desk.store.inbox import REOPENED_BY
from desk.store.times import utc_now
from tests.desk.rules_support import account, advertiser_id_of, open_workspace, world
from tiktok_sandbox import start_sandbox


@pytest.fixture
def sandbox():
    with start_sandbox(world()) as sb:
        yield sb


def open_ids(cur, advertiser_id: str) -> set[str]:
    return set(db.inbox_queue(cur, advertiser_id=advertiser_id, now=utc_now(),
                              limit=100_000)["comment_id"])


def test_a_done_comment_whose_commenter_writes_again_is_reopened_by_the_next_sync(
        sandbox, tmp_path):
    advertiser_id = advertiser_id_of(sandbox)
    with open_workspace(sandbox, tmp_path) as workspace:
        source = account(sandbox, workspace, "ad")
        assert sync_and_moderate(source, moderate=False).sync.status == "ok"
        with workspace.store.cursor() as cur:
            waiting = sorted(open_ids(cur, advertiser_id))
            again, quiet = waiting[:2]
            db.mark_done(cur, [again, quiet], "jo@brand.example")
            assert not {again, quiet} & open_ids(cur, advertiser_id)

        sandbox.add_reply(again, "Any news on my order?")
        assert sync_and_moderate(source, moderate=False).sync.status == "ok"

        with workspace.store.cursor() as cur:
            queue = open_ids(cur, advertiser_id)
            events = db.inbox_events(cur, [again])
        assert again in queue and quiet not in queue
        assert events[["kind", "actor"]].values.tolist() == [
            ["done", "jo@brand.example"], ["reopen", REOPENED_BY]]
