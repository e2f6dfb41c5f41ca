"""The API's name searches forgive a typo: "sokah" finds Kem Sokha."""

from __future__ import annotations

from tests.support.api import Api


def test_the_api_finds_a_misspelt_name(viewer_api: Api, demo: dict[str, str]) -> None:
    cases = viewer_api.get("/api/v1/cases", q="sokah").get_json()
    assert [c["id"] for c in cases["items"]] == [demo["Kem Sokha"]]
    people = viewer_api.get("/api/v1/people", q="sokah").get_json()
    assert [p["name"] for p in people["items"]] == ["Kem Sokha"]
