"""Running rules over an account's stored comments: dry run, apply, undo, and the pass after
every sync.

- `dry_run`: what a rule would match in the stored history, and what it would do; nothing is
  written but the classifier's verdicts on comments not classified yet.
- `apply`: act on the stored history (the backlog). `after_sync`: every enabled rule acts on
  the comments stored since it last read the account.
- `undo`: reverse what one run did: unhide exactly the comments it hid, drop the labels and
  flags it set.

A run's hits are fixed when it starts (desk.store.rules). Hides and unhides go through the
outbox (desk.outbox) as the rule ("rule:<name> v<version>") or, for an undo, the person who
asked, with request keys made from the run: a run carried on after a stop or a kill (or after
it ended partial) sends nothing twice, settles every write whose answer was lost by asking
TikTok, and retries the ones TikTok refused for a while (desk.outbox.retry checks TikTok
first). A rule acts on a comment once: a person who reverses it has the last word.

Comments are matched a batch at a time; only the matches are kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd

from desk import outbox
from desk import store as db
from desk.errors import ActionRefused, RuleError
from desk.moderation.classifying import classify_account
from desk.moderation.rules import Rule, parse_rules
from desk.moderation.words import fold
from desk.outbox import ledger
from desk.sources import CommentSource, Writer
from desk.store.rules import RuleRun, RunMode, StoredRule, rule_actor

SETTLE_ROUNDS = 5
"""Times a run goes back over the writes TikTok refused or did not confirm."""
SETTLE_PAUSE = 1.0
"""Seconds before the first such round; each round waits twice as long as the one before."""
EXAMPLES = 20


@dataclass(frozen=True)
class RuleProgress:
    """Where a run stands, for a progress line."""

    rule: str
    phase: str  # "classifying", "matching", "acting", "settling", "done"
    done: int
    total: int

    @property
    def fraction(self) -> float:
        if self.phase == "done":
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def line(self) -> str:
        if self.phase == "done":
            return f'rule "{self.rule}": done'
        return f'rule "{self.rule}": {self.phase} {self.done:,} of {self.total:,}'


ProgressCallback = Callable[[RuleProgress], None]


@dataclass
class DryRun:
    """What one rule would do to one account's stored comments."""

    rule: Rule
    matches: pd.DataFrame  # the matched comments; `acts` says whether the rule would act
    scanned: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return len(self.matches)

    @property
    def would_act(self) -> int:
        return int(self.matches["acts"].sum()) if len(self.matches) else 0

    def examples(self, count: int = EXAMPLES) -> pd.DataFrame:
        return self.matches.head(count)

    def by_place(self) -> pd.DataFrame:
        """Matches per ad (ad comments) or video (organic comments)."""
        if self.matches.empty:
            return pd.DataFrame(columns=["place", "matched", "would_act"])
        place = self.matches["ad_name"].where(self.matches["source"] == "ad")
        place = place.fillna(self.matches["ad_id"]).where(self.matches["source"] == "ad")
        place = ("ad " + place.astype(str)).where(self.matches["source"] == "ad",
                                                  "video " + self.matches["video_id"].astype(str))
        frame = self.matches.assign(place=place)
        return (frame.groupby("place", sort=False)
                .agg(matched=("comment_id", "size"), would_act=("acts", "sum"))
                .reset_index().sort_values("matched", ascending=False, kind="stable"))

    def by_label(self) -> pd.DataFrame:
        """Matches per classifier label ("(none)" for comments without one)."""
        if self.matches.empty:
            return pd.DataFrame(columns=["label", "matched"])
        labels = self.matches["labels"].map(
            lambda v: list(v) if isinstance(v, (list, tuple)) or hasattr(v, "tolist") else [])
        exploded = labels.map(lambda v: v or ["(none)"]).explode()
        counts = exploded.value_counts()
        return pd.DataFrame({"label": counts.index.astype(str), "matched": counts.to_numpy()})


# ---------------------------------------------------------------------------------------------
# Matching


def dry_run(cur: db.Cursor, source: CommentSource, rule: Rule, *,
            progress: ProgressCallback | None = None,
            stop: threading.Event | None = None) -> DryRun:
    """What `rule` would match and do in the account's stored comments. Writes nothing but
    the classifier's verdicts on comments it has not read yet: a rule's labels match on them,
    and the split by label counts them."""
    result = DryRun(rule, pd.DataFrame())
    classify_account(cur, source, progress=_as_classifying(rule, progress), stop=stop)
    result.matches, result.scanned = _matches(cur, source, rule, progress=progress, stop=stop)
    return result


def _matches(cur: db.Cursor, source: CommentSource, rule: Rule, *,
             seen_after: Any = None, seen_through: Any = None,
             progress: ProgressCallback | None = None,
             stop: threading.Event | None = None) -> tuple[pd.DataFrame, int]:
    """The account's comments the rule matches (with `acts`: whether it would act on each)
    and how many were read."""
    writer_class = type(source).writer_class
    matcher = rule.matcher()
    found: list[pd.DataFrame] = []
    scanned = 0
    for batch in db.rule_candidates(cur, source.kind, writer_class.account_column,
                                    source.account_id, seen_after=seen_after,
                                    seen_through=seen_through):
        if stop is not None and stop.is_set():
            break
        folded = [fold(t) if isinstance(t, str) else "" for t in batch["content"]]
        keep = matcher.match_frame(batch, folded)
        if keep.any():
            found.append(batch[keep])
        scanned += len(batch)
        if progress is not None:
            progress(RuleProgress(rule.name, "matching", scanned, scanned))
    matches = pd.concat(found, ignore_index=True) if found else _empty_matches()
    matches["acts"] = _acts(rule, matches)
    return matches, scanned


def _acts(rule: Rule, matches: pd.DataFrame) -> pd.Series:
    """Whether the rule would act on each matched comment: a hide needs a visible comment
    that TikTok lets anyone hide (not one its blocked words hid)."""
    if rule.action != "hide" or matches.empty:
        return pd.Series(True, index=matches.index, dtype=bool)
    visible = matches["comment_status"].fillna("PUBLIC") != "HIDDEN"
    blocked = matches["hit_blockedword"].fillna(False).astype(bool)
    return (visible & ~blocked).astype(bool)


def _no_hits() -> pd.DataFrame:
    return pd.DataFrame({"comment_id": [], "action": [], "label": []}, dtype=object)


def _empty_matches() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in (
        "comment_id", "content", "likes", "labels", "ad_id", "ad_name", "video_id",
        "tiktok_item_id", "source", "comment_status", "hit_blockedword", "user_name",
        "create_time", "first_seen_at")})


# ---------------------------------------------------------------------------------------------
# Acting


def apply(cur: db.Cursor, source: CommentSource, stored: StoredRule, *, asked_by: str,
          progress: ProgressCallback | None = None,
          stop: threading.Event | None = None, sleep: Callable[[float], None] = time.sleep,
          ) -> RuleRun:
    """Act on the account's stored history with this rule version; a run of the same kind
    that was stopped or killed is carried on instead of starting again."""
    rule = rule_of(stored)
    resumed = db.resumable_run(cur, rule_id=stored.rule_id, version=stored.version,
                               mode="backlog", source=source.kind, account_id=source.account_id)
    if resumed is not None:
        db.reopen_rule_run(cur, resumed.run_id)
        return _carry_out(cur, source, resumed.run_id, rule, stored.actor, resumed=True,
                          progress=progress, stop=stop, sleep=sleep)
    if rule.uses_labels:
        classify_account(cur, source, progress=_as_classifying(rule, progress), stop=stop)
    try:
        matches, _ = _matches(cur, source, rule, progress=progress, stop=stop)
    except RuleError as err:  # its regex kept running out of time: the run fails, and says why
        return _failed(cur, stored, source, "backlog", asked_by, err)
    if stop is not None and stop.is_set():
        raise _stopped()
    run_id = db.start_rule_run(
        cur, rule_id=stored.rule_id, version=stored.version, mode="backlog",
        source=source.kind, account_id=source.account_id, asked_by=asked_by,
        hits=_plan(cur, stored, rule, matches))
    return _carry_out(cur, source, run_id, rule, stored.actor, resumed=False,
                      progress=progress, stop=stop, sleep=sleep)


def after_sync(cur: db.Cursor, source: CommentSource, *,
               progress: ProgressCallback | None = None,
               stop: threading.Event | None = None,
               sleep: Callable[[float], None] = time.sleep) -> list[RuleRun]:
    """Classify the account's new comments, then let every enabled rule act on the comments
    stored since it last read this account. Returns the runs that matched something, and
    those that failed (a rule whose regex kept running out of time, or that can no longer be
    read: the others still act)."""
    classify_account(cur, source, stop=stop,
                     progress=_as_classifying(Rule("new comments", "flag"), progress))
    runs: list[RuleRun] = []
    for stored in [r for r in db.list_rules(cur) if r.enabled]:
        if stop is not None and stop.is_set():
            break
        try:
            runs += _on_new_comments(cur, source, stored, progress=progress, stop=stop,
                                     sleep=sleep)
        except RuleError as err:  # say so, and let the others act
            runs.append(_failed(cur, stored, source, "new", stored.actor, err))
    return runs


def _on_new_comments(cur: db.Cursor, source: CommentSource, stored: StoredRule, *,
                     progress: ProgressCallback | None, stop: threading.Event | None,
                     sleep: Callable[[float], None]) -> list[RuleRun]:
    """One enabled rule's pass over the account: carry on its run a stop left unfinished,
    then act on the comments stored since it last read the account."""
    rule = rule_of(stored)
    runs = []
    resumed = db.resumable_run(cur, rule_id=stored.rule_id, version=stored.version,
                               mode="new", source=source.kind, account_id=source.account_id)
    if resumed is not None:
        db.reopen_rule_run(cur, resumed.run_id)
        # One more try, without waiting long: the next sync tries again, so a refusal that
        # lasts (no permission) does not hold every sync up.
        runs.append(_carry_out(cur, source, resumed.run_id, rule, stored.actor, resumed=True,
                               progress=progress, stop=stop, sleep=sleep, rounds=1))
    through = db.newest_seen(cur, source.kind, type(source).writer_class.account_column,
                             source.account_id)
    after = db.rule_cursor(cur, stored.rule_id, source.kind, source.account_id)
    after = after or stored.enabled_at
    if through is None or (after is not None and through <= after):
        return runs
    matches, _ = _matches(cur, source, rule, seen_after=after, seen_through=through,
                          progress=progress, stop=stop)
    if stop is not None and stop.is_set():
        return runs
    hits = _plan(cur, stored, rule, matches)
    if hits.empty:  # nothing to do: only remember how far the rule has read
        db.set_rule_cursor(cur, stored.rule_id, source.kind, source.account_id, through)
        return runs
    run_id = db.start_rule_run(
        cur, rule_id=stored.rule_id, version=stored.version, mode="new",
        source=source.kind, account_id=source.account_id, asked_by=stored.actor,
        hits=hits, cursor_to=through)
    runs.append(_carry_out(cur, source, run_id, rule, stored.actor, resumed=False,
                           progress=progress, stop=stop, sleep=sleep))
    return runs


def _failed(cur: db.Cursor, stored: StoredRule, source: CommentSource, mode: RunMode,
            asked_by: str, err: RuleError) -> RuleRun:
    """A run recorded as failed before it acted, with the reason."""
    run_id = db.start_rule_run(
        cur, rule_id=stored.rule_id, version=stored.version, mode=mode, source=source.kind,
        account_id=source.account_id, asked_by=asked_by, hits=_no_hits(), status="failed",
        message=str(err))
    return db.finish_rule_run(cur, run_id, "failed", str(err))


def undo(cur: db.Cursor, source: CommentSource, run_id: int, *, asked_by: str,
         progress: ProgressCallback | None = None,
         stop: threading.Event | None = None,
         sleep: Callable[[float], None] = time.sleep) -> RuleRun:
    """Reverse what one run did on this account: unhide exactly the comments it hid (those
    still hidden), drop the labels and flags it set. An undo that was stopped is carried on."""
    original = db.get_rule_run(cur, run_id)
    if original is None or original.mode not in ("backlog", "new"):
        raise RuleError(f"there is no rule run {run_id} that acted on comments")
    if (original.source, original.account_id) != (source.kind, source.account_id):
        raise RuleError(f"rule run {run_id} belongs to another account")
    rule = rule_of_version(cur, original.rule_id, original.version)
    resumed = db.resumable_run(cur, rule_id=original.rule_id, version=original.version,
                               mode="undo", source=source.kind, account_id=source.account_id,
                               undo_of=run_id)
    if resumed is not None:
        db.reopen_rule_run(cur, resumed.run_id)
        undo_id = resumed.run_id
    else:
        done = db.hits(cur, run_id, states=["done"])
        plan = pd.DataFrame({
            "comment_id": done["comment_id"],
            "action": done["action"].map({"hide": "unhide"}).fillna("unmark"),
            "label": done["label"],
        })
        undo_id = db.start_rule_run(
            cur, rule_id=original.rule_id, version=original.version, mode="undo",
            undo_of=run_id, source=source.kind, account_id=source.account_id,
            asked_by=asked_by, hits=plan)
        db.audit_event(cur, asked_by, "rule_run_undo",
                       f"run {undo_id} undoes run {run_id} of "
                       f"{rule_actor(original.rule_name, original.version)}: "
                       f"{len(plan)} comments")
    return _carry_out(cur, source, undo_id, rule, asked_by, resumed=resumed is not None,
                      progress=progress, stop=stop, sleep=sleep, undoing=run_id)


def _plan(cur: db.Cursor, stored: StoredRule, rule: Rule,
          matches: pd.DataFrame) -> pd.DataFrame:
    """The hits of a new run: the matches the rule would act on and has not acted on."""
    acting = matches[matches["acts"]] if len(matches) else matches
    ids = acting["comment_id"].astype(str).tolist() if len(acting) else []
    seen = db.acted_on(cur, stored.rule_id, ids)
    ids = [c for c in dict.fromkeys(ids) if c not in seen]
    return pd.DataFrame({"comment_id": ids, "action": [rule.action] * len(ids),
                         "label": [rule.label] * len(ids)})


def _carry_out(cur: db.Cursor, source: CommentSource, run_id: int, rule: Rule, actor: str, *,
               resumed: bool, progress: ProgressCallback | None,
               stop: threading.Event | None, sleep: Callable[[float], None],
               undoing: int | None = None, rounds: int = SETTLE_ROUNDS) -> RuleRun:
    """Do what a run's hits say, settle what is unsure (in up to `rounds` rounds of asking
    TikTok again), and close the run."""
    todo = db.hits(cur, run_id, states=["planned", "failed"])
    marks = todo[todo["action"].isin(["label", "flag", "unmark"])]
    if len(marks):
        _write_states(cur, run_id, marks.assign(state="done", detail=None), undoing)
    writes = todo[todo["action"].isin(["hide", "unhide"])]
    total = len(writes)
    if total:
        hidden = bool((writes["action"] == "hide").all())
        prefix = f"rule-undo:{run_id}" if undoing is not None else f"rule-run:{run_id}"
        with source.writer() as writer:
            if undoing is not None:
                writes = _still_hidden(cur, writer, run_id, prefix, writes)
            done = 0
            for start in range(0, len(writes), writer.status_batch):
                if stop is not None and stop.is_set():
                    return db.finish_rule_run(cur, run_id, "interrupted", _STOPPED)
                chunk = writes["comment_id"].iloc[start:start + writer.status_batch].tolist()
                _record(cur, run_id, _send(cur, writer, chunk, hidden, actor, prefix), undoing)
                done += len(chunk)
                if progress is not None:
                    progress(RuleProgress(rule.name, "acting", done, total))
            _settle(cur, writer, run_id, actor, prefix, hidden=hidden, resumed=resumed,
                    undoing=undoing, stop=stop, sleep=sleep, rounds=rounds,
                    progress=lambda d, t: progress and progress(
                        RuleProgress(rule.name, "settling", d, t)))
    left = db.hits(cur, run_id, states=["planned", "failed"])
    if progress is not None:
        progress(RuleProgress(rule.name, "done", total, total))
    if stop is not None and stop.is_set() and len(left):
        return db.finish_rule_run(cur, run_id, "interrupted", _STOPPED)
    if len(left):
        return db.finish_rule_run(
            cur, run_id, "partial",
            f"{len(left):,} of the comments could not be "
            f"{'hidden' if rule.action == 'hide' and undoing is None else 'changed'} yet: "
            f"{_first_detail(left)} Run it again to retry them; nothing is sent twice.")
    return db.finish_rule_run(cur, run_id, "ok", None)


_STOPPED = "stopped before the end; run it again to carry on (nothing is sent twice)"


def _still_hidden(cur: db.Cursor, writer: Writer, run_id: int, prefix: str,
                  writes: pd.DataFrame) -> pd.DataFrame:
    """The comments of an undo still to unhide: those still hidden, and those this undo
    already asked the outbox for (a stop came before their hits were written: the outbox
    settles them without sending twice). The others are skipped: they are visible again
    already."""
    rows = writer.comments(cur, writes["comment_id"].tolist())
    hidden = [c for c in writes["comment_id"]
              if (rows.get(c, {}).get("comment_status") == "HIDDEN"
                  and not rows[c].get("hit_blockedword"))
              or ledger.by_key(cur, f"{prefix}:{c}") is not None]
    gone = writes[~writes["comment_id"].isin(hidden)]
    if len(gone):
        db.set_hit_states(cur, run_id, gone.assign(
            state="skipped", detail="already visible, deleted, or hidden by a blocked word"))
    return writes[writes["comment_id"].isin(hidden)]


def _send(cur: db.Cursor, writer: Writer, comment_ids: list[str], hidden: bool, actor: str,
          prefix: str) -> list[tuple[str, str, str | None]]:
    """Hide or unhide these comments through the outbox; (comment_id, state, detail) each.

    A chunk the outbox refuses as a whole (a comment deleted or blocked meanwhile) is sent
    one comment at a time, so only the refused ones are skipped."""
    try:
        results = outbox.set_hidden(cur, writer, comment_ids=comment_ids, hidden=hidden,
                                    actor=actor, request_key=prefix)
    except ActionRefused:
        if len(comment_ids) == 1:
            raise
        states = []
        for comment_id in comment_ids:
            try:
                states += _send(cur, writer, [comment_id], hidden, actor, prefix)
            except ActionRefused as err:
                states.append((comment_id, "skipped", str(err)))
        return states
    return [(r.comment_id, _state(r.status), None if r.status == "sent" else r.message)
            for r in results]


def _state(status: str) -> str:
    return {"sent": "done", "failed": "failed"}.get(status, "planned")


def _record(cur: db.Cursor, run_id: int, states: Sequence[tuple[str, str, str | None]],
            undoing: int | None) -> None:
    _write_states(cur, run_id, pd.DataFrame(states, columns=["comment_id", "state", "detail"]),
                  undoing)


def _write_states(cur: db.Cursor, run_id: int, frame: pd.DataFrame,
                  undoing: int | None) -> None:
    """Write how each hit went (comment_id, state, detail); for an undo, mark what it
    reversed in the undone run too, in the same transaction: a stop between the two would
    leave the runs disagreeing."""
    with db.transaction(cur):
        db.set_hit_states(cur, run_id, frame)
        if undoing is not None:
            done = frame[frame["state"] == "done"]
            db.set_hit_states(cur, undoing, done.assign(state="undone", detail=None))


def _settle(cur: db.Cursor, writer: Writer, run_id: int, actor: str, prefix: str, *,
            hidden: bool, resumed: bool, undoing: int | None, stop: threading.Event | None,
            sleep: Callable[[float], None], progress: Callable[[int, int], Any],
            rounds: int = SETTLE_ROUNDS) -> None:
    """Go back over the writes TikTok refused or did not confirm: ask TikTok where each
    stands, and send again only what it does not have (desk.outbox.retry)."""
    pause = SETTLE_PAUSE
    for round_ in range(rounds + 1):
        open_ = db.hits(cur, run_id, states=["planned", "failed"])
        open_ = open_[open_["action"].isin(["hide", "unhide"])]
        if open_.empty or (stop is not None and stop.is_set()):
            return
        if round_:
            sleep(pause)
            pause *= 2
        states = []
        for index, comment_id in enumerate(open_["comment_id"], 1):
            states.append(_settle_one(cur, writer, prefix, comment_id, actor, hidden=hidden,
                                      resumed=resumed, last_round=round_ == rounds))
            progress(index, len(open_))
        _record(cur, run_id, states, undoing)


def _settle_one(cur: db.Cursor, writer: Writer, prefix: str, comment_id: str, actor: str, *,
                hidden: bool, resumed: bool, last_round: bool) -> tuple[str, str, str | None]:
    """Where one write of the run stands now, after asking TikTok or sending it again."""
    row = ledger.by_key(cur, f"{prefix}:{comment_id}")
    if row is None:  # the run stopped before sending it: send it now
        try:
            [result] = _send(cur, writer, [comment_id], hidden, actor, prefix)
        except ActionRefused as err:
            return comment_id, "skipped", str(err)
        return result
    action_id, status = row["action_id"], row["status"]
    if status == "sent":
        return comment_id, "done", None
    if status == "pending":
        # Left by a process that stopped mid-send (this run was carried on): ask TikTok now.
        stale = timedelta(0) if resumed else outbox.PENDING_STALE_AFTER
        settled = outbox.reconcile(cur, writer, action_id, actor=actor, stale_after=stale)
    elif status == "unknown":
        settled = outbox.reconcile(cur, writer, action_id, actor=actor)
    elif last_round:
        current = outbox.get_action(cur, action_id)
        return comment_id, "failed", current.message if current else None
    else:
        settled = outbox.retry(cur, writer, action_id, actor=actor)
    return comment_id, _state(settled.status), (
        None if settled.status == "sent" else settled.message)


def _first_detail(left: pd.DataFrame) -> str:
    details = [d for d in left["detail"] if isinstance(d, str) and d]
    return details[0] if details else "TikTok did not confirm them."


def _stopped() -> RuleError:
    return RuleError("the run was stopped before it started acting; nothing was changed")


def _as_classifying(rule: Rule, progress: ProgressCallback | None
                    ) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(RuleProgress(rule.name, "classifying", done, total))


# ---------------------------------------------------------------------------------------------
# Rules as stored


def rule_of(stored: StoredRule) -> Rule:
    """The Rule a stored version holds."""
    [rule] = parse_rules(stored.definition)
    return rule


def rule_of_version(cur: db.Cursor, rule_id: int, version: int) -> Rule:
    [rule] = parse_rules(db.rule_definition(cur, rule_id, version))
    return rule
