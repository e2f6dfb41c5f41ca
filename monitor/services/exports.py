"""Exports of the cases a user may see: the CSV the import takes back, and full JSON.

Both stream: they read cases in batches and yield text, so a large register is never held in
memory at once. Clearance is applied in the one query they read cases from.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Text, cast, func, select, true
from sqlalchemy.orm import aliased, selectinload

from monitor import authz
from monitor.domain import DatePrecision, Sentence
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
    CASE_COLUMNS,
    FORMULA_STARTS,
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


# The CSV reads plain columns, not ORM objects: per batch of cases, one query for each case with
# its person, first membership, current event and that event's first source (each picked by a
# correlated subquery on its index), and one for the batch's charges. Cells leave the database
# nearly as written: Python formats only dates, aliases, organization labels and sentences, and
# neutralises only the columns free text can reach (a formula starts with = + - @, a tab or a
# carriage return).
CSV_BATCH = 2_000
_first_membership = aliased(Membership)
_current_event = aliased(StatusEvent)


def _first_membership_id() -> Any:
    other = aliased(Membership)
    return select(func.min(other.id)).where(other.person_id == Case.person_id).scalar_subquery()


def _current_event_id() -> Any:
    """The event the current status comes from: the latest by occurred-on, then recording."""
    other = aliased(StatusEvent)
    return (
        select(other.id)
        .where(other.case_id == Case.id)
        .order_by(other.occurred_on.desc(), other.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _first_source_id() -> Any:
    return (
        select(func.min(event_sources.c.source_id))
        .where(event_sources.c.status_event_id == _current_event.id)
        .scalar_subquery()
    )


# The row read for each case: the CSV's columns (csv_format.CASE_COLUMNS) in order, then what
# only the formatting needs. A new column is one entry here (and in CASE_COLUMNS); free text
# that may start a formula gets its position in _NEUTRALISED.
_CSV_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("external_id", func.coalesce(func.nullif(Case.external_id, ""), Case.public_id)),
    ("name", Person.name),
    ("name_native", Person.name_native),
    ("aliases", cast(Person.aliases, Text)),  # JSON text: parsed only when not empty
    ("gender", Person.gender),
    ("nationality", Person.nationality),
    ("organization", _first_membership.organization_id),  # an id, labelled in Python
    ("role", _first_membership.role),
    ("country", Case.country),
    ("title", Case.title),
    ("confidentiality", Case.confidentiality),
    ("status", Case.status),
    ("status_date", Case.status_since),  # with its precision, below
    ("status_location", _current_event.location),
    ("status_certainty", _current_event.certainty),
    ("status_description", _current_event.description),
    ("status_source", Source.title),
    ("status_source_url", Source.url),
    ("identifiers", Person.id),  # the person's id, their identifiers joined in Python
    # The membership's organization again: its identifiers, joined in Python.
    ("organization_identifiers", _first_membership.organization_id),
)
assert tuple(name for name, _ in _CSV_COLUMNS) == CASE_COLUMNS  # noqa: S101 - import-time check
_AT = {name: position for position, (name, _) in enumerate(_CSV_COLUMNS)}
_NEUTRALISED = tuple(
    _AT[name]
    for name in (
        "external_id", "name", "name_native", "gender", "nationality", "role", "title",
        "status_location", "status_description", "status_source", "status_source_url",
    )
)  # fmt: skip
# What neutralise() prefixes: a formula's first character, or an apostrophe.
_NEUTRALISED_STARTS = frozenset((*FORMULA_STARTS, "'"))
_CASE_ID = len(_CSV_COLUMNS)  # then the case's id and the status date's precision


def _csv_query(user: User | None, organization: Organization | None) -> Select[Any]:
    cases = authz.visible_cases(user).where(_of(organization)).join(Case.person)
    if _laterals():
        cases, columns = _lateral_joins(cases)
    else:
        cases = (
            cases.outerjoin(_first_membership, _first_membership.id == _first_membership_id())
            .outerjoin(_current_event, _current_event.id == _current_event_id())
            .outerjoin(Source, Source.id == _first_source_id())
        )
        columns = [column for _, column in _CSV_COLUMNS]
    return (
        cases.with_only_columns(*columns, Case.id, Case.status_since_precision)
        .order_by(Case.id)
        .limit(CSV_BATCH)
    )


def _laterals() -> bool:
    """Whether the database joins LATERAL subqueries (PostgreSQL; SQLite does not)."""
    return db.session.get_bind().dialect.name == "postgresql"


def _lateral_joins(cases: Select[Any]) -> tuple[Select[Any], list[Any]]:
    """PostgreSQL: the first membership, current event and its first source as LATERAL joins,
    each one ordered probe of its index (``… ORDER BY … LIMIT 1``), where the correlated
    subqueries probe an index for the id and then the primary key (about 15% of the query at a
    million cases). The same rows as the subqueries pick: the lowest membership id, the latest
    event by occurred-on then id, the lowest source id."""
    membership = (
        select(Membership.organization_id, Membership.role)
        .where(Membership.person_id == Case.person_id)
        .order_by(Membership.id)
        .limit(1)
        .lateral("first_membership")
    )
    event = (
        select(StatusEvent.id, StatusEvent.location, StatusEvent.certainty, StatusEvent.description)
        .where(StatusEvent.case_id == Case.id)
        .order_by(StatusEvent.occurred_on.desc(), StatusEvent.id.desc())
        .limit(1)
        .lateral("current_event")
    )
    source = (
        select(Source.title, Source.url)
        .join(event_sources, event_sources.c.source_id == Source.id)
        .where(event_sources.c.status_event_id == event.c.id)
        .order_by(event_sources.c.source_id)
        .limit(1)
        .lateral("first_source")
    )
    instead = {
        "organization": membership.c.organization_id,
        "organization_identifiers": membership.c.organization_id,
        "role": membership.c.role,
        "status_location": event.c.location,
        "status_certainty": event.c.certainty,
        "status_description": event.c.description,
        "status_source": source.c.title,
        "status_source_url": source.c.url,
    }
    joined = cases.outerjoin(membership, true()).outerjoin(event, true()).outerjoin(source, true())
    return joined, [instead.get(name, column) for name, column in _CSV_COLUMNS]


# One batch as read: the cases' rows, their charges' rows and their people's identifiers' rows.
_Batch = tuple[Sequence[Sequence[Any]], Sequence[Sequence[Any]], Sequence[Sequence[Any]]]
_Execute = Callable[..., Sequence[Sequence[Any]]]


def _read_batches(
    query: Select[Any], conditions: Sequence[ColumnElement[bool]], execute: _Execute
) -> Iterator[_Batch]:
    """Visible cases as :data:`_CSV_COLUMNS` rows (``query``, see :func:`_csv_query`), in id
    order, ``CSV_BATCH`` at a time (keyset: each batch is a short query from an index, no cursor
    held open), each with the rows of its charges and identifiers. These are read by joining the
    batch's id range again with ``conditions`` (clearance, organization) rather than by a list
    of 2,000 ids. Only builds and runs statements: safe in another thread."""
    last = 0
    while batch := execute(query.where(Case.id > last)):
        ids = (last, batch[-1][_CASE_ID])
        yield (
            batch,
            execute(_charge_query(ids, conditions)),
            execute(_identifier_query(ids, conditions)),
        )
        last = batch[-1][_CASE_ID]


def _unconditional(conditions: Sequence[ColumnElement[bool]]) -> bool:
    """Whether ``conditions`` are all ``true()``: the user sees every case, of every
    organization."""
    return all(condition is true() for condition in conditions)


def _csv_batches(user: User | None, organization: Organization | None) -> Iterator[_Batch]:
    """:func:`_read_batches` for the user. On PostgreSQL a thread reads one batch ahead on a
    connection of its own, so the database reads the next batch while this one is formatted
    (at a million cases each takes about half the time). SQLite: in turn, on the session's
    connection. The statements are built here, where the session is (clearance, dialect)."""
    query = _csv_query(user, organization)
    conditions = [authz.case_visible(user), _of(organization)]
    if db.session.get_bind().dialect.name != "postgresql":
        yield from _read_batches(query, conditions, column_rows)
        return
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()
    engine = db.engine

    def offer(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            with engine.connect() as connection:

                def execute(statement: Select[Any]) -> Sequence[Sequence[Any]]:
                    return _driver_rows(connection, statement)

                for batch in _read_batches(query, conditions, execute):
                    if not offer(("batch", batch)):
                        return
        except Exception as exc:  # handed to the reader, who raises it
            offer(("error", exc))
            return
        offer(("end", None))

    thread = threading.Thread(target=read, name="export-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()  # the export ended or its client went away: the thread stops too
        thread.join()


# As column_rows reads: rows by position, no re-keying of the result to the statement's columns.
_ROWS = {"_result_disable_adapt_to_context": True}


def _driver_rows(connection: Connection, statement: Select[Any]) -> Sequence[Sequence[Any]]:
    """The statement's rows as the driver's tuples, when SQLAlchemy would not change a value
    (no column type has a result processor: true of every column the export reads on
    psycopg); otherwise through SQLAlchemy. A batch's rows then cost the driver's conversion
    alone, without a ``Row`` per row (a third of the read's time in Python at a million
    cases)."""
    dialect = connection.dialect
    if any(
        column.type.dialect_impl(dialect).result_processor(dialect, None) is not None
        for column in statement.selected_columns
    ):
        return connection.execute(statement, execution_options=_ROWS).all()
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _charge_query(
    ids: tuple[int, int], conditions: Sequence[ColumnElement[bool]]
) -> Select[*tuple[Any, ...]]:
    """The charges of a batch's cases (case ids after ``ids[0]`` up to ``ids[1]`` meeting the
    clearance and organization ``conditions``), in case order.

    When the conditions are all true (an export of everything by someone who sees everything)
    the charges' case index is read as a range, with no probe of the cases per case."""
    charges = select(
        Charge.case_id,
        Charge.offence,
        Charge.legal_basis,
        Charge.max_sentence_kind,
        Charge.max_sentence_months,
        Charge.stage,
    ).order_by(Charge.case_id, Charge.id)
    after, upto = ids
    if _unconditional(conditions):
        return charges.where(Charge.case_id > after, Charge.case_id <= upto)
    return charges.join(Case, Case.id == Charge.case_id).where(
        Case.id > after, Case.id <= upto, *conditions
    )


def _charge_cells(rows: Sequence[Sequence[Any]], groups: int) -> dict[int, list[str | None]]:
    """The charge columns of a batch's cases (``groups`` charges each at most), by case id."""
    sentences: dict[tuple[Any, Any], str] = {}  # a few distinct sentences, formatted once each
    cells: dict[int, list[str | None]] = {}
    width = 4 * groups
    for case_id, offence, legal_basis, kind, months, stage in rows:
        found = cells.setdefault(case_id, [])
        if len(found) >= width:
            continue
        sentence = sentences.get((kind, months))
        if sentence is None:
            parsed = Sentence.of(kind, months)
            sentence = sentences[kind, months] = format_sentence(parsed) if parsed else ""
        found += (_text(offence), _text(legal_basis), sentence, stage)
    return cells


def _identifier_query(
    ids: tuple[int, int], conditions: Sequence[ColumnElement[bool]]
) -> Select[*tuple[Any, ...]]:
    """The identifiers of a batch's people (as :func:`_charge_query`), in person order."""
    after, upto = ids
    return (
        select(PersonIdentifier.person_id, PersonIdentifier.scheme, PersonIdentifier.identifier)
        .join(Case, Case.person_id == PersonIdentifier.person_id)
        .where(Case.id > after, Case.id <= upto, *conditions)
        .order_by(PersonIdentifier.person_id, PersonIdentifier.scheme, PersonIdentifier.identifier)
    )


def _identifier_cells(rows: Sequence[Sequence[Any]]) -> dict[int, str]:
    """The identifiers cell of a batch's people (``scheme:identifier`` pairs), by person id."""
    pairs: dict[int, dict[str, None]] = {}
    for person_id, scheme, identifier in rows:
        # A person with two cases in the batch is read twice: each pair once.
        pairs.setdefault(person_id, {})[f"{scheme}:{identifier}"] = None
    return {
        person_id: neutralise(f"{ALIAS_SEPARATOR} ".join(found))
        for person_id, found in pairs.items()
    }


def _text(cell: str | None) -> str | None:
    """A free-text cell neutralised (as :func:`neutralise`), read fast: most need nothing."""
    return "'" + cell if cell and cell[0] in _NEUTRALISED_STARTS else cell


def _csv_batch(
    read: _Batch, groups: int, organizations: tuple[dict[int, str], dict[int, str]]
) -> list[list[Any]]:
    """The CSV rows of one batch of cases as read (:func:`_read_batches`), in the columns of
    :data:`_CSV_COLUMNS` and the charge groups. Empty cells stay ``None`` (csv.writer writes
    nothing for them)."""
    batch, charge_rows, identifier_rows = read
    charges = _charge_cells(charge_rows, groups)
    identifiers = _identifier_cells(identifier_rows)
    empty = [None] * (4 * groups)
    aliases_at, organization_at, date_at = _AT["aliases"], _AT["organization"], _AT["status_date"]
    identifiers_at = _AT["identifiers"]
    org_identifiers_at = _AT["organization_identifiers"]
    labels, org_identifiers = organizations  # each organization's label and identifiers cell
    out = []
    for row in batch:
        cells: list[Any] = list(row[:_CASE_ID])
        for at in _NEUTRALISED:
            cell = cells[at]
            if cell and cell[0] in _NEUTRALISED_STARTS:
                cells[at] = "'" + cell
        aliases = cells[aliases_at]
        # An empty list is "[]" (most people); anything longer is parsed.
        if aliases and len(aliases) > 2:
            joined = f"{ALIAS_SEPARATOR} ".join(json.loads(aliases) or [])
            cells[aliases_at] = neutralise(joined)
        else:
            cells[aliases_at] = None
        organization = cells[organization_at]
        if organization is not None:
            cells[organization_at] = neutralise(labels[organization])
        cells[identifiers_at] = identifiers.get(cells[identifiers_at])
        cells[org_identifiers_at] = org_identifiers.get(cells[org_identifiers_at])
        since = cells[date_at]
        if since is not None:
            cells[date_at] = _iso(since, row[_CASE_ID + 1])
        found = charges.get(row[_CASE_ID])
        if found is None:
            cells += empty
        else:
            cells += found
            cells += empty[len(found) :]
        out.append(cells)
    return out


def _iso(start: dt.date, precision: str | None) -> str:
    """A status date as the import reads it (``PartialDate.iso``): ``2017``, ``2017-09`` or a
    full date."""
    if precision == _DAY or precision is None:  # most dates: one comparison of plain strings
        return start.isoformat()
    if precision == _YEAR:
        return f"{start.year:04d}"
    if precision == _MONTH:
        return f"{start.year:04d}-{start.month:02d}"
    return start.isoformat()


_DAY, _MONTH, _YEAR = (
    str(p.value) for p in (DatePrecision.DAY, DatePrecision.MONTH, DatePrecision.YEAR)
)


def _most_charges(user: User | None, organization: Organization | None) -> int:
    """The most charges a visible case has (the CSV's charge column groups).

    Counted from the charges' case index alone (``count(*)``: an index-only scan) and, when the
    user sees every case and no organization is chosen, without joining the cases: at a million
    cases 0.45 s instead of 1.6 s."""
    per_case = select(func.count().label("n")).select_from(Charge).group_by(Charge.case_id)
    if organization is not None or not authz.cleared_for_every_level(authz.visible_levels(user)):
        per_case = per_case.join(Case, Charge.case_id == Case.id).where(
            authz.case_visible(user), _of(organization)
        )
    counts = per_case.subquery()
    return int(db.session.scalar(select(func.max(counts.c.n))) or 0)


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
    organizations = list(
        db.session.scalars(select(Organization).options(selectinload(Organization.identifiers)))
    )
    names = OrganizationNames(organizations)
    labels = {org.id: names.label(org) for org in organizations}
    org_identifiers = {
        org.id: neutralise(
            f"{ALIAS_SEPARATOR} ".join(
                sorted(f"{i.scheme}:{i.identifier}" for i in org.identifiers)
            )
        )
        for org in organizations
        if org.identifiers
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(groups))
    yield "\ufeff" + buffer.getvalue()
    for read in _csv_batches(user, organization):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_csv_batch(read, groups, (labels, org_identifiers)))
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
