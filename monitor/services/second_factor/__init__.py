"""Second factors: who must have one, which a user has, and proving it is still them.

The factors themselves live in :mod:`.totp` (an authenticator app), :mod:`.passkeys` (WebAuthn)
and :mod:`.recovery` (one-time codes). Every enrolment, removal, use and failed attempt is
written to the audit log by the function that does it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, exists, or_, select

from monitor.config import Settings
from monitor.domain import Role
from monitor.extensions import db
from monitor.models import Passkey, RecoveryCode, TotpFactor, User
from monitor.presentation.translation import gettext as _
from monitor.services import ValidationError, audit

# `make run` creates this admin (monitor dev-setup); under MONITOR_ENV=development only, it may
# skip the second factor, so the demo opens without a phone.
DEMO_ADMIN_EMAIL = "admin@example.org"

# The roles each MONITOR_REQUIRE_2FA value holds to a second factor.
_REQUIRED_ROLES: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "admin": frozenset({Role.ADMIN}),
    "editor": frozenset({Role.ADMIN, Role.EDITOR}),
    "all": frozenset({Role.ADMIN, Role.EDITOR, Role.VIEWER}),
}

# Verifies a password against its stored hash (the hash names its own argon2 parameters).
_verifier = PasswordHasher()

# Built once: the gate asks it on each request of a user who logged in without a factor.
_HAS_FACTOR = select(
    or_(
        exists().where(
            TotpFactor.user_id == bindparam("user_id"), TotpFactor.confirmed_at.is_not(None)
        ),
        exists().where(Passkey.user_id == bindparam("user_id")),
    )
)


def required_for(user: User, settings: Settings) -> bool:
    """Whether MONITOR_REQUIRE_2FA holds this user's role to a second factor."""
    return user.role in _REQUIRED_ROLES[settings.require_2fa]


def demo_exempt(user: User, settings: Settings) -> bool:
    """`make run`'s demo admin, under MONITOR_ENV=development (never in production)."""
    return settings.env == "development" and user.email == DEMO_ADMIN_EMAIL


def has_second_factor(user: User) -> bool:
    """Whether the user has a confirmed authenticator app or a passkey (recovery codes alone
    are not a factor: they only stand in for one)."""
    return bool(db.session.scalar(_HAS_FACTOR, {"user_id": user.id}))


def must_enrol(user: User, settings: Settings) -> bool:
    """Whether the user may do nothing but enrol a second factor until they have one."""
    return (
        required_for(user, settings)
        and not demo_exempt(user, settings)
        and not has_second_factor(user)
    )


@dataclass
class Factors:
    """What a user has enrolled, for the account security page."""

    totp: TotpFactor | None  # confirmed only
    pending_totp: TotpFactor | None
    passkeys: list[Passkey] = field(default_factory=list)
    recovery_left: int = 0

    @property
    def any(self) -> bool:
        """Whether a second step is asked at login."""
        return self.totp is not None or bool(self.passkeys)


def factors_of(user: User) -> Factors:
    """The user's authenticator app, passkeys and how many recovery codes are left."""
    totp = db.session.scalars(select(TotpFactor).where(TotpFactor.user_id == user.id)).first()
    passkeys = list(
        db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id))
    )
    left = db.session.scalar(
        select(db.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    confirmed = totp if totp is not None and totp.confirmed_at is not None else None
    pending = totp if totp is not None and totp.confirmed_at is None else None
    return Factors(confirmed, pending, passkeys, int(left or 0))


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is the user's current password."""
    try:
        return _verifier.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def ensure_one_left(user: User, settings: Settings, *, removing: str) -> None:
    """Refuse to remove the last factor of a user MONITOR_REQUIRE_2FA holds to one."""
    factors = factors_of(user)
    left = (1 if factors.totp else 0) + len(factors.passkeys) - 1
    if left < 1 and required_for(user, settings) and not demo_exempt(user, settings):
        raise ValidationError(
            {removing: _("your role must keep a second factor: add another one before removing it")}
        )


def record(user: User, action: str, **details: object) -> None:
    """One audit entry about the user's second factors (the user is the actor)."""
    audit.record(user, f"second_factor.{action}", "user", user.public_id, after=dict(details))
