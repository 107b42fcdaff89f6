"""Upgraded Smart+ ads: generated apart from the rest of the world, listed apart, and
refused by comment/list.

TikTok lists Upgraded Smart+ ads with ``GET /open_api/v1.3/smart_plus/ad/get/``, not with
ad/get/ (the official SDK's ``AdApi.smart_plus_ad_get``). Its query, as the SDK sends it:
``advertiser_id`` (required), ``filtering`` (JSON object: ``campaign_ids``,
``adgroup_ids``, ``smart_plus_ad_ids``, ``creation_filter_start_time``,
``creation_filter_end_time``, ``modified_after``, ``objective_type``,
``optimization_goal``, ``primary_status``, ``secondary_status``; SDK
FilteringSmartPlusAdGet.md), ``fields`` (a list, sent as repeated parameters), ``page``
(default 1) and ``page_size`` (default 10). The SDK types the answer only as a generic
envelope; the sandbox answers ``data.list`` and ``data.page_info`` as ad/get/ does, each
row keyed by ``smart_plus_ad_id`` with the lists of the SDK's SmartPlusAdCreateBody
(``creative_list[].creative_info``, ``ad_text_list``, ``call_to_action_list``,
``landing_page_url_list``), which TikTok's changelog says create, update and get share.

For their ad groups comment/list answers 40002 "This API does not support Upgraded Smart
Plus ads", or 51010 internal timeout on every try (``SandboxConfig.smart_plus_refusal``).
An integrator saw 51010 live on comment/list and the 40002 on comment/task/create; that
comment/list may answer the 40002 too is an inference (docs/tiktok-api-notes.md). Their
comments exist (the ground truth lists them) but no
comment endpoint reaches them.

Everything here comes from its own random stream, so a world's other content is the same
with or without Smart+ ads. Smart+ ads are spread over the advertisers in turn; each
advertiser with one has one Smart+ campaign, and each Smart+ ad its own ad group. They use
the advertiser's own identities, and gather no live comments.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator

from . import corpus
from .config import SandboxConfig
from .data import (
    BRAND_REPLY_SHARE,
    DAY,
    ENABLE,
    REPLY_SHARE,
    Ad,
    AdGroup,
    Advertiser,
    Campaign,
    Comment,
    CommentFactory,
    Identity,
    Ids,
    make_viewers,
    reply_threads,
    thread_sizes,
    video_ad,
)
from .errors import INTERNAL_TIMEOUT, INTERNAL_TIMEOUT_MESSAGE, PARAM_ERROR, ApiError

OBJECTIVE_TYPE = "WEB_CONVERSIONS"
OPTIMIZATION_GOAL = "CONVERT"
COMMENTS_PER_AD = (12, 60)
# Comment IDs of Smart+ ads count from here, far from those of the other ads.
FIRST_SEQUENCE = 0x40000000
UNSUPPORTED = "This API does not support Upgraded Smart Plus ads"


@dataclasses.dataclass
class SmartPlusWorld:
    """The Smart+ campaigns, ad groups, ads (newest first) and comments of one sandbox."""

    campaigns: list[Campaign]
    adgroups: dict[str, AdGroup]
    ads: list[Ad]
    comments: list[Comment]


def refusal(config: SandboxConfig) -> ApiError:
    """What comment/list answers for a Smart+ ad group."""
    if config.smart_plus_refusal == "51010":
        return ApiError(INTERNAL_TIMEOUT, INTERNAL_TIMEOUT_MESSAGE)
    return ApiError(PARAM_ERROR, UNSUPPORTED)


def build_smart_plus(config: SandboxConfig, start_ts: int, advertisers: list[Advertiser],
                     identities: list[Identity]) -> SmartPlusWorld:
    """``config.smart_plus_ads`` Smart+ ads with their comments, over ``advertisers``."""
    world = SmartPlusWorld([], {}, [], [])
    if config.smart_plus_ads == 0:
        return world
    rng = random.Random(f"{config.seed}/smart-plus")
    ids = Ids(rng)
    factory = CommentFactory(rng, make_viewers(rng, 200), first_sequence=FIRST_SEQUENCE)
    campaigns: dict[str, Campaign] = {}
    history_start = start_ts - config.history_days * DAY
    for number in range(1, config.smart_plus_ads + 1):
        advertiser = advertisers[(number - 1) % len(advertisers)]
        campaign = campaigns.get(advertiser.advertiser_id)
        if campaign is None:
            campaign = Campaign(
                campaign_id=ids.new(), campaign_name=f"Smart+ {advertiser.product.title()}",
                advertiser_id=advertiser.advertiser_id, objective_type=OBJECTIVE_TYPE,
                operation_status=ENABLE, create_ts=history_start - rng.randint(1, 30) * DAY,
            )
            campaigns[advertiser.advertiser_id] = campaign
            world.campaigns.append(campaign)
        adgroup = AdGroup(
            adgroup_id=ids.new(), adgroup_name=f"Smart+ {advertiser.country} #{number}",
            campaign=campaign, advertiser_id=advertiser.advertiser_id, operation_status=ENABLE,
            create_ts=campaign.create_ts + rng.randint(0, 3600),
        )
        world.adgroups[adgroup.adgroup_id] = adgroup
        own = [i for i in identities if i.advertiser_id == advertiser.advertiser_id]
        ad = _ad(rng, ids, advertiser, adgroup, rng.choice(own), number, start_ts,
                 config.history_days)
        world.ads.append(ad)
        world.comments.extend(_comments(rng, factory, ad, max(ad.create_ts, history_start),
                                        start_ts))
    world.ads.sort(key=lambda a: (a.create_ts, a.ad_id), reverse=True)
    world.comments.sort(key=lambda c: c.sort_key)
    return world


def _ad(rng: random.Random, ids: Ids, advertiser: Advertiser, adgroup: AdGroup,
        identity: Identity, number: int, start_ts: int, history_days: int) -> Ad:
    product = advertiser.product
    created = start_ts - int(rng.uniform(3, history_days) * DAY)
    video_id = f"v10033g50000{rng.getrandbits(80):020x}"
    enabled = rng.random() < 0.9
    return video_ad(
        rng, ad_id=ids.new(), ad_name=f"Smart+ {product.title()} {number}",
        advertiser=advertiser, adgroup=adgroup, identity=identity, created=created,
        start_ts=start_ts, video_id=video_id, item_id=str((created << 32) | rng.getrandbits(32)),
        ad_text=rng.choice(corpus.AD_TEXTS).replace("{product}", product), enabled=enabled,
        product=product, popularity=1.0,
        landing_page_url=f"https://shop.example.com/{product}?utm_source=tiktok&smart_plus=1",
    )


def _comments(rng: random.Random, factory: CommentFactory, ad: Ad, low: int, high: int
              ) -> Iterator[Comment]:
    """The ad's comments: top-level ones between ``low`` and ``high``, and replies."""
    count = rng.randint(*COMMENTS_PER_AD)
    for _, top_count, replies in thread_sizes(rng, [ad], [count], REPLY_SHARE):
        tops = [factory.top_level(ad, low + int(rng.random() * (high - low)))
                for _ in range(top_count)]
        yield from tops
        brand_reply = factory.brand_reply if ad.identity.can_manage_comments else None
        yield from reply_threads(rng, tops, replies, high, factory.viewer_reply, brand_reply,
                                 BRAND_REPLY_SHARE)
