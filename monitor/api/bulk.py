"""``/api/v1/imports`` and ``/api/v1/exports``: CSV imports and the exports (CSV, JSON, Popolo).

An import's body is the CSV file itself (``Content-Type: text/csv``), in the columns of the
template (``GET /api/v1/exports/template.csv``). It goes in whole or not at all: a file with
problems answers 422 with every problem by row and column, and nothing is written. A row's
person already in the register is matched (the row goes to them); one probably in it waits for
the ``decisions`` parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal, NotRequired

from flask import Response, current_app, jsonify, request, stream_with_context, url_for
from typing_extensions import TypedDict
from werkzeug.exceptions import RequestEntityTooLarge

from monitor import authz
from monitor.api import bp, shapes
from monitor.api.auth import api_user
from monitor.api.fields import QueryFlag, plain_text
from monitor.api.openapi import Answer, Param, operation, query_args
from monitor.api.writes import committed, discard
from monitor.models import Import
from monitor.models.imports import ImportState
from monitor.presentation.translation import gettext
from monitor.services import ValidationError, exports, imports, popolo


class ImportProblem(TypedDict):
    """One problem in an imported file (row 1 is the header; row 0 the whole file)."""

    row: int
    column: str
    message: str


class ImportWarning(TypedDict):
    """Something in a file to look at: the row's person is already in the register (matched:
    ``person_ids`` holds them, the row goes to them) or probably is (``person_ids``: the
    candidates; decide with ``decisions``)."""

    row: int
    column: str
    message: str
    person_ids: list[str]


class ImportMatch(TypedDict):
    """Who a row's person is, found by name: ``matched`` (``person_id``; the row goes to them),
    ``probable`` (``candidates``: decide with ``decisions``, by ``key``) or ``new``."""

    row: int
    key: str
    name: str
    status: Literal["matched", "probable", "new"]
    person_id: str | None
    reason: str | None
    candidates: list[shapes.DuplicateCandidate]


class ImportStatus(TypedDict):
    """An import's state and outcome (``warnings`` and ``matches``: a dry run's)."""

    id: str | None
    state: Literal["invalid", "previewed", "queued", "running", "done", "failed"]
    progress: int
    rows: int
    summary: dict[str, int]
    problems: list[ImportProblem]
    failure: str | None
    url: str | None
    warnings: NotRequired[list[ImportWarning]]
    matches: NotRequired[list[ImportMatch]]


class ImportRefused(TypedDict):
    """A file with problems: nothing was imported."""

    errors: dict[str, str]
    problems: NotRequired[list[ImportProblem]]


shapes.RESPONSE_SHAPES.extend(
    [ImportProblem, ImportWarning, ImportMatch, ImportStatus, ImportRefused]
)

# The file, as the body itself or as the "file" part of a form; either way UTF-8 CSV in the
# template's columns. An empty file has no header row: it is refused like any other problem.
IMPORT_BODY: dict[str, Any] = {
    "text/csv": {"schema": {"type": "string", "minLength": 1}},
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "The CSV file"}
            },
            "required": ["file"],
        },
        "encoding": {"file": {"contentType": "text/csv"}},
    },
}
IMPORT_QUERY = (
    Param(
        "dry_run",
        "true: only check the file and say what would change",
        Annotated[bool, QueryFlag()],
    ),
    Param("filename", "The file's name, kept with the import", Annotated[str, plain_text(255)]),
)
CSV_IMPORT_QUERY = (
    *IMPORT_QUERY,
    Param(
        "decisions",
        'A JSON object deciding the probable matches a dry run lists: {"<key>": "<register '
        'person id>" or "new"}, by the match\'s key ("row 5" for the file\'s row 5)',
        Annotated[str, plain_text(100_000)],
    ),
)


def _decisions(text: str | None) -> dict[str, str]:
    """The ``decisions`` parameter as a dict; 422 naming it when it is no JSON object."""
    if not text:
        return {}
    try:
        loaded = json.loads(text)
    except ValueError:
        loaded = None
    if not isinstance(loaded, dict):
        raise ValidationError(
            {"decisions": 'must be a JSON object {"<key>": "<person id>" or "new"}'}
        )
    return {str(k): v for k, v in loaded.items()}


def status(record: Import) -> ImportStatus:
    """The JSON shape of a stored import."""
    return {
        "id": record.public_id,
        "state": record.state,  # type: ignore[typeddict-item]  # one of ImportState's values
        "progress": record.progress,
        "rows": record.rows,
        "summary": record.summary,
        "problems": record.errors,  # type: ignore[typeddict-item]  # stored as these dicts
        "failure": record.failure,
        "url": url_for("api.get_import", import_id=record.public_id),
    }


def _read_file() -> tuple[bytes, str | None]:
    """The uploaded file (the body, or the form's ``file`` part) and its name if the form gave
    one; refused past the configured size before it is all read."""
    limit = current_app.config["SETTINGS"].import_max_bytes
    try:  # monitor._upload_limit set this request's limit
        if request.mimetype != "multipart/form-data":
            return request.get_data(cache=False), None
        request.max_form_memory_size = limit  # a file sent as a plain field may be this large
        upload = request.files.get("file")
        if upload is not None:
            data, name = upload.read(limit + 1), upload.filename or None
        elif "file" in request.form:  # a part sent without a file name arrives as a field
            data, name = request.form["file"].encode(), None
        else:
            raise ValidationError(
                {"file": gettext("is required: send the CSV file as the form's file")}
            )
    except RequestEntityTooLarge:
        raise imports.FileTooLarge(limit) from None
    if len(data) > limit:
        raise imports.FileTooLarge(limit)
    return data, name


def _too_large(exc: imports.FileTooLarge) -> tuple[Response, int]:
    discard()
    return jsonify(errors={"file": exc.field_message()}), 413


bp.register_error_handler(imports.FileTooLarge, _too_large)


def _refused(problems: list[dict[str, Any]], status_code: int = 422) -> tuple[Response, int]:
    count = len(problems)
    body = {
        "errors": {"file": f"has {count} problem{'s' if count != 1 else ''}; nothing was imported"},
        "problems": problems,
    }
    return jsonify(body), status_code


@bp.post("/imports")
@operation(
    "Import cases from a CSV file",
    request_content=IMPORT_BODY,
    response=ImportStatus,
    status=201,
    query=CSV_IMPORT_QUERY,
    answers=(
        Answer(200, "dry_run=true: the file is valid; what would change", ImportStatus),
        Answer(202, "Queued for a worker (a large file); poll its url", ImportStatus),
        Answer(413, "The file is larger than MONITOR_IMPORT_MAX_BYTES", shapes.FieldErrors),
        Answer(
            422,
            "The file has problems, each by row and column, or a probable match is undecided "
            "(errors under decisions.<key>); nothing was imported",
            ImportRefused,
        ),
    ),
)
@committed
def create_import() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    """The body is the CSV file (``Content-Type: text/csv``, UTF-8), or a form
    (``multipart/form-data``) with the file as its ``file`` part. With ``dry_run=true`` the
    file is only checked (with the ``decisions`` given, if any: two rows they make one
    register person, written differently, are problems): 200 with what would change,
    ``warnings`` naming each row whose
    person is or may be in the register (``person_ids``) and ``matches``: who each new row's
    person is, found by name (``matched``, ``probable`` or ``new``). Each probable match must be
    decided in ``decisions`` (a JSON object ``{"<key>": "<person id>" or "new"}``), else 422
    with errors under ``decisions.<key>``. Otherwise a file of up to
    ``MONITOR_IMPORT_INLINE_ROWS`` rows is applied at once (201, state ``done``) and a larger
    one is queued for a worker (202, state ``queued``; poll its URL). A file with problems
    answers 422 with ``problems``, every one by row and column, and nothing is written;
    over ``MONITOR_IMPORT_MAX_BYTES`` answers 413."""
    user = api_user()
    authz.require(user, authz.Action.WRITE)
    args = query_args(CSV_IMPORT_QUERY)
    decisions = _decisions(args.get("decisions"))
    data, uploaded_name = _read_file()
    settings = current_app.config["SETTINGS"]
    if args.get("dry_run", False):
        report = imports.check(data, user, settings)
        # Rows the decisions make one register person, written differently: found before
        # anything is applied.
        problems = report.problems or imports.csv_same_person_problems(report, decisions)
        if problems:
            return _refused([p.as_dict() for p in problems[: imports.MAX_REPORTED_PROBLEMS]])
        preview: ImportStatus = {
            "id": None,
            "state": "previewed",
            "progress": 0,
            "rows": len(report.rows),
            "summary": report.summary(),
            "problems": [],
            "failure": None,
            "url": None,
            "warnings": report.warning_dicts(),  # type: ignore[typeddict-item]  # these dicts
            "matches": report.match_dicts(),  # type: ignore[typeddict-item]  # these dicts
        }
        return jsonify(preview), 200
    filename = args.get("filename") or uploaded_name or "api.csv"
    record, report = imports.stage(user, filename, data, settings)
    if not report.ok:
        # An API caller has the problems in the answer: a 422 keeps no row (see committed).
        return _refused(record.errors)
    errors = imports.csv_decision_errors(report, decisions)
    if errors:
        return jsonify(errors=errors), 422  # a 422 keeps no row (see committed)
    imports.confirm(user, record, settings, decisions)
    location = url_for("api.get_import", import_id=record.public_id)
    code = 201 if record.state == ImportState.DONE.value else 202
    return jsonify(status(record)), code, {"Location": location}


@bp.get("/imports/<import_id>")
@operation("Follow an import", response=ImportStatus)
def get_import(import_id: str) -> Response:
    """State (queued, running, done, failed), progress in percent, what changed, and the
    problems or failure reason. Visible only to the user who made it."""
    return jsonify(status(authz.get_import(import_id, api_user())))


def _stream(body: Iterator[str], content_type: str) -> Response:
    return Response(stream_with_context(body), content_type=content_type)


@bp.get("/exports/cases.csv")
@operation("Export cases as CSV", media_type="text/csv")
def export_cases_csv() -> Response:
    """Every case you are cleared to see, in the import's columns (``text/csv``, UTF-8 with a
    BOM); cells a spreadsheet would run as a formula start with an apostrophe."""
    user = api_user()
    authz.require(user, authz.Action.READ)
    return _stream(exports.cases_csv(user), "text/csv; charset=utf-8")


@bp.get("/exports/cases.json")
@operation("Export cases as JSON", media_type="application/json")
def export_cases_json() -> Response:
    """Every case you are cleared to see, with people, memberships, charges, status history
    and sources."""
    user = api_user()
    authz.require(user, authz.Action.READ)
    return _stream(exports.cases_json(user), "application/json")


@bp.get("/exports/popolo.json")
@operation("Export people and organizations as Popolo JSON")
def export_popolo() -> Response:
    """Persons, organizations and memberships in the Popolo standard (people whose every case
    is above your clearance are left out)."""
    user = api_user()
    authz.require(user, authz.Action.READ)
    return Response(
        json.dumps(popolo.popolo_export(user), ensure_ascii=False), mimetype="application/json"
    )


@bp.get("/exports/template.csv")
@operation("The CSV import template", media_type="text/csv")
def export_template() -> Response:
    """Every column the import takes, with one example row."""
    authz.require(api_user(), authz.Action.READ)
    return Response(exports.template_csv(), content_type="text/csv; charset=utf-8")
