"""Request bodies as pydantic models; the OpenAPI document is generated from these same classes.

Every rule a JSON schema can state is stated here and checked here, so the document and the
server agree (the field types of :mod:`monitor.api.fields` check exactly their own schema):
lengths, patterns, what may be null, which fields go together. Rules no schema can state (an id
names a record you may see, a status date is not in the future, a case closes after it opened)
are in the field descriptions; the services enforce them with the same field names.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
)

from monitor.api.fields import (
    CountryCode,
    Day,
    IdentifierScheme,
    Omittable,
    PublicId,
    WebAddress,
    WholeNumber,
    partial_date,
    plain_text,
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
from monitor.services.cases import EXTERNAL_ID_LENGTH
from monitor.services.csv_format import ALIAS_SEPARATOR
from monitor.services.people import IDENTIFIER_LENGTH, MAX_ALIAS_LENGTH, MAX_SEATS, PersonInput

# A term is a positive number of months up to 200 years; the other kinds carry no months.
_FIXED_KINDS = [k.value for k in SentenceKind if k is not SentenceKind.TERM]
_SENTENCE_KINDS: dict[str, Any] = {
    "if": {"properties": {"kind": {"const": SentenceKind.TERM.value}}},
    "then": {
        "properties": {"months": {"type": "integer", "minimum": 1, "maximum": MAX_TERM_MONTHS}},
        "required": ["months"],
    },
    "else": {"properties": {"months": {"type": "null"}}},
}
KNOWN_SOURCES = "Ids of sources you may see (an unknown id is refused with 422)."
NOT_IN_FUTURE = "Not in the future."

# Text fields and their limits, as the services enforce them.
Name = Annotated[str, plain_text(200, required=True)]
Title = Annotated[str, plain_text(300, required=True)]
ShortText = Annotated[str, plain_text(40)]
Line = Annotated[str, plain_text(200)]
LongLine = Annotated[str, plain_text(300)]
LongText = Annotated[str, plain_text(20000, multiline=True)]
Quote = Annotated[str, plain_text(5000, multiline=True)]
Alias = Annotated[str, plain_text(MAX_ALIAS_LENGTH, also_refused=ALIAS_SEPARATOR)]
Tag = Annotated[str, plain_text(200)]
Role = Annotated[str, plain_text(120, required=True)]
StatusDate = Annotated[PartialDate, partial_date(NOT_IN_FUTURE)]
ExternalId = Annotated[str, plain_text(EXTERNAL_ID_LENGTH, required=True)]
EXTERNAL_ID = (
    "Your own id for the case, as your files and the CSV import name it; one case per id "
    "(another case's id, or another case's register id, is refused with 422)"
)
PartialDateText = Annotated[PartialDate, partial_date()]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused, so a typo is not silently lost."""

    model_config = ConfigDict(extra="forbid")


class SentenceValue(RequestModel):
    """A sentence: a term in months, or life, death, fine only, unknown (no months)."""

    model_config = ConfigDict(json_schema_extra=_SENTENCE_KINDS)

    kind: SentenceKind
    months: Annotated[int, WholeNumber()] | None = Field(default=None, validate_default=True)

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


CONFIRM_NEW_PERSON = (
    "true: add the person even if someone registered has the same or a similar name, the same "
    "name in the original script or a matching alias (otherwise such a request answers 409 with "
    "the candidates)"
)


class IdentifierValue(RequestModel):
    """An identifier another register gives a person or organization; one holder per scheme
    and identifier (another holder is refused with 422)."""

    scheme: IdentifierScheme
    identifier: Annotated[str, plain_text(IDENTIFIER_LENGTH, required=True)]


def _pairs(values: list[IdentifierValue]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for value in values:
        pair = (value.scheme, value.identifier.strip())
        if pair not in pairs:
            pairs.append(pair)
    return pairs


class IdentifiersPatch(RequestModel):
    """The identifiers a person or organization holds, as a whole: the list replaces theirs (an
    empty list removes them all). An identifier another holder has is refused with 422 under
    ``identifiers.<n>.identifier`` (from 0, as sent)."""

    identifiers: list[IdentifierValue]

    def identifier_pairs(self) -> list[tuple[str, str]]:
        """The identifiers as the service takes them (a repeated one once)."""
        return _pairs(self.identifiers)

    def field_of(self, pair: tuple[str, str]) -> str:
        """The field naming ``pair`` as sent: ``identifiers.<n>.identifier``."""
        for index, value in enumerate(self.identifiers):
            if (value.scheme, value.identifier.strip()) == pair:
                return f"identifiers.{index}.identifier"
        return "identifiers"


class PersonCreate(RequestModel):
    """A person: the name in Latin script, in the original script, and aliases."""

    name: Name
    name_native: Line | None = None
    aliases: list[Alias] = Field(default_factory=list)
    gender: ShortText | None = None
    birth_date: PartialDateText | None = None
    nationality: CountryCode | None = None
    occupation: Line | None = None
    biography: LongText | None = None
    death_date: PartialDateText | None = None
    identifiers: list[IdentifierValue] = Field(default_factory=list)
    confirm_new_person: StrictBool = Field(default=False, description=CONFIRM_NEW_PERSON)

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
            death_date=self.death_date,
            identifiers=_pairs(self.identifiers),
        )


class MembershipCreate(RequestModel):
    """A person's role in an organization: a member the register knows of needs no case."""

    organization_id: PublicId
    role: Role | None = Field(default=None, description="'member' if left out")
    start: PartialDateText | None = None
    end: PartialDateText | None = Field(default=None, description="Not before start")
    area: Line | None = Field(default=None, description="Constituency or area represented")


class CaseCreate(RequestModel):
    """A new case with its first custody status, for someone new (``person``) or someone
    registered (``person_id``): exactly one of the two."""

    # Conditions as if/then and dependent* keywords, not oneOf: client generators read a
    # top-level oneOf as a choice between unrelated objects.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"not": {"required": ["person"]}},
            "then": {"required": ["person_id"]},
            "dependentSchemas": {"person": {"not": {"required": ["person_id"]}}},
            "dependentRequired": {"role": ["organization_id"]},
        }
    )

    person: Annotated[PersonCreate | None, Omittable()] = Field(
        default=None, description="Someone new (or person_id)"
    )
    person_id: Annotated[PublicId | None, Omittable()] = Field(
        default=None, description="Someone registered whom you may see (or person)"
    )
    country: CountryCode = Field(description="The persecuting country (ISO 3166-1 alpha-2)")
    title: Title
    external_id: Annotated[ExternalId | None, Omittable()] = Field(
        default=None, description=EXTERNAL_ID
    )
    summary: LongText | None = None
    confidentiality: Confidentiality = Field(
        default=Confidentiality.PUBLIC, description="Up to your clearance"
    )
    tags: list[Tag] = Field(default_factory=list)
    status: CustodyStatus
    status_since: StatusDate
    about: StrictBool = False
    location: LongLine | None = None
    description: LongText | None = None
    certainty: Certainty = Certainty.CONFIRMED
    source_ids: list[PublicId] = Field(default_factory=list, description=KNOWN_SOURCES)
    organization_id: Annotated[PublicId | None, Omittable()] = Field(
        default=None, description="Also record the person as a member of this organization"
    )
    confirm_new_person: StrictBool = Field(default=False, description=CONFIRM_NEW_PERSON)
    role: Annotated[Role | None, Omittable()] = Field(
        default=None,
        description="Their role in that organization (needs organization_id; 'member' if left out)",
    )


class CasePatch(RequestModel):
    """Editable fields of a case; the custody status changes only through status events. A field
    left out keeps its value; null clears the summary or a date."""

    country: Annotated[CountryCode | None, Omittable()] = None
    title: Annotated[Title | None, Omittable()] = None
    external_id: ExternalId | None = Field(
        default=None, description=f"{EXTERNAL_ID}; null removes it"
    )
    summary: LongText | None = None
    confidentiality: Annotated[Confidentiality | None, Omittable()] = Field(
        default=None, description="Up to your clearance"
    )
    tags: Annotated[list[Tag] | None, Omittable()] = None
    opened_on: Day | None = None
    closed_on: Day | None = Field(default=None, description="Not before opened_on")


class StatusEventCreate(RequestModel):
    """A custody status change; it becomes the current status only if it is the latest."""

    status: CustodyStatus
    occurred_on: StatusDate
    about: StrictBool = Field(default=False, description="The date is approximate")
    location: LongLine | None = None
    description: LongText | None = None
    certainty: Certainty = Certainty.CONFIRMED
    source_ids: list[PublicId] = Field(default_factory=list, description=KNOWN_SOURCES)


# Only a conviction carries an imposed sentence.
_IMPOSED_ON_CONVICTION: dict[str, Any] = {
    "if": {
        "not": {
            "properties": {"stage": {"const": LegalStage.CONVICTED.value}},
            "required": ["stage"],
        }
    },
    "then": {"properties": {"sentence_imposed": {"type": "null"}}},
}


class ChargeCreate(RequestModel):
    """A charge: offence, legal basis, the maximum sentence it carries and its legal stage."""

    model_config = ConfigDict(json_schema_extra=_IMPOSED_ON_CONVICTION)

    offence: Title
    legal_basis: LongLine | None = None
    max_sentence: SentenceValue
    stage: LegalStage = LegalStage.CHARGED
    filed_on: PartialDateText | None = None
    sentence_imposed: SentenceValue | None = Field(
        default=None, description="Only with stage convicted"
    )
    sentenced_on: Day | None = None
    in_absentia: StrictBool = False
    source_ids: list[PublicId] = Field(default_factory=list, description=KNOWN_SOURCES)

    @field_validator("sentence_imposed")
    @classmethod
    def _imposed_on_conviction(
        cls, imposed: SentenceValue | None, info: ValidationInfo
    ) -> SentenceValue | None:
        if imposed is not None and info.data.get("stage") is not LegalStage.CONVICTED:
            raise ValueError("only a conviction carries an imposed sentence")
        return imposed


# On a PATCH the stage may be left out; one that is sent must be convicted for a sentence.
_IMPOSED_ON_NEW_CONVICTION: dict[str, Any] = {
    "if": {
        "properties": {"stage": {"not": {"const": LegalStage.CONVICTED.value}}},
        "required": ["stage"],
    },
    "then": {"properties": {"sentence_imposed": {"type": "null"}}},
}


class ChargePatch(RequestModel):
    """Changes to a charge, typically a new legal stage or an imposed sentence. A field left out
    keeps its value; null clears an optional one."""

    model_config = ConfigDict(json_schema_extra=_IMPOSED_ON_NEW_CONVICTION)

    offence: Annotated[Title | None, Omittable()] = None
    legal_basis: LongLine | None = None
    max_sentence: Annotated[SentenceValue | None, Omittable()] = None
    stage: Annotated[LegalStage | None, Omittable()] = None
    filed_on: PartialDateText | None = None
    sentence_imposed: SentenceValue | None = Field(
        default=None, description="Only when the charge is (or becomes) convicted"
    )
    sentenced_on: Day | None = None
    in_absentia: Annotated[StrictBool | None, Omittable()] = None
    source_ids: Annotated[list[PublicId] | None, Omittable()] = Field(
        default=None, description=KNOWN_SOURCES
    )

    @field_validator("sentence_imposed")
    @classmethod
    def _imposed_on_conviction(
        cls, imposed: SentenceValue | None, info: ValidationInfo
    ) -> SentenceValue | None:
        stage = info.data.get("stage")
        if imposed is not None and stage is not None and stage is not LegalStage.CONVICTED:
            raise ValueError("only a conviction carries an imposed sentence")
        return imposed


class OrganizationCreate(RequestModel):
    """A party, NGO, media outlet or union."""

    name: Name
    short_name: ShortText | None = None
    kind: OrganizationKind
    country: CountryCode | None = None
    seats: Annotated[int, WholeNumber(0, MAX_SEATS)] | None = Field(
        default=None, description="Seats or member count"
    )
    dissolved_on: PartialDateText | None = None
    identifiers: list[IdentifierValue] = Field(default_factory=list)

    def identifier_pairs(self) -> list[tuple[str, str]]:
        """The identifiers as the service takes them."""
        return _pairs(self.identifiers)


class SourceCreate(RequestModel):
    """A published report to cite from events and charges."""

    title: Title
    publisher: Line | None = None
    url: WebAddress | None = None
    published_on: PartialDateText | None = None
    quote: Quote | None = None
    accessed_on: Day | None = None


REQUEST_MODELS: list[type[RequestModel]] = [
    CaseCreate,
    CasePatch,
    IdentifiersPatch,
    StatusEventCreate,
    ChargeCreate,
    ChargePatch,
    PersonCreate,
    MembershipCreate,
    OrganizationCreate,
    SourceCreate,
]


def provided(model: BaseModel) -> dict[str, Any]:
    """Only the fields the client actually sent (a PATCH leaves the others alone)."""
    return {name: getattr(model, name) for name in model.model_fields_set}
