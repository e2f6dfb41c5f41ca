"""case monitor: a register of persecuted people, their cases, charges and custody status."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Flask, Response, abort, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from monitor import reads
from monitor.config import PROJECT_ROOT, Settings
from monitor.extensions import csrf, db, limiter, login_manager, migrate
from monitor.services import health
from monitor.sessions import ThrottledRefreshSessionInterface
from monitor.web.content_policy import CONTENT_SECURITY_POLICY

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI application (``gunicorn 'monitor:create_app()'``)."""
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
        instance_path=str(settings.instance_path),
    )
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        SESSION_COOKIE_HTTPONLY=True,
        # Sessions are refreshed on requests (monitor/sessions.py), so this is an idle timeout.
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_hours),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        PREFERRED_URL_SCHEME="https" if settings.secure_cookies else "http",
        WTF_CSRF_TIME_LIMIT=None,  # tokens live as long as the session
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        # A Redis outage must not take the register down: limits fall back to this process's
        # memory (Flask-Limiter logs the switch once and returns to Redis when it answers), and
        # an error while counting lets the request through rather than answering 500.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_HEADERS_ENABLED=True,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        TESTING=settings.env == "testing",
    )
    app.config.update(settings.extra)
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    app.session_interface = ThrottledRefreshSessionInterface()
    db.init_app(app)
    # Registered after Flask-SQLAlchemy's: app-context teardowns run in reverse order, so this
    # one ends the request's session first.
    app.teardown_appcontext(_end_database_session)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "monitor" / "migrations"), render_as_batch=True
    )
    login_manager.init_app(app)
    reads.init_app(app)  # first: it picks the connection's mode before anything queries
    # Before CSRFProtect, which reads the form (and so the whole body) ahead of any view.
    app.before_request(_upload_limit)
    csrf.init_app(app)
    limiter.init_app(app)

    if settings.trusted_proxies:
        # Behind N reverse proxies, take the client address and scheme from their headers, so
        # rate limits count clients rather than the proxy.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n
        )
    app.before_request(_no_nul_in_address)
    _register_blueprints(app)
    _register_cli(app)
    app.after_request(_security_headers)
    _register_template_helpers(app)
    return app


# Seconds PostgreSQL gets to accept a connection: an unreachable database host answers 503 (and
# /healthz reports it) after this long, instead of after the system's TCP timeout (minutes).
DATABASE_CONNECT_TIMEOUT = 3


def _engine_options(database_url: str) -> dict[str, Any]:
    # pool_pre_ping: a connection the database dropped (a restart, a network cut) is replaced
    # on checkout, so the register recovers without being restarted.
    options: dict[str, Any] = {"pool_pre_ping": True}
    if database_url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": DATABASE_CONNECT_TIMEOUT}
    return options


def _end_database_session(exc: BaseException | None) -> None:
    """Close the request's session; if the database dropped its connection meanwhile (a
    restart of PostgreSQL under load), discard the connection instead of failing the response.

    The answer is already made by then: a rollback that raises ``AdminShutdown`` would otherwise
    turn it into a 500. Flask-SQLAlchemy's own teardown then removes the closed session.
    """
    session = db.session()
    try:
        session.close()
    except health.DATABASE_UNAVAILABLE as error:
        log.warning("the database dropped a connection at the end of a request: %s", error)
        session.invalidate()


# Endpoints that take a CSV file: they accept up to MONITOR_IMPORT_MAX_BYTES (plus room for the
# multipart envelope); every other request keeps the app-wide MAX_CONTENT_LENGTH.
UPLOAD_ENDPOINTS = frozenset(
    {"data.upload", "data.upload_popolo", "api.create_import", "api.create_popolo_import"}
)
UPLOAD_ENVELOPE_BYTES = 64 * 1024


def _upload_limit() -> None:
    # Web uploads: only for a signed-in user, since CSRF protection parses the form before the
    # view checks the login. The API reads its body only after the token is checked.
    if request.endpoint in {"api.create_import", "api.create_popolo_import"} or (
        request.endpoint in UPLOAD_ENDPOINTS and current_user.is_authenticated
    ):
        limit = _current_settings().import_max_bytes + UPLOAD_ENVELOPE_BYTES
        request.max_content_length = limit


def _no_nul_in_address() -> None:
    """A NUL in the path or the query string is a 400: PostgreSQL cannot take one in a text
    parameter, so every lookup by id and every search would answer 500, and no link holds one."""
    if "\x00" in request.path or any(
        "\x00" in name or any("\x00" in value for value in values)
        for name, values in request.args.lists()
    ):
        abort(400, "the address holds a NUL character (%00)")


def _register_blueprints(app: Flask) -> None:
    import monitor.jobs  # noqa: F401 - registers the send-after-commit session hooks
    from monitor.api import bp as api_bp
    from monitor.web import register as register_web

    register_web(app)
    csrf.exempt(api_bp)  # the API takes bearer tokens only, never the session cookie
    app.register_blueprint(api_bp)


def _register_cli(app: Flask) -> None:
    from monitor.cli import register

    register(app)


def _register_template_helpers(app: Flask) -> None:
    from monitor.web.helpers import template_globals

    app.context_processor(template_globals)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        # Pages show case data a shared or later user of the browser must not get from cache.
        response.headers["Cache-Control"] = "no-store"
    settings: Settings = _current_settings()
    if settings.secure_cookies:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _current_settings() -> Any:
    from flask import current_app

    return current_app.config["SETTINGS"]
