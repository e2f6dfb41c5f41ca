"""An organization's members are read by name from an index of names copied onto memberships:
the copy follows every rename."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from monitor.extensions import db
from monitor.models import Organization, Person, User
from monitor.services import people, queries
from tests.support.accounts import make_user


def _names(admin: User, org: Organization) -> list[str]:
    page = queries.organization_members_page(admin, org, 1, 50)
    return [row.membership.person.name for row in page.rows]


def test_members_stay_in_name_order_when_a_person_is_renamed(app: Flask) -> None:
    org = people.create_organization(
        "test", people.OrganizationInput(name="Union of Names", kind="union")
    )
    members = {
        name: people.create_person("test", people.PersonInput(name=name))
        for name in ("Bora", "Chanthy", "Dara")
    }
    for person in members.values():
        people.add_membership("test", person, org, "member")
    people.add_membership("test", members["Dara"], org, "treasurer")  # two roles, two rows
    db.session.commit()
    admin = make_user("admin", "confidential")
    assert _names(admin, org) == ["Bora", "Chanthy", "Dara", "Dara"]

    # Through the service, then behind its back (an import, a script): the order follows.
    people.update_person("test", members["Dara"], people.PersonInput(name="Amara"))
    db.session.commit()
    assert _names(admin, org) == ["Amara", "Amara", "Bora", "Chanthy"]
    db.session.execute(update(Person).where(Person.id == members["Bora"].id).values(name="Sokun"))
    db.session.commit()
    db.session.expire_all()
    assert _names(admin, org) == ["Amara", "Amara", "Chanthy", "Sokun"]
