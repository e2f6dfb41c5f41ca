"""Creating and changing people, organizations and memberships."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, or_, select, true

from monitor import authz
from monitor.domain import OrganizationKind, PartialDate
from monitor.extensions import db
from monitor.models import (
    Membership,
    Organization,
    OrganizationIdentifier,
    Person,
    PersonIdentifier,
    User,
)
from monitor.presentation.translation import format_number
from monitor.presentation.translation import gettext as _
from monitor.presentation.translation import lazy_gettext as _l
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
    web_url,
)


def fold(text: str) -> str:
    """Normalise text for matching: NFKC and case-folded, so ``SOKHA`` finds ``Sokha``."""
    return unicodedata.normalize("NFKC", text).casefold()


def search_text_for(
    name: str,
    name_native: str | None,
    aliases: list[str],
    identifiers: Sequence[tuple[str, str]] = (),
) -> str:
    """The text a name search matches: both scripts and aliases, folded, plus an unaccented copy,
    then the identifiers (so ``Q3194965`` finds the person it identifies)."""
    folded = fold(" | ".join([name, name_native or "", *aliases]))
    plain = strip_marks(folded)
    text = folded if plain == folded else f"{folded} || {plain}"
    if identifiers:
        text += " ||| " + " ".join(fold(identifier) for _scheme, identifier in identifiers)
    return text


# Identifiers: ``scheme:identifier``, the scheme free text (lower-cased), the identifier as given.
IDENTIFIER_SCHEME_LENGTH = 60
IDENTIFIER_LENGTH = 200
_SCHEME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
# Where an identifier of a scheme is read on the web.
IDENTIFIER_LINKS = {
    "wikidata": "https://www.wikidata.org/wiki/{}",
}


def identifier_url(scheme: str, identifier: str) -> str | None:
    """The page a known scheme's identifier has (Wikidata's ``Q…`` items), else ``None``."""
    pattern = IDENTIFIER_LINKS.get(scheme)
    if pattern is None or not re.fullmatch(r"[QPL]\d+", identifier):
        return None
    return pattern.format(identifier)


def parse_identifiers(items: Iterable[str]) -> list[tuple[str, str]]:
    """``["wikidata:Q3194965", …]`` as ``(scheme, identifier)`` pairs, the scheme lower-cased,
    blanks skipped, repeats dropped; ``ValueError`` with a reader's message for a bad item."""
    pairs: list[tuple[str, str]] = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        scheme, colon, identifier = item.partition(":")
        scheme, identifier = scheme.strip().lower(), identifier.strip()
        if not colon or not scheme or not identifier:
            raise ValueError(
                _(
                    "%(item)s: write scheme:identifier, e.g. %(example)s",
                    item=repr(item),
                    example="wikidata:Q3194965",
                )
            )
        if len(scheme) > IDENTIFIER_SCHEME_LENGTH or not _SCHEME.match(scheme):
            raise ValueError(
                _(
                    "%(scheme)s is not a scheme: letters, digits, '.', '_' or '-', at most "
                    "%(max)s characters",
                    scheme=repr(scheme),
                    max=IDENTIFIER_SCHEME_LENGTH,
                )
            )
        if len(identifier) > IDENTIFIER_LENGTH or any(not c.isprintable() for c in identifier):
            raise ValueError(
                _(
                    "%(identifier)s: an identifier is one line of at most %(max)s characters",
                    identifier=repr(identifier[:40]),
                    max=IDENTIFIER_LENGTH,
                )
            )
        if (scheme, identifier) not in pairs:
            pairs.append((scheme, identifier))
    return pairs


def format_identifiers(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """``scheme:identifier`` strings, as forms, the API and the CSV write them."""
    return [f"{scheme}:{identifier}" for scheme, identifier in pairs]


def identifier_pairs(owner: Person | Organization) -> list[tuple[str, str]]:
    """The owner's identifiers as sorted ``(scheme, identifier)`` pairs."""
    return sorted((i.scheme, i.identifier) for i in owner.identifiers)


def _identifier_holders(
    model: type[PersonIdentifier] | type[OrganizationIdentifier],
    pairs: Sequence[tuple[str, str]],
) -> list[Any]:
    if not pairs:
        return []
    wanted = or_(*(and_(model.scheme == s, model.identifier == i) for s, i in pairs))
    return list(db.session.scalars(select(model).where(wanted)))


# Names the field an identifier held by someone else is refused under: ``identifiers`` on a
# form, ``identifiers.2.identifier`` in the API (which passes its own).
IdentifierField = Callable[[tuple[str, str]], str]


def _whole_list(_pair: tuple[str, str]) -> str:
    return "identifiers"


def check_person_identifiers(
    actor: Actor,
    person: Person | None,
    pairs: Sequence[tuple[str, str]],
    errors: dict[str, str],
    field: IdentifierField = _whole_list,
) -> None:
    """Record under ``field`` (``identifiers``) an identifier another person holds, naming them
    only when the actor may see them."""
    for held in _identifier_holders(PersonIdentifier, pairs):
        if person is not None and held.person_id == person.id:
            continue
        holder = held.person
        visible = not isinstance(actor, User) or (
            db.session.scalar(
                select(Person.id).where(Person.id == holder.id, authz.person_visible(actor))
            )
            is not None
        )
        pair = f"{held.scheme}:{held.identifier}"
        errors[field((held.scheme, held.identifier))] = (
            _(
                "%(identifier)s is already held by %(name)s (%(id)s)",
                identifier=pair,
                name=holder.name,
                id=holder.public_id,
            )
            if visible
            else _("%(identifier)s is already held by another person", identifier=pair)
        )
        return


def check_organization_identifiers(
    org: Organization | None,
    pairs: Sequence[tuple[str, str]],
    errors: dict[str, str],
    field: IdentifierField = _whole_list,
) -> None:
    """Record under ``field`` (``identifiers``) an identifier another organization holds
    (organizations are all visible, so it is named)."""
    for held in _identifier_holders(OrganizationIdentifier, pairs):
        if org is not None and held.organization_id == org.id:
            continue
        holder = held.organization
        pair = f"{held.scheme}:{held.identifier}"
        errors[field((held.scheme, held.identifier))] = _(
            "%(identifier)s is already held by %(name)s (%(id)s)",
            identifier=pair,
            name=holder.name,
            id=holder.public_id,
        )
        return


def _set_identifiers(owner: Person | Organization, pairs: Sequence[tuple[str, str]]) -> None:
    """Make the owner's identifiers exactly ``pairs``, keeping rows that stay."""
    wanted = list(pairs)
    keep = []
    current: list[PersonIdentifier | OrganizationIdentifier] = list(owner.identifiers)
    for existing in current:
        key = (existing.scheme, existing.identifier)
        if key in wanted:
            wanted.remove(key)
            keep.append(existing)
    removed = [i for i in owner.identifiers if i not in keep]
    if removed:
        for gone in removed:
            owner.identifiers.remove(gone)  # type: ignore[arg-type]
        db.session.flush()  # deleted before an insert may reuse the pair
    model = PersonIdentifier if isinstance(owner, Person) else OrganizationIdentifier
    for scheme, identifier in wanted:
        owner.identifiers.append(model(scheme=scheme, identifier=identifier))  # type: ignore[arg-type]


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
    death_date: PartialDate | None = None
    # ``(scheme, identifier)`` pairs; ``None``: leave the person's identifiers as they are.
    identifiers: list[tuple[str, str]] | None = None
    # Not on the forms: ``None`` leaves them as they are (a new person gets none).
    name_native_lang: str | None = None
    links: list[dict[str, str]] | None = None


# Values :class:`PersonInput` leaves alone when it holds ``None`` for them.
_KEPT_WHEN_NONE = ("name_native_lang", "links")
MAX_ALIAS_LENGTH = 200


def check_aliases(aliases: list[str], errors: dict[str, str]) -> None:
    """Record under ``aliases`` an alias too long, holding the CSV alias separator, a control
    character or a line break."""
    text_items(aliases, errors, "aliases")
    if "aliases" in errors:
        return
    if any(len(a) > MAX_ALIAS_LENGTH for a in aliases):
        errors["aliases"] = _("each alias must be at most %(max)s characters", max=MAX_ALIAS_LENGTH)
    elif any(ALIAS_SEPARATOR in a for a in aliases):
        errors["aliases"] = _(
            "an alias cannot contain %(separator)s (it separates aliases in CSV files)",
            separator=repr(ALIAS_SEPARATOR),
        )


def person_values(data: PersonInput, identifiers: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
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
    name_native_lang = optional_text(data.name_native_lang, errors, "name_native_lang", 35)
    links = []
    for link in data.links or []:
        url = web_url(str(link.get("url") or ""), errors, "links")
        note = optional_text(str(link.get("note") or ""), errors, "links", 300)
        if url:
            links.append({"url": url, "note": note or ""})
    if data.death_date and data.birth_date and data.death_date.start < data.birth_date.start:
        errors["death_date"] = _("must not be before the birth date")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "name_native": name_native,
        "aliases": aliases,
        "gender": gender,
        "birth_date": data.birth_date.start if data.birth_date else None,
        "birth_date_precision": data.birth_date.precision.value if data.birth_date else None,
        "death_date": data.death_date.start if data.death_date else None,
        "death_date_precision": data.death_date.precision.value if data.death_date else None,
        "name_native_lang": name_native_lang,
        "links": links,
        "nationality": nationality,
        "occupation": occupation,
        "biography": biography,
        "search_text": search_text_for(name, name_native, aliases, identifiers),
    }


def _apply_person(actor: Actor, person: Person, data: PersonInput, *, new: bool = False) -> None:
    pairs = data.identifiers if data.identifiers is not None else identifier_pairs(person)
    errors: dict[str, str] = {}
    check_person_identifiers(actor, None if new else person, pairs, errors)
    try:
        values = person_values(data, pairs)
    except ValidationError as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise ValidationError(errors)
    for key, value in values.items():
        if key in _KEPT_WHEN_NONE and getattr(data, key) is None and not new:
            continue
        setattr(person, key, value)
    if data.identifiers is not None:
        _set_identifiers(person, pairs)


def create_person(actor: Actor, data: PersonInput, *, unless_duplicate: bool = False) -> Person:
    """Add a person to the register; with ``unless_duplicate``, raise :class:`PossibleDuplicate`
    instead when someone visible to the actor looks like the same person."""
    # Known empty: no query to load them later.
    person = Person(memberships=[], cases=[], identifiers=[])
    _apply_person(actor, person, data, new=True)
    if unless_duplicate:
        found = likely_duplicates(actor, data)
        if found:
            raise PossibleDuplicate("name", found)
    db.session.add(person)
    db.session.flush()
    audit.record_planned(actor, person_created(person.public_id, audit.snapshot(person)))
    _audit_identifiers(actor, person, [])
    return person


def _audit_identifiers(
    actor: Actor, owner: Person | Organization, before: list[tuple[str, str]]
) -> None:
    """An audit entry for a change of the owner's identifiers (none when they stay)."""
    after = identifier_pairs(owner)
    if after == before:
        return
    kind = "person" if isinstance(owner, Person) else "organization"
    action = "person.identifiers" if isinstance(owner, Person) else "organization.identifiers"
    audit.record(
        actor,
        action,
        kind,
        owner.public_id,
        before={"identifiers": format_identifiers(before)},
        after={"identifiers": format_identifiers(after)},
    )


def set_person_identifiers(
    actor: Actor,
    person: Person,
    pairs: list[tuple[str, str]],
    field: IdentifierField = _whole_list,
) -> None:
    """Give a person exactly these identifiers (checked unique, audited); one another person
    holds is refused under ``field``."""
    before = identifier_pairs(person)
    if sorted(pairs) == before:
        return
    errors: dict[str, str] = {}
    check_person_identifiers(actor, person, pairs, errors, field)
    if errors:
        raise ValidationError(errors)
    _set_identifiers(person, pairs)
    person.search_text = search_text_for(person.name, person.name_native, person.aliases, pairs)
    db.session.flush()
    _audit_identifiers(actor, person, before)


def person_created(public_id: str, person: dict[str, Any]) -> audit.Planned:
    """The audit entry of a person just added (``person``: their snapshot)."""
    return audit.Planned("person.create", "person", public_id, after=person)


def update_person(actor: Actor, person: Person, data: PersonInput) -> Person:
    """Change a person's details."""
    before = audit.snapshot(person)
    before_ids = identifier_pairs(person)
    _apply_person(actor, person, data)
    db.session.flush()
    audit.record(
        actor,
        "person.update",
        "person",
        person.public_id,
        before=before,
        after=audit.snapshot(person),
    )
    _audit_identifiers(actor, person, before_ids)
    return person


@dataclass(frozen=True)
class LikelyDuplicate:
    """Someone registered who may be the person being added, and why."""

    public_id: str
    name: str
    name_native: str | None
    reasons: tuple[str, ...]

    def reasons_text(self) -> str:
        """``same name, an alias matches`` in the language in force."""
        return _(", ").join(str(REASON_LABELS.get(r, r)) for r in self.reasons)

    def describe(self) -> str:
        """``Kem Sokha (abc123): same name``."""
        return f"{self.name} ({self.public_id}): {self.reasons_text()}"


class PossibleDuplicate(ValidationError):
    """A new person looks like someone already registered: the caller shows them and asks
    whether to use that person or add a new one anyway (never merged silently)."""

    def __init__(self, field: str, candidates: Sequence[LikelyDuplicate]) -> None:
        listed = "; ".join(c.describe() for c in candidates)
        super().__init__(
            {
                field: _(
                    "may already be in the register: %(people)s. Use that person, or confirm "
                    "that this is someone new",
                    people=listed,
                )
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
# The reasons as a page words them (the codes above stay English: imports match on them).
REASON_LABELS = {
    SAME_NAME: _l("same name"),
    SAME_NATIVE: _l("same name in the original script"),
    ALIAS: _l("an alias matches"),
    SIMILAR: _l("similar name"),
}
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
    # ``(scheme, identifier)`` pairs; ``None``: leave the organization's identifiers alone.
    identifiers: list[tuple[str, str]] | None = None


def _apply_organization(org: Organization, data: OrganizationInput, *, new: bool = False) -> None:
    errors: dict[str, str] = {}
    if data.identifiers is not None:
        check_organization_identifiers(None if new else org, data.identifiers, errors)
    name = required_text(data.name, errors, "name", 200)
    short_name = optional_text(data.short_name, errors, "short_name", 40)
    kind = member(OrganizationKind, data.kind, errors, "kind")
    country = normalise_country(data.country, errors, "country")
    if data.seats is not None and not 0 <= data.seats <= MAX_SEATS:
        errors["seats"] = _(
            "must be a whole number from %(min)s to %(max)s", min=0, max=format_number(MAX_SEATS)
        )
    if errors:
        raise ValidationError(errors)
    assert kind is not None  # noqa: S101 - an invalid kind raised above
    org.name, org.short_name, org.kind, org.country = name, short_name, kind.value, country
    org.seats = data.seats
    org.dissolved_on = data.dissolved_on.start if data.dissolved_on else None
    if data.identifiers is not None:
        _set_identifiers(org, data.identifiers)


def create_organization(actor: Actor, data: OrganizationInput) -> Organization:
    """Add an organization."""
    org = Organization(identifiers=[])
    _apply_organization(org, data, new=True)
    db.session.add(org)
    db.session.flush()
    audit.record(
        actor, "organization.create", "organization", org.public_id, after=audit.snapshot(org)
    )
    _audit_identifiers(actor, org, [])
    return org


def set_organization_identifiers(
    actor: Actor,
    org: Organization,
    pairs: list[tuple[str, str]],
    field: IdentifierField = _whole_list,
) -> None:
    """Give an organization exactly these identifiers (checked unique, audited); one another
    organization holds is refused under ``field``."""
    before = identifier_pairs(org)
    if sorted(pairs) == before:
        return
    errors: dict[str, str] = {}
    check_organization_identifiers(org, pairs, errors, field)
    if errors:
        raise ValidationError(errors)
    _set_identifiers(org, pairs)
    db.session.flush()
    _audit_identifiers(actor, org, before)


def update_organization(actor: Actor, org: Organization, data: OrganizationInput) -> Organization:
    """Change an organization's details."""
    before = audit.snapshot(org)
    before_ids = identifier_pairs(org)
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
    _audit_identifiers(actor, org, before_ids)
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
    area: str | None = None,
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
            "area": area,
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
    area: str | None = None,
) -> Membership:
    """Record that a person holds a role in an organization (with no case needed: a member the
    register knows of is a person and a membership)."""
    errors: dict[str, str] = {}
    role_text = membership_role(role, errors)
    area_text = optional_text(area, errors, "area", 200)
    if start and end and end.start < start.start:
        errors["end"] = _("must not be before the start")
    if holds(person, organization, role_text):
        errors["role"] = _(
            "%(person)s is already %(role)s of %(organization)s",
            person=person.name,
            role=role_text,
            organization=organization.label,
        )
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
        area=area_text,
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
        area=area_text,
    )
    audit.record_planned(actor, entry)
    return membership


def update_membership(
    actor: Actor,
    membership: Membership,
    *,
    start: PartialDate | None,
    end: PartialDate | None,
    area: str | None,
) -> Membership:
    """Change a membership's dates and area."""
    errors: dict[str, str] = {}
    area_text = optional_text(area, errors, "area", 200)
    if start and end and end.start < start.start:
        errors["end"] = _("must not be before the start")
    if errors:
        raise ValidationError(errors)
    before = membership_state(membership)
    membership.start_on = start.start if start else None
    membership.start_precision = start.precision.value if start else None
    membership.end_on = end.start if end else None
    membership.end_precision = end.precision.value if end else None
    membership.area = area_text
    db.session.flush()
    after = membership_state(membership)
    if after != before:
        audit.record(
            actor,
            "membership.update",
            "membership",
            membership.public_id,
            before=before,
            after=after,
        )
    return membership


def membership_state(membership: Membership) -> dict[str, Any]:
    """A membership's dates and area, as its audit entries hold them."""
    return {
        "start": membership.start.iso() if membership.start else None,
        "end": membership.end.iso() if membership.end else None,
        "area": membership.area,
    }


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
        raise ValidationError({field: _l("no such organization")})
    return org


def find_person(user: User | None, public_id: str, field: str = "person") -> Person:
    """A person the user may see, chosen in a form or request, else a validation error on
    ``field`` (the same answer whether the person is missing or hidden)."""
    person = authz.visible_person(public_id, user)
    if person is None:
        raise ValidationError({field: _l("no such person")})
    return person


def holds(person: Person, organization: Organization, role: str) -> bool:
    """Whether the person already holds this role in the organization."""
    return any(m.organization_id == organization.id and m.role == role for m in person.memberships)


def member_counts(actor: Actor, org: Organization | None = None) -> dict[int, int]:
    """How many people the actor may see hold a membership, per organization (a person with two
    roles counts once); one organization's count when ``org`` is given. Members need no case."""
    query = select(Membership.organization_id, func.count(distinct(Membership.person_id))).group_by(
        Membership.organization_id
    )
    if isinstance(actor, User) and not authz.cleared_for_every_level(authz.visible_levels(actor)):
        # Each member's cases decide whether they are seen; for an actor who sees everyone the
        # memberships' index alone counts them (20,000 members without reading a person).
        query = query.join(Person, Person.id == Membership.person_id).where(_visible_to(actor))
    if org is not None:
        query = query.where(Membership.organization_id == org.id)
    return {org_id: int(count) for org_id, count in db.session.execute(query)}
