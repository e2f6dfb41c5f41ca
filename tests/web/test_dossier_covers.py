"""A dossier's page and the dossier list link back to what the dossier covers, as far as the
reader may open it."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from monitor.extensions import db
from monitor.models import Case
from tests.support.accounts import client_for
from tests.support.dossiers import request_via_web
from tests.support.web import text


def _covers(html: str) -> str:
    found = re.search(r'<p class="dossier-covers">(.*?)</p>', html, re.DOTALL)
    assert found, "no Covers line"
    return found.group(1)


def test_a_case_dossier_links_to_its_case_and_person(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Kem Sokha"]
    public_id = request_via_web(
        editor_client, f"/cases/{case_id}", kind="case", case_id=case_id, audience="public"
    )
    page = editor_client.get(f"/dossiers/{public_id}").get_data(as_text=True)
    covers = _covers(page)
    assert f'<a href="/cases/{case_id}">Kem Sokha&#39;s case</a>' in covers
    person = re.search(r'<a href="/people/([^"]+)">Kem Sokha</a>', covers)
    assert person
    assert editor_client.get(f"/people/{person.group(1)}").status_code == 200
    listing = editor_client.get("/dossiers").get_data(as_text=True)
    assert f'<a href="/cases/{case_id}">Kem Sokha&#39;s case</a>' in listing


def test_an_organization_dossier_links_to_the_organization(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_page = editor_client.get(f"/cases/{demo['Kem Sokha']}").get_data(as_text=True)
    org = re.search(r'href="/organizations/([^"]+)"', case_page)
    assert org
    public_id = request_via_web(
        editor_client,
        f"/organizations/{org.group(1)}",
        kind="organization",
        organization_id=org.group(1),
        audience="public",
    )
    covers = _covers(editor_client.get(f"/dossiers/{public_id}").get_data(as_text=True))
    assert f'<a href="/organizations/{org.group(1)}">CNRP</a>' in covers


def test_a_selection_dossier_links_to_the_same_case_list(
    app: Flask, editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    public_id = request_via_web(
        editor_client, "/cases?status=fled", kind="selection", status="fled"
    )
    covers = _covers(editor_client.get(f"/dossiers/{public_id}").get_data(as_text=True))
    link = re.search(r'<a href="(/cases\?[^"]+)">', covers)
    assert link
    assert link.group(1) == "/cases?status=fled"
    listed = text(editor_client.get(link.group(1)))
    assert "Mu Sochua" in listed
    assert "Mao Monyvann" not in listed


def test_no_link_to_a_case_the_reader_may_no_longer_see(app: Flask, demo: dict[str, str]) -> None:
    editor = client_for(app, "editor", "restricted")
    case_id = demo["Kem Sokha"]
    public_id = request_via_web(
        editor, f"/cases/{case_id}", kind="case", case_id=case_id, audience="public"
    )
    # Made confidential after the request: the dossier stays the requester's, the case does not.
    db.session.execute(
        update(Case).where(Case.public_id == case_id).values(confidentiality="confidential")
    )
    db.session.commit()
    page = editor.get(f"/dossiers/{public_id}").get_data(as_text=True)
    assert f"/cases/{case_id}" not in page
    assert 'href="/people/' not in page
    assert 'class="dossier-covers"' not in page
    assert editor.get(f"/cases/{case_id}").status_code == 404
    listing = editor.get("/dossiers").get_data(as_text=True)
    assert f"/cases/{case_id}" not in listing
