"""One-time recovery codes: ten at a time, shown once, stored as argon2id hashes."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import RecoveryCode, User
from monitor.models.base import utcnow
from monitor.services.second_factor import record

COUNT = 10
# Lowercase letters and digits without the look-alikes (0/o, 1/l/i): 31 symbols, 10 of them make
# about 50 bits, typed as two groups of five.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_LENGTH = 10

_hasher = PasswordHasher()  # argon2id, as passwords are


def normalise(text: str) -> str:
    """A typed code without spaces or dashes, in lowercase."""
    return "".join(c for c in text.lower() if c not in " -\t")


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def issue(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; the plain codes are returned once."""
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    codes = [_new_code() for _ in range(COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hasher.hash(normalise(code))) for code in codes
    )
    db.session.flush()
    record(user, "recovery.issue", count=COUNT)
    return codes


def discard(user: User) -> None:
    """Delete the user's recovery codes (their last factor is gone, so they stand for nothing)."""
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    db.session.flush()


def use(user: User, text: str) -> bool:
    """Spend one unused code matching ``text``; audited either way."""
    typed = normalise(text)
    unused = db.session.scalars(
        select(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .order_by(RecoveryCode.id)
        .with_for_update()  # two requests racing with one code cannot both spend it
    )
    spent = None
    if len(typed) == _LENGTH:
        for code in unused:
            try:
                _hasher.verify(code.code_hash, typed)
            except (VerificationError, InvalidHashError):
                continue
            spent = code
            break
    if spent is not None:
        spent.used_at = utcnow()
        db.session.flush()
    left = db.session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    record(user, "recovery.use" if spent else "recovery.refused", left=len(left))
    return spent is not None
