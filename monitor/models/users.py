"""Users of the web app and the API tokens they hold."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
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
    # Set when an admin chose the password (a new account, a reset): until the user chooses
    # their own it opens only /account/password, and after this moment it opens nothing.
    password_temporary_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = created_at_column()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The language the user chose in the menu; None: the browser's (Accept-Language).
    language: Mapped[str | None] = mapped_column(String(16))

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ApiToken.id"
    )

    @property
    def is_active(self) -> bool:
        """Deactivated users cannot log in or use tokens."""
        return self.active

    def get_id(self) -> str:
        """The account's public id (what Flask-Login's ``UserMixin`` compares users by).

        The login cookie does not carry it: it holds the random id of a :class:`UserSession`.
        """
        return self.public_id

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


class UserSession(Base):
    """One login: the browser's cookie holds a random id whose SHA-256 is ``token_hash``.

    Deleting the row ends the login at once, wherever the cookie was copied to.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = created_at_column()
    # Moved forward at most once a minute (services.user_sessions.TOUCH_AFTER).
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    # How the second login step was passed: "totp", "webauthn", "recovery"; None without one.
    second_factor: Mapped[str | None] = mapped_column(String(20))
    # When this login last proved it is still its owner (the password, and a second factor when
    # the account has one): the login itself, or "Confirm it's you" before a sensitive change.
    reauthenticated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class KnownDevice(Base):
    """A browser and address a user has logged in from: a login from any other is reported to
    them by email. Only a keyed hash of the pair is kept."""

    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("user_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[dt.datetime] = created_at_column()
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PasswordReset(Base):
    """A one-time password reset link an admin issued; only the SHA-256 of its secret is kept.

    Using it deletes it (and any other of the account's links), so it works once.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = public_id_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = created_at_column()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[str] = mapped_column(String(320), default="")

    user: Mapped[User] = relationship()
