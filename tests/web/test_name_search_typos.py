"""Typo-tolerant name search: "sokah" finds Kem Sokha in the case list and the people list
(the API: tests/api/test_name_search.py), exact matches first, never above the clearance."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import client_for
from tests.support.web import open_case, text


def names_in(page: str) -> list[str]:
    """Person names in the order the case list shows them."""
    return re.findall(r'<span class="person-name">([^<]+)</span>', page)


def people_in(page: str) -> list[str]:
    """Names in the order the people list links them."""
    return re.findall(r'<a href="/people/[^"]+">([^<]+)</a>', page)


def test_a_misspelt_name_finds_kem_sokha_in_the_case_list(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = text(viewer_client.get("/cases?q=sokah"))
    assert names_in(page) == ["Kem Sokha"]
    assert f"/cases/{demo['Kem Sokha']}" in page
    assert "No name matches “<bdi>sokah</bdi>” exactly" in page  # the name keeps its direction
    assert names_in(text(viewer_client.get("/cases?q=kem+sokah"))) == ["Kem Sokha"]
    assert names_in(text(viewer_client.get("/cases?q=mochua"))) == ["Mu Sochua"]


def test_an_exact_match_shows_no_similar_names(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = text(viewer_client.get("/cases?q=sokha"))
    assert names_in(page) == ["Kem Sokha"]
    assert "similar names" not in page
    assert names_in(text(viewer_client.get("/cases?q=zzzzz"))) == []


def test_the_people_list_ranks_exact_matches_before_similar_names(
    app: Flask, editor_client: FlaskClient
) -> None:
    open_case("Kem Sokha")
    open_case("Sokah Chan")
    page = text(editor_client.get("/people?q=sokah"))
    assert people_in(page)[:2] == ["Sokah Chan", "Kem Sokha"]
    assert people_in(text(editor_client.get("/people?q=sokha"))) == ["Kem Sokha", "Sokah Chan"]


def test_a_similar_name_above_the_clearance_stays_hidden(app: Flask) -> None:
    open_case("Kem Sokha", level="confidential")
    viewer = client_for(app, "viewer", "public")
    assert names_in(text(viewer.get("/cases?q=sokah"))) == []
    assert "Kem Sokha" not in text(viewer.get("/people?q=sokah"))
    admin = client_for(app, "admin", "confidential")
    assert names_in(text(admin.get("/cases?q=sokah"))) == ["Kem Sokha"]
