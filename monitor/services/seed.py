"""Demo data from the AFP story (shared/reference/cnrp-mps-flee-article.txt) and synthetic data.

The demo holds the article's facts and nothing invented.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from monitor.domain import Certainty, PartialDate, Sentence, SentenceKind
from monitor.extensions import db
from monitor.models import Case, Membership, Organization, Person, StatusEvent
from monitor.services import Actor, charges, sources
from monitor.services.cases import CaseInput, StatusInput, create_case
from monitor.services.people import (
    OrganizationInput,
    PersonInput,
    add_membership,
    create_organization,
    create_person,
)

ARTICLE_TITLE = "CNRP MPs flee ‘dictator’"


def demo_loaded() -> bool:
    """Whether the demo data is already in the database."""
    return (
        db.session.scalars(select(Organization).where(Organization.short_name == "CNRP")).first()
        is not None
    )


def seed_demo(actor: Actor) -> dict[str, Case]:
    """Load the CNRP demo: the party, Kem Sokha, Mu Sochua, Mao Monyvann and the AFP source."""
    article = sources.create_source(
        actor,
        sources.SourceInput(
            title=ARTICLE_TITLE,
            publisher="AFP",
            published_on=PartialDate.parse("2017-10"),
            quote=(
                "Last month, acting party leader Kem Sokha was jailed on treason charges and more "
                "than 20 opposition politicians have since fled the country"
            ),
        ),
    )
    cnrp = create_organization(
        actor,
        OrganizationInput(
            name="Cambodia National Rescue Party",
            short_name="CNRP",
            kind="political_party",
            country="KH",
            seats=55,
        ),
    )
    people = [
        (
            PersonInput(
                name="Kem Sokha", name_native="កឹម សុខា", nationality="KH", occupation="Politician"
            ),
            "acting party leader",
            "Kem Sokha: jailed on treason charges",
            StatusInput(
                status="jailed",
                occurred_on=PartialDate.parse("2017-09"),
                description="Jailed on treason charges.",
                certainty=Certainty.CONFIRMED.value,
                sources=[article],
            ),
        ),
        (
            PersonInput(name="Mu Sochua", nationality="KH", occupation="Politician"),
            "deputy leader",
            "Mu Sochua: fled threatened arrest",
            StatusInput(
                status="fled",
                occurred_on=PartialDate.parse("2017-10"),
                location="unknown location",
                description=(
                    "Fled to an unknown location after the Prime Minister threatened to dissolve "
                    "the CNRP if it continued to “protect” her."
                ),
                certainty=Certainty.CONFIRMED.value,
                sources=[article],
            ),
        ),
        (
            PersonInput(name="Mao Monyvann", nationality="KH", occupation="Politician"),
            "Member of Parliament",
            "Mao Monyvann: CNRP MP",
            StatusInput(
                status="at_liberty",
                occurred_on=PartialDate.parse("2017-10"),
                location="Cambodia",
                description="Still in the country, speaking to AFP.",
                certainty=Certainty.REPORTED.value,
                sources=[article],
            ),
        ),
    ]
    cases: dict[str, Case] = {}
    for person_data, role, title, status in people:
        person = create_person(actor, person_data)
        add_membership(actor, person, cnrp, role)
        case = create_case(
            actor, person, CaseInput(country="KH", title=title, confidentiality="public"), status
        )
        cases[person.name] = case
    charges.add_charge(
        actor,
        cases["Kem Sokha"],
        charges.ChargeInput(
            offence="Treason",
            legal_basis="Criminal Code, art. 443",
            max_sentence=Sentence(SentenceKind.TERM, 360),
            stage="charged",
            filed_on=PartialDate.parse("2017-09"),
            sources=[article],
        ),
    )
    db.session.flush()
    return cases


_SYLLABLES = ["ka", "lo", "mi", "ner", "sa", "to", "vu", "ri", "den", "pa", "zo", "qui", "bel"]
_STATUSES = ["at_liberty", "jailed", "house_arrest", "fled", "disappeared", "deceased"]
_LEVELS = ["public", "public", "public", "restricted", "confidential"]
_COUNTRIES = ["KH", "MM", "BY", "VN", "TH", "IR", "NI", "TR"]


def seed_synthetic(count: int, seed: int = 1) -> int:
    """Insert ``count`` clearly synthetic cases in bulk (names start with ``Synthetic``).

    Bypasses the per-row services for speed, so these rows carry no audit entries; they are
    for scale tests and benchmarks only.
    """
    from monitor.services.people import search_text_for

    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    orgs = [
        Organization(
            name=f"Synthetic Party {i}",
            short_name=f"SYN{i}",
            kind="political_party",
            country=_COUNTRIES[i % len(_COUNTRIES)],
            seats=rng.randint(20, 200),
        )
        for i in range(20)
    ]
    db.session.add_all(orgs)
    db.session.flush()
    org_ids = [o.id for o in orgs]
    today = dt.date(2026, 1, 1)
    batch = 2000
    done = 0
    while done < count:
        size = min(batch, count - done)
        people = []
        for i in range(done, done + size):
            name = "Synthetic " + "".join(rng.choice(_SYLLABLES) for _ in range(3)).title()
            name = f"{name} {i:06d}"
            people.append(
                Person(name=name, aliases=[], search_text=search_text_for(name, None, []))
            )
        db.session.add_all(people)
        db.session.flush()
        for person in people:
            status = rng.choice(_STATUSES)
            since = today - dt.timedelta(days=rng.randint(1, 3650))
            db.session.add(
                Case(
                    person_id=person.id,
                    country=rng.choice(_COUNTRIES),
                    title=f"{person.name}: synthetic case",
                    status=status,
                    status_since=since,
                    status_since_precision="day",
                    confidentiality=rng.choice(_LEVELS),
                    tags=["synthetic"],
                    events=[
                        StatusEvent(
                            status=status,
                            occurred_on=since,
                            occurred_precision="day",
                            certainty="unverified",
                            changed_current=True,
                        )
                    ],
                )
            )
        db.session.add_all(
            Membership(person_id=p.id, organization_id=rng.choice(org_ids), role="member")
            for p in people
        )
        db.session.flush()
        db.session.expunge_all()  # keep memory flat across batches
        done += size
    return done
