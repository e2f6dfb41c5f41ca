"""A client generated from the served OpenAPI document (openapi-python-client) runs an import.

The client is generated into a temporary folder from the document the server answers, imported,
and pointed at the app served over real HTTP. It is strict: any status the document does not list
raises, and every documented answer is parsed into the document's models.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.support.api import issue_token
from tests.support.imports import csv_bytes, mp

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "monitor_client"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def generated_client(live_server: str, tmp_path: Path) -> Iterator[Any]:
    """The package openapi-python-client generates from the served document."""
    import httpx

    document = httpx.get(f"{live_server}/api/v1/openapi.json").json()
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    (tmp_path / "config.yml").write_text(
        f"project_name_override: monitor-client\npackage_name_override: {PACKAGE}\n"
        # The generator reads only JSON, text and octet-stream bodies; a PDF is bytes.
        "content_type_overrides:\n  application/pdf: application/octet-stream\n"
    )
    generated = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # What the generator could not read: only the raw text/csv body (the form upload is there).
    output = generated.stdout + generated.stderr
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    assert warnings == ["WARNING parsing POST /api/v1/imports within imports."], output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_generated_client_previews_then_runs_an_import(
    generated_client: Any, live_server: str, demo: dict[str, str]
) -> None:
    create_import = importlib.import_module(f"{PACKAGE}.api.imports.create_import")
    list_cases = importlib.import_module(f"{PACKAGE}.api.cases.list_cases")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    client = generated_client.AuthenticatedClient(
        base_url=live_server,
        token=issue_token("editor", "confidential"),
        raise_on_unexpected_status=True,
    )
    data = csv_bytes([mp(1), mp(2, name="Member Two", status="jailed")])

    def upload() -> Any:
        return models.CreateImportFilesBody(
            file=types.File(payload=io.BytesIO(data), file_name="cnrp.csv", mime_type="text/csv")
        )

    preview = create_import.sync_detailed(client=client, body=upload(), dry_run=True)
    assert preview.status_code == 200
    assert isinstance(preview.parsed, models.ImportStatus)
    assert preview.parsed.state == models.ImportStatusState.PREVIEWED
    assert preview.parsed.rows == 2
    before = list_cases.sync(client=client, q="Member")
    assert isinstance(before, models.CaseList)
    assert before.total == 0  # a dry run writes nothing

    done = create_import.sync_detailed(client=client, body=upload(), dry_run=False)
    assert done.status_code == 201
    assert isinstance(done.parsed, models.ImportStatus)
    assert done.parsed.state == models.ImportStatusState.DONE
    after = list_cases.sync(client=client, q="Member")
    assert isinstance(after, models.CaseList)
    statuses = {case.person.name: case.status for case in after.items}
    assert statuses == {
        "Member 1": models.CustodyStatus.FLED,
        "Member Two": models.CustodyStatus.JAILED,
    }

    # A documented refusal is parsed too: a file with a problem, by row and column.
    broken = csv_bytes([mp(3, status="missing")])
    refused = create_import.sync_detailed(
        client=client,
        body=models.CreateImportFilesBody(file=types.File(payload=io.BytesIO(broken))),
        dry_run=True,
    )
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.ImportRefused)
    [problem] = refused.parsed.problems
    assert (problem.row, problem.column) == (2, "status")
