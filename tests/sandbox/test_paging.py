"""Listing comments and ads: page info, completeness against the ground truth, ordering,
and both encodings of list parameters."""

from __future__ import annotations

import calendar
import json
import time

import pytest

from .conftest import TODAY, busiest_adgroup, writable_advertiser

START_DAY = "2025-09-10"


def day_bounds(start: str, end: str) -> tuple[int, int]:
    """[first second of start, first second after end) in UTC."""
    low = calendar.timegm(time.strptime(start, "%Y-%m-%d"))
    return low, calendar.timegm(time.strptime(end, "%Y-%m-%d")) + 86_400


@pytest.fixture
def target(truth):
    advertiser_id = writable_advertiser(truth)["advertiser_id"]
    return advertiser_id, busiest_adgroup(truth, advertiser_id)


def expected_ids(truth, adgroup_id, start=START_DAY, end=TODAY):
    low, high = day_bounds(start, end)
    return {c["comment_id"] for c in truth["comments"]
            if c["adgroup_id"] == adgroup_id and low <= c["create_ts"] < high}


def list_all(api, advertiser_id, adgroup_id, page_size, **extra):
    pages = []
    page = 1
    while True:
        answer = api.get("comment/list/", advertiser_id=advertiser_id, search_field="ADGROUP_ID",
                         search_value=adgroup_id, start_time=START_DAY, end_time=TODAY,
                         page=page, page_size=page_size, **extra)
        assert answer["code"] == 0, answer
        pages.append(answer["data"])
        if page >= answer["data"]["page_info"]["total_page"]:
            return pages
        page += 1


def test_page_info_counts_pages_and_the_last_page_holds_the_rest(api, truth, target):
    advertiser_id, adgroup_id = target
    expected = expected_ids(truth, adgroup_id)
    assert len(expected) > 30, "the busiest ad group should span several pages"
    pages = list_all(api, advertiser_id, adgroup_id, page_size=30)
    info = pages[-1]["page_info"]
    assert info["total_number"] == len(expected)
    assert info["total_page"] == -(-len(expected) // 30)
    assert info["page_size"] == 30
    assert info["page"] == len(pages)
    assert len(pages[-1]["comments"]) == len(expected) - 30 * (len(pages) - 1)


def test_union_of_pages_equals_the_ground_truth_for_that_ad_group_and_window(api, truth, target):
    advertiser_id, adgroup_id = target
    pages = list_all(api, advertiser_id, adgroup_id, page_size=17)
    listed = [c["comment_id"] for page in pages for c in page["comments"]]
    assert len(listed) == len(set(listed))
    assert set(listed) == expected_ids(truth, adgroup_id)


def test_a_page_past_the_end_is_empty(api, target):
    advertiser_id, adgroup_id = target
    answer = api.get("comment/list/", advertiser_id=advertiser_id, search_field="ADGROUP_ID",
                     search_value=adgroup_id, start_time=START_DAY, end_time=TODAY, page=999)
    assert answer["code"] == 0
    assert answer["data"]["comments"] == []


def test_end_day_is_included_and_days_are_utc(api, truth, target):
    advertiser_id, adgroup_id = target
    day = "2025-10-05"
    answer = api.get("comment/list/", advertiser_id=advertiser_id, search_field="ADGROUP_ID",
                     search_value=adgroup_id, start_time=day, end_time=day, page_size=100)
    listed = {c["comment_id"] for c in answer["data"]["comments"]}
    assert listed == expected_ids(truth, adgroup_id, day, day)
    assert all(c["create_time"].startswith(day) for c in answer["data"]["comments"])


def test_default_order_is_newest_first(api, target):
    advertiser_id, adgroup_id = target
    comments = list_all(api, advertiser_id, adgroup_id, page_size=100)[0]["comments"]
    keys = [(c["create_time"], c["comment_id"]) for c in comments]
    assert keys == sorted(keys, reverse=True)


def test_ascending_paging_is_stable_while_new_comments_arrive(sandbox, api, truth, target):
    advertiser_id, adgroup_id = target
    params = {"advertiser_id": advertiser_id, "search_field": "ADGROUP_ID",
              "search_value": adgroup_id, "start_time": START_DAY, "end_time": TODAY,
              "sort_type": "ASC", "page_size": 20}
    first = api.get("comment/list/", page=1, **params)["data"]["comments"]
    added = sandbox.add_comments(25, advertiser_id)
    listed = [c["comment_id"] for c in first]
    page = 2
    while True:
        data = api.get("comment/list/", page=page, **params)["data"]
        listed += [c["comment_id"] for c in data["comments"]]
        if page >= data["page_info"]["total_page"]:
            break
        page += 1
    assert len(listed) == len(set(listed)), "no comment may appear twice"
    new_here = [i for i in added if i in set(listed)]
    assert listed == sorted(expected_ids(truth, adgroup_id)) + sorted(new_here)


def test_ties_on_create_time_are_broken_by_comment_id(sandbox, api, target):
    advertiser_id, adgroup_id = target
    sandbox.add_comments(40, advertiser_id)  # all created in the same second
    comments = list_all(api, advertiser_id, adgroup_id, page_size=100,
                        sort_type="ASC")
    rows = [c for page in comments for c in page["comments"]]
    keys = [(c["create_time"], c["comment_id"]) for c in rows]
    assert keys == sorted(keys)


@pytest.mark.parametrize(("field", "key"), [("LIKES", "likes"), ("REPLIES", "replies")])
def test_sorting_by_likes_or_replies(api, target, field, key):
    advertiser_id, adgroup_id = target
    rows = list_all(api, advertiser_id, adgroup_id, page_size=100, sort_field=field)[0]["comments"]
    values = [c[key] for c in rows]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(("json_form", "repeated_form"), [
    (["REPLY"], "REPLY"),
    (["COMMENT", "REPLY"], ["COMMENT", "REPLY"]),
    (["ALL"], "ALL"),
])
def test_comment_type_as_json_or_as_repeated_parameters(api, target, json_form, repeated_form):
    advertiser_id, adgroup_id = target
    url = f"{api.base_url}/open_api/v1.3/comment/list/"
    common = [("advertiser_id", advertiser_id), ("search_field", "ADGROUP_ID"),
              ("search_value", adgroup_id), ("start_time", START_DAY), ("end_time", TODAY),
              ("page_size", 100)]
    repeated = repeated_form if isinstance(repeated_form, list) else [repeated_form]
    as_json = api.session.get(url, params=common + [("comment_type", json.dumps(json_form))],
                              headers={"Access-Token": api.token}, timeout=5).json()
    as_repeated = api.session.get(url, params=common + [("comment_type", v) for v in repeated],
                                  headers={"Access-Token": api.token}, timeout=5).json()
    assert as_json["code"] == as_repeated["code"] == 0
    assert as_json["data"] == as_repeated["data"]


def test_filtering_by_type_and_status(api, truth, target):
    advertiser_id, adgroup_id = target
    low, high = day_bounds(START_DAY, TODAY)
    for comment_type in ("COMMENT", "REPLY"):
        for status in ("PUBLIC", "HIDDEN"):
            pages = list_all(api, advertiser_id, adgroup_id, page_size=100,
                             comment_type=[comment_type], comment_status=[status])
            listed = {c["comment_id"] for p in pages for c in p["comments"]}
            assert listed == {
                c["comment_id"] for c in truth["comments"]
                if c["adgroup_id"] == adgroup_id and low <= c["create_ts"] < high
                and c["comment_type"] == comment_type and c["comment_status"] == status
            }


def test_another_advertisers_ad_group_lists_nothing(api, truth):
    admin = writable_advertiser(truth)["advertiser_id"]
    foreign = next(g["adgroup_id"] for g in truth["adgroups"] if g["advertiser_id"] != admin)
    answer = api.get("comment/list/", advertiser_id=admin, search_field="ADGROUP_ID",
                     search_value=foreign, start_time=START_DAY, end_time=TODAY)
    assert answer["code"] == 0
    assert answer["data"]["comments"] == []
    assert answer["data"]["page_info"]["total_number"] == 0


def test_ad_listing_pages_through_every_ad_of_the_advertiser(api, truth):
    advertiser_id = truth["advertisers"][0]["advertiser_id"]
    expected = {a["ad_id"] for a in truth["ads"] if a["advertiser_id"] == advertiser_id}
    first = api.get("ad/get/", advertiser_id=advertiser_id, page_size=3)["data"]
    assert first["page_info"]["total_number"] == len(expected)
    listed = []
    for page in range(1, first["page_info"]["total_page"] + 1):
        listed += api.get("ad/get/", advertiser_id=advertiser_id, page=page,
                          page_size=3)["data"]["list"]
    assert {a["ad_id"] for a in listed} == expected
    assert all(a["adgroup_id"] and a["identity_id"] and a["tiktok_item_id"] for a in listed)


def test_ad_listing_filters_and_fields(api, truth):
    advertiser_id = truth["advertisers"][0]["advertiser_id"]
    ads = [a for a in truth["ads"] if a["advertiser_id"] == advertiser_id]
    wanted = [ads[0]["ad_id"], ads[1]["ad_id"]]
    answer = api.get("ad/get/", advertiser_id=advertiser_id, filtering={"ad_ids": wanted},
                     fields=["ad_id", "adgroup_id"])
    assert sorted(a["ad_id"] for a in answer["data"]["list"]) == sorted(wanted)
    assert all(set(a) == {"ad_id", "adgroup_id"} for a in answer["data"]["list"])
    by_group = api.get("ad/get/", advertiser_id=advertiser_id,
                       filtering={"adgroup_ids": [ads[0]["adgroup_id"]]})["data"]["list"]
    assert {a["adgroup_id"] for a in by_group} == {ads[0]["adgroup_id"]}
