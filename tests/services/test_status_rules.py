"""The current custody status follows the latest event by occurred-on, not by recording order."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select

from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Case, Person, StatusEvent
from monitor.services import ValidationError
from monitor.services.cases import CaseInput, StatusInput, create_case, record_status
from monitor.services.people import PersonInput, create_person


def _case(status: str = "at_liberty", since: str = "2017-01") -> Case:
    person = create_person("test", PersonInput(name="Mao Monyvann"))
    return create_case(
        "test",
        person,
        CaseInput(country="KH", title="Mao Monyvann"),
        StatusInput(status=status, occurred_on=PartialDate.parse(since)),
    )


def test_new_case_starts_with_one_event_and_its_status(app: Flask) -> None:
    case = _case("at_liberty", "2017-10")
    db.session.commit()
    assert case.status == "at_liberty"
    assert case.since is not None
    assert case.since.iso() == "2017-10"
    assert case.since.human() == "October 2017"
    assert [e.status for e in case.events] == ["at_liberty"]
    assert case.events[0].previous_status is None


def test_later_event_becomes_the_current_status(app: Flask) -> None:
    case = _case("at_liberty", "2017-01")
    event = record_status(
        "test", case, StatusInput(status="jailed", occurred_on=PartialDate.parse("2017-09-03"))
    ).event
    db.session.commit()
    assert case.status == "jailed"
    assert case.since == PartialDate.parse("2017-09-03")
    assert event.previous_status == "at_liberty"
    assert event.changed_current is True


def test_backfilled_event_does_not_change_status(app: Flask) -> None:
    case = _case("jailed", "2017-09")
    old = record_status(
        "test", case, StatusInput(status="fled", occurred_on=PartialDate.parse("2015"))
    )
    db.session.commit()
    assert case.status == "jailed"
    assert case.since is not None
    assert case.since.iso() == "2017-09"
    assert old.became_current is False
    assert old.event.changed_current is False
    # The history is re-linked: the back-filled event comes first, the jailing now follows it.
    assert [(e.status, e.previous_status) for e in case.events] == [
        ("fled", None),
        ("jailed", "fled"),
    ]


def test_same_day_events_the_one_recorded_last_wins(app: Flask) -> None:
    case = _case("at_liberty", "2017-09-03")
    record_status(
        "test", case, StatusInput(status="jailed", occurred_on=PartialDate.parse("2017-09-03"))
    )
    db.session.commit()
    assert case.status == "jailed"


def test_repeating_the_current_status_is_history_not_a_change(app: Flask) -> None:
    case = _case("jailed", "2017-09")
    recorded = record_status(
        "test", case, StatusInput(status="jailed", occurred_on=PartialDate.parse("2018"))
    )
    event = recorded.event
    assert recorded.became_current
    assert case.status == "jailed"
    assert event.changed_current is False


def test_future_date_is_refused_and_nothing_is_saved(app: Flask) -> None:
    case = _case()
    db.session.commit()
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    with pytest.raises(ValidationError) as caught:
        record_status("test", case, StatusInput(status="jailed", occurred_on=PartialDate(tomorrow)))
    assert "occurred_on" in caught.value.errors
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(StatusEvent)) == 1
    assert db.session.get(Case, case.id).status == "at_liberty"  # type: ignore[union-attr]


def test_unknown_status_and_certainty_are_named(app: Flask) -> None:
    case = _case()
    with pytest.raises(ValidationError) as caught:
        record_status(
            "test",
            case,
            StatusInput(status="released", occurred_on=PartialDate.parse("2018"), certainty="sure"),
        )
    assert set(caught.value.errors) == {"status", "certainty"}
    assert "at_liberty" in caught.value.errors["status"]


def test_invalid_case_creation_leaves_no_case_behind(app: Flask) -> None:
    person = create_person("test", PersonInput(name="Someone"))
    db.session.commit()
    with pytest.raises(ValidationError) as caught:
        create_case(
            "test",
            person,
            CaseInput(country="XX", title="", confidentiality="secret"),
            StatusInput(status="jailed", occurred_on=PartialDate.parse("2017")),
        )
    assert set(caught.value.errors) == {"country", "title", "confidentiality"}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert db.session.scalar(select(func.count()).select_from(Person)) == 1


@pytest.mark.parametrize(
    ("text", "iso", "human"),
    [
        ("2017", "2017", "2017"),
        ("2017-09", "2017-09", "September 2017"),
        ("2017-09-03", "2017-09-03", "3 September 2017"),
    ],
)
def test_partial_dates_keep_their_precision(text: str, iso: str, human: str) -> None:
    date = PartialDate.parse(text)
    assert date.iso() == iso
    assert date.human() == human


@pytest.mark.parametrize("text", ["17-09", "2017-13", "2017-02-30", "September 2017", ""])
def test_malformed_partial_dates_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"YYYY|calendar"):
        PartialDate.parse(text)
