"""The issue's "done when" story, as a script would live it through the API with a token."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.api import Api

THIRTY_YEARS = {"kind": "term", "months": 360}


def test_find_kem_sokha_read_his_case_and_record_mao_monyvann_jailed(
    demo: dict[str, str], api_as: Callable[[str, str], Api]
) -> None:
    api = api_as("editor", "confidential")

    for query in ("សុខា", "sokha", "SOKHA"):
        found = api.get("/cases", q=query)
        assert found.status_code == 200
        assert found.get_json()["total"] == 1, query
        assert found.get_json()["items"][0]["person"]["name"] == "Kem Sokha"
    item = api.get("/cases", q="សុខា").get_json()["items"][0]
    assert item["person"]["name_native"] == "កឹម សុខា"
    assert item["status"] == "jailed"
    assert item["max_exposure"] == THIRTY_YEARS

    case = api.get(f"/cases/{item['id']}").get_json()
    assert case["status"] == "jailed"
    assert case["status_since"] == "2017-09"
    assert case["country"] == "KH"
    assert case["country_name"] == "Cambodia"
    [treason] = case["charges"]
    assert treason["offence"] == "Treason"
    assert treason["legal_basis"] == "Criminal Code, art. 443"
    assert treason["max_sentence"] == THIRTY_YEARS
    assert treason["stage"] == "charged"
    assert case["max_exposure"] == THIRTY_YEARS
    assert [e["status"] for e in case["events"]] == ["jailed"]
    assert case["events"][0]["occurred_on"] == "2017-09"
    assert case["events"][0]["precision"] == "month"
    assert case["url"] == f"http://monitor.test/cases/{demo['Kem Sokha']}"

    assert api.get("/cases", status="jailed").get_json()["total"] == 1
    mao = api.get("/cases", q="monyvann").get_json()["items"][0]
    assert mao["status"] == "at_liberty"
    recorded = api.post(
        f"/cases/{mao['id']}/status-events",
        {
            "status": "jailed",
            "occurred_on": "2017-11-05",
            "location": "Phnom Penh",
            "description": "Arrested at his home.",
            "certainty": "reported",
            "source_ids": [],
        },
    )
    assert recorded.status_code == 201, recorded.get_json()
    event = recorded.get_json()
    assert event["changed_current"] is True
    assert event["previous_status"] == "at_liberty"
    assert event["occurred_on"] == "2017-11-05"
    assert event["case"] == {"id": mao["id"], "status": "jailed", "status_since": "2017-11-05"}

    jailed = api.get("/cases", status="jailed").get_json()
    assert jailed["total"] == 2
    assert {c["person"]["name"] for c in jailed["items"]} == {"Kem Sokha", "Mao Monyvann"}
    assert api.get(f"/cases/{mao['id']}").get_json()["status"] == "jailed"


def test_organization_counts_follow_the_change(
    demo: dict[str, str], api_as: Callable[[str, str], Api]
) -> None:
    api = api_as("editor", "confidential")
    [cnrp] = api.get("/organizations").get_json()["items"]
    assert cnrp["short_name"] == "CNRP"
    assert cnrp["seats"] == 55
    assert cnrp["counts"]["by_status"]["jailed"] == 1
    api.post(
        f"/cases/{demo['Mao Monyvann']}/status-events",
        {"status": "jailed", "occurred_on": "2017-11"},
    )
    detail = api.get(f"/organizations/{cnrp['id']}").get_json()
    assert detail["counts"]["by_status"]["jailed"] == 2
    assert detail["counts"]["by_status"]["fled"] == 1
    roles = {m["person"]["name"]: m["role"] for m in detail["members"]}
    assert roles == {
        "Kem Sokha": "acting party leader",
        "Mu Sochua": "deputy leader",
        "Mao Monyvann": "Member of Parliament",
    }
    mu = next(m for m in detail["members"] if m["person"]["name"] == "Mu Sochua")
    assert mu["cases"][0]["status"] == "fled"
    assert mu["cases"][0]["status_since"] == "2017-10"
