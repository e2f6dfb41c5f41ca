"""Every error under /api/ is JSON, whatever raised it: routing, size limits, rate limits."""

from __future__ import annotations

from flask import Flask

from tests.support.api import Api


def test_unknown_paths_are_json_404s(editor_api: Api) -> None:
    for path in ("/api/v1/nothing-here", "/api/v1/cases/x/y/z", "/api/v2/cases", "/api"):
        response = editor_api.client.get(path)
        assert response.status_code == 404, path
        assert response.is_json, path
        assert response.get_json() == {"error": "not found"}


def test_wrong_method_is_a_json_405_with_allow(editor_api: Api, demo: dict[str, str]) -> None:
    response = editor_api.client.delete(
        f"/api/v1/cases/{demo['Kem Sokha']}",
        headers={"Authorization": f"Bearer {editor_api.token}"},
    )
    assert response.status_code == 405
    assert response.is_json
    assert "error" in response.get_json()
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}


def test_oversized_body_is_a_json_413(editor_api: Api) -> None:
    body = b'{"title": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = editor_api.post("/sources", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.is_json
    assert "error" in response.get_json()


def test_rate_limit_is_a_json_429(app: Flask, editor_api: Api) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    statuses = [editor_api.get("/cases").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = editor_api.get("/cases")
    assert response.status_code == 429
    assert response.is_json
    assert "rate limit" in response.get_json()["error"]
    assert int(response.headers["Retry-After"]) > 0


def test_api_responses_are_not_cached(editor_api: Api, demo: dict[str, str]) -> None:
    response = editor_api.get(f"/cases/{demo['Kem Sokha']}")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
