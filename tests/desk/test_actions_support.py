"""Helpers for the desk.outbox tests (no tests here): a sandbox, a filled store, checks.

Reusable by larger runs (e.g. the planned 200-reply test): `sandbox_config`, `make_client`,
`fill_store`, `first_level_comments`, `reply_until_settled` and `assert_exactly_once`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from desk import outbox
from desk import store as db
from desk.sources import AdAccountWriter
from tests.world import advertisers_by_access
from tiktok_client.client import TikTokClient
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox import SandboxConfig

POST_PATH = "/open_api/v1.3/comment/post/"
STATUS_PATH = "/open_api/v1.3/comment/status/update/"
ACTOR = "maria@brand.example"


def sandbox_config(**overrides) -> SandboxConfig:
    """The small world these tests run against (the brief's configuration)."""
    settings = dict(
        seed=1,
        advertisers=3,
        ads=24,
        comments=1500,
        qps=100_000,
        qpm=1_000_000,
        new_comments_per_minute=0,
        port=0,
    )
    settings.update(overrides)
    return SandboxConfig(**settings)


class FakeClock:
    """A monotonic clock for the client's rate limiter that sleeping moves instantly."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def make_client(sandbox, token: str | None = None, **options) -> TikTokClient:
    """A client of the sandbox that never really sleeps (throttling pauses are instant)."""
    clock = FakeClock()
    settings = dict(
        base_url=sandbox.base_url,
        rate_limiter=RateLimiter(1000, 100_000, clock=clock, sleep=clock.sleep),
        sleep=lambda s: None,
    )
    settings.update(options)
    return TikTokClient(token or sandbox.issue_token(), **settings)


def advertiser_with_access(sandbox, access: str) -> str:
    """The sandbox ad account with that access for the connected user (tests.world)."""
    return advertisers_by_access(sandbox.ground_truth())[access]


def fill_store(cur, client: TikTokClient, advertiser_id: str, today: date, days: int = 30) -> int:
    """Store the advertiser's ads and the comments of the last `days` days; return how many."""
    seen = datetime.now(UTC)
    ads = list(client.iter_ads(advertiser_id))
    db.upsert_ads(cur, pd.DataFrame.from_records([a.to_record() for a in ads]), seen)
    start = today - timedelta(days=days - 1)
    stored = 0
    for adgroup_id in sorted({a.adgroup_id for a in ads if a.adgroup_id}):
        comments = list(client.iter_comments(advertiser_id, adgroup_id, start, today))
        if comments:
            frame = pd.DataFrame.from_records([c.to_record() for c in comments])
            frame["advertiser_id"] = advertiser_id  # comment/list rows do not carry it
            stored += db.upsert_comments(cur, frame, seen)
    return stored


def sandbox_today(sandbox) -> date:
    return datetime.fromtimestamp(sandbox.ground_truth()["now_ts"], UTC).date()


def first_level_comments(cur, advertiser_id: str, *, manageable: bool = True) -> list[dict]:
    """Stored first-level comments a reply may (or, manageable=False, may not) be posted to."""
    rows = (
        cur.sql(
            "SELECT * FROM comments WHERE advertiser_id = ? AND comment_type = 'COMMENT' "
            "AND is_auth_comment_manage_scope = ? ORDER BY comment_id",
            params=[advertiser_id, manageable],
        )
        .to_arrow_table()
        .to_pylist()
    )
    return rows


def sends(sandbox, path: str = POST_PATH) -> int:
    return sandbox.stats()["by_path"].get(path, 0)


def sandbox_replies(sandbox, advertiser_id: str, parent_id: str, text: str) -> list[dict]:
    """The replies on the sandbox to `parent_id` with exactly this text."""
    truth = sandbox.ground_truth(advertiser_id)
    return [
        c
        for c in truth["comments"]
        if c["original_comment_id"] == parent_id and c["content"] == text
    ]


@dataclass
class SettleReport:
    action_ids: list[int]
    texts: dict[int, tuple[str, str]]  # action_id -> (parent comment_id, text)
    rounds: int = 0
    statuses_after_send: Counter = field(default_factory=Counter)


def reply_until_settled(
    cur,
    client: TikTokClient,
    advertiser_id: str,
    parents: Sequence[dict],
    count: int,
    *,
    actor: str = ACTOR,
    max_rounds: int = 20,
    key_prefix: str = "load",
) -> SettleReport:
    """Post `count` replies (unique texts) over `parents`, then retry until all are sent.

    Every reply() already reconciles once when its answer is lost; the rounds after that call
    retry() on whatever is not yet sent (retry reconciles first, then resends if needed).
    """
    report = SettleReport([], {})
    for i in range(count):
        parent = parents[i % len(parents)]
        text = f"{key_prefix} reply #{i}: thanks for your comment!"
        result = outbox.reply(cur, AdAccountWriter(client, advertiser_id),
            comment_id=parent["comment_id"],
            text=text,
            actor=actor,
            request_key=f"{key_prefix}-{i}",
        )
        report.action_ids.append(result.action_id)
        report.texts[result.action_id] = (parent["comment_id"], text)
        report.statuses_after_send[result.status] += 1
    open_ids = _not_sent(cur, report.action_ids)
    while open_ids and report.rounds < max_rounds:
        report.rounds += 1
        for action_id in open_ids:
            outbox.retry(cur, AdAccountWriter(client, advertiser_id), action_id, actor=actor)
        open_ids = _not_sent(cur, report.action_ids)
    assert not open_ids, f"{len(open_ids)} replies still not sent after {max_rounds} rounds"
    return report


def _not_sent(cur, action_ids: Iterable[int]) -> list[int]:
    return [i for i in action_ids if outbox.get_action(cur, i).status != "sent"]


def assert_exactly_once(cur, sandbox, advertiser_id: str, report: SettleReport) -> None:
    """Each reply exists on the sandbox exactly once, under its parent, with the outbox's id."""
    truth = sandbox.ground_truth(advertiser_id)
    by_text = Counter(
        (c["original_comment_id"], c["content"])
        for c in truth["comments"]
        if c["comment_type"] == "REPLY"
    )
    ids = {
        (c["original_comment_id"], c["content"]): c["comment_id"]
        for c in truth["comments"]
        if c["comment_type"] == "REPLY"
    }
    for action_id in report.action_ids:
        parent_id, text = report.texts[action_id]
        assert by_text[(parent_id, text)] == 1, (
            f"{text!r} is on TikTok {by_text[(parent_id, text)]}x"
        )
        action = outbox.get_action(cur, action_id)
        assert action.status == "sent"
        assert action.result_comment_id == ids[(parent_id, text)]
    frame = outbox.recent_actions(cur, advertiser_id, limit=len(report.action_ids) + 100)
    mine = frame[frame["action_id"].isin(report.action_ids)]
    assert len(mine) == len(report.action_ids)
    assert set(mine["status"]) == {"sent"}
    assert mine["result_comment_id"].is_unique
