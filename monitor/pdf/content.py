"""What a dossier shows, as plain frozen data taken from the register at one moment.

The dossier service (``services/dossiers/``) fills these values from the register inside one
read snapshot, already worded; the template only lays them out. Being plain data, a dossier's
content can be hashed (:func:`monitor.pdf.html.content_key`) to tell whether an earlier PDF
still says the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Citation:
    """Where a dossier cites a source: a case (its anchor and person) and which parts of it."""

    anchor: str
    name: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class SourceRef:
    """A cited report, numbered and printed once for the whole document, with where it is cited."""

    number: int
    title: str
    publisher: str | None
    url: str | None
    published: str | None
    quote: str | None
    cited_in: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class EventLine:
    """One dated custody status change on a case's timeline."""

    date: str
    precision: str
    status: str
    status_label: str
    previous_label: str | None
    certainty: str
    location: str | None
    description: str | None
    sources: tuple[int, ...]


@dataclass(frozen=True)
class ChargeLine:
    """One row of a case's charges table."""

    offence: str
    legal_basis: str | None
    max_sentence: str
    stage: str
    filed: str | None
    sentence_imposed: str | None
    sentenced_on: str | None
    in_absentia: bool
    sources: tuple[int, ...]


@dataclass(frozen=True)
class MembershipLine:
    """A person's role in an organization."""

    organization: str
    role: str
    period: str | None


@dataclass(frozen=True)
class CaseSection:
    """Everything the dossier says about one case."""

    anchor: str
    name: str
    name_native: str | None
    aliases: tuple[str, ...]
    gender: str | None
    birth: str | None
    nationality: str | None
    occupation: str | None
    biography: str | None
    country: str
    title: str
    summary: str | None
    tags: tuple[str, ...]
    confidentiality: str
    status: str
    status_label: str
    since: str | None
    max_exposure: str | None
    main_charge: str | None
    events: tuple[EventLine, ...]
    charges: tuple[ChargeLine, ...]
    memberships: tuple[MembershipLine, ...]
    # Numbers of the sources this case cites; the sources themselves are listed once, at the end.
    sources: tuple[int, ...]


@dataclass(frozen=True)
class SummaryRow:
    """A line of a group dossier's table: a person (and one of their cases, if any)."""

    name: str
    name_native: str | None
    role: str | None
    anchor: str | None
    status: str | None
    status_label: str | None
    since: str | None
    main_charge: str | None
    max_sentence: str | None


@dataclass(frozen=True)
class StatusCount:
    """How many of the dossier's cases are in one custody status."""

    status: str
    label: str
    count: int
    colour: str


@dataclass(frozen=True)
class DossierContent:
    """The whole document's data (the snapshot and generation times are kept apart)."""

    kind: str
    title: str
    scope: str
    audience: str
    # The organization that issues the dossier (MONITOR_ORGANIZATION_NAME), never the staff
    # member who requested it: a dossier leaves the register, and its readers need not learn
    # who works on these cases.
    issued_by: str
    facts: tuple[tuple[str, str], ...]
    counts: tuple[StatusCount, ...]
    # The most severe maximum exposure and whose it is: different people's sentences are never
    # added up (each person's own figure is in the group table).
    exposure: str
    rows: tuple[SummaryRow, ...]
    cases: tuple[CaseSection, ...]
    notes: tuple[str, ...] = field(default=())
    # Every cited source, once, in order of first citation.
    sources: tuple[SourceRef, ...] = field(default=())
    # ``A4`` or ``Letter`` (settings.dossier_page_size); part of the content key.
    page_size: str = "A4"
    # The language the dossier is written in (the request's); part of the content key.
    language: str = "en"

    @property
    def is_group(self) -> bool:
        """Organization and selection dossiers get the group table and chart."""
        return self.kind != "case"
