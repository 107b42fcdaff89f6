"""The Rules page's glue: the rules as stored, checking and saving one, turning it on and off,
and its dry runs, backlog runs and undos in the background.

Every change asks `ctx.require("admin", ...)` on the server first and is audited by the
moderation engine with the person's e-mail. Work over an account's stored comments runs in
the app's task runner (desk.tasks, the scheduler's), so the person can leave the page while
it runs: a dry run under `dry_run_key`, a backlog run under `run_key`, an undo under
`undo_key`; the latter two hold the account's sync slot, so a sync and a rule run of one
account never overlap. The stored comments the current classifier has not read are shown
with the progress of their background classification (desk.ui.handles.classify_stored).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from desk import store as db
from desk.errors import DeskError, RuleError, SyncBusy
from desk.moderation import runs, saved
from desk.moderation.classify import CLASSIFIER_VERSION
from desk.moderation.rules import Rule, parse_rules
from desk.scheduler import AutoSync
from desk.sources import CommentSource, source
from desk.store.rules import RuleRun, StoredRule
from desk.tasks import Tasks, TaskState
from desk.text import ago, md_escape, plural, text
from desk.ui import handles, queries, tables
from desk.ui.context import USER_ERRORS, PageContext, show_error
from desk.ui.syncing import auto_sync

CHANGING = "change moderation rules"
"""What only an admin may do (desk.people), as refusals say it."""
CLASSIFYING = "classify the stored comments"

TEMPLATE = r"""# A new rule: the conditions present must all hold. Remove a # to use that line.
[[rule]]
name = "scam links"  # required, unique
keywords = ["free iphone", "dm me"]  # any of these words or phrases
# regex = "\\b(whats ?app|telegram)\\b"  # a regular expression, on the lower-cased text
# has_link = true  # a URL or a bare domain (bit.ly/x, shop.example)
# labels = ["spam"]  # any of these classifier labels
# min_likes = 0  # at least this many likes
# scope = { ad_ids = [], video_ids = [], source = "any" }  # "any", "ad" or "organic"
action = "hide"  # "hide" | "label" | "flag"
# label = "scam"  # the label to add, for action = "label"
"""

MODES = {"backlog": "Backlog", "new": "New comments", "undo": "Undo", "dry_run": "Dry run"}
DONE_WORDS = {"hide": "hidden", "label": "labelled", "flag": "flagged", "unhide": "unhidden",
              "unmark": "unmarked"}


# ---------------------------------------------------------------------------------------------
# Rules as stored


def stored_rules(ctx: PageContext) -> list[StoredRule]:
    with ctx.store.cursor() as cur:
        return db.list_rules(cur)


def rules_overview(ctx: PageContext, rules: list[StoredRule]) -> pd.DataFrame:
    """One row per rule: name, on/off, version, what it does, its last run."""
    with ctx.store.cursor() as cur:
        recent = db.rule_runs(cur, None, limit=500)
    last = {int(row["rule_id"]): row for row in recent.to_dict("records")[::-1]}
    rows = []
    for rule in rules:
        run = last.get(rule.rule_id)
        rows.append({
            "name": rule.name,
            "enabled": rule.enabled,
            "version": rule.version,
            "description": describe(rule.definition),
            "last_run": (f"{MODES.get(run['mode'], run['mode'])}, {run['status']}, "
                         f"{ago(run['started_at'])}") if run else "never",
            "changed_by": rule.changed_by,
        })
    return pd.DataFrame(rows, columns=["name", "enabled", "version", "description", "last_run",
                                       "changed_by"])


def describe(definition: str) -> str:
    """The rule a TOML text holds, in one sentence (or why it cannot be read)."""
    try:
        return check(definition).describe()
    except RuleError as err:
        return f"Cannot be read: {err}"


def check(definition: str) -> Rule:
    """The one rule of an editor's text; RuleError with the one-line reason."""
    rules = parse_rules(definition)
    if len(rules) != 1:
        raise RuleError(f"write exactly one [[rule]] here, not {len(rules)}")
    return rules[0]


def unsaved(definition: str, stored: StoredRule) -> bool:
    """Whether the editor's text says something other than the stored version."""
    try:
        return check(definition).to_toml() != stored.definition
    except RuleError:
        return True


def save(ctx: PageContext, definition: str, rule_id: int | None,
         expected_version: int | None) -> StoredRule:
    """Save the editor's rule: a new rule, or a new version of `rule_id` (none when the text
    says what the stored version says); an admin only."""
    ctx.require("admin", CHANGING)
    with ctx.store.cursor() as cur:
        return saved.save_text(cur, definition, by=ctx.person.email, rule_id=rule_id,
                               expected_version=expected_version)


def delete(ctx: PageContext, rule_id: int) -> None:
    """Delete a rule (its versions and runs stay, for the audit log and undo); an admin only."""
    ctx.require("admin", CHANGING)
    with ctx.store.cursor() as cur:
        db.delete_rule(cur, rule_id, ctx.person.email)


def set_enabled(ctx: PageContext, rule_id: int, enabled: bool) -> StoredRule:
    """Turn a rule on for the comments stored from now on, or off; an admin only."""
    ctx.require("admin", CHANGING)
    with ctx.store.cursor() as cur:
        return db.set_rule_enabled(cur, rule_id, enabled, ctx.person.email)


# ---------------------------------------------------------------------------------------------
# Accounts


def accounts(ctx: PageContext) -> dict[str, str]:
    """Every connected or stored account of either kind, by its key ("ad:<id>",
    "organic:<id>") -> how the page names it."""
    found = {f"ad:{advertiser_id}": f"Ad account · {name or 'unnamed'} · {advertiser_id}"
             for advertiser_id, name in
             queries.known_advertisers(ctx.db, ctx.credentials).items()}
    for business_id in queries.known_business_accounts(ctx.db, ctx.credentials):
        found[f"organic:{business_id}"] = (
            f"TikTok account · {queries.account_label(ctx, business_id)}")
    return found


def session_account(ctx: PageContext, keys: list[str]) -> str | None:
    """The account the session works on (the sidebar's), as a key of `accounts`."""
    for key in (f"ad:{ctx.advertiser_id}", f"organic:{ctx.business_id}"):
        if key in keys:
            return key
    return keys[0] if keys else None


def source_for(ctx: PageContext, key: str) -> CommentSource:
    kind, account_id = key.split(":", 1)
    return source(ctx.workspace, kind, account_id)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Work in the background


def tasks(ctx: PageContext) -> Tasks:
    """The app's task runner, which holds the accounts' sync slots."""
    return auto_sync(ctx).tasks


def dry_run_key(rule_id: int, account: CommentSource) -> str:
    return f"rules-dry-run:{rule_id}:{account.kind}:{account.account_id}"


def run_key(rule_id: int, account: CommentSource) -> str:
    return f"rules:{rule_id}:{account.kind}:{account.account_id}"


def undo_key(run_id: int) -> str:
    return f"rules-undo:{run_id}"


@dataclass(frozen=True)
class DryRunShown:
    """What a dry run found, kept for the page (not every match: the counts and examples)."""

    rule_id: int
    version: int
    scanned: int
    matched: int
    would_act: int
    examples: pd.DataFrame
    by_place: pd.DataFrame
    by_label: pd.DataFrame


def start_dry_run(ctx: PageContext, stored: StoredRule, account: CommentSource) -> TaskState:
    """What the stored rule would do to the account's stored comments, in the background;
    nothing changes on TikTok. An admin only."""
    ctx.require("admin", "dry-run moderation rules")
    rule, store = runs.rule_of(stored), ctx.store

    def work(stop: threading.Event, report: Callable[[Any], None]) -> DryRunShown:
        with store.cursor() as cur:
            found = runs.dry_run(cur, account, rule, progress=report, stop=stop)
        return DryRunShown(stored.rule_id, stored.version, found.scanned, found.matched,
                           found.would_act, _examples(found.examples()), found.by_place(),
                           found.by_label())

    return tasks(ctx).start(dry_run_key(stored.rule_id, account), work,
                            busy=lambda: RuleError("a dry run of this rule on this account is "
                                                   "running already; wait for it to end"))


def start_apply(ctx: PageContext, stored: StoredRule, account: CommentSource) -> TaskState:
    """Let the stored rule act on the account's stored comments (the backlog), in the
    background, holding the account's sync slot; audited as the person. An admin only."""
    ctx.require("admin", CHANGING)
    email = ctx.person.email
    return _start_run(ctx, run_key(stored.rule_id, account), account,
                      lambda cur, stop, report: runs.apply(
                          cur, account, stored, asked_by=email, progress=report, stop=stop))


def turn_on_and_apply(ctx: PageContext, stored: StoredRule,
                      account: CommentSource) -> TaskState:
    """Turn the rule on (if it is off), then apply it to the account's backlog: the comments
    stored from now on are the new ones, the others the backlog's. Refused before anything
    changes while the account syncs or another rule acts on it. An admin only."""
    ctx.require("admin", CHANGING)
    if tasks(ctx).busy(account.key):
        raise _account_busy(account)
    if not stored.enabled:
        set_enabled(ctx, stored.rule_id, True)
    return start_apply(ctx, stored, account)


def start_undo(ctx: PageContext, run: RuleRun) -> TaskState:
    """Reverse one run: unhide exactly what it hid, drop the labels and flags it set; in the
    background, holding its account's sync slot; audited as the person. An admin only."""
    ctx.require("admin", CHANGING)
    account = source(ctx.workspace, run.source, run.account_id)  # type: ignore[arg-type]
    email = ctx.person.email
    return _start_run(ctx, undo_key(run.run_id), account, lambda cur, stop, report: runs.undo(
        cur, account, run.run_id, asked_by=email, progress=report, stop=stop))


def _start_run(ctx: PageContext, key: str, account: CommentSource,
               act: Callable[[db.Cursor, threading.Event, Callable[[Any], None]], RuleRun],
               ) -> TaskState:
    scheduler, store = auto_sync(ctx), ctx.store
    busy = _account_busy(account)
    if scheduler.tasks.busy(account.key):
        raise busy

    def work(stop: threading.Event, report: Callable[[Any], None]) -> RuleRun:
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(_slot(scheduler, account))
            except SyncBusy:
                raise busy from None
            with store.cursor() as cur:
                return act(cur, stop, report)

    return scheduler.tasks.start(key, work, busy=lambda: RuleError(
        "this rule is running on this account already; wait for it to end"))


def _slot(scheduler: AutoSync, account: CommentSource) -> contextlib.AbstractContextManager:
    return scheduler.syncing(account.key, noun=account.noun)


def _account_busy(account: CommentSource) -> DeskError:
    return DeskError(f"This {account.noun} is syncing, or a rule is acting on it, right now; "
                     "try again when that has ended.")


def _examples(frame: pd.DataFrame) -> pd.DataFrame:
    """Matched comments as the page shows them: where, who, what (text as data)."""
    organic = frame["source"].astype(str) == "organic"
    place = [f"video {text(video)}" if is_organic else f"ad {text(name) or text(ad)}"
             for is_organic, video, name, ad in zip(organic, frame["video_id"], frame["ad_name"],
                                                   frame["ad_id"], strict=True)]
    labels = [list(v) if isinstance(v, (list, tuple)) or hasattr(v, "tolist") else []
              for v in frame["labels"]]
    return pd.DataFrame({
        "content": frame["content"].map(text), "user_name": frame["user_name"].map(text),
        "place": place, "likes": frame["likes"], "labels": labels,
        "acts": frame["acts"].astype(bool), "create_time": frame["create_time"],
        "comment_id": frame["comment_id"].map(text),
    })


# ---------------------------------------------------------------------------------------------
# Runs


def runs_table(ctx: PageContext, rule_id: int) -> pd.DataFrame:
    """The rule's runs, newest first, with the account named and what each one did."""
    with ctx.store.cursor() as cur:
        frame = db.rule_runs(cur, rule_id, limit=50)
    if frame.empty:
        return frame
    names = accounts(ctx)
    frame["account"] = [names.get(f"{kind}:{account}", f"{kind} {account}")
                        for kind, account in zip(frame["source"], frame["account_id"],
                                                 strict=True)]
    frame["mode"] = frame["mode"].map(lambda m: MODES.get(m, m))
    frame["message"] = frame["message"].map(text)
    return frame


def undoable(ctx: PageContext, runs_frame: pd.DataFrame) -> dict[int, str]:
    """The runs that acted on comments and have not given them all back: run_id -> what it
    did, in words."""
    found = {}
    with ctx.store.cursor() as cur:
        for row in runs_frame.to_dict("records"):
            if row["mode"] not in (MODES["backlog"], MODES["new"]):
                continue
            done = db.hits(cur, int(row["run_id"]), states=["done"])
            if done.empty:
                continue
            counts = done["action"].value_counts()
            did = ", ".join(f"{DONE_WORDS.get(action, action)} {plural(int(n), 'comment')}"
                            for action, n in counts.items())
            found[int(row["run_id"])] = f"Run {row['run_id']} ({row['mode'].lower()}, " \
                                        f"{row['account']}): {did}"
    return found


def get_run(ctx: PageContext, run_id: int) -> RuleRun | None:
    with ctx.store.cursor() as cur:
        return db.get_rule_run(cur, run_id)


def run_summary(run: RuleRun) -> str:
    """One line on what a backlog run or an undo did."""
    verb = "gave back" if run.mode == "undo" else "acted on"
    line = f"Run {run.run_id} {verb} {run.done:,} of {plural(run.matched, 'comment')}"
    if run.status == "ok":
        return f"{line}."
    return f"{line} ({run.status}): {run.message or 'see the runs below'}"


def show_run(run: RuleRun) -> None:
    """How a backlog run or an undo this person started ended, in one line."""
    (st.success if run.status == "ok" else st.warning)(md_escape(run_summary(run)))


def show_runs(history: pd.DataFrame) -> None:
    """The rule's runs as a table, newest first."""
    st.dataframe(history, hide_index=True, key="rules_runs", column_order=(
        "run_id", "version", "mode", "account", "asked_by", "status", "matched", "done",
        "failed", "started_at", "finished_at", "message"), column_config={
            **tables.text_columns(mode="Mode", account="Account", asked_by="Asked by",
                                  status="Status", message="Message"),
            **tables.count_columns(run_id="Run", version="Version", matched="Matched",
                                   done="Done", failed="Failed"),
            "started_at": _moment("Started (UTC)"), "finished_at": _moment("Finished (UTC)"),
        })


def show_dry_run(task: TaskState, stored: StoredRule) -> None:
    """What a dry run that ended found: the counts, examples (their text as plain cells), and
    the matches per ad or video and per label."""
    found: DryRunShown = task.result
    if found.version != stored.version:
        st.caption(f"This dry run used version {found.version}; run it again for version "
                   f"{stored.version}.")
    counts = st.columns(3)
    counts[0].metric("Comments read", f"{found.scanned:,}")
    counts[1].metric("Matched", f"{found.matched:,}")
    counts[2].metric("Would act on", f"{found.would_act:,}", help=(
        "A hide acts only on a visible comment that no blocked word hid already."))
    st.caption(f"Finished {ago(task.finished)}.")
    if not found.matched:
        return
    st.dataframe(found.examples, hide_index=True, key="rules_examples", column_config={
        **tables.text_columns(user_name="User", place="On", comment_id="Comment ID"),
        "content": st.column_config.TextColumn("Comment", width="large"),
        "likes": st.column_config.NumberColumn("Likes", format="%d"),
        "labels": st.column_config.ListColumn("Labels"),
        "acts": st.column_config.CheckboxColumn("Would act"),
        "create_time": _moment("Written (UTC)"),
    })
    place, label = st.columns(2)
    place.dataframe(found.by_place, hide_index=True, key="rules_by_place", column_config={
        **tables.text_columns(place="Ad or video"),
        **tables.count_columns(matched="Matched", would_act="Would act on")})
    label.dataframe(found.by_label, hide_index=True, key="rules_by_label", column_config={
        **tables.text_columns(label="Label"), **tables.count_columns(matched="Matched")})


def _moment(label: str) -> Any:
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm", timezone="UTC")


# ---------------------------------------------------------------------------------------------
# Showing background work


def task_progress(task_runner: Tasks, key: str, title: str) -> TaskState | None:
    """The task's state; while it runs, a progress bar redrawn every second, and the whole
    page redrawn once it has ended."""
    state = task_runner.state(key)
    if state is None or not state.running:
        return state

    def draw() -> None:
        current = task_runner.state(key)
        if current is None or not current.running:
            st.rerun(scope="app")
            return
        st.progress(current.fraction, text=md_escape(f"{title}: {current.line}"))

    st.fragment(draw, run_every=1.0)()
    return state


def task_failed(state: TaskState) -> bool:
    """Show why a task that ended stopped, if it failed; whether it did."""
    if state.error is None:
        return False
    if isinstance(state.error, USER_ERRORS):
        show_error(state.error)
    else:
        st.error(f"It stopped: {md_escape(type(state.error).__name__)}. Try again; nothing "
                 "is done twice.", icon="⚠️")
    return True


def classification_notice(ctx: PageContext) -> None:
    """How many stored comments the current classifier has not read, with the progress of
    the background task that classifies them (and a way to start it again)."""
    runner = handles.store_tasks(ctx.store.path)
    state = task_progress(runner, handles.CLASSIFY_BACKLOG, "Classifying the stored comments")
    with ctx.store.cursor() as cur:
        waiting = db.unclassified_count(cur, CLASSIFIER_VERSION)
    if not waiting:
        return
    if state is not None and state.running:
        st.caption(f"{plural(waiting, 'comment')} are being classified; rules that use labels "
                   "classify the comments they read first.")
        return
    if state is not None:
        task_failed(state)
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(f"{plural(waiting, 'comment')} await classification by the current classifier "
                 f"({md_escape(CLASSIFIER_VERSION)}); rules that use labels classify the "
                 "comments they read first.")
    if right.button("Classify them now", key="rules_classify", icon="🏷️",
                    disabled=not ctx.person.can("admin")):
        try:
            ctx.require("admin", CLASSIFYING)
            handles.classify_stored(ctx.store)
        except USER_ERRORS as exc:
            show_error(exc)
            return
        st.rerun()
