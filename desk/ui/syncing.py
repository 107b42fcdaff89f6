"""Syncing from a page: Sync now, in the background with a live status box, and the
automatic-sync widgets.

Every account syncs as its comment source (desk.sources), whichever kind it is. A sync holds
the account's slot in the app's one scheduler while it runs, so the automatic sync and a
person's Sync now never sync the same account at once. Sync now runs in the scheduler, not
in the page's script: the person can go to the other pages while it runs, and the comments
it stored so far are there (the scheduler forgets cached query results as they come in).
"""

from __future__ import annotations

from datetime import UTC

import streamlit as st

from desk.moderation.pipeline import Moderated
from desk.people import NotAllowed
from desk.scheduler import AutoSync, AutoSyncPlan, SyncNow
from desk.sources import CommentSource
from desk.text import ago, md_escape
from desk.ui import handles, queries
from desk.ui.context import USER_ERRORS, PageContext, error_message, flash, show_error

AUTO_SYNCING = "turn automatic sync on or off"
"""What only an admin may do here (desk.people), as the refusal says it."""
AUTO_SYNC_MINUTES = 15
"""How often an account syncs automatically unless an admin chooses otherwise."""


def auto_sync(ctx: PageContext) -> AutoSync:
    """The app's automatic-sync scheduler (no thread runs until one is enabled)."""
    return handles.auto_sync_scheduler(ctx.settings, ctx.app.api_base_url, ctx.app.app_id,
                                       ctx.app.app_secret)


def sync_now(ctx: PageContext, source: CommentSource, started_key: str) -> None:
    """Start syncing the account in the background: the person can go on reading (the first
    comments are there within seconds) while `sync_progress` shows how it goes."""
    try:
        auto_sync(ctx).run_now(source.key, noun=source.noun)
    except USER_ERRORS as exc:
        show_error(exc)
        return
    st.session_state[started_key] = source.key


def sync_progress(ctx: PageContext, source: CommentSource, label: str,
                  started_key: str) -> None:
    """The account's running sync (a live status box, redrawn every second while it runs),
    or the result of the one this person started, once it ended."""
    run = auto_sync(ctx).now(source.key)
    mine = st.session_state.get(started_key) == source.key
    if run is None or not (run.running or mine):
        return

    was_running = run.running

    def draw() -> None:
        current = auto_sync(ctx).now(source.key)
        if current is None:
            return
        if current.running:  # not a `with` block: leaving one would mark the box complete
            box = st.status(f"Syncing {md_escape(label)}…", expanded=True, state="running")
            box.progress(current.fraction, text=md_escape(current.line))
            box.caption("The comments stored so far can be read on the other pages while the "
                        "rest comes in.")
            return
        if was_running:  # it ended while shown: redraw the whole page with the new data
            st.rerun(scope="app")
        _show_result(label, current)

    st.fragment(draw, run_every=1.0 if was_running else None)()


def _show_result(label: str, run: SyncNow) -> None:
    """How a sync started now ended: its summary line, or the error in words."""
    if run.error is not None:
        with st.status(f"Syncing {md_escape(label)}…", expanded=True, state="error") as box:
            box.update(label="Sync stopped", state="error", expanded=True)
        if isinstance(run.error, USER_ERRORS):
            show_error(run.error)
        else:
            st.error(f"The sync stopped: {md_escape(type(run.error).__name__)}. Try again; "
                     "what was stored stays.", icon="⚠️")
        return
    result: Moderated = run.result
    ok = result.status == "ok"
    with st.status(f"Syncing {md_escape(label)}…", state="complete" if ok else "error",
                   expanded=not ok) as box:
        st.progress(1.0, text=md_escape(run.line))
        box.update(label="Sync finished" if ok else f"Sync {result.status}",
                   state="complete" if ok else "error", expanded=not ok)
    (st.success if ok else st.warning)(md_escape(result.summary()))


def auto_sync_changed(ctx: PageContext, source: CommentSource, toggle_key: str,
                      minutes_key: str) -> None:
    """on_change of the auto-sync widgets: apply them to the scheduler (an admin's choice, by
    the role the person has now: anyone else's change is refused and undone)."""
    scheduler = auto_sync(ctx)
    try:
        ctx.require("admin", AUTO_SYNCING)
    except NotAllowed as exc:
        plan = scheduler.status(source.key)
        st.session_state[toggle_key] = plan is not None
        st.session_state[minutes_key] = plan.minutes if plan else AUTO_SYNC_MINUTES
        flash("🔒", error_message(exc))
        return
    if st.session_state.get(toggle_key):
        minutes = st.session_state.get(minutes_key) or AUTO_SYNC_MINUTES
        scheduler.enable(source.key, int(minutes))
    else:
        scheduler.disable(source.key)


def auto_sync_summary(plan: AutoSyncPlan | None, noun: str) -> str:
    if plan is None:
        return f"Automatic sync is off for this {noun}."
    line = f"Syncs every {plan.minutes} min while the app runs; next around " \
           f"{plan.next_run.astimezone(UTC):%H:%M} UTC."
    if plan.running:
        line += " A sync is running now."
    if plan.last_run is not None:
        line += f" Last automatic sync {ago(plan.last_run)}: {plan.last_message}"
    return line


def sync_controls(ctx: PageContext, source: CommentSource, label: str, page: str, *,
                  usable: bool) -> None:
    """Sync now, the last sync's result, and the automatic sync of one account: the same
    controls for every kind of comment source. `usable`: the account can be acted for."""
    started_key = f"{page}_sync_started"
    running = (run := auto_sync(ctx).now(source.key)) is not None and run.running
    if st.button("Sync now", key=f"{page}_sync", type="primary", icon="🔄",
                 disabled=not usable or running):
        sync_now(ctx, source, started_key)
    sync_progress(ctx, source, label, started_key)
    st.caption(md_escape(queries.sync_summary(queries.last_sync(ctx, source.account_id,
                                                                source.kind))))
    st.subheader("Automatic sync")
    scheduler = auto_sync(ctx)
    plan = scheduler.status(source.key)
    toggle, minutes = f"{page}_autosync", f"{page}_autosync_minutes"
    st.session_state[toggle] = plan is not None
    if plan is not None:
        st.session_state[minutes] = plan.minutes
    st.session_state.setdefault(minutes, AUTO_SYNC_MINUTES)
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    args = (ctx, source, toggle, minutes)
    admin = ctx.person.can("admin")
    left.toggle(f"Sync this {source.noun} automatically while the app runs", key=toggle,
                on_change=auto_sync_changed, args=args, disabled=not usable or not admin)
    right.number_input("Every (minutes)", min_value=5, max_value=1440, step=5, key=minutes,
                       on_change=auto_sync_changed, args=args, disabled=not admin)
    st.caption(md_escape(auto_sync_summary(scheduler.status(source.key), source.noun)))
