"""Ads: the counts per ad, the empty states, and opening an ad's comments."""

from __future__ import annotations

from desk import store as db
from desk import text
from tests.pages.conftest import infos, no_errors, open_page, sandbox_comments

PAGE = "pages/2_Ads.py"


def test_ads_show_the_stored_counts(synced, sandbox, store):
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    no_errors(at)
    shown = at.dataframe[0].value.set_index("ad_id")
    expected = db.ads_with_counts(store.cursor(), advertiser_id).set_index("ad_id")
    assert set(shown.index) == set(expected.index)
    for column in ("comment_count", "unanswered_count", "hidden_count"):
        assert shown[column].astype(int).to_dict() == expected[column].astype(int).to_dict()
    truth = sandbox_comments(sandbox, advertiser_id)
    assert shown["comment_count"].sum() == len(truth)
    assert shown["hidden_count"].sum() == (truth["comment_status"] == "HIDDEN").sum()
    assert {"ad_name", "campaign_name", "adgroup_name", "operation_status",
            "last_comment_time_local"} <= set(shown.columns)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Comments and replies"] == f"{len(truth):,}"


def test_a_connected_but_unsynced_account_says_sync_first(token, advertisers):
    at = open_page(PAGE, query={"advertiser": advertisers["WRITER"]})
    no_errors(at)
    assert "Sync it on the Advertisers page" in infos(at)[0]


def test_no_account_chosen_points_to_advertisers(token):
    at = open_page(PAGE)
    no_errors(at)
    assert "on the Advertisers page" in infos(at)[0]
    assert at.main.get("page_link")[-1].proto.page == "Advertisers"


def test_choosing_an_ad_opens_its_comments(synced, store):
    advertiser_id = synced["WRITER"]
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    table = at.dataframe[0].value
    ad_id = str(table.iloc[2]["ad_id"])
    at.session_state["ads_selected"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    no_errors(at)
    assert [t.value for t in at.title] == ["Comments"]
    assert at.multiselect(key="comments_ads").value == [ad_id]
    assert at.query_params["ad"] == ad_id
    expected = db.comments_count(store.cursor(), db.CommentFilters(advertiser_id, ad_ids=[ad_id]))
    assert f"**{text.plural(expected, 'comment')}**" in at.main.markdown[0].value


def test_ads_whose_comments_tiktok_does_not_provide_are_named_and_marked(synced, store):
    advertiser_id = synced["WRITER"]
    with store.cursor() as cur:
        [row] = db.query_records(cur, "SELECT ad_id, ad_name, adgroup_id FROM ads WHERE "
                                 "advertiser_id = ? ORDER BY ad_id LIMIT 1", [advertiser_id])
        cur.execute("UPDATE ads SET smart_plus = true WHERE ad_id = ?", [row["ad_id"]])
        db.set_comments_refused(cur, advertiser_id, [row["adgroup_id"]],
                                "This API does not support Upgraded Smart Plus ads (code 40002)")
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    no_errors(at)
    [warning] = [w.value for w in at.warning]
    assert "TikTok does not provide the comments" in warning
    assert text.md_escape(row["ad_name"]) in warning and "Ads Manager" in warning
    shown = at.dataframe[0].value.set_index("ad_id")
    assert shown.loc[row["ad_id"], "kind"] == "Smart+ · comments not provided by TikTok"
    refused = shown[shown["kind"].str.contains("not provided")]
    assert set(refused["adgroup_name"]) == {shown.loc[row["ad_id"], "adgroup_name"]}


def test_ads_tiktok_provides_comments_for_carry_no_mark(synced):
    at = open_page(PAGE, query={"advertiser": synced["WRITER"]})
    no_errors(at)
    assert not at.warning
    assert not any("not provided" in kind for kind in at.dataframe[0].value["kind"])


def test_reserved_ads_are_marked_with_how_they_were_bought(synced, store):
    advertiser_id = synced["WRITER"]
    with store.cursor() as cur:
        bought = {r["ad_id"]: r["buying_type"] for r in db.query_records(
            cur, "SELECT ad_id, buying_type FROM ads WHERE advertiser_id = ?", [advertiser_id])}
    assert set(bought.values()) == {"AUCTION", "RESERVATION_RF", "RESERVATION_TOP_VIEW"}
    at = open_page(PAGE, query={"advertiser": advertiser_id})
    no_errors(at)
    kinds = at.dataframe[0].value.set_index("ad_id")["kind"].to_dict()
    words = {"AUCTION": "", "RESERVATION_RF": "Reach & Frequency",
             "RESERVATION_TOP_VIEW": "TopView"}
    assert kinds == {ad_id: words[kind] for ad_id, kind in bought.items()}
