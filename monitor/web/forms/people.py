"""Forms for people, organizations and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_babel.speaklater import LazyString
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.validators import ValidationError as FieldError

from monitor.domain import OrganizationKind, PartialDate
from monitor.models import Organization, Person
from monitor.presentation.translation import format_number
from monitor.presentation.wording import ORGANIZATION_KIND_LABELS
from monitor.services.csv_format import Gender
from monitor.services.people import (
    MAX_SEATS,
    OrganizationInput,
    PersonInput,
    format_identifiers,
    identifier_pairs,
    parse_identifiers,
)
from monitor.web.fields import (
    DATE_HINT,
    CommaListField,
    CountryField,
    Form,
    LooseSelectField,
    PartialDateField,
    Select,
)

CONFIRM_NEW_PERSON = _l("None of these: add a new person anyway")
IDENTIFIERS_LABEL = _l(
    "Identifiers (one per line as scheme:identifier, e.g. %(example)s)", example="wikidata:Q3194965"
)
# WTForms has no Khmer catalog: the validators' messages are the register's own (the same
# words as the case forms').
REQUIRED = _l("This field is required.")
TOO_LONG = _l("Field cannot be longer than %(max)d characters.")
# As the service words it, the largest number written the language's way.
SEATS_RANGE = LazyString(
    lambda: _("must be a whole number from %(min)s to %(max)s", min=0, max=format_number(MAX_SEATS))
)

# The gender the CSV import takes (services.csv_format.Gender), as the pages name it; no value:
# not known.
GENDER_LABELS: dict[str, Any] = {
    Gender.FEMALE.value: lazy_pgettext("gender", "female"),
    Gender.MALE.value: lazy_pgettext("gender", "male"),
    Gender.OTHER.value: lazy_pgettext("gender", "other"),
}
GENDER_NOT_KNOWN = _l("— not known —")


def gender_label(value: str | None) -> str | None:
    """A recorded gender in the page's language: a value of the vocabulary by its label, any
    other text (recorded before the vocabulary, or by the API) as it was recorded."""
    if not value:
        return None
    label = GENDER_LABELS.get(value)
    return str(label) if label is not None else value


def at_most(characters: int) -> Length:
    """A length limit whose message is in the page's language."""
    return Length(max=characters, message=TOO_LONG)


class GenderField(Select):
    """The gender, chosen from the import's small vocabulary (or not known).

    A person's gender recorded as other text stays one more option, "kept as recorded", so
    saving the form without touching the field keeps it as it was.
    """

    def __init__(self, label: Any, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("choices", self.vocabulary())
        super().__init__(label, validators, **kwargs)

    @staticmethod
    def vocabulary() -> list[tuple[str, Any]]:
        """``("", not known)`` then each gender of the vocabulary."""
        return [("", GENDER_NOT_KNOWN), *GENDER_LABELS.items()]

    def keep(self, recorded: str | None) -> None:
        """Offer ``recorded``, a gender outside the vocabulary, as it is."""
        if recorded and recorded not in GENDER_LABELS:
            kept = _l("%(gender)s (kept as recorded)", gender=recorded)
            self.choices = [*self.vocabulary(), (recorded, kept)]

    def pre_validate(self, form: Any) -> None:
        """Only an offered option."""
        if self.data and self.data not in {choice.value for choice in self.choices}:
            raise FieldError(_("choose one of the genders listed"))


class IdentifiersField(TextAreaField):  # type: ignore[misc]  # wtforms ships no type hints
    """Identifiers typed one per line as ``scheme:identifier``; the data is a list of pairs."""

    data: list[tuple[str, str]] | Any

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        """Parse each line; a bad line is the field's error."""
        text = valuelist[0] if valuelist else ""
        try:
            self.data = parse_identifiers(text.splitlines())
        except ValueError as exc:
            self.data = []
            raise ValueError(str(exc)) from None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "\n".join(format_identifiers(self.data or []))


class WholeNumberField(IntegerField):  # type: ignore[misc]  # wtforms ships no type hints
    """A whole number, refused in the page's language when it is not one."""

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        """The number typed; other text is the field's error."""
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(_("enter a whole number")) from None


class PersonForm(Form):
    """A person's details."""

    name = StringField(_l("Name (Latin script)"), [InputRequired(REQUIRED), at_most(200)])
    name_native = StringField(_l("Name in original script"), [at_most(200)])
    aliases = CommaListField(_l("Aliases (comma-separated)"))
    gender = GenderField(_l("Gender"))
    birth_date = PartialDateField(_l("Born %(hint)s", hint=DATE_HINT))
    death_date = PartialDateField(_l("Died %(hint)s", hint=DATE_HINT))
    nationality = CountryField(_l("Nationality"), blank=_l("— not known —"))
    occupation = StringField(_l("Occupation"), [at_most(200)])
    biography = TextAreaField(_l("Biography"))
    identifiers = IdentifiersField(IDENTIFIERS_LABEL)
    # Shown when the name matches someone registered (see people/_duplicates.html).
    confirm_new_person = BooleanField(CONFIRM_NEW_PERSON)

    def keep_recorded(self, person: Person) -> None:
        """Offer what the person's record holds where a select would not (their gender typed
        before the vocabulary), so editing loses nothing."""
        self.gender.keep(person.gender)

    def person_input(self) -> PersonInput:
        """The service input."""
        return PersonInput(
            name=self.name.data or "",
            name_native=self.name_native.data,
            aliases=list(self.aliases.data or []),
            gender=self.gender.data or None,
            birth_date=self.birth_date.data,
            nationality=self.nationality.data,
            occupation=self.occupation.data,
            biography=self.biography.data,
            death_date=self.death_date.data,
            identifiers=list(self.identifiers.data or []),
        )

    @classmethod
    def data_of(cls, person: Person) -> dict[str, Any]:
        """Initial values for editing a person."""
        return {
            "name": person.name,
            "name_native": person.name_native,
            "aliases": list(person.aliases or []),
            "gender": person.gender or "",
            "birth_date": person.birth,
            "nationality": person.nationality,
            "occupation": person.occupation,
            "biography": person.biography,
            "death_date": person.death,
            "identifiers": identifier_pairs(person),
        }


class OrganizationForm(Form):
    """An organization's details."""

    name = StringField(_l("Name"), [InputRequired(REQUIRED), at_most(200)])
    short_name = StringField(_l("Short name (e.g. %(example)s)", example="CNRP"), [at_most(40)])
    kind = Select(
        _l("Kind"), choices=[(k.value, ORGANIZATION_KIND_LABELS[k]) for k in OrganizationKind]
    )
    country = CountryField(_l("Country"), blank=_l("— none —"))
    seats = WholeNumberField(
        _l("Seats or members"),
        [Optional(), NumberRange(min=0, max=MAX_SEATS, message=SEATS_RANGE)],
    )
    dissolved_on = PartialDateField(_l("Dissolved on %(hint)s", hint=DATE_HINT))
    identifiers = IdentifiersField(IDENTIFIERS_LABEL)

    def organization_input(self) -> OrganizationInput:
        """The service input."""
        return OrganizationInput(
            name=self.name.data or "",
            kind=self.kind.data,
            short_name=self.short_name.data,
            country=self.country.data,
            seats=self.seats.data,
            dissolved_on=self.dissolved_on.data,
            identifiers=list(self.identifiers.data or []),
        )

    @classmethod
    def data_of(cls, org: Organization) -> dict[str, Any]:
        """Initial values for editing an organization."""
        return {
            "name": org.name,
            "short_name": org.short_name,
            "kind": org.kind,
            "country": org.country,
            "seats": org.seats,
            "dissolved_on": PartialDate(org.dissolved_on) if org.dissolved_on else None,
            "identifiers": identifier_pairs(org),
        }


class MembershipForm(Form):
    """A person's role in an organization."""

    organization = LooseSelectField(_l("Organization"), [InputRequired(REQUIRED)])
    role = StringField(
        _l("Role (e.g. %(example)s)", example=_l("Member of Parliament")), [at_most(120)]
    )
    start = PartialDateField(_l("From %(hint)s", hint=DATE_HINT))
    end = PartialDateField(_l("Until %(hint)s", hint=DATE_HINT))
    area = StringField(_l("Constituency or area"), [at_most(200)])
