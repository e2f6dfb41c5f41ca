"""Exports of the cases a user may see: the CSV the import takes back, and full JSON.

Both stream: they read cases in batches and yield text, so a large register is never held in
memory at once. Clearance is applied in the one query they read cases from.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import selectinload

from monitor import authz
from monitor.extensions import db
from monitor.models import Case, Charge, Membership, Organization, Person, StatusEvent, User
from monitor.models.base import utcnow
from monitor.services.csv_format import (
    ALIAS_SEPARATOR,
    OrganizationNames,
    format_sentence,
    header,
    neutralise,
)

BATCH = 500


def _of(organization: Organization | None) -> Any:
    """Condition: the case's person is a member of the organization (or no condition)."""
    if organization is None:
        return true()
    return Case.person_id.in_(
        select(Membership.person_id).where(Membership.organization_id == organization.id)
    )


def _cases(user: User | None, organization: Organization | None, *, full: bool) -> Select[Case]:
    charges = selectinload(Case.charges)
    return (
        authz.visible_cases(user)
        .where(_of(organization))
        .options(
            selectinload(Case.person)
            .selectinload(Person.memberships)
            .selectinload(Membership.organization),
            # The CSV cites only the current event's source; JSON cites every charge's too.
            charges.selectinload(Charge.sources) if full else charges,
            selectinload(Case.events).selectinload(StatusEvent.sources),
            *([selectinload(Case.sources)] if full else []),
        )
        .order_by(Case.id)
    )


def _batches(
    user: User | None, organization: Organization | None, *, full: bool = False
) -> Iterator[list[Case]]:
    """Visible cases in id order, ``BATCH`` at a time (keyset paging, no long-open cursor)."""
    last = 0
    while True:
        query = _cases(user, organization, full=full).where(Case.id > last).limit(BATCH)
        batch = list(db.session.scalars(query))
        if not batch:
            return
        yield batch
        last = batch[-1].id
        # Nothing else holds the batch: the session's identity map is weak, so it is freed.


def current_event(case: Case) -> StatusEvent | None:
    """The event the current status comes from (the latest by occurred-on, then recording)."""
    return max(case.events, key=lambda e: (e.occurred_on, e.id), default=None)


def _csv_row(case: Case, charge_groups: int, names: OrganizationNames) -> list[str]:
    person = case.person
    membership = person.memberships[0] if person.memberships else None
    event = current_event(case)
    source = event.sources[0] if event and event.sources else None
    row = [
        case.external_id or case.public_id,
        person.name,
        person.name_native or "",
        f"{ALIAS_SEPARATOR} ".join(person.aliases),
        person.gender or "",
        person.nationality or "",
        names.label(membership.organization) if membership else "",
        membership.role if membership else "",
        case.country,
        case.title,
        case.confidentiality,
        case.status,
        case.since.iso() if case.since else "",
        (event.location or "") if event else "",
        event.certainty if event else "",
        (event.description or "") if event else "",
        source.title if source else "",
        (source.url or "") if source else "",
    ]
    for charge in case.charges[:charge_groups]:
        row += [
            charge.offence,
            charge.legal_basis or "",
            format_sentence(charge.max_sentence),
            charge.stage,
        ]
    row += [""] * (len(header(charge_groups)) - len(row))
    return [neutralise(cell) for cell in row]


def _most_charges(user: User | None, organization: Organization | None) -> int:
    per_case = (
        select(func.count(Charge.id).label("n"))
        .join(Case, Charge.case_id == Case.id)
        .where(authz.case_visible(user), _of(organization))
        .group_by(Charge.case_id)
        .subquery()
    )
    return int(db.session.scalar(select(func.max(per_case.c.n))) or 0)


def _lines(rows: Iterable[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def cases_csv(user: User | None, organization: Organization | None = None) -> Iterator[str]:
    """The cases CSV (UTF-8 with a BOM, so spreadsheets pick the encoding), optionally of one
    organization's members."""
    groups = max(_most_charges(user, organization), 1)
    names = OrganizationNames(db.session.scalars(select(Organization)))
    yield "\ufeff"

    def rows() -> Iterator[list[str]]:
        yield header(groups)
        for batch in _batches(user, organization):
            for case in batch:
                yield _csv_row(case, groups, names)

    yield from _lines(rows())


def template_csv() -> str:
    """The import template: the header and one example row (the demo's Kem Sokha)."""
    example = [
        "KH-0001",
        "Kem Sokha",
        "កឹម សុខា",
        "",
        "",
        "KH",
        "CNRP",
        "acting party leader",
        "KH",
        "Kem Sokha: jailed on treason charges",
        "public",
        "jailed",
        "2017-09",
        "",
        "confirmed",
        "Jailed on treason charges.",
        "CNRP MPs flee ‘dictator’",
        "",
        "Treason",
        "",
        "30 years",
        "charged",
        "",
        "",
        "",
        "",
    ]
    return "\ufeff" + "".join(_lines([header(2), example]))


def _date(value: Any) -> str | None:
    return value.iso() if value is not None else None


def _case_json(case: Case) -> dict[str, Any]:
    person = case.person

    def source(s: Any) -> dict[str, Any]:
        return {
            "id": s.public_id,
            "title": s.title,
            "publisher": s.publisher,
            "url": s.url,
            "published": _date(s.published),
        }

    return {
        "id": case.public_id,
        "external_id": case.external_id,
        "country": case.country,
        "title": case.title,
        "summary": case.summary,
        "confidentiality": case.confidentiality,
        "status": case.status,
        "status_since": _date(case.since),
        "max_exposure": case.max_exposure.as_dict() if case.max_exposure else None,
        "tags": case.tags,
        "opened_on": case.opened_on.isoformat() if case.opened_on else None,
        "closed_on": case.closed_on.isoformat() if case.closed_on else None,
        "sources": [source(s) for s in case.sources],
        "person": {
            "id": person.public_id,
            "name": person.name,
            "name_native": person.name_native,
            "aliases": person.aliases,
            "gender": person.gender,
            "birth_date": _date(person.birth),
            "nationality": person.nationality,
            "occupation": person.occupation,
            "biography": person.biography,
            "memberships": [
                {
                    "organization": m.organization.public_id,
                    "role": m.role,
                    "start": _date(m.start),
                    "end": _date(m.end),
                }
                for m in person.memberships
            ],
        },
        "charges": [
            {
                "id": c.public_id,
                "offence": c.offence,
                "legal_basis": c.legal_basis,
                "max_sentence": c.max_sentence.as_dict(),
                "stage": c.stage,
                "filed": _date(c.filed),
                "sentence_imposed": c.sentence_imposed.as_dict() if c.sentence_imposed else None,
                "sentenced_on": c.sentenced_on.isoformat() if c.sentenced_on else None,
                "in_absentia": c.in_absentia,
                "sources": [source(s) for s in c.sources],
            }
            for c in case.charges
        ],
        "status_events": [
            {
                "id": e.public_id,
                "status": e.status,
                "previous_status": e.previous_status,
                "occurred": e.occurred.iso(),
                "about": e.occurred_about,
                "location": e.location,
                "description": e.description,
                "certainty": e.certainty,
                "recorded_at": e.recorded_at.isoformat(),
                "sources": [source(s) for s in e.sources],
            }
            for e in sorted(case.events, key=lambda e: (e.occurred_on, e.id))
        ],
    }


def cases_json(user: User | None) -> Iterator[str]:
    """Everything the user may see about cases, as one JSON document, streamed."""
    organizations = [
        {
            "id": o.public_id,
            "name": o.name,
            "short_name": o.short_name,
            "kind": o.kind,
            "country": o.country,
            "seats": o.seats,
        }
        for o in db.session.scalars(select(Organization).order_by(Organization.id))
    ]
    head = {"generated_at": utcnow().isoformat(), "organizations": organizations}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "cases": ['
    first = True
    for batch in _batches(user, None, full=True):
        for case in batch:
            yield ("" if first else ",\n") + json.dumps(_case_json(case), ensure_ascii=False)
            first = False
    yield "]}\n"
