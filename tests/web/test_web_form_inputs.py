"""How forms ask for a status, a date and a country: no status chosen for you, every date typed
the same way, a country picked by name (issue 16, part 4)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.models import Case, Charge, Organization, Person, StatusEvent
from tests.support.alerts import case_of
from tests.support.web import count, submit, text

NEW_CASE = {
    "person_name": "Sam Rainsy",
    "country": "KH",
    "title": "Sam Rainsy: exile",
    "confidentiality": "public",
    "status": "fled",
    "status_since": "2015-11",
}


def select_html(page: str, name: str) -> str:
    """The ``<select>`` of that name, as served."""
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', page, re.DOTALL)
    assert match, f"no select named {name}"
    return match.group(0)


def input_tag(page: str, name: str) -> str:
    """The ``<input>`` of that name, as served."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, f"no input named {name}"
    return match.group(0)


def label_of(page: str, field_id: str) -> str:
    """The text of the label for a field."""
    match = re.search(rf'<label for="{field_id}">([^<]*)</label>', page)
    assert match, f"no label for {field_id}"
    return match.group(1)


def test_no_custody_status_is_chosen_before_the_user_chooses(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    kem = demo["Kem Sokha"]
    for url in ["/cases/new", f"/cases/{kem}/status"]:
        select = select_html(text(editor_client.get(url)), "status")
        assert " required" in select.split(">")[0], url
        first = re.search(r"<option[^>]*>[^<]*</option>", select)
        assert first is not None
        assert first.group(0) == '<option value="">Choose a status…</option>', url
        assert "selected" not in select, url

    cases, events = count(Case), count(StatusEvent)
    opened = submit(editor_client, "/cases/new", {**NEW_CASE, "status": ""})
    assert opened.status_code == 422
    assert 'id="status-error">choose the custody status<' in text(opened)
    recorded = submit(
        editor_client, f"/cases/{kem}/status", {"occurred_on": "2018-09-10", "source": ""}
    )
    assert recorded.status_code == 422
    assert 'id="status-error">choose the custody status<' in text(recorded)
    assert (count(Case), count(StatusEvent)) == (cases, events)
    assert case_of(kem).status == "jailed"


def test_every_date_in_every_form_is_typed_with_its_hint(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    kem = case_of(demo["Kem Sokha"])
    dates = {
        "/cases/new": ["status_since", "opened_on", "closed_on"],
        f"/cases/{kem.public_id}/edit": ["opened_on", "closed_on"],
        f"/cases/{kem.public_id}/status": ["occurred_on", "source_published"],
        f"/cases/{kem.public_id}/charges/new": ["filed_on", "sentenced_on"],
        f"/charges/{kem.charges[0].public_id}/edit": ["filed_on", "sentenced_on"],
        "/people/new": ["birth_date"],
        f"/people/{kem.person.public_id}": ["start", "end"],
        "/organizations/new": ["dissolved_on"],
    }
    day_only = {"opened_on", "closed_on", "sentenced_on"}
    for url, names in dates.items():
        page = text(editor_client.get(url))
        assert 'type="date"' not in page, url  # no browser date picker anywhere
        for name in names:
            tag = input_tag(page, name)
            assert 'type="text"' in tag, (url, name)
            assert 'class="short"' in tag, (url, name)
            hint = "(YYYY-MM-DD)" if name in day_only else "(YYYY, YYYY-MM or YYYY-MM-DD)"
            assert label_of(page, name).endswith(hint), (url, name)


def test_a_date_kept_to_the_day_is_typed_and_checked_like_the_others(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    kem = demo["Kem Sokha"]
    base = {"country": "KH", "title": "Kem Sokha: treason case", "confidentiality": "public"}
    for typed, message in [
        ("2017", "give the day as well: YYYY-MM-DD"),
        ("2017-09", "give the day as well: YYYY-MM-DD"),
        ("3 September 2017", "use YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2017-02-30", "not a real calendar date"),
    ]:
        response = submit(editor_client, f"/cases/{kem}/edit", {**base, "opened_on": typed})
        assert response.status_code == 422, typed
        page = text(response)
        assert f'id="opened_on-error">{message}<' in page, typed
        assert f'value="{typed}"' in page, typed  # what was typed comes back to be corrected
        assert case_of(kem).opened_on is None

    saved = submit(
        editor_client,
        f"/cases/{kem}/edit",
        {**base, "opened_on": " 2017-09-04 ", "closed_on": "2018-01-02"},
        follow=True,
    )
    assert "<dt>Opened</dt><dd>2017-09-04</dd>" in text(saved)
    assert str(case_of(kem).opened_on) == "2017-09-04"
    assert 'value="2017-09-04"' in input_tag(
        text(editor_client.get(f"/cases/{kem}/edit")), "opened_on"
    )

    charge = case_of(kem).charges[0]
    refused = submit(
        editor_client,
        f"/charges/{charge.public_id}/edit",
        {
            "offence": "Treason",
            "max_sentence_kind": "term",
            "max_sentence_years": "30",
            "stage": "convicted",
            "sentence_kind": "term",
            "sentence_years": "27",
            "sentenced_on": "2023-03",
        },
    )
    assert refused.status_code == 422
    assert 'id="sentenced_on-error">give the day as well: YYYY-MM-DD<' in text(refused)
    db.session.expire_all()
    assert db.session.get(Charge, charge.id).sentenced_on is None  # type: ignore[union-attr]


def test_countries_are_chosen_by_name_from_the_iso_list(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    kem = case_of(demo["Kem Sokha"])
    cnrp = kem.person.memberships[0].organization
    fields = {
        "/cases/new": "country",
        f"/cases/{kem.public_id}/edit": "country",
        "/people/new": "nationality",
        f"/people/{kem.person.public_id}/edit": "nationality",
        "/organizations/new": "country",
        f"/organizations/{cnrp.public_id}/edit": "country",
        "/alerts/subscribe": "country",
    }
    for url, name in fields.items():
        page = text(editor_client.get(url))
        assert not re.search(rf'<input[^>]*name="{name}"', page), url  # no free box
        select = select_html(page, name)
        options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)
        assert len(options) > 240, url  # every ISO 3166-1 country
        assert ("KH", "Cambodia (KH)") in options, url
        assert ("MM", "Myanmar (MM)") in options, url
        named = [label for value, label in options if value]
        assert named == sorted(named), url  # by name, as a reader looks for them
    # A stored country comes back selected.
    edit = text(editor_client.get(f"/cases/{kem.public_id}/edit"))
    assert '<option selected value="KH">Cambodia (KH)</option>' in select_html(edit, "country")


def test_a_country_outside_the_list_is_refused_and_a_listed_one_is_saved(
    editor_client: FlaskClient,
) -> None:
    people = count(Person)
    refused = submit(editor_client, "/people/new", {"name": "Sam Rainsy", "nationality": "ZZ"})
    assert refused.status_code == 422
    assert "&#39;ZZ&#39; is not an ISO 3166-1 two-letter country code" in text(refused)
    assert count(Person) == people
    saved = submit(
        editor_client, "/people/new", {"name": "Sam Rainsy", "nationality": "fr"}, follow=True
    )
    assert "<dt>Nationality</dt><dd>France</dd>" in text(saved)
    assert db.session.query(Person).filter_by(name="Sam Rainsy").one().nationality == "FR"

    organizations = count(Organization)
    refused = submit(
        editor_client, "/organizations/new", {"name": "Watch", "kind": "ngo", "country": "Cambodia"}
    )
    assert refused.status_code == 422
    assert count(Organization) == organizations
    opened = submit(editor_client, "/cases/new", {**NEW_CASE, "country": ""})
    assert opened.status_code == 422
    assert 'id="country-error">choose the country<' in text(opened)
