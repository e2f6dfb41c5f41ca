"""Opening a case: one use case for the web form, the API and the import."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import AuditEntry, Case, Membership, Organization, Person
from monitor.services import ValidationError
from monitor.services.cases import CaseInput, Opening, StatusInput, open_case
from monitor.services.people import PersonInput
from tests.support.accounts import make_user


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _opening(**changes: object) -> Opening:
    fields: dict[str, object] = {
        "case": CaseInput(country="KH", title="Sam Rainsy: exile"),
        "status": StatusInput(status="fled", occurred_on=PartialDate.parse("2015-11")),
        "new_person": PersonInput(name="Sam Rainsy"),
        **changes,
    }
    return Opening(**fields)  # type: ignore[arg-type]


def test_open_case_creates_person_case_status_and_membership(
    app: Flask, demo: dict[str, str]
) -> None:
    editor = make_user("editor", "public")
    cnrp = db.session.scalars(select(Organization)).one()
    case = open_case(editor, _opening(organization=cnrp, role="president"))
    db.session.commit()
    assert case.person.name == "Sam Rainsy"
    assert case.status == "fled"
    assert [(m.organization.short_name, m.role) for m in case.person.memberships] == [
        ("CNRP", "president")
    ]


def test_open_case_for_someone_already_in_the_organization_adds_no_membership(
    app: Flask, demo: dict[str, str]
) -> None:
    editor = make_user("editor", "public")
    person = db.session.scalars(select(Person).where(Person.name == "Mu Sochua")).one()
    held = [(m.organization_id, m.role) for m in person.memberships]
    assert held, "the demo's Mu Sochua is a CNRP member"
    org = db.session.get(Organization, held[0][0])
    memberships = _count(Membership)
    open_case(editor, _opening(new_person=None, person=person, organization=org, role=held[0][1]))
    db.session.commit()
    assert _count(Membership) == memberships
    assert [(m.organization_id, m.role) for m in person.memberships] == held


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"case": CaseInput(country="KH", title="t", confidentiality="restricted")},
            "confidentiality",
        ),
        ({"role": "MP"}, "role"),
        ({"new_person": None}, "person"),
        ({"new_person": PersonInput(name="")}, "person.name"),
        (
            {"status": StatusInput(status="fled", occurred_on=PartialDate.parse("2999"))},
            "status_since",
        ),
    ],
)
def test_refused_opening_names_the_field_and_writes_nothing(
    app: Flask, demo: dict[str, str], changes: dict[str, object], field: str
) -> None:
    editor = make_user("editor", "public")
    db.session.commit()
    before = (_count(Person), _count(Case), _count(Membership), _count(AuditEntry))
    with pytest.raises(ValidationError) as refused:
        open_case(editor, _opening(**changes))
    db.session.rollback()
    assert field in refused.value.errors
    assert (_count(Person), _count(Case), _count(Membership), _count(AuditEntry)) == before
