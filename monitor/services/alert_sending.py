"""Sending alerts: claim deliveries, re-check clearance, build the email, hand it over, record it.

Each delivery is claimed before its message goes out and marked sent in its own commit right
after (:mod:`monitor.services.alert_claims`), so a second task for the same delivery — a sweep's
re-queue, a redelivered message — skips it, and a worker killed mid-batch leaves only its current
message in doubt. Whether a subscriber may hear about a case is decided again here, at
send time: a clearance lowered, an account deactivated or a case made confidential after the
dispatch suppresses the email.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, String, bindparam, or_, select, update

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail import messages
from monitor.mail.transport import (
    MailConnection,
    Mailer,
    MailError,
    PermanentMailError,
    TemporaryMailError,
)
from monitor.models import AlertDelivery, StatusEvent, Subscription
from monitor.models.alerts import DeliveryState
from monitor.models.base import UTCDateTime, utcnow
from monitor.presentation.translation import current_language, using_language
from monitor.services import alert_claims as claims
from monitor.services import alerts, subscriptions
from monitor.services.alert_content import (
    digest_day,
    import_summary,
    organizations_of,
    status_change,
)

log = logging.getLogger(__name__)

# Built once, like alert_claims.OUTCOME: every delivery one digest or summary told about, sent.
_SENT_TOGETHER = (
    update(AlertDelivery)
    .where(AlertDelivery.id.in_(bindparam("ids", expanding=True)))
    .values(
        state=DeliveryState.SENT.value,
        attempts=AlertDelivery.attempts + 1,
        last_error=None,
        sent_at=bindparam("at", type_=UTCDateTime()),
        message_id=bindparam("message_id", type_=String()),
        claimed_until=None,
    )
)


@dataclass
class SendResult:
    """What one send task did, and what it leaves for a retry."""

    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    skipped: int = 0
    retry_ids: list[int] = field(default_factory=list)
    retry_in: float = 0.0


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before the next try: doubling from the base up to the cap, with jitter."""
    doubled: float = settings.alert_retry_base_seconds * 2.0 ** max(0, attempts - 1)
    ceiling = min(settings.alert_retry_max_seconds, doubled)
    # Jitter spreads a burst of retries so they do not all hit a recovering server at once.
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - not for secrets


class _Batch:
    """One send task's deliveries, worked through over one connection opened on first need."""

    def __init__(self, mailer: Mailer, settings: Settings) -> None:
        self.mailer, self.settings = mailer, settings
        self.sender = messages.Sender.from_settings(settings.mail_from, settings.base_url)
        self.result = SendResult()
        self.now = utcnow()
        self.renewed = time.monotonic()
        self.settled: set[int] = set()
        # Set when the server could not be reached at all: a try for every delivery.
        self.unreachable: TemporaryMailError | None = None
        self._stack = contextlib.ExitStack()
        self._connection: MailConnection | None = None
        self._changes: dict[tuple[int, str], messages.StatusChange] = {}
        self._summaries: dict[tuple[object, ...], messages.ImportSummary] = {}
        self._organizations: dict[int, frozenset[str]] = {}
        # Outcomes are written on a connection of their own, each UPDATE committed on its own,
        # right after its message went out: a worker killed mid-batch leaves only the message
        # in flight in doubt. (The session only reads.)
        self.marks = self._stack.enter_context(claims.autocommit())

    def keep_claims(self, ids: Sequence[int]) -> None:
        """Extend the lease on deliveries still to send, once a third of it has passed."""
        if ids and time.monotonic() - self.renewed > self.settings.alert_claim_seconds / 3:
            until = utcnow() + dt.timedelta(seconds=self.settings.alert_claim_seconds)
            self.marks.execute(claims.LEASE, {"ids": list(ids), "until": until})
            self.renewed = time.monotonic()

    def release(self, ids: Sequence[int]) -> None:
        """Hand unsettled deliveries back at once (an exception, a time limit)."""
        if ids:
            self.marks.execute(claims.LEASE, {"ids": list(ids), "until": None})

    def connection(self) -> MailConnection:
        if self._connection is None:
            try:
                self._connection = self._stack.enter_context(self.mailer.connect())
            except TemporaryMailError as exc:
                self.unreachable = exc
                raise
        return self._connection

    def retry_at(self, attempts: int) -> dt.datetime:
        if not self.result.retry_in:
            self.result.retry_in = backoff(self.settings, attempts)
        return self.now + dt.timedelta(seconds=self.result.retry_in)

    def record(self, delivery: claims.Pending, **changes: object) -> None:
        """Write one delivery's outcome at once: one autocommitted UPDATE per message."""
        self.marks.execute(claims.OUTCOME, {"delivery_id": delivery.id, **delivery.row, **changes})
        self.settled.add(delivery.id)

    def settle(
        self, delivery: claims.Pending, state: DeliveryState, reason: str | None, **values: object
    ) -> None:
        self.record(delivery, state=state.value, last_error=reason, **values)
        if state is DeliveryState.SUPPRESSED:
            self.result.suppressed += 1
        elif state is DeliveryState.FAILED:
            self.result.failed += 1

    def sent(self, delivery: claims.Pending, message_id: str) -> None:
        self.settle(
            delivery,
            DeliveryState.SENT,
            None,
            attempts=delivery.attempts + 1,
            sent_at=utcnow(),
            message_id=message_id,
        )
        self.result.sent += 1

    def sent_together(self, listed: Sequence[claims.Pending], message_id: str) -> None:
        """Mark every delivery one message told about as sent, in one statement.

        A digest or an import summary is one email: its deliveries are marked in one commit, so
        a worker killed in between cannot leave part of them to go out again in another email.
        """
        if len(listed) == 1:
            self.sent(listed[0], message_id)
            return
        ids = [delivery.id for delivery in listed]
        self.marks.execute(_SENT_TOGETHER, {"ids": ids, "at": utcnow(), "message_id": message_id})
        self.settled.update(ids)
        self.result.sent += len(ids)

    def change(self, event: StatusEvent) -> messages.StatusChange:
        """What an email says about one event, worked out once per task."""
        key = (event.id, current_language())  # worded in the subscriber's language
        change = self._changes.get(key)
        if change is None:
            change = self._changes[key] = status_change(event, self.settings.base_url)
        return change

    def summary(self, events: Sequence[StatusEvent]) -> messages.ImportSummary:
        """What an email says about one subscriber's changes of an import, once per task."""
        key = (current_language(), *sorted(event.id for event in events))
        summary = self._summaries.get(key)
        if summary is None:
            missing = {e.case.person_id for e in events} - self._organizations.keys()
            self._organizations.update(organizations_of(missing))
            summary = self._summaries[key] = import_summary(
                events, self.settings.base_url, self.change, self._organizations
            )
        return summary

    def refused(self, delivery: claims.Pending, error: PermanentMailError) -> None:
        self.settle(delivery, DeliveryState.FAILED, str(error), attempts=delivery.attempts + 1)

    def postpone(self, delivery: claims.Pending, error: TemporaryMailError | None) -> None:
        """Try again later; ``error`` None for a delivery not attempted (the connection died)."""
        attempts = delivery.attempts + (error is not None)
        if error is not None:
            log.warning("alert delivery %s: attempt %s failed: %s", delivery.id, attempts, error)
        if (
            error is not None
            and delivery.give_up_at is not None
            and self.now >= delivery.give_up_at
        ):
            reason = f"gave up after {attempts} attempts: {error}"
            self.settle(delivery, DeliveryState.FAILED, reason, attempts=attempts)
            return
        values: dict[str, object] = {
            "attempts": attempts,
            "next_attempt_at": self.retry_at(attempts),
        }
        if error is not None:
            values["last_error"] = str(error)
        self.record(delivery, **values)
        self.result.retry_ids.append(delivery.id)

    def close(self) -> None:
        with contextlib.suppress(MailError):
            self._stack.close()


@contextlib.contextmanager
def _batch(mailer: Mailer, settings: Settings, claimed: list[int]) -> Iterator[_Batch]:
    work = _Batch(mailer, settings)
    try:
        yield work
    finally:
        db.session.rollback()
        with contextlib.suppress(Exception):  # the SMTP connection may be beyond saving
            work.release([i for i in claimed if i not in work.settled])
        work.close()


def send_deliveries(ids: Sequence[int], mailer: Mailer, settings: Settings) -> SendResult:
    """Send the pending alerts among ``ids``; the caller retries ``retry_ids``.

    One email per delivery, except for an import: a subscriber's deliveries of one import go
    out together as one summary (:func:`_claimable` takes the rest of them along), once every
    event of the import has its deliveries written.

    Next: ``alert_claims.claim`` (the lease, committed) → ``alert_claims.load`` →
    :func:`_send_unit` for each delivery or import summary.
    """
    asked = set(ids)
    claimed = claims.claim(_claimable(asked), settings)
    with _batch(mailer, settings, claimed) as work:
        work.result.skipped = len(asked - set(claimed))
        units = _units(claims.load(claimed))
        for index, unit in enumerate(units):
            connection_lost = _send_unit(work, unit)
            if connection_lost:
                for waiting in units[index + 1 :]:
                    for delivery in waiting:
                        work.postpone(delivery, work.unreachable)
                break
            work.keep_claims([d.id for later in units[index + 1 :] for d in later])
    return work.result


def _claimable(asked: set[int]) -> ColumnElement[bool]:
    """SQL: the deliveries to claim for ``asked``.

    A delivery of a change typed in by hand is claimed alone. One of an import brings along
    every delivery of that import to the same subscriber, so they are claimed (and sent)
    together, by one sender, in one email; while the import is still being dispatched none
    of them is claimed (the import's last dispatch, or the sweep, asks again).
    """
    rows = db.session.execute(
        select(AlertDelivery.id, AlertDelivery.subscription_id, StatusEvent.import_batch)
        .join(StatusEvent, AlertDelivery.status_event_id == StatusEvent.id)
        .where(AlertDelivery.id.in_(list(asked)))
    ).all()
    conditions: list[ColumnElement[bool]] = [
        AlertDelivery.id.in_([i for i, _, batch in rows if batch is None])
    ]
    subscribers: dict[str, set[int]] = {}
    for _, subscription_id, batch in rows:
        if batch is not None:
            subscribers.setdefault(batch, set()).add(subscription_id)
    waiting = alerts.import_dispatching(subscribers)
    conditions += [
        AlertDelivery.status_event_id.in_(alerts.imported_events(batch))
        & AlertDelivery.subscription_id.in_(sorted(subscription_ids))
        for batch, subscription_ids in subscribers.items()
        if batch not in waiting
    ]
    return or_(*conditions)


def _units(deliveries: Sequence[claims.Pending]) -> list[list[claims.Pending]]:
    """What goes out as one email: a delivery alone, or a subscriber's deliveries of an import."""
    units: dict[tuple[str, str], list[claims.Pending]] = {}
    for delivery in deliveries:
        batch = delivery.event.import_batch
        key = (batch, delivery.to.subscription_id) if batch else ("", str(delivery.id))
        units.setdefault(key, []).append(delivery)
    return list(units.values())


def _send_unit(work: _Batch, unit: list[claims.Pending]) -> bool:
    """Send or suppress one delivery, or an import's deliveries to one subscriber; True when the
    connection cannot take another message.

    Each delivery is checked on its own (a summary lists only what the subscriber may hear
    about); what is left goes out as an alert when it is one change, else as the import's
    summary. Next: ``alert_content`` (suppression, then the wording) →
    ``mail.messages.alert_message`` or ``import_summary_message`` → :func:`_hand_over`.
    """
    listed: list[claims.Pending] = []
    for delivery in unit:
        why_not = delivery.to.suppression(delivery.event)
        if why_not:
            work.settle(delivery, DeliveryState.SUPPRESSED, why_not)
        else:
            listed.append(delivery)
    if not listed:
        return False
    with using_language(listed[0].to.language):
        recipient = listed[0].to.recipient(work.settings.base_url)
        if len(listed) == 1:
            message = messages.alert_message(work.change(listed[0].event), recipient, work.sender)
        else:
            message = messages.import_summary_message(
                work.summary([d.event for d in listed]), recipient, work.sender
            )
    return _hand_over(work, listed, message)


def _hand_over(work: _Batch, listed: list[claims.Pending], message: messages.Mail) -> bool:
    """Send one email telling about ``listed`` and record the outcome for each of them alike;
    True when the connection cannot take another message.

    Next: ``mail.transport`` (the connection's ``send``) → :meth:`_Batch.sent_together`, which
    marks them sent: the end of the path.
    """
    try:
        work.connection().send(message)
    except TemporaryMailError as exc:
        for delivery in listed:
            work.postpone(delivery, exc)
        return exc.connection_lost
    except PermanentMailError as exc:
        for delivery in listed:
            work.refused(delivery, exc)
    else:
        work.sent_together(listed, message.message_id)
    return False


def send_digest(
    subscription_id: int, cutoff: dt.datetime, mailer: Mailer, settings: Settings
) -> SendResult:
    """One email listing every pending change for a daily subscriber recorded up to ``cutoff``."""
    claimed = claims.claim(
        (AlertDelivery.subscription_id == subscription_id) & (AlertDelivery.created_at <= cutoff),
        settings,
    )
    with _batch(mailer, settings, claimed) as work:
        deliveries = sorted(claims.load(claimed), key=lambda d: (d.event.recorded_at, d.event.id))
        listed: list[claims.Pending] = []
        for delivery in deliveries:
            why_not = delivery.to.suppression(delivery.event)
            if why_not:
                work.settle(delivery, DeliveryState.SUPPRESSED, why_not)
            else:
                listed.append(delivery)
        if listed:
            with using_language(listed[0].to.language):
                message = messages.digest_message(
                    [work.change(d.event) for d in listed],
                    listed[0].to.recipient(settings.base_url),
                    work.sender,
                    digest_day(cutoff),
                )
            _hand_over(work, listed, message)
    return work.result


def send_confirmation(subscription_id: int, mailer: Mailer, settings: Settings) -> bool:
    """Email the double opt-in link; False when there is nothing to confirm any more.

    Raises :class:`TemporaryMailError` for the caller to retry.
    """
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None or subscription.confirmed_at or subscription.unsubscribed_at:
        return False
    token = subscriptions.confirm_token(subscription, settings.secret_key)
    with using_language(subscription.language):
        message = messages.confirmation_message(
            messages.Sender.from_settings(settings.mail_from, settings.base_url),
            email=subscription.email,
            name=subscription.name,
            subscription_id=subscription.public_id,
            scope=subscriptions.describe_scope(subscription),
            confirm_url=f"{settings.base_url}/alerts/confirm/{token}",
        )
    with mailer.connect() as connection:
        connection.send(message)
    return True
