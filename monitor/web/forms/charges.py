"""The charge form: offence, legal basis, maximum sentence, stage and sentence imposed."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Optional

from monitor.domain import LegalStage
from monitor.models import Charge, Source
from monitor.services.charges import ChargeInput
from monitor.web.fields import (
    DATE_HINT,
    DAY_HINT,
    DayField,
    Form,
    LooseSelectField,
    PartialDateField,
    Select,
    build_sentence,
    months_field,
    sentence_kind_choices,
    split_months,
    vocabulary_choices,
    years_field,
)
from monitor.web.forms.cases import REQUIRED, at_most


class ChargeForm(Form):
    """A charge; terms are typed as years plus months."""

    offence = StringField(_l("Offence"), [InputRequired(REQUIRED), at_most(300)])
    legal_basis = StringField(_l("Legal basis (law and article)"), [at_most(300)])
    max_sentence_kind = Select(
        _l("Maximum sentence the law sets"), choices=sentence_kind_choices(), default="term"
    )
    max_sentence_years = years_field(_l("Maximum term in years"))
    max_sentence_months = months_field(_l("plus months"))
    stage = Select(_l("Legal stage"), choices=vocabulary_choices(list(LegalStage)))
    filed_on = PartialDateField(_l("Filed on %(hint)s", hint=DATE_HINT))
    sentence_kind = Select(
        _l("Sentence imposed (convictions only)"),
        [Optional()],
        choices=sentence_kind_choices(blank=_l("none")),
    )
    sentence_years = years_field(_l("Sentence imposed in years"))
    sentence_months = months_field(_l("plus months"))
    sentenced_on = DayField(_l("Sentenced on %(hint)s", hint=DAY_HINT), [Optional()])
    in_absentia = BooleanField(_l("In absentia"))
    source = LooseSelectField(_l("Cite a source (optional)"))

    def charge_input(self, sources: list[Source]) -> ChargeInput:
        """The service input; a sentence that makes no sense raises ``ValidationError``."""
        maximum = build_sentence(
            self.max_sentence_kind.data,
            self.max_sentence_years.data,
            self.max_sentence_months.data,
            "max_sentence_years",
        )
        imposed = None
        if self.sentence_kind.data:
            imposed = build_sentence(
                self.sentence_kind.data,
                self.sentence_years.data,
                self.sentence_months.data,
                "sentence_years",
            )
        return ChargeInput(
            offence=self.offence.data or "",
            legal_basis=self.legal_basis.data,
            max_sentence=maximum,
            stage=self.stage.data,
            filed_on=self.filed_on.data,
            sentence_imposed=imposed,
            sentenced_on=self.sentenced_on.data,
            in_absentia=self.in_absentia.data,
            sources=sources,
        )

    @classmethod
    def data_of(cls, charge: Charge) -> dict[str, Any]:
        """Initial values for editing a charge."""
        max_years, max_months = split_months(charge.max_sentence_months)
        imposed = charge.sentence_imposed
        years, months = split_months(imposed.months if imposed else None)
        return {
            "offence": charge.offence,
            "legal_basis": charge.legal_basis,
            "max_sentence_kind": charge.max_sentence_kind,
            "max_sentence_years": max_years,
            "max_sentence_months": max_months,
            "stage": charge.stage,
            "filed_on": charge.filed,
            "sentence_kind": imposed.kind.value if imposed else "",
            "sentence_years": years,
            "sentence_months": months,
            "sentenced_on": charge.sentenced_on,
            "in_absentia": charge.in_absentia,
        }


# Service error keys that belong to a field of this form with another name.
SENTENCE_ERRORS = {"sentence_imposed": "sentence_kind", "max_sentence": "max_sentence_kind"}
