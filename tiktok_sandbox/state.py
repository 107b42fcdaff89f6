"""The live state of one sandbox: accounts, comments and their indexes, grants and codes.

Thread-safe: one lock guards everything, and every write is checked in full before any of
it is applied, so a request sees either all of a write or none of it.

Comments are indexed per ad group and kept sorted by (create_time, comment_id), so a
comment/list request bisects its date window instead of scanning all comments.

New comments arrive while the sandbox runs at ``new_comments_per_minute``: arrival k is
due at start + k * 60 / rate seconds, and all arrivals due by now are created, in order,
when a request comes in. They come from their own random stream, so they are the same
whenever they are observed. Each new viewer comment is screened against its advertiser's
blocked words (``blocked_words.py``): one that hits a word is HIDDEN with
``hit_blockedword`` true.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import itertools
import random
import secrets
import threading
from collections.abc import Callable, Collection, Iterable
from typing import Any, Literal

from . import render, smart_plus
from .accounts import AccountsState
from .blocked_words import BlockedWordLists, Phrase, first_hit
from .config import SandboxConfig
from .data import (
    COMMENT,
    ENABLE,
    HIDDEN,
    PUBLIC,
    REPLY,
    Ad,
    Advertiser,
    Comment,
    build_world,
    cumulative_popularity,
    weighted_pick,
)
from .delivery import DeliveryBook
from .errors import INVALID_AUTH_CODE, NO_PERMISSION, ApiError, param_error
from .live import Arrivals, AuthCodes, Replies, by_time

# Permission scopes granted with every token: advertiser info, ads, ad comments (read,
# write), blocked words (read, write).
READ_BLOCKED_WORDS, WRITE_BLOCKED_WORDS = 15020100, 15020200
GRANTED_SCOPES = (4, 100, 220, 15000000, 15010100, 15010200, READ_BLOCKED_WORDS,
                  WRITE_BLOCKED_WORDS)
SORT_FIELDS = ("CREATE_TIME", "LIKES", "REPLIES", "SMART")

ObjectKind = Literal["ads", "campaigns", "adgroups", "smart_plus_ads"]


@dataclasses.dataclass
class Grant:
    """What an access token may reach."""

    token: str
    advertiser_ids: tuple[str, ...]
    scope: tuple[int, ...]
    issued_ts: float
    revoked: bool = False


class SandboxState:
    """Accounts, comments, tokens and codes of one sandbox, behind one lock."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._lock = threading.RLock()
        self.start_ts = int(config.now())
        world = build_world(
            seed=config.seed, start_ts=self.start_ts, advertisers=config.advertisers,
            ads=config.ads, comments=config.comments, history_days=config.history_days,
            reserved_adgroups=config.reservation_adgroups,
            comment_spread=config.comment_spread,
        )
        self._factory = world.factory
        self._factory.rng = random.Random(f"{config.seed}/live")
        self._advertiser_list = world.advertisers
        self._identities = world.identities
        self._advertisers = {a.advertiser_id: a for a in world.advertisers}
        self._campaigns = {c.campaign_id: c for c in world.campaigns}
        self._adgroups = {g.adgroup_id: g for g in world.adgroups}
        self._ads = {ad.ad_id: ad for ad in world.ads}
        self._ad_order = sorted(world.ads, key=lambda ad: (ad.create_ts, ad.ad_id), reverse=True)
        self._smart_plus = smart_plus.build_smart_plus(config, self.start_ts, world.advertisers,
                                                       world.identities)
        # What ad/get, campaign/get, adgroup/get and smart_plus/ad/get list (ads newest
        # first), and as which rows.
        self._listings: dict[ObjectKind, tuple[Iterable[Any], Callable[[Any], dict[str, Any]]]] = {
            "ads": (self._ad_order, render.ad_row),
            "campaigns": (self._campaigns.values(), render.campaign_row),
            "adgroups": (self._adgroups.values(), render.adgroup_row),
            "smart_plus_ads": (self._smart_plus.ads, render.smart_plus_ad_row),
        }
        self._comments: dict[str, Comment] = {}
        self._by_adgroup: dict[str, list[Comment]] = {g: [] for g in self._adgroups}
        for comment in world.comments:
            self._comments[comment.comment_id] = comment
            self._by_adgroup[comment.ad.adgroup.adgroup_id].append(comment)
        for listing in self._by_adgroup.values():
            listing.sort(key=by_time)
        self._replies: Replies[Comment] = Replies(
            (c.original_comment_id, c) for c in world.comments if c.comment_type == REPLY)
        live_ads = [ad for ad in self._ad_order if ad.operation_status == ENABLE]
        self._arrivals = Arrivals(self.start_ts, config.new_comments_per_minute,
                                  config.max_live_comments, live_ads or self._ad_order,
                                  self._factory.rng)
        self._grants: dict[str, Grant] = {}
        self._codes: AuthCodes[tuple[str, ...]] = AuthCodes(
            expired=(INVALID_AUTH_CODE, "Invalid auth_code: it has expired."))
        self.accounts = AccountsState(config, world)
        """The TikTok business accounts (Accounts API), with their own lock."""
        self.delivery = DeliveryBook(config.seed, world.advertisers, world.ads,
                                     tuple(world.comments), config.now)
        """Each ad's daily delivery, in step with the generated comments (``delivery.py``)."""
        self.blocked_words = BlockedWordLists(
            self._lock, running_checks=config.blocked_word_export_running_checks,
            on_added=self._hide_existing if config.blocked_words_hide_existing else None)
        """The advertisers' blocked words, under this state's lock: viewers' comments
        created from now on are screened against them."""

    # Time and arrivals

    def now(self) -> float:
        return self._config.now()

    def catch_up(self) -> int:
        """Create the comments due to have arrived by now, organic ones included; returns how
        many ad comments were added."""
        self.accounts.catch_up()
        with self._lock:
            return self._arrivals.catch_up(self.now(), self._arrive)

    def _arrive(self, ts: int, ad: Ad, as_reply: bool) -> None:
        parent = self._recent_top_level(ad) if as_reply else None
        if parent is not None:
            self._insert(self._factory.viewer_reply(parent, max(ts, parent.create_ts)))
        else:
            self._insert(self._factory.top_level(ad, ts))

    def _recent_top_level(self, ad: Ad) -> Comment | None:
        listing = self._by_adgroup[ad.adgroup.adgroup_id]
        for comment in itertools.islice(reversed(listing), 200):
            if comment.ad is ad and comment.comment_type == COMMENT:
                return comment
        return None

    def add_comments(self, count: int, advertiser_id: str | None = None) -> list[str]:
        """Create ``count`` new top-level comments now, on enabled ads; returns their IDs."""
        with self._lock:
            self.catch_up()
            ads = [ad for ad in self._ad_order
                   if advertiser_id is None or ad.advertiser_id == advertiser_id]
            if not ads:
                raise ValueError(f"unknown advertiser_id {advertiser_id!r}")
            ads = [ad for ad in ads if ad.operation_status == ENABLE] or ads
            weights = cumulative_popularity(ads)
            ts = int(self.now())
            created = []
            for _ in range(count):
                comment = self._factory.top_level(weighted_pick(self._factory.rng, ads, weights),
                                                  ts)
                self._insert(comment)
                created.append(comment.comment_id)
            return created

    def add_comment(self, text: str, advertiser_id: str | None = None) -> str:
        """Create a top-level viewer comment saying ``text`` now, on the advertiser's newest
        enabled ad (it is PUBLIC unless it hits a blocked word); returns its ID."""
        with self._lock:
            self.catch_up()
            ads = [ad for ad in self._ad_order
                   if advertiser_id is None or ad.advertiser_id == advertiser_id]
            if not ads:
                raise ValueError(f"unknown advertiser_id {advertiser_id!r}")
            ad = next((ad for ad in ads if ad.operation_status == ENABLE), ads[0])
            comment = self._factory.top_level(ad, int(self.now()))
            comment.content = text
            comment.comment_status, comment.hit_blockedword = PUBLIC, False
            self._insert(comment)
            return comment.comment_id

    def add_reply(self, comment_id: str, text: str) -> str:
        """Create a viewer's reply saying ``text`` now under the first-level comment
        ``comment_id`` (PUBLIC unless it hits a blocked word); returns its ID."""
        with self._lock:
            self.catch_up()
            parent = self._comments.get(str(comment_id))
            if parent is None or parent.comment_type != COMMENT:
                raise KeyError(f"no first-level comment {comment_id}")
            reply = self._factory.viewer_reply(parent, max(int(self.now()), parent.create_ts))
            reply.content = text
            reply.comment_status, reply.hit_blockedword = PUBLIC, False
            self._insert(reply)
            return reply.comment_id

    def _insert(self, comment: Comment, *, screen: bool = True) -> None:
        """Store a new comment; ``screen``: check it against its advertiser's blocked words
        first (every comment but the brand's own replies)."""
        if screen and self.blocked_words.hit(comment.ad.advertiser_id, comment.content):
            comment.hit_blockedword, comment.comment_status = True, HIDDEN
        self._comments[comment.comment_id] = comment
        bisect.insort(self._by_adgroup[comment.ad.adgroup.adgroup_id], comment, key=by_time)
        if comment.comment_type == REPLY:
            self._replies.add(self._comments[comment.original_comment_id], comment)

    def _hide_existing(self, advertiser_id: str, phrases: list[Phrase]) -> None:
        """Hide the advertiser's viewer comments that contain one of ``phrases``, newly
        blocked (only with ``SandboxConfig.blocked_words_hide_existing``)."""
        for comment in self._comments.values():
            if (comment.ad.advertiser_id == advertiser_id and not comment.can_delete
                    and not comment.hit_blockedword and first_hit(phrases, comment.content)):
                comment.hit_blockedword, comment.comment_status = True, HIDDEN

    def change_comment(self, comment_id: str, *, likes: int | None = None,
                       status: str | None = None, deleted: bool = False) -> bool:
        """What happens to a comment on TikTok outside the app: viewers like it, someone
        hides or shows it in TikTok Ads Manager, or its author deletes it (with its replies).
        False when there is no such comment."""
        with self._lock:
            comment = self._comments.get(comment_id)
            if comment is None:
                return False
            if likes is not None:
                comment.likes = likes
            if status is not None:
                comment.comment_status = status
            if deleted:
                for reply in list(self._replies.of(comment_id)):
                    self._remove(reply)
                self._remove(comment)
            return True

    def _remove(self, comment: Comment) -> None:
        del self._comments[comment.comment_id]
        listing = self._by_adgroup[comment.ad.adgroup.adgroup_id]
        del listing[bisect.bisect_left(listing, comment.sort_key, key=by_time)]
        if comment.comment_type == REPLY:
            parent_id = comment.original_comment_id
            self._replies.remove(parent_id, comment, self._comments.get(parent_id))

    # Accounts

    def advertiser(self, advertiser_id: str) -> Advertiser | None:
        return self._advertisers.get(advertiser_id)

    def advertisers(self, advertiser_ids: Iterable[str] | None = None) -> list[Advertiser]:
        if advertiser_ids is None:
            return list(self._advertiser_list)
        return [self._advertisers[a] for a in advertiser_ids if a in self._advertisers]

    def select(self, kind: ObjectKind, advertiser_id: str, keep: Callable[[Any], bool],
               page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
        """ad/get, campaign/get, adgroup/get, smart_plus/ad/get: a page of one advertiser's
        ads (newest first), campaigns, ad groups or Smart+ ads that ``keep`` keeps, and how
        many it keeps in all."""
        pool, row = self._listings[kind]
        with self._lock:
            chosen = [item for item in pool if item.advertiser_id == advertiser_id and keep(item)]
            return [row(item) for item in _page(chosen, page, page_size)], len(chosen)

    # Comment reads

    def list_comments(self, advertiser_id: str, adgroup_id: str, start_ts: int, end_ts: int, *,
                      comment_types: Collection[str], statuses: Collection[str],
                      sort_field: str, descending: bool, page: int, page_size: int
                      ) -> tuple[list[dict[str, Any]], int]:
        """comment/list: one ad group's comments created in [start_ts, end_ts); refused for
        an Upgraded Smart+ ad group."""
        with self._lock:
            adgroup = self._adgroups.get(adgroup_id)
            if adgroup is None or adgroup.advertiser_id != advertiser_id:
                smart = self._smart_plus.adgroups.get(adgroup_id)
                if smart is not None and smart.advertiser_id == advertiser_id:
                    raise smart_plus.refusal(self._config)
                return [], 0
            listing = self._by_adgroup[adgroup_id]
            low = bisect.bisect_left(listing, (start_ts, ""), key=by_time)
            high = bisect.bisect_left(listing, (end_ts, ""), key=by_time)
            everything = (set(comment_types) == {COMMENT, REPLY}
                          and set(statuses) == {PUBLIC, HIDDEN})
            if everything and sort_field == "CREATE_TIME":  # a sync's request: no copying
                first = (page - 1) * page_size
                if descending:
                    chosen = listing[max(low, high - first - page_size):max(low, high - first)]
                    chosen.reverse()
                else:
                    chosen = listing[min(high, low + first):min(high, low + first + page_size)]
                return [render.comment_row(c) for c in chosen], high - low
            window = listing[low:high]
            if not everything:
                window = [c for c in window
                          if c.comment_type in comment_types and c.comment_status in statuses]
            if sort_field == "LIKES":
                window.sort(key=lambda c: (c.likes, c.sort_key))
            elif sort_field == "REPLIES":
                window.sort(key=lambda c: (c.replies, c.sort_key))
            elif sort_field == "SMART":
                window.sort(key=lambda c: (c.likes + 3 * c.replies, c.sort_key))
            if descending:
                window.reverse()
            rows = [render.comment_row(c) for c in _page(window, page, page_size)]
            return rows, len(window)

    def reference(self, advertiser_id: str, comment_id: str, comment_type: str,
                  original_comment_id: str | None, page: int, page_size: int
                  ) -> tuple[list[dict[str, Any]], int]:
        """comment/reference: a comment with its replies, or a reply with its original."""
        with self._lock:
            comment = self._owned_comment(advertiser_id, comment_id, "comment_id")
            if comment.comment_type != comment_type:
                raise param_error("comment_type",
                                  f"Comment {comment_id} is a {comment.comment_type}.")
            if comment_type == REPLY:
                if original_comment_id != comment.original_comment_id:
                    raise param_error("original_comment_id",
                                      f"Comment {comment_id} is not a reply to "
                                      f"{original_comment_id or '0'}.")
                parent = self._comments.get(comment.original_comment_id)
                rows = [(comment, parent)] + ([(parent, None)] if parent else [])
            else:
                rows = [(comment, None)]
                rows += [(r, comment) for r in self._replies.of(comment_id)]
            as_list = self._config.reference_reply_user_info == "list"
            return [render.reference_row(c, original, info_as_list=as_list)
                    for c, original in _page(rows, page, page_size)], len(rows)

    def _owned_comment(self, advertiser_id: str, comment_id: str, param: str) -> Comment:
        comment = self._comments.get(comment_id)
        if comment is None or comment.ad.advertiser_id != advertiser_id:
            raise param_error(param, f"Comment {comment_id} does not exist.")
        return comment

    # Comment writes

    def _require_writer(self, advertiser_id: str) -> None:
        """40001 when the connected user may only read the advertiser; TikTok says nothing
        about that permission before a write."""
        if not self._advertisers[advertiser_id].user_can_write:
            raise ApiError(NO_PERMISSION, "You don't have permission to operate this "
                                          f"advertiser: {advertiser_id}.")

    def _write_target(self, advertiser_id: str, *, ad_id: str, tiktok_item_id: str,
                      comment_id: str, identity_type: str, identity_id: str) -> Comment:
        """The comment on ``ad_id`` that comment/post or comment/delete names, once the
        advertiser may write (40001) and the ad's video and identity are the ones named."""
        self._require_writer(advertiser_id)
        ad = self._ads.get(ad_id)
        if ad is None or ad.advertiser_id != advertiser_id:
            raise param_error("ad_id", f"Ad {ad_id} does not exist.")
        if tiktok_item_id != ad.tiktok_item_id:
            raise param_error("tiktok_item_id", f"Video {tiktok_item_id} is not the video of "
                                                f"ad {ad_id}.")
        if identity_type != ad.identity.identity_type or identity_id != ad.identity.identity_id:
            raise param_error("identity_id", f"Identity {identity_type} {identity_id} is not the "
                                             f"identity of ad {ad_id}.")
        comment = self._comments.get(comment_id)
        if comment is None or comment.ad is not ad:
            raise param_error("comment_id", f"Comment {comment_id} does not exist on ad "
                                            f"{ad_id}.")
        return comment

    def post_reply(self, advertiser_id: str, *, text: str, **target: str) -> dict[str, Any]:
        """comment/post: reply to a first-level comment as the ad's identity; ``target`` as
        for ``_write_target``."""
        with self._lock:
            parent = self._write_target(advertiser_id, **target)
            identity = parent.ad.identity
            if parent.comment_type != COMMENT:
                raise param_error("comment_id", "only first-level comments can be replied to.")
            if not identity.can_manage_comments:
                raise ApiError(NO_PERMISSION,
                               f"No permission to operate: identity {identity.identity_id} has "
                               "not authorized comment management "
                               "(is_auth_comment_manage_scope is false).")
            ts = max(int(self.now()), parent.create_ts)
            reply = self._factory.brand_reply(parent, ts, text)
            self._insert(reply, screen=False)
            return {
                "comment_id": reply.comment_id,
                "tiktok_item_id": parent.ad.tiktok_item_id,
                "text": reply.content,
                "create_time": render.api_time(reply.create_ts),
                "reply_to_comment_id": parent.comment_id,
            }

    def set_status(self, advertiser_id: str, comment_ids: list[str], status: str,
                   ad_type: str = "BIDDING") -> None:
        """comment/status/update: hide or show comments, all or none. A comment that hit a
        blocked word cannot be hidden or made public by hand (TikTok's help), and ``ad_type``
        must be the one of every comment's ad (BRAND for reserved ads), so a batch with either
        is refused whole."""
        with self._lock:
            self._require_writer(advertiser_id)
            chosen = [self._owned_comment(advertiser_id, c, "comment_ids") for c in comment_ids]
            other = next((c for c in chosen if c.ad.adgroup.ad_type != ad_type), None)
            if other is not None:
                raise param_error("ad_type", f"Comment {other.comment_id} is on a "
                                             f"{other.ad.adgroup.ad_type} ad, not {ad_type}.")
            blocked = next((c for c in chosen if c.hit_blockedword), None)
            if blocked is not None:
                raise param_error("comment_ids", f"Comment {blocked.comment_id} hit a blocked "
                                                 "word; its status cannot be changed by hand.")
            for comment in chosen:
                comment.comment_status = status

    def delete_comment(self, advertiser_id: str, **target: str) -> None:
        """comment/delete: only comments the advertiser's own identity wrote; ``target`` as
        for ``_write_target``."""
        with self._lock:
            comment = self._write_target(advertiser_id, **target)
            if not comment.can_delete:
                raise ApiError(NO_PERMISSION,
                               "No permission to operate: only comments posted by your own "
                               "identity can be deleted; hide other comments instead.")
            self._remove(comment)

    # Tokens and authorization codes

    def issue_code(self) -> str:
        """A single-use authorization code granting every advertiser."""
        with self._lock:
            return self._codes.issue(secrets.token_hex(20), tuple(self._advertisers), self.now())

    def exchange_code(self, code: str) -> Grant:
        with self._lock:
            return self._new_grant(self._codes.redeem(code, self.now()))

    def issue_token(self, advertiser_ids: Iterable[str] | None = None,
                    scopes: Iterable[int] | None = None) -> str:
        """A token for ``advertiser_ids`` (None: all) with ``scopes`` (None:
        ``GRANTED_SCOPES``)."""
        with self._lock:
            chosen = tuple(self._advertisers) if advertiser_ids is None else tuple(advertiser_ids)
            unknown = [a for a in chosen if a not in self._advertisers]
            if unknown:
                raise ValueError(f"unknown advertiser IDs: {unknown}")
            return self._new_grant(chosen, GRANTED_SCOPES if scopes is None else tuple(scopes)
                                   ).token

    def _new_grant(self, advertiser_ids: tuple[str, ...],
                   scopes: tuple[int, ...] = GRANTED_SCOPES) -> Grant:
        grant = Grant(secrets.token_hex(20), advertiser_ids, scopes, self.now())
        self._grants[grant.token] = grant
        return grant

    def revoke_token(self, token: str) -> bool:
        """Revoke a token; False when it was unknown or already revoked."""
        with self._lock:
            grant = self._grants.get(token)
            if grant is None or grant.revoked:
                return False
            grant.revoked = True
            return True

    def grant(self, token: str) -> Grant | None:
        """The live grant of a token, or None when it is unknown or revoked."""
        with self._lock:
            grant = self._grants.get(token)
            return None if grant is None or grant.revoked else grant

    # Ground truth

    def ground_truth(self, advertiser_id: str | None = None, adgroup_id: str | None = None,
                     sections: Collection[str] = ("advertisers", "ads", "comments")
                     ) -> dict[str, Any]:
        """A copy of the current accounts and comments, optionally for one advertiser or
        ad group. Beyond what TikTok sends: ``user_can_write`` on advertisers,
        ``is_auth_comment_manage_scope`` and ``comment_count`` on ads, and the Upgraded
        Smart+ ads and their comments in sections of their own (``smart_plus_ads`` with
        "ads", ``smart_plus_comments`` with "comments", where ``ad_id`` is the
        ``smart_plus_ad_id``)."""
        self.catch_up()
        with self._lock:

            def wanted(owner: str, group: str | None = None) -> bool:
                return ((advertiser_id is None or owner == advertiser_id)
                        and (adgroup_id is None or group is None or group == adgroup_id))

            truth: dict[str, Any] = {
                "start_ts": self.start_ts,
                "now_ts": self.now(),
                "comment_count": len(self._comments),
            }
            if "advertisers" in sections:
                truth["advertisers"] = [
                    {**render.advertiser_row(a), "user_can_write": a.user_can_write}
                    for a in self._advertiser_list if wanted(a.advertiser_id)
                ]
                truth["identities"] = [
                    render.identity_row(i) for i in self._identities if wanted(i.advertiser_id)
                ]
                truth["campaigns"] = [render.campaign_row(c) for c in self._campaigns.values()
                                      if wanted(c.advertiser_id)]
                truth["adgroups"] = [render.adgroup_row(g) for g in self._adgroups.values()
                                     if wanted(g.advertiser_id, g.adgroup_id)]
            if "ads" in sections:
                ads = []
                for ad in self._ad_order:
                    if wanted(ad.advertiser_id, ad.adgroup.adgroup_id):
                        row = render.ad_row(ad)
                        row["is_auth_comment_manage_scope"] = ad.identity.can_manage_comments
                        row["comment_count"] = 0
                        row["buying_type"] = ad.adgroup.buying_type
                        ads.append(row)
                truth["ads"] = ads
            if "comments" in sections:
                if adgroup_id is not None:
                    pool: Iterable[Comment] = self._by_adgroup.get(adgroup_id, [])
                else:
                    pool = itertools.chain.from_iterable(self._by_adgroup.values())
                truth["comments"] = [render.truth_comment(c) for c in pool
                                     if advertiser_id is None
                                     or c.ad.advertiser_id == advertiser_id]
                if "ads" in sections:
                    counts: dict[str, int] = {}
                    for row in truth["comments"]:
                        counts[row["ad_id"]] = counts.get(row["ad_id"], 0) + 1
                    for row in truth["ads"]:
                        row["comment_count"] = counts.get(row["ad_id"], 0)
            truth.update(self._smart_plus_truth(wanted, sections))
            return truth

    def _smart_plus_truth(self, wanted: Callable[[str, str | None], bool],
                          sections: Collection[str]) -> dict[str, Any]:
        """The ground truth's Smart+ sections, of the ads and comments ``wanted`` keeps."""
        world = self._smart_plus
        comments = [c for c in world.comments
                    if wanted(c.ad.advertiser_id, c.ad.adgroup.adgroup_id)]
        part: dict[str, Any] = {}
        if "ads" in sections:
            counts = collections.Counter(c.ad.ad_id for c in comments)
            part["smart_plus_ads"] = [
                {**render.smart_plus_ad_row(ad), "comment_count": counts[ad.ad_id]}
                for ad in world.ads if wanted(ad.advertiser_id, ad.adgroup.adgroup_id)
            ]
        if "comments" in sections:
            part["smart_plus_comments"] = [render.truth_comment(c) for c in comments]
        return part

    def comment_count(self) -> int:
        with self._lock:
            return len(self._comments)


def _page(items: list[Any], page: int, page_size: int) -> list[Any]:
    return items[(page - 1) * page_size: page * page_size]
