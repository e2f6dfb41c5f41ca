"""Error pages: plain, helpful, and never revealing more than the status code says."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug import exceptions as http
from werkzeug.exceptions import HTTPException, InternalServerError

from monitor.authz import NotFound
from monitor.extensions import login_manager
from monitor.presentation.translation import format_number
from monitor.services import health
from monitor.web.i18n import language_context

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("Your role does not allow this. Ask an admin if you need it.")),
    404: (_l("Not found"), _l("There is nothing here, or you are not cleared to see it.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (
        _l("Too many attempts"),
        _l("Too many attempts from your address in a short time. Wait a minute and try again."),
    ),
    500: (_l("Something went wrong"), _l("The error has been logged. Please try again later.")),
    503: (
        _l("Temporarily unavailable"),
        _l(
            "The register's database is not answering just now. Please try again in a minute. "
            "If you were saving a change, check whether it was recorded before you send it again."
        ),
    ),
}
# The API's wording of a 503 (Retry-After says when to try again).
API_UNAVAILABLE = "the database is unavailable; try again later"


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _page(code: int, detail: str | None = None) -> tuple[Any, int]:
    words = MESSAGES.get(code)
    title, message = (
        (str(words[0]), str(words[1])) if words else (_("Error"), _("Something went wrong."))
    )
    if _wants_json():
        return jsonify({"error": detail or message}), code
    try:
        page = render_template("error.html", code=code, title=title, message=detail or message)
    except health.DATABASE_UNAVAILABLE:
        # The logged-in user could not be loaded: say what was asked, without the user's menu.
        page = _page_without_database(code, title, detail or message)
    return page, code


def _page_without_database(code: int, title: str, message: str) -> str:
    """The error page without the context processors, which load the logged-in user from the
    database: the site's frame as a visitor who is not logged in sees it."""
    return current_app.jinja_env.get_template("error.html").render(
        code=code,
        title=title,
        message=message,
        current_user=login_manager.anonymous_user(),
        **language_context(),  # the cookie and the browser choose, as for a visitor
    )


def handle_http_error(exc: HTTPException) -> ResponseReturnValue:
    """Render any HTTP error as a page (or JSON under /api/)."""
    detail = None
    if exc.code == 413 and request.endpoint == "data.upload":
        limit = current_app.config["SETTINGS"].import_max_bytes
        detail = _(
            "The file is larger than the limit of %(limit)s bytes. Nothing was imported.",
            limit=format_number(limit),
        )
    body, status = _page(exc.code or 500, detail)
    # Keep headers such as Allow (405) and Retry-After (429); the body is ours.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return body, status, headers


def handle_csrf_error(exc: CSRFError) -> ResponseReturnValue:
    """A form posted without a valid CSRF token: usually an expired page."""
    return _page(
        400,
        _(
            "The form had expired or was not sent by this site. Go back, reload the page and try "
            "again. (%(reason)s)",
            reason=exc.description,
        ),
    )


def handle_server_error(exc: InternalServerError) -> ResponseReturnValue:
    """An unexpected error."""
    return _page(500)


def handle_database_unavailable(exc: Exception) -> ResponseReturnValue:
    """The database cannot be reached (or dropped the connection): 503 with Retry-After, and a
    page that does not need the database."""
    log.warning("database unavailable during %s %s: %s", request.method, request.path, exc)
    headers = {"Retry-After": str(health.RETRY_AFTER_SECONDS)}
    if _wants_json():
        return jsonify({"error": API_UNAVAILABLE}), 503, headers
    title, message = MESSAGES[503]
    return _page_without_database(503, str(title), str(message)), 503, headers


def handle_not_found(exc: NotFound) -> ResponseReturnValue:
    """A record that is missing or hidden (the domain's :class:`~monitor.authz.NotFound`): 404,
    answered by whichever 404 handler applies (a page, or the API's JSON)."""
    return current_app.handle_http_exception(http.NotFound())


def register(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(NotFound, handle_not_found)
    for unavailable in health.DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, handle_database_unavailable)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(HTTPException, handle_http_error)
