"""Health endpoints, open to anyone and never touching the session: liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from monitor.services import health

bp = Blueprint("health", __name__)


@bp.get("/livez")
def livez() -> Response:
    """Liveness: the process answers (no database, no broker); the benchmark's floor."""
    return Response("ok", mimetype="text/plain")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Each part's state; 200 while the register can serve (maybe degraded), 503 without the
    database."""
    state = health.check(current_app.config["SETTINGS"])
    status = 200 if state.serving else 503
    response = jsonify(state.report())
    if not state.serving:
        response.headers["Retry-After"] = str(health.RETRY_AFTER_SECONDS)
    return response, status
