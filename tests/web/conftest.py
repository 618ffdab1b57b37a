"""Browser tests: Debian's headless Chromium, driven by Playwright, against a real `movierec serve`.

One server for the whole session (its first start loads the real MovieLens data and trains the
model), one browser, a fresh browser context per test. Requests to any other host (TMDB's image
host above all) are aborted, so the picture placeholders are tested deterministically and
nothing waits on a network this machine does not have.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright

from tests.conftest import PROJECT_ROOT
from tests.live_server import free_port, stop, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps dialling Google services, which this offline machine refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT_S = 300  # the first start runs the ETL and trains the model
# pytest-timeout counts fixture setup: the test that starts the server gets the start on top.
BROWSER_TEST_TIMEOUT_S = READY_TIMEOUT_S + 120
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
LOG_TAIL_CHARS = 6000

expect.set_options(timeout=20_000)


@dataclass(frozen=True)
class Server:
    url: str
    log_path: Path

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, movielens_dir: Path) -> Iterator[Server]:
    """`movierec serve` on a free port over a fresh data folder built from the real data."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (.ci/run does)")
    data_dir = tmp_path_factory.mktemp("served")
    port = free_port()
    server = Server(url=f"http://127.0.0.1:{port}", log_path=data_dir / "server.log")
    env = {
        **os.environ,
        "MOVIEREC_DATA_DIR": str(data_dir),
        "MOVIEREC_MOVIELENS_DIR": str(movielens_dir),
    }
    for inherited in ("MOVIEREC_DATABASE_URL", "MOVIEREC_MODELS_DIR", "MOVIEREC_WORKERS"):
        env.pop(inherited, None)
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "movierec", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            process,
            lambda: httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200,
            timeout=READY_TIMEOUT_S,
            what="movierec serve not ready",
            log=server.log_tail,
            interval=0.5,
        )
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, server: Server) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh tab (own sessionStorage) at desktop size; uncaught script errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})

    def only_our_server(route: Route) -> None:
        if route.request.url.startswith(f"{server.url}/"):
            route.continue_()
        else:
            route.abort("internetdisconnected")

    context.route("**/*", only_our_server)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    yield page
    context.close()
    assert not script_errors, f"uncaught script errors in the page: {script_errors}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """On a failing browser test: a screenshot in test-artifacts/ and the server's log."""
    report: pytest.TestReport = yield
    if report.when != "call" or not report.failed:
        return report
    funcargs = getattr(item, "funcargs", {})
    page = funcargs.get("page")
    if page is not None and not page.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"{item.name}.png"
        page.screenshot(path=shot, full_page=True)
        report.sections.append(("screenshot", str(shot)))
    server = funcargs.get("server")
    if server is not None:
        report.sections.append(("movierec serve log (tail)", server.log_tail()))
    return report
