"""``/api/v1/people``: the persons the register follows."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Response, current_app, jsonify, url_for

from monitor import authz
from monitor.api import bp, serializers, shapes
from monitor.api.auth import api_user
from monitor.api.cases import PAGE, SEARCH_TEXT
from monitor.api.errors import parse_body
from monitor.api.fields import QueryNumber
from monitor.api.openapi import Answer, Param, operation, query_args
from monitor.api.schemas import IdentifiersPatch, MembershipCreate, PersonCreate
from monitor.api.writes import committed
from monitor.authz import Action
from monitor.models import Person
from monitor.services import pages, people, queries

POSSIBLE_DUPLICATES = Answer(
    409,
    "The new person may already be registered: the candidates; nothing was written",
    shapes.PossibleDuplicates,
)
PEOPLE_QUERY = (
    Param("q", "Words in the names (either script) or aliases", SEARCH_TEXT),
    PAGE,
    Param(
        "per_page",
        f"People per page, at most {queries.MAX_PAGE_SIZE} (more is refused with 422)",
        Annotated[int, QueryNumber(1, queries.MAX_PAGE_SIZE)],
    ),
)


@bp.get("/people")
@operation("List people", response=shapes.PersonList, query=PEOPLE_QUERY)
def list_people() -> Response:
    """People you may see (someone whose only cases are above your clearance is hidden)."""
    user = api_user()
    authz.require(user, Action.READ)
    settings: Any = current_app.config["SETTINGS"]
    args = query_args(PEOPLE_QUERY)
    found = pages.people_list(
        user,
        args.get("q", "").strip(),
        args.get("page", 1),
        args.get("per_page", min(settings.page_size, queries.MAX_PAGE_SIZE)),
    )
    body: shapes.PersonList = {
        "items": [serializers.person_summary(p) for p in found.items],
        "total": found.total,
        "page": found.page,
        "per_page": found.per_page,
        "pages": found.pages,
    }
    return jsonify(body)


def _person_body(person: Person) -> shapes.Person:
    loaded, visible = pages.person_in_full(api_user(), person)
    return serializers.person_detail(loaded, visible)


@bp.get("/people/<person_id>")
@operation("Read a person", response=shapes.Person)
def get_person(person_id: str) -> Response:
    """A person with memberships and the cases you may see."""
    return jsonify(_person_body(authz.get_person(person_id, api_user())))


@bp.post("/people")
@operation(
    "Add a person",
    body=PersonCreate,
    response=shapes.Person,
    status=201,
    answers=(POSSIBLE_DUPLICATES,),
)
@committed
def create_person() -> tuple[Response, int, dict[str, str]]:
    """Add a person (without a case yet); the name in the original script is kept as given.
    Someone you may see with the same or a similar name, native-script name or alias answers
    409 with the candidates, unless ``confirm_new_person`` is true."""
    user = api_user()
    authz.require(user, Action.WRITE)
    data = parse_body(PersonCreate)
    person = people.create_person(
        user, data.to_input(), unless_duplicate=not data.confirm_new_person
    )
    location = url_for("api.get_person", person_id=person.public_id)
    return jsonify(_person_body(person)), 201, {"Location": location}


@bp.patch("/people/<person_id>")
@operation("Change a person's identifiers", body=IdentifiersPatch, response=shapes.Person)
@committed
def update_person(person_id: str) -> Response:
    """Replace the person's identifiers with the list sent (an empty list removes them all);
    the change is audited. An identifier someone else holds is refused with 422 under
    ``identifiers.<n>.identifier``, naming them only if you may see them."""
    user = api_user()
    person = authz.get_person(person_id, user, Action.WRITE)
    data = parse_body(IdentifiersPatch)
    people.set_person_identifiers(user, person, data.identifier_pairs(), data.field_of)
    return jsonify(_person_body(person))


@bp.post("/people/<person_id>/memberships")
@operation("Record a membership", body=MembershipCreate, response=shapes.Person, status=201)
@committed
def add_membership(person_id: str) -> tuple[Response, int, dict[str, str]]:
    """Record that a person holds a role in an organization (with dates and the area they
    represent); a member needs no case. The answer is the person with their memberships."""
    user = api_user()
    person = authz.get_person(person_id, user, Action.WRITE)
    data = parse_body(MembershipCreate)
    organization = people.find_organization(data.organization_id, "organization_id")
    people.add_membership(
        user, person, organization, data.role, start=data.start, end=data.end, area=data.area
    )
    location = url_for("api.get_person", person_id=person.public_id)
    return jsonify(_person_body(person)), 201, {"Location": location}
