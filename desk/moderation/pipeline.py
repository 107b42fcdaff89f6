"""A sync, then the classifier, then the rules: how new comments flow from TikTok to the
store and on to the outbox. The app's syncs (automatic or started now) and `python -m desk
sync` all go through `sync_and_moderate`.

A rule that cannot run (its regex kept running out of time) or a write TikTok refuses never
undoes the sync: the sync's comments are stored either way, and the outcome says what the
rules could not do.

Last come the alerts (desk.alerts), raised and sent after the rules, and the scores of the
team's models (desk.learning) for the new comments; a failure there is logged and never
fails the sync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from desk.alerts import check_after_sync
from desk.errors import USER_ERRORS, message_for
from desk.learning import score_after_sync
from desk.moderation import runs
from desk.sources import CommentSource, SyncResult
from desk.store.inbox import reopen_answered_again
from desk.store.rules import RuleRun


@dataclass(frozen=True)
class Moderated:
    """How a sync ended and what the rules did with the new comments."""

    sync: SyncResult
    runs: tuple[RuleRun, ...] = ()
    problem: str | None = None  # why the rules could not run at all

    @property
    def status(self) -> str:
        if self.sync.status != "ok":
            return self.sync.status
        if self.problem or any(run.status != "ok" for run in self.runs):
            return "partial"
        return "ok"

    @property
    def message(self) -> str:
        return self.sync.message

    def summary(self) -> str:
        """The sync's line, then one sentence on the rules."""
        line = self.sync.summary()
        if self.problem:
            return f"{line} The rules did not run: {self.problem}"
        acted = sum(run.done for run in self.runs)
        if acted:
            line += f" Rules acted on {acted:,} new comment{'s' if acted != 1 else ''}."
        failing = [run for run in self.runs if run.status != "ok"]
        if failing:
            line += f' Rule "{failing[0].rule_name}": {failing[0].message}'
        return line

def sync_and_moderate(source: CommentSource, *, stop: threading.Event | None = None,
                      progress: Callable[[Any], None] | None = None,
                      moderate: bool = True, since: date | None = None,
                      workers: int | None = None, refresh: bool | None = None) -> Moderated:
    """Sync the account and reopen the done comments whose commenter wrote again; unless the
    sync was stopped, classify its new comments and let the enabled rules act on them (not
    when `moderate` is False), then raise and send the alerts due."""
    result = source.sync(progress=progress, stop=stop, since=since, workers=workers,
                         refresh=refresh)
    with source.workspace.store.cursor() as cur:  # a commenter who wrote again: back in the inbox
        reopen_answered_again(cur)
    if stop is not None and stop.is_set():
        return Moderated(result)
    outcome = _moderated(source, result, stop, progress) if moderate else Moderated(result)
    check_after_sync(source.workspace.store, source.workspace.settings)  # never raises
    score_after_sync(source.workspace.store)  # never raises
    return outcome


def _moderated(source: CommentSource, result: SyncResult, stop: threading.Event | None,
               progress: Callable[[Any], None] | None) -> Moderated:
    """The classifier and the enabled rules over the sync's new comments."""
    try:
        with source.workspace.store.cursor() as cur:
            acted = runs.after_sync(cur, source, progress=progress, stop=stop)
    except USER_ERRORS as err:
        return Moderated(result, problem=message_for(err, source.noun))
    return Moderated(result, tuple(acted))
