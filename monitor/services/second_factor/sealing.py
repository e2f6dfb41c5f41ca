"""Second-factor secrets encrypted at rest: AES-256-GCM under a key kept out of the database.

An authenticator app's shared secret must be readable by the server (it computes the codes), so
it cannot be hashed like a password; it is sealed instead. The key is derived with HKDF-SHA-256
from ``MONITOR_FACTOR_KEY`` or, when that is not set, from ``MONITOR_SECRET_KEY``; the HKDF
label is used for nothing else, so the derived key is independent of the secret key's signing
uses. A database dump, a backup or a read-only SQL injection then yields no working secret.

A sealed value reads ``v1$<key id>$<nonce + ciphertext, base64url>``. The key id (a fingerprint
of the derived key, never the key) says which key sealed it, so a register that moves from the
derived key to a dedicated ``MONITOR_FACTOR_KEY`` still opens the older values (and seals them
again under the new key when they are next used). The row's owner (the user's public id) is
bound in as associated data: a sealed secret copied into another account's row does not open.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
# The HKDF label of this one use; any other key derived from the same setting takes another.
HKDF_INFO = b"case monitor: second-factor secrets at rest, AES-256-GCM, v1"
HKDF_SALT = b"case monitor"
NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value that no configured key opens (a lost or changed key, or tampering)."""


@dataclass(frozen=True)
class FactorKey:
    """An AES-256-GCM key derived from a setting, with its public fingerprint."""

    key: bytes

    @classmethod
    def derive(cls, source: str) -> FactorKey:
        """The key HKDF-SHA-256 derives from ``source`` (``MONITOR_FACTOR_KEY`` or the secret)."""
        if not source:
            raise ValueError("no key material to derive the factor key from")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO)
        return cls(hkdf.derive(source.encode()))

    @property
    def key_id(self) -> str:
        """Eight hex digits naming the key (a hash of it: it says nothing about the key)."""
        return hashlib.sha256(b"key id\n" + self.key).hexdigest()[:8]


def keys_for(factor_key: str, secret_key: str) -> tuple[FactorKey, ...]:
    """The key that seals (the dedicated one when set) first, then the one derived from the
    secret key, which still opens values sealed before ``MONITOR_FACTOR_KEY`` was set."""
    derived = FactorKey.derive(secret_key)
    return (FactorKey.derive(factor_key), derived) if factor_key else (derived,)


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed secret (rather than one stored before sealing)."""
    return value.startswith(f"{VERSION}$")


def seal(plain: str, owner: str, key: FactorKey) -> str:
    """``plain`` encrypted under ``key``, bound to ``owner``."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key.key).encrypt(nonce, plain.encode(), owner.encode())
    encoded = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{VERSION}${key.key_id}${encoded}"


def sealed_by(value: str) -> str:
    """The key id of a sealed value (empty for anything else)."""
    parts = value.split("$")
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else ""


def open_sealed(value: str, owner: str, keys: Iterable[FactorKey]) -> str:
    """The plain secret of a sealed ``value``; :class:`SealError` when no key opens it."""
    key_id = sealed_by(value)
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        raise SealError(f"sealed under key {key_id or '?'}, which is not configured")
    raw = value.split("$")[2]
    data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    try:
        plain = AESGCM(key.key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], owner.encode())
    except InvalidTag:
        raise SealError("the sealed secret does not open (altered, or another account's)") from None
    return plain.decode()
