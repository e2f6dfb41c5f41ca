"""What an alert says and to whom: plain values for :mod:`monitor.mail.messages`, and the rule
deciding, at send time, whether a subscriber may hear about a case at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from monitor.domain import Confidentiality
from monitor.mail import messages
from monitor.models import Case, StatusEvent, Subscription
from monitor.presentation import country_name, date_text, sentence_text, vocabulary_label
from monitor.services import subscriptions


@dataclass(frozen=True)
class Addressee:
    """One subscriber as the sender sees them: plain values, read for thousands at once."""

    subscription_id: str
    email: str
    name: str
    unsubscribe_token: str
    reason: str
    confirmed: bool
    unsubscribed: bool
    tied_to_user: bool
    user_active: bool
    user_clearance: str | None

    @classmethod
    def of(cls, subscription: Subscription) -> Addressee:
        """From a loaded subscription."""
        user = subscription.user
        return cls(
            subscription_id=subscription.public_id,
            email=user.email if user else subscription.email,
            name=(user.name if user else subscription.name) or "",
            unsubscribe_token=subscription.unsubscribe_token,
            reason=subscriptions.reason(subscription),
            confirmed=subscription.confirmed_at is not None,
            unsubscribed=subscription.unsubscribed_at is not None,
            tied_to_user=user is not None,
            user_active=bool(user and user.active),
            user_clearance=user.clearance if user else None,
        )

    def recipient(self, base_url: str) -> messages.Recipient:
        """Who the email goes to, why, and how they stop it."""
        return messages.Recipient(
            email=self.email,
            name=self.name,
            subscription_id=self.subscription_id,
            reason=self.reason,
            unsubscribe_url=f"{base_url}/alerts/unsubscribe/{self.unsubscribe_token}",
        )

    def suppression(self, case: Case) -> str | None:
        """Why this subscriber must not hear about this case now, or None when they may.

        Asked at send time: a clearance lowered, an account deactivated or a case made
        confidential since the change was dispatched suppresses the email.
        """
        cleared = self.user_clearance and Confidentiality(self.user_clearance).levels_visible()
        reasons = [
            (self.unsubscribed, "unsubscribed"),
            (not self.confirmed, "not confirmed"),
            (
                not self.tied_to_user and case.level is not Confidentiality.PUBLIC,
                "external subscribers hear about public cases only",
            ),
            (self.tied_to_user and not self.user_active, "the subscriber's account is deactivated"),
            (
                self.tied_to_user and case.confidentiality not in (cleared or []),
                "the subscriber is not cleared for this case",
            ),
        ]
        return next((reason for applies, reason in reasons if applies), None)


def status_change(event: StatusEvent, base_url: str) -> messages.StatusChange:
    """What an email says about an event, as plain values."""
    case = event.case
    return messages.StatusChange(
        event_id=event.public_id,
        case_id=case.public_id,
        case_url=f"{base_url}/cases/{case.public_id}",
        country=country_name(case.country),
        person_name=case.person.name,
        person_native=case.person.name_native,
        previous_status=vocabulary_label(event.previous_status) or None,
        status=event.custody_status.label,
        since=date_text(event.occurred, event.occurred_about) or "",
        location=event.location,
        description=event.description,
        certainty=event.certainty,
        charges=tuple(
            messages.ChargeLine(
                offence=charge.offence,
                legal_basis=charge.legal_basis,
                max_sentence=charge.max_sentence.human(),
                stage=charge.legal_stage.label,
            )
            for charge in case.charges
        ),
        max_exposure=sentence_text(case.max_exposure),
        sources=tuple(
            messages.SourceLine(
                title=source.title,
                publisher=source.publisher,
                url=source.url,
                published=date_text(source.published),
            )
            for source in event.sources
        ),
    )


def digest_day(cutoff: dt.datetime) -> dt.date:
    """The day a digest is dated: the day of its cut-off, in UTC."""
    return cutoff.astimezone(dt.UTC).date()
