"""Generated requests for every API operation: whatever they hold, none gets a 5xx.

schemathesis reads the served OpenAPI document and generates, for each operation, requests that
match it and requests that do not (wrong types, missing fields, odd strings); the ids in paths are
real ones from the demo, so bodies reach the services instead of stopping at a 404. Derandomized
and capped so it runs in seconds in ``make test``.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from monitor.extensions import db
from monitor.models import Charge, Organization, Person, Source, StatusEvent
from tests.support.api import issue_token

# Per operation, half matching the document and half not; about 30 operations.
EXAMPLES_PER_OPERATION = 25


def _real_ids(demo: dict[str, str]) -> dict[str, str]:
    """A demo record for each kind of id a path takes."""
    first = {
        "person_id": db.session.scalars(db.select(Person.public_id)).first(),
        "organization_id": db.session.scalars(db.select(Organization.public_id)).first(),
        "charge_id": db.session.scalars(db.select(Charge.public_id)).first(),
        "source_id": db.session.scalars(db.select(Source.public_id)).first(),
        "event_id": db.session.scalars(db.select(StatusEvent.public_id)).first(),
    }
    return {"case_id": demo["Kem Sokha"], **{k: v for k, v in first.items() if v}}


def test_no_generated_request_gets_a_server_error(app: Flask, demo: dict[str, str]) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must answer 500, as in production
    token = issue_token("admin", "confidential")  # every operation is open to an admin
    headers = {"Authorization": f"Bearer {token}"}
    ids = _real_ids(demo)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The token is ours to send: negative data would otherwise drop it and only test the 401.
    schema.config.generation.update(with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    server_errors: list[str] = []
    sent = 0

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        path_ids = {name: ids[name] for name in names if name in ids} or None
        requests = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_ids),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_ids),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=requests)
        def send(case: Any) -> None:
            nonlocal sent
            response = case.call(headers=headers)
            sent += 1
            if response.status_code >= 500 and len(server_errors) < 20:
                server_errors.append(f"{response.status_code} {case.as_curl_command()}")

        send()

    assert not server_errors, "\n".join(server_errors)
    assert sent >= len(operations) * 5, sent
    print(f"{sent} generated requests over {len(operations)} operations")
