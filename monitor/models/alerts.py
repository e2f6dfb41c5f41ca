"""Subscriptions to status changes and the log of every alert delivered."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.extensions import Base
from monitor.models.base import UTCDateTime, created_at_column, public_id_column

if TYPE_CHECKING:
    from monitor.models.cases import Case, StatusEvent
    from monitor.models.people import Organization
    from monitor.models.users import User


class SubscriptionScope(StrEnum):
    """What a subscriber follows."""

    ALL = "all"
    COUNTRY = "country"
    ORGANIZATION = "organization"
    CASE = "case"


class SubscriptionMode(StrEnum):
    """How often a subscriber hears: each change at once, or one email a day."""

    IMMEDIATE = "immediate"
    DAILY = "daily"


class DeliveryState(StrEnum):
    """Where one alert to one subscriber stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class Subscription(Base):
    """Someone who wants to hear about status changes within a scope."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    organization_name: Mapped[str | None] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16), default="all")
    scope_country: Mapped[str | None] = mapped_column(String(2))
    scope_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    scope_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    mode: Mapped[str] = mapped_column(String(12), default="immediate")
    # The language the subscriber's emails are written in (chosen on the subscribe form).
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    # A subscription tied to a user follows that user's clearance at send time; others see
    # public cases only.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()

    scope_organization: Mapped[Organization | None] = relationship()
    scope_case: Mapped[Case | None] = relationship()
    user: Mapped[User | None] = relationship()


class AlertDelivery(Base):
    """One status event told to one subscription: the delivery log users can read."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("status_event_id", "subscription_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    status_event_id: Mapped[int] = mapped_column(
        ForeignKey("status_events.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = created_at_column()
    # When the next attempt is due; beat re-queues pending deliveries left well past it.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    # A sender's lease: while it lies in the future nobody else may send this delivery, so a
    # re-queued duplicate task cannot mail it twice; a killed worker's lease simply runs out.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Who took the lease (services.claimants): once that process is known to be dead, the lease
    # is released at once instead of running out.
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    # Temporary failures are retried until then (a day after queueing, or after a resend).
    give_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    status_event: Mapped[StatusEvent] = relationship()
    subscription: Mapped[Subscription] = relationship()
