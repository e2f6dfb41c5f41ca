"""The JSON shapes the API answers with, as typed dicts.

The serializers are type-checked against these, and the OpenAPI document's response schemas are
generated from them, so the documentation cannot drift from what the API sends. Field names are a
contract other programs script against: add fields freely, never rename one.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict  # pydantic needs it for TypedDict schemas before 3.12

from monitor.domain import (
    Certainty,
    Confidentiality,
    CustodyStatus,
    DatePrecision,
    LegalStage,
    OrganizationKind,
    SentenceKind,
)

PartialDateText = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$",
        description="ISO date at its known precision: 2017, 2017-09 or 2017-09-03",
    ),
]
DateText = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
DateTimeText = Annotated[str, Field(description="ISO 8601 date and time in UTC")]


class Sentence(TypedDict):
    """A sentence: ``months`` is set for a term only."""

    kind: SentenceKind
    months: int | None


class PersonRef(TypedDict):
    """A person as shown inside a case."""

    id: str
    name: str
    name_native: str | None
    aliases: list[str]


class Identifier(TypedDict):
    """An identifier another register gives a person or organization (Popolo's shape)."""

    scheme: str
    identifier: str


class OrganizationRef(TypedDict):
    """An organization as shown inside a person or a list."""

    id: str
    name: str
    short_name: str | None


class CaseSummary(TypedDict):
    """A case in a list: enough to show a row without loading its charges or events."""

    id: str
    external_id: str | None
    person: PersonRef
    country: str
    country_name: str
    title: str
    confidentiality: Confidentiality
    status: CustodyStatus
    status_since: PartialDateText | None
    tags: list[str]
    max_exposure: Sentence | None
    url: str


class Charge(TypedDict):
    """One charge of a case."""

    id: str
    case_id: str
    offence: str
    legal_basis: str | None
    max_sentence: Sentence
    stage: LegalStage
    filed_on: PartialDateText | None
    sentence_imposed: Sentence | None
    sentenced_on: DateText | None
    in_absentia: bool
    source_ids: list[str]


class StatusEvent(TypedDict):
    """One dated custody status change in a case's history."""

    id: str
    status: CustodyStatus
    previous_status: CustodyStatus | None
    occurred_on: PartialDateText
    precision: DatePrecision
    about: bool
    recorded_at: DateTimeText
    location: str | None
    description: str | None
    certainty: Certainty
    source_ids: list[str]


class CaseStatus(TypedDict):
    """A case's current custody status."""

    id: str
    status: CustodyStatus
    status_since: PartialDateText | None


class RecordedStatusEvent(StatusEvent):
    """A status event just recorded: did it change the case's current status?"""

    changed_current: bool
    case: CaseStatus


class Source(TypedDict):
    """A published report cited by events and charges."""

    id: str
    title: str
    publisher: str | None
    url: str | None
    published_on: PartialDateText | None
    quote: str | None
    accessed_on: DateText | None


class Case(CaseSummary):
    """A case with everything the case page shows."""

    summary: str | None
    opened_on: DateText | None
    closed_on: DateText | None
    charges: list[Charge]
    events: list[StatusEvent]
    sources: list[Source]


class CaseList(TypedDict):
    """One page of cases."""

    items: list[CaseSummary]
    total: int
    page: int
    per_page: int
    pages: int


class Membership(TypedDict):
    """A person's role in an organization."""

    id: str
    organization: OrganizationRef
    role: str
    start: PartialDateText | None
    end: PartialDateText | None
    area: str | None


class PersonSummary(PersonRef):
    """A person in a list."""

    nationality: str | None
    occupation: str | None


class Person(PersonSummary):
    """A person with memberships and the cases the caller may see."""

    gender: str | None
    birth_date: PartialDateText | None
    death_date: PartialDateText | None
    biography: str | None
    identifiers: list[Identifier]
    memberships: list[Membership]
    cases: list[CaseStatus]


class PersonList(TypedDict):
    """One page of people."""

    items: list[PersonSummary]
    total: int
    page: int
    per_page: int
    pages: int


class StatusCounts(TypedDict):
    """How many of the visible cases are in each custody status."""

    total: int
    by_status: dict[str, int]


class Organization(OrganizationRef):
    """An organization with status counts over its members' visible cases."""

    kind: OrganizationKind
    country: str | None
    country_name: str | None
    seats: int | None
    dissolved_on: DateText | None
    identifiers: list[Identifier]
    counts: StatusCounts


class Member(TypedDict):
    """A member of an organization with their visible cases."""

    membership_id: str
    role: str
    start: PartialDateText | None
    end: PartialDateText | None
    area: str | None
    person: PersonRef
    cases: list[CaseStatus]


class OrganizationDetail(Organization):
    """An organization with every member the caller may see."""

    members: list[Member]


class OrganizationList(TypedDict):
    """Every organization."""

    items: list[Organization]
    total: int


class Error(TypedDict):
    """A request that failed as a whole (400, 401, 403, 404, 405, 409, 413, 429, 503)."""

    error: str


class FieldErrors(TypedDict):
    """Invalid input (400, 422): one message per bad field, nested fields as dotted paths."""

    errors: dict[str, str]


class DuplicateCandidate(TypedDict):
    """Someone registered who may be the person a request adds."""

    id: str
    name: str
    name_native: str | None
    reasons: list[str]


class PossibleDuplicates(TypedDict):
    """409: the new person may already be registered. ``errors`` names the field (``name``, or
    ``person.name`` when opening a case); ``candidates`` are the people it may be (open a case
    with their ``person_id``), or repeat the request with ``confirm_new_person: true``."""

    errors: dict[str, str]
    candidates: list[DuplicateCandidate]


RESPONSE_SHAPES: list[type] = [
    Case,
    CaseSummary,
    CaseList,
    Charge,
    StatusEvent,
    RecordedStatusEvent,
    Person,
    PersonList,
    Organization,
    OrganizationDetail,
    OrganizationList,
    Source,
    Error,
    FieldErrors,
    DuplicateCandidate,
    PossibleDuplicates,
]
