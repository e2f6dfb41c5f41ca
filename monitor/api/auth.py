"""Bearer-token authentication: the API never looks at the session cookie."""

from __future__ import annotations

from flask import Response, current_app, g, request

from monitor.api import bp
from monitor.api.errors import error_response
from monitor.api.writes import commit_bookkeeping
from monitor.extensions import limiter
from monitor.models import User
from monitor.services import users

# Endpoints anyone may fetch without a token.
PUBLIC_ENDPOINTS = {"api.openapi"}
DEFAULT_RATE_LIMIT = "600 per minute"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _rate_limit() -> str:
    # Read per request, so a deployment (or a test) can tighten it in the app config.
    return str(current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT))


limiter.limit(_rate_limit)(bp)


def _unauthorized(message: str, error_code: str | None = None) -> Response:
    challenge = 'Bearer realm="case monitor"'
    if error_code:
        challenge += f', error="{error_code}"'
    return error_response(401, message, {"WWW-Authenticate": challenge})


@bp.before_request
def authenticate() -> Response | None:
    """Resolve ``Authorization: Bearer <token>`` to a user, or answer 401."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized("an API token is required: send 'Authorization: Bearer <token>'")
    user = users.user_for_token(token)
    if user is None:
        return _unauthorized("the API token is invalid or revoked", "invalid_token")
    g.api_user = user
    if request.method in _SAFE_METHODS:
        commit_bookkeeping()  # keep the token's "last used" time
    return None


def api_user() -> User:
    """The user whose token authenticated this request."""
    user: User = g.api_user
    return user


@bp.after_request
def _no_store(response: Response) -> Response:
    # Case data may be restricted; no shared cache should keep it.
    response.headers.setdefault("Cache-Control", "no-store")
    return response
