"""A dossier's life as a row: queued after commit, claimed once, ready or failed, reused,
expired."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from monitor import jobs
from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.jobs import celery_client
from monitor.models import Case, Dossier, User
from monitor.models.base import utcnow
from monitor.services import ValidationError, cases, dossiers
from tests.support.dossiers import Pdf, audit_entries, dossier, render_queued, request_via_web
from tests.support.web import csrf_token


def queued_renders(app: Flask) -> list[str]:
    """Drain the broker's default queue; the dossier ids of the render tasks found in it."""
    found = []
    with celery_client().connection_for_write() as conn, conn.SimpleQueue("celery") as queue:
        while True:
            try:
                message = queue.get(timeout=1)
            except queue.Empty:
                return found
            message.ack()
            if message.headers.get("task") == jobs.TaskName.DOSSIERS_RENDER:
                args, _kwargs, _embed = message.decode()
                found.append(args[0])


def _request(user: User, **fields: Any) -> Dossier:
    return dossiers.request_dossier(user, dossiers.DossierRequest(**fields), _settings())


def _settings() -> Any:
    from flask import current_app

    return current_app.config["SETTINGS"]


def _user(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


def test_the_render_is_queued_only_once_the_request_commits(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    queued_renders(app)  # start from an empty queue
    editor = _user("editor.confidential@example.org")
    dropped = _request(editor, kind="case", case_id=demo["Kem Sokha"]).public_id
    db.session.rollback()
    kept = _request(editor, kind="case", case_id=demo["Kem Sokha"]).public_id
    assert queued_renders(app) == []  # not before the commit
    db.session.commit()
    assert queued_renders(app) == [kept]
    assert db.session.scalars(select(Dossier).where(Dossier.public_id == dropped)).first() is None


def test_only_one_worker_renders_a_dossier(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    public_id = request_via_web(editor_client, "/cases", kind="case", case_id=demo["Kem Sokha"])
    assert render_queued(app, public_id) == "ready"
    assert render_queued(app, public_id) == "skipped"  # a duplicate message finds it done
    row = dossier(public_id)
    assert row.attempts == 1
    assert len(audit_entries("dossier.ready", public_id)) == 1


def test_the_page_follows_progress_without_scripts(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    public_id = request_via_web(editor_client, "/cases", kind="case", case_id=demo["Kem Sokha"])
    page = editor_client.get(f"/dossiers/{public_id}")
    html = page.get_data(as_text=True)
    # No meta refresh (it reloads the page under a screen reader): a script of our own follows
    # the progress, and without it the Refresh link does (tests/e2e/test_phone_progress.py).
    assert "http-equiv" not in html
    assert 'data-progress-every="2"' in html
    assert '<script src="/static/js/progress.js" defer></script>' in html
    assert f'id="refresh" href="/dossiers/{public_id}"' in html
    assert 'id="dossier-state" class="dossier-state-queued">queued<' in html
    assert " style=" not in html
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")

    dossiers.claim(public_id)
    dossiers.set_progress(public_id, 30)
    db.session.commit()
    html = editor_client.get(f"/dossiers/{public_id}").get_data(as_text=True)
    assert 'id="dossier-progress">30 %' in html
    db.session.execute(update(Dossier).where(Dossier.public_id == public_id).values(state="queued"))
    db.session.commit()

    render_queued(app, public_id)
    html = editor_client.get(f"/dossiers/{public_id}").get_data(as_text=True)
    assert "data-progress-every" not in html
    assert "<script" not in html
    assert f'href="/dossiers/{public_id}/pdf"' in html
    assert re.search(r'id="dossier-sha256"[^>]*>[0-9a-f]{64}<', html)
    listing = editor_client.get("/dossiers").get_data(as_text=True)
    assert f'href="/dossiers/{public_id}"' in listing
    assert "ready" in listing


def test_a_failed_dossier_says_why(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    public_id = request_via_web(editor_client, "/cases", kind="case", case_id=demo["Kem Sokha"])
    case = db.session.scalars(select(Case).where(Case.public_id == demo["Kem Sokha"])).one()
    case.confidentiality = "confidential"  # raised above the dossier's public audience
    db.session.commit()
    assert render_queued(app, public_id) == "failed"
    html = editor_client.get(f"/dossiers/{public_id}").get_data(as_text=True)
    assert "the case no longer exists or is above this dossier&#39;s audience" in html
    assert "http-equiv" not in html
    assert editor_client.get(f"/dossiers/{public_id}/pdf").status_code == 302  # nothing to get
    assert audit_entries("dossier.fail", public_id)


def test_an_unchanged_request_reuses_the_pdf_and_a_change_renders_anew(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    fields = {"kind": "case", "case_id": demo["Kem Sokha"]}
    first = request_via_web(editor_client, "/cases", **fields)
    render_queued(app, first)
    second = request_via_web(editor_client, "/cases", **fields)
    render_queued(app, second)
    a, b = dossier(first), dossier(second)
    assert b.sha256 == a.sha256
    assert b.pdf == a.pdf
    assert b.snapshot_at == a.snapshot_at
    [ready] = audit_entries("dossier.ready", second)
    assert ready.after is not None
    assert ready.after["reused_from"] == first

    case = db.session.scalars(select(Case).where(Case.public_id == demo["Kem Sokha"])).one()
    cases.record_status(
        "test",
        case,
        cases.StatusInput(status="at_liberty", occurred_on=PartialDate.parse("2023-03")),
    )
    db.session.commit()
    third = request_via_web(editor_client, "/cases", **fields)
    render_queued(app, third)
    c = dossier(third)
    assert c.content_key != a.content_key
    assert c.sha256 != a.sha256
    [ready] = audit_entries("dossier.ready", third)
    assert ready.after is not None
    assert ready.after["reused_from"] is None


def test_expired_dossiers_are_deleted_by_the_sweep(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    old = request_via_web(editor_client, "/cases", kind="case", case_id=demo["Kem Sokha"])
    fresh = request_via_web(editor_client, "/cases", kind="case", case_id=demo["Mu Sochua"])
    render_queued(app, old)
    render_queued(app, fresh)
    old_sha = dossier(old).sha256
    row = dossier(fresh)
    assert row.expires_at is not None
    assert row.finished_at is not None
    assert row.expires_at - row.finished_at == dt.timedelta(hours=72)  # MONITOR_DOSSIER_TTL_HOURS
    db.session.execute(update(Dossier).where(Dossier.public_id == old).values(expires_at=utcnow()))
    db.session.commit()
    assert dossiers.expire() == 1
    db.session.commit()
    assert db.session.scalars(select(Dossier.public_id)).all() == [fresh]
    assert editor_client.get(f"/dossiers/{old}").status_code == 404
    [entry] = audit_entries("dossier.expire", old)
    assert entry.after == {"sha256": old_sha}


def test_stuck_renders_are_requeued_then_given_up(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    public_id = request_via_web(editor_client, "/cases", kind="case", case_id=demo["Kem Sokha"])
    queued_renders(app)
    settings = _settings()
    limit = dt.timedelta(seconds=settings.dossier_render_seconds)

    claimed = dossiers.claim(public_id)  # a worker takes it …
    db.session.commit()
    assert claimed is not None
    attempt = claimed.attempts
    assert dossiers.requeue_stuck(settings).requeued == []  # … and is still within its time
    db.session.commit()
    result = dossiers.requeue_stuck(settings, now=utcnow() + 3 * limit)  # … then never returns
    db.session.commit()
    assert result.requeued == [public_id]
    assert dossier(public_id).state == "queued"
    assert queued_renders(app) == [public_id]
    # The worker presumed dead wakes up: its late result is refused.
    late = _snapshot(public_id)
    assert not dossiers.store(
        public_id,
        attempt,
        pdf=b"%PDF-late",
        sha256="0" * 64,
        pages=1,
        snapshot=late,
        settings=settings,
    )
    db.session.rollback()

    for _ in range(dossiers.MAX_ATTEMPTS - 1):
        assert dossiers.claim(public_id) is not None
        db.session.commit()
        dossiers.requeue_stuck(settings, now=utcnow() + 3 * limit)
        db.session.commit()
    row = dossier(public_id)
    assert row.state == "failed"
    assert row.error == "gave up after 3 attempts: the render never finished"
    assert audit_entries("dossier.fail", public_id)[0].actor == "beat"


def _snapshot(public_id: str) -> dossiers.Snapshot:
    db.session.commit()  # a snapshot starts a fresh transaction
    snap = dossiers.take_snapshot(public_id, _settings())
    db.session.commit()
    return snap


def test_queued_dossiers_the_broker_lost_are_sent_again(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    public_id = request_via_web(editor_client, "/cases", kind="case", case_id=demo["Kem Sokha"])
    queued_renders(app)  # the message is lost
    assert dossiers.requeue_stuck(_settings()).resent == []  # only just queued
    db.session.rollback()
    result = dossiers.requeue_stuck(_settings(), now=utcnow() + dt.timedelta(minutes=5))
    db.session.commit()
    assert result.resent == [public_id]
    assert queued_renders(app) == [public_id]


def test_the_case_list_button_keeps_the_current_filters(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    html = editor_client.get("/cases?status=fled&sort=-name&page=1").get_data(as_text=True)
    form = html[html.index('class="inline-form dossier-request"') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="status" value="fled">' in form
    assert '<input type="hidden" name="sort" value="-name">' in form
    assert 'name="page"' not in form
    public_id = request_via_web(
        editor_client, "/cases?status=fled", kind="selection", status="fled"
    )
    assert dossier(public_id).scope == {"filters": {"status": "fled"}}
    assert dossier(public_id).title == "Selection of 1 case — dossier"
    render_queued(app, public_id)
    text = read_pdf(editor_client.get(f"/dossiers/{public_id}/pdf").data).words
    assert "Mu Sochua" in text
    assert "Mao Monyvann" not in text
    assert "Treason" not in text
    assert "Cases of the case list: custody status fled" in text


def test_the_dossier_buttons_are_on_the_case_and_organization_pages(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_page = viewer_client.get(f"/cases/{demo['Kem Sokha']}").get_data(as_text=True)
    assert f'<input type="hidden" name="case_id" value="{demo["Kem Sokha"]}">' in case_page
    assert 'action="/dossiers"' in case_page
    assert "Dossier (PDF)" in case_page
    org = re.search(r'href="/organizations/([^"]+)"', case_page)
    assert org
    org_page = viewer_client.get(f"/organizations/{org.group(1)}").get_data(as_text=True)
    assert f'name="organization_id" value="{org.group(1)}"' in org_page
    assert 'href="/dossiers"' in org_page  # "My dossiers" in the navigation


def test_requests_are_validated(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    viewer = _user("viewer.public@example.org")
    settings = _settings()

    def errors(**fields: Any) -> dict[str, str]:
        with pytest.raises(ValidationError) as caught:
            dossiers.request_dossier(viewer, dossiers.DossierRequest(**fields), settings)
        db.session.rollback()
        return caught.value.errors

    assert errors(kind="report") == {"kind": "must be one of: case, organization, selection"}
    assert errors(kind="case", case_id="nope") == {"case_id": "no such case"}
    assert errors(kind="organization") == {"organization_id": "no such organization"}
    assert errors(kind="selection", filters={"status": "asleep"}) == {
        "filters.status": "unknown custody status"
    }
    assert errors(kind="selection", filters={"q": "nobody-by-this-name"}) == {
        "filters": "no case matches these filters at this audience"
    }
    assert errors(kind="case", case_id=demo["Kem Sokha"], audience="secret") == {
        "audience": "must be one of: public, restricted, confidential"
    }
    small = dataclasses.replace(settings, dossier_max_cases=2)
    with pytest.raises(ValidationError) as caught:
        dossiers.request_dossier(viewer, dossiers.DossierRequest(kind="selection"), small)
    assert caught.value.errors == {"filters": "3 cases match; a dossier holds at most 2"}
    db.session.rollback()

    for _ in range(dossiers.MAX_ACTIVE_PER_USER):
        dossiers.request_dossier(
            viewer, dossiers.DossierRequest(kind="case", case_id=demo["Kem Sokha"]), settings
        )
    assert errors(kind="case", case_id=demo["Kem Sokha"]) == {
        "dossier": "you have 5 dossiers being prepared; wait for one to finish first"
    }


def test_a_refused_web_request_explains_and_returns(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = f"/cases/{demo['Kem Sokha']}"
    response = viewer_client.post(
        "/dossiers",
        data={
            "csrf_token": csrf_token(viewer_client, page),
            "next": page,
            "kind": "case",
            "case_id": "nope",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == page
    html = viewer_client.get(page).get_data(as_text=True)
    assert "No dossier was requested — case id: no such case" in html
    no_csrf = viewer_client.post("/dossiers", data={"kind": "case", "case_id": demo["Kem Sokha"]})
    assert no_csrf.status_code == 400
    assert db.session.scalars(select(Dossier)).all() == []
