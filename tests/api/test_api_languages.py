"""``"language"`` on the API: a dossier or a subscription in one of MONITOR_LANGUAGES, the
document listing them, and a refusal that names the field."""

from __future__ import annotations

from flask import Flask

from tests.support.api import Api


def test_a_dossier_and_a_subscription_take_a_language_the_register_speaks(
    app: Flask, viewer_api: Api, editor_api: Api, demo: dict[str, str]
) -> None:
    asked = viewer_api.post(
        "/dossiers", {"kind": "case", "case_id": demo["Kem Sokha"], "language": "km"}
    )
    assert asked.status_code == 202
    dossier = viewer_api.get(f"/dossiers/{asked.get_json()['id']}").get_json()
    assert dossier["language"] == "km"
    subscribed = editor_api.post("/subscriptions", {"email": "amal@example.org", "language": "ar"})
    assert subscribed.status_code == 201
    assert subscribed.get_json()["language"] == "ar"


def test_a_language_the_register_does_not_speak_is_refused_naming_the_field(
    viewer_api: Api, demo: dict[str, str]
) -> None:
    refused = viewer_api.post(
        "/dossiers", {"kind": "case", "case_id": demo["Kem Sokha"], "language": "de"}
    )
    assert refused.status_code == 422
    assert "language" in refused.get_json()["errors"]
    assert "en, fr, km, ar" in refused.get_json()["errors"]["language"]


def test_the_document_lists_the_configured_languages(anonymous_api: Api) -> None:
    document = anonymous_api.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for name in ("DossierCreate", "SubscriptionCreate"):
        assert schemas[name]["properties"]["language"]["enum"] == ["en", "fr", "km", "ar"]
