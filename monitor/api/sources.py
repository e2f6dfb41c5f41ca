"""``/api/v1/sources``: the published reports events and charges cite."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from monitor import authz
from monitor.api import bp, serializers, shapes
from monitor.api.auth import api_user
from monitor.api.errors import parse_body
from monitor.api.openapi import operation
from monitor.api.schemas import SourceCreate
from monitor.api.writes import committed
from monitor.authz import Action
from monitor.services import sources


@bp.get("/sources/<source_id>")
@operation("Read a source", response=shapes.Source)
def get_source(source_id: str) -> Response:
    """A source by id."""
    return jsonify(serializers.source(authz.get_source(source_id, api_user())))


@bp.post("/sources")
@operation("Add a source", body=SourceCreate, response=shapes.Source, status=201)
@committed
def create_source() -> tuple[Response, int, dict[str, str]]:
    """Add a published report; cite it by id in ``source_ids`` of events, charges and cases."""
    user = api_user()
    authz.require(user, Action.WRITE)
    data = parse_body(SourceCreate)
    item = sources.create_source(
        user,
        sources.SourceInput(
            title=data.title,
            publisher=data.publisher,
            url=data.url,
            published_on=data.published_on,
            quote=data.quote,
            accessed_on=data.accessed_on,
        ),
    )
    location = url_for("api.get_source", source_id=item.public_id)
    return jsonify(serializers.source(item)), 201, {"Location": location}
