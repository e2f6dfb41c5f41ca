"""Checking a file against the register: every problem by row and column, or the plan.

:func:`check` reads the file (:mod:`.reading`), checks each row's cells against the vocabulary,
the importer's clearance and the organizations the register knows, then matches the rows to
existing cases (by external id, else by the register's own id) and their people (by identifier,
else by name through :mod:`.matching`: matched, probable — decided before applying — or new)
and works out what each would change there (:mod:`.changes`). It writes nothing, so a preview,
a dry run and the check a confirmation repeats under the register lock are the same function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from monitor import authz
from monitor.config import Settings
from monitor.domain import Certainty, Confidentiality, CustodyStatus, LegalStage, PartialDate
from monitor.extensions import db
from monitor.models import Case, Organization, Person, PersonIdentifier, User
from monitor.presentation.translation import current_language, using_language
from monitor.presentation.translation import gettext as _
from monitor.services import ValidationError
from monitor.services.csv_format import (
    ALIAS_SEPARATOR,
    CHARGE_COLUMN,
    CHARGE_FIELDS,
    CLEAR,
    PERSON_COLUMNS,
    OrganizationNames,
    parse_choice,
    parse_country,
    parse_gender,
    parse_sentence,
    unneutralise,
)
from monitor.services.imports.changes import (
    describe_changes,
    describe_person_changes,
    person_input,
)
from monitor.services.imports.matching import (
    MATCHED,
    PROBABLE,
    Incoming,
    match_people,
    reason_text,
)
from monitor.services.imports.reading import (
    FileTooLarge,
    check_header,
    clean,
    date_problem,
    read_records,
)
from monitor.services.imports.report import ChargeRow, Problem, Report, Row, worded
from monitor.services.people import (
    PersonInput,
    check_aliases,
    check_person_identifiers,
    parse_identifiers,
)
from monitor.services.validation import (
    E,
    optional_text,
    required_text,
    web_url,
)


def check(
    data: bytes,
    user: User | None,
    settings: Settings,
    *,
    first: int | None = None,
    language: str | None = None,
) -> Report:
    """Check a whole file against the register without writing anything.

    ``settings``: the size and row limits. ``first``: check only that many data rows (a preview
    of a file checked whole before). ``language``: the importer's (default: the one in force),
    whose labels the cells may use (``détenu``) and in which the problems are worded.
    """
    with using_language(language or current_language()):
        return _check(data, user, settings, first)


def _check(data: bytes, user: User | None, settings: Settings, first: int | None) -> Report:
    if len(data) > settings.import_max_bytes:
        raise FileTooLarge(settings.import_max_bytes)
    try:
        file = read_records(data, settings.import_max_rows)
    except ValidationError as exc:
        return Report([], [Problem(0, "", exc.errors["file"])])
    header, records = file.header, file.rows
    problems = check_header(file.header_row, header)
    if problems:
        return Report([], problems)
    ctx = _Context.load(user)
    rows: list[Row] = []
    first_line: dict[str, int] = {}
    try:
        for checked, (line, cells) in enumerate(records):
            if first is not None and checked >= first:
                break
            values = _cells(line, header, cells, problems)
            row, row_problems = _check_row(line, values, ctx)
            problems.extend(row_problems)
            external_id = values.get("external_id", "")
            if external_id in first_line:
                problems.append(
                    Problem(
                        line,
                        "external_id",
                        _(
                            "%(value)s is also on row %(row)s",
                            value=repr(external_id),
                            row=first_line[external_id],
                        ),
                    )
                )
            elif external_id:
                first_line[external_id] = line
            if row is not None:
                rows.append(row)
    except ValidationError as exc:
        return Report([], [Problem(0, "", exc.errors["file"])])
    if not rows and not problems:
        problems.append(Problem(0, "", _("The file has a header row but no data rows.")))
    _match_cases(rows, ctx, problems)
    problems.sort(key=lambda p: (p.row, p.column))
    return Report(rows, problems, _match_warnings(rows) if not problems else [])


@dataclass
class _Context:
    """What checking rows looks up once: the importer, organizations, existing cases."""

    user: User | None  # None: the command line, which sees everything
    levels: list[str]
    organizations: OrganizationNames
    # Who holds each organization identifier (organizations are few, and all visible).
    organization_ids: dict[tuple[str, str], Organization] = field(default_factory=dict)
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    @classmethod
    def load(cls, user: User | None) -> _Context:
        every = list(
            db.session.scalars(select(Organization).options(selectinload(Organization.identifiers)))
        )
        organizations = OrganizationNames(every)
        levels = authz.visible_levels(user) if user else [c.value for c in Confidentiality]
        held = {(i.scheme, i.identifier): org for org in every for i in org.identifiers}
        return cls(user, levels, organizations, held)


def _cells(
    line: int, header: list[str], cells: list[str], problems: list[Problem]
) -> dict[str, str]:
    if len(cells) > len(header) and any(clean(cell) for cell in cells[len(header) :]):
        problems.append(
            Problem(
                line,
                "",
                _(
                    "has %(cells)s cells but the header row has %(columns)s",
                    cells=len(cells),
                    columns=len(header),
                ),
            )
        )
    values: dict[str, str] = {}
    for position, (name, raw) in enumerate(zip(header, cells, strict=False), start=1):
        if not name:
            if clean(raw):
                problems.append(
                    Problem(
                        line,
                        "",
                        _(
                            "has a value in column %(position)s, which has no name in the "
                            "header row",
                            position=position,
                        ),
                    )
                )
            continue
        text, safe = unneutralise(clean(raw))
        if not safe:
            problems.append(
                Problem(
                    line,
                    name,
                    _(
                        "starts with %(start)s and would run as a spreadsheet formula; remove "
                        "it, or start the cell with an apostrophe",
                        start=repr(text[0]),
                    ),
                )
            )
        values[name] = text
    for name in filter(None, header[len(cells) :]):
        values[name] = ""
    return values


def _choice(enum: type[E], values: dict[str, str], column: str, errors: dict[str, str]) -> E | None:
    """The vocabulary member the cell names by code or label (the cell then holds the code), or
    an error that repeats what the cell says and lists the allowed values."""
    try:
        chosen = parse_choice(enum, values[column])
    except ValueError as exc:
        errors[column] = str(exc)
        return None
    values[column] = chosen.value
    return chosen


def _country(values: dict[str, str], column: str, errors: dict[str, str]) -> str | None:
    """The ISO code of the country the cell names by code or name (the cell then holds the
    code); ``None`` for an empty cell or an error."""
    if not (values.get(column) or "").strip():
        return None
    try:
        values[column] = parse_country(values[column])
    except ValueError as exc:
        errors[column] = str(exc)
        return None
    return values[column]


def _check_row(  # noqa: PLR0912 - one check per column, in the template's order
    line: int, values: dict[str, str], ctx: _Context
) -> tuple[Row | None, list[Problem]]:
    errors: dict[str, str] = {}
    records_case = bool(values.get("status") or values.get("status_date"))
    for column in ("external_id", "name", "country", "title"):
        if values.get(column) == CLEAR:
            errors[column] = _("cannot be cleared (leave it empty to keep it)")
    if records_case:
        external_id = required_text(values.get("external_id"), errors, "external_id", 100)
    else:
        external_id = optional_text(values.get("external_id"), errors, "external_id", 100) or ""
    required_text(values.get("name"), errors, "name", 200)
    if values.get("aliases") != CLEAR:
        check_aliases(
            [a.strip() for a in (values.get("aliases") or "").split(ALIAS_SEPARATOR)], errors
        )
    optional_text(values.get("name_native"), errors, "name_native", 200)
    _gender(values, errors)
    _date(values, "birth_date", errors, ctx)
    _identifiers(values, errors)
    if values.get("nationality") != CLEAR:
        _country(values, "nationality", errors)
    if _country(values, "country", errors) is None and records_case:
        errors.setdefault("country", _("is required with a status"))
    optional_text(values.get("title"), errors, "title", 300)
    if values.get("confidentiality"):
        level = _choice(Confidentiality, values, "confidentiality", errors)
        if level is not None and level.value not in ctx.levels:
            errors["confidentiality"] = _("%(level)s is above your clearance", level=level.value)
    elif Confidentiality.PUBLIC.value not in ctx.levels and records_case:
        errors["confidentiality"] = _(
            "%(level)s is above your clearance", level=Confidentiality.PUBLIC.value
        )
    date = _check_status(values, errors, ctx) if records_case else None
    organization = _organization(values, errors, ctx)
    optional_text(values.get("role"), errors, "role", 120)
    optional_text(values.get("area"), errors, "area", 200)
    start = _date(values, "membership_start", errors, ctx)
    end = _date(values, "membership_end", errors, ctx)
    if start and end and end.start < start.start:
        errors["membership_end"] = _("must not be before membership_start")
    if organization is None and not errors.keys() & {"organization", "organization_identifiers"}:
        # As in the case form and the API (services.cases.open_case): a role belongs to one.
        for column in ("role", "membership_start", "membership_end", "area"):
            if (values.get(column) or "").strip():
                errors.setdefault(column, _("needs an organization"))
    charge_rows = _check_charges(values, errors)
    if charge_rows and not records_case:
        errors.setdefault("status", _("is required with charges (charges belong to a case)"))
    problems = [Problem(line, column, worded(message)) for column, message in errors.items()]
    if problems:
        return None, problems
    assert date is not None or not records_case  # noqa: S101 - errors raised above
    row = Row(line, external_id, values, date, organization, charge_rows)
    return row, []


def organization_pairs(values: dict[str, str]) -> list[tuple[str, str]]:
    """The identifiers the ``organization_identifiers`` cell lists (checked before)."""
    text = values.get("organization_identifiers") or ""
    return [] if text in ("", CLEAR) else parse_identifiers(text.split(ALIAS_SEPARATOR))


def _organization(
    values: dict[str, str], errors: dict[str, str], ctx: _Context
) -> Organization | None:
    """The row's organization: the one holding an identifier of ``organization_identifiers``,
    else the one the ``organization`` cell names; a cell naming another one, or an identifier
    of a scheme the organization holds otherwise, is an error."""
    try:
        return _find_organization(values, ctx)
    except _Refused as exc:
        errors[exc.column] = exc.message
        return None


class _Refused(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


def _find_organization(values: dict[str, str], ctx: _Context) -> Organization | None:
    column = "organization_identifiers"
    if values.get(column) == CLEAR:
        raise _Refused(column, _("cannot be cleared here (edit the organization)"))
    try:
        pairs = organization_pairs(values)
    except ValueError as exc:
        raise _Refused(column, str(exc)) from None
    holders = {ctx.organization_ids[p] for p in pairs if p in ctx.organization_ids}
    if len(holders) > 1:
        raise _Refused(column, _("names more than one organization of the register"))
    found = next(iter(holders), None)
    named = None
    if values.get("organization"):
        try:
            named = ctx.organizations.find(values["organization"])
        except LookupError as exc:
            if found is None:
                raise _Refused("organization", str(exc)) from None
    if found is not None and named is not None and named is not found:
        raise _Refused(
            column,
            _(
                "names %(found)s (%(id)s), not %(named)s",
                found=found.name,
                id=found.public_id,
                named=named.name,
            ),
        )
    organization = found or named
    if organization is None and pairs:
        raise _Refused(
            column,
            _(
                "no organization of the register holds these identifiers: name it in the "
                "organization column (add it first if it is new)"
            ),
        )
    held = {i.scheme: i.identifier for i in organization.identifiers} if organization else {}
    for scheme, identifier in pairs:
        if held.get(scheme, identifier) != identifier:
            name = organization.name if organization else ""
            pair = f"{scheme}:{held[scheme]}"
            raise _Refused(
                column,
                _(
                    "%(name)s holds %(held)s, not %(identifier)s",
                    name=name,
                    held=pair,
                    identifier=identifier,
                ),
            )
    return organization


def _gender(values: dict[str, str], errors: dict[str, str]) -> None:
    """The gender cell as its code (female, male, other; F, M and the like accepted)."""
    text = values.get("gender") or ""
    if text and text != CLEAR:
        try:
            values["gender"] = parse_gender(text).value
        except ValueError as exc:
            errors["gender"] = str(exc)


def _date(
    values: dict[str, str], column: str, errors: dict[str, str], ctx: _Context
) -> PartialDate | None:
    """A partial date cell (``-`` and empty: none), not in the future."""
    text = values.get(column) or ""
    if not text or text == CLEAR:
        return None
    try:
        date = PartialDate.parse(text)
    except ValueError as exc:
        errors[column] = f"{text!r}: {date_problem(exc)}"
        return None
    if date.start > ctx.today:
        errors[column] = _("%(value)s is in the future", value=text)
        return None
    return date


def _identifiers(values: dict[str, str], errors: dict[str, str]) -> list[tuple[str, str]]:
    """The identifiers a cell lists (``scheme:identifier`` separated by ``;``)."""
    text = values.get("identifiers") or ""
    if not text or text == CLEAR:
        return []
    try:
        return parse_identifiers(text.split(ALIAS_SEPARATOR))
    except ValueError as exc:
        errors["identifiers"] = str(exc)
        return []


def _check_status(
    values: dict[str, str], errors: dict[str, str], ctx: _Context
) -> PartialDate | None:
    """Check the status columns; the status date when it is valid."""
    status = values.get("status", "")
    if not status:
        errors["status"] = _("is required")
    else:
        _choice(CustodyStatus, values, "status", errors)
    date: PartialDate | None = None
    raw_date = values.get("status_date", "")
    if not raw_date:
        errors["status_date"] = _("is required")
    else:
        try:
            date = PartialDate.parse(raw_date)
        except ValueError as exc:
            errors["status_date"] = f"{raw_date!r}: {date_problem(exc)}"
        else:
            if date.start > ctx.today:
                errors["status_date"] = _("%(value)s is in the future", value=raw_date)
    if values.get("status_certainty"):
        _choice(Certainty, values, "status_certainty", errors)
    optional_text(values.get("status_location"), errors, "status_location", 300)
    optional_text(
        values.get("status_description"), errors, "status_description", 20000, multiline=True
    )
    optional_text(values.get("status_source"), errors, "status_source", 300)
    url = web_url(values.get("status_source_url"), errors, "status_source_url")
    if url and not values.get("status_source"):
        errors["status_source"] = _("is required when status_source_url is given")
    return date


def _check_charges(values: dict[str, str], errors: dict[str, str]) -> list[ChargeRow]:
    groups: dict[int, dict[str, str]] = {}
    for column, value in values.items():
        match = CHARGE_COLUMN.match(column)
        if match:
            groups.setdefault(int(match[1]), {})[match[2]] = value
    result = []
    for number in sorted(groups):
        group = groups[number]
        prefix = f"charge_{number}_"
        if not any(group.get(f) for f in CHARGE_FIELDS):
            continue
        offence = required_text(group.get("offence"), errors, prefix + "offence", 300)
        basis_cell = group.get("legal_basis")
        legal_basis = optional_text(
            None if basis_cell == CLEAR else basis_cell, errors, prefix + "legal_basis", 300
        )
        sentence = None
        if group.get("max_sentence"):  # empty: kept; "-": unknown
            cleared = group["max_sentence"] == CLEAR
            try:
                sentence = parse_sentence("unknown" if cleared else group["max_sentence"])
            except ValueError as exc:
                errors[prefix + "max_sentence"] = str(exc)
        stage = None
        if group.get("stage"):
            chosen = _choice(LegalStage, values, prefix + "stage", errors)
            stage = chosen.value if chosen else None
        # An empty legal basis keeps the charge's; "-" clears it.
        result.append(ChargeRow(offence, legal_basis, bool(basis_cell), sentence, stage))
    return result


def _match_people(rows: list[Row], registered: dict[int, Person | None], ctx: _Context) -> None:
    """Match by name (:func:`~monitor.services.imports.matching.match_people`) each row whose
    person neither its external id nor an identifier found: a matched row is that person's
    (``registered``); a probable one waits for the importer's decision; else someone new."""
    incoming = [
        Incoming(_match_key(row), person_input(row, None), _row_pairs(row))
        for row in rows
        if row.case is None and registered[row.line] is None
    ]
    if not incoming:
        return
    matches = match_people(ctx.user or "command line", incoming)
    for row in rows:
        if row.case is not None or registered[row.line] is not None:
            continue
        match = matches[_match_key(row)]
        row.match = match
        if match.status == MATCHED:
            registered[row.line] = match.person
        elif match.status == PROBABLE:
            row.duplicates = list(match.candidates)


def _match_key(row: Row) -> str:
    """What the importer's decisions call a row: ``row 5`` (by its line, as every message
    names rows; an external id would make a dry run of a hidden case's id differ from one of
    an unused id, see applying.first_taken_row)."""
    return f"row {row.line}"


def _match_warnings(rows: list[Row]) -> list[Problem]:
    """A note for each row matched by name to someone registered (their case goes to them, no
    new person is added) and each probable match (to confirm or keep apart before applying)."""
    warnings = []
    for row in rows:
        match = row.match
        if match is None:
            continue
        if match.status == MATCHED and match.person is not None:
            warnings.append(
                Problem(
                    row.line,
                    "name",
                    _(
                        "%(name)s is already in the register as person %(id)s (%(registered)s: "
                        "%(reason)s); the row goes to them, no new person is added",
                        name=row.get("name"),
                        id=match.person.public_id,
                        registered=match.person.name,
                        reason=reason_text(match.reason),
                    ),
                )
            )
        elif match.status == PROBABLE:
            found = "; ".join(
                _(
                    "person %(id)s (%(name)s: %(reasons)s)",
                    id=d.public_id,
                    name=d.name,
                    reasons=reason_text(", ".join(d.reasons)),
                )
                for d in row.duplicates
            )
            warnings.append(
                Problem(
                    row.line,
                    "name",
                    _(
                        "%(name)s is probably someone already in the register: %(found)s; "
                        "confirm who, or keep them apart as someone new, before importing",
                        name=row.get("name"),
                        found=found,
                    ),
                )
            )
    return warnings


def _match_cases(rows: list[Row], ctx: _Context, problems: list[Problem]) -> None:
    """Attach each row's existing case the importer may see (by external id, else by the
    register's own id)."""
    ids = [row.external_id for row in rows]
    found: dict[str, Case] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = (
            select(Case)
            .where(Case.external_id.in_(chunk) | (Case.public_id.in_(chunk)))
            .options(
                selectinload(Case.person).selectinload(Person.memberships),
                selectinload(Case.charges),
                selectinload(Case.events),
            )
            # Fresh from the database even if the session holds the case (see jobs.lock_register).
            .execution_options(populate_existing=True)
        )
        for case in db.session.scalars(query):
            if case.confidentiality not in ctx.levels:
                # A case above the importer's clearance is not there for them: the row reads
                # exactly as one with an unused id would, so the preview reveals nothing, and
                # applying refuses the row without saying why (applying.first_taken_row).
                continue
            if case.external_id in chunk:
                found[case.external_id] = case
            elif case.public_id in chunk and case.external_id is None:
                found.setdefault(case.public_id, case)
    by_identifier = _people_by_identifier(rows, ctx)
    registered_by_row: dict[int, Person | None] = {}
    for row in rows:
        match = found.get(row.external_id) if row.external_id else None
        registered: Person | None
        if row.records_case and match is not None:
            row.case = match
            row.changes = describe_changes(row, match)
            registered = match.person
        else:
            # A row without a status updates the person of its case, else the person one of
            # its identifiers names, else the person matching finds by name, else adds a
            # person; it never opens a case.
            registered = match.person if match is not None else _by_identifiers(row, by_identifier)
        registered_by_row[row.line] = registered
    _match_people(rows, registered_by_row, ctx)
    people: dict[int, tuple[Row, PersonInput]] = {}
    for row in rows:
        registered = registered_by_row[row.line]
        if row.case is None and registered is not None:
            row.person = registered  # a person row's person, or a new case for someone registered
            row.changes = describe_person_changes(row, registered)
        _check_identifiers(row, registered, ctx, problems)
        if registered is None:
            continue
        person = person_input(row, registered)
        earlier = people.setdefault(registered.id, (row, person))
        if earlier[0] is not row and earlier[1] != person:
            # Both rows would write the one person, and every import would undo the other.
            column = next(
                (
                    c
                    for c in PERSON_COLUMNS
                    if (row.get(c) or "") != (earlier[0].get(c) or "")
                    or getattr(person, c) != getattr(earlier[1], c)
                ),
                "name",
            )
            problems.append(
                Problem(
                    row.line,
                    column,
                    _(
                        "is the same person as row %(row)s (%(name)s), whose %(column)s "
                        "differs; make the two rows agree",
                        row=earlier[0].line,
                        name=registered.name,
                        column=column,
                    ),
                )
            )


def _people_by_identifier(rows: list[Row], ctx: _Context) -> dict[tuple[str, str], Person]:
    """The people the importer may see who hold an identifier the rows name."""
    pairs = sorted({pair for row in rows for pair in _row_pairs(row)})
    found: dict[tuple[str, str], Person] = {}
    for start in range(0, len(pairs), 200):
        chunk = pairs[start : start + 200]
        wanted = or_(
            *(
                and_(PersonIdentifier.scheme == s, PersonIdentifier.identifier == i)
                for s, i in chunk
            )
        )
        query = (
            select(PersonIdentifier)
            .join(Person, Person.id == PersonIdentifier.person_id)
            .where(wanted)
            .options(selectinload(PersonIdentifier.person).selectinload(Person.memberships))
        )
        if ctx.user is not None:
            query = query.where(authz.person_visible(ctx.user))
        for held in db.session.scalars(query):
            found[(held.scheme, held.identifier)] = held.person
    return found


def _row_pairs(row: Row) -> list[tuple[str, str]]:
    text = row.get("identifiers") or ""
    if not text or text == CLEAR:
        return []
    return parse_identifiers(text.split(ALIAS_SEPARATOR))


def _by_identifiers(row: Row, by_identifier: dict[tuple[str, str], Person]) -> Person | None:
    return next((by_identifier[p] for p in _row_pairs(row) if p in by_identifier), None)


def _check_identifiers(
    row: Row, person: Person | None, ctx: _Context, problems: list[Problem]
) -> None:
    """A row's identifier held by someone else is a problem (naming them only when the
    importer may see them)."""
    pairs = _row_pairs(row)
    if not pairs:
        return
    errors: dict[str, str] = {}
    check_person_identifiers(ctx.user or "command line", person, pairs, errors)
    if errors:
        problems.append(Problem(row.line, "identifiers", worded(errors["identifiers"])))
