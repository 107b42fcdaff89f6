"""Upgraded Smart+ ads: listed by smart_plus/ad/get/ and not by ad/get/, their comments
refused by comment/list, and a world otherwise the same as without them."""

from __future__ import annotations

from collections import Counter

import pytest

from tiktok_sandbox import ManualClock, start_sandbox

from .conftest import START, TODAY, Api, small_config

UNSUPPORTED = "This API does not support Upgraded Smart Plus ads"


@pytest.fixture
def smart(clock):
    """A sandbox with six Upgraded Smart+ ads: two for each advertiser."""
    with start_sandbox(small_config(clock, smart_plus_ads=6)) as running:
        yield running


@pytest.fixture
def smart_api(smart):
    return Api(smart.base_url, smart.issue_token())


@pytest.fixture
def smart_truth(smart):
    return smart.ground_truth()


def first_smart_ad(truth):
    return truth["smart_plus_ads"][0]


def list_comments(api, advertiser_id, adgroup_id):
    return api.get("comment/list/", advertiser_id=advertiser_id, search_field="ADGROUP_ID",
                   search_value=adgroup_id, start_time="2025-01-01", end_time=TODAY)


def test_the_default_world_has_no_smart_plus_ads(api, truth):
    advertiser_id = truth["advertisers"][0]["advertiser_id"]
    answer = api.get("smart_plus/ad/get/", advertiser_id=advertiser_id)
    assert answer["code"] == 0
    assert answer["data"] == {"list": [], "page_info": {"page": 1, "page_size": 10,
                                                        "total_number": 0, "total_page": 0}}
    assert truth["smart_plus_ads"] == [] and truth["smart_plus_comments"] == []


def test_smart_plus_ads_leave_the_rest_of_the_world_unchanged(truth, smart_truth):
    for section in ("advertisers", "identities", "campaigns", "adgroups", "ads", "comments",
                    "comment_count"):
        assert smart_truth[section] == truth[section], section


def test_each_smart_plus_ad_has_its_own_ad_group_and_comments(smart_truth):
    ads = smart_truth["smart_plus_ads"]
    assert len(ads) == 6
    assert Counter(a["advertiser_id"] for a in ads) == Counter(
        {a["advertiser_id"]: 2 for a in smart_truth["advertisers"]})
    assert len({a["adgroup_id"] for a in ads}) == 6
    regular_groups = {g["adgroup_id"] for g in smart_truth["adgroups"]}
    assert not regular_groups & {a["adgroup_id"] for a in ads}
    per_ad = Counter(c["ad_id"] for c in smart_truth["smart_plus_comments"])
    assert {a["smart_plus_ad_id"]: a["comment_count"] for a in ads} == per_ad
    assert all(count >= 12 for count in per_ad.values())
    regular_ids = {c["comment_id"] for c in smart_truth["comments"]}
    assert not regular_ids & {c["comment_id"] for c in smart_truth["smart_plus_comments"]}


def test_ad_get_does_not_list_smart_plus_ads(smart_api, smart_truth):
    ad = first_smart_ad(smart_truth)
    listed = smart_api.get("ad/get/", advertiser_id=ad["advertiser_id"],
                           page_size=1000)["data"]["list"]
    assert ad["smart_plus_ad_id"] not in {row["ad_id"] for row in listed}
    assert {row["ad_id"] for row in listed} == {
        a["ad_id"] for a in smart_truth["ads"] if a["advertiser_id"] == ad["advertiser_id"]}


def test_smart_plus_ad_get_lists_the_advertisers_smart_plus_ads(smart_api, smart_truth):
    advertiser_id = first_smart_ad(smart_truth)["advertiser_id"]
    answer = smart_api.get("smart_plus/ad/get/", advertiser_id=advertiser_id)
    assert answer["code"] == 0
    rows = answer["data"]["list"]
    expected = [{k: v for k, v in a.items() if k != "comment_count"}
                for a in smart_truth["smart_plus_ads"] if a["advertiser_id"] == advertiser_id]
    assert rows == expected
    assert answer["data"]["page_info"] == {"page": 1, "page_size": 10, "total_number": 2,
                                           "total_page": 1}


def test_a_smart_plus_ad_row_has_the_sdks_shape(smart_truth):
    row = first_smart_ad(smart_truth)
    assert "ad_id" not in row and row["smart_plus_ad_id"]
    [creative] = row["creative_list"]
    info = creative["creative_info"]
    assert set(info) == {"ad_format", "identity_id", "identity_type", "tiktok_item_id",
                         "video_info"}
    assert info["video_info"]["video_id"].startswith("v10033g50000")
    identities = {i["identity_id"]: i for i in smart_truth["identities"]}
    assert identities[info["identity_id"]]["advertiser_id"] == row["advertiser_id"]
    assert row["ad_text_list"][0]["ad_text"]
    assert row["call_to_action_list"][0]["call_to_action"]
    assert row["landing_page_url_list"][0]["landing_page_url"].startswith("https://")


def test_smart_plus_ad_get_pages_filters_and_picks_fields(smart_api, smart_truth):
    ad = first_smart_ad(smart_truth)
    advertiser_id = ad["advertiser_id"]
    pages = [smart_api.get("smart_plus/ad/get/", advertiser_id=advertiser_id, page=page,
                           page_size=1)["data"] for page in (1, 2)]
    assert [p["page_info"]["total_page"] for p in pages] == [2, 2]
    assert len({p["list"][0]["smart_plus_ad_id"] for p in pages}) == 2
    for filtering in ({"smart_plus_ad_ids": [ad["smart_plus_ad_id"]]},
                      {"adgroup_ids": [ad["adgroup_id"]]},
                      {"campaign_ids": [ad["campaign_id"]], "optimization_goal": "CONVERT"}):
        rows = smart_api.get("smart_plus/ad/get/", advertiser_id=advertiser_id,
                             filtering=filtering, fields=["smart_plus_ad_id", "adgroup_id"]
                             )["data"]["list"]
        assert ad["smart_plus_ad_id"] in {r["smart_plus_ad_id"] for r in rows}
        assert all(set(r) == {"smart_plus_ad_id", "adgroup_id"} for r in rows)
    other_goal = smart_api.get("smart_plus/ad/get/", advertiser_id=advertiser_id,
                               filtering={"optimization_goal": "REACH"})["data"]["list"]
    assert other_goal == []


@pytest.mark.parametrize(("params", "named"), [
    ({}, "advertiser_id"),
    ({"fields": ["ad_id"]}, "fields"),
    ({"filtering": "ad_ids"}, "filtering"),
    ({"page_size": 0}, "page_size"),
    ({"filtering": {"smart_plus_ad_ids": "1"}}, "filtering.smart_plus_ad_ids"),
])
def test_smart_plus_ad_get_checks_its_parameters(smart_api, smart_truth, params, named):
    if named != "advertiser_id":
        params = {"advertiser_id": first_smart_ad(smart_truth)["advertiser_id"], **params}
    answer = smart_api.get("smart_plus/ad/get/", **params)
    assert answer["code"] == 40002
    assert answer["message"].startswith(f"{named}:")


def test_smart_plus_ad_get_needs_a_token_for_the_advertiser(smart, smart_api, smart_truth):
    advertiser_id = first_smart_ad(smart_truth)["advertiser_id"]
    assert smart_api.get("smart_plus/ad/get/", token=None,
                         advertiser_id=advertiser_id)["code"] == 40104
    other = Api(smart.base_url, smart.issue_token([smart_truth["advertisers"][1]
                                                   ["advertiser_id"]]))
    assert other.get("smart_plus/ad/get/", advertiser_id=advertiser_id)["code"] == 40106


def test_comment_list_refuses_a_smart_plus_ad_group(smart_api, smart_truth):
    ad = first_smart_ad(smart_truth)
    answer = list_comments(smart_api, ad["advertiser_id"], ad["adgroup_id"])
    assert (answer["code"], answer["message"], answer["data"]) == (40002, UNSUPPORTED, {})


def test_comment_list_still_lists_the_advertisers_other_ad_groups(smart_api, smart_truth):
    ad = first_smart_ad(smart_truth)
    group = next(g["adgroup_id"] for g in smart_truth["adgroups"]
                 if g["advertiser_id"] == ad["advertiser_id"])
    assert list_comments(smart_api, ad["advertiser_id"], group)["code"] == 0


def test_another_advertisers_smart_plus_ad_group_lists_nothing(smart_api, smart_truth):
    ad = first_smart_ad(smart_truth)
    other = next(a["advertiser_id"] for a in smart_truth["advertisers"]
                 if a["advertiser_id"] != ad["advertiser_id"])
    answer = list_comments(smart_api, other, ad["adgroup_id"])
    assert answer["code"] == 0 and answer["data"]["comments"] == []


def test_comment_list_can_time_out_on_every_try_instead():
    with start_sandbox(small_config(ManualClock(START), smart_plus_ads=1,
                                    smart_plus_refusal="51010")) as sandbox:
        api = Api(sandbox.base_url, sandbox.issue_token())
        ad = first_smart_ad(sandbox.ground_truth())
        answers = [list_comments(api, ad["advertiser_id"], ad["adgroup_id"]) for _ in range(3)]
    assert [(a["code"], a["message"]) for a in answers] == [(51010, "internal timeout")] * 3


def test_ground_truth_narrowed_to_an_ad_group_keeps_its_smart_plus_part(smart, smart_truth):
    ad = first_smart_ad(smart_truth)
    narrowed = smart.ground_truth(adgroup_id=ad["adgroup_id"])
    assert [a["smart_plus_ad_id"] for a in narrowed["smart_plus_ads"]] == [
        ad["smart_plus_ad_id"]]
    assert {c["ad_id"] for c in narrowed["smart_plus_comments"]} == {ad["smart_plus_ad_id"]}


def test_the_official_sdk_lists_smart_plus_ads(smart, smart_truth):
    """TikTok's SDK (AdApi.smart_plus_ad_get) encodes ``filtering`` as JSON and ``fields``
    as repeated parameters; the sandbox reads both."""
    business_api_client = pytest.importorskip("business_api_client")
    from business_api_client.models import FilteringSmartPlusAdGet

    configuration = business_api_client.Configuration()
    configuration.host = smart.base_url
    ad_api = business_api_client.AdApi(business_api_client.ApiClient(configuration))
    ad = first_smart_ad(smart_truth)
    answer = ad_api.smart_plus_ad_get(
        ad["advertiser_id"], smart.issue_token(),
        filtering=FilteringSmartPlusAdGet(adgroup_ids=[ad["adgroup_id"]]),
        fields=["smart_plus_ad_id", "adgroup_id", "creative_list"], page=1, page_size=100)
    assert answer["data"]["list"] == [{"smart_plus_ad_id": ad["smart_plus_ad_id"],
                                       "adgroup_id": ad["adgroup_id"],
                                       "creative_list": ad["creative_list"]}]
    assert answer["data"]["page_info"]["total_number"] == 1
