"""JSON errors for the API: every failure under ``/api/`` answers JSON, never an HTML page.

The shape and the field names never change; the message text is in the language of the request's
``Accept-Language`` (negotiated among MONITOR_LANGUAGES as for pages, English by default), so
a client shows it to its user as it is.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, default_exceptions

from monitor.api import bp
from monitor.api.writes import discard
from monitor.presentation.translation import (
    N_,
    SOURCE_LANGUAGE,
    current_language,
    format_number,
    gettext,
)
from monitor.services import ValidationError
from monitor.services.people import PossibleDuplicate

M = TypeVar("M", bound=BaseModel)

# Messages for pydantic error types whose default wording reads oddly next to the services' (and
# is English only); translated when the error is answered.
_MESSAGES = {
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a field of this request"),
}
# Pydantic's own English for these stays as it is in English; other languages get ours.
_TRANSLATED = {
    "string_type": N_("must be a string"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "dict_type": N_("must be a JSON object"),
    "model_type": N_("must be a JSON object"),
    "model_attributes_type": N_("must be a JSON object"),
    "list_type": N_("must be a list"),
}
# Pydantic's "one of" refusals, worded with the choices they allow.
_CHOICE_TYPES = frozenset({"literal_error", "enum"})
# Vary on it: the same refused request reads differently in another language.
LANGUAGE_HEADER = "Accept-Language"


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
    response.vary.add(LANGUAGE_HEADER)
    return response


def _worded(response: Response, status: int) -> tuple[Response, int]:
    response.vary.add(LANGUAGE_HEADER)
    return response, status


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    # Our own aborts use the stock descriptions, written for HTML pages; keep them short.
    known = {
        404: N_("not found"),
        403: N_("forbidden: your role does not allow this"),
        405: N_("this method is not allowed here"),
    }
    message = gettext(known[code]) if code in known else exc.description or exc.name
    if code == 429:
        message = gettext("rate limit exceeded (%(limit)s)", limit=exc.description)
    if code >= 500:
        message = gettext("internal error")
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(code, message, headers)


def _validation_error(exc: ValidationError) -> tuple[Response, int]:
    discard()  # nothing of a refused write is kept
    return _worded(jsonify(errors=exc.errors), 422)


def _possible_duplicate(exc: PossibleDuplicate) -> tuple[Response, int]:
    discard()
    candidates = [
        {"id": c.public_id, "name": c.name, "name_native": c.name_native, "reasons": [*c.reasons]}
        for c in exc.candidates
    ]
    return _worded(jsonify(errors=exc.errors, candidates=candidates), 409)


def _malformed_body(exc: MalformedBody) -> tuple[Response, int]:
    discard()
    return _worded(jsonify(errors={"body": exc.message}), 400)


# Blueprint handlers for each code outrank any app-wide handler the web UI registers for it.
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(ValidationError, _validation_error)
bp.register_error_handler(PossibleDuplicate, _possible_duplicate)
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


# A request body nested deeper than this is refused before it is parsed: no request model goes
# past four levels, and the parser recurses once per level (a thousand levels exhaust the stack).
MAX_BODY_DEPTH = 32
# A JSON integer with more digits is refused as it is read: no field takes a number this long,
# and converting one costs time quadratic in its length (Python refuses past 4,300 digits).
MAX_NUMBER_DIGITS = 30

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
# Text no database column holds: unpaired surrogates (not UTF-8) and NUL (PostgreSQL refuses it,
# even in an id that is only looked up).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw`` (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b'""', raw)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise MalformedBody(
            gettext(
                "holds a number of %(digits)s digits; at most %(max)s are accepted",
                digits=format_number(len(text.lstrip("-"))),
                max=MAX_NUMBER_DIGITS,
            )
        )
    return int(text)


def _no_constant(name: str) -> Any:
    raise MalformedBody(gettext("is not valid JSON: %(name)s is not a JSON number", name=name))


def _unstorable_text(value: Any, path: str, errors: dict[str, str]) -> None:
    """Record each string (or key) holding a NUL or a lone ``\\ud800``-style escape, by field
    path: valid JSON, but text no database stores."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found:
            char = found.group()
            code = format(ord(char), "04X")
            message = (
                gettext("must not contain a NUL (U+%(code)s)", code=code)
                if char == "\x00"
                else gettext("must not contain an unpaired surrogate (U+%(code)s)", code=code)
            )
            errors.setdefault(path or "body", message)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _unstorable_text(item, f"{path}.{index}" if path else str(index), errors)
    elif isinstance(value, dict):
        for key, item in value.items():
            if _UNSTORABLE.search(key):
                errors.setdefault(
                    path or "body",
                    gettext("holds a field name with a NUL or an unpaired surrogate"),
                )
                continue
            _unstorable_text(item, f"{path}.{key}" if path else key, errors)


def _too_deep() -> str:
    return gettext("is nested more than %(max)s levels deep", max=MAX_BODY_DEPTH)


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or :class:`MalformedBody` (400): not JSON, not an
    object, nested deeper than :data:`MAX_BODY_DEPTH`, or a number longer than
    :data:`MAX_NUMBER_DIGITS` digits. A string holding a NUL or an unpaired surrogate is a
    :class:`ValidationError` (422) naming its field."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise MalformedBody(gettext("a JSON object is required"))
    if _nesting_depth(raw) > MAX_BODY_DEPTH:
        raise MalformedBody(_too_deep())
    try:
        data = json.loads(raw, parse_int=_bounded_int, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(gettext("is not valid JSON: %(problem)s", problem=exc)) from None
    except RecursionError:  # the depth check above should make this unreachable
        raise MalformedBody(_too_deep()) from None
    if not isinstance(data, dict):
        raise MalformedBody(
            gettext("must be a JSON object, not %(type)s", type=type(data).__name__)
        )
    errors: dict[str, str] = {}
    _unstorable_text(data, "", errors)
    if errors:
        raise ValidationError(errors)
    return data


def field_errors(exc: PydanticError) -> dict[str, str]:
    """Pydantic errors keyed by dotted field path (``person.name``, ``max_sentence.months``)."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "body"
        errors.setdefault(path, _message(error))
    return errors


def _message(error: Any) -> str:
    """A pydantic error's message in the request's language (pydantic words its own in English;
    our field checks word theirs already translated)."""
    kind = error["type"]
    if kind in _MESSAGES:
        return gettext(_MESSAGES[kind])
    message: str = error["msg"]
    if current_language() == SOURCE_LANGUAGE:
        return message.removeprefix("Value error, ")
    if kind in _TRANSLATED:
        return gettext(_TRANSLATED[kind])
    expected = (error.get("ctx") or {}).get("expected")
    if kind in _CHOICE_TYPES and expected:
        return gettext("must be one of: %(choices)s", choices=expected)
    return message.removeprefix("Value error, ")


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
