"""Who may do what, in one place, and fetch-with-permission helpers keyed by public id.

Every query that lists, counts or loads cases goes through :func:`visible_cases` (or a helper here
built on it), so a case above the user's clearance is invisible everywhere, and an id that is not
visible answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask import abort
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm.interfaces import ORMOption

from monitor.domain import Confidentiality, Role
from monitor.extensions import db
from monitor.models import (
    AlertDelivery,
    ApiToken,
    Case,
    Charge,
    Dossier,
    Import,
    Membership,
    Organization,
    Passkey,
    Person,
    Source,
    StatusEvent,
    Subscription,
    User,
)
from monitor.models.cases import case_sources, charge_sources, event_sources


class NotFound(Exception):
    """No such record, or one the user may not see: both get the same answer (404)."""


class Action(StrEnum):
    """What a user asks to do."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_ALLOWED = {
    Role.VIEWER: {Action.READ},
    Role.EDITOR: {Action.READ, Action.WRITE},
    Role.ADMIN: {Action.READ, Action.WRITE, Action.ADMIN},
}


def can(user: User | None, action: Action) -> bool:
    """Whether this user's role allows the action at all."""
    if user is None or not user.is_authenticated or not user.active:
        return False
    return action in _ALLOWED[user.user_role]


def require(user: User | None, action: Action) -> None:
    """Abort with 403 unless the role allows the action."""
    if not can(user, action):
        abort(403)


def visible_levels(user: User | None) -> list[str]:
    """Confidentiality levels this user may see (none for anonymous users)."""
    if user is None or not user.is_authenticated:
        return []
    return Confidentiality(user.clearance).levels_visible()


def cleared_for_every_level(levels: list[str]) -> bool:
    """Whether these visible levels are all there are (no clearance condition is then needed)."""
    return len(levels) == len(Confidentiality)


def case_visible(user: User | None) -> ColumnElement[bool]:
    """SQL condition: the case is within the user's clearance."""
    levels = visible_levels(user)
    if cleared_for_every_level(levels):
        # Cleared for everything: no condition, which also keeps the planner's estimates right.
        return true()
    return Case.confidentiality.in_(levels)


def visible_cases(user: User | None) -> Select[Case]:
    """The base query for any list of cases."""
    return select(Case).where(case_visible(user))


def person_visible(user: User | None) -> ColumnElement[bool]:
    """A person is visible unless every case they have is above the user's clearance.

    A person with only a confidential case is hidden, since listing them would reveal the case.
    """
    if cleared_for_every_level(visible_levels(user)):
        # Every case is within the clearance, so every person is visible: no condition, and no
        # probe of each person's cases (an organization of 20,000 members counts them at once).
        return true()
    any_case = exists().where(Case.person_id == Person.id)
    visible_case = exists().where(Case.person_id == Person.id, case_visible(user))
    return or_(not_(any_case), visible_case)


class CaseQuery:
    """The query for one case by public id, within a clearance, with these loader options.

    Built once (a module constant), its statements take the public id and the visible levels as
    ``bindparam()`` values: building a statement with eager loads and computing its cache key
    cost more than running it. The clearance condition is :func:`case_visible`'s: none for a
    user cleared for every level, else the confidentiality among the user's levels.
    """

    def __init__(self, *options: ORMOption) -> None:
        by_id = select(Case).where(Case.public_id == bindparam("public_id")).options(*options)
        self._cleared_for_all = by_id
        self._within_levels = by_id.where(
            Case.confidentiality.in_(bindparam("levels", expanding=True))
        )

    def statement(self, user: User | None) -> tuple[Select[Case], dict[str, Any]]:
        """The statement for this user and the clearance's parameter values."""
        levels = visible_levels(user)
        if cleared_for_every_level(levels):
            return self._cleared_for_all, {}
        return self._within_levels, {"levels": levels}


CASE = CaseQuery()


def get_case(
    public_id: str,
    user: User | None,
    action: Action = Action.READ,
    *,
    query: CaseQuery = CASE,
) -> Case:
    """The case with this public id if the user may see it (and act on it), else 404 / 403.

    ``query`` may add loader options (what a page shows with the case).
    """
    require(user, action)
    statement, params = query.statement(user)
    case = db.session.scalars(statement, {**params, "public_id": public_id}).unique().one_or_none()
    if case is None:
        raise NotFound
    return case


def visible_person(public_id: str, user: User | None) -> Person | None:
    """The person with this public id if visible to the user, else ``None``."""
    return db.session.scalars(
        select(Person).where(Person.public_id == public_id, person_visible(user))
    ).first()


def get_person(public_id: str, user: User | None, action: Action = Action.READ) -> Person:
    """The person with this public id if visible to the user, else 404."""
    require(user, action)
    person = visible_person(public_id, user)
    if person is None:
        raise NotFound
    return person


# Built once: forms and pages look organizations up by public id on every submission.
_ORGANIZATION_BY_ID = select(Organization).where(Organization.public_id == bindparam("public_id"))


def organization_by_id(public_id: str) -> Organization | None:
    """The organization with this public id (every user may see organizations), else ``None``."""
    return db.session.scalars(_ORGANIZATION_BY_ID, {"public_id": public_id}).first()


def get_organization(
    public_id: str, user: User | None, action: Action = Action.READ
) -> Organization:
    """The organization with this public id, else 404."""
    require(user, action)
    org = organization_by_id(public_id)
    if org is None:
        raise NotFound
    return org


def get_charge(public_id: str, user: User | None, action: Action = Action.READ) -> Charge:
    """A charge whose case the user may see, else 404."""
    require(user, action)
    charge = db.session.scalars(
        select(Charge).join(Case).where(Charge.public_id == public_id, case_visible(user))
    ).first()
    if charge is None:
        raise NotFound
    return charge


def get_membership(public_id: str, user: User | None, action: Action = Action.WRITE) -> Membership:
    """A membership of a visible person, else 404."""
    require(user, action)
    membership = db.session.scalars(
        select(Membership)
        .join(Person, Membership.person_id == Person.id)
        .where(Membership.public_id == public_id, person_visible(user))
    ).first()
    if membership is None:
        raise NotFound
    return membership


def get_event(case: Case, public_id: str) -> StatusEvent:
    """A status event of an already-authorised case, else 404."""
    event = db.session.scalars(
        select(StatusEvent).where(
            StatusEvent.case_id == case.id, StatusEvent.public_id == public_id
        )
    ).first()
    if event is None:
        raise NotFound
    return event


def get_user(public_id: str, user: User | None) -> User:
    """Any account, for admins only."""
    require(user, Action.ADMIN)
    target = db.session.scalars(select(User).where(User.public_id == public_id)).first()
    if target is None:
        raise NotFound
    return target


def get_source(public_id: str, user: User | None) -> Source:
    """A source the user may see (not one cited only above their clearance), else 404."""
    require(user, Action.READ)
    source = db.session.scalars(visible_sources(user).where(Source.public_id == public_id)).first()
    if source is None:
        raise NotFound
    return source


def source_visible(user: User | None) -> ColumnElement[bool]:
    """A source may be offered unless every citation of it is on a case above the clearance.

    Listing a source cited only by a confidential case would reveal that the case exists.
    """

    def cited(*extra: ColumnElement[bool]) -> ColumnElement[bool]:
        return or_(
            exists().where(
                case_sources.c.source_id == Source.id, case_sources.c.case_id == Case.id, *extra
            ),
            exists().where(
                charge_sources.c.source_id == Source.id,
                charge_sources.c.charge_id == Charge.id,
                Charge.case_id == Case.id,
                *extra,
            ),
            exists().where(
                event_sources.c.source_id == Source.id,
                event_sources.c.status_event_id == StatusEvent.id,
                StatusEvent.case_id == Case.id,
                *extra,
            ),
        )

    return or_(not_(cited()), cited(case_visible(user)))


def visible_sources(user: User | None) -> Select[Source]:
    """Sources a user may pick when citing: uncited ones and those cited on visible cases."""
    return select(Source).where(source_visible(user))


def get_token(public_id: str, user: User | None) -> ApiToken:
    """An API token held by the user (or any token, for admins), else 404."""
    require(user, Action.READ)
    token = db.session.scalars(select(ApiToken).where(ApiToken.public_id == public_id)).first()
    if token is None or user is None:
        raise NotFound
    if token.user_id != user.id and not can(user, Action.ADMIN):
        raise NotFound
    return token


def get_passkey(public_id: str, user: User | None) -> Passkey:
    """One of the user's own passkeys (nobody else's, admins included), else 404."""
    require(user, Action.READ)
    passkey = db.session.scalars(select(Passkey).where(Passkey.public_id == public_id)).first()
    if passkey is None or user is None or passkey.user_id != user.id:
        raise NotFound
    return passkey


def audience_levels(user: User | None, audience: Confidentiality) -> list[str]:
    """Levels a document written for ``audience`` may show: the audience's, within the clearance."""
    allowed = set(visible_levels(user))
    return [level for level in audience.levels_visible() if level in allowed]


def person_visible_at(levels: list[str]) -> ColumnElement[bool]:
    """Like :func:`person_visible`, for an audience's levels instead of a user's clearance."""
    any_case = exists().where(Case.person_id == Person.id)
    case_at_level = exists().where(Case.person_id == Person.id, Case.confidentiality.in_(levels))
    return or_(not_(any_case), case_at_level)


def dossier_visible(user: User | None) -> ColumnElement[bool]:
    """SQL condition: a dossier this user may open.

    Only its requester (or an admin) may, and only while cleared for its audience: a dossier is
    as confidential as the level it was written for, and a clearance lowered later locks it too.
    """
    cleared = Dossier.audience.in_(visible_levels(user))
    if user is None or can(user, Action.ADMIN):
        return cleared  # no levels at all for anonymous users: nothing matches
    return and_(cleared, Dossier.requested_by_id == user.id)


def get_dossier(public_id: str, user: User | None) -> Dossier:
    """A dossier the user may open (see :func:`dossier_visible`), else 404."""
    require(user, Action.READ)
    dossier = db.session.scalars(
        select(Dossier).where(Dossier.public_id == public_id, dossier_visible(user))
    ).first()
    if dossier is None:
        raise NotFound
    return dossier


def subscription_visible(user: User | None) -> ColumnElement[bool]:
    """A subscription is visible unless it follows a case above the user's clearance."""
    hidden_cases = select(Case.id).where(not_(case_visible(user)))
    return or_(
        Subscription.scope_case_id.is_(None), Subscription.scope_case_id.not_in(hidden_cases)
    )


def get_subscription(
    public_id: str, user: User | None, action: Action = Action.WRITE
) -> Subscription:
    """An active subscription the user may see and manage, else 404."""
    require(user, action)
    subscription = db.session.scalars(
        select(Subscription).where(
            Subscription.public_id == public_id,
            Subscription.unsubscribed_at.is_(None),
            subscription_visible(user),
        )
    ).first()
    if subscription is None:
        raise NotFound
    return subscription


def get_delivery(public_id: str, user: User | None, action: Action = Action.WRITE) -> AlertDelivery:
    """An alert delivery about a case the user may see, else 404 (the log is for writers)."""
    require(user, action)
    delivery = db.session.scalars(
        select(AlertDelivery)
        .join(StatusEvent, AlertDelivery.status_event_id == StatusEvent.id)
        .join(Case, StatusEvent.case_id == Case.id)
        .where(AlertDelivery.public_id == public_id, case_visible(user))
    ).first()
    if delivery is None:
        raise NotFound
    return delivery


def get_import(public_id: str, user: User | None) -> Import:
    """An import the user made, while they may still write; else 404."""
    require(user, Action.WRITE)
    assert user is not None  # noqa: S101 - require() aborted otherwise
    # Only the uploader: problems and the preview quote cells of cases at any level the
    # uploader may write, which an admin of lower clearance must not read.
    query = select(Import).where(Import.public_id == public_id, Import.requested_by_id == user.id)
    record = db.session.scalars(query).first()
    if record is None:
        raise NotFound
    return record
