"""Where comments come from: one interface (desk.sources.base), one module per kind.

- desk.sources.ads: an ad account (Marketing API); its sync engine is desk.sources.ad_sync.
- desk.sources.accounts: a TikTok business account (Accounts API, organic videos); its sync
  engine is desk.sources.account_sync.

`KINDS` names every kind by the `source` value its comments and outbox rows carry; `for_row`
finds the source a stored comment or outbox row belongs to. A new kind of source is one new
module and one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from desk.sources.accounts import TikTokAccount, TikTokAccountWriter
from desk.sources.ads import AdAccount, AdAccountWriter
from desk.sources.base import (
    CommentSource,
    PostedReply,
    Progress,
    SourceKind,
    SyncResult,
    Writer,
    source_of,
)
from desk.workspace import Workspace

KINDS: Mapping[str, type[CommentSource]] = MappingProxyType({
    AdAccount.kind: AdAccount,
    TikTokAccount.kind: TikTokAccount,
})


def source(workspace: Workspace, kind: SourceKind, account_id: str) -> CommentSource:
    """The comment source of this kind for one account."""
    return KINDS[kind](workspace, account_id)


def for_row(workspace: Workspace, row: Mapping[str, Any]) -> CommentSource:
    """The source a stored comment or outbox row belongs to."""
    kind = KINDS[source_of(row)]
    return kind(workspace, str(row[kind.writer_class.account_column]))


__all__ = [
    "KINDS",
    "AdAccount",
    "AdAccountWriter",
    "CommentSource",
    "PostedReply",
    "Progress",
    "SourceKind",
    "SyncResult",
    "TikTokAccount",
    "TikTokAccountWriter",
    "Writer",
    "for_row",
    "source",
]
