"""Forms for cases and their custody status history."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField, URLField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError

from monitor.domain import Certainty, Confidentiality
from monitor.models import Case, Source, User
from monitor.presentation import STATUS_ORDER
from monitor.presentation.wording import LEVEL_LABELS, STATUS_LABELS
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
CHOOSE_A_STATUS = _l("Choose a status…")
STATUS_REQUIRED = _l("choose the custody status")
# WTForms has no Khmer catalog: the validators' messages are the register's own.
REQUIRED = _l("This field is required.")
TOO_LONG = _l("Field cannot be longer than %(max)d characters.")


def status_field(label: Any) -> Any:
    """The custody status select, starting on an empty "Choose a status…" that is refused."""
    return Select(
        label,
        [InputRequired(message=STATUS_REQUIRED)],
        choices=[("", CHOOSE_A_STATUS)] + [(s.value, STATUS_LABELS[s]) for s in STATUS_ORDER],
    )


def at_most(characters: int) -> Length:
    """A length limit whose message is in the page's language."""
    return Length(max=characters, message=TOO_LONG)


class CaseForm(Form):
    """A case's editable fields."""

    country = CountryField(
        _l("Persecuting country"),
        [InputRequired(message=_l("choose the country"))],
        blank=_l("Choose a country…"),
    )
    title = StringField(_l("Title"), [InputRequired(REQUIRED), at_most(300)])
    summary = TextAreaField(_l("Summary"))
    confidentiality = Select(_l("Confidentiality"))
    tags = CommaListField(_l("Tags (comma-separated)"))
    opened_on = DayField(_l("Opened on %(hint)s", hint=DAY_HINT), [Optional()])
    closed_on = DayField(_l("Closed on %(hint)s", hint=DAY_HINT), [Optional()])

    def limit_levels(self, user: User) -> None:
        """Offer only the levels up to the user's clearance (the select also enforces it)."""
        self.confidentiality.choices = [
            (lvl, LEVEL_LABELS[Confidentiality(lvl)]) for lvl in user.level.levels_visible()
        ]

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

    person = LooseSelectField(_l("Existing person"))
    person_name = StringField(_l("Name (Latin script)"), [at_most(200)])
    person_name_native = StringField(_l("Name in original script"), [at_most(200)])
    person_aliases = CommaListField(_l("Aliases (comma-separated)"))
    confirm_new_person = BooleanField(CONFIRM_NEW_PERSON)  # see people/_duplicates.html
    status = status_field(_l("Custody status"))
    status_since = PartialDateField(_l("Since %(hint)s", hint=DATE_HINT), [InputRequired(REQUIRED)])
    status_about = BooleanField(_l("The date is approximate"))
    organization = LooseSelectField(_l("Organization (optional)"))
    role = StringField(_l("Role in the organization"), [at_most(120)])

    def validate_person_name(self, field: Any) -> None:
        """Exactly one of: an existing person, a new person's name."""
        chosen = bool(self.person.data)
        typed = bool((field.data or "").strip())
        if chosen and typed:
            raise FieldError(_l("choose an existing person or enter a new one, not both"))
        if not chosen and not typed:
            raise FieldError(_l("choose an existing person or enter a new person’s name"))

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

    status = status_field(_l("New custody status"))
    occurred_on = PartialDateField(
        _l("Occurred on %(hint)s", hint=DATE_HINT), [InputRequired(REQUIRED)]
    )
    about = BooleanField(_l("The date is approximate (“about”)"))
    location = StringField(_l("Location"), [at_most(300)])
    description = TextAreaField(_l("Description"))
    certainty = Select(_l("Certainty"), choices=vocabulary_choices(list(Certainty)))
    source = LooseSelectField(_l("Existing source"))
    source_title = StringField(_l("Title"), [at_most(300)])
    source_publisher = StringField(_l("Publisher"), [at_most(200)])
    source_url = URLField(_l("Address (http:// or https://)"), [at_most(2000)])
    source_published = PartialDateField(_l("Published %(hint)s", hint=DATE_HINT))

    def validate_source_title(self, field: Any) -> None:
        """An existing source or a new one, not both."""
        if self.source.data and self.describes_new_source():
            raise FieldError(_l("choose an existing source or describe a new one, not both"))

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
