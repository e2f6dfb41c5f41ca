"""API helpers: a client that sends a token, tokens for new users, a valid case body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from monitor.extensions import db
from monitor.services import users
from tests.support.accounts import make_user

PREFIX = "/api/v1"


@dataclass
class Api:
    """A script talking to the API with one token (or none)."""

    client: FlaskClient
    token: str | None = None

    def _url(self, path: str) -> str:
        return path if path.startswith(PREFIX) else PREFIX + path

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, **params: Any) -> TestResponse:
        """GET with query-string parameters."""
        return self.client.get(self._url(path), query_string=params, headers=self._headers())

    def post(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        """POST a JSON body (or raw ``data=``)."""
        if "data" not in kwargs:
            kwargs["json"] = body
        return self.client.post(self._url(path), headers=self._headers(), **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        """PATCH a JSON body (or raw ``data=``)."""
        if "data" not in kwargs:
            kwargs["json"] = body
        return self.client.patch(self._url(path), headers=self._headers(), **kwargs)


def issue_token(role: str, clearance: str) -> str:
    """Create a user of that role and clearance, and a token for them; return the token."""
    user = make_user(role, clearance, email=f"api.{role}.{clearance}@example.org")
    _, plain = users.create_token("test", user, "tests")
    db.session.commit()
    return plain


def case_body(**changes: Any) -> dict[str, Any]:
    """A valid body for ``POST /cases`` (an inline new person), with ``changes`` applied."""
    body: dict[str, Any] = {
        "person": {"name": "Sam Rainsy", "name_native": "សម រង្ស៊ី", "aliases": ["Rainsy"]},
        "country": "KH",
        "title": "Sam Rainsy: convicted in absentia",
        "confidentiality": "public",
        "status": "fled",
        "status_since": "2015-11",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}
