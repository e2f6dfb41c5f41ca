"""Signed-cookie sessions whose idle timeout is refreshed at most once a minute.

The cookie holds the CSRF token, flashed messages and, once logged in, only the random id of a
server-side session row (``services.user_sessions``): the row decides whether the login lives
(logout, revocation, idle and absolute lifetimes); the cookie's own expiry below merely keeps
a browser from sending an id that idled out anyway.

Flask re-signs and re-sends a permanent session's cookie on every response
(``SESSION_REFRESH_EACH_REQUEST``), so that it expires ``PERMANENT_SESSION_LIFETIME`` after the
last request. That costs every page view a JSON dump, a compression, an HMAC and a
``Set-Cookie`` header. This interface keeps the idle timeout but re-issues an unchanged cookie
only when it is at least :data:`REFRESH_AFTER` old. A login therefore expires
``MONITOR_SESSION_HOURS`` after the last re-issue, which is at most a minute before the last
request: it may end up to a minute sooner than with Flask's default, never later. A session that
changed (login, logout, a flashed message, a new CSRF token) is still saved on the response that
changed it.

Over HTTPS (``MONITOR_BASE_URL`` https, so the cookie is Secure) the cookie is named with the
``__Host-`` prefix, with ``Path=/`` and no ``Domain``: browsers then refuse a cookie of that name
set by a sibling subdomain or over plain HTTP, so nobody can plant a session id (fixation) from
elsewhere. Over plain HTTP (development, tests) the name stays plain, as browsers reject a
``__Host-`` cookie without ``Secure``.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature

REFRESH_AFTER = dt.timedelta(minutes=1)
HOST_PREFIX = "__Host-"


class StampedSession(SecureCookieSession):
    """A cookie session that remembers when its cookie was signed (``None`` when new)."""

    issued_at: dt.datetime | None = None


class ThrottledRefreshSessionInterface(SecureCookieSessionInterface):
    """:class:`SecureCookieSessionInterface` re-issuing unchanged cookies once a minute at most."""

    session_class = StampedSession

    def get_cookie_name(self, app: Flask) -> str:
        """``__Host-session`` when the cookie is Secure, else ``session``."""
        name = super().get_cookie_name(app)
        if app.config["SESSION_COOKIE_SECURE"] and not name.startswith(HOST_PREFIX):
            return HOST_PREFIX + name
        return name

    def get_cookie_domain(self, app: Flask) -> str | None:
        """None (host only) for a ``__Host-`` cookie, which must not name a domain."""
        if app.config["SESSION_COOKIE_SECURE"]:
            return None
        return super().get_cookie_domain(app)

    def get_cookie_path(self, app: Flask) -> str:
        """``/`` for a ``__Host-`` cookie, as the prefix requires."""
        if app.config["SESSION_COOKIE_SECURE"]:
            return "/"
        return super().get_cookie_path(app)

    def open_session(self, app: Flask, request: Request) -> StampedSession | None:
        """As Flask's, also reading the time the cookie was signed."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, issued_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:  # also an expired cookie (SignatureExpired)
            return self.session_class()
        session = self.session_class(data)
        session.issued_at = issued_at
        return session

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """A changed session always; an unchanged permanent one once its cookie is a minute old."""
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        issued_at = getattr(session, "issued_at", None)
        return issued_at is None or dt.datetime.now(dt.UTC) - issued_at >= REFRESH_AFTER
