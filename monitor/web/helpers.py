"""Template helpers and the small pieces every view shares: login hook, errors, ``next``."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Flask, make_response, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from monitor import authz
from monitor.domain import (
    Certainty,
    Confidentiality,
    CustodyStatus,
    LegalStage,
    OrganizationKind,
    PartialDate,
    Sentence,
    SentenceKind,
)
from monitor.extensions import login_manager
from monitor.models import User
from monitor.presentation import STATUS_ORDER, country_name, vocabulary_label, wording
from monitor.presentation.languages import lang_attrs, lang_of

# How a page shows a missing value; a present one is worded by monitor.presentation.
MISSING = "—"


def template_globals() -> dict[str, Any]:
    """Names every template can use."""
    return {
        "CustodyStatus": CustodyStatus,
        "Confidentiality": Confidentiality,
        "LegalStage": LegalStage,
        "SentenceKind": SentenceKind,
        "Certainty": Certainty,
        "OrganizationKind": OrganizationKind,
        "STATUS_ORDER": STATUS_ORDER,
        "country_name": country_name,
        "can_write": authz.can(current_user, authz.Action.WRITE),
        "can_admin": authz.can(current_user, authz.Action.ADMIN),
    }


def partial_date(value: PartialDate | None, about: bool = False) -> str:
    """``c. September 2017`` for an approximate month; an em dash when unknown."""
    return wording.date_text(value, about) or MISSING


def sentence(value: Sentence | None) -> str:
    """``30 years``, ``life imprisonment``; an em dash when there is none."""
    return wording.sentence_text(value) or MISSING


def timestamp(value: dt.datetime | None) -> str:
    """A recorded-at moment in UTC, to the minute."""
    return wording.utc_text(value) if value is not None else MISSING


def status_label(value: str | None) -> str:
    """``at liberty`` for ``at_liberty``; an em dash for none."""
    return wording.status_label(value) or MISSING


@functools.cache
def badge(value: str) -> Markup:
    """A coloured custody status badge (the status is vocabulary, never user text)."""
    # Cached: six statuses, and the list shows one per row. Unknown values raise (not cached).
    status = CustodyStatus(value)
    return Markup('<span class="badge badge-{}">{}</span>').format(status.value, status.label)


# What werkzeug's default route converter leaves unquoted in a path segment (``url_for``).
PATH_SEGMENT_SAFE = "!$&'()*+,/:;=@"


def path_segment(value: str) -> str:
    """``value`` quoted as ``url_for`` quotes a ``<public_id>`` route argument."""
    return quote(value, safe=PATH_SEGMENT_SAFE)


def identifier_link(identifier: Any) -> str | None:
    """The web page of an identifier (a Wikidata item), if its scheme has one."""
    from monitor.services.people import identifier_url

    return identifier_url(identifier.scheme, identifier.identifier)


def register_filters(app: Flask) -> None:
    """Jinja filters used by the web templates."""
    app.add_template_filter(partial_date, "partial_date")
    app.add_template_filter(sentence, "sentence")
    app.add_template_filter(timestamp, "timestamp")
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(badge, "badge")
    app.add_template_filter(path_segment, "path_segment")
    app.add_template_filter(vocabulary_label, "label")
    app.add_template_filter(country_name, "country_name")
    app.add_template_filter(lang_of, "lang_of")
    app.add_template_filter(lang_attrs, "lang_attrs")
    app.add_template_filter(identifier_link, "identifier_url")


def _require_login() -> ResponseReturnValue | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    return None


def login_required_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A blueprint whose every view sends anonymous visitors to the login page."""
    bp = Blueprint(name, import_name, **options)
    bp.before_request(_require_login)
    return bp


def actor() -> User:
    """The logged-in user, as the actor of a service call."""
    user: User = current_user._get_current_object()
    return user


def safe_next(target: str | None) -> str:
    """``target`` if it is a same-site relative path, else ``/`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def apply_errors(form: Any, errors: dict[str, str], rename: dict[str, str] | None = None) -> None:
    """Put a service's ``{field: message}`` onto the form; unknown fields become form errors."""
    rename = rename or {}
    for key, message in errors.items():
        field = getattr(form, rename.get(key, key), None)
        if field is not None and hasattr(field, "errors") and hasattr(field, "label"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(f"{key.replace('_', ' ')}: {message}")


def invalid(template: str, **context: Any) -> ResponseReturnValue:
    """Re-render a form that failed validation with HTTP 422."""
    return render_template(template, **context), 422


def shown_once(template: str, **context: Any) -> ResponseReturnValue:
    """A page that reveals a secret once: never cached, never stored in the session."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response
