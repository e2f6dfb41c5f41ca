"""Cases and what hangs off them: charges, status events and the sources behind them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.domain import (
    Confidentiality,
    CustodyStatus,
    LegalStage,
    PartialDate,
    Sentence,
)
from monitor.extensions import Base
from monitor.models.base import UTCDateTime, created_at_column, public_id_column, utcnow
from monitor.models.people import Person

case_sources = Table(
    "case_sources",
    Base.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
)
charge_sources = Table(
    "charge_sources",
    Base.metadata,
    Column("charge_id", ForeignKey("charges.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
)
event_sources = Table(
    "status_event_sources",
    Base.metadata,
    Column("status_event_id", ForeignKey("status_events.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
)


class Source(Base):
    """A published report the register relies on (an AFP story, an HRW report)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    title: Mapped[str] = mapped_column(String(300))
    publisher: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    published_precision: Mapped[str | None] = mapped_column(String(8))
    quote: Mapped[str | None] = mapped_column(Text)
    accessed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = created_at_column()

    @property
    def published(self) -> PartialDate | None:
        """Publication date at its known precision."""
        return PartialDate.of(self.published_on, self.published_precision)


class Case(Base):
    """One person persecuted by one country; the current custody status is stored for querying."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # The id a group's own spreadsheet gives the case; CSV imports match rows on it.
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    # Derived from the status history by services.cases; never written anywhere else.
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_since: Mapped[dt.date | None] = mapped_column(Date)
    status_since_precision: Mapped[str | None] = mapped_column(String(8))
    confidentiality: Mapped[str] = mapped_column(String(20), index=True, default="public")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    # Derived from the open charges by services.charges, stored so lists can sort on it.
    max_exposure_kind: Mapped[str | None] = mapped_column(String(12))
    max_exposure_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship(back_populates="cases")
    charges: Mapped[list[Charge]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Charge.id"
    )
    events: Mapped[list[StatusEvent]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        order_by="(StatusEvent.occurred_on, StatusEvent.id)",
    )
    sources: Mapped[list[Source]] = relationship(secondary=case_sources)

    @property
    def custody_status(self) -> CustodyStatus:
        """The current custody status as a vocabulary member."""
        return CustodyStatus(self.status)

    @property
    def since(self) -> PartialDate | None:
        """Since when the current status holds, at its known precision."""
        return PartialDate.of(self.status_since, self.status_since_precision)

    @property
    def level(self) -> Confidentiality:
        """Confidentiality as a vocabulary member."""
        return Confidentiality(self.confidentiality)

    @property
    def max_exposure(self) -> Sentence | None:
        """The most severe maximum sentence among open charges."""
        return Sentence.of(self.max_exposure_kind, self.max_exposure_months)

    def __repr__(self) -> str:
        return f"<Case {self.public_id} {self.status}>"


class Charge(Base):
    """An offence a person is accused of, under which law, and what it can cost them."""

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    offence: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str | None] = mapped_column(String(300))
    max_sentence_kind: Mapped[str] = mapped_column(String(12), default="unknown")
    max_sentence_months: Mapped[int | None] = mapped_column(Integer)
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    filed_precision: Mapped[str | None] = mapped_column(String(8))
    stage: Mapped[str] = mapped_column(String(12), default="charged")
    sentence_kind: Mapped[str | None] = mapped_column(String(12))
    sentence_months: Mapped[int | None] = mapped_column(Integer)
    sentenced_on: Mapped[dt.date | None] = mapped_column(Date)
    in_absentia: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = created_at_column()

    case: Mapped[Case] = relationship(back_populates="charges")
    sources: Mapped[list[Source]] = relationship(secondary=charge_sources)

    @property
    def max_sentence(self) -> Sentence:
        """The maximum sentence the law sets for this charge."""
        sentence = Sentence.of(self.max_sentence_kind, self.max_sentence_months)
        assert sentence is not None  # noqa: S101 - column is NOT NULL
        return sentence

    @property
    def sentence_imposed(self) -> Sentence | None:
        """The sentence a court imposed, if any."""
        return Sentence.of(self.sentence_kind, self.sentence_months)

    @property
    def legal_stage(self) -> LegalStage:
        """Stage as a vocabulary member."""
        return LegalStage(self.stage)

    @property
    def filed(self) -> PartialDate | None:
        """Filing date at its known precision."""
        return PartialDate.of(self.filed_on, self.filed_precision)


class StatusEvent(Base):
    """A dated, sourced change of custody status; the case's history is the list of these."""

    __tablename__ = "status_events"
    __table_args__ = (Index("ix_status_events_case_order", "case_id", "occurred_on", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    previous_status: Mapped[str | None] = mapped_column(String(20))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    occurred_precision: Mapped[str] = mapped_column(String(8), default="day")
    occurred_about: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    location: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    certainty: Mapped[str] = mapped_column(String(12), default="confirmed")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # True when recording this event changed the case's current status (not a back-fill).
    changed_current: Mapped[bool] = mapped_column(Boolean, default=False)
    # Transactional outbox: set in the same transaction as the event when it changed the
    # current status; cleared by the dispatch task once every delivery row exists.
    alerts_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # The import that recorded it (the Import's public id; a command-line import gets an id of
    # its own), or None for a change entered by hand: an import's changes reach each subscriber
    # as one summary email.
    import_batch: Mapped[str | None] = mapped_column(String(16), index=True)

    case: Mapped[Case] = relationship(back_populates="events")
    sources: Mapped[list[Source]] = relationship(secondary=event_sources)

    @property
    def occurred(self) -> PartialDate:
        """When it happened, at its known precision."""
        date = PartialDate.of(self.occurred_on, self.occurred_precision)
        assert date is not None  # noqa: S101 - column is NOT NULL
        return date

    @property
    def custody_status(self) -> CustodyStatus:
        """New status as a vocabulary member."""
        return CustodyStatus(self.status)
