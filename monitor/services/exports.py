"""Exports of the cases a user may see: the CSV the import takes back, and full JSON.

Both stream: they read cases in batches and yield text, so a large register is never held in
memory at once. Clearance is applied in the one query they read cases from.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import selectinload

from monitor import authz
from monitor.domain import PartialDate, Sentence
from monitor.extensions import db
from monitor.models import (
    Case,
    Charge,
    Membership,
    Organization,
    Person,
    PersonIdentifier,
    Source,
    StatusEvent,
    User,
)
from monitor.models.base import utcnow
from monitor.models.cases import event_sources
from monitor.services import column_rows
from monitor.services.csv_format import (
    ALIAS_SEPARATOR,
    OrganizationNames,
    format_sentence,
    header,
    neutralise,
    template_header,
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


# The CSV reads plain columns, not ORM objects: a batch of cases with their people, then the
# batch's memberships, events, current events' sources and charges, one query each.
CSV_BATCH = 2_000
_CASE_COLUMNS = (
    Case.id,
    Case.external_id,
    Case.public_id,
    Case.person_id,
    Person.name,
    Person.name_native,
    Person.aliases,
    Person.gender,
    Person.nationality,
    Case.country,
    Case.title,
    Case.confidentiality,
    Case.status,
    Case.status_since,
    Case.status_since_precision,
)


def _case_rows(
    user: User | None, organization: Organization | None
) -> Iterator[Sequence[Sequence[Any]]]:
    """Visible cases with their people as column rows, in id order, ``CSV_BATCH`` at a time
    (keyset: each batch is a short query from an index, no cursor held open)."""
    query = (
        authz.visible_cases(user)
        .where(_of(organization))
        .join(Case.person)
        .with_only_columns(*_CASE_COLUMNS)
        .order_by(Case.id)
        .limit(CSV_BATCH)
    )
    last = 0
    while batch := column_rows(query.where(Case.id > last)):
        yield batch
        last = batch[-1][0]


def _by_key(rows: Iterable[Sequence[Any]]) -> dict[Any, list[Sequence[Any]]]:
    """Rows grouped by their first column, in the order they came."""
    grouped: dict[Any, list[Sequence[Any]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return grouped


def _csv_batch(
    batch: Sequence[Sequence[Any]],
    groups: int,
    labels: dict[int, str],
    within: Sequence[ColumnElement[bool]],
) -> Iterator[list[str]]:
    """The CSV rows of one batch of cases (as :data:`_CASE_COLUMNS`); ``within`` selects the
    batch's cases again (their id range, with the clearance and organization conditions), so
    the batch's other rows are read by joining it rather than by a list of 2,000 ids."""
    memberships = _by_key(
        column_rows(
            select(Membership.person_id, Membership.organization_id, Membership.role)
            .join(Case, Case.person_id == Membership.person_id)
            .where(*within)
            .order_by(Membership.person_id, Membership.id)
        )
    )
    # The current event is the latest by occurred-on, then id (as the case's status is).
    events = {
        case_id: rows[-1]
        for case_id, rows in _by_key(
            column_rows(
                select(
                    StatusEvent.case_id,
                    StatusEvent.id,
                    StatusEvent.location,
                    StatusEvent.certainty,
                    StatusEvent.description,
                )
                .join(Case, Case.id == StatusEvent.case_id)
                .where(*within)
                .order_by(StatusEvent.case_id, StatusEvent.occurred_on, StatusEvent.id)
            )
        ).items()
    }
    sources = _by_key(
        column_rows(
            select(event_sources.c.status_event_id, Source.title, Source.url)
            .join(Source, Source.id == event_sources.c.source_id)
            .join(StatusEvent, StatusEvent.id == event_sources.c.status_event_id)
            .join(Case, Case.id == StatusEvent.case_id)
            .where(*within)
            .order_by(event_sources.c.status_event_id, Source.id)
        )
    )
    identifiers = _by_key(
        column_rows(
            select(PersonIdentifier.person_id, PersonIdentifier.scheme, PersonIdentifier.identifier)
            .join(Case, Case.person_id == PersonIdentifier.person_id)
            .where(*within)
            .order_by(
                PersonIdentifier.person_id, PersonIdentifier.scheme, PersonIdentifier.identifier
            )
        )
    )
    charges = _by_key(
        column_rows(
            select(
                Charge.case_id,
                Charge.offence,
                Charge.legal_basis,
                Charge.max_sentence_kind,
                Charge.max_sentence_months,
                Charge.stage,
            )
            .join(Case, Case.id == Charge.case_id)
            .where(*within)
            .order_by(Charge.case_id, Charge.id)
        )
    )
    width = len(header(groups))
    for (
        case_id, external_id, public_id, person_id, name, name_native, aliases, gender,
        nationality, country, title, confidentiality, status, since, since_precision,
    ) in batch:  # fmt: skip
        membership = memberships.get(person_id, [None])[0]
        event = events.get(case_id)
        source = sources.get(event[1], [None])[0] if event else None
        since_date = PartialDate.of(since, since_precision)
        row = [
            external_id or public_id,
            name,
            name_native or "",
            f"{ALIAS_SEPARATOR} ".join(aliases or []),
            gender or "",
            nationality or "",
            labels[membership[1]] if membership else "",
            membership[2] if membership else "",
            country,
            title,
            confidentiality,
            status,
            since_date.iso() if since_date else "",
            (event[2] or "") if event else "",
            event[3] if event else "",
            (event[4] or "") if event else "",
            source[1] if source else "",
            (source[2] or "") if source else "",
            # A person with two cases has their identifiers on both rows (once each).
            f"{ALIAS_SEPARATOR} ".join(
                dict.fromkeys(f"{i[1]}:{i[2]}" for i in identifiers.get(person_id, []))
            ),
        ]
        for charge in charges.get(case_id, [])[:groups]:
            sentence = Sentence.of(charge[3], charge[4])
            row += [
                charge[1],
                charge[2] or "",
                format_sentence(sentence) if sentence else "",
                charge[5],
            ]
        row += [""] * (width - len(row))
        yield [neutralise(cell) for cell in row]


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
    organization's members.

    Streamed a batch at a time: one piece of text per ``CSV_BATCH`` cases (a write per row
    would cost a system call per row), and nothing kept from one batch to the next.
    """
    groups = max(_most_charges(user, organization), 1)
    organizations = list(db.session.scalars(select(Organization)))
    names = OrganizationNames(organizations)
    labels = {org.id: names.label(org) for org in organizations}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(groups))
    yield "\ufeff" + buffer.getvalue()
    last = 0
    for batch in _case_rows(user, organization):
        within = [
            Case.id > last,
            Case.id <= batch[-1][0],
            authz.case_visible(user),
            _of(organization),
        ]
        last = batch[-1][0]
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_csv_batch(batch, groups, labels, within))
        yield buffer.getvalue()


def template_csv() -> str:
    """The import template: every column the import takes and one example row (the demo's
    Kem Sokha)."""
    example = {
        "external_id": "KH-0001",
        "name": "Kem Sokha",
        "name_native": "កឹម សុខា",
        "gender": "male",
        "nationality": "KH",
        "organization": "CNRP",
        "role": "acting party leader",
        "country": "KH",
        "title": "Kem Sokha: jailed on treason charges",
        "confidentiality": "public",
        "status": "jailed",
        "status_date": "2017-09",
        "status_certainty": "confirmed",
        "status_description": "Jailed on treason charges.",
        "status_source": "CNRP MPs flee ‘dictator’",
        "identifiers": "wikidata:Q3194965",
        "birth_date": "1953-06-27",
        "charge_1_offence": "Treason",
        "charge_1_max_sentence": "30 years",
        "charge_1_stage": "charged",
    }
    columns = template_header(2)
    return "\ufeff" + "".join(_lines([columns, [example.get(c, "") for c in columns]]))


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
