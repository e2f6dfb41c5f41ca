"""End to end in a real Chromium (Debian's, driven by Playwright): the register as users meet it."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.support.accounts import PASSWORD, make_user
from tests.support.environment import IN_CI

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("MONITOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if IN_CI:
        raise pytest.UsageError(
            f"CI=true but Chromium is missing ({CHROMIUM}); run make system-deps"
        )
    pytest.skip("Chromium is not installed (make system-deps installs it)", allow_module_level=True)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    """A page in Debian's Chromium, and the console errors it logs (a CSP violation is one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        console_errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
        try:
            yield page, console_errors
        finally:
            browser.close()


def log_in(page: Any, live_server: str, email: str) -> None:
    """Through the login page, as a user would."""
    page.goto(f"{live_server}/")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_editor_records_a_status_change_and_sees_it_everywhere(
    app: Flask,
    demo: dict[str, str],
    live_server: str,
    tmp_path: Path,
    browser_page: tuple[Any, list[str]],
) -> None:
    from playwright.sync_api import expect

    editor = make_user("editor", "confidential", email="editor@example.org")
    page, console_errors = browser_page
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/login?next=%2F")
    page.fill("#email", editor.email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#status-counts [data-status=jailed]")).to_have_text("1")

    page.get_by_role("link", name="Cases", exact=True).first.click()
    page.fill("#q", "សុខា")
    page.keyboard.press("Enter")
    results = page.locator("table tbody tr")
    expect(results).to_have_count(1)
    page.get_by_role("link", name="Kem Sokha").first.click()
    body = page.locator("main")
    expect(body).to_contain_text("កឹម សុខា")
    expect(body).to_contain_text("jailed")
    expect(body).to_contain_text("Treason")
    expect(body).to_contain_text("maximum 30 years")

    page.get_by_role("link", name="Record status change").click()
    page.select_option("#status", "house_arrest")
    page.fill("#occurred_on", "2018-09-10")
    page.fill("#location", "Phnom Penh")
    page.fill("#description", "Moved from prison to house arrest.")
    page.fill("#source_title", "Court order")
    page.fill("#source_publisher", "Test wire")
    page.get_by_role("button", name="Record").click()

    expect(body).to_contain_text("house arrest")
    expect(body).to_contain_text("10 September 2018")
    expect(body).to_contain_text("Moved from prison to house arrest.")
    page.screenshot(path=str(tmp_path / "case.png"), full_page=True)

    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.locator("#status-counts [data-status=jailed]")).to_have_text("0")
    expect(page.locator("#status-counts [data-status=house_arrest]")).to_have_text("1")
    expect(page.locator("#latest")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Kem Sokha")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    # The CSP forbids inline script and style: a violation would show up as a console error.
    assert console_errors == []


def test_editor_imports_ten_mps_from_the_template_after_fixing_two_typos(
    app: Flask,
    demo: dict[str, str],
    live_server: str,
    tmp_path: Path,
    browser_page: tuple[Any, list[str]],
) -> None:
    from playwright.sync_api import expect

    from tests.support.imports import csv_bytes, mp

    editor = make_user("editor", "confidential", email="importer@example.org")
    page, console_errors = browser_page
    log_in(page, live_server, editor.email)
    page.get_by_role("link", name="Data", exact=True).first.click()
    with page.expect_download() as download:
        page.locator("#template").click()
    template = tmp_path / "template.csv"
    download.value.save_as(template)
    assert template.read_text(encoding="utf-8-sig").startswith("external_id,name,name_native")

    rows = [mp(n) for n in range(1, 11)]
    rows[2]["status"] = "jialed"
    rows[6]["status_date"] = "2017-13"
    typos = tmp_path / "mps-with-typos.csv"
    typos.write_bytes(csv_bytes(rows))
    page.set_input_files("#file", str(typos))
    page.get_by_role("button", name="Check the file").click()
    problems = page.locator("#import-problems tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("4")
    expect(problems.nth(0)).to_contain_text("'jialed'")
    expect(problems.nth(1)).to_contain_text("status_date")
    expect(page.locator("main")).to_contain_text("Nothing was imported")

    rows[2]["status"] = "jailed"
    rows[6]["status_date"] = "2017-11"
    fixed = tmp_path / "mps.csv"
    fixed.write_bytes(csv_bytes(rows))
    page.get_by_role("link", name="Data in and out").click()
    page.set_input_files("#file", str(fixed))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#import-preview tbody tr")).to_have_count(10)
    page.get_by_role("button", name="Import 10 rows").click()
    expect(page.locator("#import-done")).to_contain_text("10 new cases")

    page.get_by_role("link", name="Organizations", exact=True).first.click()
    page.get_by_role("link", name="Cambodia National Rescue Party").first.click()
    main = page.locator("main")
    for n in (1, 3, 7, 10):
        expect(main).to_contain_text(f"Member {n}")
    expect(main).to_contain_text("សមាជិក 3")
    page.screenshot(path=str(tmp_path / "organization.png"), full_page=True)
    assert console_errors == []
