"""Insights' "Comments and delivery": the numbers agree with the store, follow the sidebar's
filters and the chosen denominator, and names in its charts are inert."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from desk import store as db
from desk.moderation.classifying import classify_backlog
from tests.pages.conftest import HOSTILE_ADVERTISER, no_errors, open_page, seed_hostile

PAGE = "pages/4_Insights.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def ads_table(at):
    """The per-ad table of the section (the one table with days of delivery)."""
    return next(d.value for d in at.dataframe if "days" in d.value.columns
                and "complaints_per_1000_impressions" in d.value.columns)


def delivery_charts(at) -> dict[str, dict]:
    return {key: json.loads(c.proto.spec) for c in at.get("plotly_chart")
            for key in ("insights_delivery_over_time", "insights_delivery_creatives",
                        "insights_delivery_sentiment") if key in c.proto.id}


def test_comments_and_delivery_agree_with_the_store(synced, store):
    advertiser_id = synced["WRITER"]
    with store.cursor() as cur:
        classify_backlog(cur)
    at = open_page(PAGE, query={"advertiser": advertiser_id, "tab": "Delivery"})
    no_errors(at)

    everything = db.CommentFilters(advertiser_id)
    by_ad = db.delivery_rates_by_ad(store.cursor(), everything)
    currency = by_ad["currency"].iloc[0]
    shown = metrics(at)
    assert not by_ad.empty
    assert shown["Impressions"] == f"{int(by_ad['impressions'].sum()):,}"
    assert shown[f"Spend ({currency})"] == f"{by_ad['spend'].sum():,.2f}"
    rate = 1000 * by_ad["comments"].sum() / by_ad["impressions"].sum()
    assert shown["Comments per 1,000 impressions"] == f"{rate:.3f}"
    table = ads_table(at)
    assert table["ad_id"].tolist() == by_ad["ad_id"].tolist()
    assert table["complaints_per_1000_impressions"].fillna(-1).round(9).tolist() == (
        by_ad["complaints_per_1000_impressions"].fillna(-1).round(9).tolist())
    charts = delivery_charts(at)
    by_day = db.delivery_rates_by_day(store.cursor(), everything)
    assert len(charts["insights_delivery_over_time"]["data"]) == 4
    assert len(charts["insights_delivery_sentiment"]["data"][0]["x"]) == len(by_day)
    if by_ad["complaints"].sum():
        creatives = db.delivery_rates_by_creative(store.cursor(), everything)
        assert charts["insights_delivery_creatives"]["data"][0]["x"][0] == pytest.approx(
            creatives["complaints_per_1000_impressions"].iloc[0])

    at.segmented_control(key="insights_delivery_per").set_value("unit of spend").run()
    no_errors(at)
    per_spend = by_ad["comments"].sum() / by_ad["spend"].sum()
    assert metrics(at)[f"Comments per 1 {currency}"] == f"{per_spend:.4f}"


def test_comments_and_delivery_follow_the_sidebar(synced, store):
    advertiser_id = synced["WRITER"]
    by_ad = db.delivery_rates_by_ad(store.cursor(), db.CommentFilters(advertiser_id))
    chosen = str(by_ad["ad_id"].iloc[-1])
    at = open_page(PAGE, query={"advertiser": advertiser_id, "tab": "Delivery"})
    at.multiselect(key="insights_ads").select(chosen).run()
    no_errors(at)
    one = db.delivery_rates_by_ad(store.cursor(), db.CommentFilters(advertiser_id,
                                                                    ad_ids=[chosen]))
    assert ads_table(at)["ad_id"].tolist() == [chosen]
    assert metrics(at)["Impressions"] == f"{int(one['impressions'].sum()):,}"


def test_without_delivery_the_section_says_how_it_comes(sandbox, store):
    seed_hostile(store)
    at = open_page(PAGE, query={"advertiser": HOSTILE_ADVERTISER, "tab": "Delivery"})
    no_errors(at)
    assert any("No delivery is stored for these ads" in c.value for c in at.caption)


def test_names_in_the_delivery_charts_are_inert(sandbox, store):
    rows = seed_hostile(store)
    day = rows["create_time"].iloc[0].astimezone(UTC).date()
    with store.cursor() as cur:
        cur.execute("UPDATE comments SET labels = ['complaint'] WHERE advertiser_id = ?",
                    [HOSTILE_ADVERTISER])
        db.upsert_ads(cur, rows[["ad_id", "advertiser_id", "ad_name", "tiktok_item_id"]].head(1),
                      datetime.now(UTC))
        db.store_delivery(cur, HOSTILE_ADVERTISER, day, day, pa.table({
            "ad_id": ["111"], "stat_day": [day], "impressions": [4000], "spend": [12.5]}),
            datetime.now(UTC), "EUR")
    at = open_page(PAGE, query={"advertiser": HOSTILE_ADVERTISER, "tab": "Delivery"})
    no_errors(at)
    charts = delivery_charts(at)
    assert set(charts) == {"insights_delivery_over_time", "insights_delivery_creatives",
                           "insights_delivery_sentiment"}
    spec = json.dumps(charts, ensure_ascii=False)
    assert "<img" not in spec and "Video 555 · Ad &lt;img src=x" in spec
    assert metrics(at)["Complaints per 1,000 impressions"] == f"{1000 * len(rows) / 4000:.3f}"
