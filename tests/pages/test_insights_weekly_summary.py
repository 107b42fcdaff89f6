"""Insights' weekly summary: a viewer chooses the week (the last whole week unless they pick
another) and prepares it; the file offered is exactly the report desk.report makes."""

from __future__ import annotations

from datetime import date

import pytest

from desk.report import Account, account_timezone, last_full_week, report_file_name, weekly_report
from tests.pages.conftest import no_errors, open_page
from tests.pages.test_export import downloaded, media  # noqa: F401 (the media fixture)

PAGE = "pages/4_Insights.py"
VIEWER = "vi@agency.example"


@pytest.fixture(autouse=True)
def roles(monkeypatch):
    monkeypatch.setenv("DESK_ADMINS", "boss@brand.example")
    monkeypatch.setenv("DESK_VIEWERS", VIEWER)


def test_a_viewer_downloads_the_weekly_summary_of_the_chosen_week(synced, store, media):  # noqa: F811
    advertiser_id = synced["WRITER"]
    account = Account("ad", advertiser_id)
    at = open_page(PAGE, query={"advertiser": advertiser_id, "tab": "Weekly summary"}, email=VIEWER)
    no_errors(at)
    assert at.selectbox(key="insights_summary_account").value == f"ad:{advertiser_id}"
    with store.cursor() as cur:
        latest = last_full_week(account_timezone(cur, account))
    weeks = at.selectbox(key="insights_summary_week")
    assert weeks.value == latest.isoformat() and len(weeks.options) == 12
    assert not at.get("download_button")  # nothing until it is prepared

    at.button(key="insights_summary_prepare").click().run()
    no_errors(at)
    name, data = downloaded(at, media)
    assert name == report_file_name(account, latest)
    with store.cursor() as cur:
        assert data == weekly_report(cur, account, latest)

    earlier = date.fromordinal(latest.toordinal() - 7)
    at.selectbox(key="insights_summary_week").set_value(earlier.isoformat()).run()
    assert not at.get("download_button")  # the file was for the other week
    at.button(key="insights_summary_prepare").click().run()
    name, data = downloaded(at, media)
    assert name == report_file_name(account, earlier)
    with store.cursor() as cur:
        assert data == weekly_report(cur, account, earlier)
