"""`python -m desk sync` killed with SIGKILL at ten different moments, restarted each time.

The moments are chosen by what has happened, not by sleeping: either the sandbox has received
the n-th request of that run (the test then kills the process), or the process reaches a given
call into desk.store and kills itself (tests/faults/crashing_sync.py). After every kill the
database opens and holds only true data: no duplicate, no half-stored row, every cursor backed
by all the comments up to it. The eleventh run ends "ok" with exactly the sandbox's data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from desk import store as desk_store
from desk.store import Store
from tiktok_sandbox import SandboxConfig, start_sandbox

from .support import assert_comment_is_true, assert_store_matches_truth, truth

ROOT = Path(__file__).resolve().parents[2]
ADVERTISER_INFO = "/open_api/v1.3/advertiser/info/"
AD_GET = "/open_api/v1.3/ad/get/"
COMMENT_LIST = "/open_api/v1.3/comment/list/"


@dataclass(frozen=True)
class KillPoint:
    name: str
    crash_at: str | None = None  # the process kills itself at this desk.store call, or ...
    path: str | None = None  # ... the test kills it once the sandbox has received `requests`
    requests: int = 0  # requests to `path` from this run


POINTS = (
    KillPoint("ads being fetched", path=AD_GET, requests=1),
    KillPoint("ads stored, no comment yet", crash_at="after:upsert_ads:1"),
    KillPoint("10th comment page asked for", path=COMMENT_LIST, requests=10),
    KillPoint("a flush: rows stored, no cursor moved", crash_at="before:set_cursor:1"),
    KillPoint("120th comment page asked for", path=COMMENT_LIST, requests=120),
    KillPoint("a flush, after its 5th cursor", crash_at="after:set_cursor:5"),
    KillPoint("30th comment page asked for", path=COMMENT_LIST, requests=30),
    KillPoint("a flush, after its 15th cursor", crash_at="after:set_cursor:15"),
    KillPoint("15th comment page asked for", path=COMMENT_LIST, requests=15),
    KillPoint("all stored, the run not yet finished", crash_at="before:finish_sync_run:1"),
)


@dataclass(frozen=True)
class Snapshot:
    """What the database holds after a kill, and the requests the run had sent, by endpoint."""

    requests: tuple[int, int, int]  # advertiser/info, ad/get, comment/list
    ads: int
    comments: frozenset[str]
    cursors: dict[str, tuple[date, datetime | None]]
    written: dict[str, datetime]  # when each cursor was last written
    runs: list[dict]

    def signature(self) -> tuple:
        return (self.requests, self.ads, len(self.comments), tuple(sorted(self.cursors.items())),
                tuple(sorted(self.written.items())))


class Syncs:
    """Starts `python -m desk sync` for one advertiser and database, and kills it."""

    def __init__(self, sandbox, advertiser_id: str, db: Path, logs: Path):
        self.sandbox, self.db, self.logs = sandbox, db, logs
        self.args = ["sync", "--advertiser-id", advertiser_id, "--db", str(db)]
        self.env = {**os.environ, "TIKTOK_ACCESS_TOKEN": sandbox.issue_token(),
                    "TIKTOK_API_BASE_URL": sandbox.base_url, "DESK_LOOKBACK_DAYS": "130",
                    # 50 requests/s: a whole run takes a few seconds, so it stores (every 2 s)
                    # before it ends, and kills find part of a run stored.
                    "TIKTOK_RATE_LIMIT_QPS": "50", "TIKTOK_RATE_LIMIT_QPM": "100000",
                    "PYTHONPATH": str(ROOT)}
        self.started = 0

    def _start(self, module: str, **env: str) -> subprocess.Popen:
        self.started += 1
        log = (self.logs / f"run-{self.started}.log").open("w")
        return subprocess.Popen([sys.executable, "-m", module, *self.args], cwd=ROOT,
                                env={**self.env, **env}, stdout=log, stderr=log)

    def kill_at(self, point: KillPoint) -> tuple[int, int, int]:
        """Run until `point`, SIGKILLed there; return the requests the run sent, by endpoint."""
        before = self.sandbox.stats()
        if point.crash_at is not None:
            proc = self._start("tests.faults.crashing_sync", CRASH_AT=point.crash_at)
        else:
            proc = self._start("desk")
        try:
            if point.crash_at is not None:
                proc.wait(timeout=180)
            else:
                seen = before["by_path"].get(point.path, 0)
                deadline = time.monotonic() + 180
                while self.sandbox.stats()["by_path"].get(point.path, 0) - seen < point.requests:
                    assert proc.poll() is None, f"the sync ended before {point.name}: {self.log()}"
                    assert time.monotonic() < deadline, f"never reached {point.name}"
                    time.sleep(0.001)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
        finally:
            if proc.poll() is None:  # the test failed: leave no process behind
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL, (point.name, proc.returncode, self.log())
        after = self.sandbox.stats()["by_path"]
        return tuple(after.get(p, 0) - before["by_path"].get(p, 0)
                     for p in (ADVERTISER_INFO, AD_GET, COMMENT_LIST))

    def finish(self) -> subprocess.CompletedProcess:
        self.started += 1
        return subprocess.run([sys.executable, "-m", "desk", *self.args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=300)

    def log(self) -> str:
        return (self.logs / f"run-{self.started}.log").read_text()[-2000:]


def utc_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def inspect(db: Path, world: dict, advertiser_id: str, requests: tuple) -> Snapshot:
    """Open the killed database and check it holds only true, complete data."""
    with Store.open_readonly(db) as store:
        cur = store.cursor()
        comments = desk_store.query_records(cur, "SELECT * FROM comments")
        ids = [row["comment_id"] for row in comments]
        assert len(ids) == len(set(ids)), "duplicate comment rows"
        for row in comments:  # every row whole and true
            assert row["comment_id"] in world["comments"]
            assert_comment_is_true(row, world["comments"][row["comment_id"]])
        ads = {r[0] for r in cur.execute("SELECT ad_id FROM ads").fetchall()}
        assert ads <= set(world["ads"])
        cursors = {}
        for adgroup_id, cursor in desk_store.get_cursors(cur, advertiser_id).items():
            # Every comment up to the cursor's day is stored; its high-water mark is theirs.
            upto = [c for c in world["comments"].values() if c["adgroup_id"] == adgroup_id
                    and utc_day(c["create_ts"]) <= cursor.synced_through]
            assert {c["comment_id"] for c in upto} <= set(ids), adgroup_id
            newest = max((c["create_ts"] for c in upto), default=None)
            assert (cursor.high_water.timestamp() if cursor.high_water else None) == newest
            cursors[adgroup_id] = (cursor.synced_through, cursor.high_water)
        written = {r["adgroup_id"]: r["updated_at"] for r in desk_store.query_records(
            cur, "SELECT adgroup_id, updated_at FROM sync_cursors")}
        runs = desk_store.query_records(cur, "SELECT run_id, status, finished_at, requests "
                                     "FROM sync_runs ORDER BY run_id")
        assert cur.execute("SELECT count(*) FROM sync_failures").fetchone() == (0,)
    return Snapshot(requests, len(ads), frozenset(ids), cursors, written, runs)


def rewritten(before: Snapshot, after: Snapshot) -> set[str]:
    """The ad groups whose cursor the killed run wrote (perhaps with the values it had)."""
    return {g for g, at in after.written.items() if before.written.get(g) != at}


def check_kill(point: KillPoint, before: Snapshot, after: Snapshot, world: dict) -> None:
    # Nothing stored is ever lost, no cursor goes back; each start left one run, and no
    # killed run claims to have finished.
    assert after.comments >= before.comments
    for adgroup_id, (through, _) in before.cursors.items():
        assert after.cursors[adgroup_id][0] >= through
    assert len(after.runs) == len(before.runs) + 1
    # the run just killed is left "running"; the next start marks it "interrupted"
    assert after.runs[-1]["status"] == "running"
    assert {r["status"] for r in after.runs[:-1]} <= {"interrupted"}
    if point.crash_at == "after:upsert_ads:1":
        assert after.ads == len(world["ads"])
        assert (after.comments, after.written) == (before.comments, before.written)
    elif point.path == AD_GET:
        assert (after.comments, after.written) == (before.comments, before.written)
    elif point.crash_at == "before:set_cursor:1":
        assert after.comments and after.written == before.written
    elif point.crash_at and point.crash_at.startswith("after:set_cursor:"):
        assert 1 <= len(rewritten(before, after)) <= int(point.crash_at.rsplit(":", 1)[1])
    elif point.crash_at == "before:finish_sync_run:1":
        assert after.comments == frozenset(world["comments"])
        assert {g for g, _ in after.cursors.items()} == {
            a["adgroup_id"] for a in world["ads"].values()}


@pytest.mark.slow
def test_a_sync_killed_at_ten_points_and_restarted_ends_exactly_true_and_intact(tmp_path):
    # A 30-day span limit: the first run learns it from TikTok's refusal (and may be killed
    # while it does), so the comments come in many windows and many pages.
    config = SandboxConfig(seed=3, advertisers=1, ads=100, comments=2500, latency_ms=10,
                           qps=100_000, qpm=10_000_000, new_comments_per_minute=0.0,
                           comment_window_days=30)
    with start_sandbox(config) as sandbox:
        advertiser_id = sandbox.ground_truth()["advertisers"][0]["advertiser_id"]
        world = truth(sandbox, advertiser_id)
        db = tmp_path / "desk.duckdb"
        syncs = Syncs(sandbox, advertiser_id, db, tmp_path)
        snapshots = [Snapshot((0, 0, 0), 0, frozenset(), {}, {}, [])]
        for point in POINTS:
            requests = syncs.kill_at(point)
            snapshots.append(inspect(db, world, advertiser_id, requests))
            check_kill(point, snapshots[-2], snapshots[-1], world)

        kills = snapshots[1:]
        assert len({s.signature() for s in kills}) == len(POINTS), [
            s.signature()[:3] for s in kills]
        # Killed with nothing stored, part stored, and everything stored but the run's end.
        assert len({len(s.comments) for s in kills}) >= 3

        reports = "/open_api/v1.3/report/integrated/get/"
        reported = sandbox.stats()["by_path"].get(reports, 0)
        done = syncs.finish()
        reported = sandbox.stats()["by_path"].get(reports, 0) - reported
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("ok:"), done.stdout
        with Store.open(db) as store:
            cur = store.cursor()
            assert_store_matches_truth(cur, sandbox, advertiser_id)
            runs = desk_store.query_records(cur, "SELECT run_id, status, started_at, finished_at, "
                                         "requests FROM sync_runs ORDER BY run_id")
            assert len(runs) == len(POINTS) + 1
            assert {r["status"] for r in runs[:-1]} == {"interrupted"}
            assert runs[-1]["status"] == "ok"
            last = runs[-1]
            assert last["finished_at"] is not None
            adgroups = {a["adgroup_id"] for a in world["ads"].values()}
            # The last run resumed from the cursors: one page each of ad/get, of its reserved
            # buys (Reach & Frequency, TopView) and of smart_plus/ad/get, and one page per ad
            # group (the span limit was learned); then the ads' delivery (its own requests).
            assert reported >= 1
            assert last["requests"] == len(adgroups) + 4 + reported
            cursors = desk_store.get_cursors(cur, advertiser_id)
            assert set(cursors) == adgroups
            end = last["started_at"].astimezone(UTC).date() + timedelta(days=1)
            for adgroup_id, cursor in cursors.items():
                newest = max(c["create_ts"] for c in world["comments"].values()
                             if c["adgroup_id"] == adgroup_id)
                assert cursor.synced_through == end
                assert cursor.high_water.timestamp() == newest
