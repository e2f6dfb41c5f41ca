"""A case's History in the reader's language: its action labels, the tools that acted and the
status named in each line are translated; the entries themselves stay as logged."""

from __future__ import annotations

from flask.testing import FlaskClient

from monitor.extensions import db
from monitor.services import audit
from monitor.web.i18n import LANGUAGE_COOKIE
from tests.support.web import submit, text

# The History's English wording of what this test records: none left on the Khmer page.
ENGLISH = ["Status recorded", "Charge added", "Case opened", "Case edited", "command line"]


def test_the_history_reads_in_khmer(editor_client: FlaskClient, demo: dict[str, str]) -> None:
    url = f"/cases/{demo['Kem Sokha']}"
    response = submit(
        editor_client,
        f"{url}/status",
        {"status": "house_arrest", "occurred_on": "2018-09-10", "certainty": "confirmed"},
    )
    assert response.status_code == 302
    audit.record(
        "cli",
        "case.update",
        "case",
        demo["Kem Sokha"],
        before={"title": "old", "summary": "s"},
        after={"title": "new", "summary": "s"},
        case_ref=demo["Kem Sokha"],
    )
    db.session.commit()
    editor_client.set_cookie(LANGUAGE_COOKIE, "km")
    page = text(editor_client.get(url))
    history = page[page.index('id="history-heading"') :]

    assert '<html lang="km" dir="ltr">' in page
    assert "បានកត់ត្រាស្ថានភាព៖ ឃុំខ្លួននៅផ្ទះ" in history  # Status recorded: house arrest
    assert "បានកត់ត្រាស្ថានភាព៖ ជាប់ពន្ធនាគារ" in history  # Status recorded: jailed
    assert "បានកែករណី៖ ចំណងជើង" in history  # Case edited: title
    assert "បន្ទាត់បញ្ជា" in history  # the command line, as the actor
    assert "បានបើកករណី" in history  # Case opened
    assert [english for english in ENGLISH if english in history] == []
