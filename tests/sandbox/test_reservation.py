"""Reserved buys (Reach & Frequency, TopView): how ad/get and adgroup/get list them by
``filtering.buying_types``, and why comment/status/update wants ``ad_type`` BRAND for their
comments."""

from __future__ import annotations

import business_api_client
import pytest
from business_api_client.models import StatusUpdateBody

from tiktok_sandbox import start_sandbox

from .conftest import Api, small_config, writable_advertiser

TOP_VIEW = ["RESERVATION_TOP_VIEW"]


@pytest.fixture
def reserved(clock):
    """Two reserved ad groups per advertiser: the first Reach & Frequency, the second TopView."""
    with start_sandbox(small_config(clock, reservation_adgroups=2)) as running:
        yield running


@pytest.fixture
def reserved_api(reserved):
    return Api(reserved.base_url, reserved.issue_token())


@pytest.fixture
def reserved_truth(reserved):
    return reserved.ground_truth()


def ad_ids(api, advertiser_id, endpoint="ad/get/", key="ad_id", **filtering):
    params = {"advertiser_id": advertiser_id, "page_size": 1000}
    if filtering:
        params["filtering"] = filtering
    answer = api.get(endpoint, **params)
    assert answer["code"] == 0, answer
    return {row[key] for row in answer["data"]["list"]}


def by_buying_type(truth, advertiser_id):
    found: dict[str, set[str]] = {}
    for ad in truth["ads"]:
        if ad["advertiser_id"] == advertiser_id:
            found.setdefault(ad["buying_type"], set()).add(ad["ad_id"])
    return found


def test_by_default_the_world_bought_everything_in_the_auction(truth):
    assert {ad["buying_type"] for ad in truth["ads"]} == {"AUCTION"}


def test_each_advertiser_has_its_reserved_ad_groups(reserved_truth):
    for advertiser in reserved_truth["advertisers"]:
        kinds = by_buying_type(reserved_truth, advertiser["advertiser_id"])
        assert set(kinds) == {"AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW"}


def test_reserving_changes_nothing_else_in_the_world(truth, reserved_truth):
    for section in ("advertisers", "campaigns", "adgroups", "comments"):
        assert reserved_truth[section] == truth[section], section
    strip = [{k: v for k, v in ad.items() if k != "buying_type"} for ad in reserved_truth["ads"]]
    assert strip == [{k: v for k, v in ad.items() if k != "buying_type"} for ad in truth["ads"]]


def test_ad_get_lists_auction_and_reach_and_frequency_ads_unless_asked_for_topview(
        reserved_api, reserved_truth):
    advertiser_id = reserved_truth["advertisers"][0]["advertiser_id"]
    kinds = by_buying_type(reserved_truth, advertiser_id)
    assert ad_ids(reserved_api, advertiser_id) == kinds["AUCTION"] | kinds["RESERVATION_RF"]
    for kind in kinds:
        assert ad_ids(reserved_api, advertiser_id, buying_types=[kind]) == kinds[kind]
    both = ad_ids(reserved_api, advertiser_id, buying_types=["AUCTION", "RESERVATION_RF"])
    assert both == kinds["AUCTION"] | kinds["RESERVATION_RF"]


def test_adgroup_get_filters_by_buying_type_too(reserved_api, reserved_truth):
    advertiser_id = reserved_truth["advertisers"][0]["advertiser_id"]
    top_view = {ad["adgroup_id"] for ad in reserved_truth["ads"]
                if ad["advertiser_id"] == advertiser_id
                and ad["buying_type"] == "RESERVATION_TOP_VIEW"}
    listed = ad_ids(reserved_api, advertiser_id, "adgroup/get/", "adgroup_id",
                    buying_types=TOP_VIEW)
    assert listed == top_view and len(top_view) == 1


@pytest.mark.parametrize(("buying_types", "says"), [
    (["RESERVATION_TOP_VIEW", "AUCTION"], "cannot be used with other values"),
    (["RESERVED"], "Must be one of"),
    ("AUCTION", "Not a valid list"),
    ([], "Not a valid list"),
])
def test_ad_get_checks_buying_types(reserved_api, reserved_truth, buying_types, says):
    advertiser_id = reserved_truth["advertisers"][0]["advertiser_id"]
    answer = reserved_api.get("ad/get/", advertiser_id=advertiser_id,
                              filtering={"buying_types": buying_types})
    assert answer["code"] == 40002
    assert answer["message"].startswith("filtering.buying_types:")
    assert says in answer["message"]


def comment_on(truth, advertiser_id, buying_type):
    ads = {ad["ad_id"]: ad for ad in truth["ads"]}
    return next(c for c in truth["comments"] if c["advertiser_id"] == advertiser_id
                and c["comment_status"] == "PUBLIC" and c["comment_type"] == "COMMENT"
                and ads[c["ad_id"]]["buying_type"] == buying_type)


def status_of(sandbox, comment_id):
    return next(c["comment_status"] for c in sandbox.ground_truth()["comments"]
                if c["comment_id"] == comment_id)


@pytest.mark.parametrize("buying_type", ["RESERVATION_RF", "RESERVATION_TOP_VIEW"])
def test_comments_on_reserved_ads_are_hidden_only_as_brand(reserved, reserved_api,
                                                           reserved_truth, buying_type):
    advertiser_id = writable_advertiser(reserved_truth)["advertiser_id"]
    comment = comment_on(reserved_truth, advertiser_id, buying_type)
    body = {"advertiser_id": advertiser_id, "comment_ids": [comment["comment_id"]],
            "operation": "HIDDEN"}
    for refused in ({}, {"ad_type": "BIDDING"}):
        answer = reserved_api.post("comment/status/update/", {**body, **refused})
        assert answer["code"] == 40002
        assert answer["message"].startswith("ad_type:")
        assert status_of(reserved, comment["comment_id"]) == "PUBLIC"
    answer = reserved_api.post("comment/status/update/", {**body, "ad_type": "BRAND"})
    assert answer["data"] == {}
    assert status_of(reserved, comment["comment_id"]) == "HIDDEN"


def test_a_batch_mixing_brand_and_bidding_comments_is_refused_whole(reserved, reserved_api,
                                                                  reserved_truth):
    advertiser_id = writable_advertiser(reserved_truth)["advertiser_id"]
    auction = comment_on(reserved_truth, advertiser_id, "AUCTION")
    brand = comment_on(reserved_truth, advertiser_id, "RESERVATION_RF")
    for ad_type in ("BIDDING", "BRAND"):
        answer = reserved_api.post("comment/status/update/", {
            "advertiser_id": advertiser_id, "operation": "HIDDEN", "ad_type": ad_type,
            "comment_ids": [auction["comment_id"], brand["comment_id"]]})
        assert answer["code"] == 40002
    assert status_of(reserved, auction["comment_id"]) == "PUBLIC"
    assert status_of(reserved, brand["comment_id"]) == "PUBLIC"


def test_the_official_sdk_hides_a_comment_on_a_reserved_ad(reserved, reserved_truth):
    """TikTok's SDK sends ``ad_type`` in StatusUpdateBody (BIDDING by default); it raises
    on an error code and returns the envelope's data otherwise."""
    advertiser_id = writable_advertiser(reserved_truth)["advertiser_id"]
    comment = comment_on(reserved_truth, advertiser_id, "RESERVATION_TOP_VIEW")
    configuration = business_api_client.Configuration()
    configuration.host = reserved.base_url
    comments = business_api_client.CommentsApi(business_api_client.ApiClient(configuration))
    answer = comments.comment_status_update(reserved.issue_token(), body=StatusUpdateBody(
        advertiser_id=advertiser_id, comment_ids=[comment["comment_id"]], operation="HIDDEN",
        ad_type="BRAND"))
    assert answer["data"] == {}
    assert status_of(reserved, comment["comment_id"]) == "HIDDEN"
