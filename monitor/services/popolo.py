"""Popolo JSON export (https://www.popoloproject.com) of people, organizations, memberships and
the areas members represent.

Only what the Popolo schemas have a place for is exported: cases, charges and custody status are
not Popolo data, and leaving them out keeps the export free of anything confidential beyond the
fact that a visible person exists. It reads back through the Popolo import
(:mod:`monitor.services.imports.popolo_reading`) as EveryPolitician's files do: identifiers,
links (a picture as ``image``), other names with their ``lang``, a party's seats in a legislature
as memberships of the legislature ``on_behalf_of`` the party, with ``area_id`` and dates, and
the organizations' ``seats`` (an EveryPolitician field beside the schema's own).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from monitor import authz
from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import (
    Membership,
    Organization,
    OrganizationIdentifier,
    Person,
    PersonIdentifier,
    User,
)
from monitor.presentation.languages import language_of

NATIVE_SCRIPT_NOTE = "native script"
ALIAS_NOTE = "alias"
ABBREVIATION_NOTE = "abbreviation"
IMAGE_NOTE = "image"  # a link to a picture, exported as the person's ``image``
# A seat on behalf of a party is recorded with this role; Popolo's membership role is "member".
SEAT_ROLE = "Member of Parliament"
POPOLO_SEAT_ROLE = "member"
AREA_PREFIX = "area/"


def popolo_export(user: User | None) -> dict[str, Any]:
    """People visible to the user, every organization, and the visible people's memberships.

    Three queries whatever the size of the register: a person whose every case is above the
    user's clearance is left out, and so are their memberships (they would reveal the person).
    """
    memberships, areas = _memberships(user)
    return {
        "persons": _persons(user),
        "organizations": _organizations(),
        "memberships": memberships,
        "areas": areas,
    }


def _identifiers(
    model: type[PersonIdentifier] | type[OrganizationIdentifier], owner: Any
) -> dict[int, list[dict[str, str]]]:
    """Every owner's identifiers, by owner row id (one query)."""
    found: dict[int, list[dict[str, str]]] = {}
    rows = db.session.execute(
        select(owner, model.scheme, model.identifier).order_by(model.scheme, model.identifier)
    )
    for owner_id, scheme, identifier in rows:
        found.setdefault(owner_id, []).append({"identifier": identifier, "scheme": scheme})
    return found


def _lang(name: str, stored: str | None, country: str | None) -> str | None:
    """A name's language: as recorded, else as its letters (and the country) tell."""
    if stored:
        return stored
    found = language_of(name, country)
    return found.tag if found and not found.tag.startswith("und") else None


def _other_name(name: str, note: str, lang: str | None) -> dict[str, str]:
    return {"lang": lang, "name": name, "note": note} if lang else {"name": name, "note": note}


def _persons(user: User | None) -> list[dict[str, Any]]:
    identifiers = _identifiers(PersonIdentifier, PersonIdentifier.person_id)
    rows = db.session.execute(
        select(
            Person.id,
            Person.public_id,
            Person.name,
            Person.name_native,
            Person.name_native_lang,
            Person.aliases,
            Person.gender,
            Person.birth_date,
            Person.birth_date_precision,
            Person.death_date,
            Person.death_date_precision,
            Person.nationality,
            Person.biography,
            Person.links,
        )
        .where(authz.person_visible(user))
        .order_by(Person.name, Person.id)
    )
    persons = []
    for row in rows:
        native, nationality = row.name_native, row.nationality
        other_names = (
            [
                _other_name(
                    native, NATIVE_SCRIPT_NOTE, _lang(native, row.name_native_lang, nationality)
                )
            ]
            if native
            else []
        )
        other_names += [
            _other_name(alias, ALIAS_NOTE, _lang(alias, None, nationality))
            for alias in row.aliases or []
        ]
        links = [link for link in row.links or [] if link.get("note") != IMAGE_NOTE]
        image = next(
            (link["url"] for link in row.links or [] if link.get("note") == IMAGE_NOTE), None
        )
        persons.append(
            _present(
                id=row.public_id,
                name=row.name,
                other_names=other_names,
                identifiers=identifiers.get(row.id, []),
                gender=row.gender,
                birth_date=_popolo_date(row.birth_date, row.birth_date_precision),
                death_date=_popolo_date(row.death_date, row.death_date_precision),
                national_identity=nationality,  # ISO 3166-1 alpha-2, as stored
                biography=row.biography,
                image=image,
                links=[_present(url=link.get("url"), note=link.get("note")) for link in links],
            )
        )
    return persons


def _organizations() -> list[dict[str, Any]]:
    # Organizations are not confidential: every one is exported, members or not.
    identifiers = _identifiers(OrganizationIdentifier, OrganizationIdentifier.organization_id)
    rows = db.session.execute(
        select(
            Organization.id,
            Organization.public_id,
            Organization.name,
            Organization.short_name,
            Organization.kind,
            Organization.dissolved_on,
            Organization.seats,
            Organization.links,
        ).order_by(Organization.name, Organization.id)
    )
    return [
        _present(
            id=public_id,
            name=name,
            other_names=[{"name": short, "note": ABBREVIATION_NOTE}] if short else [],
            identifiers=identifiers.get(row_id, []),
            classification=kind,
            dissolution_date=_popolo_date(dissolved, None),
            seats=seats,
            links=[_present(url=link.get("url"), note=link.get("note")) for link in links or []],
        )
        for row_id, public_id, name, short, kind, dissolved, seats, links in rows
    ]


def _memberships(user: User | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The visible people's memberships, and the areas they name."""
    legislature = aliased(Organization)
    rows = db.session.execute(
        select(
            Membership.public_id,
            Person.public_id,
            Organization.public_id,
            legislature.public_id,
            Membership.role,
            Membership.area,
            Membership.start_on,
            Membership.start_precision,
            Membership.end_on,
            Membership.end_precision,
        )
        .join(Person, Membership.person_id == Person.id)
        .join(Organization, Membership.organization_id == Organization.id)
        .outerjoin(legislature, Membership.legislature_id == legislature.id)
        .where(authz.person_visible(user))
        .order_by(Membership.id)
    )
    memberships: list[dict[str, Any]] = []
    areas: dict[str, dict[str, Any]] = {}
    for public_id, person_id, org_id, seat_in, role, area, start, sp, end, ep in rows:
        area_id = _area_id(area) if area else None
        if area_id:
            areas.setdefault(area_id, {"id": area_id, "name": area, "type": "constituency"})
        seat = seat_in is not None
        memberships.append(
            _present(
                id=public_id,
                person_id=person_id,
                organization_id=seat_in if seat else org_id,
                on_behalf_of_id=org_id if seat else None,
                role=POPOLO_SEAT_ROLE if seat and role == SEAT_ROLE else role,
                area_id=area_id,
                start_date=_popolo_date(start, sp),
                end_date=_popolo_date(end, ep),
            )
        )
    return memberships, sorted(areas.values(), key=lambda a: a["id"])


def _area_id(name: str) -> str:
    """``area/phnom_penh_province`` for ``Phnom Penh Province``, as EveryPolitician names them."""
    return AREA_PREFIX + "_".join(name.casefold().split())


def _popolo_date(start: dt.date | None, precision: str | None) -> str | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` at the known precision, as Popolo dates are."""
    date = PartialDate.of(start, precision)
    return date.iso() if date else None


def _present(**fields: Any) -> dict[str, Any]:
    # Unknown values are left out rather than written as null or [], which keeps a 100k-person
    # export compact and is what Popolo consumers expect.
    return {key: value for key, value in fields.items() if value not in (None, [], "")}
