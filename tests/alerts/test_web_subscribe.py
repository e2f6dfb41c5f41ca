"""The public subscribe page, the confirmation link, the unsubscribe link and the follow buttons."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models import Subscription
from monitor.services import alert_sending
from tests.support.accounts import make_user
from tests.support.alerts import case_of, open_case, organization, record, run_alerts, subscribe
from tests.support.smtp import SmtpSink
from tests.support.web import csrf_token, text

LINK = re.compile(r"http://monitor\.test(/alerts/(?:confirm|unsubscribe)/[A-Za-z0-9_-]+)")


def _send_confirmations(settings: Settings) -> None:
    """What the confirmation task does on a worker."""
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    for subscription in db.session.scalars(select(Subscription)).all():
        alert_sending.send_confirmation(subscription.id, mailer, settings)


def _subscription(email: str) -> Subscription:
    db.session.expire_all()
    return db.session.scalars(select(Subscription).where(Subscription.email == email)).one()


def test_double_opt_in_from_the_public_page(
    app: Flask, client: FlaskClient, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    page = client.get("/alerts/subscribe")
    assert page.status_code == 200
    cnrp_id = organization("CNRP").public_id
    assert f'value="{cnrp_id}"' in text(page)
    response = client.post(
        "/alerts/subscribe",
        data={
            "csrf_token": csrf_token(client, "/alerts/subscribe"),
            "email": "Sophal@Example.org",
            "name": "Sophal",
            "organization_name": "Friends of Cambodia",
            "scope": "organization",
            "organization": cnrp_id,
            "mode": "immediate",
        },
    )
    assert response.status_code == 200
    assert "Check your email" in text(response)
    assert _subscription("sophal@example.org").confirmed_at is None

    # Unconfirmed: a status change reaches nobody.
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)
    assert sink.messages == []

    _send_confirmations(settings)
    [confirmation] = sink.messages
    assert confirmation.subject == "[case monitor] Please confirm your alert subscription"
    [link] = {m.group(1) for m in LINK.finditer(confirmation.part("plain"))}
    assert "members of CNRP" in confirmation.part("plain")

    stranger = client.application.test_client()
    page = stranger.get(link)
    assert "Send alerts about members of CNRP to sophal@example.org?" in text(page)
    assert _subscription("sophal@example.org").confirmed_at is None  # a GET confirms nothing
    done = stranger.post(link, data={"csrf_token": csrf_token(stranger, link)})
    assert done.status_code == 200
    assert 'id="confirmed"' in text(done)
    assert _subscription("sophal@example.org").confirmed_at is not None

    sink.messages.clear()
    record(cnrp["Kem Sokha"], "house_arrest", "2018-09")
    run_alerts(settings)
    [alert] = sink.messages
    assert alert.rcpt_tos == ["sophal@example.org"]
    assert alert.subject == "Kem Sokha put under house arrest — was jailed"


def test_subscribe_page_reports_bad_fields_and_offers_no_restricted_organization(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    hidden = open_case("Hidden Member", level="restricted")
    from monitor.services.people import OrganizationInput, add_membership, create_organization

    secret_org = create_organization(
        "test", OrganizationInput(name="Secret Circle", kind="ngo", country="KH")
    )
    add_membership("test", hidden.person, secret_org, "member")
    db.session.commit()
    assert "Secret Circle" not in text(client.get("/alerts/subscribe"))

    response = client.post(
        "/alerts/subscribe",
        data={
            "csrf_token": csrf_token(client, "/alerts/subscribe"),
            "email": "not-an-address",
            "scope": "organization",
            "organization": secret_org.public_id,
            "mode": "immediate",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert "Nothing was saved" in page
    assert "choose an organization" in page
    assert db.session.scalars(select(Subscription)).all() == []


def test_unsubscribe_link_opens_a_page_and_its_button_unsubscribes(
    app: Flask, client: FlaskClient, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)
    [alert] = sink.messages
    [link] = {m.group(1) for m in LINK.finditer(alert.part("plain"))}

    page = client.get(link)
    assert page.status_code == 200
    assert "Stop the alerts about every public case sent to ann@example.org?" in text(page)
    assert _subscription("ann@example.org").unsubscribed_at is None
    done = client.post(link)  # the page's button: no CSRF token needed
    assert done.status_code == 200
    assert 'id="unsubscribed"' in text(done)
    assert _subscription("ann@example.org").unsubscribed_at is not None

    sink.messages.clear()
    record(cnrp["Kem Sokha"], "house_arrest", "2018-09")
    run_alerts(settings)
    assert sink.messages == []


def test_rfc_8058_one_click_post_works_without_session_or_csrf_token(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("ann@example.org")
    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)
    [alert] = sink.messages
    header = str(alert.message["List-Unsubscribe"]).strip("<>")
    path = header.removeprefix("http://monitor.test")

    mail_client = app.test_client()  # a mail provider: no cookie, no token, just the body
    response = mail_client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert _subscription("ann@example.org").unsubscribed_at is not None
    # Repeating it is harmless; an unknown token is a 404.
    assert mail_client.post(path, data="List-Unsubscribe=One-Click").status_code == 200
    assert mail_client.post("/alerts/unsubscribe/nope").status_code == 404


def test_other_public_forms_still_need_their_csrf_token(app: Flask, client: FlaskClient) -> None:
    response = client.post("/alerts/subscribe", data={"email": "a@example.org", "scope": "all"})
    assert response.status_code == 400


def test_follow_and_unfollow_buttons_on_case_and_organization_pages(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    from tests.support.accounts import login

    viewer = make_user("viewer", "public")
    browser = app.test_client()
    login(browser, viewer.email)
    case_url = f"/cases/{cnrp['Mao Monyvann']}"
    page = text(browser.get(case_url))
    assert 'action="/alerts/follow"' in page
    response = browser.post(
        "/alerts/follow",
        data={
            "csrf_token": csrf_token(browser, case_url),
            "scope": "case",
            "target": cnrp["Mao Monyvann"],
            "mode": "immediate",
            "next": case_url,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == case_url
    page = text(browser.get(case_url))
    assert "You follow Mao Monyvann&#39;s case" in page
    assert 'You follow this case · <span class="follow-mode">immediate emails</span>' in page
    org_url = f"/organizations/{organization('CNRP').public_id}"
    browser.post(
        "/alerts/follow",
        data={
            "csrf_token": csrf_token(browser, org_url),
            "scope": "organization",
            "target": organization("CNRP").public_id,
            "mode": "daily",
            "next": org_url,
        },
    )
    assert "members of CNRP" in text(browser.get("/alerts"))
    assert "You follow this organization’s members" in text(browser.get(org_url))

    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)
    [alert] = sink.messages
    assert alert.rcpt_tos == [viewer.email]

    browser.post(
        "/alerts/unfollow",
        data={
            "csrf_token": csrf_token(browser, case_url),
            "scope": "case",
            "target": cnrp["Mao Monyvann"],
            "next": case_url,
        },
    )
    assert "You follow this case" not in text(browser.get(case_url))
    # The organization is still followed.
    assert "You follow this organization’s members" in text(browser.get(org_url))
    owned = db.session.scalars(select(Subscription).where(Subscription.user_id == viewer.id)).all()
    assert {s.scope for s in owned if s.unsubscribed_at is None} == {"organization"}


def test_nobody_follows_a_case_above_their_clearance(app: Flask, settings: Settings) -> None:
    from tests.support.accounts import login

    secret = open_case("Confidential Chea", level="confidential")
    viewer = make_user("viewer", "public")
    browser = app.test_client()
    login(browser, viewer.email)
    response = browser.post(
        "/alerts/follow",
        data={
            "csrf_token": csrf_token(browser, "/alerts"),
            "scope": "case",
            "target": secret.public_id,
            "mode": "immediate",
        },
    )
    assert response.status_code == 404
    assert db.session.scalars(select(Subscription)).all() == []
    assert case_of(secret.public_id).confidentiality == "confidential"
