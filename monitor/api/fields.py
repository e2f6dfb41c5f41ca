"""The API's field types: each is one JSON schema, and the check that enforces exactly it.

A field's schema in the OpenAPI document is the rule the server applies, read from the same dict:
its ``pattern`` (searched with Python's ``re``, as JSON Schema validators in Python do), its
``minLength`` / ``maxLength`` and its ``minimum`` / ``maximum``. So a request the document says is
valid passes the check, and one it says is invalid is refused with 422 naming the field. Rules no
JSON schema can state (an id that names a record, a date not in the future) are in the
descriptions, and the services enforce them. A refusal is worded when it is raised, in the
request's language (``Accept-Language``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import pycountry
from flask import current_app
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from monitor.domain import PartialDate
from monitor.presentation.translation import format_number, gettext
from monitor.services.validation import text_problem

# Characters no text field takes: C0 and C1 controls and DEL; a one-line field (a name, a title)
# refuses line breaks and tabs too, a long text (a summary) keeps them. (An unpaired surrogate is
# refused before any field is read: see monitor.api.errors.json_object.)
_LINE_REFUSED = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_LONG_TEXT_REFUSED = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Whitespace that is not a control character (ECMAScript's \s, which JSON Schema patterns use,
# less the controls): a required text needs something besides these. Named one by one, as
# Python's \s differs (it leaves out U+FEFF).
_BLANK = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


class Rule:
    """Annotation for a field whose JSON schema (:meth:`json_schema`) is exactly what
    :meth:`check` accepts; pydantic runs the check and the document shows the schema."""

    def check(self, value: object) -> Any:
        """The value to use, or a refusal (a 422 naming the field)."""
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """The schema the document shows for this field."""
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.json_schema()


@dataclass(frozen=True, eq=False)
class Checked(Rule):
    """Annotation for a string field documented as ``schema`` and checked against it:
    ``explain`` words the refusal of a string its pattern does not match, ``convert`` makes the
    value (``Annotated[PartialDate, Checked(...)]``)."""

    schema: dict[str, Any]
    explain: Callable[[str], str]
    convert: Callable[[str], Any] = str

    def check(self, value: object) -> Any:
        """The converted value, or a refusal naming the first rule it breaks."""
        if not isinstance(value, str):
            raise _invalid(gettext("must be a string"))
        max_length = self.schema.get("maxLength")
        if max_length is not None and len(value) > max_length:
            raise _invalid(
                gettext("must be at most %(max)s characters", max=format_number(max_length))
            )
        if len(value) < self.schema.get("minLength", 0):
            raise _invalid(gettext("is required"))
        choices = self.schema.get("enum")
        if choices is not None and value not in choices:
            raise _invalid(gettext("must be one of: %(choices)s", choices=", ".join(choices)))
        pattern = self.schema.get("pattern")
        if pattern is not None and _compiled(pattern).search(value) is None:
            raise _invalid(self.explain(value))
        return self.convert(value)

    def json_schema(self) -> dict[str, Any]:
        """The schema the document shows for this field."""
        return dict(self.schema)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMAScript's: there "$" is the very end, while Python's "$" also
    # matches before a final line break ("Kem Sokha\n" would pass).
    return re.compile(pattern.removesuffix("$") + r"\Z" if pattern.endswith("$") else pattern)


def plain_text(
    max_length: int,
    *,
    required: bool = False,
    multiline: bool = False,
    also_refused: str = "",
    description: str | None = None,
) -> Checked:
    """Typed text: no control characters (and on one line unless ``multiline``), at most
    ``max_length`` characters; ``required`` text must hold more than whitespace."""
    refused = (_LONG_TEXT_REFUSED if multiline else _LINE_REFUSED) + re.escape(also_refused)
    pattern = f"^[{_BLANK}]*[^{refused}{_BLANK}][^{refused}]*$" if required else f"^[^{refused}]*$"
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": pattern}
    if required:
        schema["minLength"] = 1
    if description:
        schema["description"] = description

    def explain(value: str) -> str:
        if problem := text_problem(value, multiline=multiline):
            return problem
        if also_refused and any(c in value for c in also_refused):
            return gettext("must not contain %(characters)s", characters=repr(also_refused))
        return gettext("is required") if required else gettext("is not valid text")

    return Checked(schema, explain)


def _letter_classes(letters: str) -> str:
    return "".join(f"{c}{c.lower()}" for c in letters)


def _country_pattern() -> str:
    """Every ISO 3166-1 alpha-2 code, in either case, grouped by first letter."""
    by_first: dict[str, list[str]] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        by_first.setdefault(code[0], []).append(code[1])
    groups = [
        f"[{_letter_classes(first)}][{_letter_classes(''.join(sorted(seconds)))}]"
        for first, seconds in sorted(by_first.items())
    ]
    return "^(" + "|".join(groups) + ")$"


COUNTRY_CODE = Checked(
    {
        "type": "string",
        "pattern": _country_pattern(),
        "description": "An ISO 3166-1 alpha-2 country code, in either case (KH or kh)",
        "examples": ["KH"],
    },
    lambda value: gettext(
        "%(value)s is not an ISO 3166-1 two-letter country code", value=repr(value)
    ),
    lambda value: value.strip().upper(),
)

# Public ids are 12 URL-safe base64 characters; a longer or stranger one names nothing.
ID_PATTERN = "^[A-Za-z0-9_-]{1,16}$"
PUBLIC_ID = Checked(
    {"type": "string", "pattern": ID_PATTERN, "description": "An id as the API gave it"},
    lambda _value: gettext("is not an id: ids are up to 16 letters, digits, '-' and '_'"),
)

# Calendar dates written out: any year from 0001, months 01-12, the days each month has
# (29 February in leap years only).
_YEAR = "([0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    "((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
    "|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    "|02-(0[1-9]|1[0-9]|2[0-8]))"
)
_FULL_DATE = f"{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29"
PARTIAL_DATE_PATTERN = f"^({_YEAR}(-(0[1-9]|1[0-2]))?|{_FULL_DATE})$"
FULL_DATE_PATTERN = f"^({_FULL_DATE})$"


def partial_date(description: str = "") -> Checked:
    """A date known to the year, month or day (``2017``, ``2017-09``, ``2017-09-03``)."""
    return Checked(
        {
            "type": "string",
            "pattern": PARTIAL_DATE_PATTERN,
            "description": (
                "A real calendar date known to the year, month or day; the precision is kept."
                + (f" {description}" if description else "")
            ),
            "examples": ["2017", "2017-09", "2017-09-03"],
        },
        lambda _value: gettext("use YYYY, YYYY-MM or YYYY-MM-DD (a real calendar date)"),
        PartialDate.parse,
    )


DAY = Checked(
    {"type": "string", "format": "date", "pattern": FULL_DATE_PATTERN, "examples": ["2017-09-03"]},
    lambda _value: gettext("use YYYY-MM-DD (a real calendar date)"),
    lambda value: dt.date.fromisoformat(value.strip()),
)


class Omittable:
    """A field a client may leave out but not send as null (``"title": null`` on a PATCH would
    mean "no title", which a case cannot have): the schema and the check both drop null, while
    the Python value is None when the field was left out."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source)
        inner = schema["schema"] if schema["type"] == "nullable" else schema
        return core_schema.no_info_before_validator_function(_refuse_null, inner)


def _refuse_null(value: object) -> object:
    if value is None:
        raise _invalid(gettext("cannot be null: leave the field out to keep its value"))
    return value


# Marks the schema of a language field; the document puts the app's MONITOR_LANGUAGES there as
# its enum (monitor.api.openapi), so the document and the check agree whatever is configured.
LANGUAGES_MARK = "x-register-languages"


class LanguageRule(Rule):
    """One of the register's languages (``MONITOR_LANGUAGES``): ``en``, ``fr``, ``km``, ``ar``."""

    def check(self, value: object) -> Any:
        """The language code, or a refusal naming the languages there are."""
        languages: tuple[str, ...] = current_app.config["SETTINGS"].languages
        if not isinstance(value, str):
            raise _invalid(gettext("must be a string"))
        if value not in languages:
            raise _invalid(gettext("must be one of: %(choices)s", choices=", ".join(languages)))
        return value

    def json_schema(self) -> dict[str, Any]:
        """A string; the document fills in the enum of configured languages."""
        return {"type": "string", LANGUAGES_MARK: True}


LANGUAGE = LanguageRule()


def fill_languages(schema: Any, languages: tuple[str, ...]) -> None:
    """Give every language field of a schema (in place) the enum of ``languages``."""
    if isinstance(schema, dict):
        if schema.pop(LANGUAGES_MARK, False):
            schema["enum"] = list(languages)
        for value in schema.values():
            fill_languages(value, languages)
    elif isinstance(schema, list):
        for value in schema:
            fill_languages(value, languages)


WEB_ADDRESS = Checked(
    {
        "type": "string",
        "maxLength": 2000,
        # The scheme in either case, a host of URL characters, then a path without controls.
        "pattern": f"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~!$&'()*+,;=:@%-]+([/?#][^{_LINE_REFUSED}]*)?$",
        "description": "An http:// or https:// address",
    },
    lambda _value: gettext("must be an http:// or https:// address"),
)


CountryCode = Annotated[str, COUNTRY_CODE]
PublicId = Annotated[str, PUBLIC_ID]
WebAddress = Annotated[str, WEB_ADDRESS]
Day = Annotated[dt.date, DAY]


@dataclass(frozen=True)
class QueryNumber(Rule):
    """A whole number in a query string, from ``minimum`` to ``maximum``: ASCII digits only
    (``int()`` would also take full-width digits, signs, spaces and ``1_000``)."""

    minimum: int
    maximum: int

    def check(self, value: object) -> int:
        """The number, or a refusal that gives the range."""
        text = value if isinstance(value, str) else ""
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise _invalid(self._refusal())
        number = int(text)
        if not self.minimum <= number <= self.maximum:
            raise _invalid(self._refusal())
        return number

    def _refusal(self) -> str:
        return gettext(
            "must be a whole number from %(low)s to %(high)s",
            low=format_number(self.minimum),
            high=format_number(self.maximum),
        )

    def json_schema(self) -> dict[str, Any]:
        """The schema the document shows for this field."""
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class QueryFlag(Rule):
    """``true`` or ``false`` in a query string (anything else is refused, not taken as false)."""

    def check(self, value: object) -> bool:
        """The flag, or a refusal."""
        if value not in ("true", "false"):
            raise _invalid(gettext("must be true or false"))
        return value == "true"

    def json_schema(self) -> dict[str, Any]:
        """The schema the document shows for this field."""
        return {"type": "boolean"}


def choice(values: list[str]) -> Checked:
    """One of ``values``, exactly."""
    return Checked({"type": "string", "enum": values}, lambda _value: gettext("is not a choice"))


# Domains no mail can be delivered to (RFC 6761 special-use names, as email-validator lists them).
_UNDELIVERABLE = "|".join(
    "".join(f"[{c.upper()}{c}]" for c in name)
    for name in ("arpa", "invalid", "local", "localhost", "onion", "test")
)
EMAIL = Checked(
    {
        "type": "string",
        "format": "email",
        "minLength": 1,
        "maxLength": 254,
        "pattern": f"^(?![\\s\\S]*@([\\s\\S]*\\.)?({_UNDELIVERABLE})$)[\\s\\S]*$",
        "description": (
            "An email address (checked with the email-validator package's rules); not at a "
            "special-use domain such as .test or .local"
        ),
    },
    lambda _value: gettext("is at a special-use domain, which no mail reaches"),
)


@dataclass(frozen=True)
class WholeNumber(Rule):
    """A JSON integer, from ``minimum`` to ``maximum`` when given. JSON Schema counts 12.0 as the
    integer 12, so it is taken as one; true, "12" and 12.5 are not whole numbers."""

    minimum: int | None = None
    maximum: int | None = None

    def check(self, value: object) -> int:
        """The number, or a refusal that gives the range."""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(gettext("must be a whole number"))
        low = self.minimum if self.minimum is not None else value
        high = self.maximum if self.maximum is not None else value
        if not low <= value <= high:
            raise _invalid(
                gettext(
                    "must be a whole number from %(low)s to %(high)s",
                    low=format_number(low),
                    high=format_number(high),
                )
            )
        return value

    def json_schema(self) -> dict[str, Any]:
        """The schema the document shows for this field."""
        bounds = {"minimum": self.minimum, "maximum": self.maximum}
        return {"type": "integer", **{k: v for k, v in bounds.items() if v is not None}}


IDENTIFIER_SCHEME = Checked(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 60,
        "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        "description": "Free text, stored lower-cased: wikidata, everypolitician, your own",
    },
    lambda _value: gettext("must be letters, digits, '.', '_' or '-' (e.g. wikidata)"),
    str.lower,
)
IdentifierScheme = Annotated[str, IDENTIFIER_SCHEME]
