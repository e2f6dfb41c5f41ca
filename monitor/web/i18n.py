"""The interface's language: the one a user chose in the menu (kept on their account, or in a
cookie before they log in), else the browser's ``Accept-Language``, else the first configured.

Flask-Babel translates templates and ``_()`` in views; its catalogs are the ones
:mod:`monitor.presentation.translation` loads, which emails and dossiers use in the worker too.
The API answers in the language of ``Accept-Language`` alone.
"""

from __future__ import annotations

import functools
from typing import Any

from babel import negotiate_locale
from babel.support import NullTranslations
from flask import Blueprint, Flask, current_app, flash, has_request_context, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import Babel, Domain, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from monitor.config import Settings
from monitor.presentation import translation
from monitor.presentation.translation import Language
from monitor.services import health, profile
from monitor.web import writes
from monitor.web.helpers import actor, safe_next

# The anonymous visitor's choice; a logged-in user's is kept on the account (and here too, so
# the login page after a logout stays in it).
LANGUAGE_COOKIE = "language"
COOKIE_SECONDS = 365 * 24 * 3600

bp = Blueprint("language", __name__)


class CatalogDomain(Domain):  # type: ignore[misc]  # flask_babel ships no type hints
    """Flask-Babel's message domain, reading the catalogs the worker reads too."""

    def get_translations(self) -> NullTranslations:
        """The catalog of the request's language."""
        locale = get_locale()
        return translation.translations(str(locale) if locale else translation.SOURCE_LANGUAGE)


class CatalogBabel(Babel):  # type: ignore[misc]
    """Flask-Babel with :class:`CatalogDomain` as its default domain."""

    @functools.cached_property
    def domain_instance(self) -> Domain:
        """The one domain: ``messages``."""
        return CatalogDomain()


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _chosen_by_user() -> str | None:
    try:
        if current_user.is_authenticated:
            return current_user.language  # type: ignore[no-any-return]
    except health.DATABASE_UNAVAILABLE:
        pass  # the 503 page is shown as to a visitor: the cookie and the browser decide
    return None


def select_language() -> str:
    """The request's language (Flask-Babel's locale selector)."""
    languages = _settings().languages
    if not has_request_context():
        return languages[0]
    if not request.path.startswith("/api/"):
        for chosen in (_chosen_by_user(), request.cookies.get(LANGUAGE_COOKIE)):
            if chosen in languages:
                return chosen
    preferred = [value for value, _ in request.accept_languages]
    return negotiate_locale(preferred, languages, sep="-") or languages[0]


def _request_language() -> str | None:
    return str(get_locale()) if has_request_context() else None


def language_context() -> dict[str, Any]:
    """What every page needs: its language (``lang``, ``dir``) and the menu's choices."""
    code = translation.current_language()
    return {
        "page_language": translation.language(code),
        "languages": [translation.language(c) for c in _settings().languages],
    }


@bp.post("/language")
def choose() -> ResponseReturnValue:
    """Switch the interface to the language picked in the menu, and go back to the page."""
    code = request.form.get("language", "")
    languages = _settings().languages
    response = redirect(safe_next(request.form.get("next")))
    if code not in languages:
        flash(_("Choose one of the languages in the menu."), "error")
        return response  # nothing changed
    if current_user.is_authenticated:
        writes.commit(lambda: profile.set_language(actor(), code, languages))
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=COOKIE_SECONDS,
        secure=_settings().secure_cookies,
        httponly=True,
        samesite="Lax",
    )
    return response


def init_app(app: Flask) -> None:
    """Set up Flask-Babel, the language menu and the template helpers."""
    settings: Settings = app.config["SETTINGS"]
    app.config.setdefault("BABEL_DEFAULT_LOCALE", settings.languages[0])
    CatalogBabel(app, locale_selector=select_language)
    # As babel.cfg extracts them: a {% trans %} block's line breaks and indents are one space.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    translation.set_language_source(_request_language)
    app.register_blueprint(bp)
    app.context_processor(language_context)
    app.add_template_filter(translation.bdi, "bdi")
    app.add_template_filter(translation.format_number, "number")
    app.add_template_filter(translation.format_date, "date_in_words")


__all__ = ["LANGUAGE_COOKIE", "Language", "init_app", "select_language"]
