"""Which sandbox ad account a test works on.

The connected user may reply and hide on every ad account of a sandbox world but its last one
(the ground truth's `user_can_write`; TikTok itself shows it only by refusing a write).
"""

from __future__ import annotations

from typing import Any

WRITER, SECOND_WRITER, READ_ONLY = "WRITER", "SECOND_WRITER", "READ_ONLY"


def advertisers_by_access(truth: dict[str, Any]) -> dict[str, str]:
    """WRITER, SECOND_WRITER (when there is one) and READ_ONLY -> advertiser_id."""
    advertisers = truth["advertisers"]
    writable = [a["advertiser_id"] for a in advertisers if a["user_can_write"]]
    read_only = [a["advertiser_id"] for a in advertisers if not a["user_can_write"]]
    chosen = {WRITER: writable[0]}
    if len(writable) > 1:
        chosen[SECOND_WRITER] = writable[1]
    if read_only:
        chosen[READ_ONLY] = read_only[0]
    return chosen
