"""Popolo JSON export (https://www.popoloproject.com) of people, organizations and memberships.

Only what the Popolo person, organization and membership schemas have a place for is exported:
cases, charges and custody status are not Popolo data, and leaving them out keeps the export
free of anything confidential beyond the fact that a visible person exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from monitor import authz
from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Membership, Organization, Person, User

NATIVE_SCRIPT_NOTE = "native script"
ALIAS_NOTE = "alias"
ABBREVIATION_NOTE = "abbreviation"


def popolo_export(user: User | None) -> dict[str, Any]:
    """People visible to the user, every organization, and the visible people's memberships.

    Three queries whatever the size of the register: a person whose every case is above the
    user's clearance is left out, and so are their memberships (they would reveal the person).
    """
    return {
        "persons": _persons(user),
        "organizations": _organizations(),
        "memberships": _memberships(user),
    }


def _persons(user: User | None) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(
            Person.public_id,
            Person.name,
            Person.name_native,
            Person.aliases,
            Person.gender,
            Person.birth_date,
            Person.birth_date_precision,
            Person.nationality,
            Person.biography,
        )
        .where(authz.person_visible(user))
        .order_by(Person.name, Person.id)
    )
    persons = []
    for public_id, name, native, aliases, gender, born, born_precision, nationality, bio in rows:
        other_names = [{"name": native, "note": NATIVE_SCRIPT_NOTE}] if native else []
        other_names += [{"name": alias, "note": ALIAS_NOTE} for alias in aliases or []]
        persons.append(
            _present(
                id=public_id,
                name=name,
                other_names=other_names,
                gender=gender,
                birth_date=_popolo_date(born, born_precision),
                national_identity=nationality,  # ISO 3166-1 alpha-2, as stored
                biography=bio,
            )
        )
    return persons


def _organizations() -> list[dict[str, Any]]:
    # Organizations are not confidential: every one is exported, members or not.
    rows = db.session.execute(
        select(
            Organization.public_id,
            Organization.name,
            Organization.short_name,
            Organization.kind,
            Organization.dissolved_on,
        ).order_by(Organization.name, Organization.id)
    )
    return [
        _present(
            id=public_id,
            name=name,
            other_names=[{"name": short, "note": ABBREVIATION_NOTE}] if short else [],
            classification=kind,
            dissolution_date=_popolo_date(dissolved, None),
        )
        for public_id, name, short, kind, dissolved in rows
    ]


def _memberships(user: User | None) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(
            Membership.public_id,
            Person.public_id,
            Organization.public_id,
            Membership.role,
            Membership.start_on,
            Membership.start_precision,
            Membership.end_on,
            Membership.end_precision,
        )
        .join(Person, Membership.person_id == Person.id)
        .join(Organization, Membership.organization_id == Organization.id)
        .where(authz.person_visible(user))
        .order_by(Membership.id)
    )
    return [
        _present(
            id=public_id,
            person_id=person_id,
            organization_id=organization_id,
            role=role,
            start_date=_popolo_date(start, start_precision),
            end_date=_popolo_date(end, end_precision),
        )
        for (
            public_id,
            person_id,
            organization_id,
            role,
            start,
            start_precision,
            end,
            end_precision,
        ) in rows
    ]


def _popolo_date(start: dt.date | None, precision: str | None) -> str | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` at the known precision, as Popolo dates are."""
    date = PartialDate.of(start, precision)
    return date.iso() if date else None


def _present(**fields: Any) -> dict[str, Any]:
    # Unknown values are left out rather than written as null or [], which keeps a 100k-person
    # export compact and is what Popolo consumers expect.
    return {key: value for key, value in fields.items() if value not in (None, [], "")}
