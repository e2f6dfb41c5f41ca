"""Self-service credentials: changing one's own password, one-time reset links, and the emails
that tell an account's owner about a reset link, a login from a new device or second factors
removed by an admin.

A reset link carries 256 random bits; only their SHA-256 is stored. It works once, for an hour
(:data:`RESET_LIFETIME`), for an active account, and issuing a new one cancels the older ones.
Its secret exists only in the admin's request that issued it, so the email is sent from there
(:func:`email_reset_link`), never through the broker.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from monitor.config import Settings
from monitor.extensions import db
from monitor.mail import messages
from monitor.mail.transport import Mailer
from monitor.models import PasswordReset, User, UserSession
from monitor.models.base import utcnow
from monitor.presentation import utc_text
from monitor.presentation.translation import SOURCE_LANGUAGE, using_language
from monitor.presentation.translation import gettext as _
from monitor.presentation.translation import lazy_gettext as _l
from monitor.services import Actor, ValidationError, actor_label, audit, user_sessions, users

RESET_LIFETIME = dt.timedelta(hours=1)
RESET_TOKEN_BYTES = 32
INVALID_LINK = _l(
    "This password reset link is not valid: it was used already, it expired (a link works for "
    "an hour), or a newer one replaced it. Ask an admin for a new one."
)


def change_own_password(user: User, current: str, new: str, keep: UserSession | None) -> int:
    """Change the user's own password (the current one is required), which also replaces a
    temporary one; every other session of theirs ends. How many ended."""
    if users.temporary_password_expired(user):
        raise ValidationError({"current_password": users.TEMPORARY_PASSWORD_EXPIRED})
    if not users.password_matches(user, current):
        raise ValidationError({"current_password": _("is not your current password")})
    if users.password_matches(user, new):
        raise ValidationError({"new_password": _("is your current password: choose another")})
    was_temporary = users.password_is_temporary(user)
    users.replace_password(user, new, field="new_password")
    db.session.flush()
    ended = user_sessions.end_other_sessions(user, keep, reason="password changed")
    after: dict[str, Any] = {"sessions_ended": ended}
    if was_temporary:
        after["replaced_temporary"] = True  # the first-login gate was passed
    audit.record(user, "auth.password_changed", "user", user.public_id, after=after)
    return ended


@dataclass(frozen=True)
class IssuedReset:
    """A reset link just issued: its row, and its URL (holding the secret; never stored)."""

    reset: PasswordReset
    url: str

    @property
    def user(self) -> User:
        """The account whose password the link sets."""
        return self.reset.user


def issue_reset(actor: Actor, user: User, settings: Settings) -> IssuedReset:
    """A one-time link for ``user`` to set a new password; earlier links stop working."""
    if not user.active:
        raise ValidationError({"account": _("is deactivated: activate it before resetting it")})
    if users.beyond_own(actor, user):  # a reset link is a password set by the admin, in effect
        raise ValidationError({"account": users.NOT_YOURS_TO_RESET})
    now = utcnow()
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    token = secrets.token_urlsafe(RESET_TOKEN_BYTES)
    reset = PasswordReset(
        user=user,
        token_hash=user_sessions.token_digest(token),
        created_at=now,
        expires_at=now + RESET_LIFETIME,
        issued_by=actor_label(actor),
    )
    db.session.add(reset)
    db.session.flush()
    audit.record(
        actor,
        "auth.reset_issued",
        "user",
        user.public_id,
        after={"reset": reset.public_id, "expires_at": reset.expires_at.isoformat()},
    )
    return IssuedReset(reset, f"{settings.base_url}/reset/{token}")


def reset_for(token: object, now: dt.datetime | None = None) -> PasswordReset | None:
    """The unexpired reset of an active account this link's secret names, else None."""
    if not isinstance(token, str) or not token or len(token) > user_sessions.MAX_TOKEN_LENGTH:
        return None
    reset = db.session.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == user_sessions.token_digest(token))
    ).first()
    if reset is None or reset.expires_at <= (now or utcnow()) or not reset.user.active:
        return None
    return reset


def use_reset(token: object, password: str) -> User:
    """Set the new password a reset link allows; the link is spent and every session ends."""
    reset = reset_for(token)
    if reset is None:
        raise ValidationError({"link": INVALID_LINK})
    user = reset.user
    users.replace_password(user, password, field="new_password")
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    db.session.flush()
    user_sessions.end_all_sessions(user, reason="password reset by link")
    audit.record(user, "auth.reset_used", "user", user.public_id, after={"reset": reset.public_id})
    return user


def _sender(settings: Settings) -> messages.Sender:
    return messages.Sender.from_settings(settings.mail_from, settings.base_url)


def email_reset_link(issued: IssuedReset, mailer: Mailer, settings: Settings) -> None:
    """Email the link to the account's owner; raises a ``MailError`` when it cannot go."""
    user = issued.user
    with using_language(user.language or SOURCE_LANGUAGE):
        message = messages.password_reset_message(
            _sender(settings),
            email=user.email,
            name=user.name,
            reset_id=issued.reset.public_id,
            reset_url=issued.url,
            expires=utc_text(issued.reset.expires_at),
        )
    with mailer.connect() as connection:
        connection.send(message)


def send_new_device_notice(
    user_id: int, login: dict[str, Any], mailer: Mailer, settings: Settings
) -> bool:
    """Tell a user about a login from a new device (``login``: what
    :func:`user_sessions.login_details` recorded); False when the account is gone or
    deactivated. Raises ``TemporaryMailError`` for the caller to retry."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return False
    at = dt.datetime.fromisoformat(str(login["at"]))
    with using_language(user.language or SOURCE_LANGUAGE):
        message = messages.new_device_message(
            _sender(settings),
            email=user.email,
            name=user.name,
            login=messages.NewLogin(
                session_id=str(login["session"]),
                at=utc_text(at),
                address=str(login.get("address") or ""),
                browser=str(login.get("browser") or ""),
                second_factor=login.get("second_factor"),
            ),
            account_url=f"{settings.base_url}/account/sessions",
        )
    with mailer.connect() as connection:
        connection.send(message)
    return True


def send_factors_reset_notice(
    user_id: int, notice: dict[str, Any], mailer: Mailer, settings: Settings
) -> bool:
    """Tell a user an admin removed their second factors (``notice``: what
    ``second_factor.reset`` queued); False when the account is gone or deactivated. Raises
    ``TemporaryMailError`` for the caller to retry."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return False
    with using_language(user.language or SOURCE_LANGUAGE):
        message = messages.factors_reset_message(
            _sender(settings),
            email=user.email,
            name=user.name,
            notice_id=str(notice["notice"]),
            at=utc_text(dt.datetime.fromisoformat(str(notice["at"]))),
            security_url=f"{settings.base_url}/account/security",
        )
    with mailer.connect() as connection:
        connection.send(message)
    return True
