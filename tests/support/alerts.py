"""Alert helpers: fast retry settings, cases, status changes, subscribers, and a worker run
in-process."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select

from monitor.config import Settings
from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.mail.transport import mailer_for
from monitor.models import AlertDelivery, Case, Organization, StatusEvent, Subscription, User
from monitor.models.alerts import DeliveryState, SubscriptionMode, SubscriptionScope
from monitor.models.base import utcnow
from monitor.services import alert_sending, alerts, subscriptions
from monitor.services.cases import CaseInput, StatusInput, create_case, record_status
from monitor.services.people import (
    OrganizationInput,
    PersonInput,
    add_membership,
    create_organization,
    create_person,
)

# Short enough for tests, and consistent with Settings' own checks.
FAST = {
    "smtp_timeout": 2.0,
    "alert_retry_base_seconds": 0.2,
    "alert_retry_max_seconds": 1.0,
    "alert_claim_seconds": 12.0,
    "alert_sweep_seconds": 1.0,
}
FAST_ENV = {
    "MONITOR_SMTP_TIMEOUT": "2",
    "MONITOR_ALERT_RETRY_BASE_SECONDS": "0.2",
    "MONITOR_ALERT_RETRY_MAX_SECONDS": "1",
    "MONITOR_ALERT_CLAIM_SECONDS": "12",
    "MONITOR_ALERT_SWEEP_SECONDS": "1",
}


def case_of(public_id: str) -> Case:
    """A case by public id."""
    return db.session.scalars(select(Case).where(Case.public_id == public_id)).one()


def organization(short_name: str = "CNRP") -> Organization:
    """An organization by short name."""
    return db.session.scalars(
        select(Organization).where(Organization.short_name == short_name)
    ).one()


def new_organization(name: str, short_name: str, country: str = "KH") -> Organization:
    """Create and commit an organization."""
    org = create_organization(
        "test",
        OrganizationInput(name=name, short_name=short_name, kind="ngo", country=country),
    )
    db.session.commit()
    return org


def open_case(
    name: str,
    *,
    status: str = "at_liberty",
    since: str = "2020-01",
    level: str = "public",
    country: str = "KH",
    native: str | None = None,
    member_of: Organization | None = None,
    announce: bool = False,
) -> Case:
    """Open a case through the services and commit.

    Its first event is dispatched at once (to whoever subscribed so far) unless ``announce``,
    which leaves it pending for the next :func:`run_alerts`.
    """
    person = create_person("test", PersonInput(name=name, name_native=native))
    if member_of is not None:
        add_membership("test", person, member_of, "member")
    case = create_case(
        "test",
        person,
        CaseInput(country=country, title=f"{name}: case", confidentiality=level),
        StatusInput(status=status, occurred_on=PartialDate.parse(since)),
    )
    db.session.commit()
    if not announce:
        dispatch_pending(current_app.config["SETTINGS"])
    return case


def record(
    case: Case | str,
    status: str,
    on: str,
    *,
    description: str | None = None,
    location: str | None = None,
    about: bool = False,
) -> StatusEvent:
    """Record a status change through the service and commit."""
    target = case_of(case) if isinstance(case, str) else case
    event = record_status(
        "test",
        target,
        StatusInput(
            status=status,
            occurred_on=PartialDate.parse(on),
            description=description,
            location=location,
            about=about,
        ),
    ).event
    db.session.commit()
    return event


def subscribe(
    email: str,
    scope: str = SubscriptionScope.ALL.value,
    *,
    country: str | None = None,
    org: Organization | None = None,
    case: Case | None = None,
    mode: str = SubscriptionMode.IMMEDIATE.value,
    confirmed: bool = True,
    name: str = "",
) -> Subscription:
    """An external subscriber, through the public-page service (confirmed unless told)."""
    subscription = subscriptions.request_subscription(
        subscriptions.SubscriptionInput(
            email=email,
            name=name,
            scope=scope,
            country=country,
            organization=org,
            case=case,
            mode=mode,
        ),
        current_app.config["SETTINGS"].secret_key,
    )
    if confirmed:
        subscriptions.confirm(subscription)
    db.session.commit()
    return subscription


def follow(
    user: User,
    scope: str = SubscriptionScope.ALL.value,
    target: Case | Organization | None = None,
    mode: str = SubscriptionMode.IMMEDIATE.value,
) -> Subscription:
    """A user follows something (tied to the user's clearance)."""
    subscription = subscriptions.follow(user, SubscriptionScope(scope), target, mode)
    db.session.commit()
    return subscription


def pending_deliveries() -> list[AlertDelivery]:
    """Deliveries still waiting."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AlertDelivery).where(AlertDelivery.state == DeliveryState.PENDING.value)
        )
    )


def deliveries() -> list[AlertDelivery]:
    """Every delivery, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def dispatch_pending(settings: Settings) -> None:
    """What the dispatch tasks would do: every event still flagged gets its deliveries."""
    event_ids = db.session.scalars(
        select(StatusEvent.id).where(StatusEvent.alerts_pending.is_(True))
    ).all()
    for event_id in event_ids:
        alerts.dispatch(event_id, settings)
        db.session.commit()


def run_alerts(settings: Settings, *, timeout: float = 15.0) -> None:
    """Do in this process what the worker would: dispatch, then send until nothing is pending.

    Deliveries waiting for a retry are sent when due; a daily subscriber's wait for the digest.
    """
    mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
    deadline = time.monotonic() + timeout
    while True:
        dispatch_pending(settings)
        db.session.expire_all()
        waiting = db.session.scalars(
            select(AlertDelivery)
            .join(Subscription)
            .where(
                AlertDelivery.state == DeliveryState.PENDING.value,
                Subscription.mode == SubscriptionMode.IMMEDIATE.value,
            )
        ).all()
        if not waiting:
            return
        now = utcnow()
        due = [d.id for d in waiting if d.next_attempt_at is None or d.next_attempt_at <= now]
        if due:
            alert_sending.send_deliveries(due, mailer, settings)
        else:
            time.sleep(0.05)
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(waiting)} deliveries still pending")
