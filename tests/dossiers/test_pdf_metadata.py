"""Staff safety in what leaves the register: a dossier PDF (its metadata and its pages) and an
alert email name the organization (MONITOR_ORGANIZATION_NAME), never the staff member who asked
for the dossier or recorded the change."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.header import decode_header, make_header

import pytest
from flask import Flask

from monitor.config import Settings
from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.mail.transport import mail_directory
from monitor.models import User
from monitor.services.cases import StatusInput, record_status
from tests.support.accounts import login, make_user
from tests.support.alerts import case_of, run_alerts, subscribe
from tests.support.dossiers import Pdf, dossier, render_queued, request_via_web
from tests.support.environment import TEST_AUDIT_KEY

ORGANIZATION = "Ligue cambodgienne des droits de l’Homme (LICADHO)"
STAFF_NAME = "Sophal Staffmember"
STAFF_EMAIL = "sophal.staffmember@example.org"


@pytest.fixture
def organization(app: Flask) -> Iterator[Settings]:
    """The app's settings read again from the environment with MONITOR_ORGANIZATION_NAME set."""
    current: Settings = app.config["SETTINGS"]
    settings = Settings.from_env(
        {
            "MONITOR_ENV": "testing",
            "MONITOR_SECRET_KEY": current.secret_key,
            "MONITOR_AUDIT_KEY": TEST_AUDIT_KEY,
            "MONITOR_INSTANCE_PATH": str(current.instance_path),
            "MONITOR_DATABASE_URL": current.database_url,
            "MONITOR_BASE_URL": current.base_url,
            "MONITOR_ORGANIZATION_NAME": ORGANIZATION,
            "MONITOR_REQUIRE_2FA": current.require_2fa,
        }
    )
    app.config["SETTINGS"] = settings
    yield settings
    app.config["SETTINGS"] = current


@pytest.fixture
def staff(app: Flask) -> User:
    """An editor whose name and address must never leave the register."""
    user = make_user("editor", "confidential", STAFF_EMAIL)
    user.name = STAFF_NAME
    db.session.commit()
    return user


def _staff_dossier(app: Flask, case_id: str, read_pdf: type[Pdf]) -> tuple[Pdf, int]:
    browser = app.test_client()
    login(browser, STAFF_EMAIL)
    public_id = request_via_web(
        browser, f"/cases/{case_id}", kind="case", case_id=case_id, audience="public"
    )
    assert render_queued(app, public_id) == "ready"
    response = browser.get(f"/dossiers/{public_id}/pdf")
    assert response.status_code == 200
    return read_pdf(response.data), dossier(public_id).pages or 0


def _assert_no_staff(*texts: str) -> None:
    for text in texts:
        for trace in (STAFF_NAME, "Sophal", "Staffmember", STAFF_EMAIL, "sophal.staffmember"):
            assert trace not in text


def test_pdf_metadata_and_pages_name_the_organization_not_the_requester(
    app: Flask,
    demo: dict[str, str],
    staff: User,
    organization: Settings,
    read_pdf: type[Pdf],
) -> None:
    pdf, pages = _staff_dossier(app, demo["Kem Sokha"], read_pdf)
    info = pdf.info
    assert info["Author"] == ORGANIZATION  # pdfinfo prints it as UTF-8
    assert info["Title"] == "Kem Sokha — case dossier"
    words = pdf.words
    assert f"Issued by {ORGANIZATION}" in words
    # Every page's footer names the organization.
    assert words.count(f"{ORGANIZATION} · Data as of") == pages >= 2
    raw = pdf.objects().decode("latin-1")
    _assert_no_staff(pdf.text, "\n".join(f"{k}: {v}" for k, v in info.items()), raw)


def test_without_the_setting_the_default_organization_is_named(
    app: Flask, demo: dict[str, str], staff: User, read_pdf: type[Pdf]
) -> None:
    pdf, _ = _staff_dossier(app, demo["Mu Sochua"], read_pdf)
    assert pdf.info["Author"] == "case monitor"
    assert "Issued by case monitor" in pdf.words
    _assert_no_staff(pdf.text, pdf.objects().decode("latin-1"))


def test_alert_email_names_the_organization_not_who_recorded_the_change(
    app: Flask, demo: dict[str, str], staff: User, organization: Settings
) -> None:
    subscribe("reader@example.net")
    record_status(
        staff,
        case_of(demo["Kem Sokha"]),
        StatusInput(
            status="at_liberty",
            occurred_on=PartialDate.parse("2023-03-03"),
            description="Released on bail.",
        ),
    )
    db.session.commit()
    run_alerts(organization)
    sent = sorted(mail_directory(organization.instance_path).glob("*.eml"))
    bodies = []
    for path in sent:  # the demo's own changes are pending too, and go out with this one
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        # Decoded as the wire-format tests do (the default policy's address parser puts a
        # space between two adjacent encoded words, which RFC 2047 says to drop).
        raw_from = str(email.message_from_bytes(raw)["From"]).replace("\r\n", "")
        sender = str(make_header(decode_header(raw_from)))
        assert sender == f"{ORGANIZATION} <alerts@monitor.test>"
        body = "\n".join(
            part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
        )
        _assert_no_staff(raw.decode("utf-8", "replace"), body, sender)
        bodies.append(body)
    assert sum("Released on bail." in body for body in bodies) == 1
