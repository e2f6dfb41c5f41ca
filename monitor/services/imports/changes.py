"""What a row changes: the service inputs it makes and how they compare with the register.

Checking uses these to say, before anything is written, what each row would change on its
existing case (:func:`describe_changes`, shown in the preview and part of the plan's digest);
applying uses the same inputs and comparisons to write only what differs, so the preview and
the import agree. A cell left empty clears a value; a column the file does not have keeps it.
"""

from __future__ import annotations

from monitor.domain import LegalStage, Sentence, SentenceKind
from monitor.models import Case, Charge, Person
from monitor.services import charges
from monitor.services.cases import CaseInput
from monitor.services.csv_format import ALIAS_SEPARATOR
from monitor.services.imports.report import ChargeRow, Row
from monitor.services.people import PersonInput, holds


def person_input(row: Row, person: Person | None) -> PersonInput:
    """The person as the row leaves them; what the file has no column for is kept."""

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


def case_input(row: Row, case: Case | None) -> CaseInput:
    """The case as the row leaves it; what the file has no column for is kept."""
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


def person_changed(person: Person, data: PersonInput) -> bool:
    """Whether the input differs from the person in the columns an import writes."""
    return (
        person.name,
        person.name_native,
        list(person.aliases),
        person.gender,
        person.nationality,
    ) != (data.name, data.name_native, data.aliases, data.gender, data.nationality)


def case_changed(case: Case, data: CaseInput) -> bool:
    """Whether the input differs from the case in the columns an import writes."""
    return (case.country, case.title, case.confidentiality) != (
        data.country,
        data.title.strip(),
        data.confidentiality,
    )


def has_event(case: Case, row: Row) -> bool:
    """Whether the case already has the row's status on the row's date."""
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


def describe_changes(row: Row, case: Case) -> list[str]:
    """What applying the row would change on its existing case, in words."""
    changes = []
    if person_changed(case.person, person_input(row, case.person)):
        changes.append("person")
    if case_changed(case, case_input(row, case)):
        changes.append("case")
    if not has_membership(case.person, row):
        changes.append("membership")
    if not has_event(case, row):
        changes.append(f"status {row.get('status')} on {row.status_date.iso()}")
    for charge, existing in existing_charges(case, row):
        if existing is None:
            changes.append(f"new charge {charge.offence}")
        elif charge_changed(existing, charge_input(charge, existing)):
            changes.append(f"charge {charge.offence}")
    return changes
