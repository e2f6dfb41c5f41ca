"""``/api/v1/people``: the persons the register follows."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from monitor import authz
from monitor.api import bp, serializers, shapes
from monitor.api.auth import api_user
from monitor.api.errors import parse_body
from monitor.api.openapi import Param, operation
from monitor.api.schemas import PersonCreate
from monitor.authz import Action
from monitor.extensions import db
from monitor.models import Case, Membership, Person
from monitor.services import ValidationError, people, queries

PEOPLE_QUERY = (
    Param("q", "Words in the names (either script) or aliases", {"type": "string"}),
    Param("page", "Page number, from 1", {"type": "integer", "minimum": 1}),
    Param(
        "per_page",
        "People per page",
        {"type": "integer", "minimum": 1, "maximum": queries.MAX_PAGE_SIZE},
    ),
)


def _whole_number(name: str, default: int, errors: dict[str, str]) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        errors[name] = "must be a whole number, 1 or more"
        return default
    return int(raw)


@bp.get("/people")
@operation("List people", response=shapes.PersonList, query=PEOPLE_QUERY)
def list_people() -> Response:
    """People you may see (someone whose only cases are above your clearance is hidden)."""
    user = api_user()
    authz.require(user, Action.READ)
    settings: Any = current_app.config["SETTINGS"]
    errors: dict[str, str] = {}
    page = _whole_number("page", 1, errors)
    per_page = min(_whole_number("per_page", settings.page_size, errors), queries.MAX_PAGE_SIZE)
    if errors:
        raise ValidationError(errors)
    query = queries.visible_people(user, request.args.get("q", "").strip() or None)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    body: shapes.PersonList = {
        "items": [serializers.person_summary(p) for p in rows],
        "total": total or 0,
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-(total or 0) // per_page)),
    }
    return jsonify(body)


def _person_body(person: Person) -> shapes.Person:
    user = api_user()
    loaded = db.session.scalars(
        select(Person)
        .where(Person.id == person.id)
        .options(selectinload(Person.memberships).joinedload(Membership.organization))
    ).one()
    visible = db.session.scalars(
        authz.visible_cases(user).where(Case.person_id == person.id).order_by(Case.id)
    ).all()
    return serializers.person_detail(loaded, list(visible))


@bp.get("/people/<person_id>")
@operation("Read a person", response=shapes.Person)
def get_person(person_id: str) -> Response:
    """A person with memberships and the cases you may see."""
    return jsonify(_person_body(authz.get_person(person_id, api_user())))


@bp.post("/people")
@operation("Add a person", body=PersonCreate, response=shapes.Person, status=201)
def create_person() -> tuple[Response, int, dict[str, str]]:
    """Add a person (without a case yet); the name in the original script is kept as given."""
    user = api_user()
    authz.require(user, Action.WRITE)
    data = parse_body(PersonCreate)
    person = people.create_person(user, data.to_input())
    db.session.commit()
    location = url_for("api.get_person", person_id=person.public_id)
    return jsonify(_person_body(person)), 201, {"Location": location}
