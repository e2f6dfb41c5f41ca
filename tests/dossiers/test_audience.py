"""The audience decides what a dossier holds; clearance decides who may open it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Case, Organization, User
from monitor.services import cases, people
from tests.support.accounts import client_for, login, make_user
from tests.support.dossiers import Pdf, dossier, render_queued, request_via_web

SECRET = "Secret Witness"
HIDDEN = "Hidden Organiser"


@pytest.fixture
def cnrp_with_secrets(demo: dict[str, str]) -> Organization:
    """The CNRP demo plus one restricted and one confidential member case."""
    cnrp = db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).one()
    for name, level in ((HIDDEN, "restricted"), (SECRET, "confidential")):
        person = people.create_person("test", people.PersonInput(name=name, name_native="សម្ងាត់"))
        people.add_membership("test", person, cnrp, "Member of Parliament")
        cases.create_case(
            "test",
            person,
            cases.CaseInput(country="KH", title=f"{name}: in hiding", confidentiality=level),
            cases.StatusInput(status="disappeared", occurred_on=PartialDate.parse("2019-05")),
        )
    db.session.commit()
    return cnrp


def _text(app: Flask, client: FlaskClient, read_pdf: type[Pdf], **fields: str) -> str:
    page = "/cases"
    public_id = request_via_web(client, page, **fields)
    assert render_queued(app, public_id) == "ready"
    return read_pdf(client.get(f"/dossiers/{public_id}/pdf").data).words


@pytest.mark.parametrize(
    ("audience", "shown", "left_out"),
    [
        ("public", [], [HIDDEN, SECRET]),
        ("restricted", [HIDDEN], [SECRET]),
        ("confidential", [HIDDEN, SECRET], []),
    ],
)
def test_cases_above_the_audience_never_appear(
    *,
    app: Flask,
    admin_client: FlaskClient,
    cnrp_with_secrets: Organization,
    read_pdf: type[Pdf],
    audience: str,
    shown: list[str],
    left_out: list[str],
) -> None:
    org_id = cnrp_with_secrets.public_id
    for fields in (
        {"kind": "organization", "organization_id": org_id},
        {"kind": "selection", "organization": org_id},
    ):
        text = _text(app, admin_client, read_pdf, audience=audience, **fields)
        for name in shown:
            assert name in text, (fields, name)
        for name in left_out:
            assert name not in text, (fields, name)
        assert audience.upper() in text
        assert f"disappeared {len(shown)}" in text  # the counts leave them out too
        assert ("in hiding" in text) == bool(shown)


def test_a_case_above_the_audience_cannot_be_the_subject(
    app: Flask, admin_client: FlaskClient, cnrp_with_secrets: Organization
) -> None:
    secret_case = db.session.scalars(
        select(Case).where(Case.confidentiality == "confidential")
    ).one()
    page = f"/cases/{secret_case.public_id}"
    from tests.support.web import csrf_token

    response = admin_client.post(
        "/dossiers",
        data={
            "csrf_token": csrf_token(admin_client, page),
            "next": page,
            "kind": "case",
            "case_id": secret_case.public_id,
            "audience": "public",
        },
        follow_redirects=True,
    )
    assert "this case is confidential: choose that audience or higher" in response.get_data(
        as_text=True
    )


def test_audience_above_clearance_is_refused(
    app: Flask, viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = f"/cases/{demo['Kem Sokha']}"
    from tests.support.web import csrf_token

    before = viewer_client.get(page).get_data(as_text=True)
    assert 'name="audience" value="public"' in before  # the only level a public viewer has
    response = viewer_client.post(
        "/dossiers",
        data={
            "csrf_token": csrf_token(viewer_client, page),
            "next": page,
            "kind": "case",
            "case_id": demo["Kem Sokha"],
            "audience": "restricted",
        },
        follow_redirects=True,
    )
    assert "restricted is above your clearance (public)" in response.get_data(as_text=True)


def _confidential_dossier(app: Flask, demo: dict[str, str]) -> tuple[str, FlaskClient]:
    owner = client_for(app, "editor", "confidential")
    page = f"/cases/{demo['Kem Sokha']}"
    public_id = request_via_web(
        owner, page, kind="case", case_id=demo["Kem Sokha"], audience="confidential"
    )
    assert render_queued(app, public_id) == "ready"
    return public_id, owner


@pytest.mark.parametrize(
    ("role", "clearance"),
    [
        ("viewer", "public"),
        ("viewer", "restricted"),
        ("viewer", "confidential"),
        ("admin", "restricted"),
    ],
)
def test_others_cannot_open_a_dossier_by_its_id(
    app: Flask, demo: dict[str, str], role: str, clearance: str
) -> None:
    public_id, owner = _confidential_dossier(app, demo)
    assert owner.get(f"/dossiers/{public_id}/pdf").status_code == 200
    other = client_for(app, role, clearance)
    for path in (f"/dossiers/{public_id}", f"/dossiers/{public_id}/pdf"):
        assert other.get(path).status_code == 404  # the same as an unknown id
    assert other.get("/dossiers/no-such-id").status_code == 404
    assert public_id not in other.get("/dossiers").get_data(as_text=True)


def test_an_admin_cleared_for_the_audience_may_open_it(app: Flask, demo: dict[str, str]) -> None:
    public_id, _ = _confidential_dossier(app, demo)
    admin = client_for(app, "admin", "confidential")
    assert admin.get(f"/dossiers/{public_id}/pdf").status_code == 200


def test_a_lowered_clearance_locks_the_requesters_own_dossier(
    app: Flask, demo: dict[str, str]
) -> None:
    public_id, owner = _confidential_dossier(app, demo)
    user = db.session.scalars(select(User).where(User.email == "editor.confidential@example.org"))
    changed = user.one()
    changed.clearance = "public"
    db.session.commit()
    assert owner.get(f"/dossiers/{public_id}/pdf").status_code == 404


def test_a_render_after_the_requester_lost_clearance_fails_with_the_reason(
    app: Flask, demo: dict[str, str]
) -> None:
    owner = client_for(app, "editor", "restricted")
    public_id = request_via_web(owner, "/cases", kind="selection", audience="restricted")
    user = db.session.scalars(select(User).where(User.email == "editor.restricted@example.org"))
    changed: Any = user.one()
    changed.clearance = "public"
    db.session.commit()
    assert render_queued(app, public_id) == "failed"
    assert dossier(public_id).error == "the requester is no longer cleared for this audience"
    assert dossier(public_id).pdf is None


def test_anonymous_visitors_are_sent_to_log_in(app: Flask, demo: dict[str, str]) -> None:
    public_id, _ = _confidential_dossier(app, demo)
    anonymous = app.test_client()
    for path in ("/dossiers", f"/dossiers/{public_id}", f"/dossiers/{public_id}/pdf"):
        response = anonymous.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert anonymous.post("/dossiers", data={"kind": "case"}).status_code in {302, 400}


def test_a_viewer_may_ask_for_a_public_dossier(
    app: Flask, demo: dict[str, str], read_pdf: type[Pdf]
) -> None:
    make_user("viewer", "public", email="reader@example.org")
    client = app.test_client()
    login(client, "reader@example.org")
    text = _text(app, client, read_pdf, kind="case", case_id=demo["Mu Sochua"])
    assert "Mu Sochua" in text
    assert "fled since October 2017" in text
    assert "unknown location" in text
