"""A dossier's content filled from ORM rows: sections, table rows, counts and exposure.

:mod:`monitor.services.dossiers.scope` loads the rows; these turn them into the plain, worded
values of :mod:`monitor.pdf.content`, numbering the sources in document order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from monitor.domain import PartialDate
from monitor.models import Case, Charge, Membership, Source, StatusEvent
from monitor.pdf.content import (
    CaseSection,
    ChargeLine,
    Citation,
    EventLine,
    MembershipLine,
    SourceRef,
    StatusCount,
    SummaryRow,
)
from monitor.presentation import (
    STATUS_COLOURS,
    STATUS_ORDER,
    country_name,
    date_text,
    sentence_text,
    status_label,
)
from monitor.presentation.translation import gettext, ngettext
from monitor.presentation.wording import (
    CERTAINTY_LABELS,
    LEVEL_LABELS,
    PRECISION_LABELS,
    STAGE_LABELS,
    vocabulary_text,
)


def _label(status: str | None) -> str | None:
    return status_label(status)


class SourceNumbers:
    """Numbers sources in order of first citation across the whole document, and remembers
    where each is cited, so the dossier lists every source once with its references."""

    def __init__(self) -> None:
        self._numbers: dict[int, SourceRef] = {}
        # source number -> case anchor -> (person, parts citing it), in citation order
        self._cited: dict[int, dict[str, tuple[str, list[str]]]] = {}

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
                published=date_text(source.published),
                quote=source.quote,
            )
            self._numbers[source.id] = found
        return found

    def cite(self, sources: Iterable[Source], case: Case, part: str) -> tuple[int, ...]:
        """Numbers for ``sources``, noting that ``part`` of ``case`` cites them."""
        numbers = []
        for source in sources:
            number = self.ref(source).number
            _, parts = self._cited.setdefault(number, {}).setdefault(
                anchor(case), (case.person.name, [])
            )
            if part not in parts:
                parts.append(part)
            numbers.append(number)
        return tuple(numbers)

    def cited_by(self, case: Case) -> tuple[int, ...]:
        """The numbers of every source ``case`` cites, in order."""
        key = anchor(case)
        return tuple(n for n in sorted(self._cited) if key in self._cited[n])

    def sources(self) -> tuple[SourceRef, ...]:
        """Every source once, in number order, with the cases and parts citing it."""
        by_number = {ref.number: ref for ref in self._numbers.values()}
        return tuple(
            replace(
                by_number[number],
                cited_in=tuple(
                    Citation(key, name, tuple(parts))
                    for key, (name, parts) in self._cited.get(number, {}).items()
                ),
            )
            for number in sorted(by_number)
        )


def main_charge(charges: list[Charge]) -> Charge | None:
    """The charge that matters most: the most severe open one, else the most severe of all."""
    if not charges:
        return None
    open_charges = [c for c in charges if c.legal_stage.is_open]
    return max(open_charges or charges, key=lambda c: c.max_sentence.severity)


def _event(event: StatusEvent, case: Case, numbers: SourceNumbers) -> EventLine:
    return EventLine(
        date=date_text(event.occurred, event.occurred_about) or "",
        precision=vocabulary_text(PRECISION_LABELS, event.occurred_precision) or "",
        status=event.status,
        status_label=_label(event.status) or event.status,
        previous_label=_label(event.previous_status),
        certainty=vocabulary_text(CERTAINTY_LABELS, event.certainty) or "",
        location=event.location,
        description=event.description,
        sources=numbers.cite(event.sources, case, gettext("timeline")),
    )


def _charge(charge: Charge, case: Case, numbers: SourceNumbers) -> ChargeLine:
    return ChargeLine(
        offence=charge.offence,
        legal_basis=charge.legal_basis,
        max_sentence=sentence_text(charge.max_sentence) or "",
        stage=vocabulary_text(STAGE_LABELS, charge.stage) or "",
        filed=date_text(charge.filed),
        sentence_imposed=sentence_text(charge.sentence_imposed),
        sentenced_on=date_text(PartialDate.of(charge.sentenced_on, "day"))
        if charge.sentenced_on
        else None,
        in_absentia=charge.in_absentia,
        sources=numbers.cite(charge.sources, case, gettext("charges")),
    )


def _membership(membership: Membership) -> MembershipLine:
    start, end = date_text(membership.start), date_text(membership.end)
    period = f"{start or '—'} – {end or gettext('now')}" if start or end else None
    org = membership.organization
    name = f"{org.name} ({org.short_name})" if org.short_name else org.name
    return MembershipLine(organization=name, role=membership.role, period=period)


def anchor(case: Case) -> str:
    """The in-document link target of a case (public ids are URL-safe)."""
    return f"case-{case.public_id}"


def case_section(case: Case, numbers: SourceNumbers) -> CaseSection:
    """A case's part of the dossier, its sources numbered in document order."""
    person = case.person
    events = tuple(_event(e, case, numbers) for e in case.events)
    charges = tuple(_charge(c, case, numbers) for c in case.charges)
    numbers.cite(case.sources, case, gettext("case summary"))
    main = main_charge(list(case.charges))
    return CaseSection(
        anchor=anchor(case),
        name=person.name,
        name_native=person.name_native,
        aliases=tuple(person.aliases or ()),
        gender=person.gender,
        birth=date_text(person.birth),
        nationality=country_name(person.nationality) or None,
        occupation=person.occupation,
        biography=person.biography,
        country=country_name(case.country),
        title=case.title,
        summary=case.summary,
        tags=tuple(case.tags or ()),
        confidentiality=vocabulary_text(LEVEL_LABELS, case.confidentiality) or "",
        status=case.status,
        status_label=_label(case.status) or case.status,
        since=date_text(case.since),
        max_exposure=sentence_text(case.max_exposure),
        main_charge=main.offence if main else None,
        events=events,
        charges=charges,
        memberships=tuple(_membership(m) for m in person.memberships),
        sources=numbers.cited_by(case),
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
        status_label=_label(case.status) if case is not None else None,
        since=date_text(case.since) if case is not None else None,
        main_charge=main.offence if main else None,
        max_sentence=sentence_text(case.max_exposure) if case is not None else None,
    )


def status_counts(cases: list[Case]) -> tuple[StatusCount, ...]:
    """Counts by custody status, most serious first, zeros included."""
    counts = Counter(case.status for case in cases)
    return tuple(
        StatusCount(s.value, _label(s.value) or s.value, counts.get(s.value, 0), STATUS_COLOURS[s])
        for s in STATUS_ORDER
    )


def longest_exposure(cases: list[Case]) -> str:
    """The most severe maximum exposure among the cases and whose it is: ``30 years — Kem Sokha``.

    Never a sum: adding up the terms different people face states a sentence nobody faces.
    """
    exposed = [c for c in cases if c.max_exposure is not None]
    if not exposed:
        return gettext("no open charge with a known maximum sentence")
    top = max(c.max_exposure.severity for c in exposed if c.max_exposure is not None)
    worst = [c for c in exposed if c.max_exposure is not None and c.max_exposure.severity == top]
    names = list(dict.fromkeys(c.person.name for c in worst))
    shown = ", ".join(names[:3])
    if len(names) > 3:
        shown = ngettext(
            "%(names)s and %(num)s more", "%(names)s and %(num)s more", len(names) - 3, names=shown
        )
    return f"{sentence_text(worst[0].max_exposure)} — {shown}"
