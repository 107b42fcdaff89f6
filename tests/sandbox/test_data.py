"""The generated world: deterministic from the seed, realistic in shape, hostile in content,
and alive (new comments keep arriving)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tiktok_sandbox import ManualClock, SandboxConfig, start_sandbox
from tiktok_sandbox.corpus import HOSTILE_COMMENTS

from .conftest import START, TODAY, Api, small_config

DAY = 86_400


def world(**overrides):
    with start_sandbox(small_config(ManualClock(START), **overrides)) as sandbox:
        truth = sandbox.ground_truth()
    del truth["stats"]
    return truth


def test_the_same_seed_gives_an_identical_world():
    assert world(seed=5) == world(seed=5)


def test_another_seed_gives_another_world():
    first, second = world(seed=5), world(seed=6)
    assert first["comments"] != second["comments"]
    assert first["ads"] != second["ads"]


def test_the_requested_sizes_are_met(truth):
    assert len(truth["advertisers"]) == 3
    assert len(truth["ads"]) == 24
    assert len(truth["comments"]) == 2000
    per_advertiser = Counter(a["advertiser_id"] for a in truth["ads"])
    assert sorted(per_advertiser.values()) == [8, 8, 8]
    assert len(truth["adgroups"]) == 12, "ad groups are about half the ads"
    per_group = Counter(a["adgroup_id"] for a in truth["ads"])
    assert set(per_group) == {g["adgroup_id"] for g in truth["adgroups"]}
    assert max(per_group.values()) >= 2, "several ads per ad group"


def test_advertisers_differ_in_timezone_and_currency_and_one_is_read_only(truth):
    advertisers = truth["advertisers"]
    assert {a["timezone"] for a in advertisers} == {"America/New_York", "Europe/Berlin",
                                                    "Asia/Tokyo"}
    assert len({a["currency"] for a in advertisers}) == 3
    assert [a["user_can_write"] for a in advertisers] == [True, True, False]
    assert len({a["role"] for a in advertisers}) == 3


def test_a_world_of_one_advertiser_may_write_on_it():
    [advertiser] = world(advertisers=1, ads=4, comments=40)["advertisers"]
    assert (advertiser["role"], advertiser["user_can_write"]) == ("ROLE_ADVERTISER", True)


def test_some_comments_hit_a_blocked_word_and_are_hidden(truth):
    blocked = [c for c in truth["comments"] if c["hit_blockedword"]]
    assert blocked
    assert all(c["comment_status"] == "HIDDEN" and c["comment_type"] == "COMMENT"
               for c in blocked)


def test_ads_use_both_identity_types_and_a_few_lack_comment_permission(truth):
    assert {a["identity_type"] for a in truth["ads"]} == {"CUSTOMIZED_USER", "TT_USER"}
    without = [a for a in truth["ads"] if not a["is_auth_comment_manage_scope"]]
    assert 1 <= len(without) <= len(truth["ads"]) // 3
    assert all(a["display_name"] for a in truth["ads"])


def test_ids_are_nineteen_digit_strings(truth):
    pattern = re.compile(r"[1-9]\d{18}")
    for ad in truth["ads"]:
        for key in ("advertiser_id", "campaign_id", "adgroup_id", "ad_id", "tiktok_item_id"):
            assert pattern.fullmatch(ad[key]), (key, ad[key])
    for comment in truth["comments"]:
        assert pattern.fullmatch(comment["comment_id"])
        assert pattern.fullmatch(comment["user_id"])
    assert len({c["comment_id"] for c in truth["comments"]}) == len(truth["comments"])


def test_a_few_ads_hold_most_comments(truth):
    counts = sorted(Counter(c["ad_id"] for c in truth["comments"]).values(), reverse=True)
    top = counts[: max(1, len(truth["ads"]) // 10)]
    assert sum(top) > 0.5 * len(truth["comments"])


def test_comments_span_the_last_120_days_and_hours_of_the_day(truth):
    times = [c["create_ts"] for c in truth["comments"]]
    assert max(times) <= START
    assert min(times) >= START - 120 * DAY
    assert max(times) - min(times) > 90 * DAY
    hours = Counter((t % DAY) // 3600 for t in times)
    assert len(hours) == 24
    assert hours.most_common(1)[0][1] > 3 * min(hours.values()), "evenings are busier"


def test_comment_times_use_the_documented_format(truth):
    pattern = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC")
    assert all(pattern.fullmatch(c["create_time"]) for c in truth["comments"])


def test_every_hostile_payload_is_present_verbatim(truth):
    contents = {c["content"] for c in truth["comments"]}
    for payload in HOSTILE_COMMENTS:
        assert payload in contents, repr(payload)
    for expected in ("<img src=x onerror=alert(1)>", "\tleading tab", "\rleading carriage return",
                     '=HYPERLINK("http://example.invalid","x")'):
        assert expected in contents


def test_hostile_payloads_travel_through_the_api_unchanged(api, truth):
    comment = next(c for c in truth["comments"] if c["content"] == "\rleading carriage return")
    day = comment["create_time"][:10]
    answer = api.get("comment/list/", advertiser_id=comment["advertiser_id"],
                     search_field="ADGROUP_ID", search_value=comment["adgroup_id"],
                     start_time=day, end_time=day, page_size=100)
    listed = {c["comment_id"]: c["content"] for c in answer["data"]["comments"]}
    assert listed[comment["comment_id"]] == "\rleading carriage return"


def test_content_is_multilingual_with_emoji_questions_complaints_and_spam(truth):
    text = "\n".join(c["content"] for c in truth["comments"])
    assert re.search(r"[\u3040-\u30ff]", text), "Japanese"
    assert re.search(r"[\uac00-\ud7af]", text), "Korean"
    assert re.search(r"[\u0600-\u06ff]", text), "Arabic"
    assert re.search(r"[ñéüçã]", text), "accented Latin"
    assert re.search(r"[\U0001F300-\U0001FAFF]", text), "emoji"
    assert "?" in text
    assert "http://" in text, "spam with links"


def test_replies_hidden_comments_and_brand_answers_exist(truth):
    comments = truth["comments"]
    by_id = {c["comment_id"]: c for c in comments}
    replies = [c for c in comments if c["comment_type"] == "REPLY"]
    assert replies and all(by_id[r["original_comment_id"]]["comment_type"] == "COMMENT"
                           for r in replies)
    assert any(r["can_delete"] for r in replies), "the brand has answered some"
    assert any(not r["can_delete"] for r in replies), "viewers reply too"
    assert any(c["comment_status"] == "HIDDEN" for c in comments)
    assert not any(c["can_delete"] for c in comments if c["comment_type"] == "COMMENT")
    counted = Counter(r["original_comment_id"] for r in replies)
    assert all(c["replies"] == counted.get(c["comment_id"], 0) for c in comments)


def test_new_comments_arrive_as_time_passes():
    clock = ManualClock(START)
    with start_sandbox(small_config(clock, new_comments_per_minute=6.0)) as sandbox:
        before = {c["comment_id"] for c in sandbox.ground_truth()["comments"]}
        clock.advance(10 * 60)
        after = sandbox.ground_truth()["comments"]
    new = [c for c in after if c["comment_id"] not in before]
    assert len(new) == 60
    assert all(START < c["create_ts"] <= START + 600 for c in new)


def test_arrivals_are_the_same_however_often_they_are_observed():
    def arrivals(steps):
        clock = ManualClock(START)
        with start_sandbox(small_config(clock, new_comments_per_minute=3.0)) as sandbox:
            for _ in range(steps):
                clock.advance(1200 / steps)
                sandbox.ground_truth()
            return [(c["comment_id"], c["content"]) for c in sandbox.ground_truth()["comments"]]

    assert arrivals(1) == arrivals(7)


def test_arrivals_show_up_in_listings_without_any_help(clock):
    with start_sandbox(small_config(clock, new_comments_per_minute=60.0)) as sandbox:
        api = Api(sandbox.base_url, sandbox.issue_token())
        clock.advance(300)
        truth = sandbox.ground_truth()
        newest = max(truth["comments"], key=lambda c: c["create_ts"])
        answer = api.get("comment/list/", advertiser_id=newest["advertiser_id"],
                         search_field="ADGROUP_ID", search_value=newest["adgroup_id"],
                         start_time=TODAY, end_time=TODAY, page_size=1)
    assert answer["data"]["comments"][0]["comment_id"] == newest["comment_id"]


def test_add_comments_creates_them_now_and_deterministically(clock):
    def added():
        with start_sandbox(small_config(ManualClock(START))) as sandbox:
            advertiser = sandbox.ground_truth()["advertisers"][1]["advertiser_id"]
            ids = sandbox.add_comments(5, advertiser)
            rows = {c["comment_id"]: c for c in sandbox.ground_truth()["comments"]}
            return ids, [rows[i] for i in ids], advertiser

    ids, rows, advertiser = added()
    assert len(ids) == 5
    assert all(r["create_ts"] == START and r["advertiser_id"] == advertiser for r in rows)
    assert all(r["comment_type"] == "COMMENT" for r in rows)
    assert added()[0] == ids


def test_add_comments_for_an_unknown_advertiser_is_an_error(sandbox):
    with pytest.raises(ValueError):
        sandbox.add_comments(1, "123")


def test_default_config_suits_the_demo():
    config = SandboxConfig()
    assert (config.seed, config.advertisers, config.app_id, config.secret) == (
        7, 3, "sandbox-app", "sandbox-secret")
    assert 0 < config.new_comments_per_minute <= 10
    assert config.fault_rate == 0 and config.latency_ms == 0
    assert (config.qps, config.qpm) == (10, 600)


@pytest.mark.slow
def test_a_benchmark_sized_world_lists_fast_enough_to_use():
    config = small_config(ManualClock(START), advertisers=3, ads=400, comments=100_000)
    with start_sandbox(config) as sandbox:
        truth = sandbox.ground_truth()
        assert len(truth["comments"]) == 100_000
        assert 195 <= len(truth["adgroups"]) <= 205
        api = Api(sandbox.base_url, sandbox.issue_token())
        group = Counter(c["adgroup_id"] for c in truth["comments"]).most_common(1)[0][0]
        advertiser = next(g["advertiser_id"] for g in truth["adgroups"]
                          if g["adgroup_id"] == group)
        answer = api.get("comment/list/", advertiser_id=advertiser, search_field="ADGROUP_ID",
                         search_value=group, start_time="2025-09-10", end_time=TODAY,
                         page_size=100, page=3)
    assert answer["code"] == 0
    assert len(answer["data"]["comments"]) == 100
