"""Reading report rows: metrics as TikTok sends them (text, numbers, "-", missing) become a
typed table, and TikTok's refusals are told apart."""

from __future__ import annotations

from datetime import date

from tiktok_client.errors import InvalidRequest, ServerError
from tiktok_client.reporting import (
    DELIVERY_SCHEMA,
    ReportRow,
    delivery_table,
    metric_count,
    metric_number,
    refused_metrics,
)


def row(ad_id, day, **metrics) -> ReportRow:
    return ReportRow.from_api({"dimensions": {"ad_id": ad_id, "stat_time_day": day},
                               "metrics": metrics})


def test_metrics_in_text_or_numbers_are_read_and_missing_ones_are_null():
    table = delivery_table([
        row("1", "2025-06-02 00:00:00", spend="12.34", impressions="1200", clicks=7,
            video_play_actions="900.0", likes="-"),
        row(1002, "2025-06-01", spend=3, impressions=250.0, clicks="", currency="EUR"),
    ], "7001")

    assert table.schema == DELIVERY_SCHEMA
    assert table.to_pylist() == [
        {"advertiser_id": "7001", "ad_id": "1002", "stat_day": date(2025, 6, 1), "spend": 3.0,
         "impressions": 250, "clicks": None, "video_play_actions": None, "likes": None,
         "currency": "EUR"},
        {"advertiser_id": "7001", "ad_id": "1", "stat_day": date(2025, 6, 2), "spend": 12.34,
         "impressions": 1200, "clicks": 7, "video_play_actions": 900, "likes": None,
         "currency": None},
    ]


def test_rows_without_an_ad_or_a_day_are_left_out_and_a_repeated_row_counts_once():
    table = delivery_table([
        row(None, "2025-06-01", impressions="5"),
        row("1", "not a day", impressions="5"),
        row("1", "2025-06-01", impressions="5"),
        row("1", "2025-06-01 00:00:00", impressions="6"),
    ], "7001")
    assert table["impressions"].to_pylist() == [6]


def test_a_flat_row_is_read_as_dimensions_and_metrics_at_once():
    flat = ReportRow.from_api({"ad_id": "9", "stat_time_day": "2025-06-01", "spend": "1.50"})
    assert delivery_table([flat], "7001")["spend"].to_pylist() == [1.5]


def test_metric_values():
    assert [metric_number(v) for v in ("1,234.5", " 7 ", "--", "N/A", None, "abc")] == [
        1234.5, 7.0, None, None, None, None]
    assert [metric_count(v) for v in ("1200", "1200.0", 3.6, "-")] == [1200, 1200, 4, None]


def test_refused_metrics_are_read_from_tiktoks_words_only():
    words = ("Please correct the information in invalid metric fields and try again. "
             "Invalid metric fields: ['likes', 'voucher_spend'].")
    asked = ["spend", "impressions", "likes"]
    assert refused_metrics(InvalidRequest(words, 40002), asked) == ["likes"]
    assert refused_metrics(InvalidRequest("page_size: Must be ...", 40002), asked) == []
    assert refused_metrics(ServerError(words, 50000), asked) == []
