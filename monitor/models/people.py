"""People, organizations and who belongs to what."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Date,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.domain import PartialDate
from monitor.extensions import Base
from monitor.models.base import UTCDateTime, created_at_column, public_id_column, utcnow

if TYPE_CHECKING:
    from monitor.models.cases import Case


class Person(Base):
    """Someone the register follows."""

    __tablename__ = "people"
    __table_args__ = (
        # A name search matching many people walks the names in order and tests each one's
        # search text; on PostgreSQL this index carries the text (and the native name the list
        # shows), so the walk reads no table row for a person who does not match.
        Index(
            "ix_people_name_search",
            "name",
            "id",
            postgresql_include=["search_text", "name_native"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    name: Mapped[str] = mapped_column(String(200), index=True)  # the case list sorts by it
    name_native: Mapped[str | None] = mapped_column(String(200))
    # The language of the native-script name (a BCP 47 tag such as ``km``), when known.
    name_native_lang: Mapped[str | None] = mapped_column(String(35))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    gender: Mapped[str | None] = mapped_column(String(40))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    birth_date_precision: Mapped[str | None] = mapped_column(String(8))
    death_date: Mapped[dt.date | None] = mapped_column(Date)
    death_date_precision: Mapped[str | None] = mapped_column(String(8))
    nationality: Mapped[str | None] = mapped_column(String(2))
    occupation: Mapped[str | None] = mapped_column(String(200))
    biography: Mapped[str | None] = mapped_column(Text)
    # Web pages about the person, as Popolo has them: ``[{"url": ..., "note": ...}]``.
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # Case-folded names in both scripts plus aliases, maintained by services.people; searched
    # with a substring match (a trigram index serves it on PostgreSQL).
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="Membership.id"
    )
    cases: Mapped[list[Case]] = relationship(back_populates="person", order_by="Case.id")
    identifiers: Mapped[list[PersonIdentifier]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        order_by="(PersonIdentifier.scheme, PersonIdentifier.identifier)",
    )

    @property
    def birth(self) -> PartialDate | None:
        """Birth date at its known precision."""
        return PartialDate.of(self.birth_date, self.birth_date_precision)

    @property
    def death(self) -> PartialDate | None:
        """Death date at its known precision."""
        return PartialDate.of(self.death_date, self.death_date_precision)

    def __repr__(self) -> str:
        return f"<Person {self.public_id} {self.name!r}>"


class Organization(Base):
    """A party, NGO, media outlet or union whose members the register follows."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    seats: Mapped[int | None] = mapped_column(Integer)
    dissolved_on: Mapped[dt.date | None] = mapped_column(Date)
    # Web pages about the organization, as Popolo has them: ``[{"url": ..., "note": ...}]``.
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = created_at_column()

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization",
        cascade="all, delete-orphan",
        foreign_keys="Membership.organization_id",
    )
    identifiers: Mapped[list[OrganizationIdentifier]] = relationship(
        back_populates="organization",
        cascade="all, delete-orphan",
        order_by="(OrganizationIdentifier.scheme, OrganizationIdentifier.identifier)",
    )

    @property
    def label(self) -> str:
        """``CNRP`` when a short name exists, else the full name."""
        return self.short_name or self.name

    def __repr__(self) -> str:
        return f"<Organization {self.public_id} {self.label!r}>"


class Membership(Base):
    """A person's role in an organization over a period."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("person_id", "organization_id", "role"),
        # An organization's members by name, a page at a time, without reading every member.
        Index("ix_memberships_organization_name", "organization_id", "person_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(120), default="member")
    # A copy of the person's name, for the index above; kept by database triggers (migration
    # 0016) on every write of a membership or a person's name, whoever writes them.
    person_name: Mapped[str | None] = mapped_column(
        String(200), server_default=FetchedValue(), server_onupdate=FetchedValue()
    )
    start_on: Mapped[dt.date | None] = mapped_column(Date)
    start_precision: Mapped[str | None] = mapped_column(String(8))
    end_on: Mapped[dt.date | None] = mapped_column(Date)
    end_precision: Mapped[str | None] = mapped_column(String(8))
    # The constituency or area the member represents (free text, e.g. ``Phnom Penh``).
    area: Mapped[str | None] = mapped_column(String(200))
    # For a seat in a legislature held on behalf of this membership's party (Popolo: a
    # membership of the legislature ``on_behalf_of`` the party): the legislature.
    legislature_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))

    person: Mapped[Person] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(
        back_populates="memberships", foreign_keys=[organization_id]
    )
    legislature: Mapped[Organization | None] = relationship(foreign_keys=[legislature_id])

    @property
    def start(self) -> PartialDate | None:
        """Start at its known precision."""
        return PartialDate.of(self.start_on, self.start_precision)

    @property
    def end(self) -> PartialDate | None:
        """End at its known precision."""
        return PartialDate.of(self.end_on, self.end_precision)


class PersonIdentifier(Base):
    """An identifier another register gives a person (``wikidata:Q3194965``).

    A scheme is free text, lower-cased (``wikidata``, ``everypolitician``, a group's own); an
    identifier belongs to one person only within its scheme.
    """

    __tablename__ = "person_identifiers"
    __table_args__ = (UniqueConstraint("scheme", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(String(60))
    identifier: Mapped[str] = mapped_column(String(200))

    person: Mapped[Person] = relationship(back_populates="identifiers")

    def __repr__(self) -> str:
        return f"<PersonIdentifier {self.scheme}:{self.identifier}>"


class OrganizationIdentifier(Base):
    """An identifier another register gives an organization; unique within its scheme."""

    __tablename__ = "organization_identifiers"
    __table_args__ = (UniqueConstraint("scheme", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(60))
    identifier: Mapped[str] = mapped_column(String(200))

    organization: Mapped[Organization] = relationship(back_populates="identifiers")

    def __repr__(self) -> str:
        return f"<OrganizationIdentifier {self.scheme}:{self.identifier}>"
