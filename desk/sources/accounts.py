"""A TikTok business account as a comment source: the Accounts API (organic videos).

Comments are listed per video with cursor paging (business/comment/list, reply/list),
replies (up to 1,200 characters) go to business/comment/reply/create as the account, hide
and unhide to business/comment/hide one comment a call. The account's access token lasts 24
hours: it is renewed before it expires, on use and during a long sync (desk.connect.tokens).
The sync engine itself is desk.sources.account_sync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import pandas as pd

from desk import store as db
from desk.connect.tokens import TokenKeeper
from desk.errors import TIKTOK_ACCOUNT
from desk.sources.account_sync import (
    OrganicSyncOptions,
    OrganicSyncResult,
    sync_business_account,
)
from desk.sources.base import CommentSource, PostedReply, Writer, value
from desk.workspace import Workspace
from tiktok_client.accounts import MAX_ORGANIC_COMMENT_LENGTH, BusinessAccountClient
from tiktok_client.checks import check_text


class TikTokAccountWriter(Writer):
    """Writes for one business account with a client holding its current token."""

    kind = "organic"
    noun = TIKTOK_ACCOUNT
    account_column = "business_id"
    status_batch = 1  # business/comment/hide takes one comment
    posted_as = "the TikTok account"
    max_reply_length = MAX_ORGANIC_COMMENT_LENGTH  # business/comment/reply/create: 1,200
    missing_for_reply = ("video_id", "business_id")
    missing_reason = (
        "This comment is missing its video or TikTok account, so it cannot be answered "
        "from here; sync the TikTok account and try again."
    )

    def __init__(self, account: BusinessAccountClient) -> None:
        super().__init__(account.business_id)
        self.account = account

    def check_text(self, text: str) -> None:
        check_text(text, "reply", self.max_reply_length)

    def reply_fields(self, parent: Mapping[str, Any]) -> dict[str, Any]:
        return {"tiktok_item_id": parent["video_id"], "video_id": parent["video_id"]}

    @classmethod
    def can_change_status(cls, row: Mapping[str, Any]) -> bool:
        return value(row.get("video_id")) is not None  # business/comment/hide names the video

    def status_fields(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return self.reply_fields(row)

    def describe(self, comment_id: str) -> str:
        return f"comment {comment_id} of TikTok account {self.account_id}"

    def reply_row(self, parent: Mapping[str, Any], action: Mapping[str, Any],
                  reply: PostedReply) -> dict[str, Any]:
        return {"video_id": parent["video_id"], "tiktok_item_id": parent["video_id"],
                "business_id": self.account_id, "source": "organic"}

    def upsert(self, cur: db.Cursor, frame: pd.DataFrame) -> None:
        db.upsert_organic_comments(cur, frame, seen_at=pd.Timestamp.now(tz="UTC").to_pydatetime())

    def post_reply(self, action: Mapping[str, Any]) -> PostedReply:
        sent = self.account.reply_to_comment(action["video_id"], action["comment_id"],
                                             action["text"])
        return PostedReply(sent.comment_id, action["text"], sent.create_time, sent.username,
                           sent.status)

    def set_status(self, actions: Sequence[Mapping[str, Any]], hidden: bool) -> None:
        for action in actions:
            self.account.set_comment_hidden(action["video_id"], action["comment_id"],
                                            "HIDE" if hidden else "UNHIDE")

    def replies_on_tiktok(self, action: Mapping[str, Any]) -> Iterable[PostedReply]:
        for reply in self.account.iter_replies(action["video_id"], action["comment_id"],
                                               status="ALL"):
            if reply.comment_id and reply.comment_id != action["comment_id"]:
                yield PostedReply(reply.comment_id, reply.text or "", reply.create_time,
                                  reply.username, reply.status, by_brand=reply.owner is True)

    def status_on_tiktok(self, cur: db.Cursor, action: Mapping[str, Any]) -> str | None:
        """Via business/comment/list for that one comment."""
        page = self.account.comments_page(action["video_id"], comment_ids=[action["comment_id"]],
                                          status="ALL")
        return next((i.status for i in page.items if i.comment_id == action["comment_id"]), None)


class TikTokAccount(CommentSource):
    """A TikTok business account: its own videos and their organic comments."""

    kind = "organic"
    writer_class = TikTokAccountWriter

    def __init__(self, workspace: Workspace, business_id: str, *,
                 access_token: str | None = None) -> None:
        """`access_token`, when given, is used as it is instead of the stored, renewed one
        (the command line's TIKTOK_ACCESS_TOKEN)."""
        super().__init__(workspace, business_id)
        self._access_token = access_token

    @contextmanager
    def _tokens(self) -> Iterator[Callable[[], str]]:
        """The account's current access token, asked before each use (renewed when due)."""
        if self._access_token:
            token = self._access_token
            yield lambda: token
            return
        app = self.workspace.app
        with app.client() as client:
            keeper = TokenKeeper(self.workspace.credentials, client, app.app_id, app.app_secret)
            yield lambda: keeper.access_token(self.account_id)

    def sync(self, *, progress: Callable[[Any], None] | None = None,
             stop: threading.Event | None = None, since: date | None = None,
             workers: int | None = None, refresh: bool | None = None) -> OrganicSyncResult:
        """`since` does not apply: business accounts are read video by video with cursor
        paging, and a video's high-water mark says where to stop."""
        options = OrganicSyncOptions(workers=workers,
                                     refresh_days=self.refresh_days_now(refresh))
        with self._tokens() as token, self.workspace.client(purpose="sync") as client:
            return sync_business_account(self.workspace.store, client, self.account_id, token,
                                         options=options, progress=progress,
                                         stop=stop, scopes=self._granted_scopes())

    def _granted_scopes(self) -> tuple[str, ...] | None:
        """The scopes the account holder granted, as stored with the account's tokens; None
        when they are not known (a token given as it is, or none stored)."""
        if self._access_token:
            return None
        conn = self.workspace.credentials.account_connection(self.account_id)
        return conn.scope if conn is not None and conn.scope else None

    @contextmanager
    def writer(self) -> Iterator[TikTokAccountWriter]:
        with self._tokens() as token:
            access = token()
        with self.workspace.client(access) as client:
            yield TikTokAccountWriter(BusinessAccountClient(client, self.account_id,
                                                            scopes=self._granted_scopes()))
