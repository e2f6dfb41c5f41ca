"""Forms for cases and their custody status history."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, StringField, TextAreaField, URLField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError

from monitor.domain import Certainty
from monitor.models import Case, Source, User
from monitor.presentation import STATUS_ORDER
from monitor.services.cases import CaseInput, StatusInput
from monitor.services.people import PersonInput
from monitor.services.sources import SourceInput
from monitor.web.fields import (
    DATE_HINT,
    DAY_HINT,
    CommaListField,
    CountryField,
    DayField,
    Form,
    LooseSelectField,
    PartialDateField,
    Select,
    vocabulary_choices,
)
from monitor.web.forms.people import CONFIRM_NEW_PERSON

# No status is pre-selected: a form that defaulted to "jailed" recorded it when nobody chose.
CHOOSE_A_STATUS = "Choose a status…"
STATUS_REQUIRED = "choose the custody status"


def status_field(label: str) -> Any:
    """The custody status select, starting on an empty "Choose a status…" that is refused."""
    return Select(
        label,
        [InputRequired(message=STATUS_REQUIRED)],
        choices=vocabulary_choices(STATUS_ORDER, blank=CHOOSE_A_STATUS),
    )


class CaseForm(Form):
    """A case's editable fields."""

    country = CountryField(
        "Persecuting country",
        [InputRequired(message="choose the country")],
        blank="Choose a country…",
    )
    title = StringField("Title", [InputRequired(), Length(max=300)])
    summary = TextAreaField("Summary")
    confidentiality = Select("Confidentiality")
    tags = CommaListField("Tags (comma-separated)")
    opened_on = DayField(f"Opened on {DAY_HINT}", [Optional()])
    closed_on = DayField(f"Closed on {DAY_HINT}", [Optional()])

    def limit_levels(self, user: User) -> None:
        """Offer only the levels up to the user's clearance (the select also enforces it)."""
        self.confidentiality.choices = [(lvl, lvl) for lvl in user.level.levels_visible()]

    def case_input(self) -> CaseInput:
        """The service input."""
        return CaseInput(
            country=self.country.data or "",
            title=self.title.data or "",
            confidentiality=self.confidentiality.data,
            summary=self.summary.data,
            tags=list(self.tags.data or []),
            opened_on=self.opened_on.data,
            closed_on=self.closed_on.data,
        )

    @classmethod
    def data_of(cls, case: Case) -> dict[str, Any]:
        """Initial values for editing a case."""
        return {
            "country": case.country,
            "title": case.title,
            "summary": case.summary,
            "confidentiality": case.confidentiality,
            "tags": list(case.tags or []),
            "opened_on": case.opened_on,
            "closed_on": case.closed_on,
        }


class NewCaseForm(CaseForm):
    """A new case: an existing person or a new one, the first custody status, a membership."""

    person = LooseSelectField("Existing person")
    person_name = StringField("Name (Latin script)", [Length(max=200)])
    person_name_native = StringField("Name in original script", [Length(max=200)])
    person_aliases = CommaListField("Aliases (comma-separated)")
    confirm_new_person = BooleanField(CONFIRM_NEW_PERSON)  # see people/_duplicates.html
    status = status_field("Custody status")
    status_since = PartialDateField(f"Since {DATE_HINT}", [InputRequired()])
    status_about = BooleanField("The date is approximate")
    organization = LooseSelectField("Organization (optional)")
    role = StringField("Role in the organization", [Length(max=120)])

    def validate_person_name(self, field: Any) -> None:
        """Exactly one of: an existing person, a new person's name."""
        chosen = bool(self.person.data)
        typed = bool((field.data or "").strip())
        if chosen and typed:
            raise FieldError("choose an existing person or enter a new one, not both")
        if not chosen and not typed:
            raise FieldError("choose an existing person or enter a new person's name")

    def person_input(self) -> PersonInput:
        """The new person typed inline."""
        return PersonInput(
            name=self.person_name.data or "",
            name_native=self.person_name_native.data,
            aliases=list(self.person_aliases.data or []),
        )

    def status_input(self) -> StatusInput:
        """The first status event."""
        return StatusInput(
            status=self.status.data,
            occurred_on=self.status_since.data,
            about=self.status_about.data,
        )


class StatusForm(Form):
    """Record a custody status change, citing an existing source or a new one."""

    status = status_field("New custody status")
    occurred_on = PartialDateField(f"Occurred on {DATE_HINT}", [InputRequired()])
    about = BooleanField("The date is approximate (“about”)")
    location = StringField("Location", [Length(max=300)])
    description = TextAreaField("Description")
    certainty = Select("Certainty", choices=vocabulary_choices(list(Certainty)))
    source = LooseSelectField("Existing source")
    source_title = StringField("Title", [Length(max=300)])
    source_publisher = StringField("Publisher", [Length(max=200)])
    source_url = URLField("Address (http:// or https://)", [Length(max=2000)])
    source_published = PartialDateField(f"Published {DATE_HINT}")

    def validate_source_title(self, field: Any) -> None:
        """An existing source or a new one, not both."""
        if self.source.data and self.describes_new_source():
            raise FieldError("choose an existing source or describe a new one, not both")

    def describes_new_source(self) -> bool:
        """Whether any of the new-source fields was filled in."""
        texts = [self.source_title.data, self.source_publisher.data, self.source_url.data]
        published = self.source_published.raw_data
        return any((t or "").strip() for t in texts) or bool(published and published[0].strip())

    def source_input(self) -> SourceInput:
        """The new source typed inline."""
        return SourceInput(
            title=self.source_title.data or "",
            publisher=self.source_publisher.data,
            url=self.source_url.data,
            published_on=self.source_published.data,
        )

    def status_input(self, sources: list[Source]) -> StatusInput:
        """The service input."""
        return StatusInput(
            status=self.status.data,
            occurred_on=self.occurred_on.data,
            about=self.about.data,
            location=self.location.data,
            description=self.description.data,
            certainty=self.certainty.data,
            sources=sources,
        )
