"""The database side of sending alerts: claiming deliveries, reading them, writing outcomes.

A sender first takes a lease on the deliveries it will send (``claimed_until``), committed before
any message goes out, so a re-queued duplicate task skips them; it reads them as plain rows (a
fan-out reads thousands); and it writes each outcome with one prepared UPDATE right after the
message, so a worker killed mid-batch leaves only the message in flight in doubt.

Each lease names its claimant (:mod:`monitor.services.claimants`): once that process is known
to be dead, :func:`release_held_by` hands its deliveries back at once, without waiting for the
lease to run out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    Text,
    bindparam,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased, joinedload, selectinload

from monitor.config import Settings
from monitor.extensions import db
from monitor.models import (
    AlertDelivery,
    Case,
    Membership,
    Organization,
    Person,
    StatusEvent,
    Subscription,
    User,
)
from monitor.models.alerts import DeliveryState, SubscriptionMode, SubscriptionScope
from monitor.models.base import UTCDateTime, utcnow
from monitor.services import Checkpoint, claimants, commit_now, subscriptions
from monitor.services.alert_content import Addressee

CLOCK_TOLERANCE = dt.timedelta(seconds=1)


def claim(condition: ColumnElement[bool], settings: Settings) -> list[int]:
    """Take the lease on pending, due, unclaimed deliveries matching ``condition``; commit."""
    now = utcnow()
    claimed = db.session.scalars(
        update(AlertDelivery)
        .where(
            condition,
            AlertDelivery.state == DeliveryState.PENDING.value,
            or_(AlertDelivery.claimed_until.is_(None), AlertDelivery.claimed_until < now),
            or_(
                AlertDelivery.next_attempt_at.is_(None),
                AlertDelivery.next_attempt_at <= now + CLOCK_TOLERANCE,
            ),
        )
        .values(
            claimed_until=now + dt.timedelta(seconds=settings.alert_claim_seconds),
            claimed_by=claimants.label(),
        )
        .returning(AlertDelivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    commit_now(Checkpoint.ALERT_CLAIM)
    return sorted(claimed)


def _held(now: dt.datetime) -> ColumnElement[bool]:
    return (
        (AlertDelivery.state == DeliveryState.PENDING.value)
        & (AlertDelivery.claimed_until >= now)
        & AlertDelivery.claimed_by.isnot(None)
    )


def holders() -> set[str]:
    """The claimants holding a lease on a pending delivery right now."""
    held = select(AlertDelivery.claimed_by).where(_held(utcnow())).distinct()
    return {holder for holder in db.session.scalars(held) if holder}


@dataclass(frozen=True)
class Released:
    """Deliveries whose dead sender's lease was ended: to send again at once or in a digest."""

    immediate: list[int]
    # Daily subscriber → the latest of its released deliveries (the digest's cutoff).
    digests: dict[int, dt.datetime]


def release_held_by(gone: set[str]) -> Released:
    """End the leases of dead claimants; the caller queues their deliveries again.

    Whatever such a claimant sent and marked is settled; only the message it had in flight,
    accepted by the server but not yet marked, may go out a second time.
    """
    if not gone:
        return Released([], {})
    rows = db.session.execute(
        update(AlertDelivery)
        .where(_held(utcnow()), AlertDelivery.claimed_by.in_(sorted(gone)))
        .values(claimed_until=None)
        .returning(AlertDelivery.id, AlertDelivery.subscription_id, AlertDelivery.created_at)
        .execution_options(synchronize_session=False)
    ).all()
    daily = set(
        db.session.scalars(
            select(Subscription.id).where(
                Subscription.id.in_({row[1] for row in rows}),
                Subscription.mode == SubscriptionMode.DAILY.value,
            )
        )
    )
    digests: dict[int, dt.datetime] = {}
    for _, subscription_id, created_at in rows:
        if subscription_id in daily:
            digests[subscription_id] = max(created_at, digests.get(subscription_id, created_at))
    immediate = sorted(row[0] for row in rows if row[1] not in daily)
    return Released(immediate, digests)


def unclaimed_due(limit: int) -> list[int]:
    """Pending immediate deliveries due now that nobody holds: the oldest ``limit`` of them.

    Their send message may be queued still, or lost with a dead worker that had taken it but
    not yet claimed them; a second message for one finds it claimed or sent and does nothing.
    """
    now = utcnow()
    return list(
        db.session.scalars(
            select(AlertDelivery.id)
            .join(Subscription, AlertDelivery.subscription_id == Subscription.id)
            .where(
                AlertDelivery.state == DeliveryState.PENDING.value,
                Subscription.mode == SubscriptionMode.IMMEDIATE.value,
                or_(AlertDelivery.claimed_until.is_(None), AlertDelivery.claimed_until < now),
                or_(
                    AlertDelivery.next_attempt_at.is_(None),
                    AlertDelivery.next_attempt_at <= now + CLOCK_TOLERANCE,
                ),
            )
            .order_by(AlertDelivery.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Pending:
    """A claimed delivery: its row as it stands, its event and its subscriber."""

    id: int
    event: StatusEvent
    to: Addressee
    attempts: int
    give_up_at: dt.datetime | None
    row: dict[str, object]


_ScopeOrganization = aliased(Organization)
_ScopePerson = aliased(Person)
_ROW = ("state", "attempts", "last_error", "sent_at", "message_id", "next_attempt_at")


def load(ids: Sequence[int]) -> list[Pending]:
    """The claimed deliveries and their subscribers as plain rows, and their events in full."""
    rows = db.session.execute(
        select(
            AlertDelivery.id,
            AlertDelivery.status_event_id,
            AlertDelivery.give_up_at,
            *(getattr(AlertDelivery, name) for name in _ROW),
            Subscription.public_id,
            Subscription.email,
            Subscription.name,
            Subscription.unsubscribe_token,
            Subscription.scope,
            Subscription.scope_country,
            Subscription.confirmed_at,
            Subscription.unsubscribed_at,
            User.id,
            User.email,
            User.name,
            User.active,
            User.clearance,
            _ScopeOrganization.short_name,
            _ScopeOrganization.name,
            _ScopePerson.name,
            Subscription.language,
            User.language,
        )
        .join(Subscription, AlertDelivery.subscription_id == Subscription.id)
        .outerjoin(User, Subscription.user_id == User.id)
        .outerjoin(_ScopeOrganization, Subscription.scope_organization_id == _ScopeOrganization.id)
        .outerjoin(Case, Subscription.scope_case_id == Case.id)
        .outerjoin(_ScopePerson, Case.person_id == _ScopePerson.id)
        .where(AlertDelivery.id.in_(ids))
        .order_by(AlertDelivery.id)
    ).all()
    events = {
        event.id: event
        for event in db.session.scalars(
            select(StatusEvent)
            .where(StatusEvent.id.in_({row[1] for row in rows}))
            .options(
                joinedload(StatusEvent.case)
                .joinedload(Case.person)
                .selectinload(Person.memberships)
                .joinedload(Membership.organization),
                joinedload(StatusEvent.case).selectinload(Case.charges),
                selectinload(StatusEvent.sources),
            )
        ).unique()
    }
    return [_pending(row, events[row[1]]) for row in rows]


def _pending(row: Sequence[Any], event: StatusEvent) -> Pending:
    delivery_id, _, give_up_at, *rest = tuple(row)
    values = dict(zip(_ROW, rest[: len(_ROW)], strict=True))
    (
        sub_id,
        sub_email,
        sub_name,
        token,
        scope,
        country,
        confirmed_at,
        unsubscribed_at,
        user_id,
        user_email,
        user_name,
        user_active,
        user_clearance,
        org_short,
        org_name,
        person,
        sub_language,
        user_language,
    ) = rest[len(_ROW) :]
    tied = user_id is not None
    return Pending(
        id=delivery_id,
        event=event,
        attempts=int(str(values["attempts"] or 0)),
        give_up_at=give_up_at,
        row=values,
        to=Addressee(
            subscription_id=sub_id,
            email=user_email if tied else sub_email,
            name=(user_name if tied else sub_name) or "",
            unsubscribe_token=token,
            follows=subscriptions.Followed(
                scope,
                country=country,
                organization=org_short or org_name,
                person=person,
                tied_to_user=tied,
            ),
            followed_organization=(
                (org_short or org_name) if scope == SubscriptionScope.ORGANIZATION.value else None
            ),
            confirmed=confirmed_at is not None,
            confirmed_at=confirmed_at,
            unsubscribed=unsubscribed_at is not None,
            tied_to_user=tied,
            user_active=bool(user_active),
            user_clearance=user_clearance,
            # A user's subscription follows the language they chose last.
            language=(user_language if tied else None) or sub_language or "en",
        ),
    )


# Built once: a statement made afresh per message costs four times its round trip to compile.
OUTCOME = (
    update(AlertDelivery)
    .where(AlertDelivery.id == bindparam("delivery_id"))
    .values(
        state=bindparam("state", type_=String()),
        attempts=bindparam("attempts", type_=Integer()),
        last_error=bindparam("last_error", type_=Text()),
        sent_at=bindparam("sent_at", type_=UTCDateTime()),
        message_id=bindparam("message_id", type_=String()),
        next_attempt_at=bindparam("next_attempt_at", type_=UTCDateTime()),
        claimed_until=None,
    )
)
LEASE = (
    update(AlertDelivery)
    .where(AlertDelivery.id.in_(bindparam("ids", expanding=True)))
    .values(claimed_until=bindparam("until", type_=UTCDateTime()))
)


@contextmanager
def autocommit() -> Iterator[Connection]:
    """A connection of its own whose every statement commits at once."""
    with db.engine.connect() as connection:
        marks = connection.execution_options(isolation_level="AUTOCOMMIT")
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            # A "sent" mark need not wait for the disk: should PostgreSQL itself crash, the
            # marks of its last fraction of a second are lost and those emails go out again,
            # never that one is lost. The commit after every message then costs a round trip.
            marks.execute(text("SET synchronous_commit TO OFF"))
        try:
            yield marks
        finally:
            if postgresql:
                try:
                    marks.execute(text("RESET synchronous_commit"))
                except SQLAlchemyError:
                    connection.invalidate()  # never back to the pool with the setting on
