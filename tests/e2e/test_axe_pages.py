"""Every page and state on a 390 px phone in Chromium: nothing wider than the screen, and axe-core
finds no accessibility violation (every rule it runs by default, whatever the impact).

One browser and one tab walk the register as an admin would — the navigation's pages, the detail
pages, each form's error state, the dossier and import states — and every problem is collected
before the one assertion, so a failure lists all the pages at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import Dossier, StatusEvent
from monitor.models.base import utcnow
from monitor.services.subscriptions import confirm_token
from tests.support.accounts import PASSWORD, make_user
from tests.support.alerts import case_of, run_alerts, subscribe
from tests.support.browser import (
    PHONE,
    Findings,
    check_page,
    chromium,
    console_problems,
    require_tools,
    serving,
)
from tests.support.dossiers import render_queued
from tests.support.imports import csv_bytes, mp

pytestmark = pytest.mark.e2e
UNREQUIRE = (
    "() => document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))"
)
# EveryPolitician's Cambodia slice: Mao Monivann is probably the demo's Mao Monyvann.
POPOLO_FILE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "popolo" / "cambodia-ep-popolo-v1.0.json"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module."""
    require_tools()
    with chromium() as running:
        yield running


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A tab the size of a 390 by 844 phone screen."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.console_errors = errors
    try:
        yield page
    finally:
        context.close()


def press(page: Any, target: Any) -> None:
    """Click a link or a form's button and wait for the page it loads (styles and all)."""
    with page.expect_navigation(wait_until="load"):
        target.click()


def submit_empty(page: Any, url: str, button: str) -> None:
    """Open a form and send it without filling anything in (the server answers with errors)."""
    page.goto(url)
    press(page, page.get_by_role("button", name=button, exact=True))


def test_every_page_fits_a_phone_and_axe_finds_nothing(
    app: Flask, demo: dict[str, str], phone: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = phone
    findings = Findings()
    settings = app.config["SETTINGS"]
    kem = demo["Kem Sokha"]
    kem_person = case_of(kem).person.public_id
    cnrp = case_of(kem).person.memberships[0].organization.public_id
    admin = make_user("admin", "confidential", email="admin@example.org")
    subscribe("watcher@example.org", name="Watcher", confirmed=True)  # alerted, then mailed
    pending = subscribe("pending@example.org", confirmed=False)

    def check(name: str) -> None:
        if name.endswith(": errors"):  # the form did come back with its errors shown
            expect(page.locator(".field-error, .alert-error").first).to_be_visible()
        check_page(page, name, findings)

    with serving(app) as base:
        # Anonymous: the login page and its error, the public subscribe pages, a 404.
        page.goto(f"{base}/login")
        check("login")
        page.fill("#email", admin.email)
        page.fill("#password", "wrong password")
        press(page, page.get_by_role("button", name="Log in"))
        expect(page.locator(".alert-error")).to_be_visible()
        check("login: wrong password")
        page.goto(f"{base}/alerts/subscribe")
        check("subscribe")
        press(page, page.get_by_role("button", name="Subscribe"))
        check("subscribe: errors")
        page.fill("#email", "someone@example.org")
        press(page, page.get_by_role("button", name="Subscribe"))
        check("subscribe: sent")
        page.goto(f"{base}/alerts/confirm/{confirm_token(pending, settings.secret_key)}")
        check("confirm a subscription")
        press(page, page.get_by_role("button", name="Yes, send me alerts"))
        expect(page.locator("#confirmed")).to_be_visible()
        check("subscription confirmed")
        page.goto(f"{base}/alerts/unsubscribe/{pending.unsubscribe_token}")
        check("unsubscribe")
        press(page, page.get_by_role("button", name="Unsubscribe"))
        expect(page.locator("#unsubscribed")).to_be_visible()
        check("unsubscribed")
        page.goto(f"{base}/no-such-page")
        check("404")

        page.goto(f"{base}/login")
        page.fill("#email", admin.email)
        page.fill("#password", PASSWORD)
        press(page, page.get_by_role("button", name="Log in"))
        expect(page.locator("#status-counts")).to_be_visible()
        check("dashboard")
        page.get_by_text("Menu", exact=True).click()
        expect(page.get_by_role("link", name="Organizations")).to_be_visible()
        check("dashboard: menu open")

        # Cases: the list (sorted, filtered, refused filters), the case page, its forms.
        for name, query in [
            ("cases", ""),
            ("cases: sorted by name, descending", "?sort=-name"),
            ("cases: search", "?q=sokha"),
            ("cases: nothing found", "?q=nobody-at-all"),
            ("cases: refused filter", "?status=bogus"),
        ]:
            page.goto(f"{base}/cases{query}")
            check(name)
        page.goto(f"{base}/cases/{kem}")
        check("case")
        submit_empty(page, f"{base}/cases/new", "Open the case")
        check("open a case: errors")
        page.goto(f"{base}/cases/{kem}/edit")
        check("edit case")
        page.fill("#title", "")
        page.fill("#opened_on", "2017")  # a date kept to the day, typed to the year
        press(page, page.get_by_role("button", name="Save"))
        expect(page.locator("#opened_on-error")).to_be_visible()
        check("edit case: errors")
        submit_empty(page, f"{base}/cases/{kem}/status", "Record")
        check("record status: errors")
        submit_empty(page, f"{base}/cases/{kem}/charges/new", "Add the charge")
        check("add a charge: errors")
        charge = case_of(kem).charges[0].public_id
        page.goto(f"{base}/charges/{charge}/edit")
        check("edit charge")
        page.fill("#offence", "")
        press(page, page.get_by_role("button", name="Save"))
        check("edit charge: errors")

        # People and organizations.
        page.goto(f"{base}/people")
        check("people")
        page.goto(f"{base}/people/{kem_person}")
        check("person")
        submit_empty(page, f"{base}/people/{kem_person}", "Add")
        check("person: membership errors")
        submit_empty(page, f"{base}/people/new", "Save")
        check("add a person: errors")
        page.goto(f"{base}/people/new")
        page.fill("#name", "Kem Sokah")
        press(page, page.get_by_role("button", name="Save"))
        expect(page.locator("#possible-duplicates")).to_be_visible()
        check("add a person: may be registered: errors")
        page.goto(f"{base}/people/{kem_person}/edit")
        check("edit person")
        page.fill("#name", "")
        page.select_option("#nationality", "KH")  # the country picker
        press(page, page.get_by_role("button", name="Save"))
        check("edit person: errors")
        page.goto(f"{base}/organizations")
        check("organizations")
        page.goto(f"{base}/organizations/{cnrp}")
        check("organization")
        submit_empty(page, f"{base}/organizations/new", "Save")
        check("add an organization: errors")
        page.goto(f"{base}/organizations/{cnrp}/edit")
        check("edit organization")
        page.fill("#seats", "-3")
        press(page, page.get_by_role("button", name="Save"))
        check("edit organization: errors")

        # Dossiers: none yet, then queued, rendering, ready and failed.
        page.goto(f"{base}/dossiers")
        check("dossiers: none")
        page.goto(f"{base}/cases/{kem}")
        press(page, page.locator(".dossier-request button").first)
        expect(page.locator("#dossier-state")).to_have_text("queued")
        check("dossier: queued")
        dossier_id = page.url.rsplit("/", 1)[-1]
        row = db.session.scalars(select(Dossier).where(Dossier.public_id == dossier_id)).one()
        row.state, row.progress = "rendering", 40
        db.session.commit()
        page.goto(page.url)
        check("dossier: rendering")
        row.state, row.progress = "queued", 0
        db.session.commit()
        assert render_queued(app, dossier_id) == "ready"
        page.goto(page.url)
        expect(page.locator("#download")).to_be_visible()
        check("dossier: ready")
        page.goto(f"{base}/organizations/{cnrp}")
        press(page, page.locator(".dossier-request button").first)
        failed_id = page.url.rsplit("/", 1)[-1]
        failed = db.session.scalars(select(Dossier).where(Dossier.public_id == failed_id)).one()
        failed.state, failed.error = "failed", "the worker ran out of time"
        failed.finished_at = utcnow()
        db.session.commit()
        page.goto(page.url)
        check("dossier: failed")
        page.goto(f"{base}/dossiers")
        check("dossiers")

        # Data: the page, an import with problems, a preview, a finished import.
        page.goto(f"{base}/data")
        check("data")
        rows = [mp(n) for n in range(1, 4)]
        rows[1]["status"] = "jialed"
        bad = tmp_path / "bad.csv"
        bad.write_bytes(csv_bytes(rows))
        page.set_input_files("#file", str(bad))
        press(page, page.get_by_role("button", name="Check the file"))
        expect(page.locator("#import-problems")).to_be_visible()
        check("import: problems")
        rows[1]["status"] = "jailed"
        good = tmp_path / "good.csv"
        good.write_bytes(csv_bytes(rows))
        page.goto(f"{base}/data")
        page.set_input_files("#file", str(good))
        press(page, page.get_by_role("button", name="Check the file"))
        expect(page.locator("#import-preview")).to_be_visible()
        check("import: preview")
        press(page, page.get_by_role("button", name="Import 3 rows"))
        expect(page.locator("#import-done")).to_be_visible()
        check("import: done")
        registered = tmp_path / "registered.csv"
        registered.write_bytes(csv_bytes([mp(9, name="Kem Sokha")]))
        page.goto(f"{base}/data")
        page.set_input_files("#file", str(registered))
        press(page, page.get_by_role("button", name="Check the file"))
        expect(page.locator("#import-matched")).to_be_visible()
        check("import: preview matching a registered person")
        probable = tmp_path / "probable.csv"
        probable.write_bytes(csv_bytes([mp(10, name="Kem Sokah", name_native="", aliases="")]))
        page.goto(f"{base}/data")
        page.set_input_files("#file", str(probable))
        press(page, page.get_by_role("button", name="Check the file"))
        expect(page.locator("#import-probable")).to_be_visible()
        check("import: preview with a probable match")
        # The radios are required: sent undecided anyway (as a browser without that check
        # would), the page comes back with the error.
        page.evaluate(UNREQUIRE)
        press(page, page.get_by_role("button", name="Import 1 row"))
        expect(page.locator("#error-1")).to_be_visible()
        check("import: a probable match left undecided")
        page.goto(f"{base}/data")
        page.set_input_files("#popolo-file", str(POPOLO_FILE))
        press(page, page.get_by_role("button", name="Check the Popolo file"))
        expect(page.locator("#popolo-probable")).to_be_visible()
        check("popolo import: preview with a probable match")
        page.evaluate(UNREQUIRE)
        press(page, page.locator("#confirm-import"))
        expect(page.locator("#error-1")).to_be_visible()
        check("popolo import: a probable match left undecided")
        page.goto(f"{base}/data")
        check("data: with imports")

        # Alerts: a status change mailed to a subscriber, its delivery log, the mailbox.
        page.goto(f"{base}/cases/{kem}/status")
        page.select_option("#status", "house_arrest")
        page.fill("#occurred_on", "2018-09-10")
        page.fill("#source_title", "Court order")
        press(page, page.get_by_role("button", name="Record"))
        run_alerts(settings)
        event = db.session.scalars(
            select(StatusEvent).order_by(StatusEvent.id.desc()).limit(1)
        ).one()
        page.goto(f"{base}/cases/{kem}")
        expect(page.locator("#stale-title")).to_be_visible()  # the title still says "jailed"
        check("case: after a status change, the title flagged")
        page.goto(f"{base}/cases/{kem}/edit")
        expect(page.locator("#stale-title")).to_be_visible()
        check("edit case: the title flagged")
        page.goto(f"{base}/cases/{kem}/events/{event.public_id}/deliveries")
        check("alert deliveries")
        page.goto(f"{base}/alerts")
        check("alerts")
        page.goto(f"{base}/cases/{kem}")
        press(page, page.get_by_role("button", name="Follow").first)
        expect(page.locator(".follow-state")).to_contain_text("immediate emails")
        check("case: followed, with the mode and its switch")
        press(page, page.get_by_role("button", name="Switch to daily digest"))
        expect(page.locator(".follow-state")).to_contain_text("daily digest")
        check("case: followed as a daily digest")
        page.goto(f"{base}/alerts")
        check("alerts: following a case")
        page.goto(f"{base}/alerts/mailbox")
        check("mailbox")
        press(page, page.locator("table.mailbox a").first)
        check("mailbox: message")
        page.goto(f"{base}/alerts/subscribers")
        check("subscribers")

        # Users and the account's tokens.
        page.goto(f"{base}/admin/users")
        check("users")
        submit_empty(page, f"{base}/admin/users/new", "Create the account")
        check("add a user: errors")
        page.fill("#email", "new.editor@example.org")
        press(page, page.get_by_role("button", name="Create the account"))
        expect(page.locator("#generated-password")).to_be_visible()
        check("add a user: password shown")
        page.goto(f"{base}/admin/users")
        press(page, page.get_by_role("link", name="new.editor@example.org"))
        check("user")
        page.fill("#email", "")
        press(page, page.get_by_role("button", name="Save"))
        check("user: errors")
        press(page, page.get_by_role("button", name="Reset password"))
        expect(page.locator("#generated-password")).to_be_visible()
        check("user: password reset")
        temporary = page.locator("#generated-password").inner_text()
        page.goto(f"{base}/account/tokens")
        check("tokens")
        page.fill("#name", "monthly report")
        press(page, page.get_by_role("button", name="Create token"))
        expect(page.locator("#new-token")).to_be_visible()
        check("tokens: new token shown")

        # The account page (the header's email opens it), the account's sessions, password and
        # second factors.
        page.get_by_text("Menu", exact=True).click()
        press(page, page.get_by_role("link", name=admin.email))
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()
        check("account")
        page.eval_on_selector("#name", "box => box.removeAttribute('maxlength')")
        page.fill("#name", "x" * 201)  # past the box's maxlength, as an old browser could send
        press(page, page.get_by_role("button", name="Save the name"))
        check("account: errors")
        page.goto(f"{base}/account/sessions")
        check("sessions")
        submit_empty(page, f"{base}/account/password", "Change password")
        check("password: errors")
        page.goto(f"{base}/account/security")
        check("account security")
        press(page, page.get_by_role("button", name="Set up an authenticator app"))
        check("account security: authenticator app set-up")

        # The admin's reset above made a temporary password: it opens only the password page.
        page.context.clear_cookies()
        page.goto(f"{base}/login")
        page.fill("#email", "new.editor@example.org")
        page.fill("#password", temporary)
        press(page, page.get_by_role("button", name="Log in"))
        expect(page.locator("#temporary-password")).to_be_visible()
        check("password: temporary, to be replaced")

    assert findings.pages > 50
    assert findings.problems == {}, f"\n{findings.report()}"
    # The CSP forbids inline script and style: a violation would show up as a console error.
    assert console_problems(page.console_errors) == []
