"""Charges and the maximum exposure they add up to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from monitor.domain import (
    MAX_TERM_MONTHS,
    LegalStage,
    PartialDate,
    Sentence,
    maximum_exposure,
)
from monitor.extensions import db
from monitor.models import Case, Charge, Source
from monitor.presentation.translation import gettext as _
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


def charge_values(data: ChargeInput) -> dict[str, Any]:
    """The charge's column values as ``data`` gives them, validated (its sources aside)."""
    errors: dict[str, str] = {}
    offence = required_text(data.offence, errors, "offence", 300)
    legal_basis = optional_text(data.legal_basis, errors, "legal_basis", 300)
    stage = member(LegalStage, data.stage, errors, "stage")
    if data.sentence_imposed is not None and stage is not LegalStage.CONVICTED:
        errors["sentence_imposed"] = _("only a conviction carries an imposed sentence")
    terms = {"max_sentence": data.max_sentence, "sentence_imposed": data.sentence_imposed}
    for name, sentence in terms.items():
        if sentence is not None and (sentence.months or 0) > MAX_TERM_MONTHS:
            errors[name] = _("a term longer than 200 years: record it as life imprisonment")
    if errors:
        raise ValidationError(errors)
    assert stage is not None  # noqa: S101 - errors raised above
    imposed = data.sentence_imposed
    return {
        "offence": offence,
        "legal_basis": legal_basis,
        "stage": stage.value,
        "max_sentence_kind": data.max_sentence.kind.value,
        "max_sentence_months": data.max_sentence.months,
        "filed_on": data.filed_on.start if data.filed_on else None,
        "filed_precision": data.filed_on.precision.value if data.filed_on else None,
        "sentence_kind": imposed.kind.value if imposed else None,
        "sentence_months": imposed.months if imposed else None,
        "sentenced_on": data.sentenced_on,
        "in_absentia": data.in_absentia,
    }


def _apply_charge(charge: Charge, data: ChargeInput) -> None:
    for key, value in charge_values(data).items():
        setattr(charge, key, value)
    charge.sources = list(data.sources)


def exposure_values(sentences: list[tuple[Sentence, str]]) -> dict[str, Any]:
    """The case's maximum exposure columns from its charges' (maximum sentence, stage)."""
    exposure = maximum_exposure([s for s, stage in sentences if LegalStage(stage).is_open])
    return {
        "max_exposure_kind": exposure.kind.value if exposure else None,
        "max_exposure_months": exposure.months if exposure else None,
    }


def recompute_exposure(case: Case) -> Sentence | None:
    """Store on the case the most severe maximum sentence among its open charges."""
    exposure = exposure_values([(c.max_sentence, c.stage) for c in case.charges])
    case.max_exposure_kind = exposure["max_exposure_kind"]
    case.max_exposure_months = exposure["max_exposure_months"]
    return case.max_exposure


def add_charge(actor: Actor, case: Case, data: ChargeInput) -> Charge:
    """Add a charge to a case and update its maximum exposure."""
    charge = Charge()
    _apply_charge(charge, data)
    charge.case = case
    db.session.add(charge)
    recompute_exposure(case)
    db.session.flush()
    entry = charge_created(charge.public_id, audit.snapshot(charge), data.sources, case.public_id)
    audit.record_planned(actor, entry)
    return charge


def charge_created(
    public_id: str, charge: dict[str, Any], sources: list[Source], case_ref: str
) -> audit.Planned:
    """The audit entry of a charge just added (``charge``: its snapshot)."""
    return audit.Planned(
        "charge.create",
        "charge",
        public_id,
        after={**charge, "sources": [s.public_id for s in sources]},
        case_ref=case_ref,
    )


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
