"""An import reaches each subscriber as one summary email: its new cases (and its status changes
of cases already in the register) listed with links and counted by custody status, only what the
subscriber may see and follows, exactly once however the sending goes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models import Case, StatusEvent
from monitor.models.alerts import DeliveryState
from monitor.services import alert_content, alert_sending, alerts
from tests.support.accounts import make_user
from tests.support.alerts import (
    case_of,
    deliveries,
    dispatch_pending,
    follow,
    organization,
    run_alerts,
    subscribe,
)
from tests.support.api import Api
from tests.support.imports import csv_bytes, mp
from tests.support.smtp import Received, SmtpSink
from tests.support.waiting import wait_until
from tests.support.wire import wire_faults

# Twelve CNRP MPs: seven fled, three jailed, two still at liberty.
STATUSES = ["fled"] * 7 + ["jailed"] * 3 + ["at_liberty"] * 2


def _import(api: Api, rows: list[dict[str, str]]) -> str:
    """Import ``rows`` through the API (applied in the request); the import's public id."""
    response = api.post("/imports", data=csv_bytes(rows))
    assert response.status_code == 201, response.json
    assert response.json is not None
    assert response.json["state"] == "done"
    return str(response.json["id"])


def _imported(import_id: str) -> list[Case]:
    """The cases an import opened or changed, by name."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Case)
            .join(StatusEvent, StatusEvent.case_id == Case.id)
            .where(StatusEvent.import_batch == import_id)
            .order_by(Case.id)
        )
    )


def _lists(message: Received, cases: list[Case], base_url: str) -> None:
    """Both parts of ``message`` name each case and link to it."""
    for subtype in ("plain", "html"):
        body = message.part(subtype)
        for case in cases:
            assert case.person.name in body
            assert f"{base_url}/cases/{case.public_id}" in body


@pytest.mark.usefixtures("app")
def test_an_import_of_new_cases_reaches_a_party_follower_as_one_email(
    cnrp: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    celery: Callable[..., Any],
    editor_api: Api,
) -> None:
    subscribe("cnrp@example.org", "organization", org=organization("CNRP"))
    subscribe("sokha@example.org", "case", case=case_of(cnrp["Kem Sokha"]))
    processes = celery(settings)
    processes.worker()
    processes.beat()

    import_id = _import(editor_api, [mp(n, status=s) for n, s in enumerate(STATUSES, 1)])

    [message] = sink.wait_for(1, timeout=60)
    assert message.rcpt_tos == ["cnrp@example.org"]
    assert message.subject == "[case monitor] 12 new cases in CNRP: 7 fled, 3 jailed, 2 at liberty"
    assert wire_faults(message.raw) == []
    cases = _imported(import_id)
    assert len(cases) == 12
    _lists(message, cases, settings.base_url)
    text = message.part("plain")
    assert "New cases: 12" in text
    assert text.index("Fled:") < text.index("Jailed:") < text.index("At liberty:")

    def all_sent() -> bool:
        return [d.state for d in deliveries()] == [DeliveryState.SENT.value] * 12

    wait_until(all_sent, 30, "the twelve deliveries marked sent", processes.logs)
    # One delivery per (event, subscription), all told in the one message.
    assert {d.message_id for d in deliveries()} == {message.message_id}
    assert len(sink.messages) == 1


def test_new_cases_and_status_changes_of_one_import_come_in_one_summary(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink, editor_api: Api
) -> None:
    _import(editor_api, [mp(1), mp(2), mp(3, status="jailed")])
    subscribe("ann@example.org")  # after the first import: she hears only of the second
    run_alerts(settings)
    assert sink.messages == []

    # The second file: two MPs come back, two more are new.
    rows = [
        mp(1, status="at_liberty", status_date="2019-11"),
        mp(2, status="at_liberty", status_date="2019-11"),
        mp(3, status="jailed"),  # unchanged
        mp(4, status="jailed"),
        mp(5, status="fled"),
    ]
    import_id = _import(editor_api, rows)
    run_alerts(settings)

    [message] = sink.messages
    assert message.subject == (
        "[case monitor] 2 new cases and 2 status changes in CNRP: 2 at liberty, 1 fled, 1 jailed"
    )
    cases = _imported(import_id)
    assert [c.person.name for c in cases] == ["Member 1", "Member 2", "Member 4", "Member 5"]
    _lists(message, cases, settings.base_url)
    text = message.part("plain")
    new, changed = text.split("Status changes of cases already in the register: 2")
    assert "New cases: 2" in new
    assert "Member 4" in new
    assert "Member 5" in new
    assert "Member 1" not in new
    assert "Member 1 (សមាជិក 1), Cambodia: fled → at liberty since November 2019" in changed
    assert "Member 2 (សមាជិក 2), Cambodia: fled → at liberty since November 2019" in changed
    assert {d.message_id for d in deliveries()} == {message.message_id}


def test_an_import_of_one_change_is_an_ordinary_alert(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink, editor_api: Api
) -> None:
    subscribe("ann@example.org")
    _import(editor_api, [mp(1, status="jailed")])
    run_alerts(settings)
    [message] = sink.messages
    assert message.subject == "Member 1 jailed (new case)"


def test_a_summary_lists_only_what_the_subscriber_is_cleared_for_and_follows(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink, editor_api: Api
) -> None:
    subscribe("public@example.org", "organization", org=organization("CNRP"))
    follow(make_user("viewer", "public", email="viewer@example.org"), "all")
    follow(make_user("viewer", "confidential", email="desk@example.org"), "all")
    subscribe("other@example.org", "country", country="TH")
    rows = [
        mp(1, status="fled"),
        mp(2, status="fled"),
        mp(3, status="jailed"),
        mp(4, status="jailed", confidentiality="confidential", name="Secret Witness"),
        mp(5, status="fled", confidentiality="restricted", name="Quiet Source"),
    ]
    import_id = _import(editor_api, rows)
    dispatch_pending(settings)
    # Made confidential after the dispatch, before the send: left out at send time.
    member_3 = next(c for c in _imported(import_id) if c.person.name == "Member 3")
    member_3.confidentiality = "confidential"
    db.session.commit()
    run_alerts(settings)

    by_address = {m.rcpt_tos[0]: m for m in sink.messages}
    assert set(by_address) == {"public@example.org", "viewer@example.org", "desk@example.org"}
    for address in ("public@example.org", "viewer@example.org"):
        message = by_address[address]
        assert message.subject == "[case monitor] 2 new cases in CNRP: 2 fled"
        for subtype in ("plain", "html"):
            body = message.part(subtype)
            assert "Member 1" in body
            assert "Member 2" in body
            for hidden in ("Member 3", "Secret Witness", "Quiet Source"):
                assert hidden not in body
    desk = by_address["desk@example.org"]
    assert desk.subject == "[case monitor] 5 new cases in CNRP: 3 fled, 2 jailed"
    assert "Secret Witness" in desk.part("plain")
    public = [d for d in deliveries() if d.subscription.email == "public@example.org"]
    assert sorted(d.state for d in public) == ["sent", "sent", "suppressed"]


def test_a_retried_summary_arrives_once(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink, editor_api: Api
) -> None:
    subscribe("ann@example.org")
    _import(editor_api, [mp(n) for n in range(1, 6)])
    sink.fail("data", "451 4.3.0 Local error, try later")
    run_alerts(settings)

    [message] = sink.messages
    assert message.subject == "[case monitor] 5 new cases in CNRP: 5 fled"
    sent = deliveries()
    assert [(d.state, d.attempts, d.message_id) for d in sent] == [
        (DeliveryState.SENT.value, 2, message.message_id)
    ] * 5
    # A duplicate task for the same deliveries (a redelivered message, a sweep) sends nothing.
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    again = alert_sending.send_deliveries([d.id for d in sent], mailer, settings)
    assert (again.sent, again.skipped) == (0, 5)
    assert len(sink.messages) == 1


def test_a_summary_waits_until_every_event_of_the_import_is_dispatched(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink, editor_api: Api
) -> None:
    subscribe("ann@example.org")
    import_id = _import(editor_api, [mp(n) for n in range(1, 4)])
    first, *rest = db.session.scalars(
        select(StatusEvent.id).where(StatusEvent.import_batch == import_id).order_by(StatusEvent.id)
    ).all()
    alerts.dispatch(first, settings)
    db.session.commit()
    [delivery] = deliveries()
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)

    early = alert_sending.send_deliveries([delivery.id], mailer, settings)
    assert early.skipped == 1
    assert sink.messages == []

    run_alerts(settings)  # the rest are dispatched; then the one summary goes
    [message] = sink.messages
    assert message.subject == "[case monitor] 3 new cases in CNRP: 3 fled"
    assert len(rest) == 2


@pytest.mark.usefixtures("app")
def test_a_very_large_import_is_counted_in_full_and_listed_in_part(
    cnrp: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    editor_api: Api,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(alert_content, "SUMMARY_LISTED", 2)
    subscribe("ann@example.org")
    _import(editor_api, [mp(n) for n in range(1, 5)])
    run_alerts(settings)
    [message] = sink.messages
    assert message.subject == "[case monitor] 4 new cases in CNRP: 4 fled"
    text = message.part("plain")
    assert text.count(f"{settings.base_url}/cases/") == 2
    assert f"… and 2 more, not listed here: {settings.base_url}/cases" in text
