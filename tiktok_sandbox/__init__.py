"""A faithful stand-in for business-api.tiktok.com, served on loopback.

Used by the app's demo mode, by tests and by benchmarks::

    from tiktok_sandbox import SandboxConfig, start_sandbox

    with start_sandbox(SandboxConfig(seed=1, port=0)) as sb:
        token = sb.issue_token()
        ...  # point a client at sb.base_url

TikTok business accounts (the Accounts API) live alongside the advertisers::

        account = sb.issue_account_token()   # access_token, refresh_token, open_id, ...
        truth = sb.ground_truth_accounts()   # accounts, videos, organic comments

Standalone: it imports nothing from the rest of the project, only the standard library.
"""

from .config import ManualClock, SandboxConfig
from .server import SandboxHandle, start_sandbox
from .walk import (
    account_authorization_code,
    authorization_code,
    walk_account_consent,
    walk_consent,
)

__all__ = [
    "ManualClock",
    "SandboxConfig",
    "SandboxHandle",
    "account_authorization_code",
    "authorization_code",
    "start_sandbox",
    "walk_account_consent",
    "walk_consent",
]
