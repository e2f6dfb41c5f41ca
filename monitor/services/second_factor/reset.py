"""Lost second factors: another admin removes them, so the user can enrol again.

For a user who lost their phone or key and their recovery codes. Their authenticator app,
passkeys and recovery codes are deleted and every session of theirs ends; at their next login,
with the password, MONITOR_REQUIRE_2FA sends them to enrol again. An admin cannot do this to
their own account (a stolen admin session must not strip its own factors), nor to an account
cleared above them (as for a password reset). ``monitor second-factor reset EMAIL`` is the same
use case, for bootstrapping. The owner is told by email, after commit.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select

from monitor import jobs
from monitor.extensions import db
from monitor.jobs import TaskName
from monitor.models import Passkey, RecoveryCode, TotpFactor, User
from monitor.models.base import utcnow
from monitor.presentation.translation import lazy_gettext as _l
from monitor.services import Actor, ValidationError, audit, user_sessions, users

NOT_YOUR_OWN = _l(
    "are your own: remove them on your security page, or ask another admin if you lost them"
)


def _count(model: type[TotpFactor] | type[Passkey] | type[RecoveryCode], user: User) -> int:
    query = select(func.count()).select_from(model).where(model.user_id == user.id)
    return int(db.session.scalar(query) or 0)


def remove_all_factors(actor: Actor, user: User) -> dict[str, int]:
    """Delete the user's authenticator app, passkeys and recovery codes and end their sessions;
    audited as ``second_factor.reset``. What was removed, and how many sessions ended."""
    if isinstance(actor, User) and actor.id == user.id:
        raise ValidationError({"second_factors": NOT_YOUR_OWN})
    if users.beyond_own(actor, user):
        raise ValidationError({"second_factors": users.NOT_YOURS_TO_RESET})
    removed = {
        "authenticator_apps": _count(TotpFactor, user),
        "passkeys": _count(Passkey, user),
        "recovery_codes": _count(RecoveryCode, user),
    }
    for model in (TotpFactor, Passkey, RecoveryCode):
        db.session.execute(delete(model).where(model.user_id == user.id))
    db.session.flush()
    ended = user_sessions.end_all_sessions(
        user, reason="second factors removed by an admin", actor=actor
    )
    now = utcnow()
    audit.record(
        actor,
        "second_factor.reset",
        "user",
        user.public_id,
        after={**removed, "sessions_ended": ended},
    )
    # The notice's own id (for its Message-ID): a second reset sends a second email.
    notice = {"notice": secrets.token_hex(8), "at": now.isoformat()}
    jobs.after_commit(TaskName.ACCOUNTS_FACTORS_RESET, user.id, notice)
    return {**removed, "sessions_ended": ended}
