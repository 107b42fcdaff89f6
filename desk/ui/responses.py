"""Response-time targets on the Settings page (admins), and the words Insights uses for the
response-time report.

Saving and removing a target asks `ctx.require("admin", ...)` on the server before it acts,
whatever the page showed, and records the person's e-mail (desk.store.responses).
"""

from __future__ import annotations

from types import MappingProxyType

import pandas as pd
import streamlit as st

from desk import store as db
from desk.moderation.labels import LABEL_NAMES
from desk.text import duration, md_escape, text
from desk.ui import queries, tables
from desk.ui.context import USER_ERRORS, PageContext, flash, refresh, show_error

SETTING = "set response-time targets"
"""What only an admin may do (desk.people), as refusals say it."""
Accounts = dict[tuple[str, str], str]
"""Known accounts: (account kind, account ID) -> how the page names them."""
UNITS = MappingProxyType({"minutes": 1, "hours": 60, "days": 24 * 60})
DEFINITIONS = (
    "Time to first response runs from a first-level comment to the brand's first reply "
    "under it, whoever wrote it; \"outside Comment Desk\" is a reply no one sent from here. "
    "Medians and p90s interpolate between the two nearest answers. Within target: answered "
    "no later than the target that applies (a labelled target over the account's \"all\", "
    "the shortest when several apply); the share counts answered comments that have one. The "
    "backlog counts the visible first-level comments still owed an answer (not answered by "
    "the brand, not marked done; snoozed ones still count) at the end of each day or hour. "
    "docs/inbox.md has every detail."
)


def scope_name(scope: str) -> str:
    """'All comments', or the label's name ('Question')."""
    return "All comments" if scope == db.TARGET_ALL else LABEL_NAMES.get(scope, scope)


def save_target(ctx: PageContext, account_kind: str, account_id: str, scope: str,
                minutes: int) -> None:
    """Set an account's target for `scope` as the person asking; an admin only."""
    ctx.require("admin", SETTING)
    with ctx.store.cursor() as cur:
        db.set_target(cur, account_kind, account_id, scope,  # type: ignore[arg-type]
                      minutes, ctx.person.email)
    refresh()


def remove_target(ctx: PageContext, account_kind: str, account_id: str, scope: str) -> bool:
    """Remove an account's target for `scope` (False: there was none); an admin only."""
    ctx.require("admin", SETTING)
    with ctx.store.cursor() as cur:
        gone = db.delete_target(cur, account_kind, account_id, scope,  # type: ignore[arg-type]
                                ctx.person.email)
    refresh()
    return gone


def _accounts(ctx: PageContext) -> Accounts:
    """Every known account, (kind, id) -> how the page names it."""
    names: Accounts = {}
    for advertiser_id, name in queries.known_advertisers(ctx.db, ctx.credentials).items():
        names[("ad", advertiser_id)] = f"Ad account: {name or advertiser_id} · {advertiser_id}"
    for business_id, name in queries.known_business_accounts(ctx.db, ctx.credentials).items():
        names[("organic", business_id)] = f"TikTok account: {name or business_id} · {business_id}"
    return names


def targets_section(ctx: PageContext) -> None:
    """The Settings page's block: each account's response-time targets, set and removed by
    admins."""
    st.subheader("Response-time targets")
    st.caption("How soon each account's comments should get their first answer, for all of "
               "them or for comments with a label (\"questions answered within 2 h\"). A "
               "comment's labelled target wins over the account's \"All comments\" one; with "
               "several labels, the shortest. Insights measures answers against them.")
    if not ctx.person.can("admin"):
        st.info("Only an admin may set response-time targets.")
        return
    accounts = _accounts(ctx)
    with ctx.store.cursor() as cur:
        targets = db.list_targets(cur)
    _targets_table(targets, accounts)
    if not accounts:
        st.caption("Connect an ad account or a TikTok account first.")
        return
    _set_form(ctx, accounts)
    if not targets.empty:
        _remove(ctx, targets, accounts)


def _targets_table(targets: pd.DataFrame, accounts: Accounts
                   ) -> None:
    if targets.empty:
        st.caption("No targets yet.")
        return
    shown = pd.DataFrame({
        "account": [accounts.get((k, a), f"{k} account {a}")
                    for k, a in zip(targets["account_kind"], targets["account_id"], strict=True)],
        "scope": [scope_name(s) for s in targets["scope"]],
        "within": [duration(m) for m in targets["minutes"]],
        "minutes": targets["minutes"],
        "set_by": targets["set_by"],
        "set_at": targets["set_at"],
    })
    st.dataframe(shown, hide_index=True, key="settings_targets_table", column_config={
        **tables.text_columns(account="Account", scope="Comments", within="Answered within",
                              set_by="Set by"),
        **tables.count_columns(minutes="Minutes"),
        "set_at": st.column_config.DatetimeColumn("Since (UTC)", format="YYYY-MM-DD HH:mm"),
    })


def _set_form(ctx: PageContext, accounts: Accounts) -> None:
    keys = list(accounts)
    chosen = (("ad", ctx.advertiser_id) if ctx.advertiser_id else
              ("organic", ctx.business_id) if ctx.business_id else None)
    with st.form("settings_targets_form", clear_on_submit=False):
        account = st.selectbox("Account", keys, format_func=accounts.get,
                               index=keys.index(chosen) if chosen in keys else 0,
                               key="settings_targets_account")
        scope = st.selectbox("Comments", db.TARGET_SCOPES, format_func=scope_name,
                             key="settings_targets_scope")
        amount_col, unit_col = st.columns(2)
        amount = amount_col.number_input("Answered within", min_value=1, value=2, step=1,
                                         key="settings_targets_amount")
        unit = unit_col.selectbox("Unit", list(UNITS), index=1, key="settings_targets_unit")
        submitted = st.form_submit_button("Save target", type="primary",
                                          key="settings_targets_save")
    if not submitted:
        return
    minutes = int(amount) * UNITS[unit]
    try:
        save_target(ctx, account[0], account[1], scope, minutes)
    except ValueError as exc:
        st.error(md_escape(f"{exc}."))
    except USER_ERRORS as exc:
        show_error(exc)
    else:
        flash("✅", f"{scope_name(scope)} of {text(accounts[account])}: answered within "
                   f"{duration(minutes)}.")
        st.rerun()


def _remove(ctx: PageContext, targets: pd.DataFrame,
            accounts: Accounts) -> None:
    rows = list(targets[["account_kind", "account_id", "scope"]].itertuples(index=False,
                                                                              name=None))

    def label(row: tuple[str, str, str]) -> str:
        kind, account_id, scope = row
        named = accounts.get((kind, account_id), f"{kind} account {account_id}")
        return f"{named} — {scope_name(scope)}"

    pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    row = pick_col.selectbox("Remove a target", rows, format_func=label,
                             key="settings_targets_remove_pick")
    if not button_col.button("Remove", key="settings_targets_remove") or row is None:
        return
    try:
        gone = remove_target(ctx, *row)
    except USER_ERRORS as exc:
        show_error(exc)
    else:
        flash("✅" if gone else "ℹ️",
              f"Target removed: {label(row)}." if gone else "That target was already gone.")
        st.rerun()
