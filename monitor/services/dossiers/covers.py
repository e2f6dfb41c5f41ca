"""What a dossier covers, as links back: its case and person, its organization, or the case
list's selection — each only when the reader may open it now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from monitor import authz
from monitor.extensions import db
from monitor.models import Case, Dossier, Organization, Person, User
from monitor.presentation.translation import gettext


@dataclass(frozen=True)
class Covered:
    """One thing a dossier is about: ``kind`` is ``case``, ``person``, ``organization`` or
    ``selection``; ``key`` its public id (the filters, for a selection)."""

    kind: str
    key: str
    label: str
    filters: tuple[tuple[str, str], ...] = ()


def covers(user: User, dossiers: Sequence[Dossier]) -> dict[str, list[Covered]]:
    """For each dossier (by public id): what it covers that ``user`` may open.

    A case above the reader's clearance today (made confidential since, or a lowered clearance)
    is left out, and so is its person unless visible through another case: no link, no name.
    """
    case_ids = {d.scope.get("case_id") for d in dossiers} - {None}
    org_ids = {d.scope.get("organization_id") for d in dossiers} - {None}
    cases: dict[str, Case] = {}
    if case_ids:
        visible = db.session.scalars(
            authz.visible_cases(user).where(Case.public_id.in_(sorted(case_ids)))
        ).unique()
        cases = {case.public_id: case for case in visible}
    person_ids = {case.person_id for case in cases.values()}
    people: dict[int, Person] = {}
    if person_ids:
        people = {
            person.id: person
            for person in db.session.scalars(
                select(Person).where(Person.id.in_(person_ids), authz.person_visible(user))
            )
        }
    organizations: dict[str, Organization] = {}
    if org_ids:
        organizations = {
            org.public_id: org
            for org in db.session.scalars(
                select(Organization).where(Organization.public_id.in_(sorted(org_ids)))
            )
        }
    result: dict[str, list[Covered]] = {}
    for dossier in dossiers:
        found: list[Covered] = []
        case = cases.get(dossier.scope.get("case_id") or "")
        if case is not None:
            label = gettext("%(name)s's case", name=case.person.name)
            found.append(Covered("case", case.public_id, label))
            person = people.get(case.person_id)
            if person is not None:
                found.append(Covered("person", person.public_id, person.name))
        org = organizations.get(dossier.scope.get("organization_id") or "")
        if org is not None:
            found.append(Covered("organization", org.public_id, org.label))
        filters = dossier.scope.get("filters")
        if isinstance(filters, dict):
            pairs = tuple(sorted((str(k), str(v)) for k, v in filters.items()))
            found.append(Covered("selection", "", gettext("the case list, as selected"), pairs))
        result[dossier.public_id] = found
    return result
