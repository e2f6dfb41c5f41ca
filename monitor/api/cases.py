"""``/api/v1/cases``: list, open, read and edit cases."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from monitor import authz
from monitor.api import bp, serializers, shapes
from monitor.api.auth import api_user
from monitor.api.errors import json_object, parse_body, prefixed, validate
from monitor.api.openapi import Param, operation
from monitor.api.schemas import CaseCreate, CasePatch, PersonCreate, provided
from monitor.authz import Action
from monitor.domain import CustodyStatus
from monitor.extensions import db
from monitor.models import Case, Charge, Membership, Organization, Person, Source, StatusEvent, User
from monitor.services import ValidationError, cases, people, queries, sources
from monitor.services.validation import normalise_country

_TEXT = {"type": "string"}
CASE_QUERY = (
    Param("status", "Current custody status", {"enum": [s.value for s in CustodyStatus]}),
    Param("country", "ISO 3166-1 alpha-2 code of the persecuting country", _TEXT),
    Param("organization", "Id of an organization the person belongs to", _TEXT),
    Param(
        "confidentiality",
        "Only cases at this level",
        {"enum": ["public", "restricted", "confidential"]},
    ),
    Param("offence", "Text in the offence of any charge", _TEXT),
    Param("q", "Words in the person's names (either script) or aliases", _TEXT),
    Param("sort", "Order of the list", {"enum": list(queries.SORTS)}),
    Param("page", "Page number, from 1", {"type": "integer", "minimum": 1}),
    Param(
        "per_page",
        "Cases per page",
        {"type": "integer", "minimum": 1, "maximum": queries.MAX_PAGE_SIZE},
    ),
)
STATUS_NOT_PATCHABLE = (
    "cannot be changed by editing the case: POST a status event to "
    "/api/v1/cases/<id>/status-events, so the history stays dated and sourced"
)


def _page_size() -> int:
    settings: Any = current_app.config["SETTINGS"]
    return int(settings.page_size)


@bp.get("/cases")
@operation("List cases", response=shapes.CaseList, query=CASE_QUERY)
def list_cases() -> Response:
    """Cases within your clearance, filtered, searched, sorted and paged."""
    user = api_user()
    authz.require(user, Action.READ)
    filters = queries.CaseFilter.from_args(request.args, per_page=_page_size())
    errors = dict(filters.errors)
    normalise_country(filters.country, errors, "country")
    if errors:
        raise ValidationError(errors)
    page = queries.list_cases(user, filters)
    body: shapes.CaseList = {
        "items": [serializers.case_summary(c) for c in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
    }
    return jsonify(body)


def _collect(errors: dict[str, str], load: Any, *args: Any) -> Any:
    """Run a loader that may raise ValidationError, collecting its errors instead."""
    try:
        return load(*args)
    except ValidationError as exc:
        errors.update(exc.errors)
        return None


def _visible_person(user: User, public_id: str) -> Person:
    person = db.session.scalars(
        select(Person).where(Person.public_id == public_id, authz.person_visible(user))
    ).first()
    if person is None:  # the same answer whether it is missing or hidden
        raise ValidationError({"person_id": "no such person"})
    return person


def _organization(public_id: str) -> Organization:
    org = db.session.scalars(
        select(Organization).where(Organization.public_id == public_id)
    ).first()
    if org is None:
        raise ValidationError({"organization_id": "no such organization"})
    return org


def _citable(user: User, public_ids: list[str]) -> list[Source]:
    """Sources the user may cite: a source cited only above their clearance is unknown to them."""
    return sources.sources_by_public_ids(public_ids, within=authz.visible_sources(user))


def _check_clearance(user: User, level: str | None) -> None:
    """Nobody may file a case at a level they could not read back."""
    if level is not None and level not in authz.visible_levels(user):
        raise ValidationError({"confidentiality": f"{level} is above your clearance"})


def _new_person(user: User, data: PersonCreate) -> Person:
    try:
        return people.create_person(user, data.to_input())
    except ValidationError as exc:
        raise prefixed(exc, "person") from None


def _join_organization(user: User, person: Person, org: Organization, role: str | None) -> None:
    role_text = (role or "").strip() or "member"
    held = db.session.scalars(
        select(Membership).where(
            Membership.person_id == person.id,
            Membership.organization_id == org.id,
            Membership.role == role_text,
        )
    ).first()
    if held is None:  # an existing person may already hold this role: nothing to add
        people.add_membership(user, person, org, role_text)


@bp.post("/cases")
@operation("Open a case", body=CaseCreate, response=shapes.Case, status=201)
def create_case() -> tuple[Response, int, dict[str, str]]:
    """Open a case for a new person (``person``) or an existing one (``person_id``), with its
    first custody status; ``organization_id`` and ``role`` also record a membership. All or
    nothing: any invalid field leaves the register unchanged."""
    user = api_user()
    authz.require(user, Action.WRITE)
    data = parse_body(CaseCreate)
    errors: dict[str, str] = {}
    _collect(errors, _check_clearance, user, data.confidentiality.value)
    if (data.person is None) == (data.person_id is None):
        errors["person"] = "give either person (someone new) or person_id (someone registered)"
    existing: Person | None = (
        _collect(errors, _visible_person, user, data.person_id) if data.person_id else None
    )
    org = _collect(errors, _organization, data.organization_id) if data.organization_id else None
    if data.role and not data.organization_id:
        errors["role"] = "needs organization_id"
    cited: list[Source] = _collect(errors, _citable, user, data.source_ids) or []
    if errors:
        raise ValidationError(errors)
    person = _new_person(user, data.person) if data.person is not None else existing
    if person is None:  # refused above already; this keeps the type checker certain
        raise ValidationError({"person": "is required"})
    case = cases.create_case(
        user,
        person,
        cases.CaseInput(
            country=data.country,
            title=data.title,
            confidentiality=data.confidentiality.value,
            summary=data.summary,
            tags=list(data.tags),
        ),
        cases.StatusInput(
            status=data.status.value,
            occurred_on=data.status_since,
            about=data.about,
            location=data.location,
            description=data.description,
            certainty=data.certainty.value,
            sources=cited,
        ),
    )
    if org is not None:
        _join_organization(user, person, org, data.role)
    db.session.commit()
    location = url_for("api.get_case", case_id=case.public_id)
    return jsonify(serializers.case_detail(_loaded(case))), 201, {"Location": location}


def _loaded(case: Case) -> Case:
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


@bp.get("/cases/<case_id>")
@operation("Read a case", response=shapes.Case)
def get_case(case_id: str) -> Response:
    """A case with its person, current status, charges, status history and maximum exposure."""
    case = authz.get_case(case_id, api_user())
    return jsonify(serializers.case_detail(_loaded(case)))


@bp.patch("/cases/<case_id>")
@operation("Edit a case", body=CasePatch, response=shapes.Case)
def update_case(case_id: str) -> Response:
    """Change a case's country, title, summary, confidentiality or tags. The custody status is
    not edited here: record a status event instead."""
    user = api_user()
    case = authz.get_case(case_id, user, Action.WRITE)
    raw = json_object()
    errors: dict[str, str] = {
        key: STATUS_NOT_PATCHABLE for key in ("status", "status_since") if key in raw
    }
    patch = _collect(errors, validate, CasePatch, {k: v for k, v in raw.items() if k not in errors})
    if errors:
        raise ValidationError(errors)
    changes = provided(patch)
    level = changes.get("confidentiality", case.confidentiality)
    _check_clearance(user, level)
    cases.update_case(
        user,
        case,
        cases.CaseInput(
            country=changes.get("country", case.country) or "",
            title=changes.get("title", case.title) or "",
            confidentiality=level or "",
            summary=changes.get("summary", case.summary),
            tags=list(changes.get("tags", case.tags) or []),
            opened_on=changes.get("opened_on", case.opened_on),
            closed_on=changes.get("closed_on", case.closed_on),
        ),
    )
    db.session.commit()
    return jsonify(serializers.case_detail(_loaded(case)))
