"""What the pages show of the models learned from the team: the Inbox orders by the "will be
answered" score and shows it only while an answer model is in use, Insights shows the model
card, and the Rules page suggests a rule from the hand hides, with its dry run."""

from __future__ import annotations

import time

import numpy as np
import pytest
import streamlit as st

from desk import learning
from desk import store as db
from desk.learning.features import FeatureSpec
from desk.learning.model import LinearModel
from desk.learning.training import as_frame
from desk.sources import AdAccount
from desk.store import learning as ldb
from desk.store.sql import fetch_rows
from desk.store.times import utc_now
from desk.ui import learning as learning_ui
from tests.pages.conftest import app_scheduler, no_errors, open_page, page_context

INBOX, INSIGHTS, RULES = "pages/3_Inbox.py", "pages/4_Insights.py", "pages/9_Rules.py"
JO = "jo@brand.example"


@pytest.fixture(autouse=True)
def roles(monkeypatch):
    monkeypatch.setenv("DESK_ADMINS", JO)


def answer_model(store, advertiser_id: str | None, *, beats: bool = True) -> int:
    """An answer model for the account (None: across accounts) that prefers comments with
    "song" in them, stored as training would store it, and the comments scored with it."""
    spec = FeatureSpec(n_features=2**12)
    coef = np.zeros(spec.width, dtype=np.float32)
    probe = spec.features(as_frame(["song"]))
    coef[probe.indices[probe.indices < spec.n_features]] = 8.0
    with store.cursor() as cur:
        model_id = ldb.save_model(
            cur, target="answer", account=advertiser_id and ("ad", advertiser_id),
            code_version=learning.CODE_VERSION, trained_at=utc_now(), examples=400,
            positives=40, split_at=utc_now(), precision=0.8, recall=0.8,
            baseline_precision=0.3, baseline_recall=0.3, beats_baseline=beats,
            settings={**spec.settings(), "k": 40},
            weights=LinearModel(spec, coef, -4.0).to_bytes())
        learning.score_stored(cur)
    return model_id


def test_the_inbox_shows_the_answer_score_only_while_a_model_is_in_use(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    no_errors(at)
    assert "answer_score" not in at.dataframe[0].value.columns

    answer_model(store, advertiser_id)
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    no_errors(at)
    shown = at.dataframe[0].value
    assert "answer_score" in shown.columns
    with store.cursor() as cur:
        expected = db.inbox_queue(cur, advertiser_id=advertiser_id, now=utc_now(),
                                  answer_scores=True)
    assert shown["content"].tolist() == expected["content"].fillna("").tolist()
    for _, same in shown.groupby(shown["priority"].str[:2]):  # P1, P2: scores descending
        assert same["answer_score"].is_monotonic_decreasing
    assert "song" in shown["content"].iloc[0].lower()  # nothing is classified: all P2

    answer_model(store, advertiser_id, beats=False)  # the newest does not beat the baseline
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    assert "answer_score" not in at.dataframe[0].value.columns


def test_an_admin_has_the_models_learn_across_accounts_and_the_inbox_follows(synced, store):
    advertiser_id = synced["WRITER"]
    across = answer_model(store, None)  # trained across accounts: not in use per account
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    assert "answer_score" not in at.dataframe[0].value.columns

    settings = open_page("pages/8_Settings.py", email=JO)
    no_errors(settings)
    assert settings.radio(key="settings_learning_scope").value == "each account"
    settings.radio(key="settings_learning_scope").set_value("all accounts").run()
    settings.button(key="settings_learning_save").click().run()
    no_errors(settings)
    with store.cursor() as cur:
        chosen = ldb.training_scope(cur)
        assert (chosen.scope, chosen.set_by) == ("all accounts", JO)
        assert fetch_rows(cur, "SELECT actor, detail FROM audit_log "
                               "WHERE event = 'learning_scope'") == [(JO, "all accounts")]

    deadline = time.monotonic() + 60  # the retraining, woken at once, scores the comments
    while True:
        with store.cursor() as cur:
            scored = fetch_rows(cur, "SELECT count(*) FROM comments WHERE scored_with = ?",
                                [f"answer:{across}"])[0][0]
        if scored:
            break
        assert time.monotonic() < deadline, "the comments were not scored with the model"
        time.sleep(0.2)
    at = open_page(INBOX, {"advertiser": advertiser_id}, email=JO)
    no_errors(at)
    assert "answer_score" in at.dataframe[0].value.columns


def test_insights_show_the_model_card(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(INSIGHTS, {"advertiser": advertiser_id, "tab": "Learned from the team"},
                   email=JO)
    no_errors(at)
    assert learning_ui.NO_MODEL in [c.value for c in at.caption]

    model_id = answer_model(store, advertiser_id)
    st.cache_data.clear()  # as the retrainer does when it stores a model
    at = open_page(INSIGHTS, {"advertiser": advertiser_id, "tab": "Learned from the team"},
                   email=JO)
    no_errors(at)
    [card] = [d.value for d in at.dataframe if "baseline_precision" in d.value.columns]
    assert card.to_dict("records")[0] | {"trained_at": None, "split_at": None} == {
        "target": "Will be answered", "account": f"Ad account {advertiser_id}", "in_use": True,
        "examples": 400, "positives": 40, "trained_at": None, "split_at": None, "k": 40,
        "precision": 0.8, "baseline_precision": 0.3, "recall": 0.8, "baseline_recall": 0.3,
        "model_id": model_id}


def test_the_rules_page_suggests_a_rule_from_the_hand_hides_and_dry_runs_it(
        synced, store, settings):
    advertiser_id = synced["WRITER"]
    with store.cursor() as cur:
        songs = db.query_records(cur, "SELECT comment_id FROM comments WHERE advertiser_id = ? "
                                      "AND comment_type = 'COMMENT' AND NOT can_delete "
                                      "AND content ILIKE '%song%'", [advertiser_id])
        assert len(songs) >= 3
        for row in songs:  # a person hid each of them from Comment Desk
            fetch_rows(cur, "INSERT INTO outbox (request_key, kind, source, advertiser_id, "
                            "comment_id, status, actor, created_at, updated_at) "
                            "VALUES (?, 'hide', 'ad', ?, ?, 'sent', ?, now(), now())",
                       [f"hide-{row['comment_id']}", advertiser_id, row["comment_id"], JO])
    at = open_page(RULES, {"advertiser": advertiser_id})  # the local user, an admin
    no_errors(at)
    [code] = at.code
    assert 'keywords = ["song"]' in code.value and 'action = "hide"' in code.value

    at.button(key="rules_suggest_dry_run").click().run()
    no_errors(at)
    account = AdAccount(page_context(settings, advertiser_id).workspace, advertiser_id)
    runner = app_scheduler().tasks
    deadline = time.monotonic() + 60
    while (state := runner.state(learning_ui.dry_run_key(account))) is None or state.running:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.run()
    no_errors(at)
    shown = {m.label: m.value for m in at.metric}
    assert int(shown["Matched"]) >= len(songs)

    at.button(key="rules_suggest_use").click().run()
    no_errors(at)
    assert at.text_area(key="rules_editor").value.strip() == code.value.strip()
