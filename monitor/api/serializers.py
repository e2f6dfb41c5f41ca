"""Models to the JSON shapes of :mod:`monitor.api.shapes` (public ids only, never row ids)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from monitor.api import shapes
from monitor.domain import (
    Certainty,
    Confidentiality,
    CustodyStatus,
    LegalStage,
    OrganizationKind,
    PartialDate,
    StatusCounts,
)
from monitor.domain import Sentence as SentenceValue
from monitor.models import Case, Charge, Membership, Organization, Person, Source, StatusEvent
from monitor.presentation import country_name
from monitor.services.queries import MemberRow


def _iso(value: PartialDate | dt.date | None) -> str | None:
    return value.iso() if isinstance(value, PartialDate) else (value.isoformat() if value else None)


def sentence(value: SentenceValue | None) -> shapes.Sentence | None:
    """``{"kind", "months"}`` or None."""
    if value is None:
        return None
    return {"kind": value.kind, "months": value.months}


def case_url(case: Case) -> str:
    """The web page of a case (the web endpoint names are the web UI's to choose)."""
    settings: Any = current_app.config["SETTINGS"]
    return f"{settings.base_url}/cases/{case.public_id}"


def person_ref(person: Person) -> shapes.PersonRef:
    """A person as shown inside a case."""
    return {
        "id": person.public_id,
        "name": person.name,
        "name_native": person.name_native,
        "aliases": list(person.aliases or []),
    }


def organization_ref(org: Organization) -> shapes.OrganizationRef:
    """An organization as shown inside a person."""
    return {"id": org.public_id, "name": org.name, "short_name": org.short_name}


def case_summary(case: Case) -> shapes.CaseSummary:
    """A case row for lists; touches only the case and its (already joined) person."""
    return {
        "id": case.public_id,
        "external_id": case.external_id,
        "person": person_ref(case.person),
        "country": case.country,
        "country_name": country_name(case.country),
        "title": case.title,
        "confidentiality": Confidentiality(case.confidentiality),
        "status": CustodyStatus(case.status),
        "status_since": _iso(case.since),
        "tags": list(case.tags or []),
        "max_exposure": sentence(case.max_exposure),
        "url": case_url(case),
    }


def case_status(case: Case) -> shapes.CaseStatus:
    """A case's id and current custody status."""
    return {
        "id": case.public_id,
        "status": CustodyStatus(case.status),
        "status_since": _iso(case.since),
    }


def charge(item: Charge) -> shapes.Charge:
    """One charge."""
    return {
        "id": item.public_id,
        "case_id": item.case.public_id,
        "offence": item.offence,
        "legal_basis": item.legal_basis,
        "max_sentence": {"kind": item.max_sentence.kind, "months": item.max_sentence.months},
        "stage": LegalStage(item.stage),
        "filed_on": _iso(item.filed),
        "sentence_imposed": sentence(item.sentence_imposed),
        "sentenced_on": _iso(item.sentenced_on),
        "in_absentia": item.in_absentia,
        "source_ids": [s.public_id for s in item.sources],
    }


def status_event(event: StatusEvent) -> shapes.StatusEvent:
    """One status event, its date at the precision it was recorded with."""
    return {
        "id": event.public_id,
        "status": CustodyStatus(event.status),
        "previous_status": CustodyStatus(event.previous_status) if event.previous_status else None,
        "occurred_on": event.occurred.iso(),
        "precision": event.occurred.precision,
        "about": event.occurred_about,
        "recorded_at": event.recorded_at.isoformat(),
        "location": event.location,
        "description": event.description,
        "certainty": Certainty(event.certainty),
        "source_ids": [s.public_id for s in event.sources],
    }


def recorded_status_event(event: StatusEvent) -> shapes.RecordedStatusEvent:
    """A status event just recorded, with whether it changed the case's current status."""
    return {
        **status_event(event),
        "changed_current": event.changed_current,
        "case": case_status(event.case),
    }


def source(item: Source) -> shapes.Source:
    """One source."""
    return {
        "id": item.public_id,
        "title": item.title,
        "publisher": item.publisher,
        "url": item.url,
        "published_on": _iso(item.published),
        "quote": item.quote,
        "accessed_on": _iso(item.accessed_on),
    }


def case_detail(case: Case) -> shapes.Case:
    """A case with its charges, status history (oldest first) and sources."""
    return {
        **case_summary(case),
        "summary": case.summary,
        "opened_on": _iso(case.opened_on),
        "closed_on": _iso(case.closed_on),
        "charges": [charge(c) for c in case.charges],
        "events": [status_event(e) for e in case.events],
        "sources": [source(s) for s in case.sources],
    }


def person_summary(person: Person) -> shapes.PersonSummary:
    """A person in a list."""
    return {
        **person_ref(person),
        "nationality": person.nationality,
        "occupation": person.occupation,
    }


def identifiers(owner: Person | Organization) -> list[shapes.Identifier]:
    """The owner's identifiers, by scheme."""
    return [{"scheme": i.scheme, "identifier": i.identifier} for i in owner.identifiers]


def membership(item: Membership) -> shapes.Membership:
    """A person's role in an organization."""
    return {
        "id": item.public_id,
        "organization": organization_ref(item.organization),
        "role": item.role,
        "start": _iso(item.start),
        "end": _iso(item.end),
        "area": item.area,
    }


def person_detail(person: Person, cases: list[Case]) -> shapes.Person:
    """A person with memberships and the given (visible) cases."""
    return {
        **person_summary(person),
        "gender": person.gender,
        "birth_date": _iso(person.birth),
        "death_date": _iso(person.death),
        "biography": person.biography,
        "identifiers": identifiers(person),
        "memberships": [membership(m) for m in person.memberships],
        "cases": [case_status(c) for c in cases],
    }


def status_counts(counts: StatusCounts) -> shapes.StatusCounts:
    """Counts for every custody status, zeros included."""
    return {
        "total": counts.total,
        "by_status": {status.value: n for status, n in counts.ordered()},
    }


def organization(org: Organization, counts: StatusCounts) -> shapes.Organization:
    """An organization with its members' status counts."""
    return {
        **organization_ref(org),
        "kind": OrganizationKind(org.kind),
        "country": org.country,
        "country_name": country_name(org.country) or None,
        "seats": org.seats,
        "dissolved_on": _iso(org.dissolved_on),
        "identifiers": identifiers(org),
        "counts": status_counts(counts),
    }


def organization_detail(
    org: Organization, rows: list[MemberRow], counts: StatusCounts
) -> shapes.OrganizationDetail:
    """An organization with every visible member and their cases."""
    return {
        **organization(org, counts),
        "members": [
            {
                "membership_id": row.membership.public_id,
                "role": row.membership.role,
                "start": _iso(row.membership.start),
                "end": _iso(row.membership.end),
                "area": row.membership.area,
                "person": person_ref(row.membership.person),
                "cases": [case_status(c) for c in row.cases],
            }
            for row in rows
        ],
    }
