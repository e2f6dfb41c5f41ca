"""JSON errors for the API: every failure under ``/api/`` answers JSON, never an HTML page."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, default_exceptions

from monitor.api import bp
from monitor.api.writes import discard
from monitor.services import ValidationError

M = TypeVar("M", bound=BaseModel)

# Messages for pydantic error types whose default wording reads oddly next to the services'.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
}


class MalformedBody(Exception):
    """The request body is not a JSON document of the expected top-level type."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """``{"error": message}`` with the given status."""
    response = jsonify(error=message)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    # Our own aborts use the stock descriptions, written for HTML pages; keep them short.
    message = {404: "not found", 403: "forbidden: your role does not allow this"}.get(
        code, exc.description or exc.name
    )
    if code == 429:
        message = f"rate limit exceeded ({exc.description})"
    if code >= 500:
        message = "internal error"
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(code, message, headers)


def _validation_error(exc: ValidationError) -> tuple[Response, int]:
    discard()  # nothing of a refused write is kept
    return jsonify(errors=exc.errors), 422


def _malformed_body(exc: MalformedBody) -> tuple[Response, int]:
    discard()
    return jsonify(errors={"body": exc.message}), 400


# Blueprint handlers for each code outrank any app-wide handler the web UI registers for it.
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(ValidationError, _validation_error)
bp.register_error_handler(MalformedBody, _malformed_body)


@bp.before_app_request
def _routing_error_as_json() -> Response | None:
    """Unknown paths and wrong methods under ``/api/`` never reach a view; answer them here."""
    exc = request.routing_exception
    if not isinstance(exc, NotFound | MethodNotAllowed):
        return None
    if request.path != "/api" and not request.path.startswith("/api/"):
        return None
    return _http_error(exc)


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or :class:`MalformedBody`."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise MalformedBody("a JSON object is required")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(f"is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedBody(f"must be a JSON object, not {type(data).__name__}")
    return data


def field_errors(exc: PydanticError) -> dict[str, str]:
    """Pydantic errors keyed by dotted field path (``person.name``, ``max_sentence.months``)."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "body"
        message = _MESSAGES.get(error["type"], error["msg"]).removeprefix("Value error, ")
        errors.setdefault(path, message)
    return errors


def validate(model: type[M], data: dict[str, Any]) -> M:
    """Validate a JSON object against a request model; field errors become a 422."""
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise ValidationError(field_errors(exc)) from None


def parse_body(model: type[M]) -> M:
    """The request body validated against ``model`` (400 when malformed, 422 when invalid)."""
    return validate(model, json_object())


def prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    """The same errors with field names nested under ``prefix`` (``name`` → ``person.name``)."""
    return ValidationError({f"{prefix}.{k}": v for k, v in exc.errors.items()})
