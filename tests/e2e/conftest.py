"""Browser tests: Debian's Chromium driven by Playwright against the app served by `make run`.

Every test here is marked `e2e`. A failing test leaves a screenshot and the text of each of
its pages, and the tail of the server's log, in test-results/e2e/ for the report.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, ROOT, App, Outside, StreamlitPage

ARTEFACTS = ROOT / "test-results" / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = (f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
                   "(or run `apt-get install -y chromium`).")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield chromium
        chromium.close()


@pytest.fixture
def open_browser(browser, request) -> Iterator[Callable[[App], tuple[StreamlitPage, Outside]]]:
    """Opens a fresh browser context (its own cookies and sessions) on an app.

    Requests to any host but this machine are refused and recorded in the returned Outside.
    """
    opened: list[tuple[object, App]] = []

    def open_on(app: App) -> tuple[StreamlitPage, Outside]:
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        outside = Outside()
        context.route("**/*", outside.guard)
        opened.append((context, app))
        return StreamlitPage(context.new_page(), app), outside

    yield open_on
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False)
                 for when in ("setup", "call"))
    for number, (context, app) in enumerate(opened):
        if failed:
            save_artefacts(request.node.nodeid, number, context, app)
        context.close()


def save_artefacts(nodeid: str, number: int, context, app: App) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-120:]
    for index, page in enumerate(context.pages):
        name = f"{stem}-{number}-{index}"
        try:
            page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
            (ARTEFACTS / f"{name}.txt").write_text(f"{page.url}\n\n{page.inner_text('body')}",
                                                   encoding="utf-8")
        except Exception as exc:  # a crashed page still gets its note
            (ARTEFACTS / f"{name}.txt").write_text(f"no capture: {exc}", encoding="utf-8")
    (ARTEFACTS / f"{stem}-{number}-server.log").write_text(app.log()[-20_000:],
                                                           encoding="utf-8")
