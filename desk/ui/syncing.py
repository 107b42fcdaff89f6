"""Syncing from a page: Sync now with a live status box, and the automatic-sync widgets.

Every account syncs as its comment source (desk.sources), whichever kind it is. A sync holds
the account's slot in the app's one scheduler while it runs, so the automatic sync and a
person's Sync now never sync the same account at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import streamlit as st

from desk.scheduler import AutoSync, AutoSyncPlan
from desk.sources import CommentSource, Progress, SyncResult
from desk.text import ago, md_escape
from desk.ui import handles, queries
from desk.ui.context import USER_ERRORS, PageContext, refresh, show_error


def auto_sync(ctx: PageContext) -> AutoSync:
    """The app's automatic-sync scheduler (no thread runs until one is enabled)."""
    return handles.auto_sync_scheduler(ctx.settings, ctx.app.api_base_url, ctx.app.app_id,
                                       ctx.app.app_secret)


def sync_source(ctx: PageContext, source: CommentSource,
                progress: Callable[[Progress], None] | None = None) -> SyncResult:
    """Sync one account in this script run (SyncBusy if it is already syncing)."""
    with auto_sync(ctx).syncing(source.key, noun=source.noun):
        try:
            return source.sync(progress=progress)
        finally:
            refresh()


def sync_with_progress(ctx: PageContext, source: CommentSource, label: str
                       ) -> SyncResult | None:
    """Sync now, with a live status box and progress bar, ending with the result line."""
    return _sync_with_status(label, lambda report: sync_source(ctx, source, progress=report))


def _sync_with_status(label: str, sync: Callable[[Callable[[Progress], None]], SyncResult]
                      ) -> SyncResult | None:
    """Run `sync(report)` in a live status box with a progress bar, then show the result's
    summary; a user error is shown instead of a traceback and gives None."""
    with st.status(f"Syncing {md_escape(label)}…", expanded=True) as box:
        bar = st.progress(0.0, text="Starting…")

        def report(progress: Progress) -> None:
            bar.progress(progress.fraction, text=md_escape(progress.line()))

        try:
            result = sync(report)
        except USER_ERRORS as exc:
            box.update(label="Sync stopped", state="error", expanded=True)
            show_error(exc)
            return None
        ok = result.status == "ok"
        box.update(label="Sync finished" if ok else f"Sync {result.status}",
                   state="complete" if ok else "error", expanded=not ok)
    (st.success if ok else st.warning)(md_escape(result.summary()))
    return result


def auto_sync_changed(ctx: PageContext, source: CommentSource, toggle_key: str,
                      minutes_key: str) -> None:
    """on_change of the auto-sync widgets: apply them to the scheduler."""
    scheduler = auto_sync(ctx)
    if st.session_state.get(toggle_key):
        scheduler.enable(source.key, int(st.session_state.get(minutes_key) or 15))
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
    if st.button("Sync now", key=f"{page}_sync", type="primary", icon="🔄",
                 disabled=not usable):
        sync_with_progress(ctx, source, label)
    st.caption(md_escape(queries.sync_summary(queries.last_sync(ctx, source.account_id,
                                                                source.kind))))
    st.subheader("Automatic sync")
    scheduler = auto_sync(ctx)
    plan = scheduler.status(source.key)
    toggle, minutes = f"{page}_autosync", f"{page}_autosync_minutes"
    st.session_state[toggle] = plan is not None
    if plan is not None:
        st.session_state[minutes] = plan.minutes
    st.session_state.setdefault(minutes, 15)
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    args = (ctx, source, toggle, minutes)
    left.toggle(f"Sync this {source.noun} automatically while the app runs", key=toggle,
                on_change=auto_sync_changed, args=args, disabled=not usable)
    right.number_input("Every (minutes)", min_value=5, max_value=1440, step=5, key=minutes,
                       on_change=auto_sync_changed, args=args)
    st.caption(md_escape(auto_sync_summary(scheduler.status(source.key), source.noun)))
