"""Who hears about a status change: scopes, double opt-in, back-fills, one email per address."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from monitor.config import Settings
from monitor.extensions import db
from monitor.models import StatusEvent
from monitor.services import alerts
from tests.support.alerts import (
    case_of,
    deliveries,
    dispatch_pending,
    new_organization,
    open_case,
    organization,
    record,
    run_alerts,
    subscribe,
)
from tests.support.smtp import SmtpSink


def _recipients(sink: SmtpSink) -> list[str]:
    return sorted(address for message in sink.messages for address in message.rcpt_tos)


def test_each_scope_hears_about_its_own_cases_only(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    mao = case_of(cnrp["Mao Monyvann"])
    subscribe("all@example.org")
    subscribe("kh@example.org", "country", country="KH")
    subscribe("mm@example.org", "country", country="MM")
    subscribe("cnrp@example.org", "organization", org=organization("CNRP"))
    subscribe("other@example.org", "organization", org=new_organization("Other NGO", "ONG"))
    subscribe("mao@example.org", "case", case=mao)
    subscribe("kem@example.org", "case", case=case_of(cnrp["Kem Sokha"]))

    record(mao, "jailed", "2017-11")
    run_alerts(settings)

    assert _recipients(sink) == [
        "all@example.org",
        "cnrp@example.org",
        "kh@example.org",
        "mao@example.org",
    ]
    reasons = {m.rcpt_tos[0]: m.part("plain") for m in sink.messages}
    assert "because you follow every public case." in reasons["all@example.org"]
    assert "because you follow cases in Cambodia." in reasons["kh@example.org"]
    assert "because you follow members of CNRP." in reasons["cnrp@example.org"]
    assert "because you follow Mao Monyvann's case." in reasons["mao@example.org"]


def test_unconfirmed_subscribers_get_nothing(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("waiting@example.org", confirmed=False)
    subscribe("confirmed@example.org")

    record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)

    assert _recipients(sink) == ["confirmed@example.org"]


def test_backfilled_event_alerts_nobody(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("all@example.org")
    # Mao Monyvann has been at liberty since October 2017; an older event is history only.
    event = record(cnrp["Mao Monyvann"], "jailed", "2016-05")
    run_alerts(settings)

    db.session.refresh(event)
    assert event.changed_current is False
    assert event.alerts_pending is False
    assert deliveries() == []
    assert sink.messages == []


def test_a_new_case_alerts_its_subscribers(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("cnrp@example.org", "organization", org=organization("CNRP"))
    open_case(
        "Sam Rainsy", status="fled", since="2015-11", member_of=organization("CNRP"), announce=True
    )
    run_alerts(settings)

    [message] = sink.messages
    assert message.subject == "Sam Rainsy fled (new case)"
    assert "New case. Custody status: fled" in message.part("plain")


def test_dispatch_twice_writes_and_sends_each_delivery_once(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    subscribe("a@example.org")
    subscribe("b@example.org")
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    assert alerts.dispatch(event.id, settings) == alerts.DispatchStep(2, done=True)
    db.session.commit()
    # A second run (the sweep racing the after-commit task) finds nothing left to do …
    assert alerts.dispatch(event.id, settings) == alerts.DispatchStep(0, done=True)
    # … and even with the flag raised again, the unique constraint keeps one row per subscriber.
    db.session.execute(
        update(StatusEvent).where(StatusEvent.id == event.id).values(alerts_pending=True)
    )
    db.session.commit()
    alerts.dispatch(event.id, settings)
    db.session.commit()
    assert len(deliveries()) == 2

    run_alerts(settings)
    run_alerts(settings)
    assert sorted(sink.message_ids().values()) == [1, 1]


def test_a_large_fan_out_is_written_in_parts(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    for n in range(5):
        subscribe(f"reader{n}@example.org")
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    steps = []
    while not steps or not steps[-1].done:
        steps.append(alerts.dispatch(event.id, settings, limit=2))
        db.session.commit()
    assert [s.written for s in steps] == [2, 2, 1]
    run_alerts(settings)
    assert sorted(sink.message_ids().values()) == [1] * 5


def test_one_email_per_address_even_with_several_matching_subscriptions(
    app: Flask, cnrp: dict[str, str], settings: Settings, sink: SmtpSink
) -> None:
    mao = case_of(cnrp["Mao Monyvann"])
    subscribe("Ann@Example.org")
    subscribe("ann@example.org", "country", country="KH")
    subscribe("ann@example.org", "case", case=mao)

    record(mao, "jailed", "2017-11")
    run_alerts(settings)

    [message] = sink.messages
    assert message.rcpt_tos == ["ann@example.org"]
    # The narrowest subscription is the one named as the reason.
    assert "because you follow Mao Monyvann's case." in message.part("plain")


def test_recording_a_change_marks_the_event_pending_in_the_same_transaction(
    app: Flask, cnrp: dict[str, str], settings: Settings
) -> None:
    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    assert event.alerts_pending is True
    dispatch_pending(settings)
    db.session.refresh(event)
    assert event.alerts_pending is False
