"""Passkeys and security keys (WebAuthn, through py_webauthn): the registration and
authentication ceremonies, with options made here and responses verified here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from monitor.extensions import db
from monitor.models import Passkey, User
from monitor.models.base import utcnow
from monitor.presentation.translation import gettext as _
from monitor.services import ValidationError
from monitor.services.second_factor import record

RP_NAME = "Case monitor"
# How long the browser gives the user to touch their key, in milliseconds (a hint).
TIMEOUT_MS = 120_000
MAX_PASSKEYS = 20


@dataclass(frozen=True)
class RelyingParty:
    """Who the credentials are for: the register's host name, and the origin pages come from."""

    id: str
    origin: str

    @classmethod
    def for_base_url(cls, base_url: str) -> RelyingParty:
        """The relying party of MONITOR_BASE_URL (``https://monitor.example.org``)."""
        parts = urlsplit(base_url)
        return cls(parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}")

    @property
    def usable(self) -> bool:
        """Browsers take a domain name as relying party, never an IP address."""
        return not (self.id.replace(".", "").isdigit() or ":" in self.id)


@dataclass(frozen=True)
class Ceremony:
    """Options for the browser (JSON) and the challenge to check its answer against."""

    options_json: str
    challenge: bytes


def own_passkeys(user: User) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    return list(
        db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id))
    )


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=p.credential_id,
            transports=[AuthenticatorTransport(t) for t in p.transports if t in known] or None,
        )
        for p in passkeys
    ]


def registration_options(user: User, rp: RelyingParty) -> Ceremony:
    """Options for ``navigator.credentials.create()``, excluding keys already registered."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        # The user handle is the public id: random, and no personal data for the authenticator.
        user_id=user.public_id.encode(),
        user_name=user.email,
        user_display_name=user.name or user.email,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(own_passkeys(user)),
    )
    return Ceremony(options_to_json(options), options.challenge)


def register(user: User, rp: RelyingParty, credential: str, challenge: bytes, name: str) -> Passkey:
    """Verify the browser's answer to :func:`registration_options` and keep the new key."""
    name = " ".join(name.split())[:100] or "Passkey"
    if len(own_passkeys(user)) >= MAX_PASSKEYS:
        raise ValidationError({"passkey": _("you already have %(max)s passkeys", max=MAX_PASSKEYS)})
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            {"passkey": _("the browser's answer was refused (%(why)s)", why=exc)}
        ) from None
    clash = db.session.scalars(
        select(Passkey.id).where(Passkey.credential_id == verified.credential_id)
    ).first()
    if clash is not None:
        raise ValidationError({"passkey": _("this key is already registered")})
    passkey = Passkey(
        user_id=user.id,
        name=name,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t.value for t in parsed.response.transports or []],
    )
    db.session.add(passkey)
    db.session.flush()
    record(user, "passkey.enrol", passkey=passkey.public_id, name=passkey.name)
    return passkey


def authentication_options(user: User, rp: RelyingParty) -> Ceremony:
    """Options for ``navigator.credentials.get()``, allowing the user's own keys only."""
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(own_passkeys(user)),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return Ceremony(options_to_json(options), options.challenge)


def verify(user: User, rp: RelyingParty, credential: str, challenge: bytes) -> Passkey | None:
    """The user's passkey that signed the challenge, else None; audited either way."""
    passkey = None
    try:
        parsed = parse_authentication_credential_json(credential)
        passkey = db.session.scalars(
            select(Passkey).where(
                Passkey.user_id == user.id, Passkey.credential_id == parsed.raw_id
            )
        ).first()
        if passkey is None:
            raise ValueError("not one of this user's keys")
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        record(user, "passkey.refused", reason=str(exc)[:200])
        return None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    db.session.flush()
    record(user, "passkey.use", passkey=passkey.public_id, name=passkey.name)
    return passkey


def remove(user: User, passkey: Passkey) -> None:
    """Remove one of the user's passkeys (after the caller's identity and last-factor checks)."""
    details = {"passkey": passkey.public_id, "name": passkey.name}
    db.session.delete(passkey)
    db.session.flush()
    record(user, "passkey.remove", **details)
