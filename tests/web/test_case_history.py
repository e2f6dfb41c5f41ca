"""A case's History reads in plain words, names people rather than log labels, and lists who
took the case's data away (dossiers) apart from who changed it."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import User
from monitor.services import audit
from tests.support.dossiers import request_via_web
from tests.support.web import submit, text

_ROW = re.compile(
    r'<tr><td data-label="When">[^<]+</td><td data-label="Who">([^<]+)</td>'
    r'<td data-label="What">([^<]+)</td></tr>'
)


def _tables(page: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(who, what) of the edits table, and of the "Who downloaded this" table."""
    history = page[page.index('id="history-heading"') :]
    edits, _, downloads = history.partition('id="downloads-heading"')
    return _ROW.findall(edits), _ROW.findall(downloads)


def test_history_says_what_happened_in_words_and_who_by_name(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    url = f"/cases/{demo['Kem Sokha']}"
    response = submit(
        editor_client,
        f"{url}/status",
        {"status": "house_arrest", "occurred_on": "2018-09-10", "certainty": "confirmed"},
    )
    assert response.status_code == 302
    response = submit(
        editor_client,
        f"{url}/charges/new",
        {"offence": "Incitement", "max_sentence_kind": "unknown", "stage": "alleged"},
    )
    assert response.status_code == 302
    page = text(editor_client.get(url))
    edits, downloads = _tables(page)
    assert edits == [
        ("Editor confidential", "Charge added: Incitement"),
        ("Editor confidential", "Status recorded: house arrest"),
        ("test", "Charge added: Treason"),
        ("test", "Status recorded: jailed"),
        ("test", "Case opened"),
    ]
    assert downloads == []
    assert "Who downloaded this" not in page
    for code in ("status_event.create", "charge.create", "case.create", "editor.confidential@"):
        assert code not in page[page.index('id="history-heading"') :]


def test_tools_are_named_for_what_they_are_and_edits_say_what_changed(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Kem Sokha"]
    audit.record(
        "cli",
        "case.update",
        "case",
        case_id,
        before={"title": "old", "summary": "s", "country": "KH"},
        after={"title": "new", "summary": "s", "country": "KH"},
        case_ref=case_id,
    )
    audit.record("worker", "dossier.ready", "dossier", "d1", case_ref=case_id)
    db.session.commit()
    edits, downloads = _tables(text(editor_client.get(f"/cases/{case_id}")))
    assert edits[0] == ("command line", "Case edited: title")
    assert downloads == [("background worker", "Dossier made")]


def test_downloads_are_listed_apart_from_edits(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Kem Sokha"]
    url = f"/cases/{case_id}"
    request_via_web(editor_client, url, kind="case", case_id=case_id, audience="public")
    # A download as the service writes it (rendering needs the worker and poppler's fonts).
    audit.record(
        _user("editor.confidential@example.org"),
        "dossier.download",
        "dossier",
        "d1",
        case_ref=case_id,
    )
    db.session.commit()
    page = text(editor_client.get(url))
    edits, downloads = _tables(page)
    assert "Who downloaded this" in page
    assert downloads == [
        ("Editor confidential", "Dossier downloaded"),
        ("Editor confidential", "Dossier requested"),
    ]
    assert all(not what.startswith("Dossier") for _, what in edits)


def _user(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()
