"""Clearance filters every read: lists, search, counts, organization members, latest changes."""

from __future__ import annotations

from flask import Flask

from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Organization
from monitor.services import queries
from monitor.services.cases import CaseInput, StatusInput, create_case
from monitor.services.people import PersonInput, add_membership, create_person
from tests.support.accounts import make_user


def _secret_case(org: Organization, level: str, name: str) -> None:
    person = create_person("test", PersonInput(name=name))
    add_membership("test", person, org, "Member of Parliament")
    create_case(
        "test",
        person,
        CaseInput(country="KH", title=f"{name} case", confidentiality=level),
        StatusInput(status="disappeared", occurred_on=PartialDate.parse("2018-02")),
    )


def test_each_clearance_sees_only_its_levels(app: Flask, demo: dict[str, str]) -> None:
    org = db.session.scalars(
        queries.select(Organization).where(Organization.short_name == "CNRP")
    ).one()
    _secret_case(org, "restricted", "Restricted Person")
    _secret_case(org, "confidential", "Confidential Person")
    db.session.commit()
    public = make_user("viewer", "public")
    restricted = make_user("viewer", "restricted")
    confidential = make_user("viewer", "confidential")

    def names(user: object, **filters: object) -> list[str]:
        page = queries.list_cases(user, queries.CaseFilter(**filters))  # type: ignore[arg-type]
        return sorted(c.person.name for c in page.items)

    assert names(public) == ["Kem Sokha", "Mao Monyvann", "Mu Sochua"]
    assert "Restricted Person" in names(restricted)
    assert "Confidential Person" not in names(restricted)
    assert len(names(confidential)) == 5
    # Searching or filtering for a hidden case finds nothing, rather than revealing it.
    assert names(public, q="confidential") == []
    assert names(public, status="disappeared") == []
    assert names(restricted, confidentiality="confidential") == []

    assert queries.status_counts(public).total == 3
    assert queries.status_counts(public).counts["disappeared"] == 0
    assert queries.status_counts(confidential).counts["disappeared"] == 2
    assert queries.counts_by_country(public)["KH"].total == 3
    [(cnrp, cnrp_counts)] = queries.counts_by_organization(public)
    assert cnrp.short_name == "CNRP"
    assert cnrp_counts.total == 3

    members = queries.organization_members(public, org)
    assert sorted(m.membership.person.name for m in members) == [
        "Kem Sokha",
        "Mao Monyvann",
        "Mu Sochua",
    ]
    assert queries.organization_counts(members).counts == {"jailed": 1, "fled": 1, "at_liberty": 1}
    assert all(e.case.confidentiality == "public" for e in queries.latest_changes(public))
    assert {p.name for p in db.session.scalars(queries.visible_people(public))} == {
        "Kem Sokha",
        "Mao Monyvann",
        "Mu Sochua",
    }
    assert queries.status_counts(None).total == 0  # anonymous sees nothing
