"""The CSV export reads each case's first membership, current event and that event's first source
by LATERAL joins on PostgreSQL and by correlated subqueries elsewhere: both give the same bytes."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import Case, Organization, Source, StatusEvent
from monitor.services import exports, people
from monitor.services.seed import seed_synthetic
from tests.support.accounts import make_user


def _register() -> None:
    """The demo (sources, identifiers, aliases, charges) and synthetic cases, with a second
    membership, a second source on an event and events recorded out of date order."""
    seed_synthetic(40, seed=11)
    sources = db.session.scalars(select(Source).order_by(Source.id)).all()
    events = db.session.scalars(select(StatusEvent).order_by(StatusEvent.id).limit(30)).all()
    for number, event in enumerate(events):
        cited = [sources[(number + k) % len(sources)] for k in range(1 + number % 3)]
        event.sources = list(dict.fromkeys([*event.sources, *cited]))
    organizations = db.session.scalars(select(Organization).order_by(Organization.id)).all()
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    # Every fifth case's person (by position: ids start where earlier tests left the sequence),
    # each once though a person may have two cases, unless already a member there.
    for person in dict.fromkeys(case.person for case in cases[4::5]):
        if not people.holds(person, organizations[-1], "member"):
            people.add_membership("test", person, organizations[-1], "member")
    db.session.commit()


@pytest.mark.usefixtures("demo")
def test_the_lateral_and_the_portable_reading_export_the_same_bytes(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register()
    admin, viewer = make_user("admin", "confidential"), make_user("viewer", "public")
    organization = db.session.scalars(select(Organization).order_by(Organization.id)).first()
    readings = {}
    for lateral in (True, False) if exports._laterals() else (False,):
        monkeypatch.setattr(exports, "_laterals", lambda lateral=lateral: lateral)
        readings[lateral] = [
            "".join(exports.cases_csv(user, org))
            for user in (admin, viewer)
            for org in (None, organization)
        ]
    first = next(iter(readings.values()))
    # The register exercises what the joins pick: sources and organizations are cited.
    assert "Kem Sokha" in first[0]
    assert any(source.title in first[0] for source in db.session.scalars(select(Source)))
    assert first[2] != first[0]
    for reading in readings.values():
        assert reading == first
