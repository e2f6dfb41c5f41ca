"""What the register's pages and the API show, each loaded in a fixed few queries.

Views call these instead of querying: every list, count and record here is filtered by the
user's clearance (through :mod:`monitor.authz`), and paging is computed in one place
(:class:`Paged`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload, selectinload

from monitor import authz
from monitor.extensions import db
from monitor.models import (
    Case,
    Charge,
    Dossier,
    Membership,
    Organization,
    Person,
    StatusEvent,
    Subscription,
    User,
)
from monitor.services import audit, column_rows, queries
from monitor.services.subscriptions import visible_subscriptions
from monitor.services.validation import MAX_PAGE_NUMBER

T = TypeVar("T")
CitingT = TypeVar("CitingT", StatusEvent, Charge)


@dataclass
class Paged(Generic[T]):
    """One page of a list: its items, the total, and the page arithmetic."""

    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def past_last(self) -> bool:
        """The page asked for lies past the last one: web pages redirect to the last page, the
        API answers it empty with the true total and page count."""
        return self.page > self.pages


def paged(query: Select[Any], page: int, per_page: int) -> Paged[Any]:
    """The ``page``-th page of ``query`` (ORM rows) with the total it counts; the page number
    is one :func:`~monitor.services.validation.page_number` accepted (kept in range here too,
    since SQL OFFSET takes a 64-bit integer)."""
    page = min(MAX_PAGE_NUMBER, max(1, page))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Paged(items, total or 0, page, per_page)


# --- cases ---------------------------------------------------------------------------------

# Built once: the case list shows this select on every page view.
_ORGANIZATION_NAMES = select(
    Organization.public_id, Organization.name, Organization.short_name
).order_by(Organization.name)


def organization_names() -> list[tuple[str, str, str | None]]:
    """Every organization as ``(public id, name, short name)``, by name (for selects)."""
    return [(row[0], row[1], row[2]) for row in column_rows(_ORGANIZATION_NAMES)]


def people_to_choose(user: User | None, limit: int, selected: str | None = None) -> list[Person]:
    """Up to ``limit`` people the user may see, by name, and the ``selected`` one if beyond."""
    people = list(db.session.scalars(queries.visible_people(user).limit(limit)))
    if selected and all(p.public_id != selected for p in people):
        extra = authz.visible_person(selected, user)
        if extra is not None:
            people.insert(0, extra)
    return people


def _with_sources(model: type[CitingT], *order: InstrumentedAttribute[Any]) -> Select[CitingT]:
    """A case's (``bindparam("case_id")``) events or charges in ``order``, each with its sources
    in the same query. Built once, at import: the case page runs both on every view."""
    return (
        select(model)
        .where(model.case_id == bindparam("case_id"))
        .options(joinedload(model.sources))
        .order_by(*order)
    )


# Joined eager loads: the case with its person and their memberships in one query, then one
# each for the timeline and the charges with their sources (a select-in load costs another
# round trip).
_CASE_PAGE = authz.CaseQuery(
    joinedload(Case.person).joinedload(Person.memberships).joinedload(Membership.organization)
)
_EVENTS = _with_sources(StatusEvent, StatusEvent.occurred_on, StatusEvent.id)
_CHARGES = _with_sources(Charge, Charge.id)


@dataclass
class CasePage:
    """A case with its person, timeline, charges, memberships and audit history."""

    case: Case
    person: Person
    events: Sequence[StatusEvent]
    charges: Sequence[Charge]
    memberships: Sequence[Membership]
    history: Any


def case_page(user: User | None, public_id: str) -> CasePage:
    """Everything the case page shows (:class:`~monitor.authz.NotFound` if hidden)."""
    case = authz.get_case(public_id, user, query=_CASE_PAGE)
    person = case.person
    return CasePage(
        case=case,
        person=person,
        events=db.session.scalars(_EVENTS, {"case_id": case.id}).unique().all(),
        charges=db.session.scalars(_CHARGES, {"case_id": case.id}).unique().all(),
        # Ordered by id (the relationship's order_by).
        memberships=person.memberships,
        history=audit.case_history(case.public_id),
    )


def case_in_full(case: Case) -> Case:
    """The case with its person, charges, events and sources loaded in a fixed few queries."""
    return db.session.scalars(
        select(Case)
        .where(Case.id == case.id)
        .options(
            joinedload(Case.person),
            selectinload(Case.charges).selectinload(Charge.sources),
            selectinload(Case.events).selectinload(StatusEvent.sources),
            selectinload(Case.sources),
        )
    ).one()


# --- people --------------------------------------------------------------------------------


def people_list(user: User | None, q: str | None, page: int, per_page: int) -> Paged[Person]:
    """A page of the people the user may see, optionally matching a name search."""
    return paged(queries.visible_people(user, q or None), page, per_page)


@dataclass
class PersonPage:
    """A person with the cases the user may see and their memberships."""

    person: Person
    cases: Sequence[Case]
    memberships: Sequence[Membership]


def _visible_cases_of(user: User | None, person: Person) -> list[Case]:
    """The person's cases within the user's clearance, oldest first."""
    return list(
        db.session.scalars(
            authz.visible_cases(user).where(Case.person_id == person.id).order_by(Case.id)
        )
    )


def person_page(user: User | None, person: Person) -> PersonPage:
    """The cases (within the user's clearance) and memberships a person's page shows."""
    cases = _visible_cases_of(user, person)
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.person_id == person.id)
        .options(joinedload(Membership.organization))
        .order_by(Membership.id)
    ).all()
    return PersonPage(person, cases, memberships)


def person_in_full(user: User | None, person: Person) -> tuple[Person, list[Case]]:
    """The person with their memberships loaded, and their cases the user may see."""
    loaded = db.session.scalars(
        select(Person)
        .where(Person.id == person.id)
        .options(selectinload(Person.memberships).joinedload(Membership.organization))
    ).one()
    return loaded, _visible_cases_of(user, person)


# --- dossiers, subscriptions -----------------------------------------------------


def own_dossiers(user: User, limit: int) -> Sequence[Dossier]:
    """The dossiers the user requested (and may still open), newest first."""
    return db.session.scalars(
        select(Dossier)
        .where(Dossier.requested_by_id == user.id, authz.dossier_visible(user))
        .order_by(Dossier.created_at.desc(), Dossier.id.desc())
        .limit(limit)
    ).all()


def own_subscriptions(user: User) -> Sequence[Subscription]:
    """The active subscriptions tied to the user's account."""
    return db.session.scalars(
        select(Subscription)
        .where(Subscription.user_id == user.id, Subscription.unsubscribed_at.is_(None))
        .order_by(Subscription.created_at)
    ).all()


def subscribers(user: User, page: int, per_page: int) -> Paged[Subscription]:
    """A page of every active subscription the user may see (the admins' list)."""
    return paged(visible_subscriptions(user), page, per_page)
