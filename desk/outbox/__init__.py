"""Writes to TikTok (reply, hide, unhide, and changes to an ad account's blocked-word list):
through an outbox, with an audit log, exactly once.

Every write a person or a rule asks for becomes one `outbox` row *before* anything is sent,
keyed by the caller's `request_key`: a double click or a Streamlit rerun with the same key
finds that row and sends nothing. The row then moves through these states, each move written
to `audit_log` with who asked:

    pending --(TikTok answered OK)---------------------------------> sent
            --(TikTok refused: permission, token, throttled, ...)--> failed
            --(sent, but no usable answer came back)---------------> unknown
    unknown --reconcile: TikTok has it---------------------------> sent
            --reconcile: TikTok does not have it-----------------> failed
    failed  --retry: reconcile first; send again only if TikTok does not have it--> pending

Reconciling asks TikTok what is true instead of guessing:

- a reply is on TikTok when the parent comment's replies (every page) hold a reply with the
  same text, written by the brand, created no earlier than the outbox row minus
  `RECONCILE_SLACK`, and not already claimed by another outbox row;
- a hide (unhide) is on TikTok when the comment's current status is HIDDEN (PUBLIC);
- a blocked word added (removed) is on TikTok when blockedword/check says the word is (is not)
  on the ad account's list (desk.outbox.words).

The same path serves every comment source: the functions take the account's `Writer`
(desk.sources), which knows its API calls and rules; the outbox row's `source` and account
column say where it acts. A request_key that was already used returns its row as it stands
(duplicate=True), even a failed one: sending again is `retry()`'s job, which checks TikTok
first. A row left `pending` for longer than `PENDING_STALE_AFTER` (the process stopped
mid-send) is treated as `unknown`. If TikTok cannot be asked (network down, token revoked),
the row stays as it is and nothing is resent.

Comment text is data: it is stored as given, never interpreted.

- desk.outbox.ledger: the rows, their compare-and-set moves, the audit log, reading them.
- desk.outbox.writes: asking for, sending, reconciling and retrying writes.
- desk.outbox.words: adding and removing blocked words, one row per word.
"""

from desk.errors import FIRST_LEVEL_ONLY, ActionRefused
from desk.outbox.ledger import (
    PENDING_STALE_AFTER,
    ActionResult,
    actions_for_comments,
    audit_log,
    get_action,
    recent_actions,
)
from desk.outbox.words import WORD_KINDS, WordChanges, change_words
from desk.outbox.writes import (
    NOT_POSTED,
    RECONCILE_SLACK,
    can_reply,
    reconcile,
    reconcile_open,
    reply,
    retry,
    set_hidden,
)

__all__ = [
    "FIRST_LEVEL_ONLY",
    "NOT_POSTED",
    "PENDING_STALE_AFTER",
    "RECONCILE_SLACK",
    "WORD_KINDS",
    "ActionRefused",
    "ActionResult",
    "WordChanges",
    "actions_for_comments",
    "audit_log",
    "can_reply",
    "change_words",
    "get_action",
    "recent_actions",
    "reconcile",
    "reconcile_open",
    "reply",
    "retry",
    "set_hidden",
]
