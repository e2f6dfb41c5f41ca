"""Issue 18's walk: a user picks ខ្មែរ, Français or العربية in the menu, and the whole flow reads
in it — the dashboard, Kem Sokha's case, a status change recorded through the form, following the
CNRP, the alert email the worker sends, the CNRP dossier it renders (Arabic right to left).

Real parts only: Debian's Chromium, the app over HTTP, a Celery worker process, an aiosmtpd sink,
and poppler reading the PDF. Labels are found by their accessible names in the walk's language,
taken from the catalog; a few words are written out (tests/support/walk.py) so a page left in
English cannot pass.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import StatusEvent, Subscription
from monitor.presentation import translation
from monitor.web.i18n import LANGUAGE_COOKIE
from tests.support.accounts import PASSWORD, make_user
from tests.support.alerts import FAST, dispatch_pending, organization
from tests.support.browser import chromium, console_problems, require_tools, serving
from tests.support.dossiers import Pdf, request_via_web
from tests.support.environment import unavailable
from tests.support.processes import Celery, environment
from tests.support.smtp import SmtpSink
from tests.support.waiting import wait_until
from tests.support.walk import (
    DIRECTIONS,
    ENGLISH_IN_DOSSIER,
    ENGLISH_IN_EMAIL,
    WRITTEN,
    date_in,
    say,
    status_in,
)
from tests.support.wire import part_text, read_back

pytestmark = pytest.mark.e2e

LANGUAGES = ["km", "fr", "ar"]
WALKER = "walker@example.org"
# The worker renders a dossier in well under a minute; a loaded CI machine needs the margin.
WORKER_SECONDS = 120


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module."""
    require_tools(axe=False)
    with chromium() as running:
        yield running


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A running SMTP sink (aiosmtpd) the worker sends to."""
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(app: Flask, sink: SmtpSink, tmp_path: Path) -> Iterator[Celery]:
    """The app sending to the sink, and a real Celery worker process on its database and broker.

    The demo's first events are dispatched first, to nobody (nobody follows anything yet).
    """
    settings = dataclasses.replace(app.config["SETTINGS"], smtp_url=sink.url, **FAST)
    app.config["SETTINGS"] = settings
    dispatch_pending(settings)
    processes = Celery(environment(settings), tmp_path, concurrency=1)
    processes.worker()
    yield processes
    processes.stop()


@pytest.fixture
def poppler() -> None:
    """pdftotext and pdfinfo read the dossier."""
    import shutil

    absent = [tool for tool in ("pdftotext", "pdfinfo") if shutil.which(tool) is None]
    if absent:
        unavailable(f"{', '.join(absent)} not found: install poppler-utils (make system-deps)")


def _tab(browser: Any) -> Any:
    """A new tab in a browser that asks for English: only the menu makes the pages another."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    return page


def _page_is_in(page: Any, language: str) -> None:
    from playwright.sync_api import expect

    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", DIRECTIONS[language])


def _record(page: Any, language: str, status: str, on: str, location: str) -> None:
    """Fill the status form by its labels' names in ``language`` and press its button."""
    page.get_by_role("link", name=say(language, "Record status change"), exact=True).click()
    page.get_by_label(say(language, "New custody status"), exact=True).select_option(
        label=status_in(language, status)
    )
    hint = say(language, "(YYYY, YYYY-MM or YYYY-MM-DD)")  # the form's DATE_HINT
    occurred = say(language, "Occurred on %(hint)s", hint=hint)
    page.get_by_label(occurred, exact=True).fill(on)
    page.get_by_label(say(language, "Location"), exact=True).fill(location)
    page.get_by_label(say(language, "Title"), exact=True).fill("Court order")
    page.get_by_role("button", name=say(language, "Record"), exact=True).click()


def _open_case(page: Any, language: str, name: str) -> None:
    page.get_by_role("link", name=say(language, "Cases"), exact=True).first.click()
    page.get_by_role("link", name=name).first.click()


def _events_dispatched() -> bool:
    db.session.expire_all()
    return not db.session.scalars(
        select(StatusEvent.id).where(StatusEvent.alerts_pending.is_(True))
    ).all()


def _mirrored(page: Any, language: str) -> None:
    """Arabic lays the header out from the right: the brand at the right, the links leftwards."""
    width = page.viewport_size["width"]
    brand = page.locator(".brand").bounding_box()
    links = page.locator(".nav-links a")
    first, second = links.nth(0).bounding_box(), links.nth(1).bounding_box()
    if DIRECTIONS[language] == "rtl":
        assert brand["x"] + brand["width"] > width / 2, brand
        assert brand["x"] > width / 2, brand
        assert first["x"] > second["x"], (first, second)
    else:
        assert brand["x"] < width / 2, brand
        assert first["x"] < second["x"], (first, second)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_user_who_picks_a_language_walks_the_whole_flow_in_it(
    *,
    app: Flask,
    demo: dict[str, str],
    browser: Any,
    sink: SmtpSink,
    worker: Celery,
    poppler: None,
    tmp_path: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    written = WRITTEN[language]
    # The written-out words are the catalog's: the test checks the catalog, not a copy of it.
    assert translation.language(language).name == written.menu
    assert say(language, "Dashboard") == written.dashboard
    assert status_in(language, "house_arrest") == written.house_arrest
    assert date_in(language, dt.date(2018, 9, 10)) == written.moved_on
    make_user("editor", "confidential", email=WALKER)

    with serving(app) as base:
        page = _tab(browser)
        main = page.locator("main")

        # The login page, in English for this browser until the menu says otherwise.
        page.goto(f"{base}/login")
        _page_is_in(page, "en")
        page.get_by_role("button", name=written.menu, exact=True).click()
        _page_is_in(page, language)
        expect(page.locator("h1")).to_have_text(say(language, "Log in"))
        page.fill("#email", WALKER)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name=say(language, "Log in"), exact=True).click()

        # The dashboard.
        page.wait_for_url(f"{base}/")
        _page_is_in(page, language)
        expect(page.locator("h1")).to_have_text(written.dashboard)
        expect(page.locator("#latest")).to_have_text(say(language, "Latest status changes"))
        _mirrored(page, language)
        page.screenshot(path=str(tmp_path / f"dashboard-{language}.png"), full_page=True)

        # Kem Sokha's case: a status change through the form, read back in the language.
        _open_case(page, language, "Kem Sokha")
        _page_is_in(page, language)
        expect(page.locator("#timeline-heading")).to_have_text(say(language, "Timeline"))
        _record(page, language, "house_arrest", "2018-09-10", "Phnom Penh")
        page.wait_for_url(f"{base}/cases/{demo['Kem Sokha']}")
        _page_is_in(page, language)
        current = page.locator(".current-status")
        expect(current).to_contain_text(written.house_arrest)
        expect(current).to_contain_text(written.moved_on)
        expect(page.locator(".timeline")).to_contain_text(written.moved_on)
        expect(main).not_to_contain_text("house arrest")
        expect(main).not_to_contain_text("September")
        page.screenshot(path=str(tmp_path / f"case-{language}.png"), full_page=True)
        # The worker tells whoever follows this change (nobody yet) before the walker follows.
        wait_until(_events_dispatched, WORKER_SECONDS, "the change to be dispatched", worker.logs)

        # Follow the CNRP from its page, by the follow control's words in the language.
        page.get_by_role("link", name=say(language, "Organizations"), exact=True).first.click()
        page.get_by_role("link", name="Cambodia National Rescue Party").first.click()
        _page_is_in(page, language)
        page.get_by_label(say(language, "Email me"), exact=True).select_option(
            label=say(language, "immediate emails")
        )
        page.get_by_role("button", name=say(language, "Follow"), exact=True).click()
        expect(page.locator("#follow-organization")).to_contain_text(
            say(language, "You follow this organization’s members")
        )
        db.session.expire_all()
        followed = db.session.scalars(
            select(Subscription).where(Subscription.email == WALKER)
        ).one()
        assert followed.language == language
        assert followed.scope_organization_id == organization("CNRP").id

        # Another CNRP member's change: the worker emails it to the walker, in the language.
        _open_case(page, language, "Mao Monyvann")
        _record(page, language, "jailed", "2017-11-16", "Phnom Penh")
        page.wait_for_url(f"{base}/cases/{demo['Mao Monyvann']}")
        expect(page.locator(".current-status")).to_contain_text(status_in(language, "jailed"))
        [received] = sink.wait_for(1, timeout=WORKER_SECONDS)
        assert received.rcpt_tos == [WALKER]
        message = read_back(received.raw)
        assert message["Content-Language"] == language
        assert message["Subject"] == written.alert_subject
        text, html = part_text(message, "plain"), part_text(message, "html")
        assert text.splitlines()[0] == written.alert_subject
        assert written.alert_status_line in text
        assert f'<html lang="{language}" dir="{DIRECTIONS[language]}">' in html
        unsubscribe = say(language, "Unsubscribe with one click: %(url)s", url="")
        assert unsubscribe.strip() in text
        unlinked = re.sub(r"https?://\S+", "", text + html)
        assert [e for e in ENGLISH_IN_EMAIL if e in unlinked] == []

        # The CNRP dossier, asked for on its page, rendered by the worker, downloaded.
        page.get_by_role("link", name=say(language, "Organizations"), exact=True).first.click()
        page.get_by_role("link", name="Cambodia National Rescue Party").first.click()
        page.get_by_role("button", name=say(language, "Dossier (PDF)"), exact=True).click()
        page.wait_for_url(f"{base}/dossiers/*")
        _page_is_in(page, language)
        download = page.get_by_role("link", name=say(language, "Download PDF"), exact=True)
        expect(download).to_be_visible(timeout=WORKER_SECONDS * 1000)
        # Titled in the walk's language from the moment it was asked for, and still once ready.
        expect(page.locator("h1")).to_have_text(written.dossier_title)
        page.reload()
        _page_is_in(page, language)
        expect(page.locator("h1")).to_have_text(written.dossier_title)
        response = page.context.request.get(base + str(download.get_attribute("href")))
        assert response.ok
        assert response.headers["content-type"] == "application/pdf"
        pdf = Pdf(response.body(), tmp_path)
        errors = console_problems(page.errors)
        page.context.close()

    words, flat = pdf.words, pdf.flat
    for heading in written.dossier_words:
        assert (re.sub(r"\s", "", heading) in flat) if language == "km" else (heading in words)
    assert re.sub(r"\s", "", written.house_arrest) in flat  # Kem Sokha's status as it is now
    for name in ("Kem Sokha", "Mu Sochua", "Mao Monyvann"):
        assert name in words, name
    assert "កឹម សុខា" in pdf.text  # the Khmer name extracts as typed, in every language
    assert [e for e in ENGLISH_IN_DOSSIER if e in pdf.text] == []
    assert pdf.info["Title"] == written.dossier_title
    if language == "ar":
        assert re.search(r"[\u0600-\u06ff]", pdf.info["Title"])
        assert "\u202b" in pdf.text  # poppler found right-to-left lines
    assert errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_organization_page_reads_in_the_chosen_language(
    app: Flask, demo: dict[str, str], browser: Any, language: str
) -> None:
    """The CNRP page of the walk: its own words (not only the follow and dossier controls)."""
    from playwright.sync_api import expect

    make_user("editor", "confidential", email=WALKER)
    with serving(app) as base:
        page = _tab(browser)
        page.goto(f"{base}/login")
        page.get_by_role("button", name=WRITTEN[language].menu, exact=True).click()
        page.fill("#email", WALKER)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name=say(language, "Log in"), exact=True).click()
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/organizations/{organization('CNRP').public_id}")
        _page_is_in(page, language)
        main = page.locator("main")
        try:
            expect(page.locator("#members-heading")).to_have_text(say(language, "Members"))
            assert say(language, "Members") != "Members"
            for english in ("Members", "Edit", "Current status", "Members' cases (CSV)", " since "):
                expect(main).not_to_contain_text(english)
            expect(main).to_contain_text(status_in(language, "jailed"))
        finally:
            page.context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_queued_dossier_is_titled_in_the_language_it_was_asked_in(
    editor_client: FlaskClient, demo: dict[str, str], language: str
) -> None:
    """What the walker sees while the worker has not started yet: the page and the list."""
    editor_client.set_cookie(LANGUAGE_COOKIE, language)
    cnrp = organization("CNRP")
    public_id = request_via_web(
        editor_client,
        f"/organizations/{cnrp.public_id}",
        kind="organization",
        organization_id=cnrp.public_id,
    )
    queued = unescape(editor_client.get(f"/dossiers/{public_id}").get_data(as_text=True))
    listing = unescape(editor_client.get("/dossiers").get_data(as_text=True))
    assert f"<h1>{WRITTEN[language].dossier_title}</h1>" in queued
    assert WRITTEN[language].dossier_title in listing
    assert "organization dossier" not in queued + listing
