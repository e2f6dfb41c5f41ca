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
from monitor.domain import Confidentiality, PartialDate
from monitor.extensions import db
from monitor.models import Case, Charge, Membership, Organization, Person, StatusEvent, User
from monitor.pdf.content import DossierContent, SummaryRow
from monitor.presentation import country_name, date_text, status_label
from monitor.presentation.translation import format_number, gettext, ngettext
from monitor.presentation.wording import LEVEL_LABELS, ORGANIZATION_KIND_LABELS, vocabulary_text
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
        raise ContentError(
            gettext("more than %(max)s cases: narrow the selection", max=format_number(max_cases))
        )
    return cases


def filter_description(filters: queries.CaseFilter) -> str:
    """The case list's filters in words, for the cover."""
    parts = []
    if filters.status:
        label = status_label(filters.status)
        parts.append(gettext("custody status %(status)s", status=label))
    if filters.country:
        parts.append(gettext("country %(country)s", country=country_name(filters.country)))
    if filters.organization:
        org = db.session.scalars(
            select(Organization).where(Organization.public_id == filters.organization)
        ).first()
        named = org.label if org else gettext("an organization no longer registered")
        parts.append(gettext("member of %(organization)s", organization=named))
    if filters.confidentiality:
        level = vocabulary_text(LEVEL_LABELS, filters.confidentiality)
        parts.append(gettext("confidentiality %(level)s", level=level))
    if filters.offence:
        parts.append(gettext("charged with an offence containing “%(text)s”", text=filters.offence))
    if filters.q:
        parts.append(gettext("name matching “%(text)s”", text=filters.q))
    return "; ".join(parts) if parts else gettext("every case")


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
        raise ContentError(gettext("the case no longer exists or is above this dossier's audience"))
    person = case.person
    title = gettext("%(name)s — case dossier", name=person.name)
    facts = [(gettext("Country"), country_name(case.country)), (gettext("Case"), case.title)]
    row = summary_row(case, person.name, person.name_native, None)
    return _content(
        kind="case",
        title=title,
        scope=gettext("One case: %(title)s", title=case.title),
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
        raise ContentError(gettext("the organization no longer exists"))
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
    facts = [(gettext("Kind"), vocabulary_text(ORGANIZATION_KIND_LABELS, org.kind) or "")]
    if org.country:
        facts.append((gettext("Country"), country_name(org.country)))
    if org.seats is not None:
        facts.append((gettext("Seats or members"), format_number(org.seats)))
    if org.dissolved_on:
        facts.append(
            (gettext("Dissolved"), date_text(PartialDate.of(org.dissolved_on, "day")) or "")
        )
    facts.append((gettext("Members in this dossier"), format_number(len(person_ids))))
    name = f"{org.name} ({org.short_name})" if org.short_name else org.name
    return _content(
        kind="organization",
        title=gettext("%(name)s — organization dossier", name=org.label),
        scope=gettext("Organization: %(name)s, every member and their cases", name=name),
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
        title=ngettext(
            "Selection of %(num)s case — dossier",
            "Selection of %(num)s cases — dossier",
            len(cases),
        ),
        scope=gettext("Cases of the case list: %(filters)s", filters=described),
        audience=audience,
        issued_by=issued_by,
        cases=cases,
        rows=rows,
        facts=[(gettext("Filters"), described), (gettext("Cases"), format_number(len(cases)))],
    )


def count_selection(requester: User, filters: queries.CaseFilter, levels: list[str]) -> int:
    """How many cases a selection dossier would hold (checked when it is requested)."""
    query = queries.filtered_cases(requester, filters).where(Case.confidentiality.in_(levels))
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
