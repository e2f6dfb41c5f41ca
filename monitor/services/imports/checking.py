"""CSV imports: check a whole file, report every problem by row and column, then apply it whole.

:func:`check` reads a file and the register without writing anything and returns either the
problems (row, column, message) or a plan: for each row, a new case, the changes to an existing
one, or nothing. :func:`apply` writes a checked plan through the same services a form uses (so
every change is audited and a status change alerts subscribers exactly as a manual one does);
the caller commits once, so an import goes in whole or not at all. :func:`stage` and
:func:`confirm` keep the file as an :class:`~monitor.models.Import` row between the preview and
the confirmation, and hand large files to a worker.

The file format is described in :mod:`monitor.services.csv_format`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.orm import selectinload

from monitor import authz, jobs
from monitor.domain import (
    Certainty,
    Confidentiality,
    CustodyStatus,
    LegalStage,
    PartialDate,
    Sentence,
    SentenceKind,
)
from monitor.extensions import db
from monitor.models import Case, Charge, Import, Organization, Person, Source, User
from monitor.models.base import utcnow
from monitor.models.imports import ImportState
from monitor.services import Actor, ValidationError, audit, charges, sources
from monitor.services.cases import CaseInput, StatusInput, create_case, record_status, update_case
from monitor.services.csv_format import (
    ALIAS_SEPARATOR,
    CASE_COLUMNS,
    CHARGE_COLUMN,
    CHARGE_FIELDS,
    PERSON_COLUMNS,
    REQUIRED_COLUMNS,
    OrganizationNames,
    parse_sentence,
    unneutralise,
)
from monitor.services.people import (
    PersonInput,
    add_membership,
    check_aliases,
    create_person,
    update_person,
)
from monitor.services.validation import (
    E,
    member,
    normalise_country,
    optional_text,
    required_text,
    web_url,
)

APPLY_TASK = "monitor.imports.apply"
MAX_REPORTED_PROBLEMS = 1000
IMPORT_LOCK_KEY = 0x63_6D_69_6D  # PostgreSQL advisory lock key, "cmim"


class FileTooLarge(Exception):
    """The upload is over ``MONITOR_IMPORT_MAX_BYTES`` (the web and API answer 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit:,} bytes")
        self.limit = limit


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: its row (the header is row 1), column and what is wrong."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The shape stored on the import and returned by the API."""
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ChargeRow:
    """One charge group of a row."""

    offence: str
    legal_basis: str | None
    has_legal_basis: bool  # False: the file has no legal basis column for this charge
    max_sentence: Sentence | None  # None: the column is not in the file
    stage: str | None


@dataclass
class Row:
    """A checked row: values of the columns the file has (absent columns are ``None``)."""

    line: int
    external_id: str
    values: dict[str, str]
    status_date: PartialDate
    organization: Organization | None
    charges: list[ChargeRow]
    case: Case | None = None  # the existing case it updates
    changes: list[str] = field(default_factory=list)

    def get(self, column: str) -> str | None:
        """The stripped cell, or ``None`` when the file has no such column."""
        return self.values.get(column)

    @property
    def action(self) -> str:
        """``create``, ``update`` or ``unchanged``."""
        if self.case is None:
            return "create"
        return "update" if self.changes else "unchanged"


@dataclass
class Report:
    """What checking a file found."""

    rows: list[Row]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """Whether the file can be applied."""
        return not self.problems

    def summary(self) -> dict[str, int]:
        """Counts of rows by action."""
        counts = {"rows": len(self.rows), "create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts


# -- reading the file -------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {
                "file": f"is not UTF-8 (byte 0x{data[exc.start]:02X} at position {exc.start}): "
                "save it as “CSV UTF-8” and upload it again"
            }
        ) from None


@dataclass
class _File:
    """A decoded CSV file: its header row and number, and its rows numbered as a spreadsheet
    numbers them (a record whose cell holds line breaks is one row)."""

    header_row: int
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]


def _records(data: bytes, max_rows: int) -> _File:
    """The header and the data rows with their row numbers; file-level problems raise."""
    if not data.strip():
        raise ValidationError({"file": "is empty"})
    text = _decode(data)
    if "\x00" in text:
        raise ValidationError({"file": "is not a text CSV file (it contains NUL bytes)"})
    reader = enumerate(csv.reader(io.StringIO(text, newline=""), strict=True), start=1)
    try:
        header_row, header = next((n, cells) for n, cells in reader if any(map(_clean, cells)))
    except (StopIteration, csv.Error):
        raise ValidationError({"file": "has no header row"}) from None

    def records() -> Iterator[tuple[int, list[str]]]:
        """The rows that are not blank."""
        count, number = 0, header_row
        try:
            for number, cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                count += 1
                if count > max_rows:
                    raise ValidationError(
                        {
                            "file": f"has more than {max_rows:,} rows; at most {max_rows:,} are "
                            "accepted at once"
                        }
                    )
                yield number, cells
        except csv.Error as exc:
            raise ValidationError({"file": f"is not valid CSV after row {number}: {exc}"}) from None

    return _File(header_row, [_clean(h).lower() for h in header], records())


def _clean(cell: str) -> str:
    """The cell without surrounding blanks or byte-order marks (files pasted together keep them)."""
    return cell.replace("\ufeff", "").strip()


def _check_header(row: int, header: list[str]) -> list[Problem]:
    """Unknown, repeated and missing columns; a column without a name is ignored (spreadsheets
    save empty columns after the last one), unless a row has a value in it (see :func:`_cells`)."""
    problems = []
    seen: set[str] = set()
    for name in filter(None, header):
        if name in seen:
            problems.append(Problem(row, name, "appears twice in the header row"))
        seen.add(name)
        if name not in CASE_COLUMNS and not CHARGE_COLUMN.match(name):
            problems.append(
                Problem(row, name, "is not a column this import knows (see the template)")
            )
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(Problem(row, name, "is missing from the header row"))
    return problems


# -- checking rows ----------------------------------------------------------------------------


@dataclass
class _Context:
    """What checking rows looks up once: the importer, organizations, existing cases."""

    user: User | None  # None: the command line, which sees everything
    levels: list[str]
    organizations: OrganizationNames
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    @classmethod
    def load(cls, user: User | None) -> _Context:
        organizations = OrganizationNames(db.session.scalars(select(Organization)))
        levels = authz.visible_levels(user) if user else [c.value for c in Confidentiality]
        return cls(user, levels, organizations)


def _cells(
    line: int, header: list[str], cells: list[str], problems: list[Problem]
) -> dict[str, str]:
    if len(cells) > len(header) and any(_clean(cell) for cell in cells[len(header) :]):
        problems.append(
            Problem(line, "", f"has {len(cells)} cells but the header row has {len(header)}")
        )
    values: dict[str, str] = {}
    for position, (name, raw) in enumerate(zip(header, cells, strict=False), start=1):
        if not name:
            if _clean(raw):
                problems.append(
                    Problem(
                        line,
                        "",
                        f"has a value in column {position}, which has no name in the header row",
                    )
                )
            continue
        text, safe = unneutralise(_clean(raw))
        if not safe:
            problems.append(
                Problem(
                    line,
                    name,
                    f"starts with {text[0]!r} and would run as a spreadsheet formula; remove it, "
                    "or start the cell with an apostrophe",
                )
            )
        values[name] = text
    for name in filter(None, header[len(cells) :]):
        values[name] = ""
    return values


def _choice(enum: type[E], value: str, errors: dict[str, str], column: str) -> E | None:
    """The vocabulary member, or an error that repeats what the cell says."""
    chosen = member(enum, value, errors, column)
    if chosen is None:
        errors[column] = f"{value!r}: {errors[column]}"
    return chosen


def _check_row(
    line: int, values: dict[str, str], ctx: _Context
) -> tuple[Row | None, list[Problem]]:
    errors: dict[str, str] = {}
    external_id = required_text(values.get("external_id"), errors, "external_id", 100)
    required_text(values.get("name"), errors, "name", 200)
    check_aliases([a.strip() for a in (values.get("aliases") or "").split(ALIAS_SEPARATOR)], errors)
    optional_text(values.get("name_native"), errors, "name_native", 200)
    optional_text(values.get("gender"), errors, "gender", 40)
    normalise_country(values.get("nationality"), errors, "nationality")
    if normalise_country(values.get("country"), errors, "country") is None:
        errors.setdefault("country", "is required")
    optional_text(values.get("title"), errors, "title", 300)
    level = values.get("confidentiality") or Confidentiality.PUBLIC.value
    if _choice(Confidentiality, level, errors, "confidentiality") and level not in ctx.levels:
        errors["confidentiality"] = f"{level} is above your clearance"
    date = _check_status(values, errors, ctx)
    organization = None
    if values.get("organization"):
        try:
            organization = ctx.organizations.find(values["organization"])
        except LookupError as exc:
            errors["organization"] = str(exc)
    optional_text(values.get("role"), errors, "role", 120)
    charge_rows = _check_charges(values, errors)
    problems = [Problem(line, column, message) for column, message in errors.items()]
    if problems:
        return None, problems
    assert date is not None  # noqa: S101 - errors raised above
    row = Row(line, external_id, values, date, organization, charge_rows)
    return row, []


def _check_status(
    values: dict[str, str], errors: dict[str, str], ctx: _Context
) -> PartialDate | None:
    """Check the status columns; the status date when it is valid."""
    status = values.get("status", "")
    if not status:
        errors["status"] = "is required"
    else:
        _choice(CustodyStatus, status, errors, "status")
    date: PartialDate | None = None
    raw_date = values.get("status_date", "")
    if not raw_date:
        errors["status_date"] = "is required"
    else:
        try:
            date = PartialDate.parse(raw_date)
        except ValueError as exc:
            errors["status_date"] = f"{raw_date!r}: {exc}"
        else:
            if date.start > ctx.today:
                errors["status_date"] = f"{raw_date} is in the future"
    if values.get("status_certainty"):
        _choice(Certainty, values["status_certainty"], errors, "status_certainty")
    optional_text(values.get("status_location"), errors, "status_location", 300)
    optional_text(values.get("status_description"), errors, "status_description", 20000)
    optional_text(values.get("status_source"), errors, "status_source", 300)
    url = web_url(values.get("status_source_url"), errors, "status_source_url")
    if url and not values.get("status_source"):
        errors["status_source"] = "is required when status_source_url is given"
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
        legal_basis = optional_text(group.get("legal_basis"), errors, prefix + "legal_basis", 300)
        sentence = None
        if "max_sentence" in group:
            try:
                sentence = parse_sentence(group["max_sentence"])
            except ValueError as exc:
                errors[prefix + "max_sentence"] = str(exc)
        stage = group.get("stage") or None
        if stage is not None:
            _choice(LegalStage, stage, errors, prefix + "stage")
        result.append(ChargeRow(offence, legal_basis, "legal_basis" in group, sentence, stage))
    return result


def _match_cases(rows: list[Row], ctx: _Context, problems: list[Problem]) -> None:
    """Attach each row's existing case (by external id, else by the register's own id)."""
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
            # Fresh from the database even if the session holds the case (see lock_register).
            .execution_options(populate_existing=True)
        )
        for case in db.session.scalars(query):
            if case.external_id in chunk:
                found[case.external_id] = case
            elif case.public_id in chunk and case.external_id is None:
                found.setdefault(case.public_id, case)
    people: dict[int, tuple[Row, PersonInput]] = {}
    for row in rows:
        match = found.get(row.external_id)
        if match is None:
            continue
        if match.confidentiality not in ctx.levels:
            # Said the same way whatever the case is, so the error reveals nothing about it.
            problems.append(Problem(row.line, "external_id", "is already used by another case"))
            continue
        row.case = match
        row.changes = _changes(row, match)
        person = _person_input(row, match.person)
        earlier = people.setdefault(match.person_id, (row, person))
        if earlier[0] is not row and earlier[1] != person:
            # Both rows would write the one person, and every import would undo the other.
            column = next(
                (c for c in PERSON_COLUMNS if getattr(person, c) != getattr(earlier[1], c)),
                "name",
            )
            problems.append(
                Problem(
                    row.line,
                    column,
                    f"is the same person as row {earlier[0].line} ({match.person.name}), "
                    f"whose {column} differs; make the two rows agree",
                )
            )


# -- what a row changes -----------------------------------------------------------------------


def _person_input(row: Row, person: Person | None) -> PersonInput:
    def pick(column: str, current: str | None) -> str | None:
        value = row.get(column)
        return current if value is None else (value or None)

    aliases_cell = row.get("aliases")
    aliases = (
        (person.aliases if person else [])
        if aliases_cell is None
        else [a.strip() for a in aliases_cell.split(ALIAS_SEPARATOR) if a.strip()]
    )
    nationality = pick("nationality", person.nationality if person else None)
    return PersonInput(
        name=row.get("name") or "",
        name_native=pick("name_native", person.name_native if person else None),
        aliases=aliases,
        gender=pick("gender", person.gender if person else None),
        birth_date=person.birth if person else None,
        nationality=nationality.upper() if nationality else None,
        occupation=person.occupation if person else None,
        biography=person.biography if person else None,
    )


def _case_input(row: Row, case: Case | None) -> CaseInput:
    title = row.get("title")
    confidentiality = row.get("confidentiality")
    return CaseInput(
        country=(row.get("country") or "").upper(),
        title=title or (case.title if case and title is None else row.get("name") or ""),
        # An empty cell never lowers an existing case's level: only a level written out does.
        confidentiality=confidentiality or (case.confidentiality if case else "public"),
        summary=case.summary if case else None,
        tags=list(case.tags) if case else [],
        opened_on=case.opened_on if case else None,
        closed_on=case.closed_on if case else None,
    )


def _person_changed(person: Person, data: PersonInput) -> bool:
    return (
        person.name,
        person.name_native,
        list(person.aliases),
        person.gender,
        person.nationality,
    ) != (data.name, data.name_native, data.aliases, data.gender, data.nationality)


def _case_changed(case: Case, data: CaseInput) -> bool:
    return (case.country, case.title, case.confidentiality) != (
        data.country,
        data.title.strip(),
        data.confidentiality,
    )


def _has_event(case: Case, row: Row) -> bool:
    return any(
        e.status == row.get("status")
        and e.occurred_on == row.status_date.start
        and e.occurred_precision == row.status_date.precision.value
        for e in case.events
    )


def _has_membership(person: Person, row: Row) -> bool:
    role = row.get("role") or "member"
    org = row.organization
    return org is None or any(
        m.organization_id == org.id and m.role == role for m in person.memberships
    )


def _existing_charges(case: Case, row: Row) -> list[tuple[ChargeRow, Charge | None]]:
    """Each of the row's charges with the case's charge it updates (``None``: a new charge).

    Charges match by offence, each existing charge once and in the order they were added, so
    a case charged twice with the same offence (two counts) exports as two groups and imports
    back onto the same two charges.
    """
    unmatched = list(case.charges)
    pairs: list[tuple[ChargeRow, Charge | None]] = []
    for charge in row.charges:
        wanted = charge.offence.casefold()
        existing = next((c for c in unmatched if c.offence.casefold() == wanted), None)
        if existing is not None:
            unmatched.remove(existing)
        pairs.append((charge, existing))
    return pairs


def _charge_input(charge: ChargeRow, existing: Charge | None) -> charges.ChargeInput:
    stage = charge.stage or (existing.stage if existing else LegalStage.CHARGED.value)
    keep_imposed = existing is not None and stage == LegalStage.CONVICTED.value
    legal_basis = charge.legal_basis
    if not charge.has_legal_basis and existing is not None:
        legal_basis = existing.legal_basis  # a file without the column leaves it alone
    return charges.ChargeInput(
        offence=charge.offence,
        legal_basis=legal_basis,
        max_sentence=charge.max_sentence
        or (existing.max_sentence if existing else Sentence(SentenceKind.UNKNOWN)),
        stage=stage,
        filed_on=existing.filed if existing else None,
        sentence_imposed=existing.sentence_imposed if keep_imposed and existing else None,
        sentenced_on=existing.sentenced_on if keep_imposed and existing else None,
        in_absentia=existing.in_absentia if existing else False,
        sources=list(existing.sources) if existing else [],
    )


def _charge_changed(existing: Charge, data: charges.ChargeInput) -> bool:
    return (existing.legal_basis, existing.max_sentence, existing.stage) != (
        data.legal_basis,
        data.max_sentence,
        data.stage,
    )


def _changes(row: Row, case: Case) -> list[str]:
    """What applying the row would change on its existing case, in words."""
    changes = []
    if _person_changed(case.person, _person_input(row, case.person)):
        changes.append("person")
    if _case_changed(case, _case_input(row, case)):
        changes.append("case")
    if not _has_membership(case.person, row):
        changes.append("membership")
    if not _has_event(case, row):
        changes.append(f"status {row.get('status')} on {row.status_date.iso()}")
    for charge, existing in _existing_charges(case, row):
        if existing is None:
            changes.append(f"new charge {charge.offence}")
        elif _charge_changed(existing, _charge_input(charge, existing)):
            changes.append(f"charge {charge.offence}")
    return changes


# -- checking a file --------------------------------------------------------------------------


def check(data: bytes, user: User | None, *, first: int | None = None) -> Report:
    """Check a whole file against the register without writing anything.

    ``first``: check only that many data rows (a preview of a file checked whole before).
    """
    settings = current_app.config["SETTINGS"]
    if len(data) > settings.import_max_bytes:
        raise FileTooLarge(settings.import_max_bytes)
    try:
        file = _records(data, settings.import_max_rows)
    except ValidationError as exc:
        return Report([], [Problem(0, "", f"The file {exc.errors['file']}.")])
    header, records = file.header, file.rows
    problems = _check_header(file.header_row, header)
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
                        f"{external_id!r} is also on row {first_line[external_id]}",
                    )
                )
            elif external_id:
                first_line[external_id] = line
            if row is not None:
                rows.append(row)
    except ValidationError as exc:
        return Report([], [Problem(0, "", f"The file {exc.errors['file']}.")])
    if not rows and not problems:
        problems.append(Problem(0, "", "The file has a header row but no data rows."))
    _match_cases(rows, ctx, problems)
    problems.sort(key=lambda p: (p.row, p.column))
    return Report(rows, problems)


# -- applying ---------------------------------------------------------------------------------


@dataclass
class _Sources:
    """Status sources by URL (or title), found among the importer's visible sources or created."""

    actor: Actor
    user: User | None
    cache: dict[tuple[str, str], Source] = field(default_factory=dict)

    def get(self, title: str | None, url: str | None) -> list[Source]:
        if not title:
            return []
        key = ("url", url) if url else ("title", title)
        if key not in self.cache:
            visible = authz.visible_sources(self.user) if self.user else select(Source)
            condition = Source.url == url if url else Source.title == title
            found = db.session.scalars(visible.where(condition).limit(1)).first()
            self.cache[key] = found or sources.create_source(
                self.actor, sources.SourceInput(title=title, url=url)
            )
        return [self.cache[key]]


def _status_input(row: Row, found: _Sources) -> StatusInput:
    return StatusInput(
        status=row.get("status") or "",
        occurred_on=row.status_date,
        location=row.get("status_location"),
        description=row.get("status_description"),
        certainty=row.get("status_certainty") or Certainty.CONFIRMED.value,
        sources=found.get(row.get("status_source"), row.get("status_source_url")),
    )


def _apply_row(actor: Actor, row: Row, found: _Sources) -> int:
    """Write one row; the number of status events it recorded."""
    events = 0
    case = row.case
    if case is None:
        person = create_person(actor, _person_input(row, None))
        case = create_case(actor, person, _case_input(row, None), _status_input(row, found))
        case.external_id = row.external_id
        events += 1
    else:
        person = case.person
        person_data = _person_input(row, person)
        if _person_changed(person, person_data):
            update_person(actor, person, person_data)
        case_data = _case_input(row, case)
        if _case_changed(case, case_data):
            update_case(actor, case, case_data)
        if not _has_event(case, row):
            record_status(actor, case, _status_input(row, found))
            events += 1
    if not _has_membership(person, row):
        assert row.organization is not None  # noqa: S101 - _has_membership is True otherwise
        add_membership(actor, person, row.organization, row.get("role"))
    for charge, existing in _existing_charges(case, row):
        data = _charge_input(charge, existing)
        if existing is None:
            charges.add_charge(actor, case, data)
        elif _charge_changed(existing, data):
            charges.update_charge(actor, existing, data)
    return events


def apply(
    actor: Actor,
    report: Report,
    *,
    sha256: str,
    import_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write every row of a clean report; the caller commits once (or rolls back on error).

    The audit log gets each change from its service, then one ``import.apply`` entry naming the
    stored import (``import_id``) or the file's hash, with the counts and the rows changed.
    """
    if not report.ok:
        raise ValidationError({"file": "has problems; nothing was imported"})
    user = actor if isinstance(actor, User) else None
    summary = report.summary()
    found = _Sources(actor, user)
    events = 0
    changed = [row for row in report.rows if row.action != "unchanged"]
    step = max(1, len(changed) // 50)  # about fifty progress reports per import
    for done, row in enumerate(changed, 1):
        try:
            events += _apply_row(actor, row, found)
        except ValidationError as exc:
            # Checked above, so only a rule the check does not repeat can land here.
            first = next(iter(exc.errors.items()))
            raise ValidationError({"file": f"row {row.line}, {first[0]}: {first[1]}"}) from None
        if progress and done % step == 0:
            progress(done, len(changed))
    summary["status_events"] = events
    if changed:
        audit.record(
            actor,
            "import.apply",
            "import",
            import_id or f"file:{sha256[:16]}",
            after={**summary, "sha256": sha256, "external_ids": [r.external_id for r in changed]},
        )
    db.session.flush()
    return summary


# -- the staged import (web and API) ----------------------------------------------------------


def plan_digest(report: Report) -> str:
    """A fingerprint of what applying the report does and of the state it was worked out from.

    Per row: its action and changes, and for an existing case what the import compares and may
    overwrite (the person's columns, the case's, the memberships, the current status, the
    charges). A confirmation compares it with the preview's, so a colleague's edit in between
    (one the file would silently undo, or one that makes a previewed change a no-op) stops it.
    """
    digest = hashlib.sha256()
    for row in report.rows:
        plan: tuple[Any, ...] = (row.line, row.external_id, row.action, row.changes)
        case = row.case
        if case is not None:
            person = case.person
            plan += (
                (person.name, person.name_native, list(person.aliases), person.gender),
                (person.nationality, case.country, case.title, case.confidentiality),
                sorted((m.organization_id, m.role or "") for m in person.memberships),
                (case.status, str(case.status_since), case.status_since_precision),
                [
                    (c.id, c.offence, c.legal_basis, str(c.max_sentence), c.stage)
                    for c in case.charges
                ],
            )
        digest.update(repr(plan).encode())
    return digest.hexdigest()


def _problem_dicts(report: Report) -> list[dict[str, Any]]:
    return [p.as_dict() for p in report.problems[:MAX_REPORTED_PROBLEMS]]


def stage(user: User, filename: str, data: bytes) -> tuple[Import, Report]:
    """Check an uploaded file and keep it for the preview; nothing in the register changes."""
    report = check(data, user)
    record = Import(
        requested_by=user,
        filename=(filename or "upload.csv")[:255],
        content=data,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=len(report.rows) if report.ok else 0,
        state=(ImportState.PREVIEWED if report.ok else ImportState.INVALID).value,
        errors=_problem_dicts(report),
        summary=report.summary() if report.ok else {},
        plan_sha256=plan_digest(report) if report.ok else None,
    )
    db.session.add(record)
    db.session.flush()
    return record, report


def _move(record: Import, before: ImportState, after: ImportState) -> bool:
    """Change the import's state if it is still ``before``; False when someone else moved it.

    A conditional UPDATE, so two confirmations (a double click, two tabs) or a sweep racing a
    worker cannot both go ahead: on PostgreSQL the second waits for the first's row lock and
    then finds the state changed.
    """
    moved = db.session.execute(
        update(Import)
        .where(Import.id == record.id, Import.state == before.value)
        .values(state=after.value)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(record)
    return getattr(moved, "rowcount", 0) == 1


def confirm(user: User, record: Import) -> Import:
    """Apply a previewed import now when it is small, else queue it for a worker.

    A small import is applied in the caller's transaction (commit it); on a validation error
    the caller rolls back and the import is marked failed by :func:`fail`.
    """
    settings = current_app.config["SETTINGS"]
    large = record.rows > settings.import_inline_rows
    after = ImportState.QUEUED if large else ImportState.RUNNING
    if not _move(record, ImportState.PREVIEWED, after):
        raise ValidationError({"import": f"is {record.state}, not waiting for confirmation"})
    if large:
        jobs.after_commit(APPLY_TASK, record.public_id)
        return record
    run(user, record)
    return record


def lock_register() -> None:
    """Hold the register for one import until its transaction ends.

    Two imports at once (two workers, a worker and a web confirmation, the command line) would
    otherwise both check the same state and both apply it: the same status change recorded, and
    alerted, twice. Taken before the check, the lock makes the second import check after the
    first has committed. PostgreSQL: a transaction-scoped advisory lock. SQLite: its one write
    lock, taken now (``BEGIN IMMEDIATE``) rather than at the first write.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        # A write earlier in this transaction (confirm's state change) holds the lock already.
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def run(user: User, record: Import, progress: Callable[[int, int], None] | None = None) -> None:
    """Check the stored file again and apply it, if it still does what the preview showed."""
    if not authz.can(user, authz.Action.WRITE) or not user.active:
        raise ValidationError({"file": "the uploader may no longer write to the register"})
    lock_register()
    report = check(record.content, user)
    if not report.ok:
        record.errors = _problem_dicts(report)
        raise ValidationError(
            {"file": "changed problems since the preview: " + str(report.problems[0])}
        )
    if plan_digest(report) != record.plan_sha256:
        now = report.summary()
        raise ValidationError(
            {
                "file": "the register changed since the preview: the file would now create "
                f"{now['create']}, update {now['update']} and leave {now['unchanged']} "
                "unchanged; upload it again to see what it changes now"
            }
        )
    record.summary = apply(
        user, report, sha256=record.sha256, import_id=record.public_id, progress=progress
    )
    record.state = ImportState.DONE.value
    record.progress = 100
    record.finished_at = utcnow()
    db.session.flush()


def fail(public_id: str, reason: str, errors: list[dict[str, Any]] | None = None) -> None:
    """Mark an import failed in a fresh transaction (after the caller rolled its work back)."""
    record = db.session.scalars(select(Import).where(Import.public_id == public_id)).one()
    record.state = ImportState.FAILED.value
    record.failure = reason
    if errors is not None:
        record.errors = errors
    record.finished_at = utcnow()
    db.session.commit()


def own_imports(user: User, limit: int = 20) -> list[Import]:
    """The user's latest imports."""
    return list(
        db.session.scalars(
            select(Import)
            .where(Import.requested_by_id == user.id)
            .order_by(Import.id.desc())
            .limit(limit)
        )
    )


# -- the worker's side ------------------------------------------------------------------------


def claim(public_id: str) -> Import | None:
    """Move a queued import to running and commit; ``None`` when another worker has it."""
    claimed = db.session.execute(
        update(Import)
        .where(Import.public_id == public_id, Import.state == ImportState.QUEUED.value)
        .values(state=ImportState.RUNNING.value, progress=1, started_at=utcnow())
    )
    db.session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.scalars(select(Import).where(Import.public_id == public_id)).one()


def progress_writer(public_id: str) -> Callable[[int, int], None] | None:
    """Record progress in a transaction of its own, so pages see it while the import runs.

    SQLite has one writer at a time, and the import is that writer until it commits: there,
    progress shows only when the import is done.
    """
    if db.engine.dialect.name == "sqlite":
        return None

    def write(done: int, total: int) -> None:
        with db.engine.begin() as connection:
            connection.execute(
                update(Import)
                .where(Import.public_id == public_id)
                .values(progress=max(1, min(99, 100 * done // max(total, 1))))
            )

    return write


def requeue_stale(queued_after: dt.timedelta, running_after: dt.timedelta) -> list[str]:
    """Imports whose message was lost (broker down) or whose worker died: queue them again.

    A queued import is only sent again (a duplicate message finds it claimed and does nothing);
    a running one past the task's hard time limit is put back in the queue only if it is still
    the same run. Applying is one transaction, so a worker that died wrote nothing.
    """
    now = utcnow()
    resend = list(
        db.session.scalars(
            select(Import.public_id).where(
                Import.state == ImportState.QUEUED.value, Import.created_at < now - queued_after
            )
        )
    )
    stuck = db.session.execute(
        select(Import.id, Import.public_id, Import.started_at).where(
            Import.state == ImportState.RUNNING.value, Import.started_at < now - running_after
        )
    ).all()
    for row_id, public_id, started_at in stuck:
        moved = db.session.execute(
            update(Import)
            .where(
                Import.id == row_id,
                Import.state == ImportState.RUNNING.value,
                Import.started_at == started_at,
            )
            .values(state=ImportState.QUEUED.value, progress=0)
        )
        if getattr(moved, "rowcount", 0) == 1:
            resend.append(public_id)
    for public_id in resend:
        jobs.after_commit(APPLY_TASK, public_id)
    return resend
