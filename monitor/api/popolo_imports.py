"""``/api/v1/imports/popolo``: a parliament from a Popolo file (EveryPolitician's format).

The body is JSON: the Popolo document under ``popolo``, and ``decisions`` for the people the
register probably holds already. A dry run says who is matched, who probably is someone in the
register (with the candidates) and who is new; applying goes in whole or not at all, and only
once every probable match is decided.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from flask import Response, current_app, jsonify, url_for
from pydantic import Field
from typing_extensions import TypedDict

from monitor import authz
from monitor.api import bp, shapes
from monitor.api.auth import api_user
from monitor.api.bulk import IMPORT_QUERY, ImportProblem, ImportRefused, ImportStatus, status
from monitor.api.errors import parse_body
from monitor.api.fields import plain_text
from monitor.api.openapi import Answer, operation, query_args
from monitor.api.schemas import REQUEST_MODELS, RequestModel
from monitor.api.writes import committed
from monitor.models.imports import ImportState
from monitor.services import ValidationError, imports

Decision = Annotated[str, plain_text(40, required=True)]


class PopoloImport(RequestModel):
    """A Popolo file to import, and the decisions on its probable matches."""

    popolo: dict[str, Any] = Field(
        description="The Popolo document as EveryPolitician publishes it (ep-popolo-v1.0.json): "
        "persons, organizations, memberships, areas, events"
    )
    decisions: dict[str, Decision] = Field(
        default_factory=dict,
        description="For each person of the file the register probably holds already (by the "
        "file's person id): the register person's id, or \"new\" to keep them apart",
    )


REQUEST_MODELS.append(PopoloImport)


class PopoloMatch(TypedDict):
    """Who an incoming person is: ``matched`` (``person_id``), ``probable`` (``candidates``:
    decide with their id or "new") or ``new``."""

    key: str
    name: str
    status: Literal["matched", "probable", "new"]
    person_id: str | None
    reason: str | None
    candidates: list[shapes.DuplicateCandidate]
    adds: list[str]


class PopoloPreview(TypedDict):
    """What importing the file would do (a dry run)."""

    summary: dict[str, int]
    people: list[PopoloMatch]
    problems: list[ImportProblem]


shapes.RESPONSE_SHAPES.extend([PopoloMatch, PopoloPreview])


def _preview(report: imports.PopoloReport) -> PopoloPreview:
    people: list[PopoloMatch] = []
    for plan in report.people:
        match = plan.match
        people.append(
            {
                "key": plan.source.key,
                "name": plan.source.name,
                "status": match.status,  # type: ignore[typeddict-item]  # one of the three
                "person_id": match.person.public_id if match.person else None,
                "reason": match.reason or None,
                "candidates": [
                    {
                        "id": c.public_id,
                        "name": c.name,
                        "name_native": c.name_native,
                        "reasons": list(c.reasons),
                    }
                    for c in match.candidates
                ],
                "adds": sorted(plan.update),
            }
        )
    return {"summary": report.summary(), "people": people, "problems": []}


def _refused(problems: list[dict[str, Any]]) -> tuple[Response, int]:
    count = len(problems)
    body: ImportRefused = {
        "errors": {"file": f"has {count} problem{'s' if count != 1 else ''}; nothing was imported"},
        "problems": problems,  # type: ignore[typeddict-item]  # ImportProblem dicts
    }
    return jsonify(body), 422


@bp.post("/imports/popolo")
@operation(
    "Import a parliament from a Popolo file",
    body=PopoloImport,
    response=ImportStatus,
    status=201,
    query=IMPORT_QUERY,
    answers=(
        Answer(
            200, "dry_run=true: who is matched, probable or new; nothing written", PopoloPreview
        ),
        Answer(202, "Queued for a worker (a large file); poll its url", ImportStatus),
        Answer(
            422,
            "The file has problems, each named by where it is (column), or a probable match is "
            "undecided (errors under decisions.<person id>); nothing was imported",
            ImportRefused,
        ),
    ),
)
@committed
def create_popolo_import() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    """People become members of their parties without a case or custody status; people the
    register holds are matched by identifier, then by name, and completed (never overwritten:
    a differing name becomes an alias). With ``dry_run=true``, 200 lists each person as
    ``matched``, ``probable`` (with candidates) or ``new``, and 422 when the ``decisions`` given
    make two people of the file one register person. Otherwise every probable match needs
    a decision (``decisions``: the register person's id, or ``"new"``), else 422; the file is
    applied at once (201, state ``done``) or queued when large (202). Importing the same file
    again changes nothing."""
    user = api_user()
    authz.require(user, authz.Action.WRITE)
    args = query_args(IMPORT_QUERY)
    body = parse_body(PopoloImport)
    data = json.dumps(body.popolo, ensure_ascii=False, sort_keys=True).encode()
    settings = current_app.config["SETTINGS"]
    if args.get("dry_run", False):
        report = imports.check_popolo(data, user, settings)
        # People the decisions make one register person: found before anything is applied.
        problems = report.problems or imports.same_person_problems(report, body.decisions)
        if problems:
            return _refused([p.as_dict() for p in problems[: imports.MAX_REPORTED_PROBLEMS]])
        return jsonify(_preview(report)), 200
    record, report = imports.stage_popolo(user, args.get("filename") or "api.json", data, settings)
    if not report.ok:
        return _refused(record.errors)
    errors = imports.decision_errors(report, body.decisions)
    if errors:
        raise ValidationError(errors)
    imports.confirm(user, record, settings, dict(body.decisions))
    location = url_for("api.get_import", import_id=record.public_id)
    code = 201 if record.state == ImportState.DONE.value else 202
    return jsonify(status(record)), code, {"Location": location}
