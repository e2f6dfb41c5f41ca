"""Forms for people, organizations and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from monitor.domain import OrganizationKind, PartialDate
from monitor.models import Organization, Person
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
    vocabulary_choices,
)

CONFIRM_NEW_PERSON = "None of these: add a new person anyway"
IDENTIFIERS_LABEL = "Identifiers (one per line, scheme:identifier, e.g. wikidata:Q3194965)"


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


class PersonForm(Form):
    """A person's details."""

    name = StringField("Name (Latin script)", [InputRequired(), Length(max=200)])
    name_native = StringField("Name in original script", [Length(max=200)])
    aliases = CommaListField("Aliases (comma-separated)")
    gender = StringField("Gender", [Length(max=40)])
    birth_date = PartialDateField(f"Born {DATE_HINT}")
    death_date = PartialDateField(f"Died {DATE_HINT}")
    nationality = CountryField("Nationality", blank="— not known —")
    occupation = StringField("Occupation", [Length(max=200)])
    biography = TextAreaField("Biography")
    identifiers = IdentifiersField(IDENTIFIERS_LABEL)
    # Shown when the name matches someone registered (see people/_duplicates.html).
    confirm_new_person = BooleanField(CONFIRM_NEW_PERSON)

    def person_input(self) -> PersonInput:
        """The service input."""
        return PersonInput(
            name=self.name.data or "",
            name_native=self.name_native.data,
            aliases=list(self.aliases.data or []),
            gender=self.gender.data,
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
            "gender": person.gender,
            "birth_date": person.birth,
            "nationality": person.nationality,
            "occupation": person.occupation,
            "biography": person.biography,
            "death_date": person.death,
            "identifiers": identifier_pairs(person),
        }


class OrganizationForm(Form):
    """An organization's details."""

    name = StringField("Name", [InputRequired(), Length(max=200)])
    short_name = StringField("Short name (e.g. CNRP)", [Length(max=40)])
    kind = Select("Kind", choices=vocabulary_choices(list(OrganizationKind)))
    country = CountryField("Country", blank="— none —")
    seats = IntegerField("Seats or members", [Optional(), NumberRange(min=0, max=MAX_SEATS)])
    dissolved_on = PartialDateField(f"Dissolved on {DATE_HINT}")
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

    organization = LooseSelectField("Organization", [InputRequired()])
    role = StringField("Role (e.g. Member of Parliament)", [Length(max=120)])
    start = PartialDateField(f"From {DATE_HINT}")
    end = PartialDateField(f"Until {DATE_HINT}")
    area = StringField("Constituency or area", [Length(max=200)])
