"""The dashboard: counts by status, country and organization, a chart, the latest changes."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import client_for
from tests.support.web import open_case, status_count, text


def test_dashboard_counts_chart_and_latest_changes(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = text(viewer_client.get("/"))
    assert status_count(page, "jailed") == 1
    assert status_count(page, "fled") == 1
    assert status_count(page, "at_liberty") == 1
    assert status_count(page, "disappeared") == 0
    assert "<svg" in page
    assert "Cases by custody status" in page
    assert "Cambodia" in page  # per country
    assert "CNRP" in page  # per organization
    latest = page[page.index('id="latest"') :]
    for name in ["Kem Sokha", "Mu Sochua", "Mao Monyvann"]:
        assert name in latest
    assert "September 2017" in latest
    assert f"/cases/{demo['Kem Sokha']}" in latest


def test_dashboard_counts_only_cases_within_clearance(app: Flask, demo: dict[str, str]) -> None:
    open_case("Hidden Informant", status="jailed", level="confidential", country="MM")
    viewer = client_for(app, "viewer", "public")
    admin = client_for(app, "admin", "confidential")
    viewer_page = text(viewer.get("/"))
    admin_page = text(admin.get("/"))
    assert status_count(viewer_page, "jailed") == 1
    assert status_count(admin_page, "jailed") == 2
    assert "Myanmar" not in viewer_page
    assert "Hidden Informant" not in viewer_page
    assert "Myanmar" in admin_page
    assert "Hidden Informant" in admin_page


def test_empty_register_dashboard(viewer_client: FlaskClient) -> None:
    page = text(viewer_client.get("/"))
    assert "0 cases you may see" in page
    assert "Nothing recorded yet." in page
