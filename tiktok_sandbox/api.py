"""The endpoints under ``/open_api/v1.3/``: their parameters, checks and answers.

Each handler returns the ``data`` of a successful answer or raises ``ApiError``; the
server wraps either in TikTok's envelope. Checks run in TikTok's order: the Access-Token
header (40104 missing, 40105 unknown or revoked), then the parameters (40002, naming the
parameter), then access to the advertiser (40106), then permissions (40001).

Where TikTok's documentation is silent the sandbox assumes:

- comment/list: ``start_time`` and ``end_time`` are UTC calendar days, both included. No
  source gives a longest span: there is none unless ``SandboxConfig.comment_window_days``
  sets one (30 accepts 2025-01-01..2025-01-31 and refuses 2025-01-01..2025-02-01 with
  40002 naming ``end_time``).
- comment/list on an ad group the advertiser does not own answers an empty page; on one of
  its Upgraded Smart+ ad groups it is refused (see ``smart_plus.py``).
- comment/list without ``comment_status`` lists PUBLIC and HIDDEN comments. ``sort_field``
  SMART (listed in TikTok's OpenAPI only) sorts by likes and replies.
- comment/post ``text`` must not be blank; no source gives a longest text, so there is
  none unless ``SandboxConfig.ad_reply_max_length`` sets one.
- ad/get and smart_plus/ad/get take a ``page_size`` up to ``SandboxConfig.ad_page_size_max``
  (1000 by default, the 1-1,000 ``bububa/tiktok-business`` gives; the official SDK gives no
  maximum; None sets none). campaign/get and adgroup/get take up to 1000.
- comment/status/update takes up to 100 comment IDs and applies all of them or none. A
  comment that hit a blocked word cannot be hidden or made public by hand (TikTok's help);
  a batch with one is refused with 40002 naming ``comment_ids`` (code and wording are the
  sandbox's choice). So is a batch with a comment whose ad ``ad_type`` does not describe
  (BRAND for ads of reserved ad groups, BIDDING, the default, for the others): 40002 naming
  ``ad_type`` (the sandbox's choice; TikTok documents the parameter, not the refusal).
- ad/get and adgroup/get without ``filtering.buying_types`` list auction and Reach &
  Frequency buys; ``RESERVATION_TOP_VIEW`` only alone (bububa/tiktok-business's copy of the
  documentation).
- advertiser/info ``create_time`` is epoch seconds; ``role`` is the account's type
  (ROLE_ADVERTISER, ROLE_CHILD_ADVERTISER, ROLE_CHILD_AGENT, ROLE_AGENT), which says
  nothing about the user's permission: a user who may only read an advertiser learns it
  from the 40001 its writes get.
- comment/reference sends ``reply_user_info`` as one object, or as a list of one when
  ``SandboxConfig.reference_reply_user_info`` is ``"list"``.
- Unknown keys inside ``filtering`` are ignored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from . import endpoint, faults, render
from .config import SandboxConfig
from .data import (
    AUCTION,
    BUYING_TYPES,
    COMMENT,
    DISABLE,
    ENABLE,
    HIDDEN,
    IDENTITY_TYPES,
    PUBLIC,
    REPLY,
    RESERVATION_RF,
    RESERVATION_TOP_VIEW,
    Ad,
    AdGroup,
    Campaign,
)
from .endpoint import ApiRequest, Endpoint, Handler
from .errors import INVALID_CORE_USER, ApiError, param_error, token_invalid
from .params import Params, id_list, parse_datetime
from .smart_plus import OPTIMIZATION_GOAL
from .state import SORT_FIELDS, Grant, ObjectKind, SandboxState

MAX_PAGE_SIZE = 1000
MAX_COMMENT_PAGE_SIZE = 100
PRIMARY_STATUSES = (
    "STATUS_ALL", "STATUS_NOT_DELETE", "STATUS_DELIVERY_OK", "STATUS_NOT_DELIVERY",
    "STATUS_DISABLE", "STATUS_DELETE",
)


# Shared checks


def _grant(request: ApiRequest) -> Grant:
    grant = request.state.grant(request.required_token())
    if grant is None:
        raise token_invalid()
    return grant


def _check_access(grant: Grant, advertiser_id: str) -> None:
    if advertiser_id not in grant.advertiser_ids:
        raise ApiError(INVALID_CORE_USER, "Invalid core user: the access token is not "
                                          f"authorized for advertiser_id {advertiser_id}.")


@dataclasses.dataclass(frozen=True)
class _AdvertiserCall:
    """A call on one advertiser's objects. Opening it checks the token (40104, 40105) and
    reads ``advertiser_id``; ``state()`` checks that the token reaches the advertiser
    (40106), once the handler has read the other parameters."""

    request: ApiRequest
    grant: Grant
    advertiser_id: str

    @classmethod
    def open(cls, request: ApiRequest) -> _AdvertiserCall:
        grant = _grant(request)
        return cls(request, grant, request.params.required("advertiser_id"))

    @property
    def params(self) -> Params:
        return self.request.params

    def state(self) -> SandboxState:
        _check_access(self.grant, self.advertiser_id)
        return self.request.state


def _paging(params: Params, maximum: int | None) -> tuple[int, int]:
    page = params.integer("page", default=1, minimum=1)
    page_size = params.integer("page_size", default=10, minimum=1, maximum=maximum)
    return page, page_size


def _page_info(page: int, page_size: int, total: int) -> dict[str, int]:
    return {"page": page, "page_size": page_size, "total_number": total,
            "total_page": math.ceil(total / page_size)}


def _day_start(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


# OAuth and accounts


def oauth2_access_token(request: ApiRequest) -> dict[str, Any]:
    (auth_code,) = endpoint.app_params(request, "app_id", "secret", "auth_code")
    grant = request.state.exchange_code(auth_code)
    return {"access_token": grant.token, "advertiser_ids": list(grant.advertiser_ids),
            "scope": list(grant.scope)}


def oauth2_revoke_token(request: ApiRequest) -> dict[str, Any]:
    (token,) = endpoint.app_params(request, "app_id", "secret", "access_token")
    if not request.state.revoke_token(token):
        raise token_invalid()
    return {}


def oauth2_advertiser_get(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    endpoint.app_params(request, "app_id", "secret")
    advertisers = request.state.advertisers(grant.advertiser_ids)
    return {"list": [{"advertiser_id": a.advertiser_id, "advertiser_name": a.name}
                     for a in advertisers]}


def user_info(request: ApiRequest) -> dict[str, Any]:
    _grant(request)
    seed = request.config.seed
    return {
        "core_user_id": str(7_200_000_000_000_000_000 + seed % 10**17),
        "display_name": "Sandbox Marketer",
        "email": "marketer@sandbox.invalid",
        "avatar_url": "https://p16-sign.sandbox.invalid/avatar/marketer.jpeg",
        "create_time": request.state.start_ts - 400 * 86_400,
    }


def advertiser_info(request: ApiRequest) -> dict[str, Any]:
    grant = _grant(request)
    advertiser_ids = request.params.string_list("advertiser_ids", required=True, max_items=100)
    assert advertiser_ids is not None
    fields = endpoint.selected_fields(request.params, render.ADVERTISER_FIELDS)
    for advertiser_id in advertiser_ids:
        _check_access(grant, advertiser_id)
    rows = [render.advertiser_row(a) for a in request.state.advertisers(advertiser_ids)]
    return {"list": endpoint.project(rows, fields)}


# Ads, ad groups, campaigns


def _filter_ids(filtering: Mapping[str, Any], key: str) -> set[str] | None:
    if key not in filtering or filtering[key] is None:
        return None
    return set(id_list(f"filtering.{key}", filtering[key]))


def _filter_time(filtering: Mapping[str, Any], key: str) -> int | None:
    if not filtering.get(key):
        return None
    return parse_datetime(f"filtering.{key}", filtering[key])


def _buying_types(filtering: Mapping[str, Any]) -> set[str]:
    """``filtering.buying_types``: by default auction and Reach & Frequency buys; TopView
    only on its own."""
    given = filtering.get("buying_types")
    if given is None:
        return {AUCTION, RESERVATION_RF}
    if not isinstance(given, list) or not given or not all(isinstance(v, str) for v in given):
        raise param_error("filtering.buying_types", "Not a valid list.")
    unknown = [v for v in given if v not in BUYING_TYPES]
    if unknown:
        raise param_error("filtering.buying_types",
                          f"Must be one of: {', '.join(BUYING_TYPES)}.")
    if RESERVATION_TOP_VIEW in given and len(set(given)) > 1:
        raise param_error("filtering.buying_types",
                          f"{RESERVATION_TOP_VIEW} cannot be used with other values.")
    return set(given)


def _ad_filter(filtering: Mapping[str, Any], *, smart_plus_keys: bool = False
               ) -> Callable[[Ad], bool]:
    """What ad/get's ``filtering`` keeps; with ``smart_plus_keys``, smart_plus/ad/get's
    (``smart_plus_ad_ids`` for ``ad_ids``, ``optimization_goal``, no ``ad_name``)."""
    campaign_ids = _filter_ids(filtering, "campaign_ids")
    adgroup_ids = _filter_ids(filtering, "adgroup_ids")
    ad_ids = _filter_ids(filtering, "smart_plus_ad_ids" if smart_plus_keys else "ad_ids")
    ad_name = None if smart_plus_keys else filtering.get("ad_name")
    goal = filtering.get("optimization_goal") if smart_plus_keys else None
    if ad_name is not None and not isinstance(ad_name, str):
        raise param_error("filtering.ad_name", "Not a valid string.")
    primary = filtering.get("primary_status") or "STATUS_NOT_DELETE"
    if primary not in PRIMARY_STATUSES:
        raise param_error("filtering.primary_status",
                          f"Must be one of: {', '.join(PRIMARY_STATUSES)}.")
    secondary = filtering.get("secondary_status")
    objective = filtering.get("objective_type")
    created_from = _filter_time(filtering, "creation_filter_start_time")
    created_to = _filter_time(filtering, "creation_filter_end_time")
    modified_after = _filter_time(filtering, "modified_after")
    # smart_plus/ad/get takes no buying_types: Upgraded Smart+ ads are auction buys.
    buying = {AUCTION} if smart_plus_keys else _buying_types(filtering)
    statuses = {
        "STATUS_DELIVERY_OK": {ENABLE}, "STATUS_NOT_DELIVERY": {DISABLE},
        "STATUS_DISABLE": {DISABLE}, "STATUS_DELETE": set(),
    }.get(primary, {ENABLE, DISABLE})

    def keep(ad: Ad) -> bool:
        return (
            ad.operation_status in statuses
            and ad.adgroup.buying_type in buying
            and (campaign_ids is None or ad.adgroup.campaign.campaign_id in campaign_ids)
            and (adgroup_ids is None or ad.adgroup.adgroup_id in adgroup_ids)
            and (ad_ids is None or ad.ad_id in ad_ids)
            and (not ad_name or ad_name.lower() in ad.ad_name.lower())
            and (not secondary or ad.secondary_status == secondary)
            and (not objective or ad.adgroup.campaign.objective_type == objective)
            and (not goal or goal == OPTIMIZATION_GOAL)
            and (created_from is None or ad.create_ts >= created_from)
            and (created_to is None or ad.create_ts <= created_to)
            and (modified_after is None or ad.modify_ts >= modified_after)
        )

    return keep


def _campaign_filter(filtering: Mapping[str, Any]) -> Callable[[Campaign], bool]:
    campaign_ids = _filter_ids(filtering, "campaign_ids")
    return lambda c: campaign_ids is None or c.campaign_id in campaign_ids


def _adgroup_filter(filtering: Mapping[str, Any]) -> Callable[[AdGroup], bool]:
    campaign_ids = _filter_ids(filtering, "campaign_ids")
    adgroup_ids = _filter_ids(filtering, "adgroup_ids")
    buying = _buying_types(filtering)
    return lambda g: ((campaign_ids is None or g.campaign.campaign_id in campaign_ids)
                      and (adgroup_ids is None or g.adgroup_id in adgroup_ids)
                      and g.buying_type in buying)


def _fixed_page_size_max(config: SandboxConfig) -> int:
    return MAX_PAGE_SIZE


def _ad_page_size_max(config: SandboxConfig) -> int | None:
    return config.ad_page_size_max


def _object_get(kind: ObjectKind, allowed_fields: tuple[str, ...],
                make_filter: Callable[[Mapping[str, Any]], Callable[[Any], bool]],
                accepted_lists: tuple[str, ...] = (),
                page_size_max: Callable[[SandboxConfig], int | None] = _fixed_page_size_max
                ) -> Handler:
    """The handler of ad/get, campaign/get, adgroup/get or smart_plus/ad/get: a page of the
    advertiser's objects of ``kind`` that pass ``filtering``. ``accepted_lists`` are list
    parameters that are checked but change nothing; ``page_size_max`` gives the largest
    ``page_size`` (None: no maximum)."""

    def handler(request: ApiRequest) -> dict[str, Any]:
        call = _AdvertiserCall.open(request)
        params = call.params
        keep = make_filter(params.json_object("filtering") or {})
        fields = endpoint.selected_fields(params, allowed_fields)
        for name in accepted_lists:
            params.string_list(name)
        page, page_size = _paging(params, page_size_max(request.config))
        rows, total = call.state().select(kind, call.advertiser_id, keep, page, page_size)
        return {"list": endpoint.project(rows, fields),
                "page_info": _page_info(page, page_size, total)}

    return handler


ad_get = _object_get("ads", render.AD_FIELDS, _ad_filter,
                     accepted_lists=("exclude_field_types_in_response",),
                     page_size_max=_ad_page_size_max)
smart_plus_ad_get = _object_get(
    "smart_plus_ads", render.SMART_PLUS_AD_FIELDS,
    functools.partial(_ad_filter, smart_plus_keys=True),
    page_size_max=_ad_page_size_max)
campaign_get = _object_get("campaigns", render.CAMPAIGN_FIELDS, _campaign_filter)
adgroup_get = _object_get("adgroups", render.ADGROUP_FIELDS, _adgroup_filter)


# Comments


def comment_list(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    params = call.params
    params.enum("search_field", ("ADGROUP_ID",), required=True)
    adgroup_id = params.required("search_value")
    start = params.date("start_time")
    end = params.date("end_time")
    if end < start:
        raise param_error("end_time", "Must not be earlier than start_time.")
    window = request.config.comment_window_days
    if window is not None and (end - start).days > window:
        raise param_error("end_time", "The span from start_time to end_time must not exceed "
                                      f"{window} days.")
    types = params.enum_list("comment_type", ("ALL", COMMENT, REPLY), default=["ALL"])
    statuses = params.enum_list("comment_status", ("ALL", PUBLIC, HIDDEN), default=["ALL"])
    sort_field = params.enum("sort_field", SORT_FIELDS, default="CREATE_TIME")
    sort_type = params.enum("sort_type", ("ASC", "DESC"), default="DESC")
    page, page_size = _paging(params, MAX_COMMENT_PAGE_SIZE)
    rows, total = call.state().list_comments(
        call.advertiser_id, adgroup_id, _day_start(start), _day_start(end) + 86_400,
        comment_types={COMMENT, REPLY} if "ALL" in types else set(types),
        statuses={PUBLIC, HIDDEN} if "ALL" in statuses else set(statuses),
        sort_field=sort_field or "CREATE_TIME", descending=sort_type == "DESC",
        page=page, page_size=page_size,
    )
    return {"comments": rows, "page_info": _page_info(page, page_size, total)}


def comment_reference(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    params = call.params
    comment_id = params.required("comment_id")
    comment_type = params.enum("comment_type", (COMMENT, REPLY), required=True)
    original = params.string("original_comment_id")
    if comment_type == REPLY and original in (None, "0"):
        raise param_error("original_comment_id", "Required when comment_type is REPLY.")
    params.enum("app", ("TIKTOK",), default="TIKTOK")
    page, page_size = _paging(params, MAX_COMMENT_PAGE_SIZE)
    rows, total = call.state().reference(call.advertiser_id, comment_id,
                                         comment_type or COMMENT, original, page, page_size)
    return {"comments": rows, "page_info": _page_info(page, page_size, total)}


def _write_target(params: Params) -> dict[str, str]:
    target = {name: params.required(name) for name in ("ad_id", "tiktok_item_id", "comment_id",
                                                        "identity_type", "identity_id")}
    params.enum("identity_type", IDENTITY_TYPES, required=True)
    return target


def comment_post(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    target = _write_target(call.params)
    call.params.enum("comment_type", (REPLY,), required=True)
    text = endpoint.comment_text(call.params, max_length=request.config.ad_reply_max_length)
    return call.state().post_reply(call.advertiser_id, text=text, **target)


def comment_status_update(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    params = call.params
    comment_ids = params.string_list("comment_ids", required=True, max_items=100)
    assert comment_ids is not None
    operation = params.enum("operation", (HIDDEN, PUBLIC), required=True)
    ad_type = params.enum("ad_type", ("BIDDING", "BRAND"), default="BIDDING")
    call.state().set_status(call.advertiser_id, comment_ids, operation or HIDDEN,
                            ad_type or "BIDDING")
    return {}


def comment_delete(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    target = _write_target(call.params)
    call.state().delete_comment(call.advertiser_id, **target)
    return {}


ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({
    "oauth2/access_token/": Endpoint("POST", oauth2_access_token, faults.UNPROCESSED_KINDS),
    "oauth2/revoke_token/": Endpoint("POST", oauth2_revoke_token, faults.UNPROCESSED_KINDS),
    "oauth2/advertiser/get/": Endpoint("GET", oauth2_advertiser_get, faults.READ_KINDS),
    "user/info/": Endpoint("GET", user_info, faults.READ_KINDS),
    "advertiser/info/": Endpoint("GET", advertiser_info, faults.READ_KINDS),
    "campaign/get/": Endpoint("GET", campaign_get, faults.READ_KINDS),
    "adgroup/get/": Endpoint("GET", adgroup_get, faults.READ_KINDS),
    "ad/get/": Endpoint("GET", ad_get, faults.READ_KINDS),
    "smart_plus/ad/get/": Endpoint("GET", smart_plus_ad_get, faults.READ_KINDS),
    "comment/list/": Endpoint("GET", comment_list, faults.READ_KINDS),
    "comment/reference/": Endpoint("GET", comment_reference, faults.READ_KINDS),
    "comment/post/": Endpoint("POST", comment_post, faults.WRITE_KINDS),
    "comment/status/update/": Endpoint("POST", comment_status_update, faults.WRITE_KINDS),
    "comment/delete/": Endpoint("POST", comment_delete, faults.WRITE_KINDS),
})
