"""Fixtures for the browser tests: Airflow's API server on a throwaway home, the sandbox, Chromium.

The tests here are marked ``e2e``, which ``make test`` leaves out; ``make e2e`` installs Chromium
(Debian's ``chromium`` package) and Playwright for Python, then runs them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from airflow_provider_bitcapital.sandbox import SandboxServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "e2e-screenshots"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 180
UI_WAIT_MILLISECONDS = 30_000

_screenshots_taken: list[Path] = []


@dataclass(frozen=True)
class AirflowUI:
    """A running Airflow API server, which also serves the web UI."""

    url: str
    home: Path
    env: dict[str, str]
    log_file: Path

    def airflow(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run the ``airflow`` command line against this server's home."""
        return subprocess.run(
            [AIRFLOW, *arguments],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=True,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the test, so the ``page`` fixture can tell a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the screenshots are, once the browser tests have run."""
    if _screenshots_taken:
        terminalreporter.write_sep("-", f"screenshots of the connection form: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder the screenshots are written to, emptied first."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    _screenshots_taken.append(SCREENSHOTS)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """A Bitcapital sandbox on a free port, in this process."""
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="session")
def airflow_ui() -> Iterator[AirflowUI]:
    """Migrate a SQLite metadata database in a temporary home and serve Airflow's UI from it.

    The Test button is enabled and the simple auth manager lets everyone in as an admin, which
    is only acceptable because the home is thrown away. The server is stopped at the end, also
    when a test fails.
    """
    home = Path(tempfile.mkdtemp(prefix="bitcapital-e2e-airflow-"))
    env = _server_environment(home)
    port = _free_port()
    log_file = home / "api-server.log"
    ui = AirflowUI(url=f"http://127.0.0.1:{port}", home=home, env=env, log_file=log_file)
    ui.airflow("db", "migrate")

    with log_file.open("w") as log:
        server = subprocess.Popen(
            [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_healthy(ui, server)
        print(f"\nAirflow UI: {ui.url} (home {home}, log {log_file})")
        yield ui
    finally:
        _stop(server)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright for Python, or a failure that says how to install it."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is not installed: run `make e2e`, which installs it")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium from Debian's ``chromium`` package."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make e2e`, which installs Debian's chromium package")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, screenshots: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser page with generous waits; a failing test leaves a screenshot behind."""
    from playwright.sync_api import expect

    expect.set_options(timeout=UI_WAIT_MILLISECONDS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(UI_WAIT_MILLISECONDS)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        failure = screenshots / f"failure-{request.node.name}.png"
        page.screenshot(path=str(failure), full_page=True)
        print(f"\nScreenshot of the failure: {failure}")
    context.close()


def _server_environment(home: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AIRFLOW_CONN_") and name != "AIRFLOW__CORE__UNIT_TEST_MODE"
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        }
    )
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_healthy(ui: AirflowUI, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"airflow api-server exited with {server.returncode}:\n{_tail(ui.log_file)}")
        try:
            if requests.get(f"{ui.url}/api/v2/monitor/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"airflow api-server did not answer within {SERVER_START_SECONDS} s:\n{_tail(ui.log_file)}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    # The server starts worker processes of its own: stop the whole process group.
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def _tail(log_file: Path, lines: int = 40) -> str:
    if not log_file.exists():
        return "(no log)"
    return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
