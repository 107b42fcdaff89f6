"""TikTok business accounts, their videos and organic comments, generated from the seed.

Everything comes from ``random.Random(f"{seed}/organic")``, apart from the ad world it links
to, so adding the accounts leaves the advertisers, ads and ad comments exactly as before.

Accounts. Account i belongs to advertiser i while there are advertisers: it is the brand's
own TikTok account, the advertiser's TT_USER identity that may manage comments (same
``username`` as the identity's display name). Further accounts stand alone, named after
``corpus.ADVERTISER_PRESETS``. ``open_id`` looks like TikTok's ("-000" and 28 characters).

Videos. Each Spark Ad that runs with an account's identity promotes one of the account's
posts: the account has a video whose ``item_id`` is the ad's ``tiktok_item_id``
(``is_ad`` true). The rest of the ``videos_per_account`` are organic posts from the last
``history_days``. Video IDs are ``(create_time << 32) | random bits`` like TikTok's item
IDs, and no two videos of an account share a create time (the video cursor counts on it).

Comments. Exactly ``organic_comments`` rows, replies included, spread Zipf-like over the
videos (every video gets one when there are at least two rows per video). About 18% are
replies: by viewers, or by the account itself (``owner`` true). About 3% of the top-level
comments are written by the account; every account owns at least one comment when it has
a reply to give it. Spam is mostly hidden, a few comments are hidden at random; about a
third of the videos have a pinned comment; the account has liked a few. Every text of
``corpus.HOSTILE_COMMENTS`` appears on some top-level comment. Comment IDs are
``(create_time << 32) | 0x80000000 | sequence``: they grow with time like TikTok's and never
equal an ad comment's ID.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import random
import string
from collections.abc import Sequence

from . import corpus
from .data import (
    DAY,
    PUBLIC,
    TT_USER,
    Ad,
    Advertiser,
    BaseComment,
    CommentFactory,
    Identity,
    Viewer,
    cumulative_popularity,
    make_viewers,
    numbered_preset,
    pick,
    reply_threads,
    thread_sizes,
    zipf_popularity,
)

HIDDEN = "HIDDEN"
REPLY_SHARE = 0.18
ACCOUNT_COMMENT_SHARE = 0.03
ACCOUNT_REPLY_SHARE = 0.35
PINNED_VIDEO_SHARE = 0.3
LIKED_SHARE = 0.06
ZIPF_EXPONENT = 1.2
_OPEN_ID_ALPHABET = string.ascii_letters + string.digits
_ORGANIC_ID_BIT = 0x80000000


@dataclasses.dataclass(slots=True)
class BusinessAccount:
    open_id: str
    username: str
    display_name: str
    profile_image: str
    bio_description: str
    is_verified: bool
    followers_count: int
    following_count: int
    create_ts: int
    product: str
    advertiser_id: str | None
    identity_id: str | None

    @property
    def profile_deep_link(self) -> str:
        return f"https://www.tiktok.com/@{self.username}"


@dataclasses.dataclass(slots=True)
class Video:
    video_id: str
    account: BusinessAccount
    create_ts: int
    caption: str
    is_ad: bool
    ad_ids: tuple[str, ...]
    duration: float
    video_views: int
    reach: int
    likes: int
    shares: int
    favorites: int
    popularity: float = 0.0


@dataclasses.dataclass(slots=True, eq=False)
class OrganicComment(BaseComment):
    video: Video
    text: str
    parent_comment_id: str  # "" for a top-level comment
    status: str
    likes: int
    owner: bool
    liked: bool
    pinned: bool
    user_id: str
    unique_identifier: str
    username: str
    display_name: str
    profile_image: str

    @property
    def is_reply(self) -> bool:
        return bool(self.parent_comment_id)


@dataclasses.dataclass
class OrganicWorld:
    """The generated accounts, videos and comments; owned by ``accounts.AccountsState``."""

    accounts: list[BusinessAccount]
    videos: list[Video]
    comments: list[OrganicComment]
    factory: OrganicFactory


def _display_name(user_name: str) -> str:
    words = user_name.replace("_", " ").replace(".", " ").split()
    return " ".join(word.capitalize() for word in words) or user_name


class OrganicFactory:
    """Writes organic comments: text, author, likes and ID. Also used for live arrivals.

    Texts, likes and commenters come from a ``data.CommentFactory`` sharing this factory's
    random stream; set ``rng`` to switch both to another stream.
    """

    def __init__(self, rng: random.Random, viewers: list[Viewer], seed: int) -> None:
        self._words = CommentFactory(rng, viewers)
        self._seed = seed
        self._sequence = 0
        self._hashes: dict[tuple[str, str], str] = {}

    @property
    def rng(self) -> random.Random:
        return self._words.rng

    @rng.setter
    def rng(self, value: random.Random) -> None:
        self._words.rng = value

    def next_id(self, ts: int) -> str:
        self._sequence += 1
        return str((ts << 32) | _ORGANIC_ID_BIT | (self._sequence & 0x7FFFFFFF))

    def _hashed(self, kind: str, user_id: str) -> str:
        """A stable per-app hash of a user ID, as TikTok sends ``user_id`` here."""
        key = (kind, user_id)
        hashed = self._hashes.get(key)
        if hashed is None:
            hashed = hashlib.sha256(f"{self._seed}/{kind}/{user_id}".encode()).hexdigest()
            self._hashes[key] = hashed
        return hashed

    def _comment(self, video: Video, ts: int, text: str, parent: str, *, owner: bool,
                 likes: int, author: tuple[str, str, str, str], hidden: bool = False
                 ) -> OrganicComment:
        user_id, username, display_name, image = author
        return OrganicComment(
            comment_id=self.next_id(ts), video=video, create_ts=ts, text=text,
            parent_comment_id=parent, status=HIDDEN if hidden else PUBLIC, likes=likes,
            replies=0, owner=owner, liked=False, pinned=False,
            user_id=self._hashed("user", user_id),
            unique_identifier=self._hashed("unique", user_id)[:32],
            username=username, display_name=display_name, profile_image=image,
        )

    def _viewer_author(self) -> tuple[str, str, str, str]:
        viewer = self._words.viewer()
        return (viewer.user_id, viewer.user_name, _display_name(viewer.user_name),
                viewer.avatar_url)

    @staticmethod
    def _account_author(account: BusinessAccount) -> tuple[str, str, str, str]:
        return (account.open_id, account.username, account.display_name, account.profile_image)

    def as_account_reply(self, reply: OrganicComment) -> OrganicComment:
        """The same reply, written by the video's account instead of a viewer."""
        user_id, username, display_name, image = self._account_author(reply.video.account)
        return dataclasses.replace(
            reply, owner=True, liked=False, text=corpus.BRAND_REPLIES[0],
            user_id=self._hashed("user", user_id),
            unique_identifier=self._hashed("unique", user_id)[:32], username=username,
            display_name=display_name, profile_image=image,
        )

    def top_level(self, video: Video, ts: int) -> OrganicComment:
        """A viewer's comment: spam is mostly hidden, a few others are too."""
        text, kind = self._words.text(video.account.product)
        hidden = self.rng.random() < (0.6 if kind == "spam" else 0.02)
        return self._comment(video, ts, text, "", owner=False, likes=self._words.likes(),
                             author=self._viewer_author(), hidden=hidden)

    def viewer_reply(self, parent: OrganicComment, ts: int) -> OrganicComment:
        rng = self.rng
        if rng.random() < 0.5:
            text = pick(rng, corpus.USER_REPLIES)
        else:
            text = self._words.text(parent.video.account.product)[0]
        return self._comment(parent.video, ts, text, parent.comment_id, owner=False,
                             likes=self._words.likes() // 3, author=self._viewer_author())

    def account_comment(self, video: Video, ts: int, text: str | None = None
                        ) -> OrganicComment:
        """A top-level comment by the account itself (deletable)."""
        account = video.account
        if text is not None:
            return self._comment(video, ts, text, "", owner=True, likes=0,
                                 author=self._account_author(account))
        written = self.rng.choice(corpus.ACCOUNT_COMMENTS).replace("{product}", account.product)
        return self._comment(video, ts, written, "", owner=True, likes=self._words.likes(),
                             author=self._account_author(account))

    def account_reply(self, parent: OrganicComment, ts: int, text: str | None = None
                      ) -> OrganicComment:
        """A reply by the account itself (deletable)."""
        written = text if text is not None else self.rng.choice(corpus.BRAND_REPLIES)
        likes = 0 if text is not None else self._words.likes() // 2
        return self._comment(parent.video, ts, written, parent.comment_id, owner=True,
                             likes=likes, author=self._account_author(parent.video.account))


def _open_id(rng: random.Random) -> str:
    return "-000" + "".join(rng.choice(_OPEN_ID_ALPHABET) for _ in range(28))


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum()) or "brand"


def _brand_identity(identities: Sequence[Identity], advertiser_id: str) -> Identity | None:
    return next((i for i in identities if i.advertiser_id == advertiser_id
                 and i.identity_type == TT_USER and i.can_manage_comments), None)


def build_organic(*, seed: int, start_ts: int, history_days: int,
                  advertisers: Sequence[Advertiser], identities: Sequence[Identity],
                  ads: Sequence[Ad], accounts: int, videos_per_account: int, comments: int
                  ) -> OrganicWorld:
    """Generate every business account, its videos and their comments."""
    rng = random.Random(f"{seed}/organic")
    viewers = make_viewers(rng, max(200, min(20_000, comments // 3)))
    world = OrganicWorld([], [], [], OrganicFactory(rng, viewers, seed))
    taken_ids = {ad.tiktok_item_id for ad in ads}
    for index in range(accounts):
        advertiser = advertisers[index] if index < len(advertisers) else None
        account = _build_account(rng, index, advertiser, identities, start_ts)
        world.accounts.append(account)
        identity_ads = [ad for ad in ads if account.identity_id is not None
                        and ad.identity.identity_id == account.identity_id]
        world.videos.extend(_build_videos(rng, account, identity_ads, videos_per_account,
                                          start_ts, history_days, taken_ids))
    zipf_popularity(rng, world.videos, ZIPF_EXPONENT)
    _build_comments(rng, world, comments, start_ts, history_days)
    return world


def _build_account(rng: random.Random, index: int, advertiser: Advertiser | None,
                   identities: Sequence[Identity], start_ts: int) -> BusinessAccount:
    if advertiser is not None:
        identity = _brand_identity(identities, advertiser.advertiser_id)
        name, product = advertiser.name, advertiser.product
        username = identity.display_name if identity else _slug(name)
        identity_id = identity.identity_id if identity else None
        advertiser_id: str | None = advertiser.advertiser_id
    else:
        name, *_, product = numbered_preset(index)
        username = _slug(name) + rng.choice(corpus.IDENTITY_SUFFIXES)
        identity_id = advertiser_id = None
    open_id = _open_id(rng)
    followers = min(5_000_000, int(rng.lognormvariate(9.5, 1.3)))
    return BusinessAccount(
        open_id=open_id, username=username, display_name=name,
        profile_image=f"https://p16-sign.sandbox.invalid/avatar/{open_id}.jpeg",
        bio_description=rng.choice(corpus.ACCOUNT_BIOS).replace("{product}", product),
        is_verified=followers > 50_000, followers_count=followers,
        following_count=rng.randint(0, 400), create_ts=start_ts - rng.randint(400, 2000) * DAY,
        product=product, advertiser_id=advertiser_id, identity_id=identity_id,
    )


def _unique_ts(ts: int, used: set[int]) -> int:
    while ts in used:
        ts -= 1
    used.add(ts)
    return ts


def _build_videos(rng: random.Random, account: BusinessAccount, identity_ads: list[Ad],
                  count: int, start_ts: int, history_days: int, taken_ids: set[str]
                  ) -> list[Video]:
    used_ts: set[int] = set()
    videos = []

    def stats() -> dict[str, int | float]:
        views = int(rng.paretovariate(1.2) * 900)
        return {
            "duration": round(rng.uniform(6.0, 90.0), 1),
            "video_views": views,
            "reach": int(views * rng.uniform(0.6, 0.95)),
            "likes": int(views * rng.uniform(0.02, 0.12)),
            "shares": int(views * rng.uniform(0.001, 0.01)),
            "favorites": int(views * rng.uniform(0.002, 0.02)),
        }

    for ad in sorted(identity_ads, key=lambda a: (a.create_ts, a.ad_id)):
        videos.append(Video(video_id=ad.tiktok_item_id, account=account,
                            create_ts=_unique_ts(ad.create_ts, used_ts), caption=ad.ad_text,
                            is_ad=True, ad_ids=(ad.ad_id,), **stats()))  # type: ignore[arg-type]
    for _ in range(max(1, count - len(identity_ads))):
        ts = _unique_ts(start_ts - int(rng.uniform(0.5, history_days) * DAY), used_ts)
        video_id = str((ts << 32) | rng.getrandbits(32))
        while video_id in taken_ids:
            video_id = str((ts << 32) | rng.getrandbits(32))
        taken_ids.add(video_id)
        caption = rng.choice(corpus.VIDEO_CAPTIONS).replace("{product}", account.product)
        videos.append(Video(video_id=video_id, account=account, create_ts=ts, caption=caption,
                            is_ad=False, ad_ids=(), **stats()))  # type: ignore[arg-type]
    return videos


def _build_comments(rng: random.Random, world: OrganicWorld, total: int, start_ts: int,
                    history_days: int) -> None:
    videos = world.videos
    if not videos or total <= 0:
        return
    per_video = [1] * len(videos) if total >= 2 * len(videos) else [0] * len(videos)
    weights = cumulative_popularity(videos)
    for _ in range(total - sum(per_video)):
        per_video[bisect.bisect(weights, rng.random() * weights[-1])] += 1
    factory = world.factory
    history_start = start_ts - history_days * DAY
    viewer_tops: list[OrganicComment] = []
    for video, top_count, replies in thread_sizes(rng, videos, per_video, REPLY_SHARE):
        low = min(max(video.create_ts + 60, history_start), start_ts - 1)
        tops = []
        for _ in range(top_count):
            ts = low + int(rng.random() * (start_ts - low))
            if rng.random() < ACCOUNT_COMMENT_SHARE:
                tops.append(factory.account_comment(video, ts))
            else:
                comment = factory.top_level(video, ts)
                tops.append(comment)
                viewer_tops.append(comment)
        if rng.random() < PINNED_VIDEO_SHARE:
            max(tops, key=lambda c: (c.likes, c.comment_id)).pinned = True
        world.comments.extend(tops)
        world.comments.extend(reply_threads(rng, tops, replies, start_ts, factory.viewer_reply,
                                            factory.account_reply, ACCOUNT_REPLY_SHARE))
    for comment in world.comments:
        if not comment.owner and rng.random() < LIKED_SHARE:
            comment.liked = True
            comment.likes += 1
    _give_every_account_a_comment(world)
    hostile = corpus.HOSTILE_COMMENTS
    chosen = rng.sample(range(len(viewer_tops)), min(len(hostile), len(viewer_tops)))
    for position, text in zip(chosen, hostile, strict=False):
        viewer_tops[position].text = text


def _give_every_account_a_comment(world: OrganicWorld) -> None:
    """Make sure each account owns a comment it may delete: turn one viewer reply into the
    account's own when it has none (keeps the number of rows)."""
    owners = {c.video.account.open_id for c in world.comments if c.owner}
    for position, comment in enumerate(world.comments):
        open_id = comment.video.account.open_id
        if open_id in owners or not comment.is_reply:
            continue
        world.comments[position] = world.factory.as_account_reply(comment)
        owners.add(open_id)
