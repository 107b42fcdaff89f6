"""Parameter checks and token checks answer as TikTok does: HTTP 200, a code, a clear message."""

from __future__ import annotations

import pytest
import requests

from .conftest import API, TODAY, busiest_adgroup, writable_advertiser


@pytest.fixture
def listing(truth):
    """Valid comment/list parameters for a writable advertiser's busiest ad group."""
    advertiser_id = writable_advertiser(truth)["advertiser_id"]
    return {
        "advertiser_id": advertiser_id,
        "search_field": "ADGROUP_ID",
        "search_value": busiest_adgroup(truth, advertiser_id),
        "start_time": "2025-09-10",
        "end_time": TODAY,
    }


def test_valid_listing_is_answered_with_code_zero(api, listing):
    answer = api.get("comment/list/", **listing)
    assert answer["code"] == 0
    assert answer["message"] == "OK"
    assert answer["request_id"]
    assert set(answer["data"]) == {"comments", "page_info"}


@pytest.mark.parametrize("missing", ["advertiser_id", "search_field", "search_value",
                                     "start_time", "end_time"])
def test_listing_without_a_required_parameter_names_it(api, listing, missing):
    del listing[missing]
    answer = api.get("comment/list/", **listing)
    assert answer["code"] == 40002
    assert answer["message"].startswith(f"{missing}:")
    assert answer["data"] == {}


def test_search_field_must_be_adgroup_id(api, listing):
    answer = api.get("comment/list/", **{**listing, "search_field": "AD_ID"})
    assert answer["code"] == 40002
    assert "search_field" in answer["message"]


@pytest.mark.parametrize("bad", ["2025/10/01", "2025-10-01 00:00:00", "20251001", "2025-13-01",
                                 "yesterday"])
def test_dates_must_be_year_month_day(api, listing, bad):
    answer = api.get("comment/list/", **{**listing, "start_time": bad})
    assert answer["code"] == 40002
    assert "start_time" in answer["message"]


def test_end_time_before_start_time_is_refused(api, listing):
    answer = api.get("comment/list/", **{**listing, "start_time": TODAY, "end_time": "2025-10-01"})
    assert answer["code"] == 40002
    assert "end_time" in answer["message"]


@pytest.mark.parametrize(("name", "value"), [("page_size", 101), ("page_size", 0),
                                             ("page", 0), ("page", "two")])
def test_listing_paging_limits(api, listing, name, value):
    answer = api.get("comment/list/", **{**listing, name: value})
    assert answer["code"] == 40002
    assert answer["message"].startswith(f"{name}:")


def test_page_size_of_one_hundred_is_the_maximum_for_comments(api, listing):
    assert api.get("comment/list/", **{**listing, "page_size": 100})["code"] == 0


@pytest.mark.parametrize(("name", "value"), [("comment_type", ["EVERYTHING"]),
                                             ("comment_status", ["DELETED"]),
                                             ("sort_field", "DATE"), ("sort_type", "UP")])
def test_listing_enums_are_checked(api, listing, name, value):
    answer = api.get("comment/list/", **{**listing, name: value})
    assert answer["code"] == 40002
    assert answer["message"].startswith(f"{name}:")


def test_ad_listing_filtering_must_be_a_json_object(api, truth):
    advertiser_id = truth["advertisers"][0]["advertiser_id"]
    answer = api.get("ad/get/", advertiser_id=advertiser_id, filtering="ad_ids=1")
    assert answer["code"] == 40002
    assert "filtering" in answer["message"]


def test_comment_reference_allows_up_to_one_hundred_per_page(api, truth):
    comment = next(c for c in truth["comments"] if c["comment_type"] == "COMMENT")
    params = {"advertiser_id": comment["advertiser_id"], "comment_id": comment["comment_id"],
              "comment_type": "COMMENT"}
    assert api.get("comment/reference/", **params, page_size=100)["code"] == 0
    answer = api.get("comment/reference/", **params, page_size=101)
    assert answer["code"] == 40002
    assert "page_size" in answer["message"]


def test_path_without_trailing_slash_is_http_404(sandbox, api):
    response = requests.get(sandbox.base_url + API + "comment/list",
                            headers={"Access-Token": api.token}, timeout=5)
    assert response.status_code == 404


def test_unknown_endpoint_is_40006_no_schema_found(api):
    answer = api.get("comment/reply/")
    assert answer["code"] == 40006
    assert answer["message"] == "no schema found"


def test_wrong_method_is_an_http_error(sandbox, api):
    response = requests.post(sandbox.base_url + API + "comment/list/", json={},
                             headers={"Access-Token": api.token}, timeout=5)
    assert response.status_code == 405


def test_post_body_must_be_json(sandbox, api):
    response = requests.post(sandbox.base_url + API + "comment/post/", data=b"not json",
                             headers={"Access-Token": api.token,
                                      "Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 200
    assert response.json()["code"] == 40002


def test_missing_token_is_40104(api, listing):
    answer = api.get("comment/list/", token=None, **listing)
    assert answer["code"] == 40104


def test_missing_token_is_reported_before_parameter_errors(api):
    assert api.get("comment/list/", token=None)["code"] == 40104


def test_unknown_token_is_40105(api, listing):
    answer = api.get("comment/list/", token="not-a-token", **listing)
    assert answer["code"] == 40105


def test_revoked_token_is_40105(sandbox, api, listing):
    assert api.get("comment/list/", **listing)["code"] == 0
    assert sandbox.revoke_token(api.token) is True
    assert api.get("comment/list/", **listing)["code"] == 40105


def test_token_of_another_advertiser_is_40106(sandbox, api, truth, listing):
    others = [a["advertiser_id"] for a in truth["advertisers"]
              if a["advertiser_id"] != listing["advertiser_id"]]
    token = sandbox.issue_token(others)
    answer = api.get("comment/list/", token=token, **listing)
    assert answer["code"] == 40106
    assert listing["advertiser_id"] in answer["message"]
