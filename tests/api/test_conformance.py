"""The OpenAPI document is the truth: schemathesis's conformance checks over every operation.

For each operation schemathesis derives requests from the served document (its coverage phase:
boundaries, missing and null fields, each constraint broken in turn; then derandomized fuzzing)
and checks every answer: its status is documented, its content type and body match the document,
a request the document calls valid is not refused (no 422), and one it calls invalid is not
accepted. The requests carry an editor's token (cleared for everything) and real ids in paths.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import itertools
import time
from collections.abc import Iterator
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from monitor.extensions import db
from monitor.models import Charge, Dossier, Organization, Person, Source, StatusEvent
from monitor.services import users
from tests.support.api import Api, issue_token
from tests.support.imports import csv_bytes, mp

CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
# Generated requests per operation after the coverage phase's own (half valid, half not).
EXAMPLES_PER_OPERATION = 20
EDITOR_EMAIL = "api.editor.confidential@example.org"  # issue_token's address for this editor
TODAY = dt.datetime.now(dt.UTC).date().isoformat()
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _first(model: Any) -> str:
    found: str | None = db.session.scalars(db.select(model.public_id)).first()
    assert found is not None
    return found


def _dossier(token: str, case_id: str, state: str) -> str:
    """A dossier of the token's user, ready (with a PDF) or still queued."""
    user = users.user_for_token(token)
    ready = state == "ready"
    dossier = Dossier(
        requested_by=user,
        kind="case",
        scope={"case_id": case_id},
        title="Kem Sokha — case dossier",
        audience="public",
        state=state,
        progress=100 if ready else 0,
        pdf=PDF if ready else None,
        sha256=hashlib.sha256(PDF).hexdigest() if ready else None,
        pages=1 if ready else None,
        size=len(PDF) if ready else None,
    )
    db.session.add(dossier)
    db.session.commit()
    return dossier.public_id


def _real_ids(app: Flask, demo: dict[str, str], token: str) -> dict[str, str]:
    """A record for each kind of id a path or a body names, visible to the editor."""
    api = Api(app.test_client(), token)
    imported = api.post("/imports", data=csv_bytes([mp(99)]), content_type="text/csv")
    subscribed = api.post("/subscriptions", {"email": "reader@example.org"})
    assert imported.status_code == 201, imported.get_json()
    assert subscribed.status_code == 201, subscribed.get_json()
    return {
        "case_id": demo["Kem Sokha"],
        "person_id": _first(Person),
        "organization_id": _first(Organization),
        "charge_id": _first(Charge),
        "source_id": _first(Source),
        "event_id": _first(StatusEvent),
        "dossier_id": _dossier(token, demo["Kem Sokha"], "ready"),
        "import_id": imported.get_json()["id"],
        "subscription_id": subscribed.get_json()["id"],
    }


# One person with an identifier: the first import adds them, every later one matches them.
POPOLO_FILE = {
    "persons": [
        {
            "id": "p1",
            "name": "Conformance Tester",
            "identifiers": [{"scheme": "wikidata", "identifier": "Q999999991"}],
        }
    ],
    "organizations": [],
    "memberships": [],
}


def _realistic(case: Any, ids: dict[str, str], csv_files: Iterator[bytes]) -> None:
    """Bring a request the document calls valid within the rules no JSON schema can state
    (each is in the document's descriptions, and refused with 422): ids name records that
    exist, a status date is not in the future, a case closes after it opened, a sentence is
    imposed on a conviction, a dossier's audience covers its case, a selection matches cases,
    an import file is a real CSV (its decisions a JSON object), a Popolo file a real one with its
    probable matches decided."""
    if case.operation.path.endswith("/imports/popolo"):
        case.body = {"popolo": POPOLO_FILE, "decisions": {}}
        return
    if case.operation.path.endswith("/imports"):
        text = next(csv_files).decode()
        case.body = text if case.media_type == "text/csv" else {"file": text}
        if case.query and "decisions" in case.query:
            case.query["decisions"] = "{}"  # a JSON object, as the parameter's description says
        return
    body = case.body
    if not isinstance(body, dict):
        return
    _known_records(body, ids)
    for field in ("status_since", "occurred_on"):
        if isinstance(body.get(field), str) and body[field] > TODAY:
            body[field] = "2017-09"
    if body.get("closed_on") is not None:
        if body.get("opened_on") is None:
            body["opened_on"] = None  # no opening date to close before
        elif body["closed_on"] < body["opened_on"]:
            body["opened_on"], body["closed_on"] = body["closed_on"], body["opened_on"]
    if body.get("sentence_imposed") is not None and "max_sentence" in body:
        body["stage"] = "convicted"
    if body.get("kind") == "selection":
        body["filters"] = {}
    if body.get("kind") == "case":
        body["audience"] = "confidential"  # at least the case's own level
    _unheld(case, body)
    case.body = body


_FRESH = itertools.count()


def _unheld(case: Any, body: dict[str, Any]) -> None:
    """An identifier and an external id no one holds yet, a role the person does not hold yet,
    and a membership that ends after it starts (each refused with 422, as the document says)."""
    for item in body.get("identifiers") or []:
        if isinstance(item, dict) and "identifier" in item:
            item["identifier"] = f"id-{next(_FRESH)}"
    if isinstance(body.get("external_id"), str):
        body["external_id"] = f"ext-{next(_FRESH)}"  # one case per external id
    if case.operation.path.endswith("/memberships"):
        body["role"] = f"role {next(_FRESH)}"
        if body.get("start") and body.get("end") and body["end"] < body["start"]:
            body["start"], body["end"] = body["end"], body["start"]


def _known_records(body: dict[str, Any], ids: dict[str, str]) -> None:
    for field in ("person_id", "organization_id", "case_id"):
        if body.get(field) is not None:
            body[field] = ids[field]
    if body.get("source_ids"):
        body["source_ids"] = [ids["source_id"]] * len(body["source_ids"])
    if body.get("scope") in {"organization", "case"}:
        body["scope_id"] = ids[f"{body['scope']}_id"]
    if body.get("scope") == "case":
        body["email"] = EDITOR_EMAIL  # another address hears about public cases only


class Conformance:
    """Sends cases with the editor's token and keeps what failed, by operation and check."""

    def __init__(self, headers: dict[str, str], ids: dict[str, str]) -> None:
        self.headers = headers
        self.ids = ids
        self.csv_files = (csv_bytes([mp(n % 50)]) for n in itertools.count())
        self.failures: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
        self.statuses: dict[str, collections.Counter[int]] = collections.defaultdict(
            collections.Counter
        )
        self.sent = 0

    def run(self, case: Any) -> None:
        """Send one case and run the checks on its answer."""
        if case.meta is not None and case.meta.generation.mode.is_positive:
            _realistic(case, self.ids, self.csv_files)
        response = case.call(headers=self.headers)
        self.sent += 1
        self.statuses[case.operation.label][response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=self.headers)
        except (FailureGroup, Failure) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            for failure in found:
                self.failures[(case.operation.label, failure.title)].append(
                    f"{case.as_curl_command(headers=self.headers)[:600]}\n"
                    f"  -> {response.status_code} {response.text[:300]}"
                )

    def report(self) -> str:
        """Each kind of failure, how often, and its first example."""
        return "\n".join(
            f"{len(examples)} × {operation}: {title}\n{examples[0]}"
            for (operation, title), examples in sorted(self.failures.items())
        )


def test_every_operation_conforms_to_the_document(app: Flask, demo: dict[str, str]) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must answer 500, as in production
    token = issue_token("editor", "confidential")
    ids = _real_ids(app, demo, token)
    conformance = Conformance({"Authorization": f"Bearer {token}"}, ids)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The token is ours to send: negative data would otherwise drop it and only test the 401.
    schema.config.generation.update(with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    started = time.monotonic()

    for operation in operations:
        path_ids = {p.name: ids[p.name] for p in operation.path_parameters}
        coverage = CoverageGenerator(
            operation=operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
            auth_storage=None,
            override=Override(path_parameters=path_ids),
            feedback=FeedbackSources(),
        )
        for case in coverage:
            conformance.run(case)
        requests = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_ids or None),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_ids or None),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=requests)
        def fuzz(case: Any) -> None:
            conformance.run(case)

        fuzz()

    elapsed = time.monotonic() - started
    print(f"{conformance.sent} requests over {len(operations)} operations in {elapsed:.0f} s")
    assert not conformance.failures, conformance.report()
    assert len(operations) == len(conformance.statuses) >= 29
    # Each operation was reached with requests it accepted, not only refused.
    never_accepted = [
        operation
        for operation, statuses in conformance.statuses.items()
        if not any(200 <= status < 300 for status in statuses)
    ]
    assert not never_accepted, {op: conformance.statuses[op] for op in never_accepted}


def test_a_dossier_not_ready_answers_a_documented_409(app: Flask, demo: dict[str, str]) -> None:
    token = issue_token("editor", "confidential")
    queued = _dossier(token, demo["Kem Sokha"], "queued")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    download = schema["/api/v1/dossiers/{dossier_id}/pdf"]["GET"]
    case = download.Case(path_parameters={"dossier_id": queued})
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409
    assert response.json() == {"error": "the dossier is queued, not ready"}
    case.validate_response(response, checks=CHECKS[:3])
