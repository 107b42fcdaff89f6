"""Insights: the numbers and charts agree with the store and follow the filters; names in
charts are inert."""

from __future__ import annotations

import json

import streamlit as st

from desk import store as db
from tests.pages.conftest import HOSTILE_ADVERTISER, no_errors, open_page, seed_hostile

PAGE = "pages/4_Insights.py"


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_insights_agree_with_the_store(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    no_errors(at)
    everything = db.CommentFilters(advertiser_id)
    total = db.comments_count(store.cursor(), everything)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Comments and replies"] == f"{total:,}"
    by_ad, over_time, *_ = charts(at)
    assert sum(by_ad["data"][0]["x"]) == total
    expected = db.comment_volume_by_ad(store.cursor(), everything, 10)
    assert by_ad["data"][0]["x"] == expected["comments"].astype(int).tolist()
    assert len(over_time["data"]) == 1 and sum(over_time["data"][0]["y"]) == total
    engagement = at.dataframe[0].value
    stored = db.ad_engagement(store.cursor(), everything)
    assert engagement["comments"].astype(int).tolist() == stored["comments"].astype(int).tolist()
    assert engagement["reply_rate"].round(6).tolist() == stored["reply_rate"].round(6).tolist()

    at.segmented_control(key="insights_grain").set_value("hour").run()
    at.segmented_control(key="insights_lines").set_value("Top 5 ads").run()
    no_errors(at)
    _, over_time, *_ = charts(at)
    assert len(over_time["data"]) == 5
    top5 = expected["comments"].astype(int).tolist()[:5]
    assert sorted(sum(trace["y"]) for trace in over_time["data"]) == sorted(top5)


def test_insights_follow_the_filters(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    at.selectbox(key="insights_status").select("Hidden").run()
    hidden = db.CommentFilters(advertiser_id, status="HIDDEN")
    total = db.comments_count(store.cursor(), hidden)
    assert {m.label: m.value for m in at.metric}["Comments and replies"] == f"{total:,}"
    assert sum(charts(at)[0]["data"][0]["x"]) == total


def test_names_in_charts_are_inert(sandbox, store):
    seed_hostile(store)
    at = open_page(PAGE, query={"advertiser": HOSTILE_ADVERTISER})
    no_errors(at)
    spec = json.dumps(charts(at))
    assert "<img" not in spec and "&lt;img src=x" in spec
    assert not any("<img" in m.value for m in at.main.markdown)


def test_insights_show_the_label_and_language_mix_of_classified_comments(sandbox, store):
    from desk.moderation.classifying import classify_backlog

    seed_hostile(store)
    at = open_page(PAGE, query={"advertiser": HOSTILE_ADVERTISER})
    assert not any("Labels" in json.dumps(c.get("layout", {})) for c in charts(at))
    assert any("None of these comments is classified yet" in c.value for c in at.caption)

    with store.cursor() as cur:
        classify_backlog(cur)
    st.cache_data.clear()  # as the app does when new verdicts are stored
    at = open_page(PAGE, query={"advertiser": HOSTILE_ADVERTISER})
    no_errors(at)
    [mix] = [c for c in charts(at) if "Labels" in json.dumps(c.get("layout", {}))]
    labels, languages = mix["data"]
    everything = db.CommentFilters(HOSTILE_ADVERTISER)
    stored = db.label_counts(store.cursor(), everything).dropna()
    assert sorted(labels["x"]) == sorted(stored["comments"].astype(int).tolist())
    assert sum(languages["x"]) == db.comments_count(store.cursor(), everything)


TABS = {  # each tab, and a widget or table only it draws
    "Overview": "insights_grain",
    "Sentiment": "insights_sentiment_grain",
    "Response times": "insights_backlog_grain",
    "Top terms": None,  # a chart or a caption, depending on the words counted
    "Delivery": None,
    "Learned from the team": None,
    "Weekly summary": "insights_summary_account",
}


def test_a_visit_runs_only_the_open_tab_and_a_link_opens_any_tab(synced):
    advertiser_id = synced["WRITER"]
    for tab, own_key in TABS.items():
        at = open_page(PAGE, query={"advertiser": advertiser_id, "tab": tab})
        no_errors(at)
        assert [t.label for t in at.tabs] == list(TABS)
        drawn = {getattr(w, "key", None) for w in at.get("segmented_control")} | {
            getattr(w, "key", None) for w in at.selectbox}
        others = {key for name, key in TABS.items() if key and name != tab}
        assert not drawn & others, f"{tab}: another tab's widgets ran"
        if own_key:
            assert own_key in drawn, f"{tab}: its own widgets are missing"
