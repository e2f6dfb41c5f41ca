"""Small checks shared by services: countries, text, page numbers, vocabulary members."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

import pycountry

from monitor.presentation.translation import format_number
from monitor.presentation.translation import gettext as _

E = TypeVar("E", bound=StrEnum)


def normalise_country(code: str | None, errors: dict[str, str], field: str) -> str | None:
    """Upper-case ISO 3166-1 alpha-2 code, or record an error."""
    if code is None or not code.strip():
        return None
    code = code.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        errors[field] = _(
            "%(value)s is not an ISO 3166-1 two-letter country code", value=repr(code)
        )
        return None
    return code


# Page numbers past this are refused: SQL OFFSET takes a 64-bit integer, and nobody pages
# further than a million pages.
MAX_PAGE_NUMBER = 1_000_000

# Never accepted in text: control characters (NUL, escape codes, DEL, C1) and unpaired
# surrogates (no database stores them); a long text (a summary, a biography) may hold line
# breaks and tabs, a single-line field (a name, a role, a title) may not.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_LONG_TEXT_REFUSED = re.compile(f"[{_CONTROLS}\ud800-\udfff]")
_LINE_REFUSED = re.compile(f"[{_CONTROLS}\t\n\r\u2028\u2029\ud800-\udfff]")


def _described(char: str) -> str:
    if char in "\n\r\u2028\u2029":
        return _("a line break")
    if char == "\t":
        return _("a tab")
    if "\ud800" <= char <= "\udfff":
        return _("an unpaired surrogate")
    return _("a control character")


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored as typed text, or None: control characters (NUL, escape
    codes), unpaired surrogates, and line breaks or tabs in a single-line field."""
    found = (_LONG_TEXT_REFUSED if multiline else _LINE_REFUSED).search(text)
    if found is None:
        return None
    char = found.group()
    return _(
        "must not contain %(what)s (U+%(code)s at character %(position)s)",
        what=_described(char),
        code=format(ord(char), "04X"),
        position=found.start() + 1,
    )


def _checked(
    text: str, errors: dict[str, str], field: str, max_length: int, multiline: bool
) -> None:
    if len(text) > max_length:
        errors[field] = _("must be at most %(max)s characters", max=max_length)
    elif problem := text_problem(text, multiline=multiline):
        errors[field] = problem


def required_text(
    value: str | None,
    errors: dict[str, str],
    field: str,
    max_length: int,
    *,
    multiline: bool = False,
) -> str:
    """Stripped text that must be present, not too long, and free of control characters (one
    line unless ``multiline``)."""
    text = (value or "").strip()
    if not text:
        errors[field] = _("is required")
    else:
        _checked(text, errors, field, max_length, multiline)
    return text


def optional_text(
    value: str | None,
    errors: dict[str, str],
    field: str,
    max_length: int,
    *,
    multiline: bool = False,
) -> str | None:
    """Stripped text or None; too long or holding control characters (line breaks too, unless
    ``multiline``) is an error."""
    text = (value or "").strip()
    _checked(text, errors, field, max_length, multiline)
    return text or None


def text_items(values: list[str], errors: dict[str, str], field: str) -> None:
    """Record under ``field`` the first of several one-line texts (aliases, tags) that holds a
    control character or a line break."""
    for value in values:
        if problem := text_problem(value):
            errors[field] = _("an item %(problem)s", problem=problem)
            return


def whole_number(
    raw: object,
    errors: dict[str, str],
    field: str,
    default: int,
    maximum: int | None = None,
) -> int:
    """A whole number from a query string (``default`` when absent): ASCII digits only, from 1
    to ``maximum``; anything else records an error and gives ``default``."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return default
    refusal = (
        _(
            "must be a whole number from %(low)s to %(high)s",
            low=format_number(1),
            high=format_number(maximum),
        )
        if maximum is not None
        else _("must be a whole number from %(low)s or more", low=format_number(1))
    )
    # Checked as text first: int() takes full-width digits and "1_000", and refuses (with an
    # exception) past 4,300 digits.
    if not (text.isascii() and text.isdigit()):
        errors[field] = refusal
        return default
    if len(text) > 18 or int(text) < 1 or (maximum is not None and int(text) > maximum):
        errors[field] = refusal
        return default
    return int(text)


def page_number(raw: object, errors: dict[str, str], field: str = "page") -> int:
    """A page number from a query string: 1 when absent, an error past :data:`MAX_PAGE_NUMBER`."""
    return whole_number(raw, errors, field, 1, MAX_PAGE_NUMBER)


def web_url(value: str | None, errors: dict[str, str], field: str) -> str | None:
    """An http(s) address or None: a javascript: or file: URL would be a trap in every page that
    links it, and a malformed one (``http://[x``) is an error, not a crash."""
    url = optional_text(value, errors, field, 2000)
    if url and field not in errors:
        try:
            parts = urlsplit(url)
            web = parts.scheme in {"http", "https"} and bool(parts.netloc)
        except ValueError:
            web = False
        if not web:
            errors[field] = _("must be an http:// or https:// address")
    return url


def member(enum: type[E], value: str | None, errors: dict[str, str], field: str) -> E | None:
    """The vocabulary member named ``value``, or record an error listing the choices."""
    try:
        return enum(value or "")
    except ValueError:
        errors[field] = _("must be one of: %(choices)s", choices=", ".join(m.value for m in enum))
        return None
