"""A page past the last one (an old link, an edited address) opens the last page instead of an
empty list that links pages that do not exist; an organization's members come a page at a time.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.services.cases import CaseInput, StatusInput, create_case
from monitor.services.people import (
    OrganizationInput,
    PersonInput,
    add_membership,
    create_organization,
    create_person,
)
from tests.support.web import text


def test_a_case_list_page_past_the_last_redirects_to_the_last(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    response = viewer_client.get("/cases", query_string={"page": 99, "country": "KH"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/cases?country=KH"
    page = text(viewer_client.get(response.headers["Location"]))
    assert "No cases match" not in page


def test_a_people_page_past_the_last_redirects_to_the_last(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    response = viewer_client.get("/people", query_string={"page": 50})

    assert response.status_code == 302
    assert response.headers["Location"] == "/people?page=1"


def test_an_organization_lists_its_members_a_page_at_a_time(
    app: Flask, viewer_client: FlaskClient
) -> None:
    org = create_organization("test", OrganizationInput(name="Big Party", kind="political_party"))
    for i in range(55):
        person = create_person("test", PersonInput(name=f"Member {i:02d}"))
        add_membership("test", person, org, "member")
        if i < 3:
            create_case(
                "test",
                person,
                CaseInput(country="KH", title=f"Case {i}"),
                StatusInput(status="jailed", occurred_on=PartialDate.parse("2020-01")),
            )
    db.session.commit()

    first = text(viewer_client.get(f"/organizations/{org.public_id}"))
    second = text(viewer_client.get(f"/organizations/{org.public_id}", query_string={"page": 2}))

    assert "Member 00" in first
    assert "Member 49" in first
    assert "Member 50" not in first
    assert "Member 50" in second
    assert "Member 54" in second
    assert "Member 49" not in second
    # The summary counts every member's cases, on every page.
    assert "3 cases" in first
    assert "3 cases" in second
    assert "Next" in first
    past = viewer_client.get(f"/organizations/{org.public_id}", query_string={"page": 9})
    assert past.status_code == 302
    assert past.headers["Location"].endswith("page=2")
