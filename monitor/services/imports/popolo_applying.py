"""Applying a checked Popolo plan, once its probable matches are decided.

Everything goes through the services a form uses (:mod:`monitor.services.people`), so it is
validated and audited as a manual change is; then one ``import.apply`` entry names the file.
:func:`apply_popolo` flushes and never commits: the caller commits once, so a file goes in whole
or not at all. Only what differs is written, so importing the same file again writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Membership, Organization, Person
from monitor.presentation.translation import gettext as _
from monitor.services import Actor, ValidationError, audit
from monitor.services.imports.matching import check_decisions, resolve, undecided
from monitor.services.imports.popolo_checking import (
    OrganizationPlan,
    PersonPlan,
    PopoloReport,
    completion,
    existing_membership,
    held_by_anyone,
    person_input,
    seat_changes,
)
from monitor.services.imports.report import Problem
from monitor.services.people import (
    OrganizationInput,
    PersonInput,
    add_membership,
    create_organization,
    create_person,
    identifier_pairs,
    update_organization,
    update_person,
)


def decision_errors(report: PopoloReport, decisions: Mapping[str, str]) -> dict[str, str]:
    """What stops the decisions from applying, by field (``decisions.<person id>``): a wrong
    decision, or a probable match left undecided."""
    matches = report.matches()
    errors = {f"decisions.{k}": v for k, v in check_decisions(matches, decisions).items()}
    where = {plan.source.key: plan.source.where for plan in report.people}
    for key in undecided(matches, decisions):
        errors[f"decisions.{key}"] = _(
            '%(where)s is probably someone in the register: decide who (their id) or "new"',
            where=where[key],
        )
    if not errors:
        for key, problem in _same_person(report, decisions):
            errors.setdefault(f"decisions.{key}", f"{problem.column} {problem.message}")
    return errors


def same_person_problems(report: PopoloReport, decisions: Mapping[str, str]) -> list[Problem]:
    """People of the file the decisions make one register person, each naming the other; none
    while a decision is wrong (see :func:`decision_errors`). A dry run reports them."""
    if check_decisions(report.matches(), decisions):
        return []
    return [problem for _key, problem in _same_person(report, decisions)]


def _same_person(report: PopoloReport, decisions: Mapping[str, str]) -> list[tuple[str, Problem]]:
    """Each person of the file (by key) decided to be the register person another one is
    already: one register person is one person of the file. Two matched without a decision are
    a problem of the check already (popolo_checking._people)."""
    if not decisions:
        return []
    resolved = resolve(report.matches(), decisions)
    chosen: dict[int, PersonPlan] = {}
    found: list[tuple[str, Problem]] = []
    for plan in report.people:
        person = resolved[plan.source.key]
        if person is None:
            continue
        earlier = chosen.setdefault(person.id, plan)
        if earlier is plan:
            continue
        decided = [p.source.key for p in (plan, earlier) if p.source.key in decisions]
        if not decided:
            continue
        message = _(
            "is %(name)s (%(id)s) of the register, as %(other)s is: one register person can be "
            "one person of the file; decide otherwise",
            name=person.name,
            id=person.public_id,
            other=earlier.source.where,
        )
        found.append((decided[0], Problem(0, plan.source.where, message)))
    return found


def apply_popolo(
    actor: Actor,
    report: PopoloReport,
    decisions: Mapping[str, str],
    *,
    sha256: str,
    import_id: str | None = None,
) -> dict[str, int]:
    """Write a clean, decided report; the caller commits once (or rolls back on error)."""
    if not report.ok:
        raise ValidationError({"file": _("has problems; nothing was imported")})
    errors = decision_errors(report, decisions)
    if errors:
        raise ValidationError(errors)
    resolved = resolve(report.matches(), decisions)
    summary = dict.fromkeys(("create", "update", "unchanged", "organizations", "memberships"), 0)
    organizations = {
        plan.source.key: _organization(actor, plan, summary) for plan in report.organizations
    }
    people = {plan.source.key: _person(actor, plan, resolved, summary) for plan in report.people}
    written = []
    for seat_plan in report.seats:
        seat = seat_plan.source
        person, org = people[seat.person], organizations[seat.organization]
        legislature = organizations[seat.legislature] if seat.legislature else None
        existing = existing_membership(person, org, seat.role)
        if existing is None:
            membership = add_membership(
                actor, person, org, seat.role, start=seat.start, end=seat.end, area=seat.area
            )
            membership.legislature = legislature
            summary["memberships"] += 1
            written.append(membership.public_id)
        else:
            update = seat_changes(existing, seat, legislature.id if legislature else None)
            if update:
                _complete_membership(actor, existing, update)
                written.append(existing.public_id)
    summary["rows"] = len(report.people)
    changed = summary["create"] + summary["update"] + summary["organizations"] + len(written)
    if changed:
        audit.record(
            actor,
            "import.apply",
            "import",
            import_id or f"file:{sha256[:16]}",
            after={**summary, "format": "popolo", "sha256": sha256, "memberships_written": written},
        )
    db.session.flush()
    return summary


def _organization(actor: Actor, plan: OrganizationPlan, summary: dict[str, int]) -> Organization:
    source, org = plan.source, plan.organization
    if org is None:
        summary["organizations"] += 1
        return create_organization(
            actor,
            OrganizationInput(
                name=source.name,
                kind=source.kind.value,
                short_name=source.short_name,
                seats=source.seats,
                identifiers=list(source.identifiers),
            ),
        )
    if plan.update:
        update_organization(
            actor,
            org,
            OrganizationInput(
                name=org.name,
                kind=org.kind,
                short_name=org.short_name,
                country=org.country,
                seats=plan.update.get("seats", org.seats),
                dissolved_on=_partial(org),
                identifiers=plan.update.get("identifiers", identifier_pairs(org)),
            ),
        )
    return org


def _partial(org: Organization) -> PartialDate | None:
    return PartialDate.of(org.dissolved_on, "day" if org.dissolved_on else None)


def _person(
    actor: Actor, plan: PersonPlan, resolved: Mapping[str, Person | None], summary: dict[str, int]
) -> Person:
    person = resolved[plan.source.key]
    if person is None:
        summary["create"] += 1
        return create_person(actor, person_input(plan.source))
    update = plan.update
    if person is not plan.match.person:  # decided: what the file adds to the chosen person
        mine = {(i.scheme, i.identifier) for i in person.identifiers}
        update = completion(person, plan.source, _taken(plan, mine))
    if not update:
        summary["unchanged"] += 1
        return person
    summary["update"] += 1
    update_person(actor, person, _completed(person, update))
    return person


def _taken(plan: PersonPlan, mine: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The file person's identifiers held by someone other than the chosen person."""
    return set(held_by_anyone(plan.source.identifiers)) - mine


def _completed(person: Person, update: dict[str, Any]) -> PersonInput:
    """The person as they are, with the file's additions."""
    return PersonInput(
        name=person.name,
        name_native=update.get("name_native", person.name_native),
        aliases=update.get("aliases", list(person.aliases)),
        gender=update.get("gender", person.gender),
        birth_date=update.get("birth_date", person.birth),
        nationality=person.nationality,
        occupation=person.occupation,
        biography=person.biography,
        death_date=update.get("death_date", person.death),
        identifiers=update.get("identifiers"),
        name_native_lang=update.get("name_native_lang"),
        links=update.get("links"),
    )


def _complete_membership(actor: Actor, membership: Membership, update: dict[str, Any]) -> None:
    """Fill a membership's empty area, dates or legislature (audited)."""
    before = audit.snapshot(membership)
    if "area" in update:
        membership.area = update["area"]
    if "start" in update:
        membership.start_on = update["start"].start
        membership.start_precision = update["start"].precision.value
    if "end" in update:
        membership.end_on = update["end"].start
        membership.end_precision = update["end"].precision.value
    if "legislature_id" in update:
        membership.legislature_id = update["legislature_id"]
    db.session.flush()
    audit.record(
        actor,
        "membership.update",
        "membership",
        membership.public_id,
        before=before,
        after=audit.snapshot(membership),
    )
