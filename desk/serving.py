"""Where the app may listen: on this machine only, unless people must sign in.

Without an identity provider or DESK_PASSWORD, anyone who can reach Comment Desk can reply as
the brand, so it then serves loopback only (`make run` binds 127.0.0.1; `.streamlit/
config.toml` says the same to a plain `streamlit run`). Asked to listen beyond loopback
without sign-in, `python -m desk check-serving` (which `make run` calls first) refuses with
the reason, and every page shows it instead of its content.
"""

from __future__ import annotations

import ipaddress

from desk.config import Settings

OPEN_WITHOUT_SIGN_IN = (
    "Comment Desk is asked to listen on {address}, beyond this machine, but nobody has to sign "
    "in: anyone who can reach it could reply as the brand. Configure sign-in with your "
    "identity provider (an [auth] section in .streamlit/secrets.toml) or set DESK_PASSWORD, "
    "or listen on 127.0.0.1 only (make run without ADDRESS)."
)


def is_loopback(address: str | None) -> bool:
    """Whether listening on `address` (Streamlit's server.address; None or "" is every
    interface) reaches this machine only."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(address: str | None, settings: Settings) -> str | None:
    """Why Comment Desk must not listen on `address` with these settings, or None."""
    if settings.sign_in != "none" or is_loopback(address):
        return None
    return OPEN_WITHOUT_SIGN_IN.format(address=address or "every network interface")
