"""The web UI refuses what the API refuses (issue 15): a page number past the last possible, seats
past the maximum, control characters and full-width digits; 422, the field named, nothing kept."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from monitor.models import Organization, Person
from tests.support.web import count, submit, text

BEYOND_64_BITS = "99999999999999999999"


@pytest.mark.parametrize("path", ["/cases", "/cases?q=sokha", "/people", "/people?q=sokha"])
def test_a_page_past_the_last_possible_is_named_on_the_list(
    admin_client: FlaskClient, demo: dict[str, str], path: str
) -> None:
    separator = "&" if "?" in path else "?"
    response = admin_client.get(f"{path}{separator}page={BEYOND_64_BITS}")
    assert response.status_code == 422
    assert "must be a whole number from 1 to 1,000,000" in text(response)


def test_subscribers_page_past_the_last_possible_is_named(admin_client: FlaskClient) -> None:
    response = admin_client.get(f"/alerts/subscribers?page={BEYOND_64_BITS}")
    assert response.status_code == 422
    assert "must be a whole number from 1 to 1,000,000" in text(response)


@pytest.mark.parametrize("seats", [str(2**63), "1000000001", "9" * 5000])
def test_organization_form_refuses_seats_past_the_maximum(
    admin_client: FlaskClient, seats: str
) -> None:
    response = submit(
        admin_client, "/organizations/new", {"name": "CNRP", "kind": "ngo", "seats": seats}
    )
    assert response.status_code == 422
    assert count(Organization) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Kem\x00Sokha"}, "must not contain a control character"),
        ({"name": "Kem\r\nSokha"}, "must not contain a line break"),
        ({"name": "Kem Sokha", "aliases": "Sokha\x1b"}, "must not contain a control character"),
        ({"name": "Kem Sokha", "birth_date": "１９５３"}, "YYYY"),
    ],
)
def test_person_form_refuses_control_characters_and_full_width_digits(
    admin_client: FlaskClient, data: dict[str, str], message: str
) -> None:
    response = submit(admin_client, "/people/new", data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(Person) == 0


def test_person_form_keeps_line_breaks_in_the_biography(admin_client: FlaskClient) -> None:
    response = submit(
        admin_client, "/people/new", {"name": "Kem Sokha", "biography": "Born 1953.\r\nMP."}
    )
    assert response.status_code == 302
    assert count(Person) == 1


@pytest.mark.parametrize("url", ["/cases/%00", "/cases?q=%00", "/people?q=a%00"])
def test_a_nul_in_the_address_is_a_400_page(admin_client: FlaskClient, url: str) -> None:
    assert admin_client.get(url).status_code == 400
