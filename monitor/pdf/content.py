"""What a dossier shows, as plain frozen data taken from the register at one moment.

The loaders in :mod:`monitor.pdf.scope` turn ORM rows into these values inside one read
snapshot; the template only formats them. Being plain data, a dossier's content can be hashed
(:func:`monitor.pdf.html.content_key`) to tell whether an earlier PDF still says the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.domain import CustodyStatus, LegalStage, PartialDate, Sentence, SentenceKind
from monitor.models import Case, Charge, Membership, Source, StatusEvent
from monitor.presentation import STATUS_COLOURS, STATUS_ORDER, country_name


@dataclass(frozen=True)
class SourceRef:
    """A cited report, numbered once for the whole document."""

    number: int
    title: str
    publisher: str | None
    url: str | None
    published: str | None
    quote: str | None


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
    sources: tuple[SourceRef, ...]


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
    generated_by: str
    facts: tuple[tuple[str, str], ...]
    counts: tuple[StatusCount, ...]
    exposure: str
    rows: tuple[SummaryRow, ...]
    cases: tuple[CaseSection, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def is_group(self) -> bool:
        """Organization and selection dossiers get the group table and chart."""
        return self.kind != "case"


def _date(value: PartialDate | None, about: bool = False) -> str | None:
    if value is None:
        return None
    return ("c. " if about else "") + value.human()


def _sentence(value: Sentence | None) -> str | None:
    return value.human() if value is not None else None


def _label(status: str | None) -> str | None:
    return CustodyStatus(status).label if status else None


class SourceNumbers:
    """Numbers sources in order of first citation across the whole document."""

    def __init__(self) -> None:
        self._numbers: dict[int, SourceRef] = {}

    def ref(self, source: Source) -> SourceRef:
        """The numbered reference for a source (numbered on first sight)."""
        found = self._numbers.get(source.id)
        if found is None:
            url = (
                source.url
                if source.url and source.url.startswith(("http://", "https://"))
                else None
            )
            found = SourceRef(
                number=len(self._numbers) + 1,
                title=source.title,
                publisher=source.publisher,
                url=url,
                published=_date(source.published),
                quote=source.quote,
            )
            self._numbers[source.id] = found
        return found

    def cite(self, sources: Iterable[Source], cited: dict[int, SourceRef]) -> tuple[int, ...]:
        """Numbers for ``sources``, remembering each in the case's ``cited`` list."""
        numbers = []
        for source in sources:
            ref = self.ref(source)
            cited.setdefault(ref.number, ref)
            numbers.append(ref.number)
        return tuple(numbers)


def main_charge(charges: list[Charge]) -> Charge | None:
    """The charge that matters most: the most severe open one, else the most severe of all."""
    if not charges:
        return None
    open_charges = [c for c in charges if c.legal_stage.is_open]
    return max(open_charges or charges, key=lambda c: c.max_sentence.severity)


def _event(event: StatusEvent, numbers: SourceNumbers, cited: dict[int, SourceRef]) -> EventLine:
    return EventLine(
        date=_date(event.occurred, event.occurred_about) or "",
        precision=event.occurred_precision,
        status=event.status,
        status_label=CustodyStatus(event.status).label,
        previous_label=_label(event.previous_status),
        certainty=event.certainty,
        location=event.location,
        description=event.description,
        sources=numbers.cite(event.sources, cited),
    )


def _charge(charge: Charge, numbers: SourceNumbers, cited: dict[int, SourceRef]) -> ChargeLine:
    return ChargeLine(
        offence=charge.offence,
        legal_basis=charge.legal_basis,
        max_sentence=charge.max_sentence.human(),
        stage=LegalStage(charge.stage).label,
        filed=_date(charge.filed),
        sentence_imposed=_sentence(charge.sentence_imposed),
        sentenced_on=charge.sentenced_on.isoformat() if charge.sentenced_on else None,
        in_absentia=charge.in_absentia,
        sources=numbers.cite(charge.sources, cited),
    )


def _membership(membership: Membership) -> MembershipLine:
    start, end = _date(membership.start), _date(membership.end)
    period = f"{start or '—'} – {end or 'now'}" if start or end else None
    org = membership.organization
    name = f"{org.name} ({org.short_name})" if org.short_name else org.name
    return MembershipLine(organization=name, role=membership.role, period=period)


def anchor(case: Case) -> str:
    """The in-document link target of a case (public ids are URL-safe)."""
    return f"case-{case.public_id}"


def case_section(case: Case, numbers: SourceNumbers) -> CaseSection:
    """A case's part of the dossier, its sources numbered in document order."""
    person = case.person
    cited: dict[int, SourceRef] = {}
    events = tuple(_event(e, numbers, cited) for e in case.events)
    charges = tuple(_charge(c, numbers, cited) for c in case.charges)
    numbers.cite(case.sources, cited)
    main = main_charge(list(case.charges))
    return CaseSection(
        anchor=anchor(case),
        name=person.name,
        name_native=person.name_native,
        aliases=tuple(person.aliases or ()),
        gender=person.gender,
        birth=_date(person.birth),
        nationality=country_name(person.nationality) or None,
        occupation=person.occupation,
        biography=person.biography,
        country=country_name(case.country),
        title=case.title,
        summary=case.summary,
        tags=tuple(case.tags or ()),
        confidentiality=case.confidentiality,
        status=case.status,
        status_label=case.custody_status.label,
        since=_date(case.since),
        max_exposure=_sentence(case.max_exposure),
        main_charge=main.offence if main else None,
        events=events,
        charges=charges,
        memberships=tuple(_membership(m) for m in person.memberships),
        sources=tuple(sorted(cited.values(), key=lambda ref: ref.number)),
    )


def summary_row(case: Case | None, name: str, native: str | None, role: str | None) -> SummaryRow:
    """A group table row for a person and one of their cases (or none)."""
    main = main_charge(list(case.charges)) if case is not None else None
    return SummaryRow(
        name=name,
        name_native=native,
        role=role,
        anchor=anchor(case) if case is not None else None,
        status=case.status if case is not None else None,
        status_label=case.custody_status.label if case is not None else None,
        since=_date(case.since) if case is not None else None,
        main_charge=main.offence if main else None,
        max_sentence=_sentence(case.max_exposure) if case is not None else None,
    )


def status_counts(cases: list[Case]) -> tuple[StatusCount, ...]:
    """Counts by custody status, most serious first, zeros included."""
    counts = Counter(case.status for case in cases)
    return tuple(
        StatusCount(s.value, s.label, counts.get(s.value, 0), STATUS_COLOURS[s])
        for s in STATUS_ORDER
    )


def exposure_text(cases: list[Case]) -> str:
    """The cases' maximum exposure added up: ``maximum 30 years``, plus any life or death."""
    exposures = [c.max_exposure for c in cases if c.max_exposure is not None]
    months = sum(e.months or 0 for e in exposures if e.kind is SentenceKind.TERM)
    parts = []
    if months:
        parts.append("maximum " + Sentence(SentenceKind.TERM, months).human())
    for kind, label in ((SentenceKind.LIFE, "life imprisonment"), (SentenceKind.DEATH, "death")):
        n = sum(1 for e in exposures if e.kind is kind)
        if n:
            parts.append(f"{n} case{'s' if n != 1 else ''} facing {label}")
    if not parts:
        return "no open charge with a known maximum sentence"
    return "; ".join(parts)
