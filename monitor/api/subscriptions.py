"""``/api/v1/subscriptions`` and the delivery log of a status event.

Editors and admins manage subscriptions here; a subscription created through the API is confirmed
at once (the caller vouches for the address). Subscriber addresses are personal data, so viewers
get 403, and a subscription that follows a case above the caller's clearance is not shown at all.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Response, current_app, jsonify, url_for
from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from typing_extensions import TypedDict

from monitor import authz
from monitor.api import bp, shapes
from monitor.api.auth import api_user
from monitor.api.errors import parse_body
from monitor.api.fields import COUNTRY_CODE, EMAIL, LANGUAGE, PUBLIC_ID, Omittable, plain_text
from monitor.api.openapi import operation
from monitor.api.schemas import REQUEST_MODELS, RequestModel
from monitor.api.writes import committed
from monitor.authz import Action
from monitor.models import AlertDelivery, Subscription
from monitor.models.alerts import DeliveryState, SubscriptionMode, SubscriptionScope
from monitor.services import alerts, cases, people, subscriptions

LIST_LIMIT = 1000


def _scope_names(scope: SubscriptionScope, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "if": {"properties": {"scope": {"const": scope.value}}, "required": ["scope"]},
        "then": {"properties": {"scope_id": target}, "required": ["scope_id"]},
    }


# The scope decides what scope_id names: nothing (all), a country, an organization or a case.
_SCOPE_TARGETS: dict[str, Any] = {
    **_scope_names(SubscriptionScope.COUNTRY, COUNTRY_CODE.schema),
    "else": {
        **_scope_names(SubscriptionScope.ORGANIZATION, PUBLIC_ID.schema),
        "else": _scope_names(SubscriptionScope.CASE, PUBLIC_ID.schema),
    },
}


class SubscriptionCreate(RequestModel):
    """Who is told about which status changes, and how often."""

    model_config = ConfigDict(json_schema_extra=_SCOPE_TARGETS)

    email: Annotated[str, EMAIL]
    name: Annotated[str, plain_text(200)] = ""
    organization: Annotated[str, plain_text(200)] | None = Field(
        default=None, description="The subscriber's own"
    )
    scope: SubscriptionScope = SubscriptionScope.ALL
    scope_id: Annotated[str | None, Omittable()] = Field(
        default=None,
        description=(
            "For scope country: an ISO 3166-1 alpha-2 code; organization: the organization's "
            "id; case: the id of a case you may see (public, unless the address is your own)"
        ),
    )
    mode: SubscriptionMode = SubscriptionMode.IMMEDIATE
    language: Annotated[str | None, LANGUAGE, Omittable()] = Field(
        default=None,
        description="The language of the emails; left out: the register's first language",
    )

    @field_validator("scope_id")
    @classmethod
    def _fits_scope(cls, scope_id: str | None, info: ValidationInfo) -> str | None:
        scope = info.data.get("scope", SubscriptionScope.ALL)
        if scope_id is not None and scope is SubscriptionScope.COUNTRY:
            return str(COUNTRY_CODE.check(scope_id))
        if scope_id is not None and scope in (
            SubscriptionScope.ORGANIZATION,
            SubscriptionScope.CASE,
        ):
            return str(PUBLIC_ID.check(scope_id))
        return scope_id


class SubscriptionOut(TypedDict):
    """A subscription. ``user_id`` is set when it follows a user's clearance; others hear about
    public cases only."""

    id: str
    email: str
    name: str
    organization: str | None
    scope: SubscriptionScope
    scope_id: str | None
    mode: SubscriptionMode
    confirmed: bool
    confirmed_at: shapes.DateTimeText | None
    created_at: shapes.DateTimeText
    user_id: str | None
    language: str


class SubscriptionList(TypedDict):
    """Active subscriptions, newest first."""

    items: list[SubscriptionOut]
    total: int


class Delivery(TypedDict):
    """One status event told to one subscriber."""

    id: str
    event_id: str
    subscription_id: str
    email: str
    mode: SubscriptionMode
    state: DeliveryState
    attempts: int
    last_error: str | None
    sent_at: shapes.DateTimeText | None
    message_id: str | None


class DeliveryList(TypedDict):
    """The delivery log of one status event, with how many deliveries are in each state."""

    items: list[Delivery]
    total: int
    counts: dict[str, int]


REQUEST_MODELS.append(SubscriptionCreate)
shapes.RESPONSE_SHAPES.extend([SubscriptionOut, SubscriptionList, Delivery, DeliveryList])


def _subscription(sub: Subscription) -> SubscriptionOut:
    return {
        "id": sub.public_id,
        "email": sub.user.email if sub.user else sub.email,
        "name": sub.name,
        "organization": sub.organization_name,
        "scope": SubscriptionScope(sub.scope),
        "scope_id": subscriptions.scope_id(sub),
        "mode": SubscriptionMode(sub.mode),
        "confirmed": sub.confirmed_at is not None,
        "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
        "created_at": sub.created_at.isoformat(),
        "user_id": sub.user.public_id if sub.user else None,
        "language": sub.language,
    }


def _scope_target(data: SubscriptionCreate) -> subscriptions.SubscriptionInput:
    user = api_user()
    chosen = subscriptions.SubscriptionInput(
        email=data.email,
        name=data.name,
        organization_name=data.organization,
        scope=data.scope.value,
        mode=data.mode.value,
        language=data.language or current_app.config["SETTINGS"].languages[0],
    )
    if data.scope is SubscriptionScope.COUNTRY:
        chosen.country = data.scope_id or ""
    elif data.scope is SubscriptionScope.ORGANIZATION and data.scope_id:
        chosen.organization = people.find_organization(data.scope_id, "scope_id")
    elif data.scope is SubscriptionScope.CASE and data.scope_id:
        chosen.case = cases.find_case(user, data.scope_id, "scope_id")
    return chosen


@bp.post("/subscriptions")
@operation("Subscribe someone", body=SubscriptionCreate, response=SubscriptionOut, status=201)
@committed
def create_subscription() -> tuple[Response, int, dict[str, str]]:
    """Subscribe an address to alerts, confirmed at once (no opt-in email). With your own address
    the subscription follows your clearance; any other address hears about public cases only, so
    a case scope must then be a public case."""
    user = api_user()
    authz.require(user, Action.WRITE)
    data = parse_body(SubscriptionCreate)
    subscription = subscriptions.create_confirmed(user, _scope_target(data))
    location = url_for("api.list_subscriptions") + f"#{subscription.public_id}"
    return jsonify(_subscription(subscription)), 201, {"Location": location}


@bp.get("/subscriptions")
@operation("List subscriptions", response=SubscriptionList, writes=True)
def list_subscriptions() -> Response:
    """Active subscriptions (editors and admins), newest first, up to 1,000."""
    user = api_user()
    authz.require(user, Action.WRITE)
    rows = subscriptions.latest_visible(user, LIST_LIMIT)
    body: SubscriptionList = {"items": [_subscription(s) for s in rows], "total": len(rows)}
    return jsonify(body)


@bp.delete("/subscriptions/<subscription_id>")
@operation("Unsubscribe", status=204)
@committed
def delete_subscription(subscription_id: str) -> tuple[str, int]:
    """Stop a subscription's alerts; what was already sent stays in the delivery log."""
    user = api_user()
    subscription = authz.get_subscription(subscription_id, user, Action.WRITE)
    subscriptions.unsubscribe(user, subscription)
    return "", 204


def _delivery(delivery: AlertDelivery, event_id: str) -> Delivery:
    sub = delivery.subscription
    return {
        "id": delivery.public_id,
        "event_id": event_id,
        "subscription_id": sub.public_id,
        "email": sub.user.email if sub.user else sub.email,
        "mode": SubscriptionMode(sub.mode),
        "state": DeliveryState(delivery.state),
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
        "message_id": delivery.message_id,
    }


@bp.get("/cases/<case_id>/status-events/<event_id>/deliveries")
@operation("Deliveries of a status event", response=DeliveryList, writes=True)
def list_deliveries(case_id: str, event_id: str) -> Response:
    """Every subscriber told (or to be told) about one status event, with the state of each
    delivery: pending, sent, failed (with the reason) or suppressed. Editors and admins."""
    user = api_user()
    case = authz.get_case(case_id, user, Action.WRITE)
    event = authz.get_event(case, event_id)
    rows = alerts.deliveries_of(event)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    body: DeliveryList = {
        "items": [_delivery(d, event.public_id) for d in rows],
        "total": len(rows),
        "counts": counts,
    }
    return jsonify(body)
