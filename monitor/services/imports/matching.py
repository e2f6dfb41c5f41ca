"""Matching the people and organizations of an import to the register, never duplicating silently.

Both imports (CSV and Popolo) ask :func:`match_people` who each incoming person is:

1. **by identifier**: a register person holding one of the person's identifiers
   (``wikidata:Q3194965``) is them — *matched*; identifiers naming two different people make the
   match *probable*, for the importer to settle;
2. **by name**: exactly one person with the same name, name in the original script or alias
   (:mod:`monitor.services.people`'s duplicate detection), and no identifier of the same scheme
   that says otherwise — *matched*; several such people, or only a similar name (with the same
   numbers, if any: ``Member 4`` is not ``Member 1``) — *probable*;
3. otherwise *new*.

A probable match is applied only once the importer decides it (:func:`resolve`): the id of the
register person it is, or ``"new"`` to keep them apart. Only people the importer may see are
matched or offered (someone above their clearance is not there for them).

:func:`match_organizations` finds organizations by identifier, then by name or short name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select, tuple_

from monitor import authz
from monitor.extensions import db
from monitor.models import Organization, OrganizationIdentifier, Person, PersonIdentifier, User
from monitor.presentation.translation import gettext, lazy_gettext
from monitor.services import Actor
from monitor.services.people import (
    ALIAS,
    SAME_NAME,
    SAME_NATIVE,
    SIMILAR,
    LikelyDuplicate,
    PersonInput,
    duplicate_finder,
    likely_duplicates,
)
from monitor.services.validation import text_problem

MATCHED = "matched"
PROBABLE = "probable"
NEW = "new"
KEEP_APART = "new"  # the decision that a probable match is someone new
EXACT_REASONS = frozenset({SAME_NAME, SAME_NATIVE, ALIAS})
# Past this many incoming people, everyone the importer may see is read once (see
# monitor.services.people.duplicate_finder) rather than asked about one by one.
QUERIES_PER_PERSON = 20
CHUNK = 400


@dataclass
class Incoming:
    """A person of an import: a key the importer's decisions use (the file's id, or ``row 5``),
    the names to compare and the identifiers ``(scheme, identifier)`` to look up."""

    key: str
    person: PersonInput
    identifiers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PersonMatch:
    """Who an incoming person is in the register."""

    key: str
    status: str  # MATCHED, PROBABLE or NEW
    person: Person | None = None  # MATCHED: the register's person
    reason: str = ""  # MATCHED: "wikidata Q3194965", "same name"
    candidates: list[LikelyDuplicate] = field(default_factory=list)  # PROBABLE


def _visible(actor: Actor) -> ColumnElement[bool] | None:
    # The command line (an actor that is no user) sees everyone.
    return authz.person_visible(actor) if isinstance(actor, User) else None


def _by_identifier(actor: Actor, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Person]:
    """Visible people holding any of the pairs, by pair."""
    found: dict[tuple[str, str], Person] = {}
    ordered = sorted(pairs)
    visible = _visible(actor)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        query = (
            select(PersonIdentifier.scheme, PersonIdentifier.identifier, Person)
            .join(Person, PersonIdentifier.person_id == Person.id)
            .where(tuple_(PersonIdentifier.scheme, PersonIdentifier.identifier).in_(chunk))
        )
        if visible is not None:
            query = query.where(visible)
        for scheme, identifier, person in db.session.execute(query):
            found[(scheme, identifier)] = person
    return found


def identifiers_of(people: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each person's identifiers ``{scheme: identifier}``, by public id."""
    ids = sorted(set(people))
    held: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = db.session.execute(
            select(Person.public_id, PersonIdentifier.scheme, PersonIdentifier.identifier)
            .join(PersonIdentifier, PersonIdentifier.person_id == Person.id)
            .where(Person.public_id.in_(ids[start : start + CHUNK]))
        )
        for public_id, scheme, identifier in rows:
            held.setdefault(public_id, {})[scheme] = identifier
    return held


def _disagree(theirs: Mapping[str, str], ours: Iterable[tuple[str, str]]) -> bool:
    """Whether the two hold different identifiers in one scheme (two different people)."""
    return any(scheme in theirs and theirs[scheme] != identifier for scheme, identifier in ours)


def match_people(actor: Actor, incoming: list[Incoming]) -> dict[str, PersonMatch]:
    """Who each incoming person is in the register, by key (see the module's description)."""
    pairs = {pair for item in incoming for pair in item.identifiers}
    holders = _by_identifier(actor, pairs) if pairs else {}
    matches: dict[str, PersonMatch] = {}
    by_name: list[Incoming] = []
    for item in incoming:
        owners = {holders[p].id: (holders[p], p) for p in item.identifiers if p in holders}
        if len(owners) == 1:
            person, (scheme, identifier) = next(iter(owners.values()))
            matches[item.key] = PersonMatch(item.key, MATCHED, person, f"{scheme} {identifier}")
        elif owners:
            candidates = [
                LikelyDuplicate(p.public_id, p.name, p.name_native, (f"{s} {i}",))
                for p, (s, i) in owners.values()
            ]
            matches[item.key] = PersonMatch(item.key, PROBABLE, candidates=candidates)
        else:
            by_name.append(item)
    incoming_names = {item.key: item.person.name for item in by_name}
    finder = duplicate_finder(actor) if len(by_name) > QUERIES_PER_PERSON else None
    found = {
        item.key: finder.find(item.person) if finder else likely_duplicates(actor, item.person)
        for item in by_name
    }
    found = {
        key: [d for d in ds if not _numbered_apart(incoming_names[key], d)]
        for key, ds in found.items()
    }
    held = identifiers_of(d.public_id for ds in found.values() for d in ds)
    exact_ids: set[str] = set()
    for item in by_name:
        candidates = found[item.key]
        exact = [
            d
            for d in candidates
            if EXACT_REASONS & set(d.reasons)
            and not _disagree(held.get(d.public_id, {}), item.identifiers)
        ]
        if len(exact) == 1:
            exact_ids.add(exact[0].public_id)
            matches[item.key] = PersonMatch(
                item.key, MATCHED, reason=", ".join(exact[0].reasons), candidates=exact
            )
        elif candidates:
            matches[item.key] = PersonMatch(item.key, PROBABLE, candidates=candidates)
        else:
            matches[item.key] = PersonMatch(item.key, NEW)
    people = _people(exact_ids)
    for match in matches.values():
        if match.status == MATCHED and match.person is None:
            match.person = people[match.candidates[0].public_id]
            match.candidates = []
    return matches


_NUMBER = re.compile(r"\d+")


def _numbered_apart(name: str, candidate: LikelyDuplicate) -> bool:
    """Whether a candidate found only by a similar name carries other numbers than the name
    (``Member 4`` and ``Member 1``, ``Seat 12`` and ``Seat 13``): the numbers tell them apart."""
    if tuple(candidate.reasons) != (SIMILAR,):
        return False
    return sorted(_NUMBER.findall(name)) != sorted(_NUMBER.findall(candidate.name))


def _people(public_ids: set[str]) -> dict[str, Person]:
    ids = sorted(public_ids)
    found: dict[str, Person] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(Person).where(Person.public_id.in_(ids[start : start + CHUNK]))
        found.update((p.public_id, p) for p in db.session.scalars(query))
    return found


def check_decisions(
    matches: Mapping[str, PersonMatch], decisions: Mapping[str, str]
) -> dict[str, str]:
    """What is wrong with the importer's decisions, by key: an unknown key, a person not among
    a probable match's candidates, a value that is neither an id nor ``"new"``."""
    errors: dict[str, str] = {}
    for key, decision in decisions.items():
        match = matches.get(key)
        if match is None:
            errors[key] = gettext("is not a person of the file")
        elif not isinstance(decision, str) or text_problem(decision):
            errors[key] = gettext('must be a person\'s id or "new"')
        elif decision == KEEP_APART or (match.person and decision == match.person.public_id):
            continue
        elif decision not in {c.public_id for c in match.candidates}:
            errors[key] = (
                gettext("%(value)s is not one of the people offered for it", value=repr(decision))
                if match.candidates
                else gettext(
                    'was matched to %(id)s: decide "new" or that id', id=match.person.public_id
                )
                if match.person
                else gettext('was matched to no one: decide "new"')
            )
    return errors


def undecided(matches: Mapping[str, PersonMatch], decisions: Mapping[str, str]) -> list[str]:
    """The keys of probable matches the decisions leave open."""
    return [k for k, m in matches.items() if m.status == PROBABLE and k not in decisions]


def accept_matches(matches: Mapping[str, PersonMatch]) -> dict[str, str]:
    """Decisions taking each probable match's likeliest candidate (``--accept-matches``)."""
    return {
        key: match.candidates[0].public_id
        for key, match in matches.items()
        if match.status == PROBABLE and match.candidates
    }


def resolve(
    matches: Mapping[str, PersonMatch], decisions: Mapping[str, str]
) -> dict[str, Person | None]:
    """The register person each key is (``None``: someone new), the decisions applied;
    call :func:`check_decisions` and :func:`undecided` first."""
    # People matched already need no query (another key may be decided to one of them).
    known = {m.person.public_id: m.person for m in matches.values() if m.person}
    chosen_ids = {d for d in decisions.values() if d != KEEP_APART} - set(known)
    people = {**known, **_people(chosen_ids)}
    resolved: dict[str, Person | None] = {}
    for key, match in matches.items():
        decision = decisions.get(key)
        if decision == KEEP_APART:
            resolved[key] = None
        elif decision is not None:
            resolved[key] = (
                match.person
                if match.person and match.person.public_id == decision
                else people[decision]
            )
        else:
            resolved[key] = match.person
    return resolved


# Why someone matched, as the preview words it in the importer's language.
REASON_LABELS = {
    SAME_NAME: lazy_gettext("same name"),
    SAME_NATIVE: lazy_gettext("same name in the original script"),
    ALIAS: lazy_gettext("an alias matches"),
    SIMILAR: lazy_gettext("similar name"),
}
# What the preview calls each match status.
STATUS_LABELS = {
    MATCHED: lazy_gettext("matched"),
    PROBABLE: lazy_gettext("probably the same person"),
    NEW: lazy_gettext("new"),
}


def reason_text(reasons: str) -> str:
    """``same name, an alias matches`` in the language in force (an identifier stays as it is:
    ``wikidata Q3194965``)."""
    parts = [str(REASON_LABELS.get(part, part)) for part in reasons.split(", ") if part]
    return (
        gettext("%(first)s, %(next)s", first=parts[0], next=", ".join(parts[1:]))
        if len(parts) > 1
        else (parts[0] if parts else "")
    )


# -- organizations ----------------------------------------------------------------------------


def match_organizations(
    wanted: list[tuple[str, str, str | None, list[tuple[str, str]]]],
) -> dict[str, Organization]:
    """The register's organization for each ``(key, name, short name, identifiers)`` that has
    one: by identifier, else by name or short name (either way round, case aside)."""
    pairs = sorted({pair for *_, identifiers in wanted for pair in identifiers})
    by_pair: dict[tuple[str, str], Organization] = {}
    for start in range(0, len(pairs), CHUNK):
        rows = db.session.execute(
            select(OrganizationIdentifier.scheme, OrganizationIdentifier.identifier, Organization)
            .join(Organization, OrganizationIdentifier.organization_id == Organization.id)
            .where(
                tuple_(OrganizationIdentifier.scheme, OrganizationIdentifier.identifier).in_(
                    pairs[start : start + CHUNK]
                )
            )
        )
        for scheme, identifier, org in rows:
            by_pair[(scheme, identifier)] = org
    names = {n.casefold() for _, name, short, _ in wanted for n in (name, short) if n}
    by_name: dict[str, Organization] = {}
    if names:
        query = (
            select(Organization)
            .where(
                func.lower(Organization.name).in_(sorted(names))
                | func.lower(Organization.short_name).in_(sorted(names))
            )
            .order_by(Organization.id)
        )
        for org in db.session.scalars(query):
            for label in (org.name, org.short_name):
                if label:
                    by_name.setdefault(label.casefold(), org)
    found: dict[str, Organization] = {}
    for key, name, short, identifiers in wanted:
        by_id: Organization | None = next((by_pair[p] for p in identifiers if p in by_pair), None)
        chosen = (
            by_id
            or by_name.get(name.casefold())
            or (by_name.get(short.casefold()) if short else None)
        )
        if chosen is not None:
            found[key] = chosen
    return found
