"""Opening many cases at once: :func:`monitor.services.cases.open_case`'s use case in bulk.

An import of thousands of new cases would flush every person, case, status event, membership
and charge one at a time (about eight round trips a row). :func:`open_cases` checks every
opening by the very rules :func:`~monitor.services.cases.open_case` applies
(:func:`~monitor.services.cases.check_opening`), then writes each kind of row with one
multi-row INSERT and the audit entries chained in one pass, in the order and with the content
``open_case`` gives them. Like every service it flushes and never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor import jobs
from monitor.domain import Sentence
from monitor.extensions import db
from monitor.models import Case, Charge, Membership, Person, StatusEvent
from monitor.models.base import new_public_id, utcnow
from monitor.models.cases import case_sources, charge_sources, event_sources
from monitor.services import Actor, ValidationError, add_rows, audit, insert_rows
from monitor.services.cases import (
    CheckedOpening,
    Opening,
    case_created,
    check_opening,
    event_values,
    status_recorded,
)
from monitor.services.charges import charge_created, exposure_values
from monitor.services.people import holds, membership_entry, person_created


class OpeningRefused(ValidationError):
    """One opening of a batch broke a rule (``index``: which, from 0); nothing was written."""

    def __init__(self, index: int, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.index = index


@dataclass(frozen=True)
class OpenedCase:
    """A case :func:`open_cases` opened, and its first status event."""

    case_id: int
    public_id: str
    event_id: int


def open_cases(
    actor: Actor, openings: Sequence[Opening], *, import_batch: str | None = None
) -> list[OpenedCase]:
    """Open every case of ``openings`` as :func:`~monitor.services.cases.open_case` opens one.

    Each gets its person (new or registered), the case, its first status event (which is the
    case's current status, so it alerts subscribers: ``alerts_pending`` and a dispatch after
    commit, as :func:`~monitor.services.cases.record_status` does), the membership unless the
    person holds it, and its charges; the audit log gets the entries ``open_case`` writes, in
    its order. ``import_batch`` tags the status events with the import that recorded them.
    All are checked before anything is written: an :class:`OpeningRefused` names the first
    refused opening and every bad field of it.
    """
    batch = []
    for index, opening in enumerate(openings):
        try:
            batch.append(_Opened(check_opening(actor, opening)))
        except ValidationError as exc:
            raise OpeningRefused(index, exc.errors) from None
    if not batch:
        return []
    db.session.flush()  # the sources, people and organizations named have ids
    now = utcnow()
    new = [o for o in batch if o.new_person is not None]
    rows = [o.person_row(now) for o in new]
    for opened, person_id in zip(new, insert_rows(Person, rows), strict=True):
        opened.person_id = person_id
    rows = [o.case_row(now) for o in batch]
    for opened, case_id in zip(batch, insert_rows(Case, rows), strict=True):
        opened.case_id = case_id
    rows = [o.event_row(actor, now, import_batch) for o in batch]
    for opened, event_id in zip(batch, insert_rows(StatusEvent, rows), strict=True):
        opened.event_id = event_id
    add_rows(event_sources, [link for o in batch for link in o.event_source_rows()])
    add_rows(case_sources, [link for o in batch for link in o.case_source_rows()])
    _add_memberships(batch)
    charges = [row for o in batch for row in o.charge_rows(now)]
    if any(charge.sources for o in batch for charge in o.opening.charges):
        for row, charge_id in zip(charges, insert_rows(Charge, charges), strict=True):
            row["id"] = charge_id
        add_rows(charge_sources, [link for o in batch for link in o.charge_source_rows()])
    else:  # no ids needed: a plain multi-row INSERT
        add_rows(Charge, charges)
    audit.record_many(actor, [entry for o in batch for entry in o.entries()])
    for opened in batch:
        # Next: workers.alerts.dispatch → services.alerts.dispatch (after the commit).
        jobs.after_commit(jobs.TaskName.ALERTS_DISPATCH, opened.event_id)
    _expire_collections(batch)
    return [OpenedCase(o.case_id, o.case["public_id"], o.event_id) for o in batch]


class _Opened:
    """One opening on its way into the database: its rows, then their ids."""

    def __init__(self, checked: CheckedOpening) -> None:
        self.checked = checked
        self.opening = checked.opening
        self.new_person = checked.person
        registered = self.opening.person
        self.person_id = registered.id if registered else 0
        self.person_public_id = registered.public_id if registered else new_public_id()
        self.case: dict[str, Any] = {}
        self.case_id = 0
        self.event: dict[str, Any] = {}
        self.event_id = 0
        self.membership: dict[str, Any] | None = None
        self.charges: list[dict[str, Any]] = []

    def person_row(self, now: dt.datetime) -> dict[str, Any]:
        assert self.new_person is not None  # noqa: S101 - only new people are inserted
        self.new_person = {
            **self.new_person,
            "public_id": self.person_public_id,
            "created_at": now,
            "updated_at": now,
        }
        return self.new_person

    def case_row(self, now: dt.datetime) -> dict[str, Any]:
        """The case as opened (its audit entry says so), then as its first status event and
        its charges leave it (the row written)."""
        status = self.opening.status
        self.case = {
            **self.checked.case,
            "public_id": new_public_id(),
            "person_id": self.person_id,
            "external_id": self.opening.external_id,
            "status": status.status,
            "status_since": None,
            "status_since_precision": None,
            "max_exposure_kind": None,
            "max_exposure_months": None,
            "created_at": now,
            "updated_at": now,
        }
        sentences = [(_sentence(c), c["stage"]) for c in self.checked.charges]
        return {
            **self.case,
            "status_since": status.occurred_on.start,
            "status_since_precision": status.occurred_on.precision.value,
            **exposure_values(sentences),
        }

    def event_row(self, actor: Actor, now: dt.datetime, import_batch: str | None) -> dict[str, Any]:
        """The first status event: the case's current status, changed from none, so news."""
        self.event = {
            **event_values(actor, self.opening.status),
            "public_id": new_public_id(),
            "case_id": self.case_id,
            "previous_status": None,
            "recorded_at": now,
            "changed_current": True,
            "alerts_pending": True,
            "import_batch": import_batch,
        }
        return self.event

    def event_source_rows(self) -> list[dict[str, int]]:
        return [
            {"status_event_id": self.event_id, "source_id": source.id}
            for source in dict.fromkeys(self.opening.status.sources)
        ]

    def case_source_rows(self) -> list[dict[str, int]]:
        return [
            {"case_id": self.case_id, "source_id": source.id}
            for source in dict.fromkeys(self.opening.status.sources)
        ]

    def charge_rows(self, now: dt.datetime) -> list[dict[str, Any]]:
        self.charges = [
            {**values, "public_id": new_public_id(), "case_id": self.case_id, "created_at": now}
            for values in self.checked.charges
        ]
        return self.charges

    def charge_source_rows(self) -> list[dict[str, int]]:
        return [
            {"charge_id": row["id"], "source_id": source.id}
            for row, charge in zip(self.charges, self.opening.charges, strict=True)
            for source in dict.fromkeys(charge.sources)
        ]

    def entries(self) -> list[audit.Planned]:
        """The audit entries, in the order ``open_case`` writes them."""
        opening, case_ref = self.opening, self.case["public_id"]
        entries = []
        if self.new_person is not None:
            entries.append(
                person_created(self.person_public_id, audit.snapshot_of(Person, self.new_person))
            )
        entries.append(
            case_created(
                case_ref,
                audit.snapshot_of(Case, self.case),
                self.person_public_id,
                self.opening.external_id,
            )
        )
        event = audit.snapshot_of(StatusEvent, self.event)
        entries.append(
            status_recorded(
                self.event["public_id"], event, opening.status.sources, case_ref, backfilled=False
            )
        )
        if self.membership is not None:
            assert opening.organization is not None  # noqa: S101 - a membership names one
            entries.append(
                membership_entry(
                    self.membership["public_id"],
                    self.person_public_id,
                    opening.organization.public_id,
                    self.membership["role"],
                )
            )
        for row, charge in zip(self.charges, opening.charges, strict=True):
            entries.append(
                charge_created(
                    row["public_id"], audit.snapshot_of(Charge, row), charge.sources, case_ref
                )
            )
        return entries


def _sentence(charge: dict[str, Any]) -> Sentence:
    sentence = Sentence.of(charge["max_sentence_kind"], charge["max_sentence_months"])
    assert sentence is not None  # noqa: S101 - a charge always has a maximum sentence
    return sentence


def _add_memberships(batch: list[_Opened]) -> None:
    """Each opening's membership, unless its person holds it already (or an earlier opening of
    the batch adds it)."""
    added: set[tuple[int, int, str]] = set()
    for opened in batch:
        org, role = opened.opening.organization, opened.checked.role
        if org is None or role is None:
            continue
        registered = opened.opening.person
        key = (opened.person_id, org.id, role)
        if key in added or (registered is not None and holds(registered, org, role)):
            continue
        added.add(key)
        opened.membership = {
            "public_id": new_public_id(),
            "person_id": opened.person_id,
            "organization_id": org.id,
            "role": role,
            "start_on": None,
            "start_precision": None,
            "end_on": None,
            "end_precision": None,
        }
    # In one statement (add_rows): the memberships' count trigger runs once per statement, and
    # run once per row it cost half a millisecond a membership.
    add_rows(Membership, [o.membership for o in batch if o.membership is not None])


def _expire_collections(batch: list[_Opened]) -> None:
    """Loaded people and organizations do not see the rows written beside the session: their
    collections load again when next read."""
    for opened in batch:
        person, org = opened.opening.person, opened.opening.organization
        if person is not None:
            db.session.expire(person, ["cases", "memberships"])
        if org is not None:
            db.session.expire(org, ["memberships"])
