"""An authenticator app (TOTP, RFC 6238): enrol with a QR code or the secret typed by hand,
confirm with a first code, and accept each code once. The shared secret is stored sealed
(AES-256-GCM, :mod:`.sealing`) and opened only to compute codes or to show it at enrolment."""

from __future__ import annotations

import functools
import hmac
import logging
import time

import pyotp
import segno
from flask import current_app
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import TotpFactor, User
from monitor.models.base import utcnow
from monitor.presentation.translation import gettext as _
from monitor.services import ValidationError
from monitor.services.second_factor import record, sealing

log = logging.getLogger(__name__)

ISSUER = "Case monitor"
DIGITS = 6
# Codes of the step before and after the current one are accepted too (clocks drift).
DRIFT_STEPS = 1


def looks_like_code(text: str) -> bool:
    """Whether ``text`` has the shape of a TOTP code (six digits, spaces allowed)."""
    digits = text.replace(" ", "")
    return len(digits) == DIGITS and digits.isascii() and digits.isdigit()


@functools.lru_cache(maxsize=4)
def _keys_for(factor_key: str, secret_key: str) -> tuple[sealing.FactorKey, ...]:
    return sealing.keys_for(factor_key, secret_key)


def sealing_keys() -> tuple[sealing.FactorKey, ...]:
    """The keys of this app's settings: the one that seals first, then older ones that open."""
    settings = current_app.config["SETTINGS"]
    return _keys_for(settings.factor_key, settings.secret_key)


def _seal(user: User, plain: str) -> str:
    return sealing.seal(plain, user.public_id, sealing_keys()[0])


def secret_of(user: User, factor: TotpFactor) -> str:
    """The factor's shared secret in clear (base32), for codes and the enrolment page only.

    Sealed under an older key (before ``MONITOR_FACTOR_KEY`` was set), it is sealed again under
    the current one; :class:`sealing.SealError` when no configured key opens it.
    """
    keys = sealing_keys()
    plain = sealing.open_sealed(factor.secret, user.public_id, keys)
    if sealing.sealed_by(factor.secret) != keys[0].key_id:
        factor.secret = _seal(user, plain)
    return plain


def _factor(user: User, *, lock: bool = False) -> TotpFactor | None:
    query = select(TotpFactor).where(TotpFactor.user_id == user.id)
    # Locked while a code is checked, so two requests racing with one code cannot both pass.
    return db.session.scalars(query.with_for_update() if lock else query).first()


def begin(user: User) -> TotpFactor:
    """A new secret for the user to add to their app (unconfirmed until :func:`confirm`).

    A confirmed app stays in use until the new one is confirmed; an unconfirmed one is
    replaced.
    """
    factor = _factor(user)
    if factor is not None and factor.confirmed_at is not None:
        raise ValidationError(
            {"totp": _("an authenticator app is already set up: remove it first")}
        )
    if factor is None:
        factor = TotpFactor(user_id=user.id)
        db.session.add(factor)
    factor.secret = _seal(user, pyotp.random_base32())
    factor.created_at = utcnow()
    db.session.flush()
    return factor


def pending(user: User) -> TotpFactor | None:
    """The enrolment in progress, if any."""
    factor = _factor(user)
    return factor if factor is not None and factor.confirmed_at is None else None


def uri(user: User, factor: TotpFactor) -> str:
    """The ``otpauth://`` URI an app reads from the QR code."""
    return pyotp.TOTP(secret_of(user, factor), digits=DIGITS).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )


def qr_svg(text: str) -> str:
    """``text`` as a QR code in inline SVG (drawn here: no image service sees the secret)."""
    code = segno.make(text, error="m")
    svg: str = code.svg_inline(
        scale=5, dark="#000", light="#fff", title=_("QR code for your authenticator app")
    )
    return svg


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step within the drift window whose code is ``code``, else None."""
    totp = pyotp.TOTP(secret, digits=DIGITS)
    current = int(now) // totp.interval
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare all of them, in constant time, so timing says nothing about which matched.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def _accept(user: User, factor: TotpFactor, code: str) -> bool:
    """Accept a code of a step later than the last one accepted (never the same code twice)."""
    digits = code.replace(" ", "")
    if not looks_like_code(digits):
        return False
    try:
        secret = secret_of(user, factor)
    except sealing.SealError:
        # MONITOR_FACTOR_KEY (or the secret key it falls back to) changed: no code can match.
        log.warning("the authenticator app secret of user %s does not open", user.public_id)
        return False
    step = _matching_step(secret, digits, time.time())
    if step is None or (factor.last_step is not None and step <= factor.last_step):
        return False
    factor.last_step = step
    factor.last_used_at = utcnow()
    return True


def confirm(user: User, code: str) -> TotpFactor:
    """Turn the pending secret into the user's factor once they typed a code from their app."""
    factor = _factor(user, lock=True)
    if factor is None or factor.confirmed_at is not None:
        raise ValidationError({"code": _("start again: no authenticator app is being set up")})
    if not _accept(user, factor, code):
        raise ValidationError({"code": _("that is not the current code of your app; try again")})
    factor.confirmed_at = utcnow()
    db.session.flush()
    record(user, "totp.enrol")
    return factor


def verify(user: User, code: str, *, purpose: str = "login") -> bool:
    """Whether ``code`` is a current, unused code of the user's app; audited either way."""
    factor = _factor(user, lock=True)
    if factor is None or factor.confirmed_at is None:
        return False
    accepted = _accept(user, factor, code)
    db.session.flush()
    record(user, "totp.use" if accepted else "totp.refused", purpose=purpose)
    return accepted


def remove(user: User) -> None:
    """Remove the user's authenticator app (after :func:`prove_identity` and the last-factor
    check, which the caller runs)."""
    factor = _factor(user)
    if factor is None:
        return
    confirmed = factor.confirmed_at is not None
    db.session.delete(factor)
    db.session.flush()
    if confirmed:
        record(user, "totp.remove")
