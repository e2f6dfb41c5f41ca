"""JSON API v1 over the same services as the web UI."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Importing the modules registers their routes, hooks and error handlers on ``bp``.
from monitor.api import (  # noqa: E402 - they need ``bp`` defined first
    auth,
    bulk,
    cases,
    dossiers,
    errors,
    openapi,
    organizations,
    people,
    popolo_imports,
    proceedings,
    sources,
    subscriptions,
)

__all__ = [
    "auth",
    "bp",
    "bulk",
    "cases",
    "dossiers",
    "errors",
    "openapi",
    "organizations",
    "people",
    "popolo_imports",
    "proceedings",
    "sources",
    "subscriptions",
]
