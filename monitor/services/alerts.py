"""Status change → alert: the outbox side (dispatch, sweep, digests) and the delivery log.

``services.cases.record_status`` marks an event that changed a case's current status as
``alerts_pending`` in the request's own transaction and asks for ``ALERTS_DISPATCH`` after commit.
:func:`dispatch` then writes one :class:`AlertDelivery` per subscriber (unique per event and
subscription, so running it twice adds nothing), clears the flag and asks for the sends.
:func:`sweep`, run by beat, re-queues whatever a broker outage or a killed worker left behind.
Sending itself lives in :mod:`monitor.services.alert_sending`.

From "status recorded" to "email sent", in order (each hop's docstring or comment names the next):

1. ``services.cases.record_status`` → ``jobs.after_commit(TaskName.ALERTS_DISPATCH, event id)``.
2. The request's commit (``web.writes.commit``, the API's) → ``jobs._send_pending`` →
   ``jobs.send_now`` → the broker.
3. ``workers.alerts.dispatch`` → :func:`dispatch` (here) → :func:`queue_sends` →
   ``jobs.after_commit(TaskName.ALERTS_SEND, delivery ids)``; the task's commit sends them as in 2.
4. ``workers.alerts.send`` → ``services.alert_sending.send_deliveries``: ``alert_claims.claim``
   (a committed lease) → ``alert_claims.load`` → per delivery ``alert_content`` (suppression,
   wording) → ``mail.messages.alert_message`` → ``mail.transport`` → ``alert_claims.OUTCOME``
   marks it sent.
5. Beat → ``workers.alerts.sweep`` → :func:`sweep`: queues again what a fault dropped on the way.

Subscribers hear only news: :func:`recipients_of` leaves out a subscription confirmed after the
event was recorded (and ``alert_content.Addressee.suppression`` checks again at send time). An
import's events (``StatusEvent.import_batch``) are told as one summary per subscriber: their
sends wait until every event of the import is dispatched (:func:`import_dispatching`), and the
sender takes a subscriber's deliveries of one import together (``alert_sending``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from monitor import jobs
from monitor.config import Settings
from monitor.domain import Confidentiality
from monitor.extensions import db
from monitor.models import AlertDelivery, Case, Membership, StatusEvent, Subscription, User
from monitor.models.alerts import DeliveryState, SubscriptionMode, SubscriptionScope
from monitor.models.base import utcnow
from monitor.services import Actor, ValidationError, audit, column_rows

# When one address holds several matching subscriptions it gets one email, from the narrowest.
_SCOPE_RANK = {
    SubscriptionScope.CASE.value: 0,
    SubscriptionScope.ORGANIZATION.value: 1,
    SubscriptionScope.COUNTRY.value: 2,
    SubscriptionScope.ALL.value: 3,
}
SWEEP_LIMIT = 20_000


@dataclass(frozen=True)
class _Candidate:
    subscription_id: int
    email: str
    scope: str
    mode: str

    @property
    def preference(self) -> tuple[int, int, int]:
        immediate = 0 if self.mode == SubscriptionMode.IMMEDIATE.value else 1
        return (immediate, _SCOPE_RANK.get(self.scope, 9), self.subscription_id)


def clearances_seeing(level: Confidentiality) -> list[str]:
    """Every clearance that may see a case at ``level``."""
    return [c.value for c in Confidentiality if c.rank >= level.rank]


def cleared_for(case: Case) -> ColumnElement[bool]:
    """SQL: the subscription may hear about ``case`` (external ones: public cases only).

    Needs ``User`` outer-joined on ``Subscription.user_id``.
    """
    external = and_(Subscription.user_id.is_(None), literal(case.level is Confidentiality.PUBLIC))
    user_cleared = and_(
        Subscription.user_id.is_not(None),
        User.active.is_(True),
        User.clearance.in_(clearances_seeing(case.level)),
    )
    return or_(external, user_cleared)


def _in_scope(case: Case) -> ColumnElement[bool]:
    organizations = select(Membership.organization_id).where(Membership.person_id == case.person_id)
    return or_(
        Subscription.scope == SubscriptionScope.ALL.value,
        and_(
            Subscription.scope == SubscriptionScope.COUNTRY.value,
            Subscription.scope_country == case.country,
        ),
        and_(
            Subscription.scope == SubscriptionScope.ORGANIZATION.value,
            Subscription.scope_organization_id.in_(organizations),
        ),
        and_(
            Subscription.scope == SubscriptionScope.CASE.value,
            Subscription.scope_case_id == case.id,
        ),
    )


def recipients_of(event: StatusEvent) -> list[int]:
    """Subscription ids to tell about ``event``: one per address, cleared, in scope, and
    confirmed when the event was recorded.

    A subscriber hears only news: a change recorded before they confirmed (a seeded register, a
    change waiting for a worker that was down) is no news to them. The comparison is by when the
    change was entered in the register, not by the date of the custody change it describes.
    """
    case = event.case
    rows = db.session.execute(
        select(
            Subscription.id,
            func.coalesce(User.email, Subscription.email),
            Subscription.scope,
            Subscription.mode,
        )
        .outerjoin(User, Subscription.user_id == User.id)
        .where(
            Subscription.confirmed_at.is_not(None),
            Subscription.confirmed_at <= event.recorded_at,
            Subscription.unsubscribed_at.is_(None),
            _in_scope(case),
            cleared_for(case),
        )
    ).all()
    chosen: dict[str, _Candidate] = {}
    for sub_id, email, scope, mode in rows:
        candidate = _Candidate(sub_id, email.lower(), scope, mode)
        best = chosen.get(candidate.email)
        if best is None or candidate.preference < best.preference:
            chosen[candidate.email] = candidate
    return sorted(c.subscription_id for c in chosen.values())


def _insert_ignoring_duplicates(rows: list[dict[str, object]]) -> None:
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(AlertDelivery).on_conflict_do_nothing(
        index_elements=["status_event_id", "subscription_id"]
    )
    db.session.execute(statement, rows)


def batches(ids: Sequence[int], size: int) -> list[list[int]]:
    """``ids`` cut into lists of at most ``size``."""
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


@dataclass(frozen=True)
class DispatchStep:
    """What one dispatch call wrote, and whether the event is fully dispatched."""

    written: int
    done: bool


def dispatch(event_id: int, settings: Settings, *, limit: int | None = None) -> DispatchStep:
    """Write the missing deliveries of a pending event (up to ``limit``) and queue their sends.

    With a limit, call again after committing until ``done``: a fan-out to thousands is written in
    parts, so the first emails leave while the rest are still being written. Idempotent: an event
    no longer pending is left alone, and the unique (event, subscription) constraint drops a
    delivery a concurrent run already wrote. Next: :func:`queue_sends`.
    """
    _one_dispatch_per_import(event_id)
    event = db.session.scalars(
        select(StatusEvent)
        .where(StatusEvent.id == event_id)
        .options(joinedload(StatusEvent.case))
        .with_for_update(of=StatusEvent)
    ).first()
    if event is None or not event.alerts_pending:
        return DispatchStep(0, done=True)
    written = set(
        db.session.scalars(
            select(AlertDelivery.subscription_id).where(AlertDelivery.status_event_id == event.id)
        )
    )
    missing = [sub_id for sub_id in recipients_of(event) if sub_id not in written]
    part = missing if limit is None else missing[:limit]
    now = utcnow()
    give_up = now + dt.timedelta(hours=settings.alert_retry_hours)
    if part:
        _insert_ignoring_duplicates(
            [
                {
                    "status_event_id": event.id,
                    "subscription_id": sub_id,
                    "state": DeliveryState.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "give_up_at": give_up,
                }
                for sub_id in part
            ]
        )
    done = len(part) == len(missing)
    if done:
        event.alerts_pending = False
    db.session.flush()
    if event.import_batch is None:
        queue_sends(
            _immediate_pending(
                AlertDelivery.status_event_id == event.id, AlertDelivery.subscription_id.in_(part)
            ),
            settings,
        )
    elif done and not import_dispatching([event.import_batch]):
        # The import's last event to be dispatched sends the summaries of them all.
        queue_sends(_import_summaries(event.import_batch), settings)
    return DispatchStep(len(part), done)


def _one_dispatch_per_import(event_id: int) -> None:
    """PostgreSQL: dispatch an import's events one at a time, until each transaction ends.

    Then the last of them to finish sees every other one done and sends the summaries; run side
    by side, the last two could each see the other still pending, and the summaries would wait
    for the sweep. Taken before the event's row lock, in the same order by every dispatch, so
    two of them never wait for each other. (SQLite has one writer at a time already.)
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    batch = db.session.scalar(select(StatusEvent.import_batch).where(StatusEvent.id == event_id))
    if batch is not None:
        key = int.from_bytes(hashlib.sha256(f"alerts:{batch}".encode()).digest()[:8], signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def imported_events(batch: str) -> Select[int]:
    """SQL: the ids of the status events one import recorded."""
    return select(StatusEvent.id).where(StatusEvent.import_batch == batch)


def import_dispatching(batches: Collection[str]) -> set[str]:
    """Those of ``batches`` with an event whose deliveries are not all written yet.

    An import's summary waits for them: sent earlier, it would list only part of the import
    and the rest would follow in more emails. Should two dispatches finish at once, each may
    see the other still pending and neither send: then the sweep sends the summaries.
    """
    if not batches:
        return set()
    return set(
        db.session.scalars(
            select(StatusEvent.import_batch)
            .where(
                StatusEvent.import_batch.in_(list(batches)), StatusEvent.alerts_pending.is_(True)
            )
            .distinct()
        )
    )


def _import_summaries(batch: str) -> list[int]:
    """One pending delivery per immediate subscriber of an import: the sender takes the rest of
    that subscriber's deliveries of the import with it (``alert_sending``)."""
    return list(
        db.session.scalars(
            select(func.min(AlertDelivery.id))
            .join(Subscription, AlertDelivery.subscription_id == Subscription.id)
            .where(
                AlertDelivery.status_event_id.in_(imported_events(batch)),
                AlertDelivery.state == DeliveryState.PENDING.value,
                Subscription.mode == SubscriptionMode.IMMEDIATE.value,
            )
            .group_by(AlertDelivery.subscription_id)
            .order_by(func.min(AlertDelivery.id))
        )
    )


def _immediate_pending(*conditions: ColumnElement[bool]) -> list[int]:
    return list(
        db.session.scalars(
            select(AlertDelivery.id)
            .join(Subscription, AlertDelivery.subscription_id == Subscription.id)
            .where(
                AlertDelivery.state == DeliveryState.PENDING.value,
                Subscription.mode == SubscriptionMode.IMMEDIATE.value,
                *conditions,
            )
            .order_by(AlertDelivery.id)
            .limit(SWEEP_LIMIT)
        )
    )


def queue_sends(delivery_ids: Sequence[int], settings: Settings) -> None:
    """Ask for the sends after commit, in batches that share one SMTP connection.

    Next: the caller's commit → ``workers.alerts.send`` → ``alert_sending.send_deliveries``.
    """
    for batch in batches(delivery_ids, settings.alert_batch_size):
        jobs.after_commit(jobs.TaskName.ALERTS_SEND, batch)


@dataclass(frozen=True)
class SweepResult:
    """What one sweep re-queued."""

    events: int
    deliveries: int


def sweep(settings: Settings, now: dt.datetime | None = None) -> SweepResult:
    """Re-queue events still pending and deliveries overdue by a sweep interval or more.

    The after-commit send is the fast path; this is the safety net for a broker that was down at
    commit time, a worker killed with its tasks, or a retry message that never came back. A
    re-queued duplicate does no harm: dispatch is idempotent and senders claim each delivery.
    """
    now = now or utcnow()
    overdue = now - dt.timedelta(seconds=settings.alert_sweep_seconds)
    events = list(
        db.session.scalars(
            select(StatusEvent.id)
            .where(StatusEvent.alerts_pending.is_(True), StatusEvent.recorded_at <= overdue)
            .order_by(StatusEvent.id)
            .limit(SWEEP_LIMIT)
        )
    )
    for event_id in events:
        jobs.after_commit(jobs.TaskName.ALERTS_DISPATCH, event_id)
    deliveries = _immediate_pending(
        AlertDelivery.next_attempt_at <= overdue,
        or_(AlertDelivery.claimed_until.is_(None), AlertDelivery.claimed_until < now),
    )
    queue_sends(deliveries, settings)
    return SweepResult(len(events), len(deliveries))


def queue_digests(now: dt.datetime | None = None) -> int:
    """Ask for one digest per daily subscriber with pending deliveries; returns how many."""
    now = now or utcnow()
    subscription_ids = db.session.scalars(
        select(Subscription.id)
        .join(AlertDelivery, AlertDelivery.subscription_id == Subscription.id)
        .where(
            Subscription.mode == SubscriptionMode.DAILY.value,
            AlertDelivery.state == DeliveryState.PENDING.value,
            AlertDelivery.created_at <= now,
        )
        .distinct()
        .order_by(Subscription.id)
    ).all()
    for sub_id in subscription_ids:
        jobs.after_commit(jobs.TaskName.ALERTS_SEND_DIGEST, sub_id, now.isoformat())
    return len(subscription_ids)


def deliveries_of(event: StatusEvent) -> list[AlertDelivery]:
    """The delivery log of one event, with each recipient."""
    return list(
        db.session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.status_event_id == event.id)
            .options(
                joinedload(AlertDelivery.subscription).joinedload(Subscription.user),
                joinedload(AlertDelivery.subscription).joinedload(Subscription.scope_organization),
            )
            .order_by(AlertDelivery.id)
        )
    )


def counts_by_event(case: Case) -> dict[int, Counter[str]]:
    """For each event of the case: how many deliveries are in each state."""
    counts: dict[int, Counter[str]] = {}
    for event_id, state, number in column_rows(_COUNTS_BY_EVENT, {"case_id": case.id}):
        counts.setdefault(event_id, Counter())[state] = number
    return counts


# Built once: the case page reads it for editors on every view (see column_rows).
_COUNTS_BY_EVENT = (
    select(AlertDelivery.status_event_id, AlertDelivery.state, func.count())
    .join(StatusEvent, AlertDelivery.status_event_id == StatusEvent.id)
    .where(StatusEvent.case_id == bindparam("case_id"))
    .group_by(AlertDelivery.status_event_id, AlertDelivery.state)
)


def resend(actor: Actor, delivery: AlertDelivery, settings: Settings) -> None:
    """Try a failed delivery again, with a fresh retry window; the send is queued after commit."""
    if delivery.state != DeliveryState.FAILED.value:
        raise ValidationError({"state": "only a failed delivery can be sent again"})
    now = utcnow()
    delivery.state = DeliveryState.PENDING.value
    delivery.next_attempt_at = now
    delivery.give_up_at = now + dt.timedelta(hours=settings.alert_retry_hours)
    delivery.claimed_until = None
    db.session.flush()
    audit.record(
        actor,
        "alert_delivery.resend",
        "alert_delivery",
        delivery.public_id,
        after={"attempts": delivery.attempts, "last_error": delivery.last_error},
        case_ref=delivery.status_event.case.public_id,
    )
    jobs.after_commit(jobs.TaskName.ALERTS_SEND, [delivery.id])


def levels_by_message(message_ids: Sequence[str]) -> dict[str, set[str]]:
    """For sent Message-IDs: the confidentiality of every case each message told about."""
    if not message_ids:
        return {}
    rows = db.session.execute(
        select(AlertDelivery.message_id, Case.confidentiality)
        .join(StatusEvent, AlertDelivery.status_event_id == StatusEvent.id)
        .join(Case, StatusEvent.case_id == Case.id)
        .where(AlertDelivery.message_id.in_(list(message_ids)))
        .distinct()
    ).all()
    levels: dict[str, set[str]] = {}
    for message_id, level in rows:
        if message_id is not None:
            levels.setdefault(message_id, set()).add(level)
    return levels
