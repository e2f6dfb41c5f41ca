"""Applying a checked plan: every row written through the services a form uses.

Each change goes through :mod:`monitor.services.people`, :mod:`~monitor.services.cases` and
:mod:`~monitor.services.charges`, so it is validated and audited as a manual one is, and a status
change alerts subscribers exactly as a manual one does. Rows that open new cases go in bulk,
a progress step at a time, through :func:`monitor.services.openings.open_cases` (the case form's
open-case rules, multi-row INSERTs, one pass of the audit chain); a row that updates a case goes
through the single-case services. Only what differs is written (the comparisons are in
:mod:`.changes`). :func:`apply` flushes and never commits: the caller commits
once, so an import goes in whole or not at all. :func:`plan_digest` fingerprints a plan, so a
confirmation applies only what its preview showed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from monitor import authz
from monitor.domain import Certainty
from monitor.extensions import db
from monitor.models import Case, Organization, Person, Source, StatusEvent, User
from monitor.models.base import new_public_id
from monitor.presentation.translation import gettext as _
from monitor.services import Actor, ValidationError, audit, charges, sources
from monitor.services.cases import Opening, StatusInput, record_status, update_case
from monitor.services.imports.changes import (
    case_changed,
    case_input,
    charge_changed,
    charge_input,
    describe_person_changes,
    existing_charges,
    has_event,
    has_membership,
    held_membership,
    membership_changed,
    membership_details,
    person_changed,
    person_input,
    row_identifiers,
)
from monitor.services.imports.checking import organization_pairs
from monitor.services.imports.matching import check_decisions, resolve, undecided
from monitor.services.imports.report import Problem, Report, Row
from monitor.services.openings import OpenedCase, OpeningRefused, open_cases
from monitor.services.people import (
    PersonInput,
    add_membership,
    create_person,
    identifier_pairs,
    set_organization_identifiers,
    set_person_identifiers,
    update_membership,
    update_person,
)


def apply(
    actor: Actor,
    report: Report,
    *,
    sha256: str,
    import_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    decisions: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Write every row of a clean report; the caller commits once (or rolls back on error).

    ``decisions``: who each probable match is (the register person's id, or ``"new"``), by the
    row's key (``row 5``); every probable match must be decided
    (:func:`decision_errors`), else nothing is written.

    The audit log gets each change from its service, then one ``import.apply`` entry naming the
    stored import (``import_id``) or the file's hash, with the counts and the rows changed. Each
    status event recorded is tagged with the import (``import_batch``: ``import_id``, or an id
    of its own for a file applied without a stored import), so subscribers hear about it in one
    summary email per import (:mod:`monitor.services.alerts`).
    """
    if not report.ok:
        raise ValidationError({"file": _("has problems; nothing was imported")})
    taken = first_taken_row(report)
    if taken is not None:
        # Its id belongs to a case above the importer's clearance (checking treats that id as
        # unused, so as not to reveal the case): refused, saying no more than this.
        raise ValidationError(
            {"file": _("row %(row)s could not be applied; nothing was imported", row=taken)}
        )
    decide(report, decisions or {})
    _organization_identifiers(actor, report)
    user = actor if isinstance(actor, User) else None
    summary = report.summary()
    found = _Sources(actor, user)
    batch = import_id or new_public_id()
    events = 0
    changed = [row for row in report.rows if row.action != "unchanged"]
    step = max(1, len(changed) // 50)  # about fifty progress reports per import
    # Written a step at a time, each progress report after its rows are written.
    for start in range(0, len(changed), step):
        events += _apply_rows(actor, changed[start : start + step], found, batch)
        done = min(start + step, len(changed))
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


def decision_errors(report: Report, decisions: Mapping[str, str]) -> dict[str, str]:
    """What stops the decisions from applying, by field (``decisions.<row key>``): a wrong
    decision, a probable match left undecided, or two rows the decisions make one register
    person who would write them differently (:func:`same_person_problems`)."""
    matches = report.matches()
    errors = {f"decisions.{k}": v for k, v in check_decisions(matches, decisions).items()}
    rows = {row.match.key: row for row in report.rows if row.match is not None}
    for key in undecided(matches, decisions):
        row = rows[key]
        errors[f"decisions.{key}"] = _(
            "row %(row)s (%(name)s) is probably someone in the register: decide who (their id) "
            'or "new"',
            row=row.line,
            name=row.get("name"),
        )
    if not errors:
        for key, problem in _same_person(report, decisions):
            errors.setdefault(f"decisions.{key}", problem.message)
    return errors


def same_person_problems(report: Report, decisions: Mapping[str, str]) -> list[Problem]:
    """Rows the decisions make one register person though they would write that person
    differently, each naming the other row; none while a decision is wrong (see
    :func:`decision_errors`). A dry run reports them, before anything is applied."""
    if check_decisions(report.matches(), decisions):
        return []
    return [problem for _key, problem in _same_person(report, decisions)]


def _same_person(report: Report, decisions: Mapping[str, str]) -> list[tuple[str, Problem]]:
    """Each row (with its decision key) that the decisions make the register person an
    earlier row is, writing them differently. Rows matched to one person without any decision
    are checked already (checking._match_cases)."""
    resolved = resolve(report.matches(), decisions) if decisions else {}
    chosen: dict[int, Row] = {}
    found: list[tuple[str, Problem]] = []
    for row in report.rows:
        person = row.case.person if row.case is not None else row.person
        if row.case is None and row.match is not None and row.match.key in decisions:
            person = resolved[row.match.key]
        if person is None:
            continue
        earlier = chosen.setdefault(person.id, row)
        if earlier is row:
            continue
        decided = [r.match.key for r in (row, earlier) if r.match and r.match.key in decisions]
        if not decided or person_input(row, person) == person_input(earlier, person):
            continue
        message = _(
            "row %(row)s and row %(other)s would both write %(name)s (%(id)s), differently; "
            "make the two rows agree or decide otherwise",
            row=row.line,
            other=earlier.line,
            name=person.name,
            id=person.public_id,
        )
        found.append((decided[0], Problem(row.line, "name", message)))
    return found


def decide(report: Report, decisions: Mapping[str, str]) -> None:
    """Give each probable match's row the person decided (``None``: someone new); refused
    (ValidationError by ``decisions.<row key>``) unless every one is decided, and decided so
    that no two rows write one person differently."""
    errors = decision_errors(report, decisions)
    if errors:
        raise ValidationError(errors)
    if not decisions:
        return
    resolved = resolve(report.matches(), decisions)
    for row in report.probable():
        assert row.match is not None  # noqa: S101 - probable rows have a match
        person = resolved[row.match.key]
        row.person = person
        if person is not None:
            row.changes = describe_person_changes(row, person)


def _organization_identifiers(actor: Actor, report: Report) -> None:
    """Give each row's organization the identifiers of its ``organization_identifiers`` cell
    it lacks (checked free and of no scheme it holds otherwise), audited as on its form."""
    wanted: dict[int, tuple[Organization, set[tuple[str, str]]]] = {}
    for row in report.rows:
        if row.organization is not None:
            pairs = organization_pairs(row.values)
            if pairs:
                wanted.setdefault(row.organization.id, (row.organization, set()))[1].update(pairs)
    for org, named in wanted.values():
        held = set(identifier_pairs(org))
        if not named <= held:
            set_organization_identifiers(actor, org, sorted(held | named))


def first_taken_row(report: Report) -> int | None:
    """The first row that would open a case under an id another case answers to, if any."""
    creating = {
        row.external_id: row.line for row in report.rows if row.records_case and row.case is None
    }
    ids = list(creating)
    lines: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        held = db.session.execute(
            select(Case.external_id, Case.public_id).where(
                Case.external_id.in_(chunk)
                | (Case.public_id.in_(chunk) & Case.external_id.is_(None))
            )
        )
        for external_id, public_id in held:
            if external_id in creating:
                lines.append(creating[external_id])
            elif external_id is None and public_id in creating:
                lines.append(creating[public_id])
    return min(lines, default=None)


def _apply_rows(actor: Actor, rows: list[Row], found: _Sources, batch: str) -> int:
    """Write rows in file order: each run of new cases opened together, each update on its
    own; the number of status events recorded."""
    events = 0
    opening: list[Row] = []
    for row in rows:
        if row.records_case and row.case is None:
            opening.append(row)
            continue
        if not row.records_case:
            try:
                _apply_person_row(actor, row)
            except ValidationError as exc:
                raise _row_refused(row, exc.errors) from None
            continue
        events += len(_open_cases(actor, opening, found, batch))
        opening = []
        assert row.case is not None  # noqa: S101 - a case row that matched no case opens one
        try:
            recorded = _update_row(actor, row, row.case, found)
        except ValidationError as exc:
            raise _row_refused(row, exc.errors) from None
        for event in recorded:
            event.import_batch = batch
        events += len(recorded)
    return events + len(_open_cases(actor, opening, found, batch))


def _row_refused(row: Row, errors: dict[str, str]) -> ValidationError:
    # Checked before, so only a rule the check does not repeat can land here.
    field, message = next(iter(errors.items()))
    return ValidationError(
        {
            "file": _(
                "row %(row)s, %(field)s: %(problem)s", row=row.line, field=field, problem=message
            )
        }
    )


def _open_cases(actor: Actor, rows: list[Row], found: _Sources, batch: str) -> list[OpenedCase]:
    """Open the cases of rows that matched none (person, case, first status, membership,
    charges) through the open-case use case the case form and the API use too, in bulk."""
    if not rows:
        return []
    for row in rows:
        if row.person is not None:  # a new case for someone registered: complete them
            data = person_input(row, row.person)
            if person_changed(row.person, data):
                try:
                    update_person(actor, row.person, data)
                except ValidationError as exc:
                    raise _row_refused(row, exc.errors) from None
    openings = [
        Opening(
            case=case_input(row, None),
            status=_status_input(row, found),
            person=row.person,
            new_person=None if row.person is not None else _new_person(row),
            organization=row.organization,
            role=row.get("role"),
            charges=[charge_input(charge, None) for charge in row.charges],
            external_id=row.external_id,
        )
        for row in rows
    ]
    try:
        opened = open_cases(actor, openings, import_batch=batch)
    except OpeningRefused as exc:
        raise _row_refused(rows[exc.index], exc.errors) from None
    for row, case in zip(rows, opened, strict=True):
        if _needs_details(row):  # only rows with identifiers or membership details: one by one
            try:
                _person_details(actor, db.session.get_one(Case, case.case_id).person, row)
            except ValidationError as exc:
                raise _row_refused(row, exc.errors) from None
    return opened


def _new_person(row: Row) -> PersonInput:
    """A new person as the bulk opening inserts them (identifiers follow, see _person_details)."""
    data = person_input(row, None)
    data.identifiers = None
    return data


_DETAILS = ("identifiers", "membership_start", "membership_end", "area")


def _needs_details(row: Row) -> bool:
    return any(row.get(column) for column in _DETAILS)


def _person_details(actor: Actor, person: Person, row: Row) -> None:
    """What the bulk opening does not write: the person's identifiers, the membership's dates
    and area."""
    pairs = row_identifiers(row, person)
    if pairs is not None:
        set_person_identifiers(actor, person, pairs)
    held = held_membership(person, row)
    if held is not None and membership_changed(held, row):
        start, end, area = membership_details(row, held)
        update_membership(actor, held, start=start, end=end, area=area)


def _apply_person_row(actor: Actor, row: Row) -> None:
    """A row without a status: add or update the person and their membership; no case."""
    person = row.person
    data = person_input(row, person)
    if person is None:
        person = create_person(actor, data)
    elif person_changed(person, data):
        update_person(actor, person, data)
    _add_membership(actor, person, row)


def _update_row(actor: Actor, row: Row, case: Case, found: _Sources) -> list[StatusEvent]:
    """Bring an existing case up to the row; the status events it recorded."""
    events = _update_case_from_row(actor, row, case, found)
    for charge, existing in existing_charges(case, row):
        data = charge_input(charge, existing)
        if existing is None:
            charges.add_charge(actor, case, data)
        elif charge_changed(existing, data):
            charges.update_charge(actor, existing, data)
    return events


def _update_case_from_row(actor: Actor, row: Row, case: Case, found: _Sources) -> list[StatusEvent]:
    """Bring an existing case and its person up to the row; the status events recorded."""
    person = case.person
    person_data = person_input(row, person)
    if person_changed(person, person_data):
        update_person(actor, person, person_data)
    case_data = case_input(row, case)
    if case_changed(case, case_data):
        update_case(actor, case, case_data)
    events = []
    if not has_event(case, row):
        events.append(record_status(actor, case, _status_input(row, found)).event)
    _add_membership(actor, person, row)
    return events


def _add_membership(actor: Actor, person: Person, row: Row) -> None:
    """Add the row's membership unless the person holds it already (or the row names none);
    bring a held one's dates and area up to the row."""
    if not has_membership(person, row):
        assert row.organization is not None  # noqa: S101 - has_membership is True otherwise
        start, end, area = membership_details(row, None)
        add_membership(
            actor, person, row.organization, row.get("role"), start=start, end=end, area=area
        )
        return
    held = held_membership(person, row)
    if held is not None and membership_changed(held, row):
        start, end, area = membership_details(row, held)
        update_membership(actor, held, start=start, end=end, area=area)


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
    assert row.status_date is not None  # noqa: S101 - only rows with a status record one
    return StatusInput(
        status=row.get("status") or "",
        occurred_on=row.status_date,
        location=row.get("status_location"),
        description=row.get("status_description"),
        certainty=row.get("status_certainty") or Certainty.CONFIRMED.value,
        sources=found.get(row.get("status_source"), row.get("status_source_url")),
    )


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
        if row.match is not None:  # who matching found, and whom it offered to decide between
            match = row.match
            plan += (
                match.key,
                match.status,
                match.person.public_id if match.person else None,
                [c.public_id for c in match.candidates],
            )
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
        if case is None and row.person is not None:
            person = row.person
            plan += (
                (person.name, person.name_native, list(person.aliases), person.gender),
                (person.nationality, str(person.birth), sorted(identifier_pairs(person))),
                sorted(
                    (m.organization_id, m.role or "", str(m.start), str(m.end), m.area or "")
                    for m in person.memberships
                ),
            )
        digest.update(repr(plan).encode())
    return digest.hexdigest()
