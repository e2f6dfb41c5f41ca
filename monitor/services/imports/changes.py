"""What a row changes: the service inputs it makes and how they compare with the register.

Checking uses these to say, before anything is written, what each row would change on its
existing case (:func:`describe_changes`, shown in the preview and part of the plan's digest);
applying uses the same inputs and comparisons to write only what differs, so the preview and
the import agree. A cell left empty keeps a value, as a column the file does not have does; a
cell holding only ``-`` (:data:`~monitor.services.csv_format.CLEAR`) clears it.
"""

from __future__ import annotations

from monitor.domain import LegalStage, PartialDate, Sentence, SentenceKind
from monitor.models import Case, Charge, Membership, Person
from monitor.services import charges
from monitor.services.cases import CaseInput
from monitor.services.csv_format import ALIAS_SEPARATOR, CLEAR
from monitor.services.imports.report import ChargeRow, Row
from monitor.services.name_matching import name_key
from monitor.services.people import PersonInput, holds, identifier_pairs, parse_identifiers


def cell(row: Row, column: str, current: str | None) -> str | None:
    """What the row leaves in a value: the cell's text, ``current`` for an empty cell or a
    column the file lacks, ``None`` for the clearing marker ``-``."""
    value = row.get(column)
    if not value:
        return current
    return None if value == CLEAR else value


def date_cell(row: Row, column: str, current: PartialDate | None) -> PartialDate | None:
    """A date cell as :func:`cell` reads text (checked before, so it parses)."""
    value = cell(row, column, None if current is None else current.iso())
    return PartialDate.parse(value) if value else None


def name_for_matched_person(person: Person, name: str, aliases: list[str]) -> tuple[str, list[str]]:
    """The name and aliases a matched person keeps when a file names them differently: the
    register's name stays, the file's differing name becomes an alias (never an overwrite).

    The one place the import decides this; matching (by identifier, name, alias) may refine it.
    """
    if not name or name_key(name) == name_key(person.name):
        return person.name, aliases
    if any(name_key(a) == name_key(name) for a in aliases):
        return person.name, aliases
    return person.name, [*aliases, name]


def row_identifiers(row: Row, person: Person | None) -> list[tuple[str, str]] | None:
    """The identifiers the row leaves the person with: a scheme the row gives replaces that
    scheme's identifiers, other schemes are kept; ``-`` clears them all; ``None`` (kept as they
    are) when the cell is empty."""
    value = row.get("identifiers")
    if not value:
        return None  # kept as they are (read no identifiers: a re-import reads none)
    if value == CLEAR:
        return []
    current = identifier_pairs(person) if person else None
    given = parse_identifiers(value.split(ALIAS_SEPARATOR))
    schemes = {scheme for scheme, _ in given}
    kept = [pair for pair in current or [] if pair[0] not in schemes]
    return sorted(kept + given)


def person_input(row: Row, person: Person | None) -> PersonInput:
    """The person as the row leaves them; what the file has no column or no value for is kept."""
    aliases_cell = cell(row, "aliases", None)
    if row.get("aliases") and aliases_cell is None:
        aliases: list[str] = []  # cleared
    elif aliases_cell is None:
        aliases = list(person.aliases) if person else []
    else:
        aliases = [a.strip() for a in aliases_cell.split(ALIAS_SEPARATOR) if a.strip()]
    name = row.get("name") or ""
    if person is not None:
        name, aliases = name_for_matched_person(person, name, aliases)
    nationality = cell(row, "nationality", person.nationality if person else None)
    return PersonInput(
        name=name,
        name_native=cell(row, "name_native", person.name_native if person else None),
        aliases=aliases,
        gender=cell(row, "gender", person.gender if person else None),
        birth_date=date_cell(row, "birth_date", person.birth if person else None),
        nationality=nationality.upper() if nationality else None,
        occupation=person.occupation if person else None,
        biography=person.biography if person else None,
        death_date=person.death if person else None,
        identifiers=row_identifiers(row, person),
    )


def case_input(row: Row, case: Case | None) -> CaseInput:
    """The case as the row leaves it; what the file has no column for is kept."""
    title = row.get("title")
    confidentiality = row.get("confidentiality")
    country = row.get("country") or (case.country if case else "")
    return CaseInput(
        country=country.upper(),
        # An empty title keeps the case's; a new case without one takes the person's name.
        title=title or (case.title if case else row.get("name") or ""),
        # An empty cell never lowers an existing case's level: only a level written out does.
        confidentiality=confidentiality or (case.confidentiality if case else "public"),
        summary=case.summary if case else None,
        tags=list(case.tags) if case else [],
        opened_on=case.opened_on if case else None,
        closed_on=case.closed_on if case else None,
    )


def person_changed(person: Person, data: PersonInput) -> bool:
    """Whether the input differs from the person in the columns an import writes."""
    ids = identifier_pairs(person) if data.identifiers is not None else None
    return (
        person.name,
        person.name_native,
        list(person.aliases),
        person.gender,
        person.nationality,
        person.birth,
        ids,
    ) != (
        data.name,
        data.name_native,
        data.aliases,
        data.gender,
        data.nationality,
        data.birth_date,
        sorted(data.identifiers) if data.identifiers is not None else None,
    )


def case_changed(case: Case, data: CaseInput) -> bool:
    """Whether the input differs from the case in the columns an import writes."""
    return (case.country, case.title, case.confidentiality) != (
        data.country,
        data.title.strip(),
        data.confidentiality,
    )


def has_event(case: Case, row: Row) -> bool:
    """Whether the case already has the row's status on the row's date (a row without a status
    has nothing to record)."""
    if row.status_date is None:
        return True
    return any(
        e.status == row.get("status")
        and e.occurred_on == row.status_date.start
        and e.occurred_precision == row.status_date.precision.value
        for e in case.events
    )


def has_membership(person: Person, row: Row) -> bool:
    """Whether the person already holds the row's membership (or the row names none)."""
    org = row.organization
    return org is None or holds(person, org, row.get("role") or "member")


def held_membership(person: Person, row: Row) -> Membership | None:
    """The person's membership the row names, if they hold it."""
    org, role = row.organization, row.get("role") or "member"
    if org is None:
        return None
    return next(
        (m for m in person.memberships if m.organization_id == org.id and m.role == role), None
    )


def membership_details(
    row: Row, membership: Membership | None
) -> tuple[PartialDate | None, PartialDate | None, str | None]:
    """The start, end and area the row leaves a membership with (empty cells keep them)."""
    return (
        date_cell(row, "membership_start", membership.start if membership else None),
        date_cell(row, "membership_end", membership.end if membership else None),
        cell(row, "area", membership.area if membership else None),
    )


def membership_changed(membership: Membership, row: Row) -> bool:
    """Whether the row changes the dates or area of a membership the person holds."""
    return (membership.start, membership.end, membership.area) != membership_details(
        row, membership
    )


def existing_charges(case: Case, row: Row) -> list[tuple[ChargeRow, Charge | None]]:
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


def charge_input(charge: ChargeRow, existing: Charge | None) -> charges.ChargeInput:
    """The charge as the row leaves it; what the file does not say is kept from ``existing``."""
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


def charge_changed(existing: Charge, data: charges.ChargeInput) -> bool:
    """Whether the input differs from the charge in what an import writes."""
    return (existing.legal_basis, existing.max_sentence, existing.stage) != (
        data.legal_basis,
        data.max_sentence,
        data.stage,
    )


def describe_person_changes(row: Row, person: Person) -> list[str]:
    """What applying a row without a status would change on its registered person."""
    changes = []
    if person_changed(person, person_input(row, person)):
        changes.append("person")
    held = held_membership(person, row)
    if not has_membership(person, row):
        changes.append("membership")
    elif held is not None and membership_changed(held, row):
        changes.append("membership dates or area")
    return changes


def describe_changes(row: Row, case: Case) -> list[str]:
    """What applying the row would change on its existing case, in words."""
    changes = describe_person_changes(row, case.person)
    if case_changed(case, case_input(row, case)):
        changes.append("case")
    if not has_event(case, row) and row.status_date is not None:
        changes.append(f"status {row.get('status')} on {row.status_date.iso()}")
    for charge, existing in existing_charges(case, row):
        if existing is None:
            changes.append(f"new charge {charge.offence}")
        elif charge_changed(existing, charge_input(charge, existing)):
            changes.append(f"charge {charge.offence}")
    return changes
