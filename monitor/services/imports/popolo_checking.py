"""Checking a Popolo file against the register: every problem by where it is, or the plan.

:func:`check_popolo` reads the file (:mod:`.popolo_reading`), matches its people and
organizations to the register (:mod:`.matching`) and works out what applying it changes: people
to add, matched people to complete, probable matches to decide, organizations to add and
memberships to record. It writes nothing, so the preview, a dry run and the check a
confirmation repeats under the register lock are one function.

A matched person is only ever completed: a value the register holds is kept, an empty one is
filled from the file, and a name that differs from the register's becomes an alias. A person
the file adds is a member without a case: no custody status is recorded for anyone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_

from monitor.config import Settings
from monitor.extensions import db
from monitor.models import Membership, Organization, Person, PersonIdentifier
from monitor.presentation.languages import script_of
from monitor.presentation.translation import current_language, using_language
from monitor.presentation.translation import gettext as _
from monitor.services import Actor, ValidationError
from monitor.services.imports.matching import (
    MATCHED,
    NEW,
    PROBABLE,
    Incoming,
    PersonMatch,
    match_organizations,
    match_people,
)
from monitor.services.imports.popolo_reading import (
    PopoloFile,
    PopoloOrganization,
    PopoloPerson,
    PopoloProblems,
    PopoloSeat,
    read_popolo,
)
from monitor.services.imports.reading import FileTooLarge
from monitor.services.imports.report import Problem
from monitor.services.name_matching import name_key, native_key
from monitor.services.people import PersonInput, identifier_pairs, person_values


@dataclass
class PersonPlan:
    """A person of the file: who they are in the register and what applying changes."""

    source: PopoloPerson
    match: PersonMatch
    # For a matched person: the values applying fills in or adds, by field.
    update: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """``create``, ``update``, ``unchanged`` or ``decide`` (a probable match)."""
        if self.match.status == NEW:
            return "create"
        if self.match.status == PROBABLE:
            return "decide"
        return "update" if self.update else "unchanged"


@dataclass
class OrganizationPlan:
    """An organization of the file and the register's (``None``: added)."""

    source: PopoloOrganization
    organization: Organization | None
    update: dict[str, Any] = field(default_factory=dict)


@dataclass
class SeatPlan:
    """A membership of the file (seats of one person, organization and role merged), and what
    it changes when both its person and its organization are in the register already."""

    source: PopoloSeat
    existing: Membership | None = None
    update: dict[str, Any] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        """Whether applying writes anything for it (as far as the preview can tell)."""
        return self.existing is None or bool(self.update)


@dataclass
class PopoloReport:
    """What checking a Popolo file found."""

    people: list[PersonPlan]
    organizations: list[OrganizationPlan]
    seats: list[SeatPlan]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """Whether the file can be applied (once its probable matches are decided)."""
        return not self.problems

    @property
    def rows(self) -> list[PersonPlan]:
        """The people, as the import's rows."""
        return self.people

    def matches(self) -> dict[str, PersonMatch]:
        """Each person's match, by the file's person id."""
        return {plan.source.key: plan.match for plan in self.people}

    def summary(self) -> dict[str, int]:
        """Counts: people by what applying does, organizations and memberships added."""
        counts = {"rows": len(self.people), "create": 0, "update": 0, "unchanged": 0}
        counts["decide"] = 0
        for plan in self.people:
            counts[plan.action] += 1
        counts["matched"] = counts["update"] + counts["unchanged"]
        counts["organizations"] = sum(1 for o in self.organizations if o.organization is None)
        counts["memberships"] = sum(1 for seat in self.seats if seat.existing is None)
        return counts


def check_popolo(
    data: bytes, actor: Actor, settings: Settings, *, language: str | None = None
) -> PopoloReport:
    """Check a whole Popolo file against the register without writing anything.

    ``language``: the importer's (default: the one in force), in which the problems are
    worded; where each is (``persons[3] (Kem Sokha)``) is the file's and stays as it is.
    """
    with using_language(language or current_language()):
        return _check_popolo(data, actor, settings)


def _check_popolo(data: bytes, actor: Actor, settings: Settings) -> PopoloReport:
    if len(data) > settings.import_max_bytes:
        raise FileTooLarge(settings.import_max_bytes)
    try:
        file = read_popolo(data)
    except PopoloProblems as exc:
        return PopoloReport([], [], [], [Problem(0, where, what) for where, what in exc.problems])
    if len(file.people) > settings.import_max_rows:
        limit = f"{settings.import_max_rows:,}"
        return PopoloReport(
            [],
            [],
            [],
            [
                Problem(
                    0,
                    "persons",
                    _(
                        "has more than %(count)s people; at most %(count)s are accepted at once",
                        count=limit,
                    ),
                )
            ],
        )
    problems: list[Problem] = []
    people = _people(file, actor, problems)
    organizations = _organizations(file)
    seats = _seats(file, people, organizations)
    return PopoloReport(people, organizations, seats, problems)


def existing_membership(person: Person, organization: Organization, role: str) -> Membership | None:
    """The person's membership of the organization in this role, if the register has it."""
    return next(
        (m for m in person.memberships if m.organization_id == organization.id and m.role == role),
        None,
    )


def _seats(
    file: PopoloFile, people: list[PersonPlan], organizations: list[OrganizationPlan]
) -> list[SeatPlan]:
    known = {p.source.key: p.match.person for p in people if p.match.status == MATCHED}
    orgs = {o.source.key: o.organization for o in organizations}
    plans = []
    for seat in _merged(file.seats):
        plan = SeatPlan(seat)
        person, org = known.get(seat.person), orgs.get(seat.organization)
        if person is not None and org is not None:
            plan.existing = existing_membership(person, org, seat.role)
            legislature = orgs.get(seat.legislature) if seat.legislature else None
            if plan.existing is not None:
                plan.update = seat_changes(
                    plan.existing, seat, legislature.id if legislature else None
                )
        plans.append(plan)
    return plans


def person_input(source: PopoloPerson) -> PersonInput:
    """A new person as the file describes them."""
    return PersonInput(
        name=source.name,
        name_native=source.name_native,
        aliases=list(source.aliases),
        gender=source.gender,
        birth_date=source.birth_date,
        death_date=source.death_date,
        identifiers=list(source.identifiers),
        name_native_lang=source.name_native_lang,
        links=list(source.links),
    )


def _name_keys(person: Person) -> set[str]:
    texts = [person.name, person.name_native or "", *person.aliases]
    return {_key(text) for text in texts} - {""}


def _key(text: str) -> str:
    return native_key(text) if script_of(text) not in (None, "Latn") else name_key(text)


def completion(person: Person, source: PopoloPerson, taken: set[tuple[str, str]]) -> dict[str, Any]:
    """What the file adds to a matched person: empty values filled, other names as aliases,
    missing identifiers (``taken``: pairs someone else holds) and links; nothing is replaced."""
    update: dict[str, Any] = {}
    if person.name_native is None and source.name_native:
        update["name_native"] = source.name_native
        update["name_native_lang"] = source.name_native_lang
    known = _name_keys(person) | {_key(update.get("name_native") or "")} - {""}
    aliases = []
    for text in [source.name, source.name_native or "", *source.aliases]:
        key = _key(text)
        if key and key not in known:
            known.add(key)
            aliases.append(text)
    if aliases:
        update["aliases"] = [*person.aliases, *aliases]
    if person.gender is None and source.gender:
        update["gender"] = source.gender
    if person.birth_date is None and source.birth_date:
        update["birth_date"] = source.birth_date
    if person.death_date is None and source.death_date:
        update["death_date"] = source.death_date
    held = identifier_pairs(person)
    schemes = {scheme for scheme, _ in held}
    new_pairs = [
        pair for pair in source.identifiers if pair[0] not in schemes and pair not in taken
    ]
    if new_pairs:
        update["identifiers"] = sorted([*held, *new_pairs])
    urls = {link.get("url") for link in person.links or []}
    links = [link for link in source.links if link["url"] not in urls]
    if links:
        update["links"] = [*(person.links or []), *links]
    return update


def _people(file: PopoloFile, actor: Actor, problems: list[Problem]) -> list[PersonPlan]:
    incoming = [
        Incoming(
            p.key,
            PersonInput(name=p.name, name_native=p.name_native, aliases=p.aliases),
            p.identifiers,
        )
        for p in file.people
    ]
    matches = match_people(actor, incoming)
    taken = held_by_anyone([pair for p in file.people for pair in p.identifiers])
    plans = []
    claimed: dict[int, str] = {}
    for source in file.people:
        match = matches[source.key]
        plan = PersonPlan(source, match)
        if match.status == MATCHED and match.person is not None:
            earlier = claimed.setdefault(match.person.id, source.where)
            if earlier != source.where:
                problems.append(
                    Problem(
                        0,
                        source.where,
                        _(
                            "is %(name)s (%(id)s) of the register, as %(other)s is: one of the "
                            "two is someone else, or the file lists them twice",
                            name=match.person.name,
                            id=match.person.public_id,
                            other=earlier,
                        ),
                    )
                )
            mine = {(i.scheme, i.identifier) for i in match.person.identifiers}
            plan.update = completion(match.person, source, set(taken) - mine)
        else:
            for pair in source.identifiers:
                if pair in taken and match.status == NEW:
                    problems.append(
                        Problem(
                            0,
                            f"{source.where}.identifiers",
                            _(
                                "%(scheme)s %(identifier)s is already held in the register by "
                                "someone you may not see; nothing can be imported under it",
                                scheme=pair[0],
                                identifier=pair[1],
                            ),
                        )
                    )
            try:
                person_values(person_input(source))
            except ValidationError as exc:
                problems.extend(
                    Problem(0, f"{source.where}.{field}", message)
                    for field, message in exc.errors.items()
                )
        plans.append(plan)
    return plans


def held_by_anyone(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The pairs some person holds (whoever can see them), with the holder's row id."""
    ordered = sorted(set(pairs))
    held: dict[tuple[str, str], int] = {}
    for start in range(0, len(ordered), 400):
        rows = db.session.execute(
            select(
                PersonIdentifier.scheme, PersonIdentifier.identifier, PersonIdentifier.person_id
            ).where(
                tuple_(PersonIdentifier.scheme, PersonIdentifier.identifier).in_(
                    ordered[start : start + 400]
                )
            )
        )
        held.update(((s, i), person_id) for s, i, person_id in rows)
    return held


def _organizations(file: PopoloFile) -> list[OrganizationPlan]:
    found = match_organizations(
        [(o.key, o.name, o.short_name, o.identifiers) for o in file.organizations]
    )
    plans = []
    for source in file.organizations:
        org = found.get(source.key)
        update: dict[str, Any] = {}
        if org is not None:
            held = identifier_pairs(org)
            schemes = {s for s, _ in held}
            new_pairs = [p for p in source.identifiers if p[0] not in schemes]
            if new_pairs:
                update["identifiers"] = sorted([*held, *new_pairs])
            if org.seats is None and source.seats is not None:
                update["seats"] = source.seats
        plans.append(OrganizationPlan(source, org, update))
    return plans


def _merged(seats: list[PopoloSeat]) -> list[PopoloSeat]:
    """One seat per person, organization and role (the register holds one such membership):
    from the earliest start to the latest end (open if any is), in the latest area."""
    merged: dict[tuple[str, str, str], PopoloSeat] = {}
    for seat in seats:
        key = (seat.person, seat.organization, seat.role)
        earlier = merged.get(key)
        if earlier is None:
            merged[key] = PopoloSeat(**vars(seat))
            continue
        if seat.start and (earlier.start is None or seat.start.start < earlier.start.start):
            earlier.start = seat.start
        if earlier.end is not None and (seat.end is None or seat.end.start > earlier.end.start):
            earlier.end = seat.end
            earlier.area = seat.area or earlier.area
        earlier.legislature = earlier.legislature or seat.legislature
    return list(merged.values())


def seat_changes(
    membership: Membership, seat: PopoloSeat, legislature_id: int | None
) -> dict[str, Any]:
    """What a seat fills in on the membership the register has already (empty values only)."""
    update: dict[str, Any] = {}
    if membership.area is None and seat.area:
        update["area"] = seat.area
    if membership.start_on is None and seat.start:
        update["start"] = seat.start
    if membership.end_on is None and seat.end:
        update["end"] = seat.end
    if membership.legislature_id is None and legislature_id is not None:
        update["legislature_id"] = legislature_id
    return update


def plan_digest(report: PopoloReport) -> str:
    """A fingerprint of what applying the report does and of the register state it read."""
    digest = hashlib.sha256()
    for plan in report.people:
        person = plan.match.person
        digest.update(
            repr(
                (
                    plan.source.key,
                    plan.match.status,
                    person.public_id if person else None,
                    [c.public_id for c in plan.match.candidates],
                    sorted((k, repr(v)) for k, v in plan.update.items()),
                    sorted(
                        (m.organization_id, m.role, m.area, str(m.start), str(m.end))
                        for m in person.memberships
                    )
                    if person
                    else None,
                )
            ).encode()
        )
    for org_plan in report.organizations:
        org = org_plan.organization
        digest.update(
            repr(
                (
                    org_plan.source.key,
                    org.public_id if org else None,
                    sorted((k, repr(v)) for k, v in org_plan.update.items()),
                )
            ).encode()
        )
    for seat in report.seats:
        existing = seat.existing.public_id if seat.existing else None
        digest.update(repr((vars(seat.source), existing, sorted(seat.update))).encode())
    return digest.hexdigest()
