"""The account security page's use cases: add and remove factors, replace recovery codes.

The first factor a user adds comes with ten recovery codes; removing the last one takes the
codes with it. The web views let these run only within minutes of an authentication
(``services.reauthentication``).
"""

from __future__ import annotations

from monitor.config import Settings
from monitor.models import Passkey, User
from monitor.presentation.translation import gettext as _
from monitor.services import ValidationError
from monitor.services.second_factor import (
    ensure_one_left,
    factors_of,
    has_second_factor,
    passkeys,
    recovery,
    totp,
)


def _first_codes(user: User, had_factor: bool) -> list[str]:
    """Recovery codes for a user who just added their first factor (else none)."""
    if had_factor or factors_of(user).recovery_left:
        return []
    return recovery.issue(user)


def confirm_totp(user: User, code: str) -> list[str]:
    """Confirm the app being set up; the recovery codes to show once if it is the first factor."""
    had_factor = has_second_factor(user)
    totp.confirm(user, code)
    return _first_codes(user, had_factor)


def add_passkey(
    user: User, rp: passkeys.RelyingParty, credential: str, challenge: bytes, name: str
) -> tuple[Passkey, list[str]]:
    """Register a passkey; with the recovery codes to show once if it is the first factor."""
    had_factor = has_second_factor(user)
    passkey = passkeys.register(user, rp, credential, challenge, name)
    return passkey, _first_codes(user, had_factor)


def _after_removal(user: User) -> None:
    if not has_second_factor(user):
        recovery.discard(user)


def remove_totp(user: User, settings: Settings) -> None:
    """Remove the authenticator app (not the last factor of a role held to one)."""
    ensure_one_left(user, settings, removing="totp")
    totp.remove(user)
    _after_removal(user)


def remove_passkey(user: User, passkey: Passkey, settings: Settings) -> None:
    """Remove a passkey (not the last factor of a role held to one)."""
    ensure_one_left(user, settings, removing="passkey")
    passkeys.remove(user, passkey)
    _after_removal(user)


def replace_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes (the old ones stop working)."""
    if not has_second_factor(user):
        raise ValidationError(
            {"recovery": _("recovery codes stand in for a second factor: add one")}
        )
    return recovery.issue(user)
