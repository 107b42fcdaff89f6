"""Insights' top terms: the sandbox world's most used words, counted from its ground truth,
top the chart; clicking a bar opens the Comments page searching for that word; and the words
of comments stored before the tokeniser came are read in the background when the app opens
the database."""

from __future__ import annotations

import json
import time
from collections import Counter

import pandas as pd
import streamlit as st
from streamlit.proto.WidgetStates_pb2 import WidgetStates

from desk import store as db
from desk.moderation.classify import CLASSIFIER_VERSION
from desk.moderation.classifying import classify_backlog, waiting_count
from desk.moderation.terms import TERMS_VERSION, tokenise
from desk.ui import handles
from tests.pages.conftest import no_errors, open_page, plain, sandbox_comments

PAGE = "pages/4_Insights.py"


def top_terms_chart(at) -> tuple[dict, str]:
    """The Top terms chart's spec and its widget id."""
    [chart] = [c for c in at.get("plotly_chart") if "insights_top_terms" in c.proto.id]
    return json.loads(chart.proto.spec), chart.proto.id


def expected_top_terms(sandbox, advertiser_id: str, limit: int = 20) -> list[tuple[str, int]]:
    """The top terms counted straight from the sandbox's comments: each comment's terms in
    the language the classifier gives it, most used first, ties by term."""
    from desk.moderation.classify import Classifier

    texts = sandbox_comments(sandbox, advertiser_id)["content"].tolist()
    languages = Classifier([]).classify_many(texts)["language"].tolist()
    counts = Counter(term for found in tokenise(texts, languages) for term in found)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def test_top_terms_show_the_sandbox_worlds_most_used_words(synced, sandbox, store):
    advertiser_id = synced["WRITER"]
    truth = sandbox_comments(sandbox, advertiser_id)
    assert db.comments_count(store.cursor(), db.CommentFilters(advertiser_id)) == len(truth)
    at = open_page(PAGE, query={"advertiser": advertiser_id, "tab": "Top terms"})
    assert any("No words to count yet" in c.value for c in at.caption)  # not classified yet

    with store.cursor() as cur:
        classify_backlog(cur)  # as after a sync, or in the background at the next start
    st.cache_data.clear()
    at = open_page(PAGE, query={"advertiser": advertiser_id, "tab": "Top terms"})
    no_errors(at)
    spec, _ = top_terms_chart(at)
    [bars] = spec["data"]
    expected = expected_top_terms(sandbox, advertiser_id)
    assert list(zip(bars["y"], bars["x"], strict=True)) == expected
    assert expected[0][1] > expected[-1][1]  # a real ranking, not all ties


def test_clicking_a_bar_opens_the_comments_that_use_the_word(synced, store):
    advertiser_id = synced["WRITER"]
    with store.cursor() as cur:
        classify_backlog(cur)
    at = open_page(PAGE, query={"advertiser": advertiser_id, "tab": "Top terms"})
    at.selectbox(key="insights_status").select("Public").run()  # filters follow to Comments
    spec, chart_id = top_terms_chart(at)
    picked = 1
    term, using = spec["data"][0]["y"][picked], spec["data"][0]["x"][picked]
    public = db.CommentFilters(advertiser_id, status="PUBLIC")
    assert using == int(db.top_terms(store.cursor(), public)["comments"].iloc[picked])

    states = at._tree.get_widget_states()
    click = WidgetStates().widgets.add()
    click.id = chart_id
    click.string_value = json.dumps({"selection": {
        "points": [{"point_index": picked, "point_number": picked, "curve_number": 0,
                    "x": spec["data"][0]["x"][picked], "y": term}],
        "point_indices": [picked], "box": [], "lasso": []}})
    states.widgets.append(click)
    at._run(states)  # what the browser sends when the bar is clicked
    no_errors(at)

    assert at.title[0].value == "Comments"
    assert at.text_input(key="comments_search").value == term
    assert at.selectbox(key="comments_status").value == "Public"
    assert at.query_params["advertiser"] == advertiser_id
    found = db.comments_count(store.cursor(), db.CommentFilters(
        advertiser_id, status="PUBLIC", search=term))
    assert found >= using  # the search finds the word inside longer ones and in names too
    assert any(f"{found:,} comment" in plain(m.value) for m in at.markdown)


def test_opening_the_store_reads_the_terms_of_comments_stored_before_the_tokeniser(
        synced, store, settings):
    advertiser_id = synced["WRITER"]
    with store.cursor() as cur:
        classify_backlog(cur)
        cur.execute("UPDATE comments SET terms = NULL, terms_with = NULL")
        assert waiting_count(cur) == db.comments_count(cur, db.CommentFilters(advertiser_id))
    st.cache_resource.clear()  # the app stops; the next start opens the database again

    reopened = handles.store_for(settings)
    deadline = time.monotonic() + 60
    while handles.store_tasks(reopened.path).busy(handles.CLASSIFY_BACKLOG):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with reopened.cursor() as cur:
        assert waiting_count(cur) == 0
        read = pd.DataFrame(db.query_records(
            cur, "SELECT classified_with, terms_with, terms FROM comments"))
    assert set(read["classified_with"]) == {CLASSIFIER_VERSION}
    assert set(read["terms_with"]) == {TERMS_VERSION}
    assert read["terms"].map(len).sum() > len(read)  # words found, not empty lists
