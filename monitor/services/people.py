"""Creating and changing people, organizations and memberships."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true

from monitor import authz
from monitor.domain import OrganizationKind, PartialDate
from monitor.extensions import db
from monitor.models import Membership, Organization, Person, User
from monitor.services import Actor, ValidationError, audit
from monitor.services.csv_format import ALIAS_SEPARATOR
from monitor.services.name_matching import (
    NAME_RATIO,
    escape_like,
    name_key,
    name_ratio,
    native_key,
    strip_marks,
)
from monitor.services.validation import (
    member,
    normalise_country,
    optional_text,
    required_text,
    text_items,
)


def fold(text: str) -> str:
    """Normalise text for matching: NFKC and case-folded, so ``SOKHA`` finds ``Sokha``."""
    return unicodedata.normalize("NFKC", text).casefold()


def search_text_for(name: str, name_native: str | None, aliases: list[str]) -> str:
    """The text a name search matches: both scripts and aliases, folded, plus an unaccented copy."""
    folded = fold(" | ".join([name, name_native or "", *aliases]))
    plain = strip_marks(folded)
    return folded if plain == folded else f"{folded} || {plain}"


@dataclass
class PersonInput:
    """What a form or the API supplies to create or edit a person."""

    name: str
    name_native: str | None = None
    aliases: list[str] = field(default_factory=list)
    gender: str | None = None
    birth_date: PartialDate | None = None
    nationality: str | None = None
    occupation: str | None = None
    biography: str | None = None


MAX_ALIAS_LENGTH = 200


def check_aliases(aliases: list[str], errors: dict[str, str]) -> None:
    """Record under ``aliases`` an alias too long, holding the CSV alias separator, a control
    character or a line break."""
    text_items(aliases, errors, "aliases")
    if "aliases" in errors:
        return
    if any(len(a) > MAX_ALIAS_LENGTH for a in aliases):
        errors["aliases"] = f"each alias must be at most {MAX_ALIAS_LENGTH} characters"
    elif any(ALIAS_SEPARATOR in a for a in aliases):
        errors["aliases"] = (
            f"an alias cannot contain {ALIAS_SEPARATOR!r} (it separates aliases in CSV files)"
        )


def person_values(data: PersonInput) -> dict[str, Any]:
    """The person's column values as ``data`` gives them, validated (the rule for a form, the
    API and an import alike); a :class:`ValidationError` names every bad field."""
    errors: dict[str, str] = {}
    name = required_text(data.name, errors, "name", 200)
    name_native = optional_text(data.name_native, errors, "name_native", 200)
    aliases = [a.strip() for a in data.aliases if a and a.strip()]
    check_aliases(aliases, errors)
    nationality = normalise_country(data.nationality, errors, "nationality")
    gender = optional_text(data.gender, errors, "gender", 40)
    occupation = optional_text(data.occupation, errors, "occupation", 200)
    biography = optional_text(data.biography, errors, "biography", 20000, multiline=True)
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "name_native": name_native,
        "aliases": aliases,
        "gender": gender,
        "birth_date": data.birth_date.start if data.birth_date else None,
        "birth_date_precision": data.birth_date.precision.value if data.birth_date else None,
        "nationality": nationality,
        "occupation": occupation,
        "biography": biography,
        "search_text": search_text_for(name, name_native, aliases),
    }


def _apply_person(person: Person, data: PersonInput) -> None:
    for key, value in person_values(data).items():
        setattr(person, key, value)


def create_person(actor: Actor, data: PersonInput, *, unless_duplicate: bool = False) -> Person:
    """Add a person to the register; with ``unless_duplicate``, raise :class:`PossibleDuplicate`
    instead when someone visible to the actor looks like the same person."""
    person = Person(memberships=[], cases=[])  # known empty: no query to load them later
    _apply_person(person, data)
    if unless_duplicate:
        found = likely_duplicates(actor, data)
        if found:
            raise PossibleDuplicate("name", found)
    db.session.add(person)
    db.session.flush()
    audit.record_planned(actor, person_created(person.public_id, audit.snapshot(person)))
    return person


def person_created(public_id: str, person: dict[str, Any]) -> audit.Planned:
    """The audit entry of a person just added (``person``: their snapshot)."""
    return audit.Planned("person.create", "person", public_id, after=person)


def update_person(actor: Actor, person: Person, data: PersonInput) -> Person:
    """Change a person's details."""
    before = audit.snapshot(person)
    _apply_person(person, data)
    db.session.flush()
    audit.record(
        actor,
        "person.update",
        "person",
        person.public_id,
        before=before,
        after=audit.snapshot(person),
    )
    return person


@dataclass(frozen=True)
class LikelyDuplicate:
    """Someone registered who may be the person being added, and why."""

    public_id: str
    name: str
    name_native: str | None
    reasons: tuple[str, ...]

    def describe(self) -> str:
        """``Kem Sokha (abc123): same name``."""
        return f"{self.name} ({self.public_id}): {', '.join(self.reasons)}"


class PossibleDuplicate(ValidationError):
    """A new person looks like someone already registered: the caller shows them and asks
    whether to use that person or add a new one anyway (never merged silently)."""

    def __init__(self, field: str, candidates: Sequence[LikelyDuplicate]) -> None:
        listed = "; ".join(c.describe() for c in candidates)
        super().__init__(
            {
                field: f"may already be in the register: {listed}. Use that person, or confirm "
                "that this is someone new"
            }
        )
        self.field = field
        self.candidates = list(candidates)


# Reasons, strongest first (the order candidates are listed in).
SAME_NAME = "same name"
SAME_NATIVE = "same name in the original script"
ALIAS = "an alias matches"
SIMILAR = "similar name"
_STRENGTH = {SAME_NAME: 0, SAME_NATIVE: 1, ALIAS: 2, SIMILAR: 3}
MAX_DUPLICATES = 5
# At most this many people are compared with a new one (those sharing a name's word or the start
# of every word; a register holds few people of one name).
MAX_COMPARED = 1000

PersonRow = tuple[int, str, str, str | None, list[str] | None]  # id, public id, names, aliases


class DuplicateFinder:
    """Compares new people with registered ones (rows of :data:`PERSON_ROW_COLUMNS`), by the
    keys of :mod:`monitor.services.name_matching`; one scoring for forms, API and imports.

    Indexed by name word and by the start of each word, so comparing many new people (an
    import) looks only at those sharing a word or the starts of every word, as
    :func:`likely_duplicates` asks the database for.
    """

    def __init__(self, rows: Iterable[PersonRow]) -> None:
        self._rows: dict[int, PersonRow] = {}
        self._by_word: dict[str, set[int]] = {}
        self._by_start: dict[str, set[int]] = {}
        for row in rows:
            self._rows[row[0]] = row
            for text in [row[2], *(row[4] or [])]:
                for word in name_key(text).split():
                    self._by_word.setdefault(word, set()).add(row[0])
                    self._by_start.setdefault(word[:3], set()).add(row[0])
            native = native_key(row[3])
            if native:
                self._by_start.setdefault(f"native:{native[:3]}", set()).add(row[0])

    def _candidates(self, data: PersonInput) -> set[int]:
        found: set[int] = set()
        for text in [data.name, *data.aliases]:
            words = name_key(text).split()
            if words:
                found |= set.intersection(*(self._by_start.get(w[:3], set()) for w in words))
            for word in words:
                if len(word) >= 4:
                    found |= self._by_word.get(word, set())
        native = native_key(data.name_native)
        if native:
            found |= self._by_start.get(f"native:{native[:3]}", set())
        return found

    def find(self, data: PersonInput, limit: int = MAX_DUPLICATES) -> list[LikelyDuplicate]:
        """The registered people who may be this one, most likely first."""
        key = name_key(data.name)
        alias_keys = {name_key(a) for a in data.aliases} - {""}
        native = native_key(data.name_native)
        found: list[LikelyDuplicate] = []
        for person_id in sorted(self._candidates(data))[:MAX_COMPARED]:
            _id, public_id, name, name_native, aliases = self._rows[person_id]
            their_key = name_key(name)
            their_aliases = {name_key(a) for a in aliases or []} - {""}
            reasons = []
            if key and key == their_key:
                reasons.append(SAME_NAME)
            if native and native == native_key(name_native):
                reasons.append(SAME_NATIVE)
            if (key in their_aliases) or (their_key in alias_keys) or (alias_keys & their_aliases):
                reasons.append(ALIAS)
            if not reasons and key and their_key and name_ratio(key, their_key) >= NAME_RATIO:
                reasons.append(SIMILAR)
            if reasons:
                found.append(LikelyDuplicate(public_id, name, name_native, tuple(reasons)))
        found.sort(key=lambda d: (min(_STRENGTH[r] for r in d.reasons), d.name, d.public_id))
        return found[:limit]


PERSON_ROW_COLUMNS = (Person.id, Person.public_id, Person.name, Person.name_native, Person.aliases)


def _visible_to(actor: Actor) -> ColumnElement[bool]:
    # The command line (an actor that is no user) sees everyone; a user, whom their clearance
    # shows (someone seen only through cases above it is never named).
    return authz.person_visible(actor) if isinstance(actor, User) else true()


def _candidates(data: PersonInput) -> ColumnElement[bool]:
    """People worth comparing: sharing a whole word of a name, the first three letters of every
    word (typos further on), or the start of the name in the original script."""
    conditions: list[ColumnElement[bool]] = []
    for text in [data.name, *data.aliases]:
        words = name_key(text).split()
        if not words:
            continue
        conditions.append(_contains_all([w[:3] for w in words]))
        conditions.extend(_contains_all([w]) for w in words if len(w) >= 4)
    native = native_key(data.name_native)
    if native:
        conditions.append(_contains_all([native[:3]]))
    return or_(*conditions) if conditions else true()


def _contains_all(parts: list[str]) -> ColumnElement[bool]:
    return and_(*(search_text_contains(part) for part in parts))


def search_text_contains(text: str) -> ColumnElement[bool]:
    """SQL condition: the person's names or aliases (as :func:`search_text_for` keeps them)
    hold ``text`` (already folded) anywhere; PostgreSQL serves it with the trigram index."""
    return Person.search_text.like(f"%{escape_like(text)}%", escape="\\")


def likely_duplicates(actor: Actor, data: PersonInput) -> list[LikelyDuplicate]:
    """Registered people the actor may see who may be the person ``data`` describes: the same
    or a similar Latin name (case, accents, spacing and word order aside), the same name in the
    original script, or an alias that matches either way."""
    if not name_key(data.name) and not native_key(data.name_native):
        return []
    rows = db.session.execute(
        select(*PERSON_ROW_COLUMNS)
        .where(_visible_to(actor), _candidates(data))
        .order_by(Person.id)
        .limit(MAX_COMPARED)
    )
    return DuplicateFinder(_person_rows(rows)).find(data)


def duplicate_finder(actor: Actor) -> DuplicateFinder:
    """Every person the actor may see, ready to compare (for an import of many rows)."""
    rows = db.session.execute(select(*PERSON_ROW_COLUMNS).where(_visible_to(actor)))
    return DuplicateFinder(_person_rows(rows))


def _person_rows(rows: Iterable[Sequence[Any]]) -> Iterator[PersonRow]:
    return ((row[0], row[1], row[2], row[3], row[4]) for row in rows)


# Seats or members: the largest party counts under a hundred million; the column is a 32-bit
# integer on PostgreSQL.
MAX_SEATS = 1_000_000_000


@dataclass
class OrganizationInput:
    """What a form or the API supplies to create or edit an organization."""

    name: str
    kind: str
    short_name: str | None = None
    country: str | None = None
    seats: int | None = None
    dissolved_on: PartialDate | None = None


def _apply_organization(org: Organization, data: OrganizationInput) -> None:
    errors: dict[str, str] = {}
    name = required_text(data.name, errors, "name", 200)
    short_name = optional_text(data.short_name, errors, "short_name", 40)
    kind = member(OrganizationKind, data.kind, errors, "kind")
    country = normalise_country(data.country, errors, "country")
    if data.seats is not None and not 0 <= data.seats <= MAX_SEATS:
        errors["seats"] = f"must be a whole number from 0 to {MAX_SEATS:,}"
    if errors:
        raise ValidationError(errors)
    assert kind is not None  # noqa: S101 - an invalid kind raised above
    org.name, org.short_name, org.kind, org.country = name, short_name, kind.value, country
    org.seats = data.seats
    org.dissolved_on = data.dissolved_on.start if data.dissolved_on else None


def create_organization(actor: Actor, data: OrganizationInput) -> Organization:
    """Add an organization."""
    org = Organization()
    _apply_organization(org, data)
    db.session.add(org)
    db.session.flush()
    audit.record(
        actor, "organization.create", "organization", org.public_id, after=audit.snapshot(org)
    )
    return org


def update_organization(actor: Actor, org: Organization, data: OrganizationInput) -> Organization:
    """Change an organization's details."""
    before = audit.snapshot(org)
    _apply_organization(org, data)
    db.session.flush()
    audit.record(
        actor,
        "organization.update",
        "organization",
        org.public_id,
        before=before,
        after=audit.snapshot(org),
    )
    return org


def membership_role(role: str | None, errors: dict[str, str]) -> str:
    """The role as recorded ("member" when blank); a too-long one goes in ``errors``."""
    return optional_text(role, errors, "role", 120) or "member"


def membership_entry(
    public_id: str,
    person: str,
    organization: str,
    role: str,
    *,
    start: PartialDate | None = None,
    end: PartialDate | None = None,
) -> audit.Planned:
    """The audit entry of a new membership (people and organization by public id)."""
    return audit.Planned(
        "membership.create",
        "membership",
        public_id,
        after={
            "person": person,
            "organization": organization,
            "role": role,
            "start": start.iso() if start else None,
            "end": end.iso() if end else None,
        },
    )


def add_membership(
    actor: Actor,
    person: Person,
    organization: Organization,
    role: str | None,
    *,
    start: PartialDate | None = None,
    end: PartialDate | None = None,
) -> Membership:
    """Record that a person holds a role in an organization."""
    errors: dict[str, str] = {}
    role_text = membership_role(role, errors)
    if start and end and end.start < start.start:
        errors["end"] = "must not be before the start"
    if holds(person, organization, role_text):
        errors["role"] = f"{person.name} is already {role_text} of {organization.label}"
    if errors:
        raise ValidationError(errors)
    membership = Membership(
        person=person,
        organization=organization,
        role=role_text,
        start_on=start.start if start else None,
        start_precision=start.precision.value if start else None,
        end_on=end.start if end else None,
        end_precision=end.precision.value if end else None,
    )
    db.session.add(membership)
    db.session.flush()
    entry = membership_entry(
        membership.public_id,
        person.public_id,
        organization.public_id,
        role_text,
        start=start,
        end=end,
    )
    audit.record_planned(actor, entry)
    return membership


def remove_membership(actor: Actor, membership: Membership) -> None:
    """Delete a membership recorded in error."""
    audit.record(
        actor,
        "membership.delete",
        "membership",
        membership.public_id,
        before={
            "person": membership.person.public_id,
            "organization": membership.organization.public_id,
            "role": membership.role,
        },
    )
    db.session.delete(membership)
    db.session.flush()


def find_organization(public_id: str, field: str = "organization") -> Organization:
    """The organization a form or request names, else a validation error on ``field``.

    Unlike :func:`monitor.authz.get_organization` (a page's subject: 404), this is a choice made in
    a form, so a bad id is a field error the form shows beside the field.
    """
    org = authz.organization_by_id(public_id)
    if org is None:
        raise ValidationError({field: "no such organization"})
    return org


def find_person(user: User | None, public_id: str, field: str = "person") -> Person:
    """A person the user may see, chosen in a form or request, else a validation error on
    ``field`` (the same answer whether the person is missing or hidden)."""
    person = authz.visible_person(public_id, user)
    if person is None:
        raise ValidationError({field: "no such person"})
    return person


def holds(person: Person, organization: Organization, role: str) -> bool:
    """Whether the person already holds this role in the organization."""
    return any(m.organization_id == organization.id and m.role == role for m in person.memberships)
