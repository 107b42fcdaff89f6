"""The live state of the TikTok business accounts: videos, organic comments, tokens and codes.

Thread-safe behind its own lock (the accounts share nothing mutable with the ad world), and
every write is checked in full before any of it is applied.

Organic comments keep arriving at ``new_organic_comments_per_minute`` exactly as ad comments
do (arrival k is due at start + k * 60 / rate seconds), from their own random stream.

Tokens. Where TikTok's documentation is silent the sandbox assumes:

- An *authorization* begins when an authorization code is exchanged (or when a test calls
  ``issue_token``). Authorizing the same account again begins another one, with a year of
  its own; the earlier one keeps working.
- An access token lives 24 hours from its issue (``expires_in`` 86400); after that every call
  with it answers 40102. Refreshing does not end the earlier access tokens: each lives its
  own 24 hours.
- A refresh token works until one year after its authorization began, whichever refresh
  produced it: ``refresh_token_expires_in`` counts down and refreshing never extends the
  year. After it: 40103.
- A refresh answers a new access token and a new refresh token. The refresh token that was
  used keeps working until a refresh token it produced is used; from then on it, and every
  other refresh token produced before, answer 40107. So a refresh whose answer was lost can
  be repeated with the same refresh token, and nothing is lost.
- Revoking (tt_user/oauth2/revoke/ with any access token of the authorization) ends the
  whole authorization: its access tokens answer 40105, its refresh tokens 40107.
- Authorization codes work once, for one hour, and only with the ``redirect_uri`` they were
  issued for: unknown or used 40110, expired 40131, another redirect_uri 40101 (the code
  stays usable).
- The account holder grants the scopes asked for that ``SandboxConfig.account_granted_scopes``
  names (all of them when it is None): ``granted_scopes``.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import random
import secrets
import threading
from collections.abc import Collection, Iterable
from typing import Any, NamedTuple

from . import render
from .config import SandboxConfig
from .data import PUBLIC, World, cumulative_popularity, weighted_pick
from .errors import (
    INVALID_AUTH_PARAMS,
    NO_PERMISSION,
    REFRESH_TOKEN_EXPIRED,
    REFRESH_TOKEN_INVALID,
    TOKEN_EXPIRED,
    TT_USER_AUTH_FAILED,
    ApiError,
    param_error,
    token_invalid,
)
from .live import Arrivals, AuthCodes, Replies, by_time
from .organic import HIDDEN, BusinessAccount, OrganicComment, Video, build_organic

ACCESS_TOKEN_SECONDS = 86_400
REFRESH_TOKEN_SECONDS = 365 * 86_400
ACCOUNT_SCOPES = (
    "user.info.basic", "user.info.username", "user.info.stats", "user.account.type",
    "user.insights", "video.list", "video.insights", "comment.list", "comment.list.manage",
)
KNOWN_SCOPES = (*ACCOUNT_SCOPES, "video.publish")
INCLUDED_REPLIES = 3


@dataclasses.dataclass
class Authorization:
    """One account holder's consent, and the refresh tokens that carry it on."""

    open_id: str
    scope: tuple[str, ...]
    started_ts: float
    revoked: bool = False
    live_refresh: set[str] = dataclasses.field(default_factory=set)
    produced: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @property
    def refresh_expires_ts(self) -> float:
        return self.started_ts + REFRESH_TOKEN_SECONDS


@dataclasses.dataclass
class AccessGrant:
    """What an account access token may reach, and until when."""

    token: str
    authorization: Authorization
    expires_ts: float

    @property
    def open_id(self) -> str:
        return self.authorization.open_id

    @property
    def scope(self) -> tuple[str, ...]:
        return self.authorization.scope


class Consent(NamedTuple):
    """What an account holder agreed to on the consent screen, and where to send them."""

    open_id: str
    scope: tuple[str, ...]
    redirect_uri: str


class AccountsState:
    """Business accounts, videos, organic comments, account tokens and codes, behind one lock."""

    def __init__(self, config: SandboxConfig, world: World) -> None:
        self._config = config
        self._lock = threading.RLock()
        self.start_ts = world.start_ts
        organic = build_organic(
            seed=config.seed, start_ts=world.start_ts, history_days=config.history_days,
            advertisers=world.advertisers, identities=world.identities, ads=world.ads,
            accounts=config.business_accounts, videos_per_account=config.videos_per_account,
            comments=config.organic_comments,
        )
        self._factory = organic.factory
        self._factory.rng = random.Random(f"{config.seed}/organic-live")
        self._account_list = organic.accounts
        self._accounts = {a.open_id: a for a in organic.accounts}
        self._videos = {v.video_id: v for v in organic.videos}
        self._by_account: dict[str, list[Video]] = {a.open_id: [] for a in organic.accounts}
        for video in organic.videos:
            self._by_account[video.account.open_id].append(video)
        for listing in self._by_account.values():
            listing.sort(key=lambda v: (v.create_ts, v.video_id), reverse=True)
        self._comments: dict[str, OrganicComment] = {}
        self._top: dict[str, list[OrganicComment]] = {v.video_id: [] for v in organic.videos}
        self._counts: dict[str, int] = dict.fromkeys(self._videos, 0)
        for comment in organic.comments:
            self._comments[comment.comment_id] = comment
            self._counts[comment.video.video_id] += 1
            if not comment.is_reply:
                self._top[comment.video.video_id].append(comment)
        for listing in self._top.values():
            listing.sort(key=by_time)
        self._replies: Replies[OrganicComment] = Replies(
            (c.parent_comment_id, c) for c in organic.comments if c.is_reply)
        self._live_videos = organic.videos
        self._arrivals = Arrivals(self.start_ts, config.new_organic_comments_per_minute,
                                  config.max_live_comments, organic.videos, self._factory.rng)
        self._codes: AuthCodes[Consent] = AuthCodes(
            expired=(TT_USER_AUTH_FAILED, "Authorization code is expired."))
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, Authorization] = {}
        unknown = [s for s in config.account_granted_scopes or () if s not in KNOWN_SCOPES]
        if unknown:
            raise ValueError(f"account_granted_scopes names unknown scopes: {unknown}")

    def now(self) -> float:
        return self._config.now()

    def granted_scopes(self, asked: Iterable[str]) -> tuple[str, ...]:
        """The scopes of ``asked`` the account holder grants (``account_granted_scopes``)."""
        granting = self._config.account_granted_scopes
        return tuple(s for s in dict.fromkeys(asked) if granting is None or s in granting)

    # Comments: indexes and arrivals

    def _insert(self, comment: OrganicComment) -> None:
        self._comments[comment.comment_id] = comment
        self._counts[comment.video.video_id] += 1
        if comment.is_reply:
            self._replies.add(self._comments[comment.parent_comment_id], comment)
        else:
            bisect.insort(self._top[comment.video.video_id], comment, key=by_time)

    def change_comment(self, comment_id: str, *, likes: int | None = None,
                       status: str | None = None, deleted: bool = False) -> bool:
        """What happens to an organic comment outside the app: viewers like it, the account
        holder hides or shows it in the TikTok app, or its author deletes it (with its
        replies). False when there is no such comment."""
        with self._lock:
            comment = self._comments.get(comment_id)
            if comment is None:
                return False
            if likes is not None:
                comment.likes = likes
            if status is not None:
                comment.status = status
            if deleted:
                self._remove(comment)
            return True

    def _remove(self, comment: OrganicComment) -> None:
        for reply in list(self._replies.pop_all(comment.comment_id)):
            del self._comments[reply.comment_id]
            self._counts[reply.video.video_id] -= 1
        del self._comments[comment.comment_id]
        self._counts[comment.video.video_id] -= 1
        if comment.is_reply:
            parent_id = comment.parent_comment_id
            self._replies.remove(parent_id, comment, self._comments.get(parent_id))
        else:
            self._top[comment.video.video_id].remove(comment)

    def catch_up(self) -> int:
        """Create the organic comments due to have arrived by now; returns how many."""
        with self._lock:
            return self._arrivals.catch_up(self.now(), self._arrive)

    def _arrive(self, ts: int, video: Video, as_reply: bool) -> None:
        tops = self._top[video.video_id]
        if as_reply and tops:
            parent = tops[-1 - int(self._factory.rng.random() * min(20, len(tops)))]
            self._insert(self._factory.viewer_reply(parent, max(ts, parent.create_ts)))
        else:
            self._insert(self._factory.top_level(video, max(ts, video.create_ts)))

    def add_comments(self, count: int, business_id: str | None = None) -> list[str]:
        """Create ``count`` new top-level viewer comments now; returns their IDs."""
        with self._lock:
            self.catch_up()
            videos = [v for v in self._live_videos
                      if business_id is None or v.account.open_id == business_id]
            if not videos:
                raise ValueError(f"unknown business_id {business_id!r}")
            weights = cumulative_popularity(videos)
            ts = int(self.now())
            created = []
            for _ in range(count):
                video = weighted_pick(self._factory.rng, videos, weights)
                comment = self._factory.top_level(video, max(ts, video.create_ts))
                self._insert(comment)
                created.append(comment.comment_id)
            return created

    # Accounts and videos

    def accounts(self) -> list[BusinessAccount]:
        return list(self._account_list)

    def account(self, open_id: str) -> BusinessAccount | None:
        return self._accounts.get(open_id)

    def profile(self, open_id: str, fields: Collection[str], metric_fields: Collection[str],
                audience_fields: Collection[str], days: list[dt.date]) -> dict[str, Any]:
        """business/get: the profile fields asked for, daily metrics, audience breakdowns."""
        with self._lock:
            account = self._accounts[open_id]
            videos = self._by_account[open_id]
            row = render.profile_row(account, sum(v.likes for v in videos), len(videos))
            data: dict[str, Any] = {f: row[f] for f in fields if f in row}
            if metric_fields and days:
                data["metrics"] = [self._metrics(account, day, metric_fields) for day in days]
            for name in audience_fields:
                data[name] = self._audience(account, name)
            return data

    def _metrics(self, account: BusinessAccount, day: dt.date, wanted: Collection[str]
                 ) -> dict[str, Any]:
        rng = random.Random(f"{self._config.seed}/{account.open_id}/{day.isoformat()}")
        today = dt.datetime.fromtimestamp(self.now(), dt.UTC).date()
        scale = max(10, account.followers_count // 100)
        new = rng.randint(0, scale // 5 + 3)
        lost = rng.randint(0, new // 2 + 1)
        followers = max(0, account.followers_count - (today - day).days * (scale // 20))
        views = rng.randint(scale, scale * 20)
        values = {
            "video_views": views,
            "unique_video_views": int(views * rng.uniform(0.5, 0.9)),
            "profile_views": rng.randint(0, scale),
            "likes": int(views * rng.uniform(0.02, 0.1)),
            "comments": int(views * rng.uniform(0.001, 0.01)),
            "shares": int(views * rng.uniform(0.001, 0.005)),
            "followers_count": followers,
            "daily_total_followers": followers,
            "daily_new_followers": new,
            "daily_lost_followers": lost,
            "engaged_audience": int(views * rng.uniform(0.01, 0.05)),
            "bio_link_clicks": rng.randint(0, scale // 10 + 1),
        }
        return {"date": day.isoformat(), **{f: values[f] for f in wanted}}

    def _audience(self, account: BusinessAccount, name: str) -> list[dict[str, Any]]:
        rng = random.Random(f"{self._config.seed}/{account.open_id}/{name}")
        keys = {
            "audience_countries": ("country", ["US", "GB", "DE", "FR", "BR", "JP"]),
            "audience_genders": ("gender", ["Female", "Male", "Other"]),
            "audience_ages": ("age", ["18-24", "25-34", "35-44", "45-54", "55+"]),
            "audience_cities": ("city_name", ["New York", "London", "Berlin", "Paris",
                                              "São Paulo"]),
        }
        key, values = keys[name]
        weights = [rng.random() + 0.05 for _ in values]
        total = sum(weights)
        return [{key: value, "percentage": round(weight / total, 4)}
                for value, weight in zip(values, weights, strict=True)]

    def list_videos(self, open_id: str, *, video_ids: list[str] | None, ad_post_only: bool,
                    cursor: int, max_count: int) -> tuple[list[dict[str, Any]], int, bool]:
        """business/video/list: newest first. The cursor is the create time in milliseconds
        of the last video sent; the next page starts below it. With ``video_ids`` the videos
        named come at once (cursor 0, no more)."""
        with self._lock:
            videos = self._by_account[open_id]
            if ad_post_only:
                videos = [v for v in videos if v.is_ad]
            if video_ids is not None:
                wanted = set(video_ids)
                chosen = [v for v in videos if v.video_id in wanted]
                return [render.video_row(v, self._counts[v.video_id]) for v in chosen], 0, False
            if cursor:
                videos = [v for v in videos if v.create_ts * 1000 < cursor]
            page = videos[:max_count]
            next_cursor = page[-1].create_ts * 1000 if page else cursor
            rows = [render.video_row(v, self._counts[v.video_id]) for v in page]
            return rows, next_cursor, len(videos) > len(page)

    # Comment reads

    def _video_of(self, open_id: str, video_id: str) -> Video:
        video = self._videos.get(video_id)
        if video is None or video.account.open_id != open_id:
            raise param_error("video_id", f"Video {video_id} does not exist or does not belong "
                                          f"to business_id {open_id}.")
        return video

    def _comment_of(self, open_id: str, comment_id: str, video: Video | None = None
                    ) -> OrganicComment:
        comment = self._comments.get(comment_id)
        if (comment is None or comment.video.account.open_id != open_id
                or (video is not None and comment.video is not video)):
            where = f" on video {video.video_id}" if video is not None else ""
            raise param_error("comment_id", f"Comment {comment_id} does not exist{where}.")
        return comment

    def list_comments(self, open_id: str, video_id: str, *, comment_ids: list[str] | None,
                      include_replies: bool, statuses: Collection[str], sort_field: str,
                      sort_order: str, cursor: int, max_count: int
                      ) -> tuple[list[dict[str, Any]], int, bool]:
        """business/comment/list: a video's top-level comments (or the comments named by
        ``comment_ids``, replies included); the cursor is an offset."""
        with self._lock:
            video = self._video_of(open_id, video_id)
            if comment_ids is not None:
                pool = []
                for comment_id in dict.fromkeys(comment_ids):
                    comment = self._comments.get(comment_id)
                    if comment is not None and comment.video is video:
                        pool.append(comment)
            else:
                pool = list(self._top[video_id])
            pool = _ordered([c for c in pool if c.status in statuses], sort_field, sort_order)
            page = pool[cursor:cursor + max_count]
            rows = []
            for comment in page:
                row = render.organic_comment_row(comment)
                if include_replies and not comment.is_reply:
                    replies = [r for r in self._replies.of(comment.comment_id)
                               if r.status in statuses][:INCLUDED_REPLIES]
                    row["reply_list"] = [render.organic_comment_row(r) for r in replies]
                rows.append(row)
            end = cursor + len(page)
            return rows, end, end < len(pool)

    def list_replies(self, open_id: str, video_id: str, comment_id: str, *,
                     statuses: Collection[str], sort_field: str, sort_order: str, cursor: int,
                     max_count: int) -> tuple[list[dict[str, Any]], int, bool]:
        """business/comment/reply/list: the replies to one top-level comment."""
        with self._lock:
            video = self._video_of(open_id, video_id)
            parent = self._comment_of(open_id, comment_id, video)
            if parent.is_reply:
                raise param_error("comment_id", f"Comment {comment_id} is a reply; list the "
                                                f"replies of {parent.parent_comment_id}.")
            pool = [r for r in self._replies.of(comment_id) if r.status in statuses]
            pool = _ordered(pool, sort_field, sort_order)
            page = pool[cursor:cursor + max_count]
            end = cursor + len(page)
            return [render.organic_comment_row(r) for r in page], end, end < len(pool)

    # Comment writes

    def create_comment(self, open_id: str, video_id: str, text: str) -> dict[str, Any]:
        with self._lock:
            video = self._video_of(open_id, video_id)
            comment = self._factory.account_comment(video, max(int(self.now()), video.create_ts),
                                                    text)
            self._insert(comment)
            return {"comment_id": comment.comment_id, "video_id": video.video_id,
                    "create_time": comment.create_ts, "text": comment.text}

    def create_reply(self, open_id: str, video_id: str, comment_id: str, text: str
                     ) -> dict[str, Any]:
        with self._lock:
            video = self._video_of(open_id, video_id)
            parent = self._comment_of(open_id, comment_id, video)
            if parent.is_reply:
                raise param_error("comment_id", "Only top-level comments can be replied to; "
                                                f"reply to {parent.parent_comment_id} instead.")
            reply = self._factory.account_reply(parent, max(int(self.now()), parent.create_ts),
                                                text)
            self._insert(reply)
            return {"comment_id": reply.comment_id, "video_id": video.video_id,
                    "create_time": reply.create_ts, "text": reply.text,
                    "parent_comment_id": parent.comment_id}

    def hide(self, open_id: str, video_id: str, comment_id: str, hidden: bool) -> None:
        with self._lock:
            comment = self._comment_of(open_id, comment_id, self._video_of(open_id, video_id))
            comment.status = HIDDEN if hidden else PUBLIC

    def like(self, open_id: str, comment_id: str, liked: bool, *,
             video_id: str | None = None) -> None:
        with self._lock:
            video = None if video_id is None else self._video_of(open_id, video_id)
            comment = self._comment_of(open_id, comment_id, video)
            if comment.liked != liked:
                comment.liked = liked
                comment.likes = max(0, comment.likes + (1 if liked else -1))

    def pin(self, open_id: str, video_id: str, comment_id: str, pinned: bool) -> None:
        with self._lock:
            video = self._video_of(open_id, video_id)
            comment = self._comment_of(open_id, comment_id, video)
            if comment.is_reply:
                raise param_error("comment_id", "Only top-level comments can be pinned.")
            if pinned:
                for other in self._top[video_id]:
                    other.pinned = False
            comment.pinned = pinned

    def delete(self, open_id: str, comment_id: str, *, video_id: str | None = None) -> None:
        with self._lock:
            video = None if video_id is None else self._video_of(open_id, video_id)
            comment = self._comment_of(open_id, comment_id, video)
            if not comment.owner:
                raise ApiError(NO_PERMISSION,
                               "No permission to operate: only comments written by the account "
                               "itself can be deleted; hide other comments instead.")
            self._remove(comment)

    # Tokens and authorization codes

    def issue_code(self, open_id: str, scope: Iterable[str], redirect_uri: str) -> str:
        with self._lock:
            if open_id not in self._accounts:
                raise ValueError(f"unknown open_id {open_id!r}")
            return self._codes.issue(secrets.token_urlsafe(30),
                                     Consent(open_id, tuple(scope), redirect_uri), self.now())

    def exchange_code(self, code: str, redirect_uri: str) -> dict[str, Any]:
        def check(consent: Consent) -> None:
            if redirect_uri != consent.redirect_uri:
                raise ApiError(INVALID_AUTH_PARAMS, "Invalid auth params: redirect_uri does not "
                                                    "match the one the code was issued for.")

        with self._lock:
            consent = self._codes.redeem(code, self.now(), check)
            return self._authorize(consent.open_id, consent.scope)

    def issue_token(self, open_id: str | None = None, scopes: Iterable[str] | None = None
                    ) -> dict[str, Any]:
        with self._lock:
            if open_id is None:
                if not self._account_list:
                    raise ValueError("the sandbox has no business accounts")
                open_id = self._account_list[0].open_id
            if open_id not in self._accounts:
                raise ValueError(f"unknown open_id {open_id!r}")
            chosen = self.granted_scopes(ACCOUNT_SCOPES) if scopes is None else tuple(scopes)
            unknown = [s for s in chosen if s not in KNOWN_SCOPES]
            if unknown:
                raise ValueError(f"unknown scopes: {unknown}")
            return self._authorize(open_id, chosen)

    def _authorize(self, open_id: str, scope: tuple[str, ...]) -> dict[str, Any]:
        authorization = Authorization(open_id, scope, self.now())
        refresh_token = self._new_refresh(authorization)
        authorization.live_refresh.add(refresh_token)
        return self._answer(authorization, refresh_token)

    def _new_refresh(self, authorization: Authorization) -> str:
        token = "rft." + secrets.token_urlsafe(36)
        self._refresh[token] = authorization
        return token

    def _answer(self, authorization: Authorization, refresh_token: str) -> dict[str, Any]:
        now = self.now()
        access = AccessGrant("act." + secrets.token_urlsafe(36), authorization,
                             now + ACCESS_TOKEN_SECONDS)
        self._access[access.token] = access
        return {
            "access_token": access.token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "open_id": authorization.open_id,
            "refresh_token": refresh_token,
            "refresh_token_expires_in": max(0, int(authorization.refresh_expires_ts - now)),
            "scope": ",".join(authorization.scope),
        }

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        with self._lock:
            authorization = self._refresh.get(refresh_token)
            if authorization is None:
                raise ApiError(REFRESH_TOKEN_INVALID, "Invalid refresh token: it does not exist.")
            if authorization.revoked:
                raise ApiError(REFRESH_TOKEN_INVALID, "Invalid refresh token: the authorization "
                                                      "has been revoked.")
            if self.now() >= authorization.refresh_expires_ts:
                raise ApiError(REFRESH_TOKEN_EXPIRED, "Refresh token has expired: the account "
                                                      "must authorize the app again.")
            if refresh_token not in authorization.live_refresh:
                raise ApiError(REFRESH_TOKEN_INVALID, "Invalid refresh token: a newer refresh "
                                                      "token has been used since.")
            new = self._new_refresh(authorization)
            produced = authorization.produced.setdefault(refresh_token, [])
            produced.append(new)
            authorization.live_refresh = {refresh_token, *produced}
            return self._answer(authorization, new)

    def revoke(self, access_token: str) -> bool:
        """End the authorization of an access token; False when unknown or already revoked."""
        with self._lock:
            grant = self._access.get(access_token)
            if grant is None or grant.authorization.revoked:
                return False
            grant.authorization.revoked = True
            return True

    def access_grant(self, access_token: str) -> AccessGrant:
        """The live grant of an access token, or 40105 (unknown, revoked) / 40102 (expired)."""
        with self._lock:
            grant = self._access.get(access_token)
            if grant is None or grant.authorization.revoked:
                raise token_invalid()
            if self.now() >= grant.expires_ts:
                raise ApiError(TOKEN_EXPIRED, "Access token has expired: renew it with the "
                                              "refresh token.")
            return grant

    # Ground truth

    def ground_truth(self, business_id: str | None = None, video_id: str | None = None,
                     sections: Collection[str] = ("accounts", "videos", "comments")
                     ) -> dict[str, Any]:
        """A copy of the current accounts, videos and organic comments, optionally for one
        account or one video. Comments are in creation order."""
        self.catch_up()
        with self._lock:

            def wanted(video: Video) -> bool:
                return ((business_id is None or video.account.open_id == business_id)
                        and (video_id is None or video.video_id == video_id))

            truth: dict[str, Any] = {"start_ts": self.start_ts, "now_ts": self.now(),
                                     "comment_count": len(self._comments)}
            if "accounts" in sections:
                truth["accounts"] = [
                    render.truth_account(a, sum(v.likes for v in self._by_account[a.open_id]),
                                         len(self._by_account[a.open_id]))
                    for a in self._account_list
                    if business_id is None or a.open_id == business_id
                ]
            if "videos" in sections:
                truth["videos"] = [render.truth_video(v, self._counts[v.video_id])
                                   for a in self._account_list
                                   for v in self._by_account[a.open_id] if wanted(v)]
            if "comments" in sections:
                chosen = sorted((c for c in self._comments.values() if wanted(c.video)),
                                key=by_time)
                truth["comments"] = [render.truth_organic_comment(c) for c in chosen]
            return truth

    def comment_count(self) -> int:
        with self._lock:
            return len(self._comments)


def _ordered(comments: list[OrganicComment], sort_field: str, sort_order: str
             ) -> list[OrganicComment]:
    """Sorted by ``sort_field`` (ties by create time, then ID); ``smart`` puts the most liked
    and answered first."""
    if sort_order == "smart":
        return sorted(comments, key=lambda c: (c.likes + 3 * c.replies, c.sort_key), reverse=True)
    if sort_field == "likes":
        key = lambda c: (c.likes, c.sort_key)  # noqa: E731
    elif sort_field == "replies":
        key = lambda c: (c.replies, c.sort_key)  # noqa: E731
    else:
        key = by_time
    return sorted(comments, key=key, reverse=sort_order == "desc")
