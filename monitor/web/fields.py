"""Form base class and the fields forms share: dates, countries, lists, sentences."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

import pycountry
from babel.support import LazyProxy
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import NumberRange, Optional
from wtforms.validators import ValidationError as FieldError

from monitor.domain import (
    MAX_TERM_MONTHS,
    DatePrecision,
    PartialDate,
    Sentence,
    SentenceKind,
)
from monitor.presentation import SENTENCE_KIND_LABELS, country_name
from monitor.presentation.translation import current_language, using_language
from monitor.presentation.wording import VOCABULARY_LABELS
from monitor.services import ValidationError


class Form(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no type hints
    """Every web form: CSRF-protected, with form-level errors for unknown service fields."""


# Every date in every form is typed the same way (no browser date picker): a text box this hint
# follows, parsed by PartialDate.parse, so a mistake reads the same wherever it is made.
DATE_HINT = _l("(YYYY, YYYY-MM or YYYY-MM-DD)")
# For the few dates the register keeps to the day (a case opened or closed, a sentence passed).
DAY_HINT = _l("(YYYY-MM-DD)")
_DATE_BOX = {"class": "short", "autocomplete": "off", "spellcheck": "false"}
# PartialDate.parse's two refusals (the domain's English), as a form says them.
_DATE_PROBLEMS = {
    "use YYYY, YYYY-MM or YYYY-MM-DD": _l("use YYYY, YYYY-MM or YYYY-MM-DD"),
    "not a real calendar date": _l("not a real calendar date"),
}


class PartialDateField(StringField):  # type: ignore[misc]  # wtforms ships no type hints
    """A date known to the year, month or day: ``2017``, ``2017-09`` or ``2017-09-03``."""

    data: PartialDate | Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", dict(_DATE_BOX))
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        """Parse the submitted text; a malformed date becomes this field's error."""
        text = valuelist[0].strip() if valuelist else ""
        try:
            self.data = PartialDate.parse(text) if text else None
        except ValueError as exc:
            self.data = None
            raise ValueError(str(_DATE_PROBLEMS.get(str(exc), exc))) from None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return self.data.iso() if isinstance(self.data, PartialDate) else ""


class DayField(PartialDateField):
    """A date kept to the day, typed like every other date: ``2017-09-03`` (a year or a month
    alone is refused, as the register could only store it as a made-up first day)."""

    data: dt.date | Any

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        """Parse as a partial date, then insist on the day."""
        super().process_formdata(valuelist)
        if isinstance(self.data, PartialDate):
            if self.data.precision is not DatePrecision.DAY:
                self.data = None
                raise ValueError(_("give the day as well: YYYY-MM-DD"))
            self.data = self.data.start

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return self.data.isoformat() if isinstance(self.data, dt.date) else ""


_COUNTRY_CODES = frozenset(str(c.alpha_2) for c in pycountry.countries)


@functools.cache
def _countries(language: str) -> tuple[tuple[str, str], ...]:
    # ISO 3166-1 does not change while the process runs: named and sorted once per language,
    # by the name people look for.
    with using_language(language):
        named = [(code, f"{country_name(code)} ({code})") for code in _COUNTRY_CODES]
    return tuple(sorted(named, key=lambda pair: pair[1].casefold()))


def country_choices(blank: Any = None) -> list[tuple[str, Any]]:
    """``(code, "Cambodia (KH)")`` for every ISO 3166-1 country by its name in the page's
    language, maybe a blank first (forms bind their fields per request, so this runs then)."""
    choices: list[tuple[str, Any]] = [("", blank)] if blank is not None else []
    return choices + list(_countries(current_language()))


class CommaListField(StringField):  # type: ignore[misc]  # wtforms ships no type hints
    """A list typed as comma-separated text (aliases, tags)."""

    data: list[str] | Any

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        """Split on commas, dropping blanks."""
        text = valuelist[0] if valuelist else ""
        self.data = [part.strip() for part in text.split(",") if part.strip()]

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return ", ".join(self.data or [])


def vocabulary_choices(values: Sequence[Any], blank: Any = None) -> list[tuple[str, Any]]:
    """``(value, label)`` pairs for a select over a vocabulary, optionally with a blank first;
    the labels the register translates are worded in the page's language when shown."""
    choices: list[tuple[str, Any]] = [("", blank)] if blank is not None else []
    return choices + [
        (str(v.value), VOCABULARY_LABELS.get(str(v.value)) or str(getattr(v, "label", v.value)))
        for v in values
    ]


def sentence_kind_choices(blank: Any = None) -> list[tuple[str, Any]]:
    """Sentence kinds with reader wording."""
    choices: list[tuple[str, Any]] = [("", blank)] if blank is not None else []
    return choices + [(k.value, label) for k, label in SENTENCE_KIND_LABELS.items()]


def years_field(label: Any) -> Any:
    """A whole number of years, optional."""
    return IntegerField(label, [Optional(), NumberRange(min=0, max=200)])


def months_field(label: Any) -> Any:
    """A whole number of months, optional."""
    return IntegerField(label, [Optional(), NumberRange(min=0, max=2400)])


def build_sentence(kind: str | None, years: int | None, months: int | None, field: str) -> Sentence:
    """A sentence from a kind select and years + months inputs; errors name ``field``."""
    try:
        sentence_kind = SentenceKind(kind or "")
    except ValueError:
        raise ValidationError({field: _("choose what kind of sentence it is")}) from None
    total = (years or 0) * 12 + (months or 0)
    if sentence_kind is SentenceKind.TERM:
        if total <= 0:
            raise ValidationError({field: _("a term needs its length in years and/or months")})
        if total > MAX_TERM_MONTHS:
            # The domain's TERM_TOO_LONG, in the page's language.
            raise ValidationError(
                {field: _("a term longer than 200 years: record it as life imprisonment")}
            )
        return Sentence(sentence_kind, total)
    if total:
        raise ValidationError(
            {
                field: _(
                    "a sentence of %(kind)s has no length; leave it empty",
                    kind=SENTENCE_KIND_LABELS[sentence_kind],
                )
            }
        )
    return Sentence(sentence_kind)


def split_months(months: int | None) -> tuple[int | None, int | None]:
    """Years and remaining months for pre-filling a term (``360`` → ``(30, None)``)."""
    if not months:
        return None, None
    years, rest = divmod(months, 12)
    return (years or None), (rest or None)


def to_choices(pairs: Any) -> Any:
    """``(value, label)`` pairs as the ``SelectChoice`` objects WTForms 3.3+ expects; a lazily
    translated label stays lazy, so it is worded in the language of each page."""
    if pairs is None or callable(pairs):
        return pairs
    return [
        p if isinstance(p, SelectChoice) else SelectChoice(str(p[0]), _label(p[1])) for p in pairs
    ]


def _label(label: Any) -> Any:
    return label if isinstance(label, str | LazyString | LazyProxy) else str(label)


class Select(SelectField):  # type: ignore[misc]  # wtforms ships no type hints
    """A select whose options may be given as plain ``(value, label)`` pairs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "choices" in kwargs:
            kwargs["choices"] = to_choices(kwargs["choices"])
        super().__init__(*args, **kwargs)

    @property
    def choices(self) -> Any:
        """The options, as ``SelectChoice`` objects."""
        return self._choices

    @choices.setter
    def choices(self, value: Any) -> None:
        self._choices = to_choices(value)


class CountryField(Select):
    """A country chosen by name from ISO 3166-1 (the value sent is its two-letter code).

    A select rather than a box: only a real code can be chosen, it works without script, and
    typing a name's first letters jumps to it. A lower-case code (``kh``, as the API allows) is
    accepted; anything else names itself in the error, as the service's check would.
    """

    def __init__(self, label: Any, validators: Any = None, blank: Any = "", **kwargs: Any) -> None:
        kwargs.setdefault("choices", country_choices(blank))
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        """The code as sent, upper-cased."""
        if valuelist:
            self.data = valuelist[0].strip().upper()

    def process_data(self, value: Any) -> None:
        """A stored code (``KH``) or none."""
        self.data = (value or "").upper()

    def pre_validate(self, form: Any) -> None:
        """Only a code from the list (or the blank option, which the validators judge)."""
        if self.data and self.data not in _COUNTRY_CODES:
            raise FieldError(
                _("%(code)s is not an ISO 3166-1 two-letter country code", code=repr(self.data))
            )


class LooseSelectField(Select):
    """A select whose options are a convenience; the view checks the value against the database."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validate_choice", False)
        kwargs.setdefault("choices", [])
        super().__init__(*args, **kwargs)
