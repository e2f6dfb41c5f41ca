"""A dossier's or an import's page while a worker is on it, in Chromium: no meta refresh. With
script (monitor/static/js/progress.js) the page updates in place and its live region says each
new state once; without script, its Refresh link shows the new state."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from monitor.extensions import db
from monitor.models import Dossier
from monitor.services import dossiers, imports
from tests.support.accounts import PASSWORD, make_user
from tests.support.browser import (
    PHONE,
    axe_violations,
    chromium,
    console_problems,
    require_tools,
    serving,
)
from tests.support.dossiers import render_queued
from tests.support.imports import csv_bytes, mp

pytestmark = pytest.mark.e2e

# Long enough for a few polls (every 2 s) on a busy machine.
FOLLOWED = 20_000

# Notes every text the live region takes, and whether the page was ever reloaded.
LISTEN = """() => {
  window.samePage = true;
  window.said = [];
  new MutationObserver(() => window.said.push(
      document.getElementById('progress-status').textContent.trim()))
    .observe(document.getElementById('progress-status'),
             {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module."""
    require_tools()
    with chromium() as running:
        yield running


def open_tab(browser: Any, base: str, email: str, *, javascript: bool) -> Any:
    """A logged-in phone-sized tab (closed with its context by the caller)."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    return page


def request_dossier(page: Any, base: str, case_id: str) -> str:
    """Press the case page's dossier button; the dossier's id."""
    page.goto(f"{base}/cases/{case_id}")
    page.locator(".dossier-request button").click()
    page.wait_for_url(f"{base}/dossiers/*")
    return str(page.url.rsplit("/", 1)[-1])


def test_the_dossier_page_follows_its_progress_in_place_and_says_each_state_once(
    app: Flask, demo: dict[str, str], browser: Any
) -> None:
    from playwright.sync_api import expect

    editor = make_user("editor", "confidential", email="follows@example.org")
    with serving(app) as base:
        page = open_tab(browser, base, editor.email, javascript=True)
        public_id = request_dossier(page, base, demo["Kem Sokha"])
        expect(page.locator("#dossier-state")).to_have_text("queued")
        assert page.locator('meta[http-equiv="refresh"]').count() == 0
        expect(page.locator("[data-progress-hint]")).to_contain_text("updates itself")
        page.evaluate(LISTEN)

        dossiers.claim(public_id)
        dossiers.set_progress(public_id, 40)
        db.session.commit()
        expect(page.locator("#dossier-progress")).to_have_text("40 %", timeout=FOLLOWED)
        expect(page.locator("#dossier-state")).to_have_text("rendering")

        # The worker's code, run here: it picks up queued dossiers only.
        db.session.execute(
            update(Dossier).where(Dossier.public_id == public_id).values(state="queued")
        )
        db.session.commit()
        assert render_queued(app, public_id) == "ready"
        expect(page.locator("#download")).to_be_visible(timeout=FOLLOWED)

        assert page.evaluate("() => window.samePage") is True  # never reloaded
        said = page.evaluate("() => window.said")
        assert page.locator("#progress").get_attribute("data-progress-every") is None  # stopped
        expect(page.locator("#progress-status")).to_have_attribute("role", "status")
        violations = axe_violations(page)
        errors = console_problems(page.errors)
        page.context.close()
    assert said[0] == "Rendering the PDF."
    assert said[-1] == "Ready: the PDF can be downloaded."
    assert all(one != two for one, two in itertools.pairwise(said))  # each change once
    assert violations == []
    assert errors == []


def test_without_script_the_refresh_link_shows_the_new_state(
    app: Flask, demo: dict[str, str], browser: Any
) -> None:
    from playwright.sync_api import expect

    editor = make_user("editor", "confidential", email="no.script@example.org")
    with serving(app) as base:
        page = open_tab(browser, base, editor.email, javascript=False)
        public_id = request_dossier(page, base, demo["Kem Sokha"])
        expect(page.locator("#dossier-state")).to_have_text("queued")
        assert page.locator('meta[http-equiv="refresh"]').count() == 0
        expect(page.locator(".progress-refresh")).to_have_text(
            "To see how far it got, refresh the page."
        )
        assert render_queued(app, public_id) == "ready"
        expect(page.locator("#download")).to_be_hidden()  # nothing moves by itself
        page.get_by_role("link", name="refresh the page").click()
        expect(page.locator("#download")).to_be_visible()
        expect(page.locator("#progress-status")).to_have_text("Ready: the PDF can be downloaded.")
        page.context.close()


def test_a_background_import_page_follows_its_progress_in_place(
    app: Flask, demo: dict[str, str], browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    settings = dataclasses.replace(app.config["SETTINGS"], import_inline_rows=5)
    app.config["SETTINGS"] = settings  # six rows go to a worker
    editor = make_user("editor", "confidential", email="importer.phone@example.org")
    upload = tmp_path / "six.csv"
    upload.write_bytes(csv_bytes([mp(n) for n in range(1, 7)]))
    with serving(app) as base:
        page = open_tab(browser, base, editor.email, javascript=True)
        page.goto(f"{base}/data")
        page.set_input_files("#file", str(upload))
        page.get_by_role("button", name="Check the file").click()
        page.get_by_role("button", name="Import 6 rows").click()
        expect(page.locator("#import-state")).to_have_text("queued")
        assert page.locator('meta[http-equiv="refresh"]').count() == 0
        page.evaluate(LISTEN)

        public_id = page.url.rsplit("/", 1)[-1]
        record = imports.claim(public_id)
        assert record is not None
        imports.run(record.requested_by, record, settings)
        db.session.commit()
        expect(page.locator("#import-done")).to_contain_text("6 new cases", timeout=FOLLOWED)

        assert page.evaluate("() => window.samePage") is True
        said = page.evaluate("() => window.said")
        violations = axe_violations(page)
        errors = console_problems(page.errors)
        page.context.close()
    assert said[-1] == "Import done."
    assert violations == []
    assert errors == []
