"""Insights' response-time report against the sandbox: an admin sets the account's target on
Settings, a responder answers a comment from the Comments page, and the report's times per
person are the ones the sandbox's own comments give; only an admin may set a target."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from desk import outbox
from desk import store as db
from desk.people import NotAllowed, Person
from desk.ui import responses as responses_ui
from tests.pages.conftest import no_errors, open_page, page_context, plain, sandbox_comments
from tests.pages.test_comments import PAGE as COMMENTS
from tests.pages.test_comments import send

PAGE = "pages/4_Insights.py"
BOSS, ANA = "boss@brand.example", "ana@brand.example"
TARGET_DAYS = 30


@pytest.fixture(autouse=True)
def roles(monkeypatch):
    monkeypatch.setenv("DESK_ADMINS", BOSS)
    monkeypatch.setenv("DESK_RESPONDERS", "@brand.example")


def unanswered(store, truth: pd.DataFrame, advertiser_id: str) -> str:
    """A first-level comment the brand has not answered on TikTok, with a reply box."""
    answered = set(truth.loc[truth["can_delete"].astype(bool)
                             & (truth["comment_type"] == "REPLY"), "original_comment_id"])
    first_level = db.CommentFilters(advertiser_id, comment_type="COMMENT", status="PUBLIC")
    page = db.comments_page(store.cursor(), first_level, 200, 0)
    return next(r["comment_id"] for r in page.to_dict("records")
                if r["comment_id"] not in answered and outbox.can_reply(r) is None)


def first_responses(truth: pd.DataFrame) -> pd.DataFrame:
    """Minutes from each first-level comment to the brand's first reply, as the sandbox's
    comments give them (TikTok's create_time, to the second)."""
    when = pd.to_datetime(truth["create_time"].str.removesuffix(" +0000 UTC"), utc=True)
    truth = truth.assign(when=when)
    brand = truth[(truth["comment_type"] == "REPLY") & truth["can_delete"].astype(bool)]
    first = brand.groupby("original_comment_id")["when"].min()
    parents = truth[truth["comment_type"] == "COMMENT"].set_index("comment_id")["when"]
    answered = first[first.index.isin(parents.index)]
    minutes = (answered - parents.loc[answered.index]).dt.total_seconds() / 60
    return pd.DataFrame({"comment_id": answered.index, "minutes": minutes.to_numpy()})


def expected_row(minutes: np.ndarray) -> dict:
    within = int((minutes <= TARGET_DAYS * 24 * 60).sum())
    return {"answered": len(minutes), "median_minutes": round(float(np.median(minutes)), 6),
            "p90_minutes": round(float(np.percentile(minutes, 90)), 6),
            "with_target": len(minutes), "within_target": within,
            "share_within_target": round(within / len(minutes), 6)}


def test_the_report_gives_each_person_the_times_the_sandbox_shows(synced, store, sandbox):
    advertiser_id = synced["WRITER"]
    admin = open_page("pages/8_Settings.py", query={"advertiser": advertiser_id}, email=BOSS)
    no_errors(admin)
    admin.selectbox(key="settings_targets_account").set_value(("ad", advertiser_id))
    admin.selectbox(key="settings_targets_scope").set_value("all")
    admin.number_input(key="settings_targets_amount").set_value(TARGET_DAYS)
    admin.selectbox(key="settings_targets_unit").set_value("days")
    admin.button(key="settings_targets_save").click().run()
    no_errors(admin)
    assert "All comments" in plain(admin.toast[0].value)
    [target] = db.list_targets(store.cursor()).to_dict("records")
    assert (target["account_id"], target["scope"], target["minutes"], target["set_by"]) == (
        advertiser_id, "all", TARGET_DAYS * 24 * 60, BOSS)

    comment_id = unanswered(store, sandbox_comments(sandbox, advertiser_id), advertiser_id)
    at = open_page(COMMENTS, query={"advertiser": advertiser_id}, email=ANA)
    at.selectbox(key="comments_type").select("Comments").run()
    send(at, comment_id, "Thanks for asking!")
    no_errors(at)

    truth = first_responses(sandbox_comments(sandbox, advertiser_id))
    ours = truth["comment_id"] == comment_id
    assert ours.sum() == 1, "the sandbox holds the reply"
    insights = open_page(PAGE, query={"advertiser": advertiser_id, "tab": "Response times"},
                         email=ANA)
    no_errors(insights)
    [people] = [d.value for d in insights.dataframe if "answered_by" in d.value.columns]
    shown = {row.pop("answered_by"): row for row in
             [{k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()}
              for r in people.astype(object).to_dict("records")]}
    assert shown[ANA] == expected_row(truth.loc[ours, "minutes"].to_numpy())
    outside = truth.loc[~ours, "minutes"].to_numpy()
    if len(outside):  # the sandbox's own brand replies, made outside Comment Desk
        assert shown[db.OUTSIDE_DESK] == expected_row(outside)
    assert set(shown) == {ANA} | ({db.OUTSIDE_DESK} if len(outside) else set())
    [per_ad] = [d.value for d in insights.dataframe if "backlog" in d.value.columns]
    assert int(per_ad["answered"].sum()) == len(truth)
    backlog = db.response_time_overall(store.cursor(), db.CommentFilters(advertiser_id))
    assert {m.label: m.value for m in insights.metric}["Waiting now"] == f"{backlog['backlog']:,}"
    [chart] = [json.loads(c.proto.spec) for c in insights.get("plotly_chart")
               if "Comments waiting" in c.proto.spec]
    within, late = chart["data"][0]["y"], chart["data"][1]["y"]
    assert len(within) == 30 and within[-1] + late[-1] == backlog["backlog"]
    insights.segmented_control(key="insights_backlog_grain").set_value("hour").run()
    no_errors(insights)

    admin.run()
    admin.button(key="settings_targets_remove").click().run()
    no_errors(admin)
    assert "Target removed" in plain(admin.toast[0].value)
    assert db.list_targets(store.cursor()).empty


def test_only_an_admin_may_set_or_remove_a_target(synced, settings, store):
    advertiser_id = synced["WRITER"]
    ana = page_context(settings, advertiser_id, person=Person(ANA, "responder"))
    boss = page_context(settings, advertiser_id, person=Person(BOSS, "admin"))

    with pytest.raises(NotAllowed, match="Only an admin or above may set response-time"):
        responses_ui.save_target(ana, "ad", advertiser_id, "question", 120)
    responses_ui.save_target(boss, "ad", advertiser_id, "question", 120)
    with pytest.raises(NotAllowed):
        responses_ui.remove_target(ana, "ad", advertiser_id, "question")

    assert db.list_targets(store.cursor())[["scope", "minutes", "set_by"]].to_dict(
        "records") == [{"scope": "question", "minutes": 120, "set_by": BOSS}]
    assert responses_ui.remove_target(boss, "ad", advertiser_id, "question") is True
    assert db.list_targets(store.cursor()).empty
