"""A faithful stand-in for business-api.tiktok.com, served on loopback.

Used by the app's demo mode, by tests and by benchmarks::

    from tiktok_client.sandbox import SandboxConfig, start_sandbox

    with start_sandbox(SandboxConfig(seed=1, port=0)) as sb:
        token = sb.issue_token()
        ...  # point a client at sb.base_url

Standalone: it imports nothing from the rest of the project, only the standard library.
"""

from .config import ManualClock, SandboxConfig
from .server import SandboxHandle, start_sandbox
from .walk import authorization_code, walk_consent

__all__ = [
    "ManualClock",
    "SandboxConfig",
    "SandboxHandle",
    "authorization_code",
    "start_sandbox",
    "walk_consent",
]
