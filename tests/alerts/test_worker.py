"""Alerts through a real Celery worker: the web records a change, the worker emails it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from monitor.config import Settings
from monitor.extensions import db
from monitor.models import AlertDelivery
from monitor.models.alerts import DeliveryState
from tests.support.accounts import login, make_user
from tests.support.alerts import dispatch_pending, follow, organization, subscribe
from tests.support.smtp import SmtpSink
from tests.support.waiting import wait_until
from tests.support.web import csrf_token, text


def _record_jailed_through_the_web(app: Flask, case_id: str) -> None:
    editor = make_user("editor", "confidential", email="desk@example.org")
    browser = app.test_client()
    login(browser, editor.email)
    url = f"/cases/{case_id}/status"
    response = browser.post(
        url,
        data={
            "csrf_token": csrf_token(browser, url),
            "status": "jailed",
            "occurred_on": "2017-11-16",
            "location": "Phnom Penh",
            "certainty": "confirmed",
        },
    )
    assert response.status_code == 302, text(response)


def _all_sent(count: int) -> Callable[[], bool]:
    def check() -> bool:
        db.session.expire_all()
        states = db.session.scalars(select(AlertDelivery.state)).all()
        return len(states) == count and set(states) == {DeliveryState.SENT.value}

    return check


def test_a_status_change_recorded_on_the_web_is_emailed_by_a_real_worker(
    app: Flask,
    cnrp: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    celery: Callable[..., Any],
) -> None:
    subscribe("ann@example.org")
    subscribe("cnrp@example.org", "organization", org=organization("CNRP"))
    follow(make_user("viewer", "public"), "organization", organization("CNRP"))
    processes = celery(settings)
    processes.worker()

    _record_jailed_through_the_web(app, cnrp["Mao Monyvann"])

    messages = sink.wait_for(3, timeout=60)
    assert sorted(m.rcpt_tos[0] for m in messages) == [
        "ann@example.org",
        "cnrp@example.org",
        "viewer.public@example.org",
    ]
    assert {m.subject for m in messages} == {"Mao Monyvann jailed — was at liberty"}
    wait_until(_all_sent(3), 30, "deliveries marked sent", processes.logs)


def test_without_smtp_the_worker_keeps_the_alert_for_the_mailbox_page(
    app: Flask,
    cnrp: dict[str, str],
    configure: Callable[..., Settings],
    celery: Callable[..., Any],
) -> None:
    """The `make run` story: follow the CNRP, record that Mao Monyvann was jailed, read it."""
    settings = configure(smtp_url=None)
    dispatch_pending(settings)
    admin = make_user("admin", "confidential", email="admin@example.org")
    browser = app.test_client()
    login(browser, admin.email)
    org_url = f"/organizations/{organization('CNRP').public_id}"
    browser.post(
        "/alerts/follow",
        data={
            "csrf_token": csrf_token(browser, org_url),
            "scope": "organization",
            "target": organization("CNRP").public_id,
            "mode": "immediate",
            "next": org_url,
        },
    )
    processes = celery(settings)
    processes.worker()
    _record_jailed_through_the_web(app, cnrp["Mao Monyvann"])

    wait_until(_all_sent(1), 60, "the alert to be kept", processes.logs)
    mailbox = text(browser.get("/alerts/mailbox"))
    assert "Mao Monyvann jailed — was at liberty" in mailbox
    assert "admin@example.org" in mailbox
