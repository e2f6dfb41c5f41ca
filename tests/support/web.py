"""Web helpers: real forms submitted with their CSRF token, pages read, rows counted."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from monitor.extensions import db

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form served at ``url``."""
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no csrf_token on {url} (status {page.status_code})"
    return match.group(1)


def submit(
    client: FlaskClient,
    form_url: str,
    data: dict[str, Any],
    post_url: str | None = None,
    *,
    follow: bool = False,
) -> TestResponse:
    """Open the form at ``form_url`` like a browser, then post ``data`` with its CSRF token."""
    token = csrf_token(client, form_url)
    return client.post(
        post_url or form_url, data={**data, "csrf_token": token}, follow_redirects=follow
    )


def text(response: TestResponse) -> str:
    """The page as text."""
    return response.get_data(as_text=True)


def count(model: Any) -> int:
    """How many rows a table holds."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def status_count(page: str, status: str) -> int:
    """The dashboard's count for one custody status."""
    match = re.search(rf'data-status="{status}">(\d+)<', page)
    assert match, f"no count for {status}"
    return int(match.group(1))


def open_case(
    name: str,
    *,
    status: str = "jailed",
    since: str = "2020-01",
    level: str = "public",
    country: str = "KH",
    native: str | None = None,
    sources: list[Any] | None = None,
    commit: bool = True,
) -> str:
    """Open a case through the services (committed unless told); returns its public id."""
    from monitor.domain import PartialDate
    from monitor.services.cases import CaseInput, StatusInput, create_case
    from monitor.services.people import PersonInput, create_person

    person = create_person("test", PersonInput(name=name, name_native=native))
    case = create_case(
        "test",
        person,
        CaseInput(country=country, title=f"{name}: case", confidentiality=level),
        StatusInput(
            status=status, occurred_on=PartialDate.parse(since), sources=list(sources or [])
        ),
    )
    if commit:
        db.session.commit()
    return case.public_id
