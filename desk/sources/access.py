"""What this connection may do on an account, as TikTok has shown it.

TikTok reports no user permission up front. advertiser/info's `role` is the ad account's type
(ROLE_ADVERTISER, ROLE_CHILD_ADVERTISER, ROLE_CHILD_AGENT, ROLE_AGENT: confirmed by live output
and public code), not what the person connected may do; whether a connection may reply or hide
shows only in TikTok's answer to a write (40001/40125/40130 when it may not). The outbox
records that answer per account (`desk.outbox.writes.note_write_access`); here it is put into
words for the Advertisers page and the comment cards.
"""

from __future__ import annotations

from types import MappingProxyType

from desk import store as db
from desk.errors import message_for
from desk.text import text
from tiktok_client.errors import error_for

ACCOUNT_TYPES = MappingProxyType({
    "ROLE_ADVERTISER": "Advertiser",
    "ROLE_CHILD_ADVERTISER": "Advertiser managed by an agency",
    "ROLE_CHILD_AGENT": "Agency managed by an agency",
    "ROLE_AGENT": "Agency",
})


def account_type(role: object) -> str:
    """advertiser/info's `role` in words (an unknown value is shown as TikTok sent it)."""
    raw = text(role)
    return ACCOUNT_TYPES.get(raw, raw)


def write_access_summary(access: db.WriteAccess | None) -> str:
    """One cell for the Advertisers page: may this connection reply and hide there?"""
    if access is None:
        return "Not known yet: TikTok tells on the first reply or hide"
    when = f"{access.checked_at:%Y-%m-%d %H:%M} UTC"
    if access.allowed:
        return f"Allowed (TikTok accepted a write, {when})"
    code = f" with code {access.code}" if access.code is not None else ""
    return f"Refused by TikTok{code} ({when})"


def write_refusal(access: db.WriteAccess | None, noun: str) -> str | None:
    """What to tell someone about to reply or hide on an account where TikTok refused this
    connection's last write; None when it did not."""
    if access is None or access.allowed:
        return None
    error = error_for(access.code, access.message or "")
    return (f"TikTok refused the last reply or hide on this {noun} "
            f"({access.checked_at:%Y-%m-%d %H:%M} UTC): {message_for(error, noun)}")
