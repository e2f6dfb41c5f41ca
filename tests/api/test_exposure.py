"""Maximum exposure through the API: life outranks any term; closed charges stop counting."""

from __future__ import annotations

from tests.support.api import Api

THIRTY_YEARS = {"kind": "term", "months": 360}
LIFE = {"kind": "life", "months": None}


def test_life_outranks_thirty_years_and_dropped_charges_stop_counting(
    editor_api: Api, demo: dict[str, str]
) -> None:
    url = f"/cases/{demo['Kem Sokha']}"
    [treason] = editor_api.get(url).get_json()["charges"]
    assert editor_api.get(url).get_json()["max_exposure"] == THIRTY_YEARS

    added = editor_api.post(
        f"{url}/charges",
        {
            "offence": "Conspiracy with a foreign power",
            "legal_basis": "Criminal Code, art. 439",
            "max_sentence": {"kind": "life"},
            "stage": "alleged",
            "filed_on": "2017-09-05",
        },
    )
    assert added.status_code == 201, added.get_json()
    conspiracy = added.get_json()
    assert conspiracy["max_sentence"] == LIFE
    assert conspiracy["filed_on"] == "2017-09-05"
    assert conspiracy["case_id"] == demo["Kem Sokha"]
    assert editor_api.get(url).get_json()["max_exposure"] == LIFE
    listed = editor_api.get("/cases", q="sokha").get_json()["items"][0]
    assert listed["max_exposure"] == LIFE

    dropped = editor_api.patch(f"/charges/{conspiracy['id']}", {"stage": "dropped"})
    assert dropped.status_code == 200, dropped.get_json()
    assert dropped.get_json()["stage"] == "dropped"
    assert dropped.get_json()["max_sentence"] == LIFE  # the law's maximum is unchanged
    assert dropped.get_json()["filed_on"] == "2017-09-05"  # fields left out keep their value
    assert editor_api.get(url).get_json()["max_exposure"] == THIRTY_YEARS

    editor_api.patch(f"/charges/{treason['id']}", {"stage": "acquitted"})
    assert editor_api.get(url).get_json()["max_exposure"] is None


def test_conviction_records_the_sentence_imposed(editor_api: Api, demo: dict[str, str]) -> None:
    url = f"/cases/{demo['Kem Sokha']}"
    [treason] = editor_api.get(url).get_json()["charges"]
    convicted = editor_api.patch(
        f"/charges/{treason['id']}",
        {
            "stage": "convicted",
            "sentence_imposed": {"kind": "term", "months": 324},
            "sentenced_on": "2023-03-03",
        },
    )
    assert convicted.status_code == 200, convicted.get_json()
    charge = convicted.get_json()
    assert charge["sentence_imposed"] == {"kind": "term", "months": 324}
    assert charge["sentenced_on"] == "2023-03-03"
    assert charge["source_ids"] == treason["source_ids"]
    # A convicted charge is still open: the exposure stays the law's maximum.
    assert editor_api.get(url).get_json()["max_exposure"] == THIRTY_YEARS

    refused = editor_api.patch(f"/charges/{treason['id']}", {"stage": "pardoned"})
    assert refused.status_code == 422
    assert "sentence_imposed" in refused.get_json()["errors"]
    pardoned = editor_api.patch(
        f"/charges/{treason['id']}", {"stage": "pardoned", "sentence_imposed": None}
    )
    assert pardoned.status_code == 200
    assert pardoned.get_json()["sentence_imposed"] is None
    assert editor_api.get(url).get_json()["max_exposure"] is None
