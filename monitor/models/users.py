"""Users of the web app and the API tokens they hold."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.domain import Confidentiality, Role
from monitor.extensions import Base
from monitor.models.base import UTCDateTime, created_at_column, public_id_column


class User(UserMixin, Base):  # type: ignore[misc]  # flask_login ships no type hints
    """A member of the advocacy group's staff, with a role and a clearance."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(10), default="viewer")
    clearance: Mapped[str] = mapped_column(String(20), default="public")
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = created_at_column()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ApiToken.id"
    )

    @property
    def is_active(self) -> bool:
        """Deactivated users cannot log in or use tokens."""
        return self.active

    def get_id(self) -> str:
        """Flask-Login session key: the public id and a stamp of the password hash.

        Changing the password changes the stamp, so every session opened before (a stolen
        cookie included) stops working at once.
        """
        stamp = hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]
        return f"{self.public_id}.{stamp}"

    @property
    def user_role(self) -> Role:
        """Role as a vocabulary member."""
        return Role(self.role)

    @property
    def level(self) -> Confidentiality:
        """Clearance as a vocabulary member."""
        return Confidentiality(self.clearance)


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = created_at_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")
