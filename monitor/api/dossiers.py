"""``/api/v1/dossiers``: ask for a PDF dossier, follow it, download it.

A dossier is visible to its requester and admins, while they are cleared for its audience;
anyone else gets the 404 an unknown id gets.
"""

from __future__ import annotations

from io import BytesIO
from typing import Annotated, Any, Literal

from flask import Response, current_app, jsonify, send_file, url_for
from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from monitor import authz
from monitor.api import bp, shapes
from monitor.api.auth import api_user
from monitor.api.cases import SEARCH_TEXT, SORT
from monitor.api.errors import error_response, parse_body
from monitor.api.fields import LANGUAGE, CountryCode, Omittable, PublicId
from monitor.api.openapi import Answer, operation
from monitor.api.schemas import REQUEST_MODELS, RequestModel
from monitor.api.writes import committed, discard
from monitor.domain import Confidentiality, CustodyStatus
from monitor.models import Dossier
from monitor.services import dossiers, pages

LIST_LIMIT = 100


class SelectionFilters(RequestModel):
    """The case list's filters, as ``GET /api/v1/cases`` takes them."""

    status: Annotated[CustodyStatus | None, Omittable()] = None
    country: Annotated[CountryCode | None, Omittable()] = None
    organization: Annotated[PublicId | None, Omittable()] = None
    confidentiality: Annotated[Confidentiality | None, Omittable()] = None
    offence: Annotated[SEARCH_TEXT | None, Omittable()] = None
    q: Annotated[SEARCH_TEXT | None, Omittable()] = None
    sort: Annotated[SORT | None, Omittable()] = None


class DossierCreate(RequestModel):
    """A dossier of one case (``case_id``), an organization's members (``organization_id``), or
    the cases matching the case list's ``filters``."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "case"}}},
            "then": {"required": ["case_id"]},
            "else": {
                "if": {"properties": {"kind": {"const": "organization"}}},
                "then": {"required": ["organization_id"]},
            },
        }
    )

    kind: Literal["case", "organization", "selection"]
    case_id: Annotated[PublicId | None, Omittable()] = Field(
        default=None, description="For kind case: a case you may see"
    )
    organization_id: Annotated[PublicId | None, Omittable()] = Field(
        default=None, description="For kind organization"
    )
    filters: SelectionFilters = Field(
        default_factory=SelectionFilters,
        description=(
            "For kind selection: at least one case and at most MONITOR_DOSSIER_MAX_CASES must "
            "match at the audience (else 422)"
        ),
    )
    audience: Confidentiality = Field(
        default=Confidentiality.PUBLIC,
        description=(
            "Who the PDF is for, up to your clearance, and at least a case's own level; "
            "anything above it is left out"
        ),
    )
    language: Annotated[str | None, LANGUAGE, Omittable()] = Field(
        default=None,
        description="The language the PDF is written in; left out: your account's language",
    )


class DossierAccepted(TypedDict):
    """A dossier just requested: poll its URL until it is ready or failed."""

    id: str
    state: str
    url: str


class DossierStatus(TypedDict):
    """A dossier's progress and, once ready, what to verify the PDF against."""

    id: str
    kind: str
    title: str
    audience: Confidentiality
    language: str
    state: Literal["queued", "rendering", "ready", "failed"]
    progress: int
    error: str | None
    sha256: str | None
    pages: int | None
    size: int | None
    snapshot_at: str | None
    created_at: str
    expires_at: str | None
    pdf_url: str | None


class DossierList(TypedDict):
    """Your dossiers, newest first."""

    items: list[DossierStatus]


# Their place in the OpenAPI document, next to the other request bodies and answers.
REQUEST_MODELS.extend([SelectionFilters, DossierCreate])
shapes.RESPONSE_SHAPES.extend([DossierAccepted, DossierStatus, DossierList])


def _too_many(exc: dossiers.TooManyActive) -> Response:
    discard()
    return error_response(429, exc.errors["dossier"], {"Retry-After": "60"})


bp.register_error_handler(dossiers.TooManyActive, _too_many)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def status(dossier: Dossier) -> DossierStatus:
    """The JSON shape of a dossier."""
    ready = dossier.state == "ready"
    return {
        "id": dossier.public_id,
        "kind": dossier.kind,
        "title": dossier.title,
        "audience": Confidentiality(dossier.audience),
        "language": dossier.language,
        "state": dossier.state,  # type: ignore[typeddict-item]  # one of DossierState's values
        "progress": dossier.progress,
        "error": dossier.error,
        "sha256": dossier.sha256 if ready else None,
        "pages": dossier.pages if ready else None,
        "size": dossier.size if ready else None,
        "snapshot_at": _iso(dossier.snapshot_at),
        "created_at": dossier.created_at.isoformat(),
        "expires_at": _iso(dossier.expires_at),
        "pdf_url": url_for("api.get_dossier_pdf", dossier_id=dossier.public_id) if ready else None,
    }


@bp.post("/dossiers")
@operation(
    "Ask for a PDF dossier",
    body=DossierCreate,
    response=DossierAccepted,
    status=202,
    writes=False,
    answers=(
        Answer(
            429,
            f"You have {dossiers.MAX_ACTIVE_PER_USER} dossiers being prepared, or too many "
            "requests: try again later",
            shapes.Error,
        ),
    ),
)
@committed
def create_dossier() -> tuple[Response, int, dict[str, str]]:
    """Queue a PDF dossier: ``{"kind": "case", "case_id"}``, ``{"kind": "organization",
    "organization_id"}`` or ``{"kind": "selection", "filters": {…}}``, with an ``audience`` up to
    your clearance. Answers 202 at once; poll the dossier until its state is ready or failed."""
    user = api_user()
    data = parse_body(DossierCreate)
    dossier = dossiers.request_dossier(
        user,
        dossiers.DossierRequest(
            kind=data.kind,
            audience=data.audience.value,
            case_id=data.case_id,
            organization_id=data.organization_id,
            filters=data.filters.model_dump(exclude_none=True, mode="json"),
            language=data.language,
        ),
        current_app.config["SETTINGS"],
    )
    location = url_for("api.get_dossier", dossier_id=dossier.public_id)
    body: DossierAccepted = {"id": dossier.public_id, "state": dossier.state, "url": location}
    return jsonify(body), 202, {"Location": location}


@bp.get("/dossiers")
@operation("List your dossiers", response=DossierList)
def list_dossiers() -> Response:
    """Your own dossiers (the latest 100), newest first."""
    user = api_user()
    authz.require(user, authz.Action.READ)
    rows = pages.own_dossiers(user, LIST_LIMIT)
    body: DossierList = {"items": [status(d) for d in rows]}
    return jsonify(body)


@bp.get("/dossiers/<dossier_id>")
@operation("Follow a dossier", response=DossierStatus)
def get_dossier(dossier_id: str) -> Response:
    """State (queued, rendering, ready, failed), progress in percent, the failure reason, and
    once ready the PDF's SHA-256, page count and size."""
    return jsonify(status(authz.get_dossier(dossier_id, api_user())))


@bp.get("/dossiers/<dossier_id>/pdf")
@operation(
    "Download a dossier's PDF",
    media_type="application/pdf",
    answers=(Answer(409, "Not ready: the dossier is queued, rendering or failed", shapes.Error),),
)
@committed
def get_dossier_pdf(dossier_id: str) -> Response:
    """The PDF (``application/pdf``) with its SHA-256 in ``Repr-Digest``; 409 until it is
    ready. Every download is recorded in the audit log with the file's SHA-256."""
    user = api_user()
    dossier = authz.get_dossier(dossier_id, user)
    try:
        pdf = dossiers.download(user, dossier)
    except dossiers.NotReady:
        return error_response(409, f"the dossier is {dossier.state}, not ready")
    response = send_file(
        BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=dossiers.filename(dossier),
        max_age=0,
    )
    response.headers["Repr-Digest"] = dossiers.repr_digest(dossier.sha256)
    return response
