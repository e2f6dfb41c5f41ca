"""The count rows behind the dashboard and organization pages equal a brute-force count of the
cases, per clearance, after every kind of write: new cases, status changes, edits of level and
country, deletions, memberships added and removed (one by one and many in one statement).

The data is generated from a seeded random generator, so a failure repeats.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import delete, insert, select

from monitor import authz
from monitor.domain import CustodyStatus, PartialDate
from monitor.extensions import db
from monitor.models import Case, Membership, Organization, Person, User
from monitor.services import queries
from monitor.services.cases import CaseInput, StatusInput, create_case, record_status, update_case
from monitor.services.people import (
    OrganizationInput,
    PersonInput,
    add_membership,
    create_organization,
    create_person,
    member_counts,
    remove_membership,
)
from tests.support.accounts import make_user

LEVELS = ["public", "restricted", "confidential"]
COUNTRIES = ["KH", "MM", "BY"]
STATUSES = [s.value for s in CustodyStatus]


def _brute_force(
    user: User | None,
) -> tuple[Counter[str], dict[str, Counter[str]], dict[str, Counter[str]]]:
    """Status counts overall, per country and per organization, counted from the rows."""
    levels = set(authz.visible_levels(user))
    cases = [c for c in db.session.scalars(select(Case)) if c.confidentiality in levels]
    overall = Counter(c.status for c in cases)
    by_country: dict[str, Counter[str]] = {}
    for c in cases:
        by_country.setdefault(c.country, Counter())[c.status] += 1
    members: dict[int, set[int]] = {}
    for m in db.session.scalars(select(Membership)):
        members.setdefault(m.organization_id, set()).add(m.person_id)
    by_org: dict[str, Counter[str]] = {}
    for org in db.session.scalars(select(Organization)):
        by_org[org.public_id] = Counter(
            c.status for c in cases if c.person_id in members.get(org.id, set())
        )
    return overall, by_country, by_org


def _members_brute_force(user: User) -> dict[int, int]:
    """Visible members per organization: a person with no case, or a case within the clearance."""
    levels = set(authz.visible_levels(user))
    cases_of: dict[int, set[str]] = {}
    for c in db.session.scalars(select(Case)):
        cases_of.setdefault(c.person_id, set()).add(c.confidentiality)
    members: dict[int, set[int]] = {}
    for m in db.session.scalars(select(Membership)):
        if m.person_id not in cases_of or cases_of[m.person_id] & levels:
            members.setdefault(m.organization_id, set()).add(m.person_id)
    return {org_id: len(people) for org_id, people in members.items()}


def _check(users: list[User | None], when: str) -> None:
    db.session.flush()
    db.session.expire_all()
    for user in users:
        who = user.clearance if user else "anonymous"
        if user is not None:  # members known, as the organization pages count them
            members = _members_brute_force(user)
            assert member_counts(user) == members, f"{when}, {who}: members"
            for org in db.session.scalars(select(Organization)):
                assert member_counts(user, org) == (
                    {org.id: members[org.id]} if org.id in members else {}
                ), f"{when}, {who}: members of {org.name}"
        overall, by_country, by_org = _brute_force(user)
        assert queries.status_counts(user).counts == +overall, f"{when}, {who}: overall"
        assert {k: v.counts for k, v in queries.counts_by_country(user).items()} == {
            k: v for k, v in by_country.items() if v
        }, f"{when}, {who}: by country"
        counted = {org.public_id: c.counts for org, c in queries.counts_by_organization(user)}
        assert counted == {k: +v for k, v in by_org.items()}, f"{when}, {who}: by organization"
        for org in db.session.scalars(select(Organization)):
            assert queries.organization_status_counts(user, org).counts == +by_org[org.public_id]


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_equal_a_brute_force_count_per_clearance_after_every_write(
    app: Flask, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - generated test data
    users: list[User | None] = [None, *(make_user("viewer", level) for level in LEVELS)]
    orgs = [
        create_organization("test", OrganizationInput(name=f"Party {i}", kind="political_party"))
        for i in range(3)
    ]
    people = [create_person("test", PersonInput(name=f"Person {i}")) for i in range(20)]
    for person in people:
        for org in rng.sample(orgs, rng.randint(0, 2)):
            add_membership("test", person, org, "member")
            if rng.random() < 0.3:  # a second role in the same organization counts once
                add_membership("test", person, org, "spokesperson")
    cases: list[Case] = []
    for i in range(40):
        cases.append(
            create_case(
                "test",
                rng.choice(people),
                CaseInput(country=rng.choice(COUNTRIES), title=f"Case {i}",
                          confidentiality=rng.choice(LEVELS)),
                StatusInput(status=rng.choice(STATUSES), occurred_on=PartialDate.parse("2020-01")),
            )
        )  # fmt: skip
    _check(users, "after creating")

    for month, case in enumerate(rng.sample(cases, 15), start=1):
        when = PartialDate.parse(f"2024-{month % 12 + 1:02d}")
        record_status("test", case, StatusInput(status=rng.choice(STATUSES), occurred_on=when))
    _check(users, "after status changes")

    for case in rng.sample(cases, 15):
        update_case(
            "test",
            case,
            CaseInput(country=rng.choice(COUNTRIES), title=case.title,
                      confidentiality=rng.choice(LEVELS)),
        )  # fmt: skip
    _check(users, "after edits of level and country")

    for case in rng.sample(cases, 8):
        db.session.delete(case)
        cases.remove(case)
    _check(users, "after deleting cases")

    for membership in rng.sample(list(db.session.scalars(select(Membership))), 6):
        remove_membership("test", membership)
    _check(users, "after removing memberships")

    # Many rows in one statement, as a bulk import writes them: a person's two roles in one
    # organization, then every membership of some people deleted at once.
    person = rng.choice(people)
    db.session.execute(
        insert(Membership),
        [
            {"public_id": f"bulk{n}", "person_id": person.id, "organization_id": orgs[0].id,
             "role": role}
            for n, role in enumerate(["treasurer", "founder"])
        ],
    )  # fmt: skip
    _check(users, "after a bulk insert of memberships")
    gone = [p.id for p in rng.sample(people, 5)] + [person.id]
    db.session.execute(delete(Membership).where(Membership.person_id.in_(gone)))
    _check(users, "after a bulk delete of memberships")

    # A case moved to another person (and so to other organizations).
    moved = rng.choice(cases)
    moved.person = rng.choice([p for p in people if p.id not in gone])
    _check(users, "after moving a case to another person")
    db.session.commit()
    _check(users, "after the commit")


def test_an_organization_summary_counts_each_member_case_once(app: Flask) -> None:
    org = create_organization("test", OrganizationInput(name="Party", kind="political_party"))
    person = create_person("test", PersonInput(name="Two Roles"))
    add_membership("test", person, org, "member")
    add_membership("test", person, org, "leader")
    create_case(
        "test",
        person,
        CaseInput(country="KH", title="Case", confidentiality="restricted"),
        StatusInput(status="jailed", occurred_on=PartialDate.parse("2020-01")),
    )
    db.session.flush()
    assert queries.organization_status_counts(make_user("viewer", "restricted"), org).total == 1
    assert queries.organization_status_counts(make_user("viewer", "public"), org).total == 0
    assert db.session.scalar(select(Person.id).where(Person.id == person.id)) is not None
