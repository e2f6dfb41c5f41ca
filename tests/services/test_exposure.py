"""Maximum exposure: the most severe maximum sentence among a case's open charges."""

from __future__ import annotations

import pytest
from flask import Flask

from monitor.domain import PartialDate, Sentence, SentenceKind, maximum_exposure
from monitor.extensions import db
from monitor.models import Case
from monitor.services import ValidationError
from monitor.services.cases import CaseInput, StatusInput, create_case
from monitor.services.charges import ChargeInput, add_charge, update_charge
from monitor.services.people import PersonInput, create_person

THIRTY_YEARS = Sentence(SentenceKind.TERM, 360)


def test_life_and_death_outrank_any_term() -> None:
    life = Sentence(SentenceKind.LIFE)
    death = Sentence(SentenceKind.DEATH)
    assert maximum_exposure([THIRTY_YEARS, life]) == life
    assert maximum_exposure([life, death, THIRTY_YEARS]) == death
    assert maximum_exposure([Sentence(SentenceKind.TERM, 12), THIRTY_YEARS]) == THIRTY_YEARS
    assert maximum_exposure([Sentence(SentenceKind.FINE_ONLY), Sentence(SentenceKind.UNKNOWN)]) == (
        Sentence(SentenceKind.FINE_ONLY)
    )
    assert maximum_exposure([]) is None


def test_sentence_wording() -> None:
    assert THIRTY_YEARS.human() == "30 years"
    assert Sentence(SentenceKind.TERM, 18).human() == "1 year 6 months"
    assert Sentence(SentenceKind.LIFE).human() == "life imprisonment"


@pytest.mark.parametrize(
    ("kind", "months"),
    [(SentenceKind.TERM, None), (SentenceKind.TERM, 0), (SentenceKind.LIFE, 12)],
)
def test_inconsistent_sentences_are_refused(kind: SentenceKind, months: int | None) -> None:
    with pytest.raises(ValueError, match="month"):
        Sentence(kind, months)


def _case() -> Case:
    person = create_person("test", PersonInput(name="Kem Sokha", name_native="កឹម សុខា"))
    return create_case(
        "test",
        person,
        CaseInput(country="KH", title="Kem Sokha"),
        StatusInput(status="jailed", occurred_on=PartialDate.parse("2017-09")),
    )


def test_exposure_follows_open_charges(app: Flask) -> None:
    case = _case()
    assert case.max_exposure is None
    treason = add_charge(
        "test",
        case,
        ChargeInput(
            offence="Treason", legal_basis="Criminal Code, art. 443", max_sentence=THIRTY_YEARS
        ),
    )
    assert case.max_exposure == THIRTY_YEARS
    incitement = add_charge(
        "test",
        case,
        ChargeInput(offence="Incitement", max_sentence=Sentence(SentenceKind.TERM, 24)),
    )
    db.session.commit()
    assert case.max_exposure == THIRTY_YEARS
    # Treason is dropped: only the incitement charge still exposes him.
    update_charge(
        "test",
        treason,
        ChargeInput(offence="Treason", max_sentence=THIRTY_YEARS, stage="dropped"),
    )
    db.session.commit()
    assert case.max_exposure == Sentence(SentenceKind.TERM, 24)
    update_charge(
        "test",
        incitement,
        ChargeInput(
            offence="Incitement", max_sentence=Sentence(SentenceKind.TERM, 24), stage="acquitted"
        ),
    )
    assert case.max_exposure is None


def test_a_sentence_imposed_needs_a_conviction(app: Flask) -> None:
    case = _case()
    with pytest.raises(ValidationError) as caught:
        add_charge(
            "test",
            case,
            ChargeInput(
                offence="Treason",
                max_sentence=THIRTY_YEARS,
                stage="charged",
                sentence_imposed=Sentence(SentenceKind.TERM, 324),
            ),
        )
    assert "sentence_imposed" in caught.value.errors
    convicted = add_charge(
        "test",
        case,
        ChargeInput(
            offence="Treason",
            max_sentence=THIRTY_YEARS,
            stage="convicted",
            sentence_imposed=Sentence(SentenceKind.TERM, 324),
            in_absentia=True,
        ),
    )
    assert convicted.sentence_imposed is not None
    assert convicted.sentence_imposed.human() == "27 years"
    assert case.max_exposure == THIRTY_YEARS  # a conviction is still open (appeal, pardon)
