"""The weekly summary on the Insights page: the accounts and weeks it offers, and the file.

The summary is per account (the ad account and the TikTok account the session works on) and
per week, Monday to Sunday in the account's time zone; the sidebar's filters do not apply.
It is a read: every role that opens Insights may prepare and download it. The prepared file
stays in the session, for its account and week only, until another is prepared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from desk.report import Account, last_full_week, report_file_name, weekly_report
from desk.ui import queries
from desk.ui.context import PageContext

WEEKS_OFFERED = 12
"""How many whole weeks back the week picker goes."""
KEPT = "insights_summary_file"
"""The session key of the prepared file: ((database, account, week), PreparedSummary)."""


@dataclass(frozen=True)
class PreparedSummary:
    name: str
    data: bytes


def accounts(ctx: PageContext) -> dict[str, str]:
    """The accounts the page works on, as picker keys ('ad:<id>', 'organic:<id>') -> names."""
    found: dict[str, str] = {}
    if ctx.advertiser_id:
        frame = queries.advertisers(ctx)
        names = frame.loc[frame["advertiser_id"] == ctx.advertiser_id, "name"]
        name = str(names.iloc[0]) if len(names) and isinstance(names.iloc[0], str) else ""
        found[f"ad:{ctx.advertiser_id}"] = f"{name or 'Ad account'} (ad account)"
    if ctx.business_id:
        found[f"organic:{ctx.business_id}"] = (
            f"{queries.account_label(ctx, ctx.business_id)} (TikTok account)")
    return found


def account_of(key: str) -> Account:
    """The account a picker key names."""
    kind, _, account_id = key.partition(":")
    return Account(kind, account_id)  # type: ignore[arg-type]


def week_timezone(ctx: PageContext, key: str) -> str:
    """The zone the account's weeks run in: an ad account's own, UTC for a TikTok account."""
    account = account_of(key)
    return (queries.advertiser_timezone(ctx, account.account_id) if account.kind == "ad"
            else "UTC")


def weeks(tz: str) -> list[str]:
    """The Mondays (ISO dates) of the last WEEKS_OFFERED whole weeks in `tz`, latest first."""
    latest = last_full_week(tz)
    return [(latest - timedelta(weeks=n)).isoformat() for n in range(WEEKS_OFFERED)]


def week_label(monday: str) -> str:
    """'2025-03-03 – 2025-03-09'."""
    start = date.fromisoformat(monday)
    return f"{start:%Y-%m-%d} – {start + timedelta(days=6):%Y-%m-%d}"


def kept(ctx: PageContext, key: str, monday: str) -> PreparedSummary | None:
    """The file prepared in this session for this account and week, if any (one for another
    account or week is let go)."""
    held = st.session_state.get(KEPT)
    if held and held[0] == (ctx.db, key, monday):
        return held[1]
    st.session_state.pop(KEPT, None)
    return None


def prepare(ctx: PageContext, key: str, monday: str) -> PreparedSummary:
    """Make the account's summary for the week and keep it in the session."""
    account, start = account_of(key), date.fromisoformat(monday)
    with ctx.store.cursor() as cur:
        data = weekly_report(cur, account, start)
    prepared = PreparedSummary(report_file_name(account, start), data)
    st.session_state[KEPT] = ((ctx.db, key, monday), prepared)
    return prepared
