"""Every HTML page of the register read in Khmer, Arabic and French leaves no English behind
(issue 18): once the data typed into the register is taken out, a Khmer or Arabic page holds no
run of Latin letters but a few names that stay as they are, and a French page no English word.

The pages are the app's GET rules (app.url_map): each is checked, or listed below as a file or
JSON endpoint, with its reason; a new rule fails :func:`test_every_get_rule_is_checked_or_excused`
until it is placed.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.mail.transport import mail_directory
from monitor.models import Charge, StatusEvent, User
from monitor.services import credentials, subscriptions
from monitor.services.imports import jobs
from monitor.web.i18n import LANGUAGE_COOKIE
from tests.support.accounts import PASSWORD, client_for, login, make_user
from tests.support.alerts import follow, open_case, record, run_alerts, subscribe
from tests.support.imports import csv_bytes, mp
from tests.support.page_words import data_values, untranslated
from tests.support.web import submit, text

LANGUAGES = ("km", "ar", "fr")

# GET rules that answer no HTML page, with the reason.
NOT_HTML = {
    "/data/cases.csv": "a CSV file",
    "/data/cases.json": "a JSON document",
    "/data/popolo.json": "a Popolo JSON document",
    "/data/template.csv": "a CSV file",
    "/dossiers/<public_id>/pdf": "a PDF file (its words: tests/dossiers)",
    "/healthz": "a JSON health report for probes",
    "/livez": "a plain-text liveness probe",
    "/static/<path:filename>": "stylesheets, scripts, images",
}


@dataclass(frozen=True)
class Page:
    """A page to read: its rule, who reads it, and how to fill in the rule's ids."""

    rule: str
    reader: str = "admin"
    path: Callable[[dict[str, Any]], str] | None = None
    status: int = 200


PAGES = [
    Page("/"),
    Page("/", "viewer"),
    Page("/", "anonymous", status=302),
    Page("/account"),
    Page("/account/confirm", path=lambda m: "/account/confirm?next=/account/security"),
    Page("/account/password"),
    Page("/account/security"),
    Page("/account/security/totp/confirm", "enrolling"),
    Page("/account/sessions"),
    Page("/account/tokens"),
    Page("/admin/users"),
    Page("/admin/users/<public_id>", path=lambda m: f"/admin/users/{m['user']}"),
    Page("/admin/users/new"),
    Page("/alerts"),
    Page("/alerts", "viewer"),
    Page("/alerts/confirm/<token>", "anonymous", lambda m: f"/alerts/confirm/{m['confirm']}"),
    Page("/alerts/mailbox"),
    Page("/alerts/mailbox/<name>", path=lambda m: f"/alerts/mailbox/{m['mail']}"),
    Page("/alerts/subscribe", "anonymous"),
    Page("/alerts/subscribers"),
    Page(
        "/alerts/unsubscribe/<token>",
        "anonymous",
        lambda m: f"/alerts/unsubscribe/{m['unsubscribe']}",
    ),
    Page("/cases"),
    Page("/cases", "viewer"),
    Page(
        "/cases/<case_id>/events/<event_id>/deliveries",
        path=lambda m: f"/cases/{m['case']}/events/{m['event']}/deliveries",
    ),
    Page("/cases/<public_id>", path=lambda m: f"/cases/{m['case']}"),
    Page("/cases/<public_id>", "viewer", lambda m: f"/cases/{m['case']}"),
    Page("/cases/<public_id>/charges/new", path=lambda m: f"/cases/{m['case']}/charges/new"),
    Page("/cases/<public_id>/edit", path=lambda m: f"/cases/{m['case']}/edit"),
    Page("/cases/<public_id>/status", path=lambda m: f"/cases/{m['case']}/status"),
    Page("/cases/new"),
    Page("/charges/<public_id>/edit", path=lambda m: f"/charges/{m['charge']}/edit"),
    Page("/data"),
    Page("/data/imports/<public_id>", path=lambda m: f"/data/imports/{m['import']}"),
    Page("/dossiers"),
    Page("/dossiers/<public_id>", path=lambda m: f"/dossiers/{m['dossier']}"),
    Page("/login", "anonymous"),
    Page("/login/second-step", "second step"),
    Page("/organizations"),
    Page("/organizations/<public_id>", path=lambda m: f"/organizations/{m['organization']}"),
    Page(
        "/organizations/<public_id>/edit",
        path=lambda m: f"/organizations/{m['organization']}/edit",
    ),
    Page("/organizations/new"),
    Page("/people"),
    Page("/people/<public_id>", path=lambda m: f"/people/{m['person']}"),
    Page("/people/<public_id>/edit", path=lambda m: f"/people/{m['person']}/edit"),
    Page("/people/new"),
    Page("/reset", "resetting"),
    Page("/reset/<token>", "anonymous", lambda m: "/reset/no-such-link", status=404),
]


def _id(page: Page) -> str:
    return f"{page.rule} as {page.reader}"


def _register(app: Flask) -> dict[str, Any]:
    """Demo-like data: the CNRP story, a charge, an alert kept in the mailbox, a dossier, an
    import, a subscriber, and a browser for each reader."""
    from monitor.services import seed

    settings = dataclasses.replace(app.config["SETTINGS"], smtp_url=None)
    app.config["SETTINGS"] = settings
    cases = seed.seed_demo("test")
    db.session.commit()
    kem = cases["Kem Sokha"]
    made: dict[str, Any] = {"case": kem.public_id}
    admin = make_user("admin", "confidential")
    browsers = {"admin": app.test_client(), "anonymous": app.test_client()}
    login(browsers["admin"], admin.email)
    browsers["viewer"] = client_for(app, "viewer", "public")
    subscriber = subscribe("ann@example.org", name="Ann Reader")
    pending = subscribe("bob@example.org", confirmed=False)
    follow(admin)
    open_case("Chea Vannath", status="jailed")
    record(kem.public_id, "house_arrest", "2018-09", description="Released on bail")
    run_alerts(settings)
    made["confirm"] = subscriptions.confirm_token(pending, settings.secret_key)
    made["unsubscribe"] = subscriber.unsubscribe_token
    made["mail"] = sorted(p.name for p in mail_directory(settings.instance_path).iterdir())[0]
    made["event"] = db.session.scalars(
        select(StatusEvent.public_id)
        .where(StatusEvent.case_id == kem.id)
        .order_by(StatusEvent.id.desc())
    ).first()
    made["charge"] = db.session.scalars(
        select(Charge.public_id).where(Charge.case_id == kem.id)
    ).first()
    made["person"] = kem.person.public_id
    made["organization"] = kem.person.memberships[0].organization.public_id
    made["user"] = db.session.scalars(select(User.public_id).where(User.role == "viewer")).first()
    imported, _report = jobs.stage(admin, "mps.csv", csv_bytes(IMPORTED_ROWS), settings)
    db.session.commit()
    made["import"] = imported.public_id
    from tests.support.dossiers import render_queued, request_via_web

    made["dossier"] = request_via_web(
        browsers["admin"], f"/cases/{kem.public_id}", kind="case", case_id=kem.public_id
    )
    render_queued(app, made["dossier"])
    browsers["admin"].get(f"/dossiers/{made['dossier']}")  # its "requested" notice, read
    # Setting up an authenticator app: its confirmation page, before the first code.
    enrolling = client_for(app, "editor")
    assert submit(enrolling, "/account/security", {}, "/account/security/totp").status_code == 302
    browsers["enrolling"] = enrolling
    # Past the password, before the second factor.
    from tests.web.test_second_factor import enrol_totp, password_step

    two_steps = make_user("editor", "public", email="two.steps@example.org")
    first = app.test_client()
    login(first, two_steps.email, PASSWORD)
    enrol_totp(first)
    browsers["second step"] = app.test_client()
    assert password_step(browsers["second step"], two_steps.email).status_code == 302
    # A reset link opened in this browser: the form to set a new password.
    issued = credentials.issue_reset("test", admin, settings)
    db.session.commit()
    browsers["resetting"] = app.test_client()
    assert browsers["resetting"].get(issued.url.removeprefix(settings.base_url)).status_code == 302
    made["browsers"] = browsers
    return made


# The rows of the staged import: its preview shows them (names, roles…) as they were written.
IMPORTED_ROWS = [mp(1), mp(2)]


def _file_values() -> list[str]:
    """The staged file's cells: data on the import's page, in the file's words, as a case's
    title is."""
    return sorted({value for row in IMPORTED_ROWS for value in row.values() if value}, key=len)[
        ::-1
    ]


def _mail_values(app: Flask) -> list[str]:
    """What the emails kept in the mailbox say: written in their recipient's language (English
    here), they are data on the mailbox pages, as a case's title is."""
    found: list[str] = []
    folder = mail_directory(app.config["SETTINGS"].instance_path)
    for path in folder.iterdir():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.extend(str(value) for value in message.values())
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                found.extend(line.strip() for line in part.get_content().splitlines())
    # Mail clients and the mailbox's summary rewrap and shorten them: take out each word too.
    words = {w for value in found for w in re.findall(r"\w+", value)}
    return sorted({v for v in [*found, *words] if v.strip()}, key=len, reverse=True)


def _shown_secrets(page: str) -> list[str]:
    """Secrets a page shows once and the register keeps sealed (not as text): the
    authenticator app's key, its otpauth:// address."""
    found = re.findall(r'id="totp-secret">([A-Z2-7]+)<', page)
    return found + re.findall(r"otpauth://[^\s\"<]+", page)


@pytest.mark.parametrize("page", [pytest.param(p, id=_id(p)) for p in PAGES])
def test_page_leaves_no_english_in_khmer_arabic_or_french(app: Flask, page: Page) -> None:
    made = _register(app)
    browser: FlaskClient = made["browsers"][page.reader]
    path = page.path(made) if page.path else page.rule
    values = data_values()
    if page.rule.startswith("/alerts/mailbox"):
        values += _mail_values(app)  # the kept emails, written in their recipients' language
    if page.rule.startswith("/data/imports/"):
        values += _file_values()
    problems: dict[str, list[str]] = {}
    for language in LANGUAGES:
        browser.set_cookie(LANGUAGE_COOKIE, language)
        response = browser.get(path)
        assert response.status_code == page.status, (path, language, text(response)[:2000])
        if page.status == 302:
            response = browser.get(response.location)
        shown = text(response)
        assert f'lang="{language}"' in shown.split(">", 2)[1]
        left = untranslated(shown, language, [*values, *_shown_secrets(shown)])
        if left:
            problems[language] = left
    assert not problems, f"{path}: English left: {problems}"


def test_every_get_rule_is_checked_or_excused(app: Flask) -> None:
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.rule.startswith("/api")
    }
    checked = {page.rule for page in PAGES}
    assert rules - checked - set(NOT_HTML) == set()
    assert checked | set(NOT_HTML) <= rules
    assert not checked & set(NOT_HTML)


def _api_token() -> str:
    from tests.support.api import issue_token

    return issue_token("editor", "confidential")


def test_api_errors_read_in_french(app: Flask, demo: dict[str, str]) -> None:
    api = app.test_client()
    headers = {"Authorization": f"Bearer {_api_token()}", "Accept-Language": "fr"}
    missing = api.get("/api/v1/cases/AAAAAAAAAAAA", headers=headers)
    assert missing.status_code == 404
    assert missing.json == {"error": "introuvable"}
    refused = api.post("/api/v1/cases", json={"title": "x"}, headers=headers)
    assert refused.status_code == 422
    errors = refused.json["errors"]
    assert errors, refused.json
    assert any("obligatoire" in message for message in errors.values()), errors
    bad_country = api.get("/api/v1/cases?country=XX", headers=headers)
    assert bad_country.status_code == 422, bad_country.json
    assert "pays" in str(bad_country.json) or "ISO" in str(bad_country.json)
    assert "is not" not in str(bad_country.json)


def test_the_checker_finds_english_and_spares_data(app: Flask, demo: dict[str, str]) -> None:
    values = data_values()
    page = (
        '<html lang="km"><body><h1>ករណី Kem Sokha</h1><p title="Show cases">x</p>'
        '<script>var english = "words";</script><button lang="en">English</button>'
        '<input type="submit" value="Save"><input type="text" value="typed words"></body></html>'
    )
    assert untranslated(page, "km", values) == ["Save", "Show", "cases"]
    french = '<html lang="fr"><body><p>Enregistrer the case</p></body></html>'
    assert untranslated(french, "fr", values) == ["the"]
