"""Small checks shared by services: countries, required text, vocabulary members."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

import pycountry

E = TypeVar("E", bound=StrEnum)


def normalise_country(code: str | None, errors: dict[str, str], field: str) -> str | None:
    """Upper-case ISO 3166-1 alpha-2 code, or record an error."""
    if code is None or not code.strip():
        return None
    code = code.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        errors[field] = f"{code!r} is not an ISO 3166-1 two-letter country code"
        return None
    return code


def required_text(value: str | None, errors: dict[str, str], field: str, max_length: int) -> str:
    """Stripped text that must be present and not too long."""
    text = (value or "").strip()
    if not text:
        errors[field] = "is required"
    elif len(text) > max_length:
        errors[field] = f"must be at most {max_length} characters"
    return text


def optional_text(
    value: str | None, errors: dict[str, str], field: str, max_length: int
) -> str | None:
    """Stripped text or None; too long is an error."""
    text = (value or "").strip()
    if len(text) > max_length:
        errors[field] = f"must be at most {max_length} characters"
    return text or None


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
            errors[field] = "must be an http:// or https:// address"
    return url


def member(enum: type[E], value: str | None, errors: dict[str, str], field: str) -> E | None:
    """The vocabulary member named ``value``, or record an error listing the choices."""
    try:
        return enum(value or "")
    except ValueError:
        errors[field] = "must be one of: " + ", ".join(m.value for m in enum)
        return None
