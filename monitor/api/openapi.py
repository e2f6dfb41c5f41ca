"""The OpenAPI 3.1 document, built from the routes themselves.

Each view declares its operation with :func:`operation`; request schemas come from the pydantic
models of :mod:`monitor.api.schemas` and response schemas from the typed dicts of
:mod:`monitor.api.shapes` (both through ``TypeAdapter.json_schemas``), so nothing is written twice.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError

from monitor.api import bp, shapes
from monitor.api.fields import PublicId, fill_languages
from monitor.api.schemas import REQUEST_MODELS
from monitor.presentation.translation import gettext
from monitor.services import ValidationError

F = TypeVar("F", bound=Callable[..., Any])
_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_SECURITY_SCHEME = "bearerToken"


@dataclass(frozen=True)
class Param:
    """A query-string parameter, checked against its type's schema by :func:`query_args`."""

    name: str
    description: str
    type: Any


@dataclass(frozen=True)
class Answer:
    """One more status an operation answers with (besides the statuses every operation has)."""

    status: int
    description: str
    shape: type | None = None
    media_type: str = "application/json"


@dataclass(frozen=True)
class Operation:
    """What the document says about one route."""

    summary: str
    description: str
    body: type[BaseModel] | None
    request_content: dict[str, Any] | None
    response: type | None
    media_type: str
    status: int
    answers: tuple[Answer, ...]
    query: tuple[Param, ...]
    public: bool
    writes: bool | None


OPERATIONS: dict[str, Operation] = {}


def operation(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    request_content: dict[str, Any] | None = None,
    response: type | None = None,
    media_type: str = "application/json",
    status: int = 200,
    answers: tuple[Answer, ...] = (),
    query: tuple[Param, ...] = (),
    public: bool = False,
    writes: bool | None = None,
) -> Callable[[F], F]:
    """Declare a view's place in the OpenAPI document (its docstring becomes the description).

    ``body`` is a JSON request body; ``request_content`` any other (a file upload).
    ``media_type`` is the success answer's type (a PDF, a CSV file); ``answers`` lists the
    statuses only this operation has (409 while a dossier renders). ``writes`` says whether a
    viewer's token is refused with 403: by default, every method but GET.
    """

    def register(view: F) -> F:
        OPERATIONS[f"{bp.name}.{view.__name__}"] = Operation(
            summary=summary,
            description=inspect.getdoc(view) or summary,
            body=body,
            request_content=request_content,
            response=response,
            media_type=media_type,
            status=status,
            answers=answers,
            query=query,
            public=public,
            writes=writes,
        )
        return view

    return register


def query_args(params: tuple[Param, ...]) -> dict[str, Any]:
    """The request's query-string parameters checked against their documented schemas: each
    given once, each valid, or a 422 naming every bad one. Absent ones are left out."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for param in params:
        given = request.args.getlist(param.name)
        if not given:
            continue
        if len(given) > 1:
            errors[param.name] = gettext("is given more than once")
            continue
        try:
            values[param.name] = _adapter(param.type).validate_python(given[0])
        except PydanticError as exc:
            errors[param.name] = exc.errors(include_url=False)[0]["msg"].removeprefix(
                "Value error, "
            )
    if errors:
        raise ValidationError(errors)
    return values


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _component_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """Schema references by type name, and the components they point into."""
    types: list[type] = [*REQUEST_MODELS, *shapes.RESPONSE_SHAPES]
    refs, top = TypeAdapter.json_schemas(
        [(t.__name__, "validation", TypeAdapter(t)) for t in types], ref_template=_REF
    )
    components = top.get("$defs", {})
    for schema in components.values():
        for prop in schema.get("properties", {}).values():
            # A field that may be left out but not sent as null has no null default.
            if "default" in prop and prop["default"] is None and not _nullable(prop):
                del prop["default"]
    return {name: schema for (name, _mode), schema in refs.items()}, components


def _nullable(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "null":
        return True
    return any(_nullable(branch) for branch in schema.get("anyOf", []))


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _content(media_type: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    if media_type == "application/json":
        return _json(schema or {})
    binary = media_type == "application/pdf"
    return {
        media_type: {
            "schema": {"type": "string", "format": "binary"} if binary else {"type": "string"}
        }
    }


def _responses(op: Operation, method: str, path: str, refs: dict[str, Any]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": op.summary}
    if op.response is not None or op.media_type != "application/json":
        ok["content"] = _content(
            op.media_type, refs[op.response.__name__] if op.response is not None else None
        )
    responses: dict[str, Any] = {str(op.status): ok}
    for answer in op.answers:
        entry: dict[str, Any] = {"description": answer.description}
        if answer.shape is not None:
            entry["content"] = _content(answer.media_type, refs[answer.shape.__name__])
        responses[str(answer.status)] = entry
    error = _json(refs["Error"])
    invalid = _json(refs["FieldErrors"])
    has_body = op.body is not None or op.request_content is not None
    responses.setdefault(
        "400",
        {
            "description": "A NUL character in the address"
            + (", or a body that is not a JSON object" if op.body is not None else ""),
            "content": _json({"anyOf": [refs["Error"], refs["FieldErrors"]]}),
        },
    )
    if not op.public:
        responses["401"] = {"description": "Missing, invalid or revoked token", "content": error}
        writes = op.writes if op.writes is not None else method != "get"
        if writes:
            responses["403"] = {"description": "Your role may only read", "content": error}
    if "{" in path:
        responses["404"] = {
            "description": "No such id, or above your clearance (the two look the same)",
            "content": error,
        }
    if has_body:
        responses.setdefault(
            "413", {"description": "The body is larger than the server takes", "content": error}
        )
    responses["414"] = {
        "description": (
            "The address is too long: the HTTP server (gunicorn) refuses a request line over "
            "4,094 bytes with its own page"
        ),
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    if has_body or op.query:
        responses.setdefault(
            "422",
            {
                "description": ("Invalid fields, each named; the messages follow Accept-Language"),
                "content": invalid,
            },
        )
    responses["429"] = {
        "description": "Too many requests (Retry-After says when)",
        "content": error,
    }
    if not op.public:
        responses["503"] = {
            "description": "The database cannot be reached (Retry-After says when to try again)",
            "content": error,
        }
    return dict(sorted(responses.items()))


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
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _adapter(PublicId).json_schema(),
            }
            for name in _PATH_PARAM.findall(rule.rule)
        ]
        parameters += [
            {
                "name": p.name,
                "in": "query",
                "description": p.description,
                "schema": _adapter(p.type).json_schema(),
            }
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
            elif op.request_content is not None:
                entry["requestBody"] = {"required": True, "content": op.request_content}
            if op.public:
                entry["security"] = []
            paths.setdefault(path, {})[verb] = entry
    settings: Any = app.config["SETTINGS"]
    fill_languages(components, settings.languages)
    fill_languages(paths, settings.languages)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "case monitor API",
            "version": "1",
            "description": (
                "A register of persecuted people: cases, charges and custody status. Every request "
                "except this document needs 'Authorization: Bearer <token>' (`monitor "
                "create-token EMAIL`). Ids are opaque strings. Dates are partial: 2017, 2017-09 "
                "or 2017-09-03, and the precision given is the precision kept. Error messages "
                "(the text of 'error' and of each field in 'errors') are written in the language "
                "the request's Accept-Language prefers among "
                + ", ".join(settings.languages)
                + " (else "
                + settings.languages[0]
                + "); the shape and the field names are the same in every language."
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
