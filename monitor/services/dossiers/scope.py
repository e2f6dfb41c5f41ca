"""Which cases a dossier holds, loaded at its audience level in a fixed number of queries.

The audience decides what is included: the query keeps only cases at the audience's levels
(and, as a second check, within the requester's clearance today), so a confidential case never
reaches a public or restricted dossier — not in the case sections, the counts, the group table
or the source list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from monitor import authz
from monitor.domain import Confidentiality, CustodyStatus, OrganizationKind
from monitor.extensions import db
from monitor.models import Case, Charge, Membership, Organization, Person, StatusEvent, User
from monitor.pdf.content import DossierContent, SummaryRow
from monitor.presentation import country_name
from monitor.services import queries
from monitor.services.dossiers.sections import (
    SourceNumbers,
    case_section,
    longest_exposure,
    status_counts,
    summary_row,
)


class ContentError(Exception):
    """The dossier's scope cannot be shown any more (gone, or above the audience)."""


def _details(person: _AbstractLoad) -> list[_AbstractLoad]:
    """Eager loads for a case's whole section, given how its person is loaded."""
    return [
        person.selectinload(Person.memberships).joinedload(Membership.organization),
        selectinload(Case.charges).selectinload(Charge.sources),
        selectinload(Case.events).selectinload(StatusEvent.sources),
        selectinload(Case.sources),
    ]


def _at(levels: list[str], requester: User) -> Any:
    return (Case.confidentiality.in_(levels), authz.case_visible(requester))


def _capped(query: Select[Case], max_cases: int) -> list[Case]:
    cases = list(db.session.scalars(query.limit(max_cases + 1)).unique())
    if len(cases) > max_cases:
        raise ContentError(f"more than {max_cases} cases: narrow the selection")
    return cases


def filter_description(filters: queries.CaseFilter) -> str:
    """The case list's filters in words, for the cover."""
    parts = []
    if filters.status:
        parts.append(f"custody status {CustodyStatus(filters.status).label}")
    if filters.country:
        parts.append(f"country {country_name(filters.country)}")
    if filters.organization:
        org = db.session.scalars(
            select(Organization).where(Organization.public_id == filters.organization)
        ).first()
        parts.append(f"member of {org.label if org else 'an organization no longer registered'}")
    if filters.confidentiality:
        parts.append(f"confidentiality {filters.confidentiality}")
    if filters.offence:
        parts.append(f"charged with an offence containing “{filters.offence}”")
    if filters.q:
        parts.append(f"name matching “{filters.q}”")
    return "; ".join(parts) if parts else "every case"


def _content(
    *,
    kind: str,
    title: str,
    scope: str,
    audience: Confidentiality,
    issued_by: str,
    cases: list[Case],
    rows: list[SummaryRow],
    facts: list[tuple[str, str]],
) -> DossierContent:
    numbers = SourceNumbers()
    sections = tuple(case_section(case, numbers) for case in cases)
    return DossierContent(
        kind=kind,
        title=title,
        scope=scope,
        audience=audience.value,
        issued_by=issued_by,
        facts=tuple(facts),
        counts=status_counts(cases),
        exposure=longest_exposure(cases),
        rows=tuple(rows),
        cases=sections,
        sources=numbers.sources(),
    )


def load_case(
    requester: User, case_id: str, audience: Confidentiality, issued_by: str
) -> DossierContent:
    """A one-case dossier."""
    levels = authz.audience_levels(requester, audience)
    case = db.session.scalars(
        select(Case)
        .where(Case.public_id == case_id, *_at(levels, requester))
        .options(*_details(joinedload(Case.person)))
    ).first()
    if case is None:
        raise ContentError("the case no longer exists or is above this dossier's audience")
    person = case.person
    title = f"{person.name} — case dossier"
    facts = [("Country", country_name(case.country)), ("Case", case.title)]
    row = summary_row(case, person.name, person.name_native, None)
    return _content(
        kind="case",
        title=title,
        scope=f"One case: {case.title}",
        audience=audience,
        issued_by=issued_by,
        cases=[case],
        rows=[row],
        facts=facts,
    )


def load_organization(
    requester: User,
    organization_id: str,
    audience: Confidentiality,
    issued_by: str,
    max_cases: int,
) -> DossierContent:
    """An organization dossier: every member the audience may know of, and their cases."""
    levels = authz.audience_levels(requester, audience)
    org = db.session.scalars(
        select(Organization).where(Organization.public_id == organization_id)
    ).first()
    if org is None:
        raise ContentError("the organization no longer exists")
    members = list(
        db.session.scalars(
            select(Membership)
            .join(Person, Membership.person_id == Person.id)
            .where(
                Membership.organization_id == org.id,
                authz.person_visible_at(levels),
                authz.person_visible(requester),
            )
            .options(contains_eager(Membership.person))
            .order_by(func.lower(Person.name), Person.id, Membership.id)
        )
    )
    person_ids = list(dict.fromkeys(m.person_id for m in members))
    cases = (
        _capped(
            select(Case)
            .join(Person, Case.person_id == Person.id)
            .where(Case.person_id.in_(person_ids), *_at(levels, requester))
            .options(*_details(contains_eager(Case.person)))
            .order_by(func.lower(Person.name), Person.id, Case.id),
            max_cases,
        )
        if person_ids
        else []
    )
    by_person: dict[int, list[Case | None]] = {}
    for case in cases:
        by_person.setdefault(case.person_id, []).append(case)
    rows = [
        summary_row(case, m.person.name, m.person.name_native, m.role)
        for m in members
        for case in (by_person.get(m.person_id) or [None])
    ]
    facts = [("Kind", OrganizationKind(org.kind).label)]
    if org.country:
        facts.append(("Country", country_name(org.country)))
    if org.seats is not None:
        facts.append(("Seats or members", str(org.seats)))
    if org.dissolved_on:
        facts.append(("Dissolved", org.dissolved_on.isoformat()))
    facts.append(("Members in this dossier", str(len(person_ids))))
    name = f"{org.name} ({org.short_name})" if org.short_name else org.name
    return _content(
        kind="organization",
        title=f"{org.label} — organization dossier",
        scope=f"Organization: {name}, every member and their cases",
        audience=audience,
        issued_by=issued_by,
        cases=cases,
        rows=rows,
        facts=facts,
    )


def load_selection(
    requester: User,
    filters: Mapping[str, Any],
    audience: Confidentiality,
    issued_by: str,
    max_cases: int,
) -> DossierContent:
    """A dossier of the case list's filtered cases (all pages, in the list's order)."""
    levels = authz.audience_levels(requester, audience)
    chosen = queries.CaseFilter.from_args(filters)
    cases = _capped(
        queries.filtered_cases(requester, chosen)
        .where(Case.confidentiality.in_(levels))
        .options(*_details(contains_eager(Case.person)))
        .order_by(*queries.SORTS[chosen.sort]),
        max_cases,
    )
    rows = [summary_row(c, c.person.name, c.person.name_native, None) for c in cases]
    described = filter_description(chosen)
    return _content(
        kind="selection",
        title=f"Selection of {len(cases)} case{'s' if len(cases) != 1 else ''} — dossier",
        scope=f"Cases of the case list: {described}",
        audience=audience,
        issued_by=issued_by,
        cases=cases,
        rows=rows,
        facts=[("Filters", described), ("Cases", str(len(cases)))],
    )


def count_selection(requester: User, filters: queries.CaseFilter, levels: list[str]) -> int:
    """How many cases a selection dossier would hold (checked when it is requested)."""
    query = queries.filtered_cases(requester, filters).where(Case.confidentiality.in_(levels))
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
