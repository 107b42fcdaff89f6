"""An ad account as a comment source: the Marketing API (Business API v1.3).

Comments are listed per ad group (comment/list), replies go to comment/post as the ad's
identity, hide and unhide to comment/status/update (up to 100 comments a call), and
comment/reference reads a comment and its replies back. The token is the connection's that
grants the advertiser; Marketing API tokens do not expire, and one TikTok refuses marks its
connection as needing re-authorisation. The sync engine itself is desk.sources.ad_sync; after
the comments a sync reads each ad's daily delivery (desk.sources.delivery).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, ClassVar

import pandas as pd

from desk import store as db
from desk.errors import AD_ACCOUNT, NotConnected, SyncAborted
from desk.sources.ad_sync import AUCTION, AdSyncResult, SyncOptions, sync_advertiser
from desk.sources.base import CommentSource, PostedReply, Writer, value
from desk.sources.delivery import sync_delivery, with_delivery
from desk.workspace import Workspace
from tiktok_client.client import (
    MAX_REPLY_LENGTH,
    TikTokClient,
    check_reply_text,
    iter_numbered_pages,
)
from tiktok_client.errors import InvalidRequest, PartialSuccess, TikTokError, TokenError
from tiktok_client.learned import AD_REPLY_LENGTH, rejects

REFERENCE_PAGE_SIZE = 100
MAX_REFERENCE_PAGES = 1000

_INHERITED = (
    "app", "ad_text", "campaign_id", "campaign_name", "adgroup_id", "adgroup_name", "ad_id",
    "ad_name", "tiktok_item_id", "identity_id", "identity_type", "is_auth_ttba",
    "is_auth_comment_manage_scope", "video_play_url", "video_cover_url",
)
"""What a brand reply stored at once takes from the comment it answers."""


def ad_type(buying_type: str | None) -> str | None:
    """comment/status/update's `ad_type` for an ad bought this way (SDK StatusUpdateBody.md):
    BRAND for reserved buys, BIDDING for the auction, None when not known."""
    if buying_type is None:
        return None
    return "BIDDING" if buying_type == AUCTION else "BRAND"


class AdAccountWriter(Writer):
    """Writes for one ad account with a client holding a token that grants it."""

    kind = "ad"
    noun = AD_ACCOUNT
    account_column = "advertiser_id"
    status_batch = 100  # comment/status/update takes at most this many comment IDs
    posted_as = "the ad's identity"
    max_reply_length = MAX_REPLY_LENGTH
    missing_for_reply = ("ad_id", "tiktok_item_id", "identity_type", "identity_id")
    missing_reason = (
        "This comment is missing its ad's video or identity, so it cannot be answered "
        "from here; sync the ad account and try again."
    )
    NO_COMMENT_PERMISSION: ClassVar[str] = (
        "The ad's identity has not given comment-management permission, so no reply can be "
        "posted as it; ask the owner of that TikTok account to authorize comment "
        "management for the ad account."
    )

    BLOCKED_WORD: ClassVar[str] = (
        "TikTok hid this comment itself because it contains a word on the ad account's "
        "blocked-word list; TikTok does not let such comments be hidden or unhidden by hand. "
        "Change the blocked-word list on the Blocked words page to change what it hides."
    )

    def __init__(self, client: TikTokClient, advertiser_id: str) -> None:
        super().__init__(advertiser_id)
        self.client = client

    @classmethod
    def can_reply(cls, row: Mapping[str, Any]) -> str | None:
        reason = super().can_reply(row)
        if reason is None and value(row.get("is_auth_comment_manage_scope")) is False:
            return cls.NO_COMMENT_PERMISSION
        return reason

    @classmethod
    def status_fixed(cls, row: Mapping[str, Any]) -> str | None:
        """TikTok's help ("How to view and manage comments"): a comment that hit a blocked
        word cannot be hidden or unhidden by hand."""
        return cls.BLOCKED_WORD if value(row.get("hit_blockedword")) is True else None

    @classmethod
    def reply_limit(cls, learned: Mapping[str, Any]) -> int:
        return int(learned.get(AD_REPLY_LENGTH) or cls.max_reply_length)

    def check_text(self, text: str) -> None:
        check_reply_text(text, self.client.ad_reply_limit())

    def reply_fields(self, parent: Mapping[str, Any]) -> dict[str, Any]:
        return {name: parent[name] for name in self.missing_for_reply}

    @property
    def advertiser_id(self) -> str:
        return self.account_id

    def blocked_words_client(self) -> TikTokClient:
        return self.client

    def reply_row(self, parent: Mapping[str, Any], action: Mapping[str, Any],
                  reply: PostedReply) -> dict[str, Any]:
        row = {name: parent.get(name) for name in _INHERITED}
        row["advertiser_id"] = self.account_id
        return row

    def upsert(self, cur: db.Cursor, frame: pd.DataFrame) -> None:
        db.upsert_comments(cur, frame, seen_at=pd.Timestamp.now(tz="UTC").to_pydatetime())

    def post_reply(self, action: Mapping[str, Any]) -> PostedReply:
        sent = self.client.reply_to_comment(
            self.account_id,
            ad_id=action["ad_id"],
            tiktok_item_id=action["tiktok_item_id"],
            comment_id=action["comment_id"],
            text=action["text"],
            identity_type=action["identity_type"],
            identity_id=action["identity_id"],
        )
        return PostedReply(sent.comment_id, action["text"], sent.create_time)

    def comments(self, cur: db.Cursor, comment_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored comments, each with the `ad_type` comment/status/update wants for its
        ad: BRAND for reserved ads, BIDDING for auction ones, None when not known."""
        rows = super().comments(cur, comment_ids)
        bought = db.buying_types(cur, self.account_id,
                                 sorted({r["ad_id"] for r in rows.values() if value(r["ad_id"])}))
        for row in rows.values():
            row["ad_type"] = ad_type(bought.get(row["ad_id"]))
        return rows

    def status_fields(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"ad_id": row.get("ad_id"), "ad_type": row.get("ad_type")}

    def status_call(self, action: Mapping[str, Any]) -> Any:
        return action.get("ad_type")

    def set_status(self, actions: Sequence[Mapping[str, Any]], hidden: bool) -> None:
        """One comment/status/update call for comments of one ad_type. BRAND goes only with
        comments on reserved ads; otherwise none is sent and TikTok takes its default,
        BIDDING. When TikTok refuses the ad_type (the store did not know how the ads were
        bought, or knew wrong) the comments go again with the other one; where it was not
        known and they are on several ads, each ad's comments (which share one) go on their
        own. A refused call changed nothing."""
        operation = "HIDDEN" if hidden else "PUBLIC"
        known = actions[0].get("ad_type")
        try:
            self._send_status(actions, operation, known)
            return
        except InvalidRequest as err:
            if not rejects(err, "ad_type"):
                raise
        per_ad: dict[Any, list[Mapping[str, Any]]] = {}
        for action in actions:
            per_ad.setdefault(action.get("ad_id"), []).append(action)
        if known is not None or len(per_ad) == 1:
            self._send_status(actions, operation, "BIDDING" if known == "BRAND" else "BRAND")
            return
        for done, alike in enumerate(per_ad.values()):
            try:
                try:
                    self._send_status(alike, operation, None)
                except InvalidRequest as err:
                    if not rejects(err, "ad_type"):
                        raise
                    self._send_status(alike, operation, "BRAND")
            except TikTokError as later:
                if done:  # other ads' comments changed already: the outbox asks TikTok
                    raise PartialSuccess(str(later), later.code, later.request_id) from later
                raise

    def _send_status(self, actions: Sequence[Mapping[str, Any]], operation: str,
                     ad_type: str | None) -> None:
        self.client.set_comment_status(self.account_id, [a["comment_id"] for a in actions],
                                       operation, "BRAND" if ad_type == "BRAND" else None)

    def replies_on_tiktok(self, action: Mapping[str, Any]) -> Iterable[PostedReply]:
        """Every item comment/reference lists for the first-level comment, but itself."""
        def fetch(page: int):
            return self.client.comment_reference(
                self.account_id, action["comment_id"], "COMMENT", page=page,
                page_size=REFERENCE_PAGE_SIZE)

        for item in iter_numbered_pages(fetch, REFERENCE_PAGE_SIZE, MAX_REFERENCE_PAGES):
            if item.comment_id and item.comment_id != action["comment_id"]:
                yield PostedReply(
                    item.comment_id, item.content or "", item.create_time, item.user_name,
                    item.comment_status,
                    by_brand=item.comment_type in (None, "REPLY") and item.can_delete is True,
                )

    def status_on_tiktok(self, cur: db.Cursor, action: Mapping[str, Any]) -> str | None:
        """Via comment/reference: a reply is looked up with its original comment."""
        comment_id = action["comment_id"]
        stored = self.comment(cur, comment_id) or {}
        original = stored.get("original_comment_id")
        if stored.get("comment_type") == "REPLY" and original:
            page = self.client.comment_reference(self.account_id, comment_id, "REPLY", original)
        else:
            page = self.client.comment_reference(self.account_id, comment_id, "COMMENT")
        return next((i.comment_status for i in page.items if i.comment_id == comment_id), None)


class AdAccount(CommentSource):
    """An ad account: its ads and their comments, through the Marketing API."""

    kind = "ad"
    writer_class = AdAccountWriter

    def __init__(self, workspace: Workspace, advertiser_id: str, *,
                 access_token: str | None = None) -> None:
        """`access_token`, when given, is used instead of the connection's (the command
        line's TIKTOK_ACCESS_TOKEN)."""
        super().__init__(workspace, advertiser_id)
        self._access_token = access_token

    def _token(self) -> tuple[str, str | None]:
        """The token to act with, and the connection it belongs to (None: given directly)."""
        if self._access_token:
            return self._access_token, None
        conn = self.workspace.credentials.connection_for(self.account_id)
        if conn is None:
            raise NotConnected(
                f"No connected account grants advertiser {self.account_id}. "
                "Connect it on the Home page first."
            )
        return conn.access_token, conn.connection_id

    def sync(self, *, progress: Callable[[Any], None] | None = None,
             stop: threading.Event | None = None, since: date | None = None,
             workers: int | None = None, refresh: bool | None = None) -> AdSyncResult:
        token, connection_id = self._token()
        options = SyncOptions(lookback_days=self.workspace.settings.lookback_days, since=since,
                              workers=workers, refresh_days=self.refresh_days_now(refresh))
        with self.workspace.client(token, purpose="sync") as client:
            try:
                result = sync_advertiser(self.workspace.store, client, self.account_id,
                                         options=options, progress=progress, stop=stop)
            except SyncAborted as exc:
                if isinstance(exc.error, TokenError) and connection_id is not None:
                    self.workspace.credentials.mark_needs_reauth(connection_id, str(exc.error))
                raise
            if result.status == "interrupted":
                return result
            # After the comments, through the same client: each ad's daily delivery. It never
            # fails the sync; the result says in one sentence what it read or why it could not.
            delivery = sync_delivery(self.workspace.store, client, self.account_id,
                                     lookback_days=options.lookback_days, since=since, stop=stop)
            return with_delivery(self.workspace.store, result, delivery)

    @contextmanager
    def writer(self) -> Iterator[AdAccountWriter]:
        token, _ = self._token()
        with self.workspace.client(token) as client:
            yield AdAccountWriter(client, self.account_id)
