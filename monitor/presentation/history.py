"""How the audit log reads to people, in the language in force: ``Status recorded: jailed``
for ``status_event.create``, ``background worker`` for ``worker``.

Every action code the services write has a label here (``tests/test_presentation_history.py``
walks the services' calls to ``audit.record`` to hold that true).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.support import LazyProxy

from monitor.presentation.translation import gettext
from monitor.presentation.translation import lazy_gettext as _l
from monitor.presentation.wording import comma_list, status_label

# Every action the services write, in plain words.
ACTION_LABELS: dict[str, LazyProxy] = {
    # The register
    "case.create": _l("Case opened"),
    "case.update": _l("Case edited"),
    "status_event.create": _l("Status recorded"),
    "charge.create": _l("Charge added"),
    "charge.update": _l("Charge edited"),
    "person.create": _l("Person added"),
    "person.update": _l("Person edited"),
    "person.identifiers": _l("Person's identifiers changed"),
    "organization.create": _l("Organization added"),
    "organization.update": _l("Organization edited"),
    "organization.identifiers": _l("Organization's identifiers changed"),
    "membership.create": _l("Membership added"),
    "membership.update": _l("Membership changed"),
    "membership.delete": _l("Membership removed"),
    "source.create": _l("Source added"),
    "import.apply": _l("Import applied"),
    # Dossiers
    "dossier.request": _l("Dossier requested"),
    "dossier.ready": _l("Dossier made"),
    "dossier.fail": _l("Dossier could not be made"),
    "dossier.expire": _l("Dossier deleted after its time"),
    "dossier.download": _l("Dossier downloaded"),
    # Alerts
    "subscription.request": _l("Alerts asked for"),
    "subscription.confirm": _l("Alerts confirmed"),
    "subscription.create": _l("Subscriber added"),
    "subscription.follow": _l("Followed"),
    "subscription.unsubscribe": _l("Alerts stopped"),
    "alert_delivery.resend": _l("Alert sent again"),
    # Accounts
    "user.create": _l("Account created"),
    "user.update": _l("Account edited"),
    "user.password": _l("Password set"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "auth.login": _l("Logged in"),
    "auth.login_failed": _l("Login refused"),
    "auth.logout": _l("Logged out"),
    "auth.password_changed": _l("Password changed"),
    "auth.reset_issued": _l("Password reset link issued"),
    "auth.reset_used": _l("Password reset link used"),
    "session.revoke": _l("Session ended"),
    "session.revoke_all": _l("Every session ended"),
    "auth.reauthenticated": _l("Identity confirmed again"),
    "auth.reauthentication_failed": _l("Identity confirmation refused"),
    "second_factor.reset": _l("Second factors removed by an admin"),
    "second_factor.totp.enrol": _l("Authenticator app added"),
    "second_factor.totp.use": _l("Authenticator code accepted"),
    "second_factor.totp.refused": _l("Authenticator code refused"),
    "second_factor.totp.remove": _l("Authenticator app removed"),
    "second_factor.passkey.enrol": _l("Passkey added"),
    "second_factor.passkey.use": _l("Passkey used"),
    "second_factor.passkey.refused": _l("Passkey refused"),
    "second_factor.passkey.remove": _l("Passkey removed"),
    "second_factor.recovery.issue": _l("Recovery codes issued"),
    "second_factor.recovery.use": _l("Recovery code used"),
    "second_factor.recovery.refused": _l("Recovery code refused"),
    # The log itself
    "audit.rekey": _l("Audit log re-keyed"),
}

# Who did it, when it was not a person with an account (the log keeps these labels).
SYSTEM_ACTORS: dict[str, LazyProxy] = {
    "cli": _l("command line"),
    "worker": _l("background worker"),
    "beat": _l("scheduled task"),
    "import": _l("import"),
    "public": _l("a visitor of the subscribe page"),
    "subscriber": _l("a subscriber, by a link in an email"),
    "anonymous": _l("someone not logged in"),
}

# Reading a case's data out of the register, not changing it: listed apart from its edits.
ACCESS_ACTIONS = frozenset(action for action in ACTION_LABELS if action.startswith("dossier."))

# What the case page says changed when a case is edited, by field.
_CASE_FIELDS = {
    "title": _l("title"),
    "external_id": _l("external id"),
    "summary": _l("summary"),
    "country": _l("country"),
    "confidentiality": _l("confidentiality"),
    "tags": _l("tags"),
    "opened_on": _l("opened on"),
    "closed_on": _l("closed on"),
}


def action_label(action: str) -> str:
    """``Dossier downloaded`` for ``dossier.download``; an unknown code in words."""
    label = ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    return action.replace("_", " ").replace(".", ": ").capitalize()


def actor_text(actor: str, name: str | None = None) -> str:
    """``Ann Editor`` (a user's name, else their email), ``command line``, ``background worker``."""
    if name:
        return name
    label = SYSTEM_ACTORS.get(actor)
    return str(label) if label is not None else actor


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [str(label) for key, label in _CASE_FIELDS.items() if before.get(key) != after.get(key)]


def entry_text(
    action: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> str:
    """One history line: ``Status recorded: jailed``, ``Charge added: Treason``,
    ``Case edited: title, summary``."""
    label = action_label(action)
    after = after or {}
    detail = ""
    if action == "status_event.create":
        detail = status_label(str(after.get("status") or "")) or ""
        if after.get("backfilled"):
            detail = gettext("%(status)s (an earlier event, back-filled)", status=detail)
    elif action in {"charge.create", "charge.update"}:
        detail = str(after.get("offence") or "")
    elif action == "case.update" and before is not None:
        detail = comma_list(_changed(before, after))
    return gettext("%(action)s: %(detail)s", action=label, detail=detail) if detail else label
