"""Server-side login sessions: one row per login; the browser holds only its random id.

- :func:`start_session` opens one after a successful login (the password, and the second factor
  when there is one): a random id for the cookie, its SHA-256 in a :class:`UserSession` row,
  the time, address and browser, the second factor used. A login from a browser and address the
  account never logged in from is reported to its owner by email
  (``TaskName.ACCOUNTS_NEW_DEVICE``).
- :func:`resume` turns a cookie's id back into its session on every request, and refuses one
  idle longer than ``MONITOR_SESSION_HOURS`` or older than ``MONITOR_SESSION_MAX_HOURS``.
- Deleting the row ends the login wherever the cookie went: logout (:func:`end_session`), the
  sessions page, a password change or reset, a second-factor change, deactivation and
  ``monitor sessions revoke`` (:func:`end_other_sessions`, :func:`end_all_sessions`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from monitor import jobs
from monitor.config import Settings
from monitor.extensions import db
from monitor.jobs import TaskName
from monitor.models import KnownDevice, User, UserSession
from monitor.models.base import UTCDateTime, utcnow
from monitor.presentation.devices import browser_label
from monitor.services import Actor, NotFound, audit

log = logging.getLogger(__name__)

# How the second login step was passed (UserSession.second_factor); None: no second step.
SECOND_FACTORS = frozenset({"totp", "webauthn", "recovery"})
# A session's last-seen time moves at most this often, so page views do not each write; the
# idle timeout may therefore end a login up to this much sooner than the setting says.
TOUCH_AFTER = dt.timedelta(minutes=1)
# Known devices unused for this long are forgotten.
DEVICE_MEMORY = dt.timedelta(days=365)
TOKEN_BYTES = 32  # 256 random bits
MAX_TOKEN_LENGTH = 100  # a longer cookie value is no id of ours: not even hashed
ADDRESS_LENGTH = 64
USER_AGENT_LENGTH = 300
LOGOUT = "logged out"


@dataclass(frozen=True)
class Lifetimes:
    """How long a login lasts: since its last request (idle) and since it began (absolute)."""

    idle: dt.timedelta
    absolute: dt.timedelta

    @classmethod
    def of(cls, settings: Settings) -> Lifetimes:
        """From ``MONITOR_SESSION_HOURS`` and ``MONITOR_SESSION_MAX_HOURS``."""
        return cls(
            dt.timedelta(hours=settings.session_hours),
            dt.timedelta(hours=settings.session_max_hours),
        )

    def expired(self, row: UserSession, now: dt.datetime) -> bool:
        """Whether ``row`` has idled or lived too long."""
        return now - row.last_seen_at >= self.idle or now - row.created_at >= self.absolute


@dataclass(frozen=True)
class StartedSession:
    """A new login: its row, and the random id for the cookie (never stored)."""

    session: UserSession
    token: str
    new_device: bool


def token_digest(token: str) -> str:
    """What the database keeps of a session id (256 random bits: a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _printable(text: str | None, length: int) -> str:
    return "".join(c for c in (text or "") if c.isprintable())[:length]


def start_session(
    user: User,
    *,
    second_factor: str | None,
    address: str | None,
    user_agent: str | None,
    settings: Settings,
) -> StartedSession:
    """Open a login session for ``user`` once every login step passed; audited as
    ``auth.login``. The caller commits, then puts :attr:`StartedSession.token` in the cookie."""
    if second_factor is not None and second_factor not in SECOND_FACTORS:
        raise ValueError(f"unknown second factor {second_factor!r}")
    now = utcnow()
    _purge_expired(Lifetimes.of(settings), now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = UserSession(
        user=user,
        token_hash=token_digest(token),
        created_at=now,
        last_seen_at=now,
        address=_printable(address, ADDRESS_LENGTH),
        user_agent=_printable(user_agent, USER_AGENT_LENGTH),
        second_factor=second_factor,
        reauthenticated_at=now,  # a login is an authentication: "Confirm it's you" waits
    )
    db.session.add(row)
    new_device = _note_device(user, row, settings.secret_key, now)
    user.last_login_at = now
    db.session.flush()
    login = login_details(row)
    audit.record(
        user, "auth.login", "user", user.public_id, after={**login, "new_device": new_device}
    )
    if new_device:
        jobs.after_commit(TaskName.ACCOUNTS_NEW_DEVICE, user.id, login)
    return StartedSession(row, token, new_device)


def renew_token(row: UserSession) -> str:
    """Give the login a new random id (after it authenticated again); the old id stops
    working. The caller commits, then puts the returned id in the cookie."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row.token_hash = token_digest(token)
    db.session.flush()
    return token


def login_details(row: UserSession) -> dict[str, Any]:
    """What the audit log and the new-device email say about a login."""
    return {
        "session": row.public_id,
        "at": row.created_at.isoformat(),
        "address": row.address,
        "browser": browser_label(row.user_agent),
        "second_factor": row.second_factor,
    }


def _fingerprint(key: str, user_agent: str, address: str) -> str:
    # Keyed, so the table alone does not tell which addresses an account used.
    message = f"device\n{user_agent}\n{address}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _note_device(user: User, row: UserSession, key: str, now: dt.datetime) -> bool:
    """Remember the login's browser and address; True when they are new for an account that
    has logged in before (its first login ever, or the first since devices were recorded, only
    records them)."""
    fingerprint = _fingerprint(key, row.user_agent, row.address)
    devices = list(db.session.scalars(select(KnownDevice).where(KnownDevice.user_id == user.id)))
    for device in devices:
        if hmac.compare_digest(device.fingerprint, fingerprint):
            device.last_seen_at = now
            return False
    db.session.add(
        KnownDevice(user_id=user.id, fingerprint=fingerprint, first_seen_at=now, last_seen_at=now)
    )
    for device in devices:
        if now - device.last_seen_at > DEVICE_MEMORY:
            db.session.delete(device)
    return bool(devices)


def _purge_expired(lifetimes: Lifetimes, now: dt.datetime) -> None:
    """Delete every account's expired sessions (a login is a good moment: it adds one)."""
    db.session.execute(
        delete(UserSession)
        .where(
            or_(
                UserSession.last_seen_at <= now - lifetimes.idle,
                UserSession.created_at <= now - lifetimes.absolute,
            )
        )
        .execution_options(synchronize_session=False)
    )


# Built once: every page view of a logged-in user runs it.
_BY_TOKEN = (
    select(UserSession)
    .join(UserSession.user)
    .options(contains_eager(UserSession.user))
    .where(UserSession.token_hash == bindparam("token_hash"))
)
_TOUCH = (
    update(UserSession)
    .where(
        UserSession.id == bindparam("session_id"),
        UserSession.last_seen_at < bindparam("now", type_=UTCDateTime()),
    )
    .values(last_seen_at=bindparam("now", type_=UTCDateTime()))
)


def resume(token: object, settings: Settings, now: dt.datetime | None = None) -> UserSession | None:
    """The live session of an active user this cookie id names, else None.

    Its last-seen time moves forward at most once per :data:`TOUCH_AFTER`, on a connection of
    its own that commits at once: a read-only page stays read-only, and a write request's
    rollback does not undo it.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.scalars(_BY_TOKEN, {"token_hash": token_digest(token)}).first()
    if row is None or not row.user.active:
        return None
    now = now or utcnow()
    if Lifetimes.of(settings).expired(row, now):
        return None
    if now - row.last_seen_at >= TOUCH_AFTER:
        _touch(row, now)
    return row


def _touch(row: UserSession, now: dt.datetime) -> None:
    try:
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                _TOUCH, {"session_id": row.id, "now": now}
            )
    except SQLAlchemyError:
        # A missed update only lets the idle timeout end this login a little sooner.
        log.warning("could not record session %s as seen", row.public_id, exc_info=True)
        return
    set_committed_value(row, "last_seen_at", now)  # not a change for the request's session


def own_sessions(user: User, settings: Settings) -> list[UserSession]:
    """The user's live sessions, the most recently used first."""
    lifetimes, now = Lifetimes.of(settings), utcnow()
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [row for row in rows if not lifetimes.expired(row, now)]


def own_session(user: User, public_id: str) -> UserSession:
    """One of the user's sessions by public id; :class:`NotFound` for anyone else's."""
    row = db.session.scalars(
        select(UserSession).where(
            UserSession.public_id == public_id, UserSession.user_id == user.id
        )
    ).first()
    if row is None:
        raise NotFound
    return row


def end_session(actor: Actor, row: UserSession, *, reason: str = LOGOUT) -> None:
    """End one login (``auth.logout`` when its owner logs out, else ``session.revoke``)."""
    owner = row.user
    db.session.delete(row)
    db.session.flush()
    action = "auth.logout" if reason == LOGOUT else "session.revoke"
    after = {"sessions": [row.public_id], "reason": reason}
    audit.record(actor, action, "user", owner.public_id, after=after)


def end_other_sessions(
    user: User, keep: UserSession | None, *, reason: str, actor: Actor | None = None
) -> int:
    """End every session of ``user`` but ``keep`` (the one making the request); how many ended.

    For a password or second-factor change made from a logged-in session.
    """
    return _end(user, keep, reason, actor)


def end_all_sessions(user: User, *, reason: str, actor: Actor | None = None) -> int:
    """End every session of ``user`` (a reset, deactivation, ``monitor sessions revoke``)."""
    return _end(user, None, reason, actor)


def end_everyones_sessions(actor: Actor, *, reason: str) -> int:
    """End every session of every account (a stolen database or a compromised server:
    ``monitor sessions revoke-all``); audited once. How many ended."""
    ended = int(db.session.scalar(select(func.count()).select_from(UserSession)) or 0)
    db.session.execute(delete(UserSession))
    audit.record(actor, "session.revoke_all", "user", "*", after={"count": ended, "reason": reason})
    return ended


def _end(user: User, keep: UserSession | None, reason: str, actor: Actor | None) -> int:
    condition = UserSession.user_id == user.id
    if keep is not None:
        condition = condition & (UserSession.id != keep.id)
    ended = list(db.session.scalars(select(UserSession.public_id).where(condition)))
    if not ended:
        return 0
    db.session.execute(delete(UserSession).where(condition))
    audit.record(
        actor if actor is not None else user,
        "session.revoke",
        "user",
        user.public_id,
        after={"sessions": ended, "reason": reason},
    )
    return len(ended)
