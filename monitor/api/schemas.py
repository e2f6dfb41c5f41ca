"""Request bodies as pydantic models; the OpenAPI document is generated from these same classes.

They check shape and types only. Domain rules (a real country code, a title that is not blank, a
status date not in the future) stay in the services, which answer with the same field names.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from monitor.domain import (
    MAX_TERM_MONTHS,
    TERM_TOO_LONG,
    Certainty,
    Confidentiality,
    CustodyStatus,
    LegalStage,
    OrganizationKind,
    PartialDate,
    Sentence,
    SentenceKind,
)
from monitor.services.people import MAX_SEATS, PersonInput

PARTIAL_DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


def _partial_date(value: object) -> PartialDate:
    if isinstance(value, PartialDate):
        return value
    if not isinstance(value, str):
        raise ValueError("use YYYY, YYYY-MM or YYYY-MM-DD")
    return PartialDate.parse(value)


PartialDateText = Annotated[
    PartialDate,
    PlainValidator(_partial_date),
    # Serialising back to ISO text also keeps pydantic from describing the dataclass itself.
    PlainSerializer(PartialDate.iso, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PARTIAL_DATE_PATTERN,
            "description": "A date known to the year, month or day; the precision is kept.",
            "examples": ["2017", "2017-09", "2017-09-03"],
        }
    ),
]
PublicId = Annotated[StrictStr, Field(min_length=1, max_length=16)]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused, so a typo is not silently lost."""

    model_config = ConfigDict(extra="forbid")


class SentenceValue(RequestModel):
    """A sentence: a term in months, or life, death, fine only, unknown (no months)."""

    kind: SentenceKind
    months: StrictInt | None = Field(default=None, validate_default=True)

    @field_validator("months")
    @classmethod
    def _months_fit_kind(cls, months: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")
        if kind is SentenceKind.TERM and (months is None or months <= 0):
            raise ValueError("a term needs a positive number of months")
        if months is not None and months > MAX_TERM_MONTHS:
            raise ValueError(TERM_TOO_LONG)
        if kind is not None and kind is not SentenceKind.TERM and months is not None:
            raise ValueError(f"a {kind.value} sentence has no months")
        return months

    def to_sentence(self) -> Sentence:
        """The domain value."""
        return Sentence(self.kind, self.months)


class PersonCreate(RequestModel):
    """A person: the name in Latin script, in the original script, and aliases."""

    name: StrictStr
    name_native: StrictStr | None = None
    aliases: list[StrictStr] = Field(default_factory=list)
    gender: StrictStr | None = None
    birth_date: PartialDateText | None = None
    nationality: StrictStr | None = Field(default=None, description="ISO 3166-1 alpha-2 code")
    occupation: StrictStr | None = None
    biography: StrictStr | None = None

    def to_input(self) -> PersonInput:
        """The service's input."""
        return PersonInput(
            name=self.name,
            name_native=self.name_native,
            aliases=list(self.aliases),
            gender=self.gender,
            birth_date=self.birth_date,
            nationality=self.nationality,
            occupation=self.occupation,
            biography=self.biography,
        )


class CaseCreate(RequestModel):
    """A new case with its first custody status, for an inline new person or an existing one."""

    person: PersonCreate | None = Field(default=None, description="A new person (or person_id)")
    person_id: PublicId | None = Field(default=None, description="An existing person's id")
    country: StrictStr = Field(description="ISO 3166-1 alpha-2 code of the persecuting country")
    title: StrictStr
    summary: StrictStr | None = None
    confidentiality: Confidentiality = Confidentiality.PUBLIC
    tags: list[StrictStr] = Field(default_factory=list)
    status: CustodyStatus
    status_since: PartialDateText
    about: StrictBool = False
    location: StrictStr | None = None
    description: StrictStr | None = None
    certainty: Certainty = Certainty.CONFIRMED
    source_ids: list[PublicId] = Field(default_factory=list)
    organization_id: PublicId | None = Field(
        default=None, description="Also record the person as a member of this organization"
    )
    role: StrictStr | None = Field(default=None, description="Their role in that organization")


class CasePatch(RequestModel):
    """Editable fields of a case; the custody status changes only through status events."""

    country: StrictStr | None = None
    title: StrictStr | None = None
    summary: StrictStr | None = None
    confidentiality: Confidentiality | None = None
    tags: list[StrictStr] | None = None
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None


class StatusEventCreate(RequestModel):
    """A custody status change; it becomes the current status only if it is the latest."""

    status: CustodyStatus
    occurred_on: PartialDateText
    about: StrictBool = Field(default=False, description="The date is approximate")
    location: StrictStr | None = None
    description: StrictStr | None = None
    certainty: Certainty = Certainty.CONFIRMED
    source_ids: list[PublicId] = Field(default_factory=list)


class ChargeCreate(RequestModel):
    """A charge: offence, legal basis, the maximum sentence it carries and its legal stage."""

    offence: StrictStr
    legal_basis: StrictStr | None = None
    max_sentence: SentenceValue
    stage: LegalStage = LegalStage.CHARGED
    filed_on: PartialDateText | None = None
    sentence_imposed: SentenceValue | None = None
    sentenced_on: dt.date | None = None
    in_absentia: StrictBool = False
    source_ids: list[PublicId] = Field(default_factory=list)


class ChargePatch(RequestModel):
    """Changes to a charge, typically a new legal stage or an imposed sentence."""

    offence: StrictStr | None = None
    legal_basis: StrictStr | None = None
    max_sentence: SentenceValue | None = None
    stage: LegalStage | None = None
    filed_on: PartialDateText | None = None
    sentence_imposed: SentenceValue | None = None
    sentenced_on: dt.date | None = None
    in_absentia: StrictBool | None = None
    source_ids: list[PublicId] | None = None


class OrganizationCreate(RequestModel):
    """A party, NGO, media outlet or union."""

    name: StrictStr
    short_name: StrictStr | None = None
    kind: OrganizationKind
    country: StrictStr | None = Field(default=None, description="ISO 3166-1 alpha-2 code")
    seats: StrictInt | None = Field(
        default=None, ge=0, le=MAX_SEATS, description="Seats or member count"
    )
    dissolved_on: PartialDateText | None = None


class SourceCreate(RequestModel):
    """A published report to cite from events and charges."""

    title: StrictStr
    publisher: StrictStr | None = None
    url: StrictStr | None = Field(default=None, description="An http(s) address")
    published_on: PartialDateText | None = None
    quote: StrictStr | None = None
    accessed_on: dt.date | None = None


REQUEST_MODELS: list[type[RequestModel]] = [
    CaseCreate,
    CasePatch,
    StatusEventCreate,
    ChargeCreate,
    ChargePatch,
    PersonCreate,
    OrganizationCreate,
    SourceCreate,
]


def provided(model: BaseModel) -> dict[str, Any]:
    """Only the fields the client actually sent (a PATCH leaves the others alone)."""
    return {name: getattr(model, name) for name in model.model_fields_set}
