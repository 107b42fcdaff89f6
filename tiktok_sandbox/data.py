"""The sandbox's account tree and comments, generated deterministically from a seed.

Everything comes from ``random.Random(seed)`` (no global random): the same config and the
same start time give the same world, byte for byte.

Tree. The ``ads`` of the config are split evenly over the advertisers (the first ones get
one more when it does not divide). An advertiser with A ads has G = ceil(A / 2) ad groups
and C = ceil(G / 4) campaigns; every campaign has at least one ad group and every ad group
at least one ad, the rest are spread at random, so most ad groups hold one to four ads.
With ``ads=400`` that gives 200 ad groups.

Advertisers. Names, currencies and timezones cycle through ``corpus.ADVERTISER_PRESETS``,
account types (advertiser/info's ``role``) through ``ACCOUNT_TYPES``. The connected user may
write (reply, hide, delete) on every advertiser but the last one when there are two or
more; that one is read-only, which TikTok only shows by refusing writes with 40001.

Identities. Each advertiser has a CUSTOMIZED_USER and a TT_USER that may manage comments,
plus a creator's TT_USER (a Spark Ads post) without comment permission
(``is_auth_comment_manage_scope`` false). About one ad in eight uses the creator, and at
least one per advertiser with three or more ads.

Comments. Exactly ``comments`` rows, replies included. Ads get them Zipf-like (exponent
1.4 over a shuffled ranking; every ad gets at least one when there are at least two rows
per ad), spread over the last ``history_days`` days before the start time, weighted to
the evening hours (UTC). About 14% of rows are replies: by other viewers, or by the
brand (``can_delete`` true, ``user_name`` the identity's display name) when the ad's
identity may manage comments. Spam is mostly hidden; a few comments hit a blocked word.
Comment IDs are ``(create_time << 32) | sequence``, 19-digit numbers that grow with time
like TikTok's own; other IDs are random 19-digit numbers.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from . import corpus

DAY = 86_400
T = TypeVar("T")
C = TypeVar("C", bound="BaseComment")

# advertiser/info's ``role``: the ad account's type, not the user's permission on it.
ROLE_ADVERTISER, ROLE_CHILD_ADVERTISER = "ROLE_ADVERTISER", "ROLE_CHILD_ADVERTISER"
ROLE_CHILD_AGENT, ROLE_AGENT = "ROLE_CHILD_AGENT", "ROLE_AGENT"
ACCOUNT_TYPES = (ROLE_ADVERTISER, ROLE_CHILD_ADVERTISER, ROLE_CHILD_AGENT, ROLE_AGENT)
CUSTOMIZED_USER, TT_USER = "CUSTOMIZED_USER", "TT_USER"
# Every identity type comment/post and comment/delete take (TikTok's OpenAPI enum).
IDENTITY_TYPES = (CUSTOMIZED_USER, "AUTH_CODE", TT_USER, "BC_AUTH_TT", "BC_SELF_TT")
COMMENT, REPLY = "COMMENT", "REPLY"
PUBLIC, HIDDEN = "PUBLIC", "HIDDEN"
ENABLE, DISABLE = "ENABLE", "DISABLE"
# How an ad group was bought (ad/get's and adgroup/get's ``filtering.buying_types``): in the
# auction, or reserved as Reach & Frequency or TopView. comment/status/update calls comments
# on reserved ads BRAND and the others BIDDING.
AUCTION, RESERVATION_RF, RESERVATION_TOP_VIEW = "AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW"
BUYING_TYPES = (AUCTION, RESERVATION_RF, RESERVATION_TOP_VIEW)

ZIPF_EXPONENT = 1.4
REPLY_SHARE = 0.14
BRAND_REPLY_SHARE = 0.35
# Relative comment volume per UTC hour: quiet at night, busy in the evening.
HOUR_WEIGHTS = (
    2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 7, 6, 6, 6, 7, 8, 10, 12, 13, 12, 8, 4,
)


@dataclasses.dataclass(slots=True)
class Advertiser:
    advertiser_id: str
    name: str
    company: str
    status: str
    currency: str
    timezone: str
    country: str
    create_ts: int
    account_type: str
    user_can_write: bool
    product: str


@dataclasses.dataclass(slots=True, frozen=True)
class Identity:
    identity_id: str
    identity_type: str
    display_name: str
    user_id: str
    avatar_url: str
    can_manage_comments: bool
    is_auth_ttba: bool
    advertiser_id: str


@dataclasses.dataclass(slots=True)
class Campaign:
    campaign_id: str
    campaign_name: str
    advertiser_id: str
    objective_type: str
    operation_status: str
    create_ts: int


@dataclasses.dataclass(slots=True)
class AdGroup:
    adgroup_id: str
    adgroup_name: str
    campaign: Campaign
    advertiser_id: str
    operation_status: str
    create_ts: int
    buying_type: str = AUCTION

    @property
    def ad_type(self) -> str:
        """What comment/status/update's ``ad_type`` must be for this ad group's comments."""
        return "BIDDING" if self.buying_type == AUCTION else "BRAND"


@dataclasses.dataclass(slots=True)
class Ad:
    ad_id: str
    ad_name: str
    advertiser_id: str
    adgroup: AdGroup
    identity: Identity
    create_ts: int
    modify_ts: int
    video_id: str
    tiktok_item_id: str
    ad_text: str
    call_to_action: str
    landing_page_url: str
    operation_status: str
    secondary_status: str
    video_play_url: str
    video_cover_url: str
    product: str
    popularity: float


@dataclasses.dataclass(slots=True, eq=False)
class BaseComment:
    """What every comment has, on an ad or on an account's video: its ID, create time and
    number of replies, and its place in time order (create time, then ID)."""

    comment_id: str
    create_ts: int
    replies: int
    sort_key: tuple[int, str] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.sort_key = (self.create_ts, self.comment_id)


@dataclasses.dataclass(slots=True, eq=False)
class Comment(BaseComment):
    ad: Ad
    content: str
    comment_type: str
    original_comment_id: str
    comment_status: str
    likes: int
    hit_blockedword: bool
    is_pinned: bool
    can_delete: bool
    user_name: str
    user_id: str
    user_avatar_url: str


@dataclasses.dataclass(frozen=True, slots=True)
class Viewer:
    user_name: str
    user_id: str
    avatar_url: str


@dataclasses.dataclass
class World:
    """The generated account tree and its comments; owned by ``state.SandboxState``."""

    start_ts: int
    advertisers: list[Advertiser]
    identities: list[Identity]
    campaigns: list[Campaign]
    adgroups: list[AdGroup]
    ads: list[Ad]
    comments: list[Comment]
    factory: CommentFactory


class Popular(Protocol):
    """Something comments are drawn to, in proportion to its ``popularity``."""

    popularity: float


def _cumulative(weights: list[float] | tuple[float, ...]) -> list[float]:
    return list(itertools.accumulate(weights))


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """``rng.choice`` for hot loops: one float draw per pick."""
    return items[int(rng.random() * len(items))]


def weighted_pick(rng: random.Random, items: Sequence[T], cum_weights: list[float]) -> T:
    """``rng.choices(..., k=1)[0]`` for hot loops."""
    return items[bisect.bisect(cum_weights, rng.random() * cum_weights[-1])]


def zipf_popularity(rng: random.Random, items: Sequence[Popular], exponent: float) -> None:
    """Zipf-like popularity: a shuffled ranking, weight 1 / rank ** ``exponent``."""
    ranks = list(range(1, len(items) + 1))
    rng.shuffle(ranks)
    for item, rank in zip(items, ranks, strict=True):
        item.popularity = 1.0 / rank**exponent


def cumulative_popularity(items: Sequence[Popular]) -> list[float]:
    """Cumulative weights for ``weighted_pick`` among ``items``."""
    return list(itertools.accumulate(item.popularity for item in items))


def numbered_preset(index: int) -> tuple[str, str, str, str, str, str]:
    """Preset ``index`` of ``corpus.ADVERTISER_PRESETS``: name, company, timezone, currency,
    country, product. Past the last preset they start again, the name numbered (2, 3, ...)."""
    presets = corpus.ADVERTISER_PRESETS
    preset = presets[index % len(presets)]
    if index < len(presets):
        return preset
    return (f"{preset[0]} {index // len(presets) + 1}", *preset[1:])


class CommentFactory:
    """Writes comments: text, author, likes and ID. Also used for comments arriving live.

    The sequence in the low bits of comment IDs counts on from ``first_sequence``, so that
    two factories with far-apart starts never make the same ID."""

    def __init__(self, rng: random.Random, viewers: list[Viewer], first_sequence: int = 0
                 ) -> None:
        self.rng = rng
        self._viewers = viewers
        self._sequence = first_sequence
        self._languages = [lang for lang, _ in corpus.LANGUAGE_WEIGHTS]
        self._language_cum = _cumulative([w for _, w in corpus.LANGUAGE_WEIGHTS])
        self._kinds = [kind for kind, _ in corpus.KIND_WEIGHTS]
        self._kind_cum = _cumulative([w for _, w in corpus.KIND_WEIGHTS])

    def next_id(self, ts: int) -> str:
        """A 19-digit ID that sorts by time: the create time in the high 32 bits."""
        self._sequence += 1
        return str((ts << 32) | (self._sequence & 0xFFFFFFFF))

    def viewer(self) -> Viewer:
        return pick(self.rng, self._viewers)

    def text(self, product: str) -> tuple[str, str]:
        """A comment text and its kind (praise, price, ..., spam, hostile)."""
        rng = self.rng
        if rng.random() < 0.004:
            return pick(rng, corpus.HOSTILE_COMMENTS), "hostile"
        lang = weighted_pick(rng, self._languages, self._language_cum)
        kind = weighted_pick(rng, self._kinds, self._kind_cum)
        line = pick(rng, corpus.COMMENTS[lang][kind]).replace("{product}", product)
        roll = rng.random()
        if roll < 0.22:
            line = f"{line} {pick(rng, corpus.EMOJI)}"
        elif roll < 0.27:
            line = f"{line} {pick(rng, corpus.EMOJI) * (2 + int(rng.random() * 3))}"
        elif roll < 0.31:
            line = f"@{self.viewer().user_name} {line}"
        elif roll < 0.33:
            line = f"{line}!!!"
        return line, kind

    def likes(self) -> int:
        rng = self.rng
        roll = rng.random()
        if roll < 0.55:
            return 0
        if roll < 0.85:
            return 1 + int(rng.random() * 5)
        if roll < 0.97:
            return 6 + int(rng.random() * 75)
        return min(250_000, int(rng.paretovariate(0.9) * 50))

    def top_level(self, ad: Ad, ts: int) -> Comment:
        rng = self.rng
        content, kind = self.text(ad.product)
        hidden = rng.random() < (0.6 if kind == "spam" else 0.02)
        blocked = kind == "spam" and rng.random() < 0.3
        viewer = self.viewer()
        return Comment(
            comment_id=self.next_id(ts),
            ad=ad,
            create_ts=ts,
            content=content,
            comment_type=COMMENT,
            original_comment_id="",
            comment_status=HIDDEN if hidden or blocked else PUBLIC,
            likes=self.likes(),
            replies=0,
            hit_blockedword=blocked,
            is_pinned=False,
            can_delete=False,
            user_name=viewer.user_name,
            user_id=viewer.user_id,
            user_avatar_url=viewer.avatar_url,
        )

    def viewer_reply(self, parent: Comment, ts: int) -> Comment:
        rng = self.rng
        if rng.random() < 0.5:
            content = pick(rng, corpus.USER_REPLIES)
        else:
            content = self.text(parent.ad.product)[0]
        viewer = self.viewer()
        return self.reply(parent, ts, content, viewer.user_name, viewer.user_id,
                          viewer.avatar_url, by_brand=False, likes=self.likes() // 3)

    def brand_reply(self, parent: Comment, ts: int, text: str | None = None) -> Comment:
        identity = parent.ad.identity
        content = text if text is not None else self.rng.choice(corpus.BRAND_REPLIES)
        likes = 0 if text is not None else self.likes() // 2
        return self.reply(parent, ts, content, identity.display_name, identity.user_id,
                          identity.avatar_url, by_brand=True, likes=likes)

    def reply(self, parent: Comment, ts: int, content: str, user_name: str, user_id: str,
              avatar_url: str, *, by_brand: bool, likes: int) -> Comment:
        return Comment(
            comment_id=self.next_id(ts),
            ad=parent.ad,
            create_ts=ts,
            content=content,
            comment_type=REPLY,
            original_comment_id=parent.comment_id,
            comment_status=PUBLIC,
            likes=likes,
            replies=0,
            hit_blockedword=False,
            is_pinned=False,
            can_delete=by_brand,
            user_name=user_name,
            user_id=user_id,
            user_avatar_url=avatar_url,
        )


class Ids:
    """Unique random 19-digit IDs."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[int] = set()

    def new(self, low: int = 1_700_000_000_000_000_000,
            high: int = 1_899_999_999_999_999_999) -> str:
        while True:
            value = self._rng.randint(low, high)
            if value not in self._used:
                self._used.add(value)
                return str(value)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower()) or "brand"


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _assign(rng: random.Random, items: int, buckets: int) -> list[int]:
    """Bucket index per item: every bucket gets one item, the rest land at random."""
    owners = list(range(buckets)) + [rng.randrange(buckets) for _ in range(items - buckets)]
    return sorted(owners)


def make_viewers(rng: random.Random, count: int) -> list[Viewer]:
    """``count`` distinct commenters with made-up names, IDs and avatars."""
    seen: set[str] = set()
    viewers = []
    while len(viewers) < count:
        name = pick(rng, corpus.NAME_PARTS) + pick(rng, corpus.NAME_SUFFIXES)
        if rng.random() < 0.7:
            name += str(1 + int(rng.random() * 9999))
        if name in seen:
            continue
        seen.add(name)
        user_id = str(6_000_000_000_000_000_000 + rng.getrandbits(60))
        viewers.append(Viewer(name, user_id, f"https://p16-sign.sandbox.invalid/avatar/{user_id}.jpeg"))
    return viewers


def build_world(
    *, seed: int, start_ts: int, advertisers: int, ads: int, comments: int, history_days: int,
    reserved_adgroups: int = 0, comment_spread: str = "zipf",
) -> World:
    """Generate the whole world for one sandbox; each advertiser's first `reserved_adgroups`
    ad groups are reserved buys (the rest of the world is the same either way). Comments
    go to ads by a Zipf-like popularity, or with `comment_spread` "even" about equally."""
    rng = random.Random(seed)
    ids = Ids(rng)
    factory = CommentFactory(rng, make_viewers(rng, max(200, min(40_000, comments // 3))))
    result = World(start_ts, [], [], [], [], [], [], factory)
    for index, ad_count in enumerate(_split(ads, advertisers)):
        _build_advertiser(rng, ids, result, index, advertisers, ad_count, start_ts, history_days)
    _build_comments(rng, result, comments, start_ts, history_days, comment_spread)
    _reserve(result.adgroups, reserved_adgroups)
    return result


def _reserve(adgroups: Sequence[AdGroup], per_advertiser: int) -> None:
    """Mark each advertiser's first `per_advertiser` ad groups as reserved, alternately
    Reach & Frequency and TopView."""
    taken: dict[str, int] = {}
    for adgroup in adgroups:
        done = taken.get(adgroup.advertiser_id, 0)
        if done < per_advertiser:
            adgroup.buying_type = RESERVATION_TOP_VIEW if done % 2 else RESERVATION_RF
            taken[adgroup.advertiser_id] = done + 1


def _build_advertiser(rng: random.Random, ids: Ids, world: World, index: int, total: int,
                      ad_count: int, start_ts: int, history_days: int) -> None:
    name, company, timezone, currency, country, product = numbered_preset(index)
    advertiser = Advertiser(
        advertiser_id=ids.new(7_000_000_000_000_000_000, 7_099_999_999_999_999_999),
        name=name, company=company, status="STATUS_ENABLE", currency=currency,
        timezone=timezone, country=country,
        create_ts=start_ts - rng.randint(200, 900) * DAY,
        account_type=ACCOUNT_TYPES[index % len(ACCOUNT_TYPES)],
        user_can_write=total == 1 or index < total - 1, product=product,
    )
    world.advertisers.append(advertiser)
    handle = _slug(name)

    def identity(kind: str, display: str, can_manage: bool) -> Identity:
        user_id = ids.new(6_900_000_000_000_000_000, 6_999_999_999_999_999_999)
        made = Identity(
            identity_id=ids.new(7_100_000_000_000_000_000, 7_199_999_999_999_999_999),
            identity_type=kind, display_name=display, user_id=user_id,
            avatar_url=f"https://p16-sign.sandbox.invalid/avatar/{user_id}.jpeg",
            can_manage_comments=can_manage, is_auth_ttba=kind == TT_USER,
            advertiser_id=advertiser.advertiser_id,
        )
        world.identities.append(made)
        return made

    brand = identity(CUSTOMIZED_USER, name, True)
    account = identity(TT_USER, handle + rng.choice(corpus.IDENTITY_SUFFIXES), True)
    creator = identity(TT_USER, f"{rng.choice(corpus.NAME_PARTS)}.creates", False)

    adgroup_count = math.ceil(ad_count / 2)
    campaign_count = math.ceil(adgroup_count / 4)
    history_start = start_ts - history_days * DAY
    campaigns = []
    for c in range(campaign_count):
        campaigns.append(Campaign(
            campaign_id=ids.new(),
            campaign_name=f"{rng.choice(corpus.CAMPAIGN_NAMES)} {c + 1}",
            advertiser_id=advertiser.advertiser_id,
            objective_type=rng.choice(corpus.CAMPAIGN_OBJECTIVES),
            operation_status=ENABLE,
            create_ts=history_start - rng.randint(1, 30) * DAY,
        ))
    world.campaigns.extend(campaigns)
    adgroups = []
    for g, owner in enumerate(_assign(rng, adgroup_count, campaign_count)):
        campaign = campaigns[owner]
        adgroups.append(AdGroup(
            adgroup_id=ids.new(),
            adgroup_name=f"{country} {rng.choice(corpus.ADGROUP_AUDIENCES)} #{g + 1}",
            campaign=campaign, advertiser_id=advertiser.advertiser_id,
            operation_status=ENABLE, create_ts=campaign.create_ts + rng.randint(0, 3600),
        ))
    world.adgroups.extend(adgroups)
    owners = _assign(rng, ad_count, adgroup_count)
    creator_ads = {a for a in range(ad_count) if rng.random() < 0.125}
    if ad_count >= 3 and not creator_ads:
        creator_ads.add(ad_count - 1)
    for a, owner in enumerate(owners):
        adgroup = adgroups[owner]
        chosen = creator if a in creator_ads else brand if rng.random() < 0.5 else account
        created = start_ts - int(rng.uniform(3, history_days + 20) * DAY)
        item_id = str((created << 32) | rng.getrandbits(32))
        video_id = f"v10033g50000{rng.getrandbits(80):020x}"
        enabled = rng.random() < 0.85
        ad_text = rng.choice(corpus.AD_TEXTS).replace("{product}", product)
        world.ads.append(video_ad(
            rng, ad_id=ids.new(),
            ad_name=f"{product.title()} - {rng.choice(corpus.AD_FORMATS)} {a + 1}",
            advertiser=advertiser, adgroup=adgroup, identity=chosen, created=created,
            start_ts=start_ts, video_id=video_id, item_id=item_id, ad_text=ad_text,
            enabled=enabled, product=product, popularity=0.0,
            landing_page_url=f"https://shop.example.com/{handle}/{product}?utm_source=tiktok",
        ))


def video_ad(rng: random.Random, *, ad_id: str, ad_name: str, advertiser: Advertiser,
             adgroup: AdGroup, identity: Identity, created: int, start_ts: int, video_id: str,
             item_id: str, ad_text: str, enabled: bool, product: str, popularity: float,
             landing_page_url: str) -> Ad:
    """A single-video ad; its modify time and call to action are drawn here, in that order."""
    return Ad(
        ad_id=ad_id, ad_name=ad_name, advertiser_id=advertiser.advertiser_id, adgroup=adgroup,
        identity=identity, create_ts=created,
        modify_ts=min(start_ts, created + rng.randint(0, 5 * DAY)),
        video_id=video_id, tiktok_item_id=item_id, ad_text=ad_text,
        call_to_action=rng.choice(corpus.CALLS_TO_ACTION),
        landing_page_url=landing_page_url,
        operation_status=ENABLE if enabled else DISABLE,
        secondary_status="AD_STATUS_DELIVERY_OK" if enabled else "AD_STATUS_DISABLE",
        video_play_url=f"https://v16m.sandbox.invalid/video/{video_id}.mp4",
        video_cover_url=f"https://p16-sign.sandbox.invalid/cover/{video_id}.jpeg",
        product=product, popularity=popularity,
    )


def thread_sizes(rng: random.Random, items: Sequence[T], counts: Sequence[int],
                 reply_share: float) -> Iterator[tuple[T, int, int]]:
    """Each of ``items`` that has comments, with how many of its ``counts`` rows are
    top-level comments and how many replies: every row after the first is a reply at odds
    of ``reply_share``, drawn as the item comes."""
    for item, count in zip(items, counts, strict=True):
        if count:
            replies = sum(1 for _ in range(count - 1) if rng.random() < reply_share)
            yield item, count - replies, replies


def reply_threads(rng: random.Random, tops: Sequence[C], count: int, start_ts: int,
                  viewer_reply: Callable[[C, int], C], own_reply: Callable[[C, int], C] | None,
                  own_share: float) -> list[C]:
    """``count`` replies to comments of ``tops``, each to one at random, half a minute to a
    few hours after it (but not after ``start_ts``). The first reply to a comment is the
    owner's own (``own_reply``, when there is one) at odds of ``own_share``; the others are
    viewers'."""
    answered: set[str] = set()
    made = []
    for _ in range(count):
        parent = pick(rng, tops)
        ts = min(start_ts, parent.create_ts + 30 + int(rng.expovariate(1 / 10_800)))
        if (own_reply is not None and parent.comment_id not in answered
                and rng.random() < own_share):
            answered.add(parent.comment_id)
            reply = own_reply(parent, ts)
        else:
            reply = viewer_reply(parent, ts)
        parent.replies += 1
        made.append(reply)
    return made


def _evening_time(rng: random.Random, low: int, high: int, hour_cum: list[float]) -> int:
    ts = low + int(rng.random() * (high - low))
    hour = bisect.bisect(hour_cum, rng.random() * hour_cum[-1])
    shifted = ts - ts % DAY + hour * 3600 + int(rng.random() * 3600)
    if shifted > high:
        shifted -= DAY
    return shifted if shifted >= low else ts


def _build_comments(rng: random.Random, world: World, total: int, start_ts: int,
                    history_days: int, spread: str = "zipf") -> None:
    ads = world.ads
    zipf_popularity(rng, ads, ZIPF_EXPONENT if spread == "zipf" else 0.0)
    per_ad = [1] * len(ads) if total >= 2 * len(ads) else [0] * len(ads)
    rest = total - sum(per_ad)
    picks = rng.choices(range(len(ads)), cum_weights=cumulative_popularity(ads), k=rest)
    for index in picks:
        per_ad[index] += 1
    factory = world.factory
    hour_cum = _cumulative(HOUR_WEIGHTS)
    history_start = start_ts - history_days * DAY
    tops_everywhere: list[Comment] = []
    for ad, top_count, replies in thread_sizes(rng, ads, per_ad, REPLY_SHARE):
        low = max(ad.create_ts, history_start)
        tops = [factory.top_level(ad, _evening_time(rng, low, start_ts, hour_cum))
                for _ in range(top_count)]
        if rng.random() < 0.1:
            tops[0].is_pinned = True
        world.comments.extend(tops)
        tops_everywhere.extend(tops)
        brand_reply = factory.brand_reply if ad.identity.can_manage_comments else None
        world.comments.extend(reply_threads(rng, tops, replies, start_ts, factory.viewer_reply,
                                            brand_reply, BRAND_REPLY_SHARE))
    hostile = corpus.HOSTILE_COMMENTS
    for position, text in zip(rng.sample(range(len(tops_everywhere)),
                                         min(len(hostile), len(tops_everywhere))),
                              hostile, strict=False):
        tops_everywhere[position].content = text
