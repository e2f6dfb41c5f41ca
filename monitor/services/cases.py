"""Cases and their custody status history.

The current status is the latest event by *occurred-on* (ties broken by recording order), so a
back-filled older event changes the history but not the current status.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from monitor import authz, jobs
from monitor.domain import Certainty, Confidentiality, CustodyStatus, PartialDate
from monitor.extensions import db
from monitor.models import Case, Organization, Person, Source, StatusEvent, User
from monitor.presentation.translation import gettext as _
from monitor.services import Actor, ValidationError, actor_user_id, audit, charges, people
from monitor.services.validation import (
    member,
    normalise_country,
    optional_text,
    required_text,
    text_items,
)

# A case's own id in the group's files (``KH-0001``): one case per id.
EXTERNAL_ID_LENGTH = 100


class Keep(enum.Enum):
    """A value left as it is (``external_id=KEEP``: the edit does not touch it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def check_external_id(
    actor: Actor, case: Case | None, external_id: str | None, errors: dict[str, str]
) -> str | None:
    """The external id as stored (``None``: none), or an error under ``external_id``: too long,
    not one line, or the id of another case (its external id, or its register id when it has
    none, which the CSV import also matches rows on). Another case is named only when the actor
    may see it."""
    value = optional_text(external_id, errors, "external_id", EXTERNAL_ID_LENGTH)
    if value is None or "external_id" in errors:
        return None
    query = select(Case).where(
        (Case.external_id == value) | ((Case.public_id == value) & Case.external_id.is_(None))
    )
    if case is not None and case.id is not None:
        query = query.where(Case.id != case.id)
    other = db.session.scalars(query.limit(1)).first()
    if other is not None:
        visible = isinstance(actor, str) or other.confidentiality in authz.visible_levels(actor)
        errors["external_id"] = (
            f"{value!r} is already the id of case {other.public_id}"
            if visible
            else f"{value!r} is already the id of another case"
        )
    return value


@dataclass
class CaseInput:
    """Editable fields of a case (status is changed only by recording events)."""

    country: str
    title: str
    confidentiality: str = Confidentiality.PUBLIC.value
    summary: str | None = None
    tags: list[str] = field(default_factory=list)
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None


@dataclass
class StatusInput:
    """A custody status change as reported."""

    status: str
    occurred_on: PartialDate
    about: bool = False
    location: str | None = None
    description: str | None = None
    certainty: str = Certainty.CONFIRMED.value
    sources: list[Source] = field(default_factory=list)


def case_values(data: CaseInput) -> dict[str, Any]:
    """The case's editable column values as ``data`` gives them, validated."""
    errors: dict[str, str] = {}
    country = normalise_country(data.country, errors, "country")
    if country is None and "country" not in errors:
        errors["country"] = _("is required")
    title = required_text(data.title, errors, "title", 300)
    level = member(Confidentiality, data.confidentiality, errors, "confidentiality")
    summary = optional_text(data.summary, errors, "summary", 20000, multiline=True)
    tags = sorted({t.strip().lower() for t in data.tags if t and t.strip()})
    text_items(tags, errors, "tags")
    if data.opened_on and data.closed_on and data.closed_on < data.opened_on:
        errors["closed_on"] = _("must not be before the opening date")
    if errors:
        raise ValidationError(errors)
    assert country is not None  # noqa: S101 - errors raised above
    assert level is not None  # noqa: S101 - errors raised above
    return {
        "country": country,
        "title": title,
        "confidentiality": level.value,
        "summary": summary,
        "tags": tags,
        "opened_on": data.opened_on,
        "closed_on": data.closed_on,
    }


def _apply_case(case: Case, data: CaseInput) -> None:
    for key, value in case_values(data).items():
        setattr(case, key, value)


def find_case(user: User | None, public_id: str, field: str = "case_id") -> Case:
    """A case the user may see, named in a form or request, else a validation error on
    ``field`` (the same answer whether it is missing or hidden)."""
    case = db.session.scalars(authz.visible_cases(user).where(Case.public_id == public_id)).first()
    if case is None:
        raise ValidationError({field: "no such case"})
    return case


def _check_clearance(actor: Actor, level: str, errors: dict[str, str]) -> None:
    """Nobody may file a case at a level they could not read back (tools run as "cli" may)."""
    if isinstance(actor, str) or level not in {c.value for c in Confidentiality}:
        return
    if level not in authz.visible_levels(actor):
        errors.setdefault("confidentiality", _("%(level)s is above your clearance", level=level))


def validate_status(data: StatusInput) -> tuple[CustodyStatus, Certainty]:
    """The status and certainty a report gives, checked; a :class:`ValidationError` names every
    bad field."""
    errors: dict[str, str] = {}
    status = member(CustodyStatus, data.status, errors, "status")
    certainty = member(Certainty, data.certainty, errors, "certainty")
    optional_text(data.location, errors, "location", 300)
    optional_text(data.description, errors, "description", 20000, multiline=True)
    if data.occurred_on.start > dt.datetime.now(dt.UTC).date():
        errors["occurred_on"] = _("cannot be in the future")
    if errors:
        raise ValidationError(errors)
    assert status is not None  # noqa: S101 - errors raised above
    assert certainty is not None  # noqa: S101 - errors raised above
    return status, certainty


def case_errors(
    actor: Actor, data: CaseInput, initial: StatusInput, errors: dict[str, str]
) -> dict[str, Any] | None:
    """Every problem with a new case and its first status, into ``errors``; the case's column
    values when it has none."""
    _check_clearance(actor, data.confidentiality, errors)
    values = None
    try:
        values = case_values(data)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        validate_status(initial)
    except ValidationError as exc:
        errors.update(
            {("status_since" if k == "occurred_on" else k): v for k, v in exc.errors.items()}
        )
    return values


def case_created(
    public_id: str, case: dict[str, Any], person_public_id: str, external_id: str | None = None
) -> audit.Planned:
    """The audit entry of a case just opened (``case``: its column values, before any status
    event or charge; ``external_id``: the group's own id for it, when it has one)."""
    after = {**case, "person": person_public_id}
    if external_id is not None:
        after["external_id"] = external_id
    return audit.Planned("case.create", "case", public_id, after=after, case_ref=public_id)


def create_case(
    actor: Actor,
    person: Person,
    data: CaseInput,
    initial: StatusInput,
    *,
    external_id: str | None = None,
) -> Case:
    """Open a case for a person, with its first status event."""
    errors: dict[str, str] = {}
    values = case_errors(actor, data, initial, errors)
    if errors:
        raise ValidationError(errors)
    # Not attached to the person (and so the session) until it is valid; its collections are
    # known empty, so nothing queries them later.
    case = Case(charges=[], events=[], sources=[], external_id=external_id, **(values or {}))
    case.person = person
    case.status = initial.status
    db.session.add(case)
    db.session.flush()
    audit.record_planned(
        actor, case_created(case.public_id, audit.snapshot(case), person.public_id, external_id)
    )
    record_status(actor, case, initial)
    return case


@dataclass
class Opening:
    """What opening a case takes: someone registered (``person``) or someone new
    (``new_person``), the case, its first custody status, optionally the organization the
    person belongs to (with ``role``, "member" when blank), the case's charges and the id the
    group's own files give it (``external_id``). ``unless_duplicate``: refuse a new person who
    looks like someone registered (:class:`~monitor.services.people.PossibleDuplicate`, on
    ``person.name``) once the rest of the opening has no errors to report first."""

    case: CaseInput
    status: StatusInput
    person: Person | None = None
    new_person: people.PersonInput | None = None
    organization: Organization | None = None
    role: str | None = None
    charges: list[charges.ChargeInput] = field(default_factory=list)
    external_id: str | None = None
    unless_duplicate: bool = False


@dataclass
class CheckedOpening:
    """An opening with every rule checked: the column values to write."""

    opening: Opening
    person: dict[str, Any] | None  # a new person's values
    case: dict[str, Any]
    role: str | None  # the membership's role, when the opening names an organization
    charges: list[dict[str, Any]]


def check_opening(actor: Actor, opening: Opening) -> CheckedOpening:
    """Check every rule of an opening, writing nothing; a refusal names every bad field.

    Errors on a new person's fields are named ``person.<field>``, on a charge's
    ``charges.<n>.<field>`` (from 1).
    """
    errors: dict[str, str] = {}
    if (opening.person is None) == (opening.new_person is None):
        errors["person"] = _("give either someone registered or someone new")
    role = (opening.role or "").strip() or None
    if role and opening.organization is None:
        errors["role"] = _("needs an organization")
    _check_clearance(actor, opening.case.confidentiality, errors)
    if errors:
        raise ValidationError(errors)
    person = None
    if opening.new_person is not None:
        try:
            person = people.person_values(opening.new_person)
        except ValidationError as exc:
            errors.update({f"person.{k}": v for k, v in exc.errors.items()})
    case = case_errors(actor, opening.case, opening.status, errors)
    role_text = None
    if opening.organization is not None:
        role_text = people.membership_role(role, errors)
    charge_values = []
    for number, charge in enumerate(opening.charges, 1):
        try:
            charge_values.append(charges.charge_values(charge))
        except ValidationError as exc:
            errors.update({f"charges.{number}.{k}": v for k, v in exc.errors.items()})
    if errors:
        raise ValidationError(errors)
    # The form's mistakes first; the question of who it is comes after.
    if opening.new_person is not None and opening.unless_duplicate:
        found = people.likely_duplicates(actor, opening.new_person)
        if found:
            raise people.PossibleDuplicate("person.name", found)
    assert case is not None  # noqa: S101 - errors raised above
    return CheckedOpening(opening, person, case, role_text, charge_values)


def open_case(actor: Actor, opening: Opening) -> Case:
    """Open a case: the person (new or registered), the case, its first status event, the
    membership and the charges, all validated first so a refusal names every bad field and
    writes nothing. (:func:`monitor.services.openings.open_cases` opens many at once, by the
    same rules.)
    """
    checked = check_opening(actor, opening)
    if opening.external_id is not None:
        errors: dict[str, str] = {}
        opening.external_id = check_external_id(actor, None, opening.external_id, errors)
        if errors:
            raise ValidationError(errors)
    person = opening.person
    if opening.new_person is not None:
        person = people.create_person(actor, opening.new_person)
    assert person is not None  # noqa: S101 - exactly one of the two was given (checked above)
    case = create_case(actor, person, opening.case, opening.status, external_id=opening.external_id)
    org, role_text = opening.organization, checked.role
    if org is not None and role_text and not people.holds(person, org, role_text):
        people.add_membership(actor, person, org, role_text)
    for charge in opening.charges:
        charges.add_charge(actor, case, charge)
    return case


def update_case(
    actor: Actor, case: Case, data: CaseInput, *, external_id: str | Keep | None = KEEP
) -> Case:
    """Change a case's editable fields; ``external_id`` too unless it is :data:`KEEP`
    (``None`` removes it)."""
    # The external id ends in "_id", which snapshots leave out with the keys: named here when
    # the edit may change it.
    tracked = {} if isinstance(external_id, Keep) else {"external_id": case.external_id}
    before = {**audit.snapshot(case), **tracked}
    errors: dict[str, str] = {}
    _check_clearance(actor, data.confidentiality, errors)
    new_id = None
    if not isinstance(external_id, Keep):
        new_id = check_external_id(actor, case, external_id, errors)
    if errors:
        raise ValidationError(errors)
    _apply_case(case, data)
    if not isinstance(external_id, Keep):
        case.external_id = new_id
    db.session.flush()
    audit.record(
        actor,
        "case.update",
        "case",
        case.public_id,
        before=before,
        after={**audit.snapshot(case), **({} if not tracked else {"external_id": new_id})},
        case_ref=case.public_id,
    )
    return case


def _timeline(case: Case) -> list[StatusEvent]:
    return sorted(case.events, key=lambda e: (e.occurred_on, e.id))


@dataclass(frozen=True)
class RecordedStatus:
    """A recorded status event, and whether it became the case's current status (a back-filled
    older event joins the timeline only)."""

    event: StatusEvent
    became_current: bool


def record_status(actor: Actor, case: Case, data: StatusInput) -> RecordedStatus:
    """Record a status event; it becomes the current status only if it is now the latest.

    Next, when it changed the current status: the event is flagged ``alerts_pending`` and, after
    the caller's commit, :data:`monitor.jobs` sends the alert dispatch task (see
    :func:`monitor.services.alerts.dispatch`).
    """
    previous_current = case.status if case.events else None
    event = StatusEvent(case=case, **event_values(actor, data), sources=list(data.sources))
    db.session.add(event)
    db.session.flush()

    timeline = _timeline(case)
    # Each event's previous status is the one before it in time, so a back-fill re-links them.
    prior: str | None = None
    for item in timeline:
        item.previous_status = prior
        prior = item.status
    latest = timeline[-1]
    event.changed_current = latest is event and event.status != previous_current
    if latest is event:
        case.status = event.status
        case.status_since = event.occurred_on
        case.status_since_precision = event.occurred_precision
    for source in data.sources:
        if source not in case.sources:
            case.sources.append(source)
    if event.changed_current:
        # Transactional outbox: the flag commits with the event; dispatch is asked for after
        # commit, and beat sweeps flagged events if the broker was down. A case's first event
        # counts too: subscribers hear that a case was opened. A back-fill alerts nobody.
        event.alerts_pending = True
        # Next: workers.alerts.dispatch → services.alerts.dispatch (after the commit).
        jobs.after_commit(jobs.TaskName.ALERTS_DISPATCH, event.id)
    db.session.flush()
    audit.record_planned(
        actor,
        status_recorded(
            event.public_id,
            audit.snapshot(event),
            data.sources,
            case.public_id,
            latest is not event,
        ),
    )
    return RecordedStatus(event, became_current=latest is event)


def event_values(actor: Actor, data: StatusInput) -> dict[str, Any]:
    """A new status event's column values as reported (validated), before it joins a timeline."""
    status, certainty = validate_status(data)
    return {
        "status": status.value,
        "occurred_on": data.occurred_on.start,
        "occurred_precision": data.occurred_on.precision.value,
        "occurred_about": data.about,
        "location": (data.location or "").strip() or None,
        "description": (data.description or "").strip() or None,
        "certainty": certainty.value,
        "recorded_by_id": actor_user_id(actor),
    }


def status_recorded(
    public_id: str, event: dict[str, Any], sources: list[Source], case_ref: str, backfilled: bool
) -> audit.Planned:
    """The audit entry of a status event just recorded (``event``: its snapshot)."""
    return audit.Planned(
        "status_event.create",
        "status_event",
        public_id,
        after={**event, "sources": [s.public_id for s in sources], "backfilled": backfilled},
        case_ref=case_ref,
    )
