"""The control panel driven in a real headless Chromium (Debian's), against ``usagemock serve``.

Playwright drives the system browser (``/usr/bin/chromium``); it never downloads one. In CI
(``CI=true``) a missing browser fails the run; elsewhere these tests skip saying how to get it.
Each test saves screenshots under ``test-artifacts/panel/`` (ignored by git) and prints where.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.conftest import REPO, bearer
from tests.test_cli import NOW, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "panel"
FLAGS = [  # what works in a container: no sandbox, no GPU, nothing phoning home
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000  # per expectation; the page answers in milliseconds, so only a bug waits this long
TOKEN = "panel-secret-token"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, with a fresh profile."""
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing; install Debian's chromium (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}: .ci/run installs it, so CI must have it.")
        pytest.skip(f"{why} to run the browser tests.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """The screenshot folder; each test overwrites its own files, so xdist workers can share it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\npanel screenshots: {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture
def server() -> Iterator[LiveServer]:
    """Both APIs on a real loopback port, the clock frozen at NOW."""
    live = LiveServer("--now", NOW)
    yield live
    if live.process.poll() is None:  # a test may have stopped it already
        try:
            live.stop()
        except subprocess.TimeoutExpired:
            live.process.kill()
            live.process.communicate()


class Watched:
    """A page whose console errors and uncaught exceptions are kept, to assert there are none."""

    def __init__(self, browser: Browser) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1400, "height": 1300})
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text}")

    def answer(self) -> dict[str, Any]:
        """The org's current answer as the panel shows it."""
        return dict(json.loads(self.page.locator("#answer").inner_text()))


@pytest.fixture
def panel(browser: Browser, server: LiveServer) -> Iterator[Watched]:
    """The panel open in a fresh page; closed before the server stops (its stream is open)."""
    watched = Watched(browser)
    watched.page.goto(f"{server.url}/_usagemock/panel/")
    yield watched
    watched.page.close()


def open_org(watched: Watched, api: str, org_id: str) -> None:
    """Open an org by id with the form, as a person would."""
    page = watched.page
    page.get_by_label("API").select_option(api)
    page.get_by_label("Org id").fill(org_id)
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#org-title")).to_have_text(f"{api} / {org_id}", timeout=WAIT_MS)
    expect(page.locator("#answer")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#chart canvas")).to_be_visible(timeout=WAIT_MS)


def test_scenario_clock_chart_and_request_log(
    panel: Watched, server: LiveServer, artifacts: Path
) -> None:
    """A scenario, a fault and a month later: answer and chart follow, requests stream, no errors.

    The server also stops promptly with the page (and its request stream) still open.
    """
    watched, page = panel, panel.page
    expect(page.locator("#clock-now")).to_contain_text("2026-03-17 14:30:00", timeout=WAIT_MS)
    expect(page.locator("#requests-state")).to_have_text("(live)", timeout=WAIT_MS)
    open_org(watched, "kenbun", "org_panel")
    before = watched.answer()
    page.screenshot(path=artifacts / "1-generated-org.png", full_page=True)
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select, button')]"
        ".filter(e => !(e.labels && e.labels.length) && !e.textContent.trim())"
        ".map(e => e.outerHTML)"
    )
    assert unlabelled == [], "every control has a label (or, for buttons, text)"

    page.get_by_label("Put the org into").select_option("approaching_limit")
    page.get_by_role("button", name="Apply scenario").click()
    expect(page.locator("#org-scenario")).to_have_text("approaching_limit", timeout=WAIT_MS)
    in_scenario = watched.answer()
    assert in_scenario["monthly_events"] == 460_000 != before["monthly_events"]
    assert in_scenario["free_tier_limit"] == 500_000 and not in_scenario["overage"]
    expect(page.locator("#chart-caption")).to_contain_text("Free tier 500,000", timeout=WAIT_MS)
    expect(page.locator("#chart-caption")).to_contain_text("1 ingest(s)", timeout=WAIT_MS)
    chart = page.locator("#chart")
    assert chart.get_attribute("data-period-start") == "2026-03-01T00:00:00Z"
    page.screenshot(path=artifacts / "2-approaching-limit.png", full_page=True)

    page.get_by_label("Answer with an error").check()
    page.get_by_label("status", exact=True).select_option("401")
    page.get_by_label("Add latency").check()
    page.get_by_label("ms", exact=True).fill("5")
    page.get_by_role("button", name="Set fault").click()
    expect(page.locator("#org-fault")).to_have_text("401 at rate 1 +5 ms", timeout=WAIT_MS)
    page.get_by_role("button", name="Clear fault").click()
    expect(page.locator("#org-fault")).to_have_text("none", timeout=WAIT_MS)

    page.get_by_role("button", name="+1 month").click()
    expect(page.locator("#clock-now")).to_contain_text("2026-04-17 14:30:00", timeout=WAIT_MS)
    expect(page.locator("#answer")).to_contain_text("2026-04-01T00:00:00Z", timeout=WAIT_MS)
    expect(chart).to_have_attribute("data-period-start", "2026-04-01T00:00:00Z", timeout=WAIT_MS)
    next_month = watched.answer()
    assert next_month["billing_cycle_start"] == "2026-04-01T00:00:00Z"
    assert next_month["monthly_events"] != in_scenario["monthly_events"]

    with httpx.Client() as client:
        served = client.get(
            f"{server.url}/timbal/orgs/org_seen/billing/overage", headers=bearer(TOKEN)
        )
    assert served.status_code == 200
    row = page.locator("#requests tr").filter(has_text="/timbal/orgs/org_seen/billing/overage")
    expect(row).to_have_count(1, timeout=WAIT_MS)
    expect(row).to_contain_text("org_seen")
    expect(row).to_contain_text("200")
    assert TOKEN not in page.content(), "the log shows tokens masked"
    expect(page.locator("#orgs")).to_contain_text("org_seen", timeout=WAIT_MS)
    page.screenshot(path=artifacts / "3-next-month-and-log.png", full_page=True)
    assert watched.errors == []

    started = time.monotonic()
    server.stop()  # with the panel's request stream still open
    stopped_in = time.monotonic() - started
    assert stopped_in < 8, f"usagemock serve took {stopped_in:.1f} s to stop with a panel open"


def test_timbal_chart_draws_what_is_ahead_and_the_threshold(
    panel: Watched, artifacts: Path
) -> None:
    """Timbal: a scenario's timeline and an ingest dated ahead are drawn ahead of now."""
    page = panel.page
    caption = page.locator("#chart-caption")
    open_org(panel, "timbal", "org_1")  # seed 0: its period runs 2026-03-13 to 04-13
    page.get_by_label("Put the org into").select_option("growth_timeline")
    page.get_by_role("button", name="Apply scenario").click()
    expect(page.locator("#org-scenario")).to_have_text("growth_timeline", timeout=WAIT_MS)
    expect(caption).to_contain_text("3 ingest(s), 2 ahead of now", timeout=WAIT_MS)
    page.screenshot(path=artifacts / "4-timbal-timeline.png", full_page=True)

    page.get_by_label("Put the org into").select_option("interim_invoice_fired")
    page.get_by_role("button", name="Apply scenario").click()
    expect(page.locator("#org-scenario")).to_have_text("interim_invoice_fired", timeout=WAIT_MS)
    expect(caption).to_contain_text("Invoice threshold ($100) 1,000,000", timeout=WAIT_MS)
    page.get_by_label("Amount (credits)").fill("1500000")
    page.get_by_label("at (UTC, empty: now)").fill("2026-03-20T12:00:00")
    page.get_by_role("button", name="Ingest", exact=True).click()
    expect(caption).to_contain_text("3 ingest(s), 1 ahead of now", timeout=WAIT_MS)
    answer = panel.answer()
    assert (answer["invoiced_credits"], answer["pending_credits"]) == (1_000_000, 250_000)
    page.screenshot(path=artifacts / "5-timbal-threshold.png", full_page=True)
    assert panel.errors == []


def test_with_an_admin_token_the_page_asks_for_it_once_and_sends_it(
    browser: Browser, artifacts: Path
) -> None:
    """Behind --admin-token the page asks for the token, then works: the clock, an org, a reset."""
    live = LiveServer("--now", NOW, "--admin-token", TOKEN)
    watched = Watched(browser)
    page = watched.page
    try:
        page.goto(f"{live.url}/_usagemock/panel/")
        token = page.get_by_label("Admin token")
        expect(token).to_be_focused(timeout=WAIT_MS)
        expect(page.locator("#status")).to_contain_text("401", timeout=WAIT_MS)
        token.fill(TOKEN)
        page.get_by_role("button", name="Use it").click()
        expect(page.locator("#clock-now")).to_contain_text("2026-03-17 14:30:00", timeout=WAIT_MS)
        expect(page.locator("#requests-state")).to_have_text("(live)", timeout=WAIT_MS)
        open_org(watched, "kenbun", "org_token")
        page.get_by_role("button", name="+1 week").click()
        expect(page.locator("#clock-now")).to_contain_text("2026-03-24", timeout=WAIT_MS)
        page.get_by_label("Set the date (UTC)").fill("2026-07-01T09:15:00")
        page.get_by_role("button", name="Set", exact=True).click()
        expect(page.locator("#clock-now")).to_contain_text("2026-07-01 09:15:00", timeout=WAIT_MS)
        page.get_by_label("By an ISO 8601 duration").fill("-PT6H")
        page.get_by_role("button", name="Advance", exact=True).click()
        expect(page.locator("#clock-now")).to_contain_text("2026-07-01 03:15:00", timeout=WAIT_MS)
        expect(page.locator("#answer")).to_contain_text("2026-07-01T00:00:00Z", timeout=WAIT_MS)
        page.get_by_label("Amount (events)").fill("5")
        page.get_by_role("button", name="Ingest", exact=True).click()
        expect(page.locator("#org-state")).to_contain_text("Changed", timeout=WAIT_MS)
        page.get_by_role("button", name="Reset this org").click()
        expect(page.locator("#org-state")).to_contain_text(
            "Generated from the seed", timeout=WAIT_MS
        )
        page.screenshot(path=artifacts / "6-admin-token.png", full_page=True)
        page.close()
    finally:
        live.stop()
    unauthorized = [e for e in watched.errors if "401" not in e]
    assert unauthorized == [], "only the refused requests before the token may log errors"
