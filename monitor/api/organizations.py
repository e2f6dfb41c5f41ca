"""``/api/v1/organizations``: the parties, NGOs, media and unions people belong to."""

from __future__ import annotations

from collections import Counter

from flask import Response, jsonify, url_for

from monitor import authz
from monitor.api import bp, serializers, shapes
from monitor.api.auth import api_user
from monitor.api.errors import parse_body
from monitor.api.openapi import operation
from monitor.api.schemas import IdentifiersPatch, OrganizationCreate
from monitor.api.writes import committed
from monitor.authz import Action
from monitor.services import people, queries


@bp.get("/organizations")
@operation("List organizations", response=shapes.OrganizationList)
def list_organizations() -> Response:
    """Every organization with custody status counts over its members' visible cases."""
    user = api_user()
    authz.require(user, Action.READ)
    rows = queries.counts_by_organization(user)
    body: shapes.OrganizationList = {
        "items": [serializers.organization(org, counts) for org, counts in rows],
        "total": len(rows),
    }
    return jsonify(body)


@bp.get("/organizations/<organization_id>")
@operation("Read an organization", response=shapes.OrganizationDetail)
def get_organization(organization_id: str) -> Response:
    """An organization with every member you may see, their cases and status counts."""
    user = api_user()
    org = authz.get_organization(organization_id, user)
    rows = queries.organization_members(user, org)
    return jsonify(serializers.organization_detail(org, rows, queries.organization_counts(rows)))


@bp.patch("/organizations/<organization_id>")
@operation(
    "Change an organization's identifiers",
    body=IdentifiersPatch,
    response=shapes.OrganizationDetail,
)
@committed
def update_organization(organization_id: str) -> Response:
    """Replace the organization's identifiers with the list sent (an empty list removes them
    all); the change is audited. An identifier another organization holds is refused with 422
    under ``identifiers.<n>.identifier``."""
    user = api_user()
    org = authz.get_organization(organization_id, user, Action.WRITE)
    data = parse_body(IdentifiersPatch)
    people.set_organization_identifiers(user, org, data.identifier_pairs(), data.field_of)
    rows = queries.organization_members(user, org)
    return jsonify(serializers.organization_detail(org, rows, queries.organization_counts(rows)))


@bp.post("/organizations")
@operation("Add an organization", body=OrganizationCreate, response=shapes.Organization, status=201)
@committed
def create_organization() -> tuple[Response, int, dict[str, str]]:
    """Add a party, NGO, media outlet or union."""
    user = api_user()
    authz.require(user, Action.WRITE)
    data = parse_body(OrganizationCreate)
    org = people.create_organization(
        user,
        people.OrganizationInput(
            name=data.name,
            kind=data.kind.value,
            short_name=data.short_name,
            country=data.country,
            seats=data.seats,
            dissolved_on=data.dissolved_on,
            identifiers=data.identifier_pairs(),
        ),
    )
    location = url_for("api.get_organization", organization_id=org.public_id)
    body = serializers.organization(org, queries.StatusCounts(Counter()))
    return jsonify(body), 201, {"Location": location}
