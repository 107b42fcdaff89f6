"""Alerts on the pages: the Settings page's block (admins) and the latest alerts with their
deliveries (any page; Retry for responders and up).

Every change asks `ctx.require` on the server before it acts, whatever the page showed, and
records the person's e-mail (desk.alerts.store). A webhook URL is a secret: it is shown as
its host and last four characters, never whole, once saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import pandas as pd
import streamlit as st

from desk.alerts import retry, send_test
from desk.alerts import store as alerts_db
from desk.alerts.store import CHANNEL_KINDS, THRESHOLD_SPECS, Channel
from desk.config import Settings
from desk.store.sql import Cursor
from desk.text import md_escape, plural, text
from desk.ui import tables
from desk.ui.context import USER_ERRORS, PageContext, flash, show_error

CHANGING = "change the alert settings"
"""What only an admin may do (desk.people), as refusals say it."""
RETRYING = "retry sending an alert"
CHANNEL_NAMES = {"webhook": "Webhook (Slack, Teams)", "email": "E-mail"}
_STATUS_WORDS = {"sent": "✅ sent", "pending": "⏳ pending", "failed": "⚠️ failed"}


def settings_section(ctx: PageContext) -> None:
    """The Settings page's Alerts block: channels, thresholds, a test alert, the latest
    alerts. For admins."""
    st.subheader("Alerts")
    if not ctx.person.can("admin"):
        st.info("Only an admin may change the alert settings.")
        return
    st.caption("After every sync Comment Desk checks whether the backlog is past its "
               "response-time target, whether the share of negative or toxic comments spikes "
               "against its baseline, and whether the comments on an ad spike. Each alert is "
               "sent once to every channel turned on here, with a link into the inbox; a "
               "delivery that fails is tried again, and shown below until it is sent.")
    _email_setup(ctx.settings)
    with ctx.store.cursor() as cur:
        channels = alerts_db.list_channels(cur)
    _channels_table(channels)
    _add_channel(ctx)
    if channels:
        _change_channel(ctx, channels)
        _test_alert(ctx)
    _thresholds(ctx)
    st.markdown("**Latest alerts**")
    alerts_panel(ctx, key="settings")


def alerts_panel(ctx: PageContext, *, key: str = "inbox", limit: int = 20) -> None:
    """The latest alerts, each delivery with its status, attempts and last error; Retry for
    a delivery not sent yet (responders and up). `key` is the page's name, for widget keys."""
    with ctx.store.cursor() as cur:
        recent = alerts_db.recent_alerts(cur, limit=limit)
    if recent.empty:
        st.caption("No alerts yet.")
        return
    failed = recent[recent["status"] == "failed"]
    if not failed.empty:
        st.warning(f"{plural(len(failed), 'alert delivery')} failed after every attempt: "
                   "check the channel in Settings, then retry below.", icon="⚠️")
    shown = recent.assign(
        kind=recent["kind"].map(alerts_db.KIND_NAMES),
        status=[_STATUS_WORDS.get(text(s), "no channel") for s in recent["status"]],
        channel=[text(c) or "—" for c in recent["channel"]],
    )
    st.dataframe(shown, hide_index=True, key=f"{key}_alerts_table", column_order=[
        "raised_at", "kind", "title", "detail", "link", "channel", "status", "attempts",
        "last_error", "next_try_at", "sent_at"], column_config={
        "raised_at": st.column_config.DatetimeColumn("Raised (UTC)", format="YYYY-MM-DD HH:mm"),
        **tables.text_columns(kind="Alert", title="What", detail="Detail", channel="Sent to",
                              status="Delivery", last_error="Last error"),
        "link": st.column_config.LinkColumn("Inbox", display_text="Open"),
        "attempts": st.column_config.NumberColumn("Attempts", format="%d"),
        "next_try_at": st.column_config.DatetimeColumn("Next try (UTC)",
                                                       format="YYYY-MM-DD HH:mm"),
        "sent_at": st.column_config.DatetimeColumn("Sent (UTC)", format="YYYY-MM-DD HH:mm"),
    })
    if ctx.person.can("responder"):
        _retry(ctx, recent, key)


def _retry(ctx: PageContext, recent: pd.DataFrame, key: str) -> None:
    waiting = recent[recent["status"].isin(["pending", "failed"])]
    if waiting.empty:
        return
    choices = {(int(row.alert_id), int(row.channel_id)): row
               for row in waiting.itertuples(index=False)}
    chosen = st.selectbox(
        "Delivery to send again", list(choices), key=f"{key}_alerts_retry_choice",
        format_func=lambda pair: (f"Alert {pair[0]}: {text(choices[pair].title)} → "
                                  f"{text(choices[pair].channel)} ({choices[pair].status})"))
    if not st.button("Retry now", key=f"{key}_alerts_retry", icon="🔁") or chosen is None:
        return
    try:
        ctx.require("responder", RETRYING)
        with ctx.store.cursor() as cur:
            why = retry(cur, ctx.settings, *chosen)
    except ValueError as exc:
        st.error(md_escape(f"{exc}."))
    except USER_ERRORS as exc:
        show_error(exc)
    else:
        if why is None:
            flash("✅", "The alert was sent.")
            st.rerun()
        st.error(md_escape(f"Not sent: {why}. Check the channel in Settings, then retry."),
                 icon="⚠️")


# ---------------------------------------------------------------------------------------------
# The Settings block


def _email_setup(settings: Settings) -> None:
    if settings.smtp_host and settings.smtp_from:
        login = f" as {settings.smtp_user}" if settings.smtp_user else ""
        tls = "STARTTLS" if settings.smtp_starttls else "no encryption"
        st.caption(md_escape(f"E-mail alerts go through {settings.smtp_host}:"
                             f"{settings.smtp_port}{login} ({tls}), from {settings.smtp_from}. "
                             f"Links point to {settings.public_url} (DESK_PUBLIC_URL)."))
    else:
        st.caption(md_escape(f"E-mail alerts need an SMTP server: set DESK_SMTP_HOST and "
                             f"DESK_SMTP_FROM (see the README). Links point to "
                             f"{settings.public_url} (DESK_PUBLIC_URL)."))


def _channels_table(channels: list[Channel]) -> None:
    if not channels:
        st.write("No channel yet: alerts are only listed below until one is added.")
        return
    frame = pd.DataFrame([{"kind": CHANNEL_NAMES[c.kind], "shown": c.shown,
                           "enabled": "on" if c.enabled else "off", "created_by": c.created_by,
                           "created_at": c.created_at} for c in channels])
    st.dataframe(frame, hide_index=True, key="settings_alerts_channels", column_config={
        **tables.text_columns(kind="Channel", shown="Sends to", enabled="On",
                              created_by="Added by"),
        "created_at": st.column_config.DatetimeColumn("Added (UTC)", format="YYYY-MM-DD HH:mm"),
    })


def _add_channel(ctx: PageContext) -> None:
    with st.form("settings_alerts_add_form", clear_on_submit=True):
        kind = st.selectbox("New channel", CHANNEL_KINDS, key="settings_alerts_kind",
                            format_func=CHANNEL_NAMES.get)
        target = st.text_input("Incoming-webhook URL, or e-mail addresses separated by commas",
                               key="settings_alerts_target", type="password",
                               placeholder="https://hooks.slack.com/services/… or "
                                           "team@brand.example")
        submitted = st.form_submit_button("Add channel", key="settings_alerts_add")
    if submitted:
        _change(ctx, lambda cur: _added(cur, ctx, kind, target))


def _added(cur: Cursor, ctx: PageContext, kind: str, target: str) -> str:
    channel_id = alerts_db.add_channel(cur, kind, target,  # type: ignore[arg-type]
                                       ctx.person.email)
    [channel] = [c for c in alerts_db.list_channels(cur) if c.channel_id == channel_id]
    return f"Alerts now go to {channel.shown} too."


def _change_channel(ctx: PageContext, channels: list[Channel]) -> None:
    by_id = {c.channel_id: c for c in channels}
    chosen = st.selectbox("Channel", list(by_id), key="settings_alerts_channel",
                          format_func=lambda i: _channel_label(by_id[i]))
    channel = by_id.get(chosen)
    if channel is None:
        return
    left, right = st.columns(2)
    if left.button("Turn off" if channel.enabled else "Turn on", key="settings_alerts_toggle"):
        _change(ctx, lambda cur: _toggled(cur, ctx, channel))
    if right.button("Remove", key="settings_alerts_remove",
                    help="Removes the channel and its deliveries; the alerts stay. Turn it off "
                         "instead to keep its history."):
        _change(ctx, lambda cur: _removed(cur, ctx, channel))


def _channel_label(channel: Channel) -> str:
    return (f"{CHANNEL_NAMES[channel.kind]}: {channel.shown} "
            f"({'on' if channel.enabled else 'off'})")


def _toggled(cur: Cursor, ctx: PageContext, channel: Channel) -> str:
    alerts_db.set_channel_enabled(cur, channel.channel_id, not channel.enabled,
                                  ctx.person.email)
    return f"{channel.shown} is turned {'off' if channel.enabled else 'on'}."


def _removed(cur: Cursor, ctx: PageContext, channel: Channel) -> str:
    alerts_db.remove_channel(cur, channel.channel_id, ctx.person.email)
    return f"{channel.shown} no longer gets alerts."


def _test_alert(ctx: PageContext) -> None:
    if not st.button("Send a test alert", key="settings_alerts_test", icon="📣",
                     help="Sends a test message to every channel that is on, now."):
        return
    try:
        ctx.require("admin", CHANGING)
        with ctx.store.cursor() as cur:
            results = send_test(cur, ctx.settings)
    except USER_ERRORS as exc:
        show_error(exc)
        return
    if not results:
        st.info("Every channel is turned off: turn one on first.")
    for channel, why in results:
        if why is None:
            st.success(md_escape(f"{channel.shown}: sent."), icon="✅")
        else:
            st.error(md_escape(f"{channel.shown}: not sent: {why}."), icon="⚠️")


def _thresholds(ctx: PageContext) -> None:
    with ctx.store.cursor() as cur:
        current = asdict(alerts_db.thresholds(cur))
    defaults = asdict(alerts_db.Thresholds())
    with st.form("settings_alerts_thresholds_form"):
        st.markdown("**When to alert** (see docs/inbox.md)")
        columns = st.columns(2)
        values = {}
        for number, spec in enumerate(THRESHOLD_SPECS):
            whole = isinstance(defaults[spec.name], int)
            values[spec.name] = columns[number % 2].number_input(
                spec.label, min_value=int(spec.minimum) if whole else float(spec.minimum),
                max_value=int(spec.maximum) if whole else float(spec.maximum),
                value=current[spec.name], step=1 if whole else 0.5,
                key=f"settings_alerts_{spec.name}", help=f"Default {defaults[spec.name]:g}.")
        submitted = st.form_submit_button("Save thresholds", key="settings_alerts_save")
    if submitted:
        _change(ctx, lambda cur: _saved(cur, ctx, values))


def _saved(cur: Cursor, ctx: PageContext, values: dict) -> str:
    changed = alerts_db.set_thresholds(cur, values, ctx.person.email)
    return f"Saved {plural(len(changed), 'threshold')}." if changed else "Nothing changed."


def _change(ctx: PageContext, action: Callable[[Cursor], str]) -> None:
    """An admin's change: checked on the server, then done; its result flashed."""
    try:
        ctx.require("admin", CHANGING)
        with ctx.store.cursor() as cur:
            done = action(cur)
    except ValueError as exc:  # a target or a value that cannot be used: says which
        st.error(md_escape(f"{exc}."), icon="⚠️")
    except USER_ERRORS as exc:
        show_error(exc)
    else:
        flash("✅", done)
        st.rerun()
