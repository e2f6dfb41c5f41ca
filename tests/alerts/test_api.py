"""``/api/v1/subscriptions`` and the delivery log of a status event over the API."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from monitor.config import Settings
from tests.support.alerts import open_case, organization, record, run_alerts
from tests.support.api import Api
from tests.support.smtp import SmtpSink


def test_create_list_and_delete_subscriptions(
    app: Flask,
    cnrp: dict[str, str],
    settings: Settings,
    sink: SmtpSink,
    editor_api: Api,
) -> None:
    created = editor_api.post(
        "/subscriptions",
        {
            "email": "ngo@example.org",
            "name": "Desk",
            "organization": "Friends of Cambodia",
            "scope": "organization",
            "scope_id": organization("CNRP").public_id,
            "mode": "immediate",
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["confirmed"] is True  # no opt-in email through the API
    assert body["scope"] == "organization"
    assert body["scope_id"] == organization("CNRP").public_id
    assert body["user_id"] is None
    by_country = editor_api.post(
        "/subscriptions", {"email": "kh@example.org", "scope": "country", "scope_id": "kh"}
    )
    assert by_country.get_json()["scope_id"] == "KH"

    listed = editor_api.get("/subscriptions").get_json()
    assert listed["total"] == 2
    assert {s["email"] for s in listed["items"]} == {"ngo@example.org", "kh@example.org"}

    event = record(cnrp["Mao Monyvann"], "jailed", "2017-11")
    run_alerts(settings)
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == ["kh@example.org", "ngo@example.org"]

    deliveries = editor_api.get(
        f"/cases/{cnrp['Mao Monyvann']}/status-events/{event.public_id}/deliveries"
    ).get_json()
    assert deliveries["total"] == 2
    assert deliveries["counts"] == {"sent": 2}
    item = next(d for d in deliveries["items"] if d["email"] == "ngo@example.org")
    assert item["state"] == "sent"
    assert item["attempts"] == 1
    assert item["message_id"] == f"<alert.{event.public_id}.{body['id']}@monitor.test>"

    assert (
        editor_api.client.delete(
            f"/api/v1/subscriptions/{body['id']}", headers=editor_api._headers()
        ).status_code
        == 204
    )
    assert {s["email"] for s in editor_api.get("/subscriptions").get_json()["items"]} == {
        "kh@example.org"
    }
    assert (
        editor_api.client.delete(
            f"/api/v1/subscriptions/{body['id']}", headers=editor_api._headers()
        ).status_code
        == 404
    )


def test_invalid_subscriptions_name_each_bad_field(
    app: Flask, cnrp: dict[str, str], editor_api: Api
) -> None:
    response = editor_api.post(
        "/subscriptions", {"email": "nope", "scope": "galaxy", "mode": "hourly"}
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"scope", "mode"}
    response = editor_api.post("/subscriptions", {"email": "nope", "scope": "country"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"email", "scope_id"}
    response = editor_api.post(
        "/subscriptions", {"email": "a@example.org", "scope": "case", "scope_id": "unknown"}
    )
    assert response.get_json() == {"errors": {"scope_id": "no such case"}}


def test_external_subscribers_may_only_follow_public_cases(
    app: Flask, settings: Settings, api_as: Callable[[str, str], Api]
) -> None:
    secret = open_case("Confidential Chea", level="confidential")
    editor = api_as("editor", "confidential")
    refused = editor.post(
        "/subscriptions", {"email": "a@example.org", "scope": "case", "scope_id": secret.public_id}
    )
    assert refused.status_code == 422
    assert "public cases only" in refused.get_json()["errors"]["scope_id"]
    # The caller's own address follows the caller's clearance, so that one is fine.
    own = editor.post(
        "/subscriptions",
        {
            "email": "api.editor.confidential@example.org",
            "scope": "case",
            "scope_id": secret.public_id,
        },
    )
    assert own.status_code == 201
    assert own.get_json()["user_id"] is not None

    # Someone not cleared neither sees that subscription nor learns the case exists.
    lower = api_as("editor", "public")
    assert lower.get("/subscriptions").get_json()["total"] == 0
    hidden = lower.post(
        "/subscriptions", {"email": "b@example.org", "scope": "case", "scope_id": secret.public_id}
    )
    assert hidden.get_json() == {"errors": {"scope_id": "no such case"}}
    assert (
        lower.client.delete(
            f"/api/v1/subscriptions/{own.get_json()['id']}", headers=lower._headers()
        ).status_code
        == 404
    )


def test_viewers_and_anonymous_callers_are_refused(
    app: Flask, cnrp: dict[str, str], viewer_api: Api, anonymous_api: Api
) -> None:
    assert viewer_api.get("/subscriptions").status_code == 403
    assert viewer_api.post("/subscriptions", {"email": "a@example.org"}).status_code == 403
    assert anonymous_api.get("/subscriptions").status_code == 401
    event_url = f"/cases/{cnrp['Mao Monyvann']}/status-events/nope/deliveries"
    assert viewer_api.get(event_url).status_code == 403


def test_openapi_documents_the_subscription_endpoints(app: Flask, anonymous_api: Api) -> None:
    document = anonymous_api.get("/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/subscriptions"]) == {"get", "post"}
    assert set(paths["/api/v1/subscriptions/{subscription_id}"]) == {"delete"}
    assert "get" in paths["/api/v1/cases/{case_id}/status-events/{event_id}/deliveries"]
    schema = document["components"]["schemas"]["SubscriptionCreate"]
    assert set(schema["properties"]) == {
        "email",
        "name",
        "organization",
        "scope",
        "scope_id",
        "language",
        "mode",
    }
