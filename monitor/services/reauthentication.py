"""Confirm it's you: a fresh proof of identity before a sensitive account change.

Adding or removing a second factor, replacing the recovery codes, changing the password and
ending other sessions need the login to have authenticated within :data:`WINDOW`: the login
itself counts, and so does "Confirm it's you" (the password, and a second factor when the
account has one: a code from the app, a recovery code or a passkey). The moment is kept on the
server-side session row (``UserSession.reauthenticated_at``), never in the cookie; and as any
authentication, a confirmation gives the login a new session id (OWASP ASVS 5.0 V7.2.4).
Every confirmation and every refusal is audited.
"""

from __future__ import annotations

import datetime as dt

from monitor.models import User, UserSession
from monitor.models.base import utcnow
from monitor.presentation.translation import lazy_gettext as _l
from monitor.services import audit, second_factor, user_sessions, users
from monitor.services.second_factor import passkeys, recovery, totp

WINDOW = dt.timedelta(minutes=5)
REFUSED = _l("That password or second factor is not right.")


def is_recent(row: UserSession | None, now: dt.datetime | None = None) -> bool:
    """Whether the login ``row`` authenticated within :data:`WINDOW`."""
    if row is None or row.reauthenticated_at is None:
        return False
    return (now or utcnow()) - row.reauthenticated_at < WINDOW


def needs_second_factor(user: User) -> bool:
    """Whether confirming asks a second factor besides the password (the account has one)."""
    return second_factor.has_second_factor(user)


def confirm_with_code(user: User, row: UserSession, password: str, code: str) -> str | None:
    """Confirm with the password and, for an account with a second factor, a current code of
    its app or one of its recovery codes. The login's new session id, else None (refused)."""
    if not users.password_matches(user, password):
        _refused(user, row, "wrong password")
        return None
    if not needs_second_factor(user):
        return _confirmed(user, row, None)
    code = code.strip()
    if not code:
        _refused(user, row, "no second factor given")
        return None
    if totp.looks_like_code(code):
        if totp.verify(user, code, purpose="confirm it is you"):
            return _confirmed(user, row, "totp")
    elif recovery.use(user, code):
        return _confirmed(user, row, "recovery")
    _refused(user, row, "wrong second factor")
    return None


def confirm_with_passkey(
    user: User,
    row: UserSession,
    password: str,
    *,
    rp: passkeys.RelyingParty,
    credential: str,
    challenge: bytes,
) -> str | None:
    """Confirm with the password and one of the account's passkeys (its browser's answer to
    the challenge). The login's new session id, else None (refused)."""
    if not users.password_matches(user, password):
        _refused(user, row, "wrong password")
        return None
    if not challenge or passkeys.verify(user, rp, credential, challenge) is None:
        _refused(user, row, "passkey refused")
        return None
    return _confirmed(user, row, "webauthn")


def _confirmed(user: User, row: UserSession, factor: str | None) -> str:
    row.reauthenticated_at = utcnow()
    token = user_sessions.renew_token(row)
    audit.record(
        user,
        "auth.reauthenticated",
        "user",
        user.public_id,
        after={"session": row.public_id, "second_factor": factor},
    )
    return token


def _refused(user: User, row: UserSession, reason: str) -> None:
    audit.record(
        user,
        "auth.reauthentication_failed",
        "user",
        user.public_id,
        after={"session": row.public_id, "reason": reason},
    )
