"""Subscriptions: who hears about which status changes.

A stranger subscribes on the public page and hears nothing until they confirm from the email
(double opt-in); a logged-in user follows a case or an organization and is confirmed at once, since
they are who they say they are. Every email carries a one-click unsubscribe link.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, Select, bindparam, func, select

from monitor import authz, jobs
from monitor.domain import Confidentiality
from monitor.extensions import db
from monitor.models import Case, Membership, Organization, Subscription, User
from monitor.models.alerts import SubscriptionMode, SubscriptionScope
from monitor.models.base import utcnow
from monitor.presentation import country_name
from monitor.presentation.translation import SOURCE_LANGUAGE, current_language, gettext
from monitor.presentation.translation import gettext as _
from monitor.services import Actor, ValidationError, audit, column_rows
from monitor.services.validation import member, normalise_country, optional_text

PUBLIC_ACTOR = "public"  # the audit log's name for an anonymous visitor of the subscribe page
SUBSCRIBER_ACTOR = "subscriber"  # someone acting through a link in an email


@dataclass
class SubscriptionInput:
    """What someone asks to be told about, and how often."""

    email: str
    name: str = ""
    organization_name: str | None = None
    scope: str = SubscriptionScope.ALL.value
    country: str | None = None
    organization: Organization | None = None
    case: Case | None = None
    mode: str = SubscriptionMode.IMMEDIATE.value
    # The language of the emails, one of MONITOR_LANGUAGES (checked by the caller, which knows
    # them: the form's choices, the API's field).
    language: str = "en"


@dataclass(frozen=True)
class _Valid:
    email: str
    name: str
    organization_name: str | None
    scope: SubscriptionScope
    country: str | None
    organization: Organization | None
    case: Case | None
    mode: SubscriptionMode
    language: str


def normalise_email(email: str, errors: dict[str, str], field: str = "email") -> str:
    """The address in canonical lower case, or an error."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        # email-validator explains the fault in English only; other languages get a plain refusal.
        english = current_language() == SOURCE_LANGUAGE
        errors[field] = str(exc) if english else _("is not a valid email address")
        return ""


def _validate(data: SubscriptionInput) -> _Valid:
    errors: dict[str, str] = {}
    email = normalise_email(data.email, errors)
    name = optional_text(data.name, errors, "name", 200) or ""
    organization_name = optional_text(data.organization_name, errors, "organization_name", 200)
    scope = member(SubscriptionScope, data.scope, errors, "scope")
    mode = member(SubscriptionMode, data.mode, errors, "mode")
    country = normalise_country(data.country, errors, "scope_id")
    if scope is SubscriptionScope.COUNTRY and country is None:
        errors.setdefault("scope_id", _("choose a country"))
    if scope is SubscriptionScope.ORGANIZATION and data.organization is None:
        errors.setdefault("scope_id", _("choose an organization"))
    if scope is SubscriptionScope.CASE and data.case is None:
        errors.setdefault("scope_id", _("choose a case"))
    if errors:
        raise ValidationError(errors)
    assert scope is not None  # noqa: S101 - errors raised above
    assert mode is not None  # noqa: S101 - errors raised above
    return _Valid(
        email=email,
        name=name,
        organization_name=organization_name,
        scope=scope,
        country=country if scope is SubscriptionScope.COUNTRY else None,
        organization=data.organization if scope is SubscriptionScope.ORGANIZATION else None,
        case=data.case if scope is SubscriptionScope.CASE else None,
        mode=mode,
        language=data.language,
    )


def _same_scope(valid: _Valid) -> list[ColumnElement[bool]]:
    return [
        Subscription.scope == valid.scope.value,
        Subscription.scope_country.is_(None)
        if valid.country is None
        else Subscription.scope_country == valid.country,
        Subscription.scope_organization_id.is_(None)
        if valid.organization is None
        else Subscription.scope_organization_id == valid.organization.id,
        Subscription.scope_case_id.is_(None)
        if valid.case is None
        else Subscription.scope_case_id == valid.case.id,
    ]


def _fill(subscription: Subscription, valid: _Valid) -> None:
    subscription.email = valid.email
    subscription.name = valid.name
    subscription.organization_name = valid.organization_name
    subscription.scope = valid.scope.value
    subscription.scope_country = valid.country
    subscription.scope_organization = valid.organization
    subscription.scope_case = valid.case
    subscription.mode = valid.mode.value
    subscription.language = valid.language


def _audit(actor: Actor, action: str, subscription: Subscription) -> None:
    # Scope and mode only: the append-only log keeps no subscriber's address or name.
    audit.record(
        actor,
        action,
        "subscription",
        subscription.public_id,
        after={
            "scope": subscription.scope,
            "scope_id": scope_id(subscription),
            "mode": subscription.mode,
            "language": subscription.language,
            "confirmed": subscription.confirmed_at is not None,
            "active": subscription.unsubscribed_at is None,
            "user": subscription.user.public_id if subscription.user else None,
        },
    )


def confirm_token(subscription: Subscription, secret_key: str) -> str:
    """The secret in the confirmation link, derived from the app's key: nothing to store."""
    key = secret_key.encode()
    digest = hmac.new(key, f"confirm:{subscription.public_id}".encode(), hashlib.sha256)
    return digest.hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new(valid: _Valid) -> Subscription:
    subscription = Subscription(unsubscribe_token=secrets.token_urlsafe(32))
    _fill(subscription, valid)
    db.session.add(subscription)
    db.session.flush()  # the public id exists from here on
    return subscription


def request_subscription(data: SubscriptionInput, secret_key: str) -> Subscription:
    """The public page: an unconfirmed subscription, and a confirmation email after commit.

    Asking again for the same scope re-sends the confirmation (or does nothing once confirmed),
    so the page answers the same whoever already subscribed.
    """
    valid = _validate(data)
    if valid.case is not None and valid.case.level is not Confidentiality.PUBLIC:
        raise ValidationError({"scope_id": _("choose a case")})
    subscription = db.session.scalars(
        select(Subscription).where(
            func.lower(Subscription.email) == valid.email,
            Subscription.user_id.is_(None),
            *_same_scope(valid),
        )
    ).first()
    if subscription is not None and subscription.unsubscribed_at is None:
        if subscription.confirmed_at is not None:
            return subscription
        _fill(subscription, valid)
    elif subscription is not None:  # unsubscribed before: asks again, confirms again
        _fill(subscription, valid)
        subscription.unsubscribed_at = None
        subscription.confirmed_at = None
        subscription.unsubscribe_token = secrets.token_urlsafe(32)
    else:
        subscription = _new(valid)
    subscription.confirm_token_hash = _token_hash(confirm_token(subscription, secret_key))
    db.session.flush()
    _audit(PUBLIC_ACTOR, "subscription.request", subscription)
    jobs.after_commit(jobs.TaskName.ALERTS_CONFIRM, subscription.id)
    return subscription


def by_confirm_token(token: str) -> Subscription | None:
    """The subscription a confirmation link belongs to."""
    if not token or len(token) > 128:
        return None
    return db.session.scalars(
        select(Subscription).where(Subscription.confirm_token_hash == _token_hash(token))
    ).first()


def confirm(subscription: Subscription) -> None:
    """Double opt-in completed: from now on the address hears about its scope."""
    if subscription.confirmed_at is not None or subscription.unsubscribed_at is not None:
        return
    subscription.confirmed_at = utcnow()
    db.session.flush()
    _audit(SUBSCRIBER_ACTOR, "subscription.confirm", subscription)


def by_unsubscribe_token(token: str) -> Subscription | None:
    """The subscription an unsubscribe link belongs to."""
    if not token or len(token) > 64:
        return None
    return db.session.scalars(
        select(Subscription).where(Subscription.unsubscribe_token == token)
    ).first()


def unsubscribe(actor: Actor, subscription: Subscription) -> None:
    """Stop every alert of this subscription (the delivery log keeps what was sent)."""
    if subscription.unsubscribed_at is not None:
        return
    subscription.unsubscribed_at = utcnow()
    db.session.flush()
    _audit(actor, "subscription.unsubscribe", subscription)


def create_confirmed(actor: User, data: SubscriptionInput) -> Subscription:
    """An editor or admin subscribes someone directly (the API): confirmed, no opt-in email.

    The subscription is the caller's own, following their clearance, when the address is theirs;
    any other address is an external subscriber, who only ever hears about public cases.
    """
    valid = _validate(data)
    own = valid.email == actor.email.lower()
    if valid.case is not None and not own and valid.case.level is not Confidentiality.PUBLIC:
        raise ValidationError(
            {"scope_id": _("external subscribers hear about public cases only; this case is not")}
        )
    subscription = Subscription(unsubscribe_token=secrets.token_urlsafe(32))
    _fill(subscription, valid)
    subscription.user = actor if own else None
    subscription.confirmed_at = utcnow()
    db.session.add(subscription)
    db.session.flush()
    _audit(actor, "subscription.create", subscription)
    return subscription


def following(user: User, scope: SubscriptionScope, target: Case | Organization | None) -> bool:
    """Whether the user follows this case, organization (or, with no target, everything)."""
    # Asked on every case and organization page: an id, not a Subscription object.
    return bool(column_rows(_FOLLOWING[type(target)], _own_params(user, scope, target)))


def follow_mode(
    user: User, scope: SubscriptionScope, target: Case | Organization | None
) -> SubscriptionMode | None:
    """How often the user hears about this case or organization (or everything); None when
    they do not follow it."""
    rows = column_rows(_FOLLOW_MODE[type(target)], _own_params(user, scope, target))
    return SubscriptionMode(rows[0].mode) if rows else None


def _own(
    user: User, scope: SubscriptionScope, target: Case | Organization | None
) -> Subscription | None:
    return db.session.scalars(_OWN[type(target)], _own_params(user, scope, target)).first()


def _own_params(
    user: User, scope: SubscriptionScope, target: Case | Organization | None
) -> dict[str, Any]:
    params: dict[str, Any] = {"user_id": user.id, "scope": scope.value}
    if target is not None:
        params["target_id"] = target.id
    return params


def _own_conditions(target_column: Any) -> list[ColumnElement[bool]]:
    """A user's live subscription of a scope (and target), as ``bindparam()`` placeholders."""
    conditions = [
        Subscription.user_id == bindparam("user_id"),
        Subscription.scope == bindparam("scope"),
    ]
    if target_column is not None:
        conditions.append(target_column == bindparam("target_id"))
    return [*conditions, Subscription.unsubscribed_at.is_(None)]


# Built once, by the target's type (a case, an organization, or none for everything): the case
# page asks on every view (see column_rows).
_TARGET_COLUMNS: dict[type[Any], Any] = {
    Case: Subscription.scope_case_id,
    Organization: Subscription.scope_organization_id,
    type(None): None,
}
_FOLLOWING = {
    kind: select(Subscription.id).where(*_own_conditions(column)).limit(1)
    for kind, column in _TARGET_COLUMNS.items()
}
_FOLLOW_MODE = {
    kind: select(Subscription.mode).where(*_own_conditions(column)).limit(1)
    for kind, column in _TARGET_COLUMNS.items()
}
_OWN = {
    kind: select(Subscription).where(*_own_conditions(column))
    for kind, column in _TARGET_COLUMNS.items()
}


def follow(
    user: User,
    scope: SubscriptionScope,
    target: Case | Organization | None,
    mode: str = SubscriptionMode.IMMEDIATE.value,
    language: str | None = None,
) -> Subscription:
    """A logged-in user follows a case, an organization's members or every case they may see
    (emails in ``language``, by default the user's)."""
    existing = _own(user, scope, target)
    valid = _validate(
        SubscriptionInput(
            email=user.email,
            name=user.name,
            scope=scope.value,
            case=target if isinstance(target, Case) else None,
            organization=target if isinstance(target, Organization) else None,
            mode=mode,
            language=language or user.language or "en",
        )
    )
    subscription = existing or Subscription(unsubscribe_token=secrets.token_urlsafe(32))
    _fill(subscription, valid)
    subscription.user = user
    subscription.confirmed_at = subscription.confirmed_at or utcnow()
    db.session.add(subscription)
    db.session.flush()
    _audit(user, "subscription.follow", subscription)
    return subscription


def unfollow(user: User, scope: SubscriptionScope, target: Case | Organization | None) -> bool:
    """Stop following; False when the user was not following it."""
    subscription = _own(user, scope, target)
    if subscription is None:
        return False
    unsubscribe(user, subscription)
    return True


def scope_id(subscription: Subscription) -> str | None:
    """The country code, or the public id of the organization or case followed."""
    if subscription.scope == SubscriptionScope.COUNTRY:
        return subscription.scope_country
    if subscription.scope_organization is not None:
        return subscription.scope_organization.public_id
    if subscription.scope_case is not None:
        return subscription.scope_case.public_id
    return None


@dataclass(frozen=True)
class Followed:
    """What a subscription follows, as plain values (the sender reads thousands of them), worded
    in the language in force when an email or a page shows it."""

    scope: str
    country: str | None = None
    organization: str | None = None
    person: str | None = None
    tied_to_user: bool = False

    def scope_text(self) -> str:
        """``every public case``, ``cases in Cambodia``, ``members of CNRP``,
        ``Kem Sokha's case``."""
        if self.scope == SubscriptionScope.COUNTRY.value:
            return gettext("cases in %(country)s", country=country_name(self.country))
        if self.scope == SubscriptionScope.ORGANIZATION.value and self.organization:
            return gettext("members of %(organization)s", organization=self.organization)
        if self.scope == SubscriptionScope.CASE.value and self.person:
            return gettext("%(person)s's case", person=self.person)
        if self.tied_to_user:
            return gettext("every case you are cleared to see")
        return gettext("every public case")

    def reason(self) -> str:
        """Why an email reaches this subscriber: ``you follow members of CNRP``."""
        if self.scope == SubscriptionScope.COUNTRY.value:
            return gettext("you follow cases in %(country)s", country=country_name(self.country))
        if self.scope == SubscriptionScope.ORGANIZATION.value and self.organization:
            return gettext("you follow members of %(organization)s", organization=self.organization)
        if self.scope == SubscriptionScope.CASE.value and self.person:
            return gettext("you follow %(person)s's case", person=self.person)
        if self.tied_to_user:
            return gettext("you follow every case you are cleared to see")
        return gettext("you follow every public case")


def followed(subscription: Subscription) -> Followed:
    """What ``subscription`` follows, as plain values."""
    organization = subscription.scope_organization
    case = subscription.scope_case
    return Followed(
        subscription.scope,
        country=subscription.scope_country,
        organization=organization.label if organization else None,
        person=case.person.name if case else None,
        tied_to_user=subscription.user_id is not None,
    )


def describe_scope(subscription: Subscription) -> str:
    """``every public case``, ``cases in Cambodia``, ``members of CNRP``, ``Kem Sokha's case``."""
    return followed(subscription).scope_text()


def scope_text(
    scope: str,
    *,
    country: str | None,
    organization: str | None,
    person: str | None,
    tied_to_user: bool,
) -> str:
    """:func:`describe_scope` from plain values (the sender reads thousands of subscriptions)."""
    return Followed(scope, country, organization, person, tied_to_user).scope_text()


def reason(subscription: Subscription) -> str:
    """Why an email reaches this subscriber: ``you follow members of CNRP``."""
    return followed(subscription).reason()


def latest_visible(user: User, limit: int) -> list[Subscription]:
    """Up to ``limit`` active subscriptions the user may see, newest first."""
    return list(db.session.scalars(visible_subscriptions(user).limit(limit)))


def visible_subscriptions(user: User | None) -> Select[Subscription]:
    """Active subscriptions, leaving out those that follow a case above the user's clearance."""
    return (
        select(Subscription)
        .where(Subscription.unsubscribed_at.is_(None), authz.subscription_visible(user))
        .order_by(Subscription.created_at.desc(), Subscription.id.desc())
    )


def get_visible(public_id: str, user: User | None) -> Subscription | None:
    """An active subscription by public id, if the user may see it."""
    return db.session.scalars(
        visible_subscriptions(user).where(Subscription.public_id == public_id)
    ).first()


def public_organizations() -> list[Organization]:
    """Organizations a stranger may follow: those with a member whose case is public.

    An organization whose members' cases are all restricted is not offered, since listing it
    would tell a stranger that the register follows someone there.
    """
    public_member = (
        select(Membership.organization_id)
        .join(Case, Case.person_id == Membership.person_id)
        .where(Case.confidentiality == Confidentiality.PUBLIC.value)
    )
    return list(
        db.session.scalars(
            select(Organization)
            .where(Organization.id.in_(public_member))
            .order_by(Organization.name)
        )
    )


def public_organization(public_id: str) -> Organization | None:
    """One of :func:`public_organizations` by public id."""
    return next((o for o in public_organizations() if o.public_id == public_id), None)
