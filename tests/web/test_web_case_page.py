"""The case page and the record-status form: timeline, charges, exposure, back-fills."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from monitor.models import Case, Source, StatusEvent
from tests.support.accounts import client_for
from tests.support.web import count, open_case, status_count, submit, text


def badge_of(page: str) -> str:
    """The current status badge at the top of a case page."""
    match = re.search(r'class="current-status"><span class="badge badge-(\w+)">', page)
    assert match
    return match.group(1)


def test_case_page_shows_what_a_reader_checks(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = text(viewer_client.get(f"/cases/{demo['Kem Sokha']}"))
    assert badge_of(page) == "jailed"
    assert "since <strong>September 2017</strong>" in page
    assert "កឹម សុខា" in page
    assert "Treason" in page
    assert "Criminal Code, art. 443" in page
    assert "maximum 30 years" in page
    assert "charged" in page
    assert "acting party leader" in page  # membership
    assert "CNRP" in page
    assert "AFP" in page  # the source's publisher on the timeline
    assert "CNRP MPs flee" in page
    # The audit history: when, by whom, what (in words), newest first.
    history = re.findall(
        r'<tr><td data-label="When">(\d{4}-\d\d-\d\d \d\d:\d\d UTC)</td>'
        r'<td data-label="Who">([^<]+)</td><td data-label="What">([^<]+)</td></tr>',
        page,
    )
    assert [(actor, action) for _, actor, action in history] == [
        ("test", "Charge added: Treason"),
        ("test", "Status recorded: jailed"),
        ("test", "Case opened"),
    ]
    assert "Record status change" not in page  # viewers get no edit controls


def test_editor_sees_edit_controls(editor_client: FlaskClient, demo: dict[str, str]) -> None:
    case_id = demo["Kem Sokha"]
    page = text(editor_client.get(f"/cases/{case_id}"))
    assert f"/cases/{case_id}/status" in page
    assert f"/cases/{case_id}/charges/new" in page
    assert f"/cases/{case_id}/edit" in page
    assert "/charges/" in page


def test_timeline_shows_location_certainty_and_previous_status(
    viewer_client: FlaskClient, demo: dict[str, str]
) -> None:
    page = text(viewer_client.get(f"/cases/{demo['Mu Sochua']}"))
    assert "unknown location" in page
    assert "October 2017" in page
    assert "confirmed" in page


def test_recording_a_later_event_changes_the_badge_and_dashboard(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Mao Monyvann"]
    before = text(editor_client.get("/"))
    assert status_count(before, "jailed") == 1
    assert status_count(before, "at_liberty") == 1
    response = submit(
        editor_client,
        f"/cases/{case_id}/status",
        {
            "status": "jailed",
            "occurred_on": "2024-03-05",
            "location": "Prey Sar prison",
            "description": "Arrested at home.",
            "certainty": "reported",
            "source_title": "Opposition MP arrested",
            "source_publisher": "HRW",
            "source_url": "https://www.example.org/report",
            "source_published": "2024-03",
        },
    )
    assert response.status_code == 302
    assert response.location == f"/cases/{case_id}"
    page = text(editor_client.get(f"/cases/{case_id}"))
    assert badge_of(page) == "jailed"
    assert "since <strong>5 March 2024</strong>" in page
    assert "Prey Sar prison" in page
    assert '<a href="https://www.example.org/report" rel="noopener noreferrer">' in page
    assert "HRW" in page
    after = text(editor_client.get("/"))
    assert status_count(after, "jailed") == 2
    assert status_count(after, "at_liberty") == 0
    assert "Mao Monyvann" in after  # in the latest changes


def test_backfilled_older_event_joins_the_timeline_but_not_the_badge(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Kem Sokha"]
    response = submit(
        editor_client,
        f"/cases/{case_id}/status",
        {
            "status": "at_liberty",
            "occurred_on": "2016",
            "about": "y",
            "description": "Pardoned earlier.",
            "certainty": "unverified",
        },
        follow=True,
    )
    assert response.status_code == 200
    page = text(response)
    assert "current status is unchanged" in page
    assert badge_of(page) == "jailed"
    assert "since <strong>September 2017</strong>" in page
    timeline = page[page.index('class="timeline"') :]
    assert timeline.index("c. 2016") < timeline.index("September 2017")  # oldest first
    assert "Pardoned earlier." in timeline
    dashboard = text(editor_client.get("/"))
    assert status_count(dashboard, "jailed") == 1


def test_an_existing_source_can_be_cited(editor_client: FlaskClient, demo: dict[str, str]) -> None:
    from monitor.extensions import db

    source = db.session.query(Source).one()
    case_id = demo["Mu Sochua"]
    form = text(editor_client.get(f"/cases/{case_id}/status"))
    assert f'value="{source.public_id}"' in form
    response = submit(
        editor_client,
        f"/cases/{case_id}/status",
        {
            "status": "fled",
            "occurred_on": "2018-01",
            "certainty": "confirmed",
            "source": source.public_id,
        },
    )
    assert response.status_code == 302
    assert count(Source) == 1
    event = db.session.query(StatusEvent).order_by(StatusEvent.id.desc()).first()
    assert event is not None
    assert [s.public_id for s in event.sources] == [source.public_id]


def test_record_status_errors_rerender_with_422_and_save_nothing(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    case_id = demo["Mao Monyvann"]
    events, sources = count(StatusEvent), count(Source)
    bad_inputs = [
        ({"occurred_on": "2017-13"}, "not a real calendar date"),
        ({"occurred_on": "March 2017"}, "use YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"occurred_on": "2999-01-01"}, "cannot be in the future"),
        ({"source_title": "", "source_url": "https://example.org/x"}, "is required"),
        ({"source_title": "Report", "source_url": "javascript:alert(1)"}, "http:// or https://"),
        ({"source": "not-a-source"}, "choose a source from the list"),
    ]
    for changes, message in bad_inputs:
        data = {"status": "jailed", "occurred_on": "2024-01-01", "certainty": "confirmed"}
        response = submit(editor_client, f"/cases/{case_id}/status", {**data, **changes})
        assert response.status_code == 422, changes
        page = text(response)
        assert message in page, (changes, message)
        assert "Nothing was saved." in page
    assert count(StatusEvent) == events
    assert count(Source) == sources
    assert badge_of(text(editor_client.get(f"/cases/{case_id}"))) == "at_liberty"


def test_sources_cited_only_above_clearance_are_not_offered(
    app: Flask, demo: dict[str, str]
) -> None:
    from monitor.extensions import db
    from monitor.services import sources

    secret_source = sources.create_source("test", sources.SourceInput(title="Informant memo"))
    open_case("Hidden Informant", level="confidential", sources=[secret_source])
    fresh = sources.create_source("test", sources.SourceInput(title="Uncited wire story"))
    db.session.commit()
    secret_id, fresh_id = secret_source.public_id, fresh.public_id
    editor = client_for(app, "editor", "public")
    form = text(editor.get(f"/cases/{demo['Mu Sochua']}/status"))
    assert "Informant memo" not in form
    assert "Uncited wire story" in form
    assert "CNRP MPs flee" in form
    response = submit(
        editor,
        f"/cases/{demo['Mu Sochua']}/status",
        {"status": "fled", "occurred_on": "2018", "certainty": "confirmed", "source": secret_id},
    )
    assert response.status_code == 422
    assert fresh_id in form
    admin = client_for(app, "admin", "confidential")
    assert "Informant memo" in text(admin.get(f"/cases/{demo['Mu Sochua']}/status"))


def test_user_text_is_escaped(editor_client: FlaskClient, demo: dict[str, str]) -> None:
    from monitor.extensions import db

    payload = "<script>alert(1)</script>"
    response = submit(
        editor_client,
        "/cases/new",
        {
            "person_name": payload,
            "person_name_native": '"><img src=x>',
            "country": "KH",
            "title": payload,
            "confidentiality": "public",
            "status": "jailed",
            "status_since": "2020",
        },
    )
    assert response.status_code == 302
    case = db.session.query(Case).order_by(Case.id.desc()).first()
    assert case is not None
    for url in [response.location, "/cases", "/", "/people", f"/people/{case.person.public_id}"]:
        page = text(editor_client.get(url))
        assert payload not in page, url
        assert "<img src=x>" not in page, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(editor_client.get(response.location))


def test_case_page_queries_do_not_grow_with_its_history(
    editor_client: FlaskClient, demo: dict[str, str]
) -> None:
    from sqlalchemy import event

    from monitor.extensions import db

    url = f"/cases/{demo['Kem Sokha']}"

    def statements() -> int:
        seen: list[str] = []

        def record(*args: object) -> None:
            seen.append(str(args[2]))

        db.session.remove()  # a fresh session, as a real request has
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert editor_client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(seen)

    before = statements()
    for year in range(2010, 2016):
        response = submit(
            editor_client,
            f"{url}/status",
            {"status": "jailed", "occurred_on": str(year), "certainty": "confirmed"},
        )
        assert response.status_code == 302
        response = submit(
            editor_client,
            f"{url}/charges/new",
            {"offence": f"count {year}", "max_sentence_kind": "unknown", "stage": "alleged"},
        )
        assert response.status_code == 302, text(response)
    page = text(editor_client.get(url))
    assert all(f"count {year}" in page for year in range(2010, 2016))
    # The person with memberships rides in the case's query; timeline and charges take one
    # query each with their sources; then audit history, follow state and alert counts.
    assert statements() == before <= 7
