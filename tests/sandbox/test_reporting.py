"""report/integrated/get/: TikTok's official SDK and the client read each ad's daily delivery
from the sandbox, paged and checked as TikTok documents it, and the delivery is the sandbox's
ground truth, in step with its comments."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.sandbox.conftest import TODAY, Api, small_config
from tiktok_client.client import TikTokClient
from tiktok_client.errors import InvalidRequest, PermissionDenied
from tiktok_client.ratelimit import RateLimiter
from tiktok_client.reporting import (
    DAILY_SPAN,
    DELIVERY_METRICS,
    PAGE_SIZE,
    UNAVAILABLE_METRICS,
)
from tiktok_sandbox import ManualClock, start_sandbox

business_api_client = pytest.importorskip("business_api_client")
from business_api_client.tiktok_business.tiktok_exceptions import TiktokSDKError  # noqa: E402

END = date.fromisoformat(TODAY)
START = END - timedelta(days=29)  # 30 days, both ends counted: the documented limit
WINDOW = (START.isoformat(), END.isoformat())


@pytest.fixture
def advertiser_id(truth) -> str:
    return truth["advertisers"][0]["advertiser_id"]


@pytest.fixture
def sdk(sandbox):
    configuration = business_api_client.Configuration()
    configuration.host = sandbox.base_url
    return business_api_client.ReportingApi(business_api_client.ApiClient(configuration))


def client_for(sandbox, token: str | None = None) -> TikTokClient:
    return TikTokClient(token or sandbox.issue_token(), base_url=sandbox.base_url,
                        rate_limiter=RateLimiter(10_000, 1_000_000))


def truth_rows(sandbox, advertiser_id, first=START, last=END) -> dict[tuple[str, str], dict]:
    return {(row["ad_id"], row["stat_day"]): row
            for row in sandbox.delivery(advertiser_id, first, last)}


def sdk_rows(sdk, token, advertiser_id, page_size=1000, **options) -> list[dict]:
    rows, page = [], 1
    while True:
        answer = sdk.report_integrated_get(
            "BASIC", token, advertiser_id=advertiser_id, data_level="AUCTION_AD",
            dimensions=["ad_id", "stat_time_day"], metrics=list(DELIVERY_METRICS),
            start_date=WINDOW[0], end_date=WINDOW[1], page=page, page_size=page_size, **options)
        rows += answer["data"]["list"]
        if page >= answer["data"]["page_info"]["total_page"]:
            return rows
        page += 1


# -- TikTok's official SDK ----------------------------------------------------------------------

def test_the_official_sdk_reads_each_ads_daily_delivery_as_the_ground_truth_has_it(
        sandbox, sdk, advertiser_id):
    token = sandbox.issue_token()
    rows = sdk_rows(sdk, token, advertiser_id, page_size=50)

    expected = truth_rows(sandbox, advertiser_id)
    got = {(r["dimensions"]["ad_id"], r["dimensions"]["stat_time_day"][:10]): r["metrics"]
           for r in rows}
    assert len(rows) == len(got) == len(expected) > 50  # several pages, no row twice
    for key, metrics in got.items():
        want = expected[key]
        assert metrics == {"spend": f"{want['spend']:.2f}", "impressions": str(want["impressions"]),
                           "clicks": str(want["clicks"]),
                           "video_play_actions": str(want["video_play_actions"]),
                           "likes": str(want["likes"])}  # metrics are text, as TikTok sends
    assert all(r["dimensions"]["stat_time_day"].endswith(" 00:00:00") for r in rows)


def test_the_official_sdk_sends_dimensions_repeated_and_gets_the_same_rows(sandbox, sdk,
                                                                           advertiser_id):
    token = sandbox.issue_token()
    answer = sdk.report_integrated_get(
        "BASIC", token, advertiser_id=advertiser_id, data_level="AUCTION_AD",
        dimensions=("ad_id", "stat_time_day"), metrics=("spend", "impressions"),
        start_date=WINDOW[0], end_date=WINDOW[1], page_size=1000)
    assert answer["data"]["page_info"]["total_number"] == len(truth_rows(sandbox, advertiser_id))


def test_the_official_sdk_raises_tiktoks_codes(sandbox, sdk, advertiser_id):
    token = sandbox.issue_token()
    with pytest.raises(TiktokSDKError, match="40002"):  # 31 days with stat_time_day
        sdk.report_integrated_get("BASIC", token, advertiser_id=advertiser_id,
                                  data_level="AUCTION_AD", dimensions=["ad_id", "stat_time_day"],
                                  start_date=(START - timedelta(days=1)).isoformat(),
                                  end_date=WINDOW[1])
    with pytest.raises(TiktokSDKError, match="40105"):
        sdk.report_integrated_get("BASIC", "not-a-token", advertiser_id=advertiser_id,
                                  data_level="AUCTION_AD", dimensions=["ad_id"],
                                  start_date=WINDOW[0], end_date=WINDOW[1])


# -- what the sandbox checks -------------------------------------------------------------------

def report(api: Api, advertiser_id: str, token=True, **params):
    query = {"advertiser_id": advertiser_id, "report_type": "BASIC", "data_level": "AUCTION_AD",
             "dimensions": ["ad_id", "stat_time_day"], "start_date": WINDOW[0],
             "end_date": WINDOW[1]}
    query.update(params)
    return api.get("report/integrated/get/", token, **{k: v for k, v in query.items()
                                                       if v is not None})


@pytest.mark.parametrize(("params", "names"), [
    ({"report_type": None}, "report_type: Missing data"),
    ({"report_type": "WEEKLY"}, "report_type: Must be one of"),
    ({"data_level": None}, "data_level: Missing data"),
    ({"dimensions": None}, "dimensions: Missing data"),
    ({"dimensions": ["adgroup_id"]}, "dimensions: With data_level AUCTION_AD"),
    ({"start_date": None}, "start_date: Missing data"),
    ({"end_date": "2025/10/09"}, "end_date: Not a valid date"),
    ({"start_date": "2025-10-09", "end_date": "2025-10-01"}, "end_date: Must not be earlier"),
    ({"start_date": "2025-09-09"}, "end_date: The time span from start_date to end_date must "
                                   "not exceed 30 days when dimensions include stat_time_day."),
    ({"page_size": 1001}, "page_size: Must be greater than or equal to 1 and less than or equal "
                          "to 1000."),
    ({"metrics": ["spend", "reach_of_aliens"]}, "Please correct the information in invalid "
     "metric fields and try again. Invalid metric fields: ['reach_of_aliens']."),
    ({"filtering": json.dumps([{"field_name": "ad_ids"}])}, "filtering: Each condition"),
], ids=lambda value: None if isinstance(value, dict) else value.split(":")[0][:30])
def test_invalid_parameters_get_40002_naming_the_parameter(api, advertiser_id, params, names):
    answer = report(api, advertiser_id, **params)
    assert (answer["code"], answer["data"]) == (40002, {})
    assert answer["message"].startswith(names)


def test_without_a_year_of_days_a_report_without_days_takes_365_days(api, advertiser_id):
    year = report(api, advertiser_id, dimensions=["ad_id"], start_date="2024-10-10")
    longer = report(api, advertiser_id, dimensions=["ad_id"], start_date="2024-10-09")
    assert year["code"] == 0 and longer["code"] == 40002
    assert "must not exceed 365 days" in longer["message"]


def test_token_advertiser_and_permission_are_checked_in_tiktoks_order(sandbox, api,
                                                                      advertiser_id, truth):
    assert report(api, advertiser_id, token=None)["code"] == 40104
    assert report(api, advertiser_id, token="revoked-or-unknown")["code"] == 40105
    others = [a["advertiser_id"] for a in truth["advertisers"][1:]]
    narrow = sandbox.issue_token(others)
    assert report(api, advertiser_id, token=narrow)["code"] == 40106
    no_reporting = sandbox.issue_token(scopes=[100, 220, 15000000, 15010100, 15010200])
    refused = report(api, advertiser_id, token=no_reporting)
    assert refused["code"] == 40001 and "Reporting permission" in refused["message"]
    consolidated_only = sandbox.issue_token(scopes=[44])  # Reporting's part for this endpoint
    assert report(api, advertiser_id, token=consolidated_only)["code"] == 0


def test_pages_carry_page_info_and_together_hold_every_row_once(sandbox, api, advertiser_id):
    first = report(api, advertiser_id, page=1, page_size=40)["data"]
    total = first["page_info"]["total_number"]
    assert first["page_info"] == {"page": 1, "page_size": 40, "total_number": total,
                                  "total_page": -(-total // 40)}
    rows = list(first["list"])
    for page in range(2, first["page_info"]["total_page"] + 1):
        rows += report(api, advertiser_id, page=page, page_size=40)["data"]["list"]
    keys = [(r["dimensions"]["ad_id"], r["dimensions"]["stat_time_day"]) for r in rows]
    assert len(keys) == len(set(keys)) == total == len(truth_rows(sandbox, advertiser_id))
    default = report(api, advertiser_id)["data"]
    assert default["page_info"]["page_size"] == 10 and len(default["list"]) == 10
    assert set(default["list"][0]["metrics"]) == {"spend", "impressions"}  # TikTok's default


def test_levels_above_the_ad_add_up_their_ads_days(sandbox, api, advertiser_id, truth):
    expected: dict[str, list[float]] = {}
    for row in truth_rows(sandbox, advertiser_id).values():
        sums = expected.setdefault(row["adgroup_id"], [0, 0.0])
        sums[0] += row["impressions"]
        sums[1] += row["spend"]
    answer = report(api, advertiser_id, data_level="AUCTION_ADGROUP", dimensions=["adgroup_id"],
                    metrics=["impressions", "spend", "currency", "campaign_id"], page_size=1000)
    got = {r["dimensions"]["adgroup_id"]: r["metrics"] for r in answer["data"]["list"]}
    assert set(got) == set(expected)
    for group, (impressions, spend) in expected.items():
        assert got[group]["impressions"] == str(impressions)
        assert got[group]["spend"] == f"{spend:.2f}"
        assert got[group]["currency"] == truth["advertisers"][0]["currency"]


def test_filtering_by_ad_ids_and_ordering_by_a_metric(sandbox, api, advertiser_id):
    expected = truth_rows(sandbox, advertiser_id)
    ad_ids = sorted({ad for ad, _ in expected})[:2]
    answer = report(api, advertiser_id, page_size=1000, metrics=["impressions"],
                    order_field="impressions", order_type="ASC",
                    filtering=json.dumps([{"field_name": "ad_ids", "filter_type": "IN",
                                           "filter_value": json.dumps(ad_ids)}]))
    rows = answer["data"]["list"]
    assert {r["dimensions"]["ad_id"] for r in rows} == set(ad_ids)
    assert len(rows) == sum(1 for ad, _ in expected if ad in ad_ids)
    impressions = [int(r["metrics"]["impressions"]) for r in rows]
    assert impressions == sorted(impressions)


def test_lifetime_totals_take_no_dates(sandbox, api, advertiser_id):
    answer = report(api, advertiser_id, dimensions=["ad_id"], start_date=None, end_date=None,
                    query_lifetime="true", metrics=["impressions"], page_size=1000)
    whole = sandbox.delivery(advertiser_id)
    totals: dict[str, int] = {}
    for row in whole:
        totals[row["ad_id"]] = totals.get(row["ad_id"], 0) + row["impressions"]
    assert {r["dimensions"]["ad_id"]: int(r["metrics"]["impressions"])
            for r in answer["data"]["list"]} == totals
    by_day = report(api, advertiser_id, start_date=None, end_date=None, query_lifetime="true")
    assert by_day["code"] == 40002 and by_day["message"].startswith("dimensions:")


def test_delivery_follows_the_comments_and_its_rates_are_plausible(sandbox, truth):
    rows = [row for a in truth["advertisers"] for row in sandbox.delivery(a["advertiser_id"])]
    busy = [r for r in rows if r["comments"] >= 3]
    quiet = [r for r in rows if r["comments"] == 0]
    assert busy and quiet
    mean = lambda part: sum(r["impressions"] for r in part) / len(part)  # noqa: E731
    assert mean(busy) > 2 * mean(quiet)
    per_thousand = 1000 * sum(r["comments"] for r in rows) / sum(r["impressions"] for r in rows)
    assert 0.1 < per_thousand < 3
    assert all(r["video_play_actions"] <= r["impressions"] and r["clicks"] < r["impressions"]
               for r in rows)
    stored = sum(1 for c in truth["comments"]
                 if not (c["comment_type"] == "REPLY" and c["can_delete"]))
    assert sum(r["comments"] for r in rows) == stored  # every viewer's comment, on its day


def test_a_days_delivery_is_the_same_whatever_range_asks_for_it(sandbox, advertiser_id):
    whole = truth_rows(sandbox, advertiser_id, None, None)
    week = truth_rows(sandbox, advertiser_id, END - timedelta(days=6), END)
    assert week and all(whole[key] == row for key, row in week.items())


# -- the client against the sandbox ---------------------------------------------------------------

def test_the_client_reads_a_range_in_thirty_day_windows_into_a_typed_table(sandbox,
                                                                        advertiser_id):
    client = client_for(sandbox)
    first = END - timedelta(days=75)
    windows = list(client.reporting.iter_ad_delivery(advertiser_id, first, END))

    assert [(w.first_day, w.last_day) for w in windows] == [
        (first, first + timedelta(days=29)),
        (first + timedelta(days=30), first + timedelta(days=59)),
        (first + timedelta(days=60), END)]
    table = client.reporting.ad_delivery(advertiser_id, first, END)
    assert str(table.schema.field("stat_day").type) == "date32[day]"
    assert str(table.schema.field("impressions").type) == "int64"
    got = {(r["ad_id"], r["stat_day"].isoformat()): r for r in table.to_pylist()}
    expected = truth_rows(sandbox, advertiser_id, first, END)
    assert set(got) == set(expected)
    for key, row in expected.items():
        assert {name: got[key][name] for name in DELIVERY_METRICS} == {
            name: row[name] for name in DELIVERY_METRICS}


def test_a_refused_span_steps_down_to_the_stated_limit_and_is_learned():
    with start_sandbox(small_config(ManualClock(1_760_000_000), report_daily_span_days=7)) as sb:
        advertiser_id = sb.ground_truth()["advertisers"][0]["advertiser_id"]
        client = client_for(sb)
        table = client.reporting.ad_delivery(advertiser_id, START, END)

        assert client.learned.get(DAILY_SPAN) == 7
        assert table.num_rows == len(truth_rows(sb, advertiser_id))
        refused = sb.stats()["by_code"].get("40002", 0)
        client.reporting.ad_delivery(advertiser_id, START, END)
        assert sb.stats()["by_code"].get("40002", 0) == refused  # not refused again


def test_a_refused_page_size_steps_down_and_pages_skip_nothing():
    with start_sandbox(small_config(ManualClock(1_760_000_000), report_page_size_max=100)) as sb:
        advertiser_id = sb.ground_truth()["advertisers"][0]["advertiser_id"]
        client = client_for(sb)
        table = client.reporting.ad_delivery(advertiser_id, START, END)
        assert client.learned.get(PAGE_SIZE) == 100
        assert table.num_rows == len(truth_rows(sb, advertiser_id)) > 100


def test_a_metric_tiktok_refuses_is_dropped_learned_and_left_null():
    with start_sandbox(small_config(ManualClock(1_760_000_000),
                                    report_unavailable_metrics=("likes",))) as sb:
        advertiser_id = sb.ground_truth()["advertisers"][0]["advertiser_id"]
        client = client_for(sb)
        table = client.reporting.ad_delivery(advertiser_id, START, END)
        assert client.learned.get(UNAVAILABLE_METRICS) == ["likes"]
        assert table.num_rows == len(truth_rows(sb, advertiser_id))
        assert table["likes"].null_count == table.num_rows
        assert table["impressions"].null_count == 0


def test_the_client_raises_typed_errors(sandbox, advertiser_id):
    no_reporting = sandbox.issue_token(scopes=[100, 220, 15000000, 15010100])
    with pytest.raises(PermissionDenied):
        client_for(sandbox, no_reporting).reporting.ad_delivery(advertiser_id, START, END)
    with pytest.raises(InvalidRequest, match="dimensions"):
        client_for(sandbox).reporting.report_integrated_get(
            advertiser_id, dimensions=["adgroup_id"], start_date=START, end_date=END)
