"""Imports and exports as a user meets them: the web pages (upload, preview, confirm, progress),
the API, and a large import applied by a real Celery worker."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from monitor.extensions import db
from monitor.models import Case, Import, Organization
from tests.support.accounts import client_for
from tests.support.api import Api
from tests.support.imports import csv_bytes, fingerprint, mp
from tests.support.processes import celery_worker, log_text
from tests.support.waiting import wait_until
from tests.support.web import csrf_token


def post_file(browser: FlaskClient, data: bytes, name: str) -> TestResponse:
    """POST the upload form. The body is encoded in memory: the test client would spool a large
    one to a temporary file that nobody closes."""
    boundary, body = encode_multipart(
        {"csrf_token": csrf_token(browser, "/data"), "file": FileStorage(io.BytesIO(data), name)}
    )
    return browser.post(
        "/data/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def upload(browser: FlaskClient, data: bytes, name: str = "mps.csv") -> str:
    """Upload a file through the form; the import page's path."""
    response = post_file(browser, data, name)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def confirm(browser: FlaskClient, page: str) -> str:
    response = browser.post(f"{page}/confirm", data={"csrf_token": csrf_token(browser, page)})
    assert response.status_code == 302
    return browser.get(page).get_data(as_text=True)


def test_new_user_imports_ten_mps_after_fixing_two_typos(app: Flask, demo: dict[str, str]) -> None:
    editor = client_for(app, "editor")
    template = editor.get("/data/template.csv")
    assert template.status_code == 200
    assert template.headers["Content-Type"] == "text/csv; charset=utf-8"
    header = next(csv.reader(io.StringIO(template.get_data(as_text=True).lstrip("\ufeff"))))
    assert header[:3] == ["external_id", "name", "name_native"]

    rows = [mp(n) for n in range(1, 11)]
    rows[3]["charge_1_max_sentence"] = "2 yeras"  # row 5
    rows[8]["organization"] = "CNPR"  # row 10
    before = fingerprint()
    page = upload(editor, csv_bytes(rows))
    text = editor.get(page).get_data(as_text=True)
    assert "Nothing was imported" in text
    problems = re.findall(r"<tr><td>(\d+)</td><td>([a-z_0-9]+)</td>", text)
    assert problems == [("5", "charge_1_max_sentence"), ("10", "organization")]
    assert "&#39;CNPR&#39; is not an organization" in text
    assert fingerprint() == before

    rows[3]["charge_1_max_sentence"] = "2 years"
    rows[8]["organization"] = "CNRP"
    page = upload(editor, csv_bytes(rows))
    preview = editor.get(page).get_data(as_text=True)
    assert "<strong>10</strong> new cases, <strong>0</strong> to update, <strong>0</strong>" in (
        preview
    )
    assert fingerprint() == before  # the preview writes nothing to the register

    done = confirm(editor, page)

    assert "<strong>10</strong> new cases, <strong>0</strong> updated" in done
    assert "10 status events recorded" in done
    cnrp = db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()
    org_page = editor.get(f"/organizations/{cnrp.public_id}").get_data(as_text=True)
    for n in range(1, 11):
        assert f"Member {n}<" in org_page or f"Member {n} " in org_page
    # Confirming twice (a double click) does not import twice, nor spoil the finished import.
    again = editor.post(f"{page}/confirm", data={"csrf_token": csrf_token(editor, page)})
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Case)) == 13
    assert "is done, not waiting for confirmation" in editor.get(page).get_data(as_text=True)
    public_id = page.rsplit("/", 1)[-1]
    assert db.session.scalars(select(Import.state).where(Import.public_id == public_id)).one() == (
        "done"
    )


def test_upload_escapes_what_the_file_says(app: Flask, demo: dict[str, str]) -> None:
    editor = client_for(app, "editor")
    page = upload(editor, csv_bytes([mp(1, name="<script>alert(1)</script>")]))
    text = editor.get(page).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_a_file_over_the_limit_is_refused_with_413(app: Flask, demo: dict[str, str]) -> None:
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], import_max_bytes=1000)
    editor = client_for(app, "editor")
    before = fingerprint()
    response = post_file(editor, csv_bytes([mp(n) for n in range(1, 30)]), "big.csv")
    assert response.status_code == 413
    assert "larger than the limit of 1,000 bytes" in response.get_data(as_text=True)
    assert fingerprint() == before


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    app: Flask, demo: dict[str, str]
) -> None:
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], import_max_bytes=1000)
    editor = client_for(app, "editor")
    big = csv_bytes([mp(1, status_description="x" * 200_000)])
    response = post_file(editor, big, "big.csv")
    assert response.status_code == 413
    assert "larger than the limit of 1,000 bytes" in response.get_data(as_text=True)


def test_files_up_to_the_import_limit_pass_the_app_wide_body_limit(
    app: Flask, demo: dict[str, str]
) -> None:
    """MAX_CONTENT_LENGTH (2 MB) guards every other form; an import may be larger."""
    assert app.config["MAX_CONTENT_LENGTH"] < 3_000_000 < app.config["SETTINGS"].import_max_bytes
    editor = client_for(app, "editor")
    rows = [mp(n, status_description="x" * 100_000) for n in range(1, 31)]  # 3 MB
    page = upload(editor, csv_bytes(rows))
    text = editor.get(page).get_data(as_text=True)
    # Checked (each description is too long), not refused for its size.
    assert text.count("<td>status_description</td><td>must be at most 20000 characters") == 30


def test_only_a_signed_in_user_may_send_a_body_over_the_app_wide_limit(
    app: Flask, demo: dict[str, str]
) -> None:
    """Anybody could otherwise make the server parse a form of MONITOR_IMPORT_MAX_BYTES."""
    big = csv_bytes([mp(n, status_description="x" * 100_000) for n in range(1, 31)])  # 3 MB
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(big), "big.csv")})
    anonymous = app.test_client()
    response = anonymous.post(
        "/data/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413
    editor = client_for(app, "editor")
    assert post_file(editor, big, "big.csv").status_code == 302


def test_viewers_export_but_cannot_import(app: Flask, demo: dict[str, str]) -> None:
    viewer = client_for(app, "viewer", "public")
    page = viewer.get("/data").get_data(as_text=True)
    assert "Cases (CSV)" in page
    assert "Check the file" not in page
    assert "Check the Popolo file" not in page
    exported = viewer.get("/data/cases.csv")
    assert exported.headers["Content-Disposition"].startswith('attachment; filename="cases-')
    assert "Kem Sokha" in exported.get_data(as_text=True)
    assert viewer.post("/data/imports", data={}).status_code in {400, 403}


def test_export_file_names_hold_only_safe_characters(app: Flask, demo: dict[str, str]) -> None:
    from monitor.services.people import OrganizationInput, create_organization

    org = create_organization(
        "test", OrganizationInput(name="Quote", short_name='a"; b\\ខ', kind="ngo")
    )
    db.session.commit()
    editor = client_for(app, "editor")
    response = editor.get(f"/data/cases.csv?organization={org.public_id}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9_.-]+\.csv"', disposition), disposition


def test_api_dry_run_import_problems_and_size_limit(
    app: Flask, demo: dict[str, str], editor_api: Api, viewer_api: Api
) -> None:
    data = csv_bytes([mp(1), mp(2)])
    before = fingerprint()

    dry = editor_api.post("/imports?dry_run=true", data=data, content_type="text/csv")
    assert dry.status_code == 200
    assert dry.json is not None
    assert dry.json["summary"] == {"rows": 2, "create": 2, "update": 0, "unchanged": 0}
    assert fingerprint() == before

    bad = editor_api.post("/imports", data=csv_bytes([mp(1), mp(2, status="gone")]))
    assert bad.status_code == 422
    assert bad.json is not None
    assert bad.json["errors"] == {"file": "has 1 problem; nothing was imported"}
    assert bad.json["problems"][0]["row"] == 3
    assert bad.json["problems"][0]["column"] == "status"
    assert fingerprint() == before

    done = editor_api.post("/imports", data=data)
    assert done.status_code == 201
    assert done.json is not None
    assert done.json["state"] == "done"
    assert editor_api.get(done.json["url"]).json["summary"]["create"] == 2  # type: ignore[index]

    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], import_max_bytes=100)
    large = editor_api.post("/imports", data=data)
    assert large.status_code == 413
    assert large.json == {"errors": {"file": "is larger than the limit of 100 bytes"}}

    assert viewer_api.post("/imports", data=data).status_code == 403
    exported = viewer_api.get("/exports/cases.csv")
    assert exported.mimetype == "text/csv"
    assert "CNRP-01" in exported.get_data(as_text=True)
    popolo = viewer_api.get("/exports/popolo.json").json
    assert popolo is not None
    assert "Kem Sokha" in {p["name"] for p in popolo["persons"]}


def test_a_large_import_runs_on_a_worker_with_progress(
    app: Flask, demo: dict[str, str], tmp_path: Path
) -> None:
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], import_inline_rows=5)
    editor = client_for(app, "editor")
    page = upload(editor, csv_bytes([mp(n) for n in range(1, 41)]))
    queued = confirm(editor, page)
    assert "Waiting for a worker" in queued
    assert 'data-progress-every="2"' in queued  # js/progress.js follows it, or the Refresh link
    assert db.session.scalar(select(func.count()).select_from(Case)) == 3  # nothing yet

    log = tmp_path / "worker.log"
    with celery_worker(app, log) as worker:

        def finished() -> str | None:
            assert worker.poll() is None, log_text(log)
            db.session.expire_all()
            state = db.session.scalars(select(Import.state)).one()
            return state if state in {"done", "failed"} else None

        state = wait_until(
            finished, 120, "the import to be done or failed", lambda: log_text(log), interval=0.5
        )
        assert state == "done", log_text(log)
    text = editor.get(page).get_data(as_text=True)
    assert "<strong>40</strong> new cases" in text
    assert "data-progress-every" not in text
    assert db.session.scalar(select(func.count()).select_from(Case)) == 43
