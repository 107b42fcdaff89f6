"""The synchronous report of the Marketing API (``report/integrated/get/``): its parameters,
checks and answer. The delivery it reports is ``delivery.py``'s.

Checks run in the order of the other endpoints (``api.py``): the Access-Token header (40104,
40105), the parameters (40002 naming the parameter), access to the advertiser (40106), then
the permission (40001): the token needs "Reporting" (scope 4) or its "Consolidated Report"
(44), which covers report/integrated/get (OAS scopes yml).

Shapes (SDK ReportingApi.md and ``report_integrated_get``; ``bububa/tiktok-business``
``model/report/integrated_get.go``, ``metrics.go``, ``dimensions.go``, quoting the docs):

- Query: ``advertiser_id``; ``report_type`` (required; BASIC, AUDIENCE, PLAYABLE_MATERIAL,
  CATALOG, BC, TT_SHOP); ``service_type`` (AUCTION, the default, or RESERVATION);
  ``data_level`` (required for BASIC: AUCTION_AD, AUCTION_ADGROUP, AUCTION_CAMPAIGN,
  AUCTION_ADVERTISER, and the deprecated RESERVATION_* ones); ``dimensions`` (required; a
  JSON array or the parameter repeated: the level's ID, optionally ``stat_time_day``);
  ``metrics`` (default ["spend", "impressions"]); ``start_date`` and ``end_date``
  (YYYY-MM-DD, both included, days of the advertiser's time zone; required unless
  ``query_lifetime`` is true); ``filtering`` (a JSON array of ``{field_name, filter_type,
  filter_value}``); ``order_field``, ``order_type`` (ASC, DESC: the default); ``page`` (from
  1) and ``page_size`` (1-1000, default 10); ``query_mode``, ``enable_total_metrics`` and
  ``multi_adv_report_in_utc_time`` are checked and change nothing.
- Answer: ``data.list[]`` of ``{"dimensions": {...}, "metrics": {...}}`` and ``page_info``
  ``{page, page_size, total_number, total_page}``. ``stat_time_day`` is
  "YYYY-MM-DD 00:00:00"; every metric is text: counts "1200", money and rates "12.34"
  (``ctr`` a percentage), attributes (``currency``, ``ad_name``, ...) as they are.
- The span from ``start_date`` to ``end_date``: with ``stat_time_day`` at most
  ``SandboxConfig.report_daily_span_days`` days (30, the documented limit), else 365 days;
  beyond it 40002 naming ``end_date`` and stating the limit.
- An unknown metric, or one the level does not have (``ad_name`` above ad level), or one in
  ``SandboxConfig.report_unavailable_metrics``: 40002 "Please correct the information in
  invalid metric fields and try again. Invalid metric fields: ['x']." (TikTok's words, as an
  integration met them live: ``airbytehq/airbyte`` issue 11375).

Where no source says, the sandbox assumes:

- Only BASIC reports of the auction levels are served (another ``report_type`` is 40002;
  RESERVATION levels and ``service_type`` answer an empty list), and ``stat_time_hour`` is
  refused with 40002. With ``query_lifetime`` true, ``stat_time_day`` is refused (TikTok's
  docs: no time breakdown of lifetime metrics).
- Rows without ``order_field`` come by day, then ID; every day an ad delivers has at least one
  impression, so no row is all zeros.
- ``filtering`` takes ``campaign_ids``, ``adgroup_ids``, ``ad_ids`` (filter_type IN, a JSON
  array of up to 100 IDs in ``filter_value``) and ``buying_type`` (IN: AUCTION,
  RESERVATION_RF, RESERVATION_TOP_VIEW). Without ``buying_type`` TopView ads are left out, as
  ad/get leaves them out. Other field names are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from . import faults
from .api import _AdvertiserCall, _page_info, _paging
from .config import SandboxConfig
from .data import AUCTION, BUYING_TYPES, RESERVATION_RF, Ad
from .delivery import DayDelivery
from .endpoint import ApiRequest, Endpoint
from .errors import NO_PERMISSION, PARAM_ERROR, ApiError, param_error
from .params import Params, id_list

REPORTING, CONSOLIDATED_REPORT = 4, 44
"""The "Reporting" scope and its "Consolidated Report" part (OAS scopes yml)."""
REPORT_TYPES = ("BASIC", "AUDIENCE", "PLAYABLE_MATERIAL", "CATALOG", "BC", "TT_SHOP")
ID_DIMENSIONS = MappingProxyType({
    "AUCTION_AD": "ad_id", "AUCTION_ADGROUP": "adgroup_id",
    "AUCTION_CAMPAIGN": "campaign_id", "AUCTION_ADVERTISER": "advertiser_id",
    "RESERVATION_AD": "ad_id", "RESERVATION_ADGROUP": "adgroup_id",
    "RESERVATION_CAMPAIGN": "campaign_id", "RESERVATION_ADVERTISER": "advertiser_id",
})
DATA_LEVELS = tuple(ID_DIMENSIONS)
DIMENSIONS = ("advertiser_id", "campaign_id", "adgroup_id", "ad_id", "stat_time_day",
              "stat_time_hour")
COUNTS = ("impressions", "clicks", "video_play_actions", "likes", "comments")
RATES = ("ctr", "cpm", "cpc")
ATTRIBUTES = MappingProxyType({
    # the attribute metric -> the levels that have it (bububa metrics.go)
    "currency": DATA_LEVELS, "advertiser_id": DATA_LEVELS, "advertiser_name": DATA_LEVELS,
    "campaign_id": ("AUCTION_AD", "AUCTION_ADGROUP"),
    "campaign_name": ("AUCTION_AD", "AUCTION_ADGROUP", "AUCTION_CAMPAIGN"),
    "adgroup_id": ("AUCTION_AD",),
    "adgroup_name": ("AUCTION_AD", "AUCTION_ADGROUP"),
    "ad_name": ("AUCTION_AD",),
})
DEFAULT_METRICS = ("spend", "impressions")
MAX_SPAN_DAYS = 365
ID_FILTERS = MappingProxyType({"campaign_ids": "campaign_id", "adgroup_ids": "adgroup_id",
                               "ad_ids": "ad_id"})


def _invalid_metrics(names: Sequence[str]) -> ApiError:
    listed = ", ".join(repr(name) for name in names)
    return ApiError(PARAM_ERROR, "Please correct the information in invalid metric fields and "
                                 f"try again. Invalid metric fields: [{listed}].")


def _dimensions(params: Params, data_level: str) -> tuple[str, bool]:
    """The ID dimension (the level's) and whether ``stat_time_day`` breaks it down by day."""
    dimensions = params.string_list("dimensions", required=True, max_items=4)
    assert dimensions is not None
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown:
        raise param_error("dimensions", f"Unknown dimension {unknown[0]!r}.")
    if "stat_time_hour" in dimensions:
        raise param_error("dimensions", "stat_time_hour is not served by the sandbox; use "
                                        "stat_time_day.")
    wanted = ID_DIMENSIONS[data_level]
    ids = [d for d in dimensions if d != "stat_time_day"]
    if ids != [wanted]:
        raise param_error("dimensions", f"With data_level {data_level} the dimensions must be "
                                        f"{wanted!r}, optionally with 'stat_time_day'.")
    return wanted, "stat_time_day" in dimensions


def _metrics(params: Params, data_level: str, config: SandboxConfig) -> list[str]:
    metrics = params.string_list("metrics", max_items=200) or list(DEFAULT_METRICS)
    invalid = [m for m in metrics
               if (m not in ("spend", *COUNTS, *RATES, *ATTRIBUTES)
                   or (m in ATTRIBUTES and data_level not in ATTRIBUTES[m])
                   or m in config.report_unavailable_metrics)]
    if invalid:
        raise _invalid_metrics(invalid)
    return list(dict.fromkeys(metrics))


def _filtering(params: Params) -> Callable[[Ad], bool]:
    """What ``filtering`` keeps (see the module docstring)."""
    value = params.string("filtering")
    if value is None:
        conditions: list[Any] = []
    else:
        try:
            conditions = json.loads(value)
        except json.JSONDecodeError:
            raise param_error("filtering", "Not a valid JSON list.") from None
    if isinstance(conditions, Mapping):
        conditions = [conditions]
    if not isinstance(conditions, list):
        raise param_error("filtering", "Not a valid JSON list.")
    chosen: dict[str, set[str]] = {}
    buying = {AUCTION, RESERVATION_RF}
    for condition in conditions:
        if not isinstance(condition, Mapping) or not all(
                isinstance(condition.get(k), str) and condition.get(k)
                for k in ("field_name", "filter_type", "filter_value")):
            raise param_error("filtering", "Each condition needs field_name, filter_type and "
                                           "filter_value.")
        name = condition["field_name"]
        if name not in (*ID_FILTERS, "buying_type"):
            continue
        if condition["filter_type"] != "IN":
            raise param_error("filtering", f"{name} takes filter_type IN.")
        try:
            values = json.loads(condition["filter_value"])
        except json.JSONDecodeError:
            raise param_error("filtering", f"{name}: filter_value must be a JSON array.") from None
        values = id_list(f"filtering.{name}", values)
        if name == "buying_type":
            if not values or any(v not in BUYING_TYPES for v in values):
                raise param_error("filtering",
                                  f"buying_type must be in: {', '.join(BUYING_TYPES)}.")
            buying = set(values)
        else:
            chosen[ID_FILTERS[name]] = set(values)

    def keep(ad: Ad) -> bool:
        ids = {"ad_id": ad.ad_id, "adgroup_id": ad.adgroup.adgroup_id,
               "campaign_id": ad.adgroup.campaign.campaign_id}
        return (ad.adgroup.buying_type in buying
                and all(ids[field] in values for field, values in chosen.items()))

    return keep


def _names(ads: Sequence[Ad], advertiser_name: str) -> dict[str, dict[str, str]]:
    """Each ID's attribute metrics: ad, ad group and campaign names and parents."""
    names: dict[str, dict[str, str]] = {}
    for ad in ads:
        group, campaign = ad.adgroup, ad.adgroup.campaign
        common = {"advertiser_id": ad.advertiser_id, "advertiser_name": advertiser_name}
        names[ad.ad_id] = {**common, "ad_name": ad.ad_name, "adgroup_id": group.adgroup_id,
                           "adgroup_name": group.adgroup_name,
                           "campaign_id": campaign.campaign_id,
                           "campaign_name": campaign.campaign_name}
        names[group.adgroup_id] = {**common, "adgroup_name": group.adgroup_name,
                                   "campaign_id": campaign.campaign_id,
                                   "campaign_name": campaign.campaign_name}
        names[campaign.campaign_id] = {**common, "campaign_name": campaign.campaign_name}
        names[ad.advertiser_id] = common
    return names


def _metric_values(days: Sequence[DayDelivery], metrics: Sequence[str],
                   attributes: Mapping[str, str]) -> dict[str, str]:
    """The metrics of a group of ad days, as TikTok writes them: text."""
    sums = {name: sum(getattr(d, name) for d in days) for name in COUNTS}
    spend = round(sum(d.spend for d in days), 2)
    rates = {
        "ctr": 100.0 * sums["clicks"] / sums["impressions"] if sums["impressions"] else 0.0,
        "cpm": 1000.0 * spend / sums["impressions"] if sums["impressions"] else 0.0,
        "cpc": spend / sums["clicks"] if sums["clicks"] else 0.0,
    }
    values = {}
    for name in metrics:
        if name == "spend":
            values[name] = f"{spend:.2f}"
        elif name in sums:
            values[name] = str(sums[name])
        elif name in rates:
            values[name] = f"{rates[name]:.2f}"
        elif name == "currency":
            values[name] = days[0].currency
        else:
            values[name] = attributes.get(name, "")
    return values


def report_integrated_get(request: ApiRequest) -> dict[str, Any]:
    call = _AdvertiserCall.open(request)
    params, config = call.params, request.config
    report_type = params.enum("report_type", REPORT_TYPES, required=True)
    if report_type != "BASIC":
        raise param_error("report_type", "The sandbox serves BASIC reports only.")
    service_type = params.enum("service_type", ("AUCTION", "RESERVATION"), default="AUCTION")
    data_level = params.enum("data_level", DATA_LEVELS, required=True)
    assert data_level is not None
    id_dimension, by_day = _dimensions(params, data_level)
    metrics = _metrics(params, data_level, config)
    lifetime = params.boolean("query_lifetime", default=False)
    first = last = None
    if lifetime:
        if by_day:
            raise param_error("dimensions", "stat_time_day cannot be used with query_lifetime.")
    else:
        first, last = params.date("start_date"), params.date("end_date")
        if last < first:
            raise param_error("end_date", "Must not be earlier than start_date.")
        limit = config.report_daily_span_days if by_day else MAX_SPAN_DAYS
        if limit is not None and (last - first).days + 1 > limit:
            raise param_error("end_date", "The time span from start_date to end_date must not "
                                          f"exceed {limit} days"
                                          + (" when dimensions include stat_time_day."
                                             if by_day else "."))
    order_field = params.enum("order_field", [m for m in metrics if m not in ATTRIBUTES])
    order_type = params.enum("order_type", ("ASC", "DESC"), default="DESC")
    keep = _filtering(params)
    params.enum("query_mode", ("REGULAR", "CHUNK"), default="REGULAR")
    params.boolean("enable_total_metrics")
    params.boolean("multi_adv_report_in_utc_time")
    page, page_size = _paging(params, config.report_page_size_max)
    state = call.state()
    if not {REPORTING, CONSOLIDATED_REPORT} & set(call.grant.scope):
        raise ApiError(NO_PERMISSION, "No permission to operate: the access token lacks the "
                                      f"Reporting permission ({REPORTING}); authorize the app "
                                      "again and grant it.")
    book = state.delivery

    def build() -> list[dict[str, Any]]:
        if service_type == "RESERVATION" or data_level.startswith("RESERVATION"):
            groups: dict[tuple[str, str], list[DayDelivery]] = {}
            names: dict[str, dict[str, str]] = {}
        else:
            ads = [ad for ad in book.ads(call.advertiser_id) if keep(ad)]
            advertiser = state.advertiser(call.advertiser_id)
            names = _names(ads, advertiser.name if advertiser else "")
            groups = {}
            for day in book.rows(call.advertiser_id, first, last, ads):
                when = f"{day.day.isoformat()} 00:00:00" if by_day else ""
                groups.setdefault((when, getattr(day, id_dimension)), []).append(day)
        rows = []
        for (when, object_id), days in groups.items():
            dimensions = {id_dimension: object_id}
            if by_day:
                dimensions["stat_time_day"] = when
            rows.append({"dimensions": dimensions,
                         "metrics": _metric_values(days, metrics, names.get(object_id, {}))})
        rows.sort(key=lambda r: (r["dimensions"].get("stat_time_day", ""),
                                 r["dimensions"][id_dimension]))
        if order_field:
            rows.sort(key=lambda r: float(r["metrics"][order_field]),
                      reverse=order_type == "DESC")
        return rows

    # everything that shapes the report but the page (today: an enabled ad delivers up to it)
    rows = book.report((call.advertiser_id, book.today(call.advertiser_id), service_type,
                        data_level, id_dimension, by_day, tuple(metrics), lifetime, first, last,
                        params.string("filtering"), order_field, order_type), build)
    chosen = rows[(page - 1) * page_size: page * page_size]
    return {"list": chosen, "page_info": _page_info(page, page_size, len(rows))}


ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({
    "report/integrated/get/": Endpoint("GET", report_integrated_get, faults.READ_KINDS),
})

