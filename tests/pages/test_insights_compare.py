"""Insights: sentiment over time and chosen ads side by side, as the store has them."""

from __future__ import annotations

import json

from desk import store as db
from tests.pages.conftest import no_errors, open_page

PAGE = "pages/4_Insights.py"


def test_chosen_ads_are_compared_side_by_side_and_sentiment_is_charted(synced, store):
    advertiser_id = synced["WRITER"]
    with store.cursor() as cur:
        cur.execute("UPDATE comments SET sentiment = CASE WHEN likes % 3 = 0 THEN -0.6 "
                    "WHEN likes % 3 = 1 THEN 0.0 ELSE 0.6 END")
    at = open_page(PAGE, query={"advertiser": advertiser_id, "tab": "Sentiment"})
    no_errors(at)
    chosen = at.multiselect(key="insights_compare_ads").value
    assert 1 <= len(chosen) <= 3
    [table] = [d.value for d in at.dataframe if "negative_share" in d.value.columns]
    with store.cursor() as cur:
        expected = db.compare_ads(cur, db.CommentFilters(advertiser_id), chosen)
    assert table["ad_id"].tolist() == expected["ad_id"].tolist()
    assert table["comments"].tolist() == expected["comments"].tolist()

    [chart] = [spec for spec in (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
               if [t.get("name") for t in spec["data"]] == ["Negative", "Neutral", "Positive"]]
    assert [trace["name"] for trace in chart["data"]] == ["Negative", "Neutral", "Positive"]
    weekly = db.sentiment_over_time(store.cursor(), db.CommentFilters(advertiser_id), "week")
    shown = sum(len(trace["x"]) for trace in chart["data"])
    assert shown == len(weekly)
