"""Inputs that once answered 500 (issue 15): each is refused with the field named, nothing kept."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.api.errors import MAX_BODY_DEPTH
from monitor.models import Organization, Person
from monitor.services.people import MAX_SEATS
from tests.support.api import Api
from tests.support.web import count

BEYOND_64_BITS = "99999999999999999999"


def _nested(depth: int) -> bytes:
    return b'{"name": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("path", ["/cases", "/people"])
@pytest.mark.parametrize("params", [{}, {"q": "sokha"}])
@pytest.mark.parametrize("page", [BEYOND_64_BITS, "1000001", "１２", "1_0", "9" * 5000])
def test_page_past_the_last_possible_is_refused_naming_page(
    editor_api: Api, demo: dict[str, str], path: str, params: dict[str, str], page: str
) -> None:
    response = editor_api.get(path, page=page, **params)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"page": "must be a whole number from 1 to 1,000,000"}


def test_the_last_possible_page_is_an_empty_page(editor_api: Api, demo: dict[str, str]) -> None:
    response = editor_api.get("/cases", page="1000000")
    assert response.status_code == 200
    assert response.get_json()["items"] == []


@pytest.mark.parametrize("seats", [2**63, 2**64, MAX_SEATS + 1, -1])
def test_seats_out_of_range_are_refused_naming_seats(editor_api: Api, seats: int) -> None:
    response = editor_api.post(
        "/organizations", {"name": "CNRP", "kind": "political_party", "seats": seats}
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["seats"]
    assert count(Organization) == 0


def test_seats_up_to_the_maximum_are_kept(editor_api: Api) -> None:
    body = {"name": "CNRP", "kind": "political_party", "seats": MAX_SEATS}
    assert editor_api.post("/organizations", body).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/people"), ("patch", "/cases/{case}"), ("post", "/dossiers")],
)
def test_deeply_nested_body_is_a_400_naming_the_body(
    editor_api: Api, demo: dict[str, str], method: str, path: str
) -> None:
    url = path.format(case=demo["Kem Sokha"])
    for depth in (MAX_BODY_DEPTH + 1, 1_000, 100_000):
        send = getattr(editor_api, method)
        response = send(url, data=_nested(depth), content_type="application/json")
        assert response.status_code == 400, depth
        assert response.get_json()["errors"] == {
            "body": f"is nested more than {MAX_BODY_DEPTH} levels deep"
        }
    assert count(Person) == 3


def test_brackets_inside_strings_do_not_count_as_nesting(editor_api: Api) -> None:
    response = editor_api.post("/people", {"name": "[" * 100 + "{" * 100})
    assert response.status_code == 201


def test_nesting_within_the_limit_reaches_the_fields(editor_api: Api) -> None:
    response = editor_api.post(
        "/people", data=_nested(MAX_BODY_DEPTH - 1), content_type="application/json"
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["name"]


@pytest.mark.parametrize("digits", [31, 4_301, 100_000])
def test_a_number_with_too_many_digits_is_a_400_naming_the_body(
    editor_api: Api, digits: int
) -> None:
    data = b'{"name": "CNRP", "kind": "political_party", "seats": ' + b"9" * digits + b"}"
    response = editor_api.post("/organizations", data=data, content_type="application/json")
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["body"]
    assert f"{digits:,} digits" in response.get_json()["errors"]["body"]
    assert count(Organization) == 0


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_numbers_are_a_400(editor_api: Api, constant: bytes) -> None:
    data = b'{"name": "CNRP", "kind": "political_party", "seats": ' + constant + b"}"
    response = editor_api.post("/organizations", data=data, content_type="application/json")
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["body"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b'{"name": "\\ud800x"}', "name"),
        (b'{"name": "A", "aliases": ["B", "\\udfff"]}', "aliases.1"),
        (b'{"name": "A", "biography": "x\\udc00"}', "biography"),
        (b'{"\\ud800": "A"}', "body"),
        (b'{"name": "A", "aliases": ["B"], "nationality": "K\\u0000"}', "nationality"),
        (b'{"name": "A", "person_id": "\\u0000"}', "person_id"),
    ],
)
def test_nul_and_unpaired_surrogates_in_json_are_refused_naming_the_field(
    editor_api: Api, data: bytes, field: str
) -> None:
    response = editor_api.post("/people", data=data, content_type="application/json")
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]
    assert count(Person) == 0


def test_a_surrogate_pair_is_a_character_and_kept(editor_api: Api) -> None:
    response = editor_api.post(
        "/people", data=b'{"name": "A \\ud83d\\ude00"}', content_type="application/json"
    )
    assert response.status_code == 201
    assert response.get_json()["name"] == "A \U0001f600"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Kem\x00Sokha"}, "name"),
        ({"name": "Kem Sokha\r\nBcc: x@example.org"}, "name"),
        ({"name": "Kem\nSokha"}, "name"),
        ({"name": "Kem\tSokha"}, "name"),
        ({"name": "Kem\u2028Sokha"}, "name"),
        ({"name": "Kem\x1b[31mSokha"}, "name"),
        ({"name": "Kem\x7fSokha"}, "name"),
        ({"name": "Kem\x85Sokha"}, "name"),
        ({"name": "A", "name_native": "ក\x00"}, "name_native"),
        ({"name": "A", "occupation": "MP\r\n x"}, "occupation"),
        ({"name": "A", "aliases": ["Rainsy\nX"]}, "aliases.0"),
        ({"name": "A", "aliases": ["\x00"]}, "aliases.0"),
        ({"name": "A", "biography": "born\x00"}, "biography"),
    ],
)
def test_control_characters_and_line_breaks_are_refused(
    editor_api: Api, body: dict[str, Any], field: str
) -> None:
    response = editor_api.post("/people", body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == [field]
    assert "must not contain" in errors[field]
    assert count(Person) == 0


def test_long_texts_keep_line_breaks_and_tabs(editor_api: Api) -> None:
    biography = "Born in Takeo.\r\n\r\nElected in 2013.\n\tLeader from 2017."
    response = editor_api.post("/people", {"name": "Kem Sokha", "biography": biography})
    assert response.status_code == 201
    assert response.get_json()["biography"] == biography


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/cases/{case}", {"title": "Jailed\r\nX"}, "title"),
        ("/cases/{case}", {"tags": ["mp\x1b"]}, "tags.0"),
        (
            "/cases/{case}/status-events",
            {"status": "jailed", "occurred_on": "2017", "location": "Phnom\nPenh"},
            "location",
        ),
        (
            "/cases/{case}/charges",
            {"offence": "Treason\x00", "max_sentence": {"kind": "life"}},
            "offence",
        ),
        ("/sources", {"title": "A\x00", "publisher": "AFP"}, "title"),
        (
            "/organizations",
            {"name": "CNRP", "kind": "political_party", "short_name": "CN\rRP"},
            "short_name",
        ),
    ],
)
def test_control_characters_are_refused_in_every_kind_of_record(
    editor_api: Api, demo: dict[str, str], path: str, body: dict[str, Any], field: str
) -> None:
    url = path.format(case=demo["Kem Sokha"])
    send = editor_api.patch if path == "/cases/{case}" else editor_api.post
    before = editor_api.get(f"/cases/{demo['Kem Sokha']}").get_json()
    response = send(url, body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert editor_api.get(f"/cases/{demo['Kem Sokha']}").get_json() == before


def test_summaries_and_descriptions_keep_line_breaks(editor_api: Api, demo: dict[str, str]) -> None:
    response = editor_api.patch(f"/cases/{demo['Kem Sokha']}", {"summary": "One.\n\nTwo."})
    assert response.status_code == 200
    assert response.get_json()["summary"] == "One.\n\nTwo."


@pytest.mark.parametrize("date", ["２０１７", "2017-０９", "٢٠١٧", "2017-09-0３"])
def test_partial_dates_take_ascii_digits_only(editor_api: Api, date: str) -> None:
    response = editor_api.post("/people", {"name": "Kem Sokha", "birth_date": date})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["birth_date"]
    assert count(Person) == 0


def test_the_documented_date_pattern_is_ascii(anonymous_api: Api) -> None:
    document = anonymous_api.get("/openapi.json").get_data(as_text=True)
    assert "\\\\d" not in document
    assert "[0-9]{4}" in document


@pytest.mark.parametrize(
    "url",
    ["/cases/%00", "/people/a%00b", "/cases?q=%00", "/people?q=Kem%00", "/cases?%00=1"],
)
def test_a_nul_in_the_address_is_a_400(editor_api: Api, demo: dict[str, str], url: str) -> None:
    # PostgreSQL refuses NUL in a text parameter: without this, a 500 there.
    headers = {"Authorization": f"Bearer {editor_api.token}"}
    response = editor_api.client.get(f"/api/v1{url}", headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"error": "the address holds a NUL character (%00)"}
