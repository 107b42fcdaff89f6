"""A rule run under a fifth of TikTok's requests failing and repeated kills hides each
matched comment exactly once, and its undo restores exactly those.

`python -m desk rules apply` (then `rules undo`) runs against a sandbox whose requests meet
faults one time in five (server errors, throttling, internal timeouts, stalled answers,
answers cut short, and writes applied whose answer is lost). It is killed with SIGKILL at
moments chosen by what happened, not by sleeping: either TikTok (the sandbox) has received the
n-th hide, or status check, of that run (it is killed from inside the request, before or after
TikTok carries it out, so the answer never leaves), or the process reaches a given call into
desk.store and kills itself (tests/faults/crashing_sync.py). It is started again until it ends
ok. Then TikTok's side, and the hides and unhides TikTok carried out, say that every matched
comment was hidden exactly once and shown again exactly once, and the outbox holds one row per
comment each way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import pytest

from desk import store as db
from desk.store import Store
from tests.desk.rules_support import (
    LINKS,
    ORGANIC_HIDE,
    ROOT,
    STATUS_UPDATE,
    StatusWrites,
    account_option,
    cli_env,
    fill,
    hidden,
    hideable,
    on_tiktok,
    with_links,
    world,
)
from tiktok_sandbox import server as sandbox_server
from tiktok_sandbox import start_sandbox

AD_STATUS_CHECK = "comment/reference/"
ORGANIC_STATUS_CHECK = "business/comment/list/"
FAULT_RATE = 0.2


@dataclass(frozen=True)
class Kill:
    name: str
    crash_at: str | None = None  # the process kills itself at this desk.store call, or ...
    endpoint: str | None = None  # ... is killed when TikTok receives this request ...
    nth: int = 0  # ... for the nth time in this run ...
    carried_out: bool = True  # ... after TikTok carried it out (else before)


APPLY = {
    "ad": (
        Kill("the run's comments fixed, nothing sent", crash_at="after:start_rule_run:1"),
        Kill("TikTok hid the batch; the answer never left", endpoint=STATUS_UPDATE, nth=1),
        Kill("TikTok asked where the 3rd comment stands", endpoint=AD_STATUS_CHECK, nth=3),
        Kill("answers settled, the run's hits not yet written",
             crash_at="before:set_hit_states:1"),
    ),
    "organic": (
        Kill("the run's comments fixed, nothing sent", crash_at="after:start_rule_run:1"),
        Kill("TikTok received the 2nd hide, not carried out", endpoint=ORGANIC_HIDE, nth=2,
             carried_out=False),
        Kill("TikTok hid the 4th; the answer never left", endpoint=ORGANIC_HIDE, nth=4),
        Kill("a hide answered, its hit not yet written", crash_at="before:set_hit_states:3"),
        Kill("TikTok asked where a comment stands", endpoint=ORGANIC_STATUS_CHECK, nth=1),
    ),
}
UNDO = {
    "ad": (
        Kill("the undo's comments fixed, nothing sent", crash_at="after:start_rule_run:1"),
        Kill("unhidden; the undo's hits written, the undone run's not yet",
             crash_at="after:set_hit_states:1"),
    ),
    "organic": (
        Kill("the undo's comments fixed, nothing sent", crash_at="after:start_rule_run:1"),
        Kill("an unhide answered, its hit not yet written",
             crash_at="before:set_hit_states:2"),
        Kill("an unhide's hit written, the undone run's not yet",
             crash_at="after:set_hit_states:1"),
        Kill("TikTok showed the 3rd again; the answer never left", endpoint=ORGANIC_HIDE,
             nth=3),
    ),
}


class KillSwitch:
    """Kills the process under test from inside the sandbox, when TikTok receives the n-th
    request to an endpoint: the request is carried out (or not), and its answer never leaves."""

    def __init__(self, monkeypatch, endpoints: tuple[str, ...]) -> None:
        self._lock = threading.Lock()
        self._armed: tuple[Kill, int] | None = None
        self._seen = 0
        self.fired = threading.Event()
        table = dict(sandbox_server.ENDPOINTS)
        for name in endpoints:
            table[name] = replace(table[name], handler=self._wrap(name, table[name].handler))
        monkeypatch.setattr(sandbox_server, "ENDPOINTS", MappingProxyType(table))

    def arm(self, kill: Kill, pid: int) -> None:
        with self._lock:
            self._armed, self._seen = (kill, pid), 0
            self.fired.clear()

    def disarm(self) -> None:
        with self._lock:
            self._armed = None

    def _wrap(self, name: str, handler):
        def handler_that_kills(request):
            with self._lock:
                armed = self._armed
                if armed is not None and armed[0].endpoint == name:
                    self._seen += 1
                    if self._seen == armed[0].nth:
                        self._armed = None
                    else:
                        armed = None
                else:
                    armed = None
            if armed is None:
                return handler(request)
            kill, pid = armed
            answer = handler(request) if kill.carried_out else {}
            os.kill(pid, signal.SIGKILL)
            self.fired.set()
            return answer

        return handler_that_kills


class RuleCommands:
    """Starts `python -m desk rules apply|undo` for one account and database, and kills it."""

    def __init__(self, sandbox, kind: str, database: Path, folder: Path, switch: KillSwitch):
        self.switch, self.folder = switch, folder
        self.options = ["--rules", str(folder / "rules.toml"), *account_option(sandbox, kind),
                        "--db", str(database)]
        self.env = cli_env(sandbox, kind, folder)
        self.started = 0

    def kill_at(self, operation: str, kill: Kill) -> None:
        """Run until `kill`, SIGKILLed there."""
        self.started += 1
        log = (self.folder / f"run-{self.started}.log").open("w")
        module, env = "desk", self.env
        if kill.crash_at is not None:
            module, env = "tests.faults.crashing_sync", {**self.env, "CRASH_AT": kill.crash_at}
        proc = subprocess.Popen([sys.executable, "-m", module, "rules", operation,
                                 *self.options], cwd=ROOT, env=env, stdout=log, stderr=log)
        if kill.endpoint is not None:
            self.switch.arm(kill, proc.pid)
        try:
            proc.wait(timeout=120)
        finally:
            self.switch.disarm()
            if proc.poll() is None:  # the test failed: leave no process behind
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL, (kill.name, proc.returncode, self.log())

    def finish(self, operation: str) -> list[subprocess.CompletedProcess]:
        """Start it again until it ends ok (a run that ends partial is carried on)."""
        done = []
        while not done or done[-1].returncode != 0:
            assert len(done) < 4, [d.stdout + d.stderr for d in done]
            done.append(subprocess.run(
                [sys.executable, "-m", "desk", "rules", operation, *self.options], cwd=ROOT,
                env=self.env, capture_output=True, text=True, timeout=120))
            assert done[-1].returncode in (0, 1), done[-1].stderr
        return done

    def log(self) -> str:
        return (self.folder / f"run-{self.started}.log").read_text()[-2000:]


def outbox_rows(database: Path, prefix: str) -> list[dict]:
    with Store.open_readonly(database) as store:
        return db.query_records(store.cursor(), "SELECT * FROM outbox WHERE request_key "
                                "LIKE ? ORDER BY action_id", [f"{prefix}:%"])


def settled_events(database: Path, action_ids: list[int]) -> Counter:
    """How many audit entries say each of these outbox rows reached TikTok."""
    with Store.open_readonly(database) as store:
        rows = db.query_records(
            store.cursor(), "SELECT action_id, event, detail FROM audit_log WHERE action_id IN "
            "(SELECT unnest(?::BIGINT[]))", [action_ids])
    return Counter(r["action_id"] for r in rows if r["event"] == "sent" or (
        r["event"] == "reconciled" and r["detail"].endswith(": marked sent")))


def rule_runs(database: Path) -> list[dict]:
    with Store.open_readonly(database) as store:
        cur = store.cursor()
        runs = db.query_records(cur, "SELECT run_id, mode, status, matched, done, undo_of "
                                "FROM rule_runs ORDER BY run_id")
        for run in runs:
            run["states"] = Counter(r[0] for r in cur.execute(
                "SELECT state FROM rule_hits WHERE run_id = ?", [run["run_id"]]).fetchall())
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ad", "organic"])
def test_a_rule_run_under_faults_and_kills_hides_each_match_once_and_undo_restores_them(
        tmp_path, monkeypatch, kind):
    config = world(seed=5, comments=2000, organic_comments=1000, fault_rate=FAULT_RATE,
                   stall_seconds=0.2)
    with start_sandbox(config) as sandbox:
        writes = StatusWrites().install(monkeypatch)
        switch = KillSwitch(monkeypatch, (STATUS_UPDATE, ORGANIC_HIDE, AD_STATUS_CHECK,
                                          ORGANIC_STATUS_CHECK))
        # The store is filled first with every request answered (the sync's own faults are
        # tests/faults/test_sync_faults.py's); the faults are for the rule run.
        monkeypatch.setattr(sandbox._app.faults, "rate", 0.0)
        database = fill(sandbox, tmp_path, kinds=[kind])
        monkeypatch.setattr(sandbox._app.faults, "rate", FAULT_RATE)
        (tmp_path / "rules.toml").write_text(LINKS)
        before = on_tiktok(sandbox, kind)
        matched = hideable(before, with_links(before))
        assert len(matched) >= 10
        commands = RuleCommands(sandbox, kind, database, tmp_path, switch)

        for kill in APPLY[kind]:
            commands.kill_at("apply", kill)
        applied = commands.finish("apply")

        [run] = rule_runs(database)
        assert applied[-1].stdout == (f'rule "links" v1: acted on {len(matched)} of '
                                      f"{len(matched)} comments (run {run['run_id']}, ok)\n")
        assert (run["mode"], run["status"], run["done"]) == ("backlog", "ok", len(matched))
        assert run["states"] == {"done": len(matched)}
        # Each matched comment hidden exactly once: none twice, none missed, none other.
        assert writes.hides == Counter(dict.fromkeys(matched, 1)), writes.hides
        assert not writes.unhides
        assert hidden(on_tiktok(sandbox, kind)) == hidden(before) | matched
        hides = outbox_rows(database, f"rule-run:{run['run_id']}")
        assert sorted(r["comment_id"] for r in hides) == sorted(matched)
        assert {(r["kind"], r["status"], r["actor"]) for r in hides} == {
            ("hide", "sent", "rule:links v1")}
        assert settled_events(database, [r["action_id"] for r in hides]) == Counter(
            {r["action_id"]: 1 for r in hides})

        for kill in UNDO[kind]:
            commands.kill_at("undo", kill)
        undone = commands.finish("undo")

        first, undo = rule_runs(database)
        assert undone[-1].stdout == (f'rule "links" v1, run {run["run_id"]}: reversed '
                                     f"{len(matched)} of {len(matched)} comments (run "
                                     f"{undo['run_id']}, ok)\n")
        assert (undo["mode"], undo["undo_of"], undo["status"]) == ("undo", run["run_id"], "ok")
        assert undo["states"] == {"done": len(matched)}
        assert first["states"] == {"undone": len(matched)}
        # Exactly those shown again, each once, and TikTok's side is as it was.
        assert writes.unhides == Counter(dict.fromkeys(matched, 1)), writes.unhides
        assert writes.hides == Counter(dict.fromkeys(matched, 1))
        assert on_tiktok(sandbox, kind) == before
        unhides = outbox_rows(database, f"rule-undo:{undo['run_id']}")
        assert sorted(r["comment_id"] for r in unhides) == sorted(matched)
        assert {(r["kind"], r["status"]) for r in unhides} == {("unhide", "sent")}
        assert settled_events(database, [r["action_id"] for r in unhides]) == Counter(
            {r["action_id"]: 1 for r in unhides})
        # The faults were met: the run did not get through by luck.
        assert sum(sandbox.stats()["faults"].values()) >= 5
