"""The case list: name search in both scripts, filters, sorting, pagination, clearance."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import Organization
from tests.support.accounts import client_for
from tests.support.web import open_case, text


def names_in(page: str) -> list[str]:
    """Person names in the order the list shows them."""
    return re.findall(r'<span class="person-name">([^<]+)</span>', page)


@pytest.mark.parametrize("query", ["សុខា", "sokha", "SOKHA", "កឹម សុខា"])
def test_search_finds_kem_sokha_in_either_script(
    viewer_client: FlaskClient, demo: dict[str, str], query: str
) -> None:
    page = text(viewer_client.get("/cases", query_string={"q": query}))
    assert names_in(page) == ["Kem Sokha"]
    assert f"/cases/{demo['Kem Sokha']}" in page
    assert 'id="total"><strong>1</strong> case' in page


def test_search_matches_aliases(app: Flask, viewer_client: FlaskClient) -> None:
    from monitor.domain import PartialDate
    from monitor.services.cases import CaseInput, StatusInput, create_case
    from monitor.services.people import PersonInput, create_person

    person = create_person("test", PersonInput(name="Sam Rainsy", aliases=["Rainsy Sam"]))
    create_case(
        "test",
        person,
        CaseInput(country="KH", title="exile"),
        StatusInput(status="fled", occurred_on=PartialDate.parse("2015")),
    )
    db.session.commit()
    assert names_in(text(viewer_client.get("/cases?q=rainsy+sam"))) == ["Sam Rainsy"]


def test_search_with_no_match_says_so(viewer_client: FlaskClient, demo: dict[str, str]) -> None:
    page = text(viewer_client.get("/cases?q=nobody"))
    assert names_in(page) == []
    assert "No cases match." in page


def test_filters_by_status_offence_country_and_organization(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    cnrp = db.session.query(Organization).one().public_id
    assert names_in(text(viewer_client.get("/cases?status=fled"))) == ["Mu Sochua"]
    assert names_in(text(viewer_client.get("/cases?offence=treason"))) == ["Kem Sokha"]
    assert len(names_in(text(viewer_client.get("/cases?country=KH")))) == 3
    assert names_in(text(viewer_client.get("/cases?country=MM"))) == []
    assert len(names_in(text(viewer_client.get(f"/cases?organization={cnrp}")))) == 3
    combined = viewer_client.get(f"/cases?organization={cnrp}&status=at_liberty")
    assert names_in(text(combined)) == ["Mao Monyvann"]


def test_bad_filter_values_are_named_on_the_list_answered_422(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    response = viewer_client.get("/cases?status=imprisoned&page=abc&sort=shoe&per_page=-3")
    assert response.status_code == 422
    page = text(response)
    assert "were not understood" in page
    assert "unknown custody status" in page
    assert "must be a whole number" in page
    assert len(names_in(page)) == 3


def test_sorting_by_name_since_and_status(viewer_client: FlaskClient, demo: dict[str, str]) -> None:
    assert names_in(text(viewer_client.get("/cases?sort=name"))) == [
        "Kem Sokha",
        "Mao Monyvann",
        "Mu Sochua",
    ]
    assert names_in(text(viewer_client.get("/cases?sort=-name"))) == [
        "Mu Sochua",
        "Mao Monyvann",
        "Kem Sokha",
    ]
    assert names_in(text(viewer_client.get("/cases?sort=since")))[0] == "Kem Sokha"
    assert names_in(text(viewer_client.get("/cases?sort=-since")))[-1] == "Kem Sokha"
    assert names_in(text(viewer_client.get("/cases?sort=status"))) == [
        "Mao Monyvann",  # at_liberty
        "Mu Sochua",  # fled
        "Kem Sokha",  # jailed
    ]


def test_list_shows_the_columns_a_reader_needs(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = text(viewer_client.get("/cases?q=sokha"))
    assert "កឹម សុខា" in page
    assert "Cambodia" in page
    assert '<span class="badge badge-jailed">jailed</span>' in page
    assert "September 2017" in page
    assert "30 years" in page
    assert "public" in page


def test_pagination_keeps_the_filters(app: Flask, demo: dict[str, str]) -> None:
    for i in range(30):
        open_case(f"Paged Person {i:02d}", status="jailed", commit=False)
    open_case("Paged Free Person", status="at_liberty")
    browser = client_for(app, "viewer", "public")
    first = text(browser.get("/cases?q=paged&status=jailed"))
    assert 'id="total"><strong>30</strong> cases' in first
    assert len(names_in(first)) == 25
    assert "page 1 of 2" in first
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert next_link
    href = next_link.group(1).replace("&amp;", "&")
    assert "q=paged" in href
    assert "status=jailed" in href
    assert "page=2" in href
    second = text(browser.get(href))
    assert len(names_in(second)) == 5
    assert set(names_in(first)).isdisjoint(names_in(second))
    assert "Paged Free Person" not in first + second


def test_sort_links_keep_the_filters(viewer_client: FlaskClient, demo: dict[str, str]) -> None:
    page = text(viewer_client.get("/cases?status=jailed"))
    assert "/cases?status=jailed&amp;sort=-name" in page


def test_clearance_hides_cases_from_list_search_and_counts(
    app: Flask, demo: dict[str, str]
) -> None:
    secret = open_case("Hidden Informant", status="jailed", level="confidential")
    restricted = open_case("Quiet Witness", status="disappeared", level="restricted")
    viewer = client_for(app, "viewer", "public")
    admin = client_for(app, "admin", "confidential")

    viewer_page = text(viewer.get("/cases"))
    assert "Hidden Informant" not in viewer_page
    assert "Quiet Witness" not in viewer_page
    assert 'id="total"><strong>3</strong> cases' in viewer_page
    assert names_in(text(viewer.get("/cases?q=informant"))) == []
    assert names_in(text(viewer.get("/cases?confidentiality=confidential"))) == []
    assert viewer.get(f"/cases/{secret}").status_code == 404
    assert viewer.get(f"/cases/{restricted}").status_code == 404
    assert viewer.get("/cases/no-such-case").status_code == 404

    admin_page = text(admin.get("/cases"))
    assert "Hidden Informant" in admin_page
    assert 'id="total"><strong>5</strong> cases' in admin_page
    assert names_in(text(admin.get("/cases?q=informant"))) == ["Hidden Informant"]
    assert admin.get(f"/cases/{secret}").status_code == 200


@pytest.mark.parametrize("public_id", ["AbC-d_e012", "a b", "ü/ö", "x&y'z?#%"])
def test_row_links_quote_a_public_id_as_url_for_does(app: Flask, public_id: str) -> None:
    from flask import url_for

    from monitor.web.cases import _case_url_prefix
    from monitor.web.helpers import path_segment

    with app.test_request_context("/cases"):
        expected = url_for("cases.detail", public_id=public_id)
        assert _case_url_prefix() + path_segment(public_id) == expected


def test_next_and_previous_walk_deep_pages_by_keyset(
    app: Flask, demo: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past the numbered pages, Next reads the page after the last case shown and Previous the
    # page before the first: the filters stay, no case is skipped or shown twice.
    from monitor.web import cases as case_views

    monkeypatch.setattr(case_views, "OFFSET_PAGES", 2)
    for i in range(60):
        open_case(f"Deep Person {i:02d}", status="jailed", commit=False)
    open_case("Deep Free Person", status="at_liberty")
    browser = client_for(app, "viewer", "public")
    pages = [text(browser.get("/cases?status=jailed&q=deep"))]
    hrefs = []
    while match := re.search(r'<a href="([^"]+)" rel="next">', pages[-1]):
        hrefs.append(match.group(1).replace("&amp;", "&"))
        pages.append(text(browser.get(hrefs[-1])))
    assert "page=2" in hrefs[0]
    assert "after=" in hrefs[1]
    assert all("status=jailed" in href and "q=deep" in href for href in hrefs)
    shown = [name for page in pages for name in names_in(page)]
    assert shown == [f"Deep Person {i:02d}" for i in range(60)]
    assert 'id="total"><strong>60</strong> cases</p>' in pages[-1]  # no page number by keyset

    back = re.search(r'<a href="([^"]+)" rel="prev">', pages[-1])
    assert back
    assert "before=" in back.group(1)
    assert names_in(text(browser.get(back.group(1).replace("&amp;", "&")))) == names_in(pages[-2])


def test_a_keyset_link_to_a_case_gone_from_view_starts_again(
    app: Flask, demo: dict[str, str]
) -> None:
    browser = client_for(app, "viewer", "public")
    response = browser.get("/cases?status=jailed&after=nosuchcase")
    assert response.status_code == 302
    assert response.headers["Location"] == "/cases?status=jailed"
