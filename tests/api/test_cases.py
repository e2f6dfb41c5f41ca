"""Opening, reading and editing cases; recording status events; dates keep their precision."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitor.extensions import db
from monitor.models import AuditEntry, Person
from tests.support.api import Api, case_body


def test_create_case_with_inline_person_keeps_the_khmer_name(editor_api: Api) -> None:
    created = editor_api.post("/cases", case_body(tags=["In Absentia", "mp"]))
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert created.headers["Location"] == f"/api/v1/cases/{case['id']}"
    assert case["person"]["name"] == "Sam Rainsy"
    assert case["person"]["name_native"] == "សម រង្ស៊ី"
    assert case["person"]["aliases"] == ["Rainsy"]
    assert case["status"] == "fled"
    assert case["status_since"] == "2015-11"
    assert case["tags"] == ["in absentia", "mp"]
    assert case["max_exposure"] is None
    assert [(e["status"], e["occurred_on"], e["precision"]) for e in case["events"]] == [
        ("fled", "2015-11", "month")
    ]
    assert editor_api.get(f"/cases/{case['id']}").get_json() == case
    assert editor_api.get("/cases", q="រង្ស៊ី").get_json()["items"][0]["id"] == case["id"]
    person = editor_api.get(f"/people/{case['person']['id']}").get_json()
    assert person["name_native"] == "សម រង្ស៊ី"
    assert person["cases"] == [{"id": case["id"], "status": "fled", "status_since": "2015-11"}]


def test_create_case_for_an_existing_person_with_a_membership(
    editor_api: Api, demo: dict[str, str]
) -> None:
    person = editor_api.post("/people", {"name": "Kong Korm", "nationality": "kh"})
    assert person.status_code == 201, person.get_json()
    assert person.get_json()["nationality"] == "KH"
    [cnrp] = editor_api.get("/organizations").get_json()["items"]
    created = editor_api.post(
        "/cases",
        case_body(
            person=None,
            person_id=person.get_json()["id"],
            title="Kong Korm: summoned",
            status="at_liberty",
            status_since="2017",
            organization_id=cnrp["id"],
            role="senior adviser",
        ),
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["person"]["id"] == person.get_json()["id"]
    assert created.get_json()["status_since"] == "2017"
    detail = editor_api.get(f"/people/{person.get_json()['id']}").get_json()
    assert [(m["organization"]["short_name"], m["role"]) for m in detail["memberships"]] == [
        ("CNRP", "senior adviser")
    ]
    members = editor_api.get(f"/organizations/{cnrp['id']}").get_json()["members"]
    assert "Kong Korm" in {m["person"]["name"] for m in members}


@pytest.mark.parametrize("since", ["2017", "2017-09", "2017-09-03"])
def test_partial_dates_keep_their_precision(editor_api: Api, since: str) -> None:
    case = editor_api.post("/cases", case_body(status="jailed", status_since=since)).get_json()
    assert case["status_since"] == since
    event = editor_api.post(
        f"/cases/{case['id']}/status-events",
        {"status": "house_arrest", "occurred_on": "2018-02", "about": True},
    ).get_json()
    assert event["occurred_on"] == "2018-02"
    assert event["precision"] == "month"
    assert event["about"] is True
    again = editor_api.get(f"/cases/{case['id']}").get_json()
    assert again["status_since"] == "2018-02"
    assert [e["occurred_on"] for e in again["events"]] == [since, "2018-02"]


def test_backfilled_event_is_recorded_but_does_not_change_the_status(editor_api: Api) -> None:
    case = editor_api.post("/cases", case_body(status="jailed", status_since="2017-09")).get_json()
    backfill = editor_api.post(
        f"/cases/{case['id']}/status-events",
        {"status": "fled", "occurred_on": "2015-11", "location": "France"},
    )
    assert backfill.status_code == 201
    assert backfill.get_json()["changed_current"] is False
    assert backfill.get_json()["case"]["status"] == "jailed"
    after = editor_api.get(f"/cases/{case['id']}").get_json()
    assert after["status"] == "jailed"
    assert after["status_since"] == "2017-09"
    # The history is in date order, and each event's previous status follows it.
    assert [(e["status"], e["previous_status"]) for e in after["events"]] == [
        ("fled", None),
        ("jailed", "fled"),
    ]


def test_status_event_cites_sources(editor_api: Api, demo: dict[str, str]) -> None:
    source = editor_api.post(
        "/sources",
        {
            "title": "Cambodia: Opposition leader arrested",
            "publisher": "HRW",
            "url": "https://www.hrw.org/news/2017/09/03/cambodia",
            "published_on": "2017-09-03",
        },
    )
    assert source.status_code == 201, source.get_json()
    source_id = source.get_json()["id"]
    assert source.get_json()["published_on"] == "2017-09-03"
    assert editor_api.get(f"/sources/{source_id}").get_json() == source.get_json()
    event = editor_api.post(
        f"/cases/{demo['Kem Sokha']}/status-events",
        {"status": "jailed", "occurred_on": "2017-09-03", "source_ids": [source_id]},
    ).get_json()
    assert event["source_ids"] == [source_id]
    case = editor_api.get(f"/cases/{demo['Kem Sokha']}").get_json()
    assert source_id in {s["id"] for s in case["sources"]}


def test_patch_changes_the_editable_fields(editor_api: Api, demo: dict[str, str]) -> None:
    url = f"/cases/{demo['Mu Sochua']}"
    patched = editor_api.patch(
        url, {"title": "Mu Sochua: in exile", "tags": ["exile"], "confidentiality": "restricted"}
    )
    assert patched.status_code == 200, patched.get_json()
    case = patched.get_json()
    assert (case["title"], case["tags"], case["confidentiality"]) == (
        "Mu Sochua: in exile",
        ["exile"],
        "restricted",
    )
    assert case["status"] == "fled"  # untouched fields keep their value
    assert case["country"] == "KH"
    assert editor_api.get(url).get_json()["title"] == "Mu Sochua: in exile"


def test_status_cannot_be_patched(editor_api: Api, demo: dict[str, str]) -> None:
    url = f"/cases/{demo['Kem Sokha']}"
    refused = editor_api.patch(url, {"status": "at_liberty", "title": "Kem Sokha: released"})
    assert refused.status_code == 422
    message = refused.get_json()["errors"]["status"]
    assert "status-events" in message
    after = editor_api.get(url).get_json()
    assert (after["status"], after["title"]) == ("jailed", "Kem Sokha: jailed on treason charges")


def test_refused_create_leaves_nothing_behind(editor_api: Api) -> None:
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    refused = editor_api.post("/cases", case_body(country="Cambodia"))
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"country"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries
    assert editor_api.get("/people", q="rainsy").get_json()["total"] == 0


def test_membership_error_rolls_back_the_new_person_and_case(editor_api: Api) -> None:
    refused = editor_api.post("/cases", case_body(organization_id="nope", role="member"))
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"organization_id": "no such organization"}
    assert editor_api.get("/cases").get_json()["total"] == 0


def test_people_list_and_search(editor_api: Api, demo: dict[str, str]) -> None:
    everyone = editor_api.get("/people").get_json()
    assert everyone["total"] == 3
    assert [p["name"] for p in everyone["items"]] == ["Kem Sokha", "Mao Monyvann", "Mu Sochua"]
    assert [p["name"] for p in editor_api.get("/people", q="សុខា").get_json()["items"]] == [
        "Kem Sokha"
    ]
    second = editor_api.get("/people", per_page=2, page=2).get_json()
    assert [p["name"] for p in second["items"]] == ["Mu Sochua"]
    assert second["pages"] == 2


def test_list_pages_and_sorts(editor_api: Api, demo: dict[str, str]) -> None:
    first = editor_api.get("/cases", per_page=2, sort="-name").get_json()
    assert (first["total"], first["page"], first["per_page"], first["pages"]) == (3, 1, 2, 2)
    assert [c["person"]["name"] for c in first["items"]] == ["Mu Sochua", "Mao Monyvann"]
    second = editor_api.get("/cases", per_page=2, page=2, sort="-name").get_json()
    assert [c["person"]["name"] for c in second["items"]] == ["Kem Sokha"]
    fled = editor_api.get("/cases", status="fled", country="kh").get_json()
    assert [c["person"]["name"] for c in fled["items"]] == ["Mu Sochua"]
    treason = editor_api.get("/cases", offence="treason").get_json()
    assert [c["person"]["name"] for c in treason["items"]] == ["Kem Sokha"]
