"""Charges and the maximum exposure they add up to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from monitor.domain import (
    MAX_TERM_MONTHS,
    TERM_TOO_LONG,
    LegalStage,
    PartialDate,
    Sentence,
    maximum_exposure,
)
from monitor.extensions import db
from monitor.models import Case, Charge, Source
from monitor.services import Actor, ValidationError, audit
from monitor.services.validation import member, optional_text, required_text


@dataclass
class ChargeInput:
    """A charge as reported: the offence, its legal basis, what it can cost and where it stands."""

    offence: str
    max_sentence: Sentence
    legal_basis: str | None = None
    stage: str = LegalStage.CHARGED.value
    filed_on: PartialDate | None = None
    sentence_imposed: Sentence | None = None
    sentenced_on: dt.date | None = None
    in_absentia: bool = False
    sources: list[Source] = field(default_factory=list)


def _apply_charge(charge: Charge, data: ChargeInput) -> None:
    errors: dict[str, str] = {}
    offence = required_text(data.offence, errors, "offence", 300)
    legal_basis = optional_text(data.legal_basis, errors, "legal_basis", 300)
    stage = member(LegalStage, data.stage, errors, "stage")
    if data.sentence_imposed is not None and stage is not LegalStage.CONVICTED:
        errors["sentence_imposed"] = "only a conviction carries an imposed sentence"
    terms = {"max_sentence": data.max_sentence, "sentence_imposed": data.sentence_imposed}
    for name, sentence in terms.items():
        if sentence is not None and (sentence.months or 0) > MAX_TERM_MONTHS:
            errors[name] = TERM_TOO_LONG
    if errors:
        raise ValidationError(errors)
    assert stage is not None  # noqa: S101 - errors raised above
    charge.offence, charge.legal_basis, charge.stage = offence, legal_basis, stage.value
    charge.max_sentence_kind = data.max_sentence.kind.value
    charge.max_sentence_months = data.max_sentence.months
    charge.filed_on = data.filed_on.start if data.filed_on else None
    charge.filed_precision = data.filed_on.precision.value if data.filed_on else None
    imposed = data.sentence_imposed
    charge.sentence_kind = imposed.kind.value if imposed else None
    charge.sentence_months = imposed.months if imposed else None
    charge.sentenced_on = data.sentenced_on
    charge.in_absentia = data.in_absentia
    charge.sources = list(data.sources)


def recompute_exposure(case: Case) -> Sentence | None:
    """Store on the case the most severe maximum sentence among its open charges."""
    exposure = maximum_exposure([c.max_sentence for c in case.charges if c.legal_stage.is_open])
    case.max_exposure_kind = exposure.kind.value if exposure else None
    case.max_exposure_months = exposure.months if exposure else None
    return exposure


def add_charge(actor: Actor, case: Case, data: ChargeInput) -> Charge:
    """Add a charge to a case and update its maximum exposure."""
    charge = Charge()
    _apply_charge(charge, data)
    charge.case = case
    db.session.add(charge)
    recompute_exposure(case)
    db.session.flush()
    audit.record(
        actor,
        "charge.create",
        "charge",
        charge.public_id,
        after={**audit.snapshot(charge), "sources": [s.public_id for s in data.sources]},
        case_ref=case.public_id,
    )
    return charge


def update_charge(actor: Actor, charge: Charge, data: ChargeInput) -> Charge:
    """Change a charge (a new stage, a sentence) and update the case's maximum exposure."""
    before = audit.snapshot(charge)
    _apply_charge(charge, data)
    recompute_exposure(charge.case)
    db.session.flush()
    audit.record(
        actor,
        "charge.update",
        "charge",
        charge.public_id,
        before=before,
        after=audit.snapshot(charge),
        case_ref=charge.case.public_id,
    )
    return charge
