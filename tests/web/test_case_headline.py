"""The case page headlines the person and their current status; a title naming another status
is flagged on the page and in the edit form (issue 16, part 4)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from monitor.domain import CustodyStatus
from monitor.presentation.headline import stale_title
from tests.support.alerts import record
from tests.support.web import submit, text


@pytest.mark.parametrize(
    ("title", "status", "word"),
    [
        ("Kem Sokha: jailed on treason charges", "house_arrest", "jailed"),
        ("Imprisoned for a Facebook post", "at_liberty", "Imprisoned"),
        ("Mu Sochua: fled threatened arrest", "jailed", "fled"),
        ("Held under house  arrest", "jailed", "house arrest"),
        ("Released on bail", "jailed", "Released"),
    ],
)
def test_a_title_naming_another_status_is_stale(title: str, status: str, word: str) -> None:
    stale = stale_title(title, status)
    assert stale is not None
    assert stale.word == word
    assert stale.current is CustodyStatus(status)


@pytest.mark.parametrize(
    ("title", "status"),
    [
        ("Kem Sokha: jailed on treason charges", "jailed"),
        ("Mao Monyvann: CNRP MP", "jailed"),  # names no status at all
        ("Released after two years in prison", "at_liberty"),  # tells the story, ends right
        ("Under house arrest since 2018", "house_arrest"),
        ("Deadline for the appeal", "jailed"),  # "dead" only as a whole word
        ("", "jailed"),
    ],
)
def test_a_title_that_fits_or_names_no_status_is_not_stale(title: str, status: str) -> None:
    assert stale_title(title, status) is None


def headline(page: str) -> str:
    """The page head: the h1, the status line under it and the title, tags stripped."""
    start = page.index('<div class="headline">')
    block = page[start : page.index("</p>", page.index('class="case-title"', start))]
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


def test_the_headline_is_the_person_and_the_current_status_with_the_title_below(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Kem Sokha"]
    page = text(viewer_client.get(f"/cases/{case_id}"))
    assert headline(page) == (
        "Kem Sokha កឹម សុខា jailed since September 2017 "
        "Case title: Kem Sokha: jailed on treason charges"
    )
    assert 'id="stale-title"' not in page  # the title still fits

    record(case_id, "house_arrest", "2018-09-10")
    page = text(viewer_client.get(f"/cases/{case_id}"))
    assert headline(page) == (
        "Kem Sokha កឹម សុខា house arrest since 10 September 2018 "
        "Case title: Kem Sokha: jailed on treason charges"
    )
    warning = page[page.index('id="stale-title"') :]
    warning = " ".join(re.sub(r"<[^>]+>", " ", warning[: warning.index("</div>")]).split())
    assert "The title may be out of date." in warning
    assert "It says “jailed”, but the current custody status is house arrest" in warning
    assert "since 10 September 2018" in warning


def test_the_edit_form_warns_about_the_title_until_it_is_changed(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Kem Sokha"]
    record(case_id, "house_arrest", "2018-09-10")
    form = text(editor_client.get(f"/cases/{case_id}/edit"))
    assert "It says “jailed”, but the current custody status is house arrest" in form
    # A re-rendered form judges the title as typed.
    response = submit(
        editor_client,
        f"/cases/{case_id}/edit",
        {"country": "", "title": "Kem Sokha: imprisoned", "confidentiality": "public"},
    )
    assert response.status_code == 422
    assert "It says “imprisoned”" in text(response)
    response = submit(
        editor_client,
        f"/cases/{case_id}/edit",
        {"country": "KH", "title": "Kem Sokha: treason case", "confidentiality": "public"},
        follow=True,
    )
    assert "Case updated." in text(response)
    assert 'id="stale-title"' not in text(response)
    assert 'id="stale-title"' not in text(editor_client.get(f"/cases/{case_id}/edit"))
