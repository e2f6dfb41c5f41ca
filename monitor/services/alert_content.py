"""What an alert says and to whom: plain values for :mod:`monitor.mail.messages`, and the rule
deciding, at send time, whether a subscriber may hear about a change at all."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from monitor.domain import Confidentiality
from monitor.extensions import db
from monitor.mail import messages
from monitor.models import Membership, Organization, Person, StatusEvent, Subscription
from monitor.presentation import country_name, date_text, sentence_text
from monitor.presentation.translation import gettext
from monitor.presentation.wording import (
    certainty_label,
    change_headline,
    day_text,
    stage_label,
    status_label,
)
from monitor.services import subscriptions


@dataclass(frozen=True)
class Addressee:
    """One subscriber as the sender sees them: plain values, read for thousands at once."""

    subscription_id: str
    email: str
    name: str
    unsubscribe_token: str
    # What the subscription follows: why the email comes, worded in the subscriber's language.
    follows: subscriptions.Followed
    # The organization's label when the subscription follows its members, else None.
    followed_organization: str | None
    confirmed: bool
    # When the subscriber confirmed: they hear only about changes recorded since.
    confirmed_at: dt.datetime | None
    unsubscribed: bool
    tied_to_user: bool
    user_active: bool
    user_clearance: str | None
    # The language the subscriber's emails are written in.
    language: str = "en"

    @classmethod
    def of(cls, subscription: Subscription) -> Addressee:
        """From a loaded subscription."""
        user = subscription.user
        return cls(
            subscription_id=subscription.public_id,
            email=user.email if user else subscription.email,
            name=(user.name if user else subscription.name) or "",
            unsubscribe_token=subscription.unsubscribe_token,
            follows=subscriptions.followed(subscription),
            followed_organization=(
                subscription.scope_organization.label
                if subscription.scope_organization is not None
                else None
            ),
            confirmed=subscription.confirmed_at is not None,
            confirmed_at=subscription.confirmed_at,
            unsubscribed=subscription.unsubscribed_at is not None,
            tied_to_user=user is not None,
            user_active=bool(user and user.active),
            user_clearance=user.clearance if user else None,
            language=(user.language if user else None) or subscription.language,
        )

    def recipient(self, base_url: str) -> messages.Recipient:
        """Who the email goes to, why, and how they stop it (the reason worded in the language
        in force: call it inside ``using_language``)."""
        return messages.Recipient(
            email=self.email,
            name=self.name,
            subscription_id=self.subscription_id,
            reason=self.follows.reason(),
            unsubscribe_url=f"{base_url}/alerts/unsubscribe/{self.unsubscribe_token}",
            followed_organization=self.followed_organization,
        )

    def suppression(self, event: StatusEvent) -> str | None:
        """Why this subscriber must not hear about this change now, or None when they may.

        Asked at send time: a clearance lowered, an account deactivated or a case made
        confidential since the change was dispatched suppresses the email, and so does a change
        recorded before the subscription was confirmed (dispatch leaves those out; this catches
        a delivery written before a subscriber unsubscribed and confirmed again).
        """
        case = event.case
        cleared = self.user_clearance and Confidentiality(self.user_clearance).levels_visible()
        reasons = [
            (self.unsubscribed, "unsubscribed"),
            (not self.confirmed, "not confirmed"),
            (
                self.confirmed_at is not None and event.recorded_at < self.confirmed_at,
                "recorded before the subscription was confirmed",
            ),
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


def roles_of(person: Person, on: dt.date) -> tuple[tuple[str, str], ...]:
    """``(("CNRP", "Member of Parliament"),)``: the person's memberships, current ones first and
    ended ones as ``former …``, each by organization label."""
    memberships = sorted(
        person.memberships,
        key=lambda m: (m.end_on is not None and m.end_on <= on, m.organization.label, m.role),
    )
    return tuple(
        (
            m.organization.label,
            gettext("former %(role)s", role=m.role) if m.end_on and m.end_on <= on else m.role,
        )
        for m in memberships
    )


def status_change(event: StatusEvent, base_url: str) -> messages.StatusChange:
    """What an email says about an event, as plain values in the language in force."""
    case = event.case
    person = case.person
    return messages.StatusChange(
        event_id=event.public_id,
        case_id=case.public_id,
        case_url=f"{base_url}/cases/{case.public_id}",
        country=country_name(case.country),
        person_name=person.name,
        person_native=person.name_native,
        person_nationality=person.nationality,
        headline=change_headline(person.name, event.custody_status.value, event.previous_status),
        headline_html=change_headline(
            person.name, event.custody_status.value, event.previous_status, html=True
        ),
        roles=roles_of(person, event.recorded_at.date()),
        previous_status=status_label(event.previous_status),
        status=status_label(event.custody_status.value) or "",
        since=date_text(event.occurred, event.occurred_about) or "",
        location=event.location,
        description=event.description,
        certainty=certainty_label(event.certainty),
        charges=tuple(
            messages.ChargeLine(
                offence=charge.offence,
                legal_basis=charge.legal_basis,
                max_sentence=sentence_text(charge.max_sentence) or "",
                stage=stage_label(charge.legal_stage),
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


# An import summary lists at most this many cases (it counts them all): an import of 20,000 rows
# would otherwise be an email of several megabytes, which mail servers refuse.
SUMMARY_LISTED = 1000


def organizations_of(person_ids: Collection[int]) -> dict[int, frozenset[str]]:
    """For each person: the organizations they are a member of, by label (``CNRP``)."""
    labels: dict[int, set[str]] = {person_id: set() for person_id in person_ids}
    if person_ids:
        rows = db.session.execute(
            select(Membership.person_id, Organization.short_name, Organization.name)
            .join(Organization, Membership.organization_id == Organization.id)
            .where(Membership.person_id.in_(list(person_ids)))
        )
        for person_id, short_name, name in rows:
            labels[person_id].add(short_name or name)
    return {person_id: frozenset(found) for person_id, found in labels.items()}


def _place(
    events: Sequence[StatusEvent], organizations: Mapping[int, frozenset[str]]
) -> str | None:
    """The one organization every case's person belongs to, else the one country, else None."""
    shared = frozenset.intersection(
        *(organizations.get(e.case.person_id, frozenset()) for e in events)
    )
    if len(shared) == 1:
        return next(iter(shared))
    countries = {e.case.country for e in events}
    return country_name(countries.pop()) if len(countries) == 1 else None


def import_summary(
    events: Sequence[StatusEvent],
    base_url: str,
    change_of: Callable[[StatusEvent], messages.StatusChange],
    organizations: Mapping[int, frozenset[str]],
) -> messages.ImportSummary:
    """What an email says about the changes one import recorded for one subscriber.

    New cases and status changes of cases already in the register come in one summary, each
    list in name order; the counts by custody status cover both.
    """
    batch = events[0].import_batch or ""
    changes = sorted(
        (change_of(event) for event in events), key=lambda c: (c.person_name.casefold(), c.case_id)
    )
    new_cases = [c for c in changes if c.previous_status is None]
    updated = [c for c in changes if c.previous_status is not None]
    counts = Counter(c.status for c in changes)
    listed_new = new_cases[:SUMMARY_LISTED]
    listed_updated = updated[: max(0, SUMMARY_LISTED - len(listed_new))]
    recorded = min(event.recorded_at for event in events).astimezone(dt.UTC).date()
    return messages.ImportSummary(
        import_id=batch,
        place=_place(events, organizations),
        recorded_on=day_text(recorded),
        new_count=len(new_cases),
        change_count=len(updated),
        statuses=tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
        new_cases=tuple(listed_new),
        changes=tuple(listed_updated),
        unlisted=len(changes) - len(listed_new) - len(listed_updated),
        register_url=f"{base_url}/cases",
        event_ids=tuple(sorted(event.public_id for event in events)),
    )
