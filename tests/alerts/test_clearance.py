"""Nobody hears about a case above their clearance: not in a subject, a body or a digest.

External subscribers hear about public cases only; a subscription tied to a user follows that
user's clearance as it is when the email is sent, not when the change was recorded.
"""

from __future__ import annotations

from flask import Flask

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models import Case
from monitor.models.alerts import DeliveryState
from monitor.models.base import utcnow
from monitor.services import alert_sending, alerts, users
from monitor.services.cases import CaseInput, update_case
from tests.support.accounts import make_user
from tests.support.alerts import (
    deliveries,
    dispatch_pending,
    follow,
    open_case,
    record,
    run_alerts,
    subscribe,
)
from tests.support.smtp import Received, SmtpSink

SECRET_NAMES = ("Restricted Rith", "Confidential Chea", "ឈា")


def _everything(message: Received) -> str:
    return "\n".join([message.subject, message.part("plain"), message.part("html")])


def _three_cases() -> list[Case]:
    """A public, a restricted and a confidential case, opened before anyone subscribes."""
    return [
        open_case("Public Pov"),
        open_case("Restricted Rith", level="restricted"),
        open_case("Confidential Chea", level="confidential", native="ឈា"),
    ]


def _jail(cases: list[Case]) -> None:
    for case in cases:
        record(case, "jailed", "2021-03")


def test_external_subscribers_never_hear_of_restricted_or_confidential_cases(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    cases = _three_cases()
    subscribe("outsider@example.org")
    subscribe("kh@example.org", "country", country="KH")
    _jail(cases)
    run_alerts(settings)

    assert sorted(m.rcpt_tos[0] for m in sink.messages) == [
        "kh@example.org",
        "outsider@example.org",
    ]
    for message in sink.messages:
        text = _everything(message)
        assert "Public Pov" in text
        for secret in SECRET_NAMES:
            assert secret not in text
    # Not even a suppressed row: the restricted events were never meant for them.
    assert len(deliveries()) == 2


def test_user_subscriptions_follow_the_users_clearance(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    cases = _three_cases()
    for clearance in ("public", "restricted", "confidential"):
        follow(make_user("viewer", clearance))
    _jail(cases)
    run_alerts(settings)

    heard: dict[str, list[str]] = {}
    for message in sink.messages:
        heard.setdefault(message.rcpt_tos[0], []).append(message.subject)
    assert sorted(heard["viewer.public@example.org"]) == ["Public Pov jailed — was at liberty"]
    assert sorted(heard["viewer.restricted@example.org"]) == [
        "Public Pov jailed — was at liberty",
        "Restricted Rith jailed — was at liberty",
    ]
    assert len(heard["viewer.confidential@example.org"]) == 3


def test_clearance_lowered_before_the_send_suppresses_the_alert(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    case = open_case("Confidential Chea", level="confidential", native="ឈា")
    user = make_user("editor", "confidential")
    follow(user)
    record(case, "jailed", "2021-03")
    dispatch_pending(settings)
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.PENDING.value

    users.update_user(
        "test",
        user,
        users.UserInput(email=user.email, role=user.role, clearance="public", name=user.name),
    )
    db.session.commit()
    run_alerts(settings)

    assert sink.messages == []
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.SUPPRESSED.value
    assert delivery.last_error == "the subscriber is not cleared for this case"


def test_deactivated_user_hears_nothing(app: Flask, settings: Settings, sink: SmtpSink) -> None:
    case = open_case("Public Pov")
    user = make_user("viewer", "public")
    follow(user)
    record(case, "jailed", "2021-03")
    dispatch_pending(settings)
    users.update_user(
        "test",
        user,
        users.UserInput(email=user.email, role=user.role, clearance=user.clearance, active=False),
    )
    db.session.commit()
    run_alerts(settings)

    assert sink.messages == []
    assert deliveries()[0].last_error == "the subscriber's account is deactivated"


def test_case_made_confidential_after_the_change_is_not_mailed_out(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    case = open_case("Public Pov")
    subscribe("outsider@example.org")
    record(case, "jailed", "2021-03")
    dispatch_pending(settings)
    update_case(
        "test", case, CaseInput(country="KH", title="now sensitive", confidentiality="confidential")
    )
    db.session.commit()
    run_alerts(settings)

    assert sink.messages == []
    [delivery] = deliveries()
    assert delivery.state == DeliveryState.SUPPRESSED.value
    assert delivery.last_error == "external subscribers hear about public cases only"


def test_digest_leaves_out_cases_above_the_subscribers_clearance(
    app: Flask, settings: Settings, sink: SmtpSink
) -> None:
    cases = _three_cases()
    later = open_case("Later Leak")
    outsider = subscribe("outsider@example.org", mode="daily")
    followed = follow(make_user("viewer", "restricted"), mode="daily")
    _jail(cases)
    record(later, "fled", "2021-04")
    dispatch_pending(settings)
    # Made restricted after the change was dispatched, before the digest goes out.
    update_case("test", later, CaseInput(country="KH", title="t", confidentiality="restricted"))
    db.session.commit()
    assert alerts.queue_digests() == 2
    db.session.commit()

    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    for subscription in (outsider, followed):
        alert_sending.send_digest(subscription.id, utcnow(), mailer, settings)

    [to_outsider] = sink.to("outsider@example.org")
    text = _everything(to_outsider)
    assert "Public Pov" in text
    for secret in (*SECRET_NAMES, "Later Leak"):
        assert secret not in text
    [to_viewer] = sink.to("viewer.restricted@example.org")
    text = _everything(to_viewer)
    assert "Restricted Rith" in text
    assert "Later Leak" in text
    assert "Confidential Chea" not in text
    assert "ឈា" not in text
