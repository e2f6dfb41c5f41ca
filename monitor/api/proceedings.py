"""What happens to a case: custody status events and charges."""

from __future__ import annotations

from flask import Response, jsonify

from monitor import authz
from monitor.api import bp, serializers, shapes
from monitor.api.auth import api_user
from monitor.api.errors import parse_body
from monitor.api.openapi import operation
from monitor.api.schemas import ChargeCreate, ChargePatch, StatusEventCreate, provided
from monitor.api.writes import committed
from monitor.authz import Action
from monitor.services import cases, charges, sources


@bp.post("/cases/<case_id>/status-events")
@operation(
    "Record a custody status change",
    body=StatusEventCreate,
    response=shapes.RecordedStatusEvent,
    status=201,
)
@committed
def record_status_event(case_id: str) -> tuple[Response, int]:
    """Add a dated event to the case's history. It becomes the case's current status only if it
    is the latest by ``occurred_on``; a back-filled older event answers ``changed_current:
    false`` and leaves the status as it was."""
    user = api_user()
    case = authz.get_case(case_id, user, Action.WRITE)
    data = parse_body(StatusEventCreate)
    recorded = cases.record_status(
        user,
        case,
        cases.StatusInput(
            status=data.status.value,
            occurred_on=data.occurred_on,
            about=data.about,
            location=data.location,
            description=data.description,
            certainty=data.certainty.value,
            sources=sources.citable(user, data.source_ids),
        ),
    )
    return jsonify(serializers.recorded_status_event(recorded.event)), 201


@bp.post("/cases/<case_id>/charges")
@operation("Add a charge", body=ChargeCreate, response=shapes.Charge, status=201)
@committed
def add_charge(case_id: str) -> tuple[Response, int]:
    """Add a charge; the case's maximum exposure is recomputed from its open charges."""
    user = api_user()
    case = authz.get_case(case_id, user, Action.WRITE)
    data = parse_body(ChargeCreate)
    charge = charges.add_charge(
        user,
        case,
        charges.ChargeInput(
            offence=data.offence,
            max_sentence=data.max_sentence.to_sentence(),
            legal_basis=data.legal_basis,
            stage=data.stage.value,
            filed_on=data.filed_on,
            sentence_imposed=data.sentence_imposed.to_sentence() if data.sentence_imposed else None,
            sentenced_on=data.sentenced_on,
            in_absentia=data.in_absentia,
            sources=sources.citable(user, data.source_ids),
        ),
    )
    return jsonify(serializers.charge(charge)), 201


@bp.patch("/charges/<charge_id>")
@operation("Change a charge", body=ChargePatch, response=shapes.Charge)
@committed
def update_charge(charge_id: str) -> Response:
    """Move a charge to a new legal stage, record an imposed sentence, or correct it. Fields left
    out keep their value. A charge acquitted, dropped or pardoned no longer counts towards the
    case's maximum exposure."""
    user = api_user()
    charge = authz.get_charge(charge_id, user, Action.WRITE)
    changes = provided(parse_body(ChargePatch))  # offence, max_sentence, stage: never null
    max_sentence = changes.get("max_sentence")
    imposed = changes.get("sentence_imposed")
    in_absentia = changes.get("in_absentia")
    cited = (
        sources.citable(user, changes["source_ids"] or [])
        if "source_ids" in changes
        else list(charge.sources)
    )
    charges.update_charge(
        user,
        charge,
        charges.ChargeInput(
            offence=changes.get("offence", charge.offence),
            max_sentence=max_sentence.to_sentence() if max_sentence else charge.max_sentence,
            legal_basis=changes.get("legal_basis", charge.legal_basis),
            stage=changes.get("stage", charge.stage),
            filed_on=changes.get("filed_on", charge.filed),
            sentence_imposed=imposed.to_sentence()
            if imposed is not None
            else (None if "sentence_imposed" in changes else charge.sentence_imposed),
            sentenced_on=changes.get("sentenced_on", charge.sentenced_on),
            in_absentia=charge.in_absentia if in_absentia is None else in_absentia,
            sources=cited,
        ),
    )
    return jsonify(serializers.charge(charge))
