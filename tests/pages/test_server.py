"""The real app server (`streamlit run Home.py`) in demo mode on a fresh data directory, driven
over its WebSocket the way a browser drives it: it starts, every page runs to the end, and an
ad account can be connected through the sandbox's consent screen, synced and read."""

from __future__ import annotations

import time

import pytest

from bench.app_bench import Browser, app_env, serve, visit
from desk import store as db
from tests.pages.conftest import HOSTILE_ADVERTISER, consent, seed_hostile

pytestmark = pytest.mark.slow

PAGES = ("", "Advertisers", "Ads", "Comments", "Insights", "Export", "Videos")


def alerts(run) -> list[str]:
    return [a.body for a in run.find("alert")]


def test_a_fresh_demo_serves_every_page(tmp_path):
    with serve(app_env(tmp_path)) as (port, _):
        for page in PAGES:
            run = visit(port, page)
            assert run.errors == [], (page, run.errors)
            assert len(run.elements) > 3, page
    assert (tmp_path / "bench.duckdb").exists()  # the app made its database on first use


def test_connect_sync_and_read_through_the_real_server(tmp_path):
    with serve(app_env(tmp_path)) as (port, _):
        [link] = [b for b in visit(port).find("link_button")
                  if b.label == "Connect a TikTok ad account"]
        callback = consent(link.url)
        with Browser(port) as tab:  # TikTok's redirect lands in a new session
            home = tab.open("", "&".join(f"{k}={v}" for k, v in callback.items()))
        assert home.errors == []
        assert any("Connected 3 ad account(s)" in a for a in alerts(home))
        options = visit(port, "Advertisers").find("selectbox")[0].options
        assert len(options) == 3
        query = f"advertiser={options[0].rsplit(' · ', 1)[1]}"
        with Browser(port) as tab:  # a link to the Advertisers page with ?advertiser=ID
            page = tab.open("Advertisers", query)
            synced = tab.click(page, "Sync now", "Advertisers", query)
            deadline = time.monotonic() + 120
            while not any("comments from" in a for a in alerts(synced)):  # it runs on its own
                assert synced.errors == [] and time.monotonic() < deadline
                time.sleep(0.2)
                synced = tab.open("Advertisers", query)
        assert synced.errors == []
        assert synced.find("progress")
        comments = visit(port, "Comments", query)
        assert comments.errors == [] and len(comments.find("text")) >= 5


def test_the_server_shows_a_stored_account_without_errors(tmp_path):
    with db.Store.open(tmp_path / "bench.duckdb") as store:
        seed_hostile(store)
    with serve(app_env(tmp_path)) as (port, _):
        for page in PAGES:
            run = visit(port, page, f"advertiser={HOSTILE_ADVERTISER}")
            assert run.errors == [], (page, run.errors)
        comments = visit(port, "Comments", f"advertiser={HOSTILE_ADVERTISER}")
        assert len(comments.find("text")) == 8
