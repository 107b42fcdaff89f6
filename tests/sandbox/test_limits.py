"""Limits are settings: without one TikTok's documented checks are all, with one the sandbox
refuses what exceeds it as TikTok refuses a parameter out of range (40002, the parameter
named, the limit stated). Their defaults are what a source documents (ad/get's 1,000), else
none. Also comment/reference's two shapes of ``reply_user_info``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tiktok_sandbox import SandboxConfig, start_sandbox

from .conftest import TODAY, Api, busiest_adgroup, small_config, writable_advertiser
from .test_writes import pick_comment, reply_body


@contextmanager
def configured(**overrides) -> Iterator[tuple[Api, dict]]:
    """A small sandbox with ``overrides``: a client for it and its ground truth."""
    with start_sandbox(small_config(**overrides)) as sandbox:
        yield Api(sandbox.base_url, sandbox.issue_token()), sandbox.ground_truth()


def ad_listing(api, truth, page_size, endpoint="ad/get/"):
    advertiser_id = writable_advertiser(truth)["advertiser_id"]
    return api.get(endpoint, advertiser_id=advertiser_id, page_size=page_size)


# ad/get page_size


@pytest.mark.parametrize("endpoint", ["ad/get/", "smart_plus/ad/get/"])
def test_without_ad_page_size_max_any_page_size_is_taken(endpoint):
    with configured(ad_page_size_max=None) as (api, truth):
        answer = ad_listing(api, truth, 5000, endpoint)
    assert answer["code"] == 0
    assert answer["data"]["page_info"]["page_size"] == 5000


@pytest.mark.parametrize("endpoint", ["ad/get/", "smart_plus/ad/get/"])
def test_ad_page_size_max_takes_the_limit_and_refuses_one_more(api, truth, endpoint):
    # 1000 is the default: the 1-1,000 bububa/tiktok-business documents for both endpoints.
    assert ad_listing(api, truth, 1000, endpoint)["code"] == 0
    refused = ad_listing(api, truth, 1001, endpoint)
    assert refused["code"] == 40002
    assert refused["message"] == ("page_size: Must be greater than or equal to 1 and less "
                                  "than or equal to 1000.")
    assert refused["data"] == {}


@pytest.mark.parametrize("endpoint", ["ad/get/", "smart_plus/ad/get/"])
def test_a_smaller_ad_page_size_max_refuses_one_more_stating_it(endpoint):
    with configured(ad_page_size_max=5) as (api, truth):
        assert ad_listing(api, truth, 5, endpoint)["code"] == 0
        refused = ad_listing(api, truth, 6, endpoint)
    assert refused["code"] == 40002
    assert refused["message"].endswith("less than or equal to 5.")


def test_ad_page_size_max_leaves_campaign_and_adgroup_listings_at_1000():
    with configured(ad_page_size_max=5) as (api, truth):
        advertiser_id = writable_advertiser(truth)["advertiser_id"]
        for endpoint in ("campaign/get/", "adgroup/get/"):
            assert api.get(endpoint, advertiser_id=advertiser_id, page_size=1000)["code"] == 0
            assert api.get(endpoint, advertiser_id=advertiser_id,
                           page_size=1001)["code"] == 40002


# comment/list span


def comment_listing(api, truth, start_time):
    advertiser_id = writable_advertiser(truth)["advertiser_id"]
    return api.get("comment/list/", advertiser_id=advertiser_id, search_field="ADGROUP_ID",
                   search_value=busiest_adgroup(truth, advertiser_id), start_time=start_time,
                   end_time=TODAY, page_size=100)


def test_without_comment_window_days_a_year_is_listed_in_one_window(api, truth):
    answer = comment_listing(api, truth, "2024-10-09")
    assert answer["code"] == 0
    assert answer["data"]["page_info"]["total_number"] > 0


def test_comment_window_days_takes_the_span_and_refuses_one_day_more():
    with configured(comment_window_days=30) as (api, truth):
        accepted = comment_listing(api, truth, "2025-09-09")
        refused = comment_listing(api, truth, "2025-09-08")
    assert accepted["code"] == 0
    assert refused["code"] == 40002
    assert refused["message"] == ("end_time: The span from start_time to end_time must not "
                                  "exceed 30 days.")


def test_a_comment_window_of_zero_days_allows_one_day():
    with configured(comment_window_days=0) as (api, truth):
        assert comment_listing(api, truth, TODAY)["code"] == 0
        assert comment_listing(api, truth, "2025-10-08")["code"] == 40002


# comment/post text


def test_without_ad_reply_max_length_a_long_reply_is_posted_whole(api, truth, sandbox):
    text = "Thanks! " * 250
    answer = api.post("comment/post/", reply_body(truth, pick_comment(truth), text))
    assert answer["code"] == 0
    assert answer["data"]["text"] == text
    posted = next(c for c in sandbox.ground_truth()["comments"]
                  if c["comment_id"] == answer["data"]["comment_id"])
    assert posted["content"] == text


def test_ad_reply_max_length_takes_the_limit_and_refuses_one_more():
    with configured(ad_reply_max_length=150) as (api, truth):
        comment = pick_comment(truth)
        assert api.post("comment/post/", reply_body(truth, comment, "x" * 150))["code"] == 0
        refused = api.post("comment/post/", reply_body(truth, comment, "x" * 151))
    assert refused["code"] == 40002
    assert refused["message"] == "text: Length must be between 1 and 150."


# comment/reference reply_user_info


def reference(api, comment):
    return api.get("comment/reference/", advertiser_id=comment["advertiser_id"],
                   comment_id=comment["comment_id"], comment_type="COMMENT",
                   page_size=100)["data"]["comments"]


def test_reply_user_info_is_one_object_by_default(api, truth):
    parent = next(c for c in truth["comments"] if c["replies"] >= 1)
    rows = reference(api, parent)
    assert rows[0]["reply_user_info"] is None
    assert rows[1]["reply_user_info"] == {"user_name": parent["user_name"],
                                          "user_avatar_url": rows[0]["user_avatar_url"]}


def test_reply_user_info_can_be_sent_as_a_list_of_one():
    with configured(reference_reply_user_info="list") as (api, truth):
        parent = next(c for c in truth["comments"] if c["replies"] >= 1)
        rows = reference(api, parent)
    assert rows[0]["reply_user_info"] == []
    assert all(r["reply_user_info"] == [{"user_name": parent["user_name"],
                                         "user_avatar_url": rows[0]["user_avatar_url"]}]
               for r in rows[1:])


# The settings themselves


@pytest.mark.parametrize("overrides", [
    {"ad_page_size_max": 0}, {"comment_window_days": -1}, {"ad_reply_max_length": 0},
    {"reference_reply_user_info": "array"}, {"smart_plus_ads": -1},
    {"smart_plus_refusal": "50000"},
])
def test_out_of_range_settings_are_refused(overrides):
    with pytest.raises(ValueError, match=next(iter(overrides))):
        SandboxConfig(**overrides)


def test_the_defaults_set_the_documented_ad_page_size_no_other_limit_and_no_smart_plus_ads():
    config = SandboxConfig()
    assert (config.ad_page_size_max, config.comment_window_days,
            config.ad_reply_max_length) == (1000, None, None)
    assert SandboxConfig(ad_page_size_max=None).ad_page_size_max is None
    assert (config.reference_reply_user_info, config.smart_plus_ads,
            config.smart_plus_refusal) == ("object", 0, "40002")
