"""``/api/v1/cases``: list, open, read and edit cases."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Response, current_app, jsonify, request, url_for

from monitor import authz
from monitor.api import bp, serializers, shapes
from monitor.api.auth import api_user
from monitor.api.errors import json_object, parse_body, validate
from monitor.api.fields import CountryCode, PublicId, QueryNumber, choice, plain_text
from monitor.api.openapi import Answer, Param, operation, query_args
from monitor.api.schemas import CaseCreate, CasePatch, provided
from monitor.api.writes import committed
from monitor.authz import Action
from monitor.domain import Confidentiality, CustodyStatus
from monitor.models import Person, Source
from monitor.presentation.translation import gettext
from monitor.services import ValidationError, cases, pages, people, queries, sources
from monitor.services.validation import MAX_PAGE_NUMBER

SEARCH_TEXT = Annotated[str, plain_text(200)]
SORT = Annotated[str, choice(list(queries.SORTS))]
PAGE = Param(
    "page",
    "Page number, from 1; a page past the last answers with no items and the true total and "
    "page count",
    Annotated[int, QueryNumber(1, MAX_PAGE_NUMBER)],
)
CASE_QUERY = (
    Param("status", "Current custody status", CustodyStatus),
    Param("country", "ISO 3166-1 alpha-2 code of the persecuting country", CountryCode),
    Param("organization", "Id of an organization the person belongs to", PublicId),
    Param("confidentiality", "Only cases at this level", Confidentiality),
    Param("offence", "Text in the offence of any charge", SEARCH_TEXT),
    Param("q", "Words in the person's names (either script) or aliases", SEARCH_TEXT),
    Param("sort", "Order of the list", SORT),
    PAGE,
    Param(
        "per_page",
        f"Cases per page, at most {queries.MAX_PAGE_SIZE} (more is refused with 422)",
        Annotated[int, QueryNumber(1, queries.MAX_PAGE_SIZE)],
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
    query_args(CASE_QUERY)  # a 422 for anything the document does not allow
    filters = queries.CaseFilter.from_args(request.args, per_page=_page_size())
    if filters.errors:
        raise ValidationError(filters.errors)
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


@bp.post("/cases")
@operation(
    "Open a case",
    body=CaseCreate,
    response=shapes.Case,
    status=201,
    answers=(
        Answer(
            409,
            "The new person may already be registered: the candidates; nothing was written",
            shapes.PossibleDuplicates,
        ),
    ),
)
@committed
def create_case() -> tuple[Response, int, dict[str, str]]:
    """Open a case for a new person (``person``) or an existing one (``person_id``), with its
    first custody status; ``organization_id`` and ``role`` also record a membership. All or
    nothing: any invalid field leaves the register unchanged. A new person who may already be
    registered (same or similar name, native-script name or alias) answers 409 with the
    candidates: give ``person_id``, or repeat with ``confirm_new_person: true``."""
    user = api_user()
    authz.require(user, Action.WRITE)
    data = parse_body(CaseCreate)
    errors: dict[str, str] = {}
    # The request's shape (two fields for one person): the use case then checks the rest.
    if (data.person is None) == (data.person_id is None):
        errors["person"] = gettext(
            "give either person (someone new) or person_id (someone registered)"
        )
    existing: Person | None = (
        _collect(errors, people.find_person, user, data.person_id, "person_id")
        if data.person_id
        else None
    )
    org = (
        _collect(errors, people.find_organization, data.organization_id, "organization_id")
        if data.organization_id
        else None
    )
    cited: list[Source] = _collect(errors, sources.citable, user, data.source_ids) or []
    if errors:
        raise ValidationError(errors)
    case = cases.open_case(
        user,
        cases.Opening(
            case=cases.CaseInput(
                country=data.country,
                title=data.title,
                confidentiality=data.confidentiality.value,
                summary=data.summary,
                tags=list(data.tags),
            ),
            status=cases.StatusInput(
                status=data.status.value,
                occurred_on=data.status_since,
                about=data.about,
                location=data.location,
                description=data.description,
                certainty=data.certainty.value,
                sources=cited,
            ),
            person=existing,
            new_person=data.person.to_input() if data.person is not None else None,
            organization=org,
            role=data.role,
            external_id=data.external_id,
            unless_duplicate=not (
                data.confirm_new_person or (data.person and data.person.confirm_new_person)
            ),
        ),
    )
    location = url_for("api.get_case", case_id=case.public_id)
    return jsonify(serializers.case_detail(pages.case_in_full(case))), 201, {"Location": location}


@bp.get("/cases/<case_id>")
@operation("Read a case", response=shapes.Case)
def get_case(case_id: str) -> Response:
    """A case with its person, current status, charges, status history and maximum exposure."""
    case = authz.get_case(case_id, api_user())
    return jsonify(serializers.case_detail(pages.case_in_full(case)))


@bp.patch("/cases/<case_id>")
@operation("Edit a case", body=CasePatch, response=shapes.Case)
@committed
def update_case(case_id: str) -> Response:
    """Change a case's country, title, external id, summary, confidentiality or tags. The
    custody status is not edited here: record a status event instead."""
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
        external_id=changes.get("external_id", cases.KEEP),
    )
    return jsonify(serializers.case_detail(pages.case_in_full(case)))
