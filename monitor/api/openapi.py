"""The OpenAPI 3.1 document, built from the routes themselves.

Each view declares its operation with :func:`operation`; request schemas come from the pydantic
models of :mod:`monitor.api.schemas` and response schemas from the typed dicts of
:mod:`monitor.api.shapes` (both through ``TypeAdapter.json_schemas``), so nothing is written twice.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, jsonify
from pydantic import BaseModel, TypeAdapter

from monitor.api import bp, shapes
from monitor.api.schemas import REQUEST_MODELS

F = TypeVar("F", bound=Callable[..., Any])
_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_SECURITY_SCHEME = "bearerToken"


@dataclass(frozen=True)
class Param:
    """A query-string parameter."""

    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """What the document says about one route."""

    summary: str
    description: str
    body: type[BaseModel] | None
    response: type | None
    status: int
    query: tuple[Param, ...]
    public: bool


OPERATIONS: dict[str, Operation] = {}


def operation(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    response: type | None = None,
    status: int = 200,
    query: tuple[Param, ...] = (),
    public: bool = False,
) -> Callable[[F], F]:
    """Declare a view's place in the OpenAPI document (its docstring becomes the description)."""

    def register(view: F) -> F:
        OPERATIONS[f"{bp.name}.{view.__name__}"] = Operation(
            summary=summary,
            description=inspect.getdoc(view) or summary,
            body=body,
            response=response,
            status=status,
            query=query,
            public=public,
        )
        return view

    return register


def _component_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """Schema references by type name, and the components they point into."""
    types: list[type] = [*REQUEST_MODELS, *shapes.RESPONSE_SHAPES]
    refs, top = TypeAdapter.json_schemas(
        [(t.__name__, "validation", TypeAdapter(t)) for t in types], ref_template=_REF
    )
    return {name: schema for (name, _mode), schema in refs.items()}, top.get("$defs", {})


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _responses(op: Operation, method: str, path: str, refs: dict[str, Any]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        ok["content"] = _json(refs[op.response.__name__])
    responses: dict[str, Any] = {str(op.status): ok}
    error = _json(refs["Error"])
    invalid = _json(refs["FieldErrors"])
    if op.body is not None:
        responses["400"] = {"description": "The body is not a JSON object", "content": invalid}
    if not op.public:
        responses["401"] = {"description": "Missing, invalid or revoked token", "content": error}
        if method != "get":
            responses["403"] = {"description": "Your role may only read", "content": error}
    if "{" in path:
        responses["404"] = {
            "description": "No such id, or above your clearance (the two look the same)",
            "content": error,
        }
    if op.body is not None or op.query:
        responses["422"] = {"description": "Invalid fields, each named", "content": invalid}
    if not op.public:
        responses["429"] = {"description": "Too many requests", "content": error}
    return responses


def build_document(app: Flask) -> dict[str, Any]:
    """The whole OpenAPI document for the API routes registered on ``app``."""
    refs, components = _component_schemas()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(f"{bp.name}."):
            continue
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            raise LookupError(f"{rule.endpoint} has no @operation(...) for the OpenAPI document")
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PATH_PARAM.findall(rule.rule)
        ]
        parameters += [
            {"name": p.name, "in": "query", "description": p.description, "schema": p.schema}
            for p in op.query
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            verb = method.lower()
            entry: dict[str, Any] = {
                "operationId": rule.endpoint.removeprefix(f"{bp.name}."),
                "summary": op.summary,
                "description": op.description,
                "tags": [path.removeprefix(bp.url_prefix or "").split("/")[1]],
                "responses": _responses(op, verb, path, refs),
            }
            if parameters:
                entry["parameters"] = parameters
            if op.body is not None:
                entry["requestBody"] = {"required": True, "content": _json(refs[op.body.__name__])}
            if op.public:
                entry["security"] = []
            paths.setdefault(path, {})[verb] = entry
    settings: Any = app.config["SETTINGS"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "case monitor API",
            "version": "1",
            "description": (
                "A register of persecuted people: cases, charges and custody status. Every request "
                "except this document needs 'Authorization: Bearer <token>' (`monitor "
                "create-token EMAIL`). Ids are opaque strings. Dates are partial: 2017, 2017-09 "
                "or 2017-09-03, and the precision given is the precision kept."
            ),
        },
        "servers": [{"url": settings.base_url}],
        "security": [{_SECURITY_SCHEME: []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                _SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from `monitor create-token EMAIL`",
                }
            },
        },
    }


@bp.get("/openapi.json")
@operation("This OpenAPI document", public=True)
def openapi() -> Response:
    """The OpenAPI 3.1 description of every endpoint; needs no token."""
    document = current_app.extensions.get("api_openapi")
    if document is None:
        document = current_app.extensions["api_openapi"] = build_document(current_app)
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
