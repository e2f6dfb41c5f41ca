"""Reading a Popolo JSON file as EveryPolitician publishes it (``ep-popolo-v1.0.json``).

:func:`read_popolo` turns the document into people, organizations and seats, or raises
:class:`PopoloProblems` naming every problem by where it is in the file
(``persons[3] (Kem Sokha).identifiers[1]``). Nothing here reads the register.

What is taken, and how:

- a person's ``name``; ``other_names``: the one in the file's native script (below) becomes the
  name in the original script, every other name that differs from both becomes an alias (with
  its ``lang`` kept beside it); ``gender``; ``birth_date``; ``identifiers``; ``links``; the
  ``image`` URL is kept as a link (never fetched);
- an organization's ``name``, short name (an other name noted ``abbreviation``), ``classification``
  (``party``, ``legislature``, …), ``identifiers`` and ``seats``;
- a membership of a legislature ``on_behalf_of`` a party becomes a membership of the party, with
  the legislature, the role, the area's name and the dates (the membership's own, else its
  legislative period's).

The file's *native script* language is the language tag that most often carries a name in a
non-Latin script (``km`` in Cambodia's file, whose people also have Japanese or Russian names): a
person's name in that language, if it is not in Latin letters, is their name in the original
script. Death dates, sources, contact details and posts are not read: the register has no place
for them, and never records a custody status the file does not hold.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from monitor.domain import OrganizationKind, PartialDate
from monitor.presentation.languages import script_of
from monitor.presentation.translation import gettext as _
from monitor.services.imports.reading import date_problem
from monitor.services.name_matching import name_key, native_key

# Popolo organization classifications and what the register calls them.
CLASSIFICATIONS = {
    "party": OrganizationKind.POLITICAL_PARTY,
    "political party": OrganizationKind.POLITICAL_PARTY,
    "political_party": OrganizationKind.POLITICAL_PARTY,
    "legislature": OrganizationKind.LEGISLATURE,
    "ngo": OrganizationKind.NGO,
    "media": OrganizationKind.MEDIA,
    "union": OrganizationKind.UNION,
    "trade union": OrganizationKind.UNION,
}
# A seat in a legislature is recorded on the party as this role (Popolo's own role is "member").
SEAT_ROLE = "Member of Parliament"
POPOLO_SEAT_ROLE = "member"
IMAGE_NOTE = "image"
ABBREVIATION_NOTE = "abbreviation"
MAX_IDENTIFIER = 200
MAX_SCHEME = 60


class PopoloProblems(Exception):
    """The file cannot be imported: each problem as (where in the file, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))
        self.problems = problems


@dataclass
class PopoloPerson:
    """A person of the file, as the register would hold them."""

    key: str  # the file's id
    where: str  # "persons[3] (Kem Sokha)"
    name: str
    name_native: str | None = None
    name_native_lang: str | None = None
    aliases: list[str] = field(default_factory=list)
    alias_languages: dict[str, str] = field(default_factory=dict)
    gender: str | None = None
    birth_date: PartialDate | None = None
    death_date: PartialDate | None = None
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # (scheme, identifier)
    links: list[dict[str, str]] = field(default_factory=list)  # {"url", "note"?}


@dataclass
class PopoloOrganization:
    """An organization of the file."""

    key: str
    where: str
    name: str
    kind: OrganizationKind
    short_name: str | None = None
    seats: int | None = None
    identifiers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PopoloSeat:
    """A membership the register records: the person in the organization (the party, for a
    seat held on its behalf), with the legislature, role, area and dates."""

    where: str
    person: str  # the file's person id
    organization: str  # the file's organization id
    role: str
    legislature: str | None = None
    area: str | None = None
    start: PartialDate | None = None
    end: PartialDate | None = None


@dataclass
class PopoloFile:
    """What the file holds, in the register's terms."""

    people: list[PopoloPerson]
    organizations: list[PopoloOrganization]
    seats: list[PopoloSeat]
    native_language: str | None


def read_popolo(data: bytes) -> PopoloFile:
    """The file's people, organizations and seats; :class:`PopoloProblems` otherwise."""
    if not data.strip():
        raise PopoloProblems([("the file", _("is empty"))])
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        byte = f"0x{data[exc.start]:02X}"
        raise PopoloProblems(
            [
                (
                    "the file",
                    _(
                        "is not UTF-8 (byte %(byte)s at position %(position)s)",
                        byte=byte,
                        position=exc.start,
                    ),
                )
            ]
        ) from None
    except json.JSONDecodeError as exc:
        raise PopoloProblems(
            [
                (
                    "the file",
                    _(
                        "is not JSON: %(error)s at line %(line)s, column %(column)s",
                        error=exc.msg,
                        line=exc.lineno,
                        column=exc.colno,
                    ),
                )
            ]
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("persons"), list):
        raise PopoloProblems(
            [
                (
                    "the file",
                    _(
                        'is not a Popolo file: it needs an object with a list of "persons" '
                        '(and "organizations" and "memberships")'
                    ),
                )
            ]
        )
    return _Reader(document).read()


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class _Reader:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.problems: list[tuple[str, str]] = []

    def problem(self, where: str, what: str) -> None:
        self.problems.append((where, what))

    def items(self, name: str) -> list[tuple[str, dict[str, Any]]]:
        """The objects of a top-level list, each with where it is."""
        value = self.document.get(name, [])
        if not isinstance(value, list):
            self.problem(name, _("must be a list"))
            return []
        found = []
        for index, item in enumerate(value):
            where = f"{name}[{index}]"
            if not isinstance(item, dict):
                self.problem(where, _("must be an object"))
                continue
            label = _text(item.get("name"))
            found.append((f"{where} ({label})" if label else where, item))
        return found

    def read(self) -> PopoloFile:
        native = self.native_language()
        people = self.people(native)
        organizations = self.organizations()
        seats = self.seats({p.key for p in people}, {o.key: o for o in organizations})
        if self.problems:
            raise PopoloProblems(self.problems)
        if not people:
            raise PopoloProblems([("persons", _("is empty: the file has no one to import"))])
        return PopoloFile(people, organizations, seats, native)

    def native_language(self) -> str | None:
        counts: Counter[str] = Counter()
        for person in self.document.get("persons") or []:
            if not isinstance(person, dict) or not isinstance(person.get("other_names"), list):
                continue
            langs = {
                other["lang"]
                for other in person["other_names"]
                if isinstance(other, dict)
                and isinstance(other.get("lang"), str)
                and _non_latin(other.get("name"))
            }
            counts.update(langs)
        if not counts:
            return None
        return min(counts, key=lambda lang: (-counts[lang], lang))

    def identifiers(self, where: str, item: dict[str, Any]) -> list[tuple[str, str]]:
        value = item.get("identifiers", [])
        if not isinstance(value, list):
            self.problem(f"{where}.identifiers", _("must be a list"))
            return []
        found: list[tuple[str, str]] = []
        for index, entry in enumerate(value):
            here = f"{where}.identifiers[{index}]"
            scheme = _text(entry.get("scheme")) if isinstance(entry, dict) else None
            identifier = _text(entry.get("identifier")) if isinstance(entry, dict) else None
            if scheme is None or identifier is None:
                self.problem(here, _('needs a "scheme" and an "identifier"'))
                continue
            if len(scheme) > MAX_SCHEME or len(identifier) > MAX_IDENTIFIER:
                self.problem(
                    here,
                    _(
                        "a scheme is at most %(scheme)s characters, an identifier %(identifier)s",
                        scheme=MAX_SCHEME,
                        identifier=MAX_IDENTIFIER,
                    ),
                )
                continue
            pair = (scheme.casefold(), identifier)
            if pair in found:
                continue  # listed twice: one and the same
            other = next((i for s, i in found if s == pair[0]), None)
            if other is not None:
                self.problem(
                    here,
                    _(
                        "gives a second %(scheme)s identifier (%(identifier)s; %(other)s)",
                        scheme=scheme,
                        identifier=identifier,
                        other=other,
                    ),
                )
                continue
            found.append(pair)
        return found

    def date(self, where: str, value: Any) -> PartialDate | None:
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str):
                raise ValueError(_("must be a date written as text"))
            return PartialDate.parse(value)
        except ValueError as exc:
            self.problem(where, f"{value!r}: {date_problem(exc)}")
            return None

    def identified(
        self, where: str, item: dict[str, Any], seen: dict[str, str]
    ) -> tuple[str, str] | None:
        """An item's id and name, or None (with the problem noted) when either is missing or
        the id was already used (``seen``: id -> where it was first)."""
        key = _text(item.get("id"))
        name = _text(item.get("name"))
        if key is None:
            self.problem(where, _('has no "id"'))
        elif key in seen:
            self.problem(
                where, _("has the id %(id)s of %(other)s too", id=repr(key), other=seen[key])
            )
        if name is None:
            self.problem(where, _('has no "name"'))
        if key is None or name is None or key in seen:
            return None
        seen[key] = where
        return key, name

    def people(self, native: str | None) -> list[PopoloPerson]:
        people: list[PopoloPerson] = []
        seen: dict[str, str] = {}
        owners: dict[tuple[str, str], str] = {}
        for where, item in self.items("persons"):
            identified = self.identified(where, item, seen)
            if identified is None:
                continue
            key, name = identified
            person = PopoloPerson(key, where, name)
            self.names(person, item, native)
            person.gender = _text(item.get("gender"))
            person.birth_date = self.date(f"{where}.birth_date", item.get("birth_date"))
            person.death_date = self.date(f"{where}.death_date", item.get("death_date"))
            person.identifiers = self.identifiers(where, item)
            for pair in person.identifiers:
                if pair in owners:
                    self.problem(
                        f"{where}.identifiers",
                        _(
                            "%(scheme)s %(identifier)s is also the identifier of %(other)s",
                            scheme=pair[0],
                            identifier=pair[1],
                            other=owners[pair],
                        ),
                    )
                owners.setdefault(pair, where)
            person.links = self.links(where, item)
            people.append(person)
        return people

    def names(self, person: PopoloPerson, item: dict[str, Any], native: str | None) -> None:
        others = item.get("other_names", [])
        if not isinstance(others, list):
            self.problem(f"{person.where}.other_names", _("must be a list"))
            return
        names: list[tuple[str, str | None]] = []
        for index, other in enumerate(others):
            text = _text(other.get("name")) if isinstance(other, dict) else None
            if text is None:
                self.problem(f"{person.where}.other_names[{index}]", _('has no "name"'))
                continue
            names.append((text, _text(other.get("lang"))))
        person.name_native = next(
            (text for text, lang in names if lang == native and _non_latin(text)), None
        )
        person.name_native_lang = native if person.name_native else None
        keys = {name_key(person.name), native_key(person.name_native)}
        for text, lang in names:
            key = name_key(text) if not _non_latin(text) else native_key(text)
            if not key or key in keys:
                continue
            keys.add(key)
            person.aliases.append(text)
            if lang:
                person.alias_languages[text] = lang

    def links(self, where: str, item: dict[str, Any]) -> list[dict[str, str]]:
        value = item.get("links", [])
        if not isinstance(value, list):
            self.problem(f"{where}.links", _("must be a list"))
            return []
        links: list[dict[str, str]] = []
        for index, entry in enumerate(value):
            url = _text(entry.get("url")) if isinstance(entry, dict) else None
            if url is None:
                self.problem(f"{where}.links[{index}]", _('has no "url"'))
                continue
            note = _text(entry.get("note"))
            links.append({"url": url, "note": note} if note else {"url": url})
        image = _text(item.get("image"))
        if image and all(link["url"] != image for link in links):
            links.append({"url": image, "note": IMAGE_NOTE})  # kept as a link, never fetched
        return links

    def organizations(self) -> list[PopoloOrganization]:
        found: list[PopoloOrganization] = []
        seen: dict[str, str] = {}
        for where, item in self.items("organizations"):
            identified = self.identified(where, item, seen)
            if identified is None:
                continue
            key, name = identified
            classification = (_text(item.get("classification")) or "").casefold()
            kind = CLASSIFICATIONS.get(classification, OrganizationKind.OTHER)
            seats = item.get("seats")
            if seats is not None and (
                not isinstance(seats, int) or isinstance(seats, bool) or seats < 0
            ):
                self.problem(
                    f"{where}.seats",
                    _("%(value)s is not a whole number of seats", value=repr(seats)),
                )
                seats = None
            short = None
            for other in item.get("other_names") or []:
                if isinstance(other, dict) and other.get("note") == ABBREVIATION_NOTE:
                    short = _text(other.get("name"))
            found.append(
                PopoloOrganization(
                    key, where, name, kind, short, seats, self.identifiers(where, item)
                )
            )
        return found

    def seats(
        self, people: set[str], organizations: dict[str, PopoloOrganization]
    ) -> list[PopoloSeat]:
        areas = {
            key: _text(item.get("name")) or key
            for _, item in self.items("areas")
            if (key := _text(item.get("id")))
        }
        periods = {key: item for _, item in self.items("events") if (key := _text(item.get("id")))}
        seats: list[PopoloSeat] = []
        for where, item in self.items("memberships"):
            person = _text(item.get("person_id"))
            org_key = _text(item.get("organization_id"))
            party = _text(item.get("on_behalf_of_id"))
            if person not in people:
                self.problem(
                    f"{where}.person_id",
                    _("names %(id)s, who is not among the persons", id=repr(person))
                    if person
                    else _("is missing"),
                )
            for label, key in (("organization_id", org_key), ("on_behalf_of_id", party)):
                if key is not None and key not in organizations:
                    self.problem(
                        f"{where}.{label}",
                        _("names %(id)s, which is not among the organizations", id=repr(key)),
                    )
            if org_key is None:
                self.problem(f"{where}.organization_id", _("is missing"))
            area_key = _text(item.get("area_id"))
            if area_key is not None and area_key not in areas:
                self.problem(
                    f"{where}.area_id",
                    _("names %(id)s, which is not among the areas", id=repr(area_key)),
                )
            period = periods.get(_text(item.get("legislative_period_id")) or "", {})
            start = self.date(
                f"{where}.start_date", item.get("start_date") or period.get("start_date")
            )
            end = self.date(f"{where}.end_date", item.get("end_date") or period.get("end_date"))
            if start and end and end.start < start.start:
                self.problem(f"{where}.end_date", _("is before the start date"))
            if person not in people or org_key not in organizations:
                continue
            if party is not None and party not in organizations:
                continue
            role = _text(item.get("role")) or POPOLO_SEAT_ROLE
            legislature = org_key if party else None
            if legislature and organizations[legislature].kind is OrganizationKind.LEGISLATURE:
                role = SEAT_ROLE if role.casefold() == POPOLO_SEAT_ROLE else role
            if len(role) > 120:
                self.problem(f"{where}.role", _("is longer than 120 characters"))
            assert person is not None  # noqa: S101 - checked above
            seats.append(
                PopoloSeat(
                    where,
                    person,
                    party or org_key,
                    role,
                    legislature,
                    areas.get(area_key) if area_key else None,
                    start,
                    end,
                )
            )
        return seats


def _non_latin(text: Any) -> bool:
    """Whether a name is written in letters other than Latin ones (Khmer, Cyrillic, …)."""
    return isinstance(text, str) and script_of(text) not in (None, "Latn")
