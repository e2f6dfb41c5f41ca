"""Users, passwords (argon2id) and API tokens (stored as SHA-256).

A password an admin chose for someone else (a new account, a reset from the user's page) is
*temporary* (ASVS 6.4.1): it stops working ``MONITOR_TEMPORARY_PASSWORD_HOURS`` after it was
set, and until its holder chooses their own the web app opens nothing but
``/account/password`` (the gate in :mod:`monitor.web.account`). Passwords the holder chose
(changed, or set from a reset link) and those set from the command line are permanent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from babel.support import LazyProxy
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from monitor.domain import Confidentiality, Role
from monitor.extensions import db
from monitor.models import ApiToken, User
from monitor.models.base import utcnow
from monitor.presentation.translation import gettext as _
from monitor.presentation.translation import lazy_gettext as _l
from monitor.presentation.wording import LEVEL_LABELS
from monitor.services import Actor, ValidationError, audit, user_sessions
from monitor.services.password_policy import context_words, password_problem
from monitor.services.validation import member, optional_text

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
TOKEN_PREFIX = "cm_"  # noqa: S105 - a public marker, not a secret
# What the login form says to who typed an expired temporary password (a message, not a secret).
TEMPORARY_PASSWORD_EXPIRED = _l(
    "This temporary password has expired; ask an administrator for a reset link."
)


def generate_password() -> str:
    """A random password for new accounts."""
    return secrets.token_urlsafe(15)


def _normalise_email(email: str, errors: dict[str, str]) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        errors["email"] = str(exc)
        return ""


def _check_password(
    password: str, errors: dict[str, str], *about: str, field: str = "password"
) -> None:
    # The organization's name (MONITOR_ORGANIZATION_NAME) is as guessable as the service's.
    organization = current_app.config["SETTINGS"].organization_name
    problem = password_problem(password, context_words(*about, organization=organization))
    if problem:
        errors[field] = problem


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is the user's current one."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def replace_password(user: User, password: str, field: str = "password") -> None:
    """Give ``user`` a new password (checked against the policy; the error is on ``field``),
    permanent unless the caller then makes it temporary.

    Not audited, and no session ends here: each caller says what the change means.
    """
    errors: dict[str, str] = {}
    _check_password(password, errors, user.email, user.name, field=field)
    if errors:
        raise ValidationError(errors)
    user.password_hash = _hasher.hash(password)
    user.password_temporary_until = None


def _temporary_until(hours: int | None) -> dt.datetime | None:
    return None if hours is None else utcnow() + dt.timedelta(hours=hours)


def password_is_temporary(user: User) -> bool:
    """Whether the user's password was chosen by an admin and not yet replaced by their own."""
    return user.password_temporary_until is not None


def temporary_password_expired(user: User, now: dt.datetime | None = None) -> bool:
    """Whether the user's password is temporary and past its time: it opens nothing."""
    until = user.password_temporary_until
    return until is not None and until <= (now or utcnow())


@dataclass
class UserInput:
    """Fields an admin sets on an account."""

    email: str
    role: str
    clearance: str
    name: str = ""
    active: bool = True


def _apply_user(user: User, data: UserInput, errors: dict[str, str]) -> None:
    email = _normalise_email(data.email, errors)
    role = member(Role, data.role, errors, "role")
    clearance = member(Confidentiality, data.clearance, errors, "clearance")
    name = optional_text(data.name, errors, "name", 200) or ""
    if email:
        clash = db.session.scalars(
            select(User).where(func.lower(User.email) == email, User.id != (user.id or -1))
        ).first()
        if clash is not None:
            errors["email"] = _("another account already uses this address")
    if errors:
        raise ValidationError(errors)
    assert role is not None  # noqa: S101 - errors raised above
    assert clearance is not None  # noqa: S101 - errors raised above
    user.email, user.role, user.clearance, user.name = email, role.value, clearance.value, name
    user.active = data.active


def create_user(
    actor: Actor, data: UserInput, password: str, *, temporary_hours: int | None = None
) -> User:
    """Create an account with the given password; temporary for ``temporary_hours`` when an
    admin chose it for someone else (the web), permanent without (the command line)."""
    errors: dict[str, str] = _granted_beyond_own(actor, data.clearance, Confidentiality.PUBLIC)
    _check_password(password, errors, data.email, data.name)
    user = User()
    _apply_user(user, data, errors)
    user.password_hash = _hasher.hash(password)
    user.password_temporary_until = _temporary_until(temporary_hours)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.public_id, after=audit.snapshot(user))
    return user


def _self_lockout(actor: Actor, user: User, data: UserInput) -> str | None:
    """Why an admin may not make this change to their own account (nobody else could undo it)."""
    if isinstance(actor, str) or actor.id != user.id:
        return None
    if data.role != Role.ADMIN.value:
        return _("you cannot remove your own admin role; ask another admin")
    if not data.active:
        return _("you cannot deactivate your own account")
    return None


_ROLE_RANK = {Role.VIEWER.value: 0, Role.EDITOR.value: 1, Role.ADMIN.value: 2}


def _rank(level: str) -> int:
    """A clearance's rank; -1 for a value that is not one (validated elsewhere)."""
    try:
        return Confidentiality(level).rank
    except ValueError:
        return -1


def _self_promotion(actor: Actor, user: User, data: UserInput) -> dict[str, str]:
    """Two people for the highest power: nobody raises their own role or clearance."""
    if isinstance(actor, str) or actor.id != user.id:
        return {}
    errors = {}
    if _ROLE_RANK.get(data.role, -1) > _ROLE_RANK.get(user.role, -1):
        errors["role"] = _("you cannot raise your own role; another admin must")
    if _rank(data.clearance) > _rank(user.clearance):
        errors["clearance"] = _("you cannot raise your own clearance; another admin must")
    return errors


def _granted_beyond_own(actor: Actor, clearance: str, current: str) -> dict[str, str]:
    """An admin may not raise an account above their own clearance: they could use it (they
    set its password), so it would be raising their own. The command line bootstraps."""
    if isinstance(actor, str) or _rank(clearance) <= max(_rank(current), _rank(actor.clearance)):
        return {}
    return {
        "clearance": _(
            "is above your own clearance (%(own)s); an admin cleared for %(level)s must grant it",
            own=_level_words(actor.clearance),
            level=_level_words(clearance),
        )
    }


def _level_words(level: str) -> str:
    """A clearance as the reader's language names it (the value itself when it is not one)."""
    return str(LEVEL_LABELS.get(level, level))  # type: ignore[call-overload]


def beyond_own(actor: Actor, user: User) -> bool:
    """Whether the account is cleared above the acting admin (who so may not take it over)."""
    return not isinstance(actor, str) and _rank(user.clearance) > _rank(actor.clearance)


def update_user(actor: Actor, user: User, data: UserInput) -> User:
    """Change an account's email, role, clearance or active flag (never locking oneself out,
    never raising oneself)."""
    problem = _self_lockout(actor, user, data)
    if problem:
        raise ValidationError({"account": problem})
    errors = _self_promotion(actor, user, data) or _granted_beyond_own(
        actor, data.clearance, user.clearance
    )
    if beyond_own(actor, user) and data.email.strip().lower() != user.email:
        # A new address would let them reset the password and log in as the account.
        errors["email"] = _("belongs to an account cleared above you; an admin cleared for it must")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(user)
    _apply_user(user, data, {})
    db.session.flush()
    audit.record(
        actor, "user.update", "user", user.public_id, before=before, after=audit.snapshot(user)
    )
    if before["active"] and not user.active:
        user_sessions.end_all_sessions(user, reason="account deactivated", actor=actor)
    return user


NOT_YOURS_TO_RESET = _l(
    "belongs to an account cleared above you; an admin cleared for it must reset it"
)


def set_password(
    actor: Actor, user: User, password: str, *, temporary_hours: int | None = None
) -> None:
    """Replace a user's password (an admin: only of accounts cleared no higher than them, and
    temporary for ``temporary_hours``; the CLI); every session of theirs ends."""
    if beyond_own(actor, user):
        raise ValidationError({"password": NOT_YOURS_TO_RESET})
    replace_password(user, password)
    user.password_temporary_until = _temporary_until(temporary_hours)
    db.session.flush()
    until = user.password_temporary_until
    audit.record(
        actor,
        "user.password",
        "user",
        user.public_id,
        after={"temporary_until": until.isoformat() if until else None},
    )
    user_sessions.end_all_sessions(user, reason="password set by an admin", actor=actor)


def pending_login_stamp(user: User) -> str:
    """What a pending second login step remembers of the account: it changes with the password,
    so a password changed (or reset) meanwhile voids the step."""
    return hashlib.sha256(f"{user.public_id}:{user.password_hash}".encode()).hexdigest()[:32]


def user_for_pending_login(stamp: str) -> User | None:
    """The active account a pending second step names (see :func:`pending_login_stamp`)."""
    public_id, _, _ = stamp.partition(":")
    user = db.session.scalars(select(User).where(User.public_id == public_id)).first()
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(f"{public_id}:{pending_login_stamp(user)}", stamp) else None


def all_users() -> list[User]:
    """Every account, by email (the admins' list)."""
    return list(db.session.scalars(select(User).order_by(User.email)))


def own_tokens(user: User) -> list[ApiToken]:
    """The user's API tokens, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


@dataclass(frozen=True)
class LoginCheck:
    """The account a password opens, or None; ``refusal`` says why when the login form
    should say more than "wrong email or password" (said only to who typed the password)."""

    user: User | None
    refusal: str | LazyProxy | None = None


def check_login(email: str, password: str, *, address: str | None = None) -> LoginCheck:
    """Whether this email and password open an active account; every refusal is audited as
    ``auth.login_failed``, with the account when the email names one."""
    user = db.session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        _login_failed(user, "wrong password" if user else "unknown email", address)
        return LoginCheck(None)
    if user is None or not user.active:
        _login_failed(user, "account deactivated", address)
        return LoginCheck(None)
    if temporary_password_expired(user):
        _login_failed(user, "temporary password expired", address)
        return LoginCheck(None, TEMPORARY_PASSWORD_EXPIRED)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return LoginCheck(user)


def authenticate(email: str, password: str, *, address: str | None = None) -> User | None:
    """The active user this email and password open, or None (see :func:`check_login`)."""
    return check_login(email, password, address=address).user


def _login_failed(user: User | None, reason: str, address: str | None) -> None:
    # What was typed is never logged: people type passwords into the email field.
    audit.record(
        "anonymous",
        "auth.login_failed",
        "user",
        user.public_id if user else "unknown",
        after={"reason": reason, "address": (address or "")[:64]},
    )


def _token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(actor: Actor, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Issue an API token; the plain token is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name.strip()[:100], token_hash=_token_digest(plain), prefix=plain[:10]
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        actor,
        "token.create",
        "api_token",
        token.public_id,
        after={"user": user.public_id, "name": token.name, "prefix": token.prefix},
    )
    return token, plain


def revoke_token(actor: Actor, token: ApiToken) -> None:
    """Revoke a token at once."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record(actor, "token.revoke", "api_token", token.public_id)


def user_for_token(plain: str) -> User | None:
    """The active user holding this unrevoked token, or None."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _token_digest(plain))
    ).first()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    # Record use at most once a minute, so reads do not each turn into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
    return token.user
