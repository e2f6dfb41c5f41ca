"""Template helpers and the small pieces every view shares: login hook, errors, ``next``."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass
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


# Scripts by Unicode block (ISO 15924 codes), for the language of a name in its original script.
SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latn"),
    (0x1E00, 0x1EFF, "Latn"),
    (0x0370, 0x03FF, "Grek"),
    (0x1F00, 0x1FFF, "Grek"),
    (0x0400, 0x052F, "Cyrl"),
    (0x1C80, 0x1C8F, "Cyrl"),
    (0xA640, 0xA69F, "Cyrl"),
    (0x0530, 0x058F, "Armn"),
    (0x0590, 0x05FF, "Hebr"),
    (0xFB1D, 0xFB4F, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0x0870, 0x08FF, "Arab"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0B80, 0x0BFF, "Taml"),
    (0x0D80, 0x0DFF, "Sinh"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Laoo"),
    (0x0F00, 0x0FFF, "Tibt"),
    (0x1000, 0x109F, "Mymr"),
    (0xA9E0, 0xA9FF, "Mymr"),
    (0xAA60, 0xAA7F, "Mymr"),
    (0x10A0, 0x10FF, "Geor"),
    (0x1C90, 0x1CBF, "Geor"),
    (0x2D00, 0x2D2F, "Geor"),
    (0x1100, 0x11FF, "Hang"),
    (0x3130, 0x318F, "Hang"),
    (0xAC00, 0xD7AF, "Hang"),
    (0x1200, 0x139F, "Ethi"),
    (0x1780, 0x17FF, "Khmr"),
    (0x19E0, 0x19FF, "Khmr"),
    (0x1800, 0x18AF, "Mong"),
    (0x3040, 0x309F, "Hira"),
    (0x30A0, 0x30FF, "Kana"),
    (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"),
    (0x20000, 0x2FFFF, "Hani"),
)
# The language a script is written in when it serves one language (or mostly one) ...
SCRIPT_LANGUAGES = {
    "Khmr": "km",
    "Mymr": "my",
    "Thai": "th",
    "Laoo": "lo",
    "Tibt": "bo",
    "Geor": "ka",
    "Armn": "hy",
    "Hebr": "he",
    "Grek": "el",
    "Hang": "ko",
    "Hira": "ja",
    "Kana": "ja",
    "Hani": "zh",
    "Ethi": "am",
    "Sinh": "si",
    "Beng": "bn",
    "Taml": "ta",
    "Deva": "hi",
    "Arab": "ar",
    "Mong": "mn",
}
# ... and where the person's country says better (Persian in Iran, Belarusian in Belarus).
COUNTRY_LANGUAGES = {
    ("Arab", "IR"): "fa",
    ("Arab", "AF"): "fa",
    ("Arab", "PK"): "ur",
    ("Deva", "NP"): "ne",
    ("Ethi", "ER"): "ti",
    ("Hani", "JP"): "ja",
    ("Cyrl", "RU"): "ru",
    ("Cyrl", "BY"): "be",
    ("Cyrl", "UA"): "uk",
    ("Cyrl", "BG"): "bg",
    ("Cyrl", "RS"): "sr",
    ("Cyrl", "MK"): "mk",
    ("Cyrl", "KZ"): "kk",
    ("Cyrl", "KG"): "ky",
    ("Cyrl", "TJ"): "tg",
    ("Cyrl", "MN"): "mn",
    ("Latn", "VN"): "vi",
    ("Latn", "TR"): "tr",
    ("Latn", "AZ"): "az",
    ("Latn", "UZ"): "uz",
}
RTL_SCRIPTS = frozenset({"Arab", "Hebr"})


@dataclass(frozen=True)
class TextLanguage:
    """The BCP 47 language tag of a piece of text, and whether it runs right to left."""

    tag: str
    rtl: bool


def script_of(text: str) -> str | None:
    """The script most of ``text``'s letters are written in (ISO 15924), None without letters."""
    counts: Counter[str] = Counter()
    for char in text:
        if not char.isalpha():
            continue  # spaces, digits, punctuation and combining marks say nothing
        point = ord(char)
        for start, end, script in SCRIPT_RANGES:
            if start <= point <= end:
                counts[script] += 1
                break
    if not counts:
        return None
    if counts["Hira"] or counts["Kana"]:
        return "Hira"  # Japanese mixes kana with kanji: any kana says Japanese
    if counts["Hang"]:
        return "Hang"  # Korean may mix in hanja
    return counts.most_common(1)[0][0]


@functools.lru_cache(maxsize=4096)  # a list page asks once per row; names repeat across pages
def language_of(text: str | None, country: str | None = None) -> TextLanguage | None:
    """The language of a name in its original script, from its letters (Unicode blocks) and,
    where one script serves several languages, the person's country: ``km`` for Khmer,
    ``ar`` + right to left for Arabic, ``und-Cyrl`` for Cyrillic of an unknown country.
    None for Latin script without a country that says which language (the page's own)."""
    script = script_of(text or "")
    if script is None:
        return None
    tag = COUNTRY_LANGUAGES.get((script, (country or "").upper())) or SCRIPT_LANGUAGES.get(script)
    if tag is None:
        if script == "Latn":
            return None
        tag = f"und-{script}"
    return TextLanguage(tag, script in RTL_SCRIPTS)


def lang_of(text: str | None, country: str | None = None) -> str:
    """The language tag of ``text`` (see :func:`language_of`), empty when it is the page's."""
    found = language_of(text, country)
    return found.tag if found else ""


def lang_attrs(text: str | None, country: str | None = None) -> Markup:
    """`` lang="km"`` (and `` dir="rtl"`` for Arabic or Hebrew) for an element holding ``text``."""
    found = language_of(text, country)
    if found is None:
        return Markup("")
    if found.rtl:
        return Markup(' lang="{}" dir="rtl"').format(found.tag)
    return Markup(' lang="{}"').format(found.tag)


# What werkzeug's default route converter leaves unquoted in a path segment (``url_for``).
PATH_SEGMENT_SAFE = "!$&'()*+,/:;=@"


def path_segment(value: str) -> str:
    """``value`` quoted as ``url_for`` quotes a ``<public_id>`` route argument."""
    return quote(value, safe=PATH_SEGMENT_SAFE)


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
