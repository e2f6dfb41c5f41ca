"""How the audit log reads to people: ``Status recorded: jailed`` for ``status_event.create``,
``background worker`` for ``worker``.

Every action code the services write has a label here (``tests/test_presentation_history.py``
walks the services' calls to ``audit.record`` to hold that true).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.domain import CustodyStatus

# Every action the services write, in plain words.
ACTION_LABELS: dict[str, str] = {
    # The register
    "case.create": "Case opened",
    "case.update": "Case edited",
    "status_event.create": "Status recorded",
    "charge.create": "Charge added",
    "charge.update": "Charge edited",
    "person.create": "Person added",
    "person.update": "Person edited",
    "organization.create": "Organization added",
    "organization.update": "Organization edited",
    "membership.create": "Membership added",
    "membership.delete": "Membership removed",
    "source.create": "Source added",
    "import.apply": "Import applied",
    # Dossiers
    "dossier.request": "Dossier requested",
    "dossier.ready": "Dossier made",
    "dossier.fail": "Dossier could not be made",
    "dossier.expire": "Dossier deleted after its time",
    "dossier.download": "Dossier downloaded",
    # Alerts
    "subscription.request": "Alerts asked for",
    "subscription.confirm": "Alerts confirmed",
    "subscription.create": "Subscriber added",
    "subscription.follow": "Followed",
    "subscription.unsubscribe": "Alerts stopped",
    "alert_delivery.resend": "Alert sent again",
    # Accounts
    "user.create": "Account created",
    "user.update": "Account edited",
    "user.password": "Password set",
    "token.create": "API token created",
    "token.revoke": "API token revoked",
    "auth.login": "Logged in",
    "auth.login_failed": "Login refused",
    "auth.logout": "Logged out",
    "auth.password_changed": "Password changed",
    "auth.reset_issued": "Password reset link issued",
    "auth.reset_used": "Password reset link used",
    "session.revoke": "Session ended",
    "session.revoke_all": "Every session ended",
    "auth.reauthenticated": "Identity confirmed again",
    "auth.reauthentication_failed": "Identity confirmation refused",
    "second_factor.reset": "Second factors removed by an admin",
    "second_factor.totp.enrol": "Authenticator app added",
    "second_factor.totp.use": "Authenticator code accepted",
    "second_factor.totp.refused": "Authenticator code refused",
    "second_factor.totp.remove": "Authenticator app removed",
    "second_factor.passkey.enrol": "Passkey added",
    "second_factor.passkey.use": "Passkey used",
    "second_factor.passkey.refused": "Passkey refused",
    "second_factor.passkey.remove": "Passkey removed",
    "second_factor.recovery.issue": "Recovery codes issued",
    "second_factor.recovery.use": "Recovery code used",
    "second_factor.recovery.refused": "Recovery code refused",
    # The log itself
    "audit.rekey": "Audit log re-keyed",
}

# Who did it, when it was not a person with an account (the log keeps these labels).
SYSTEM_ACTORS: dict[str, str] = {
    "cli": "command line",
    "worker": "background worker",
    "beat": "scheduled task",
    "import": "import",
    "public": "a visitor of the subscribe page",
    "subscriber": "a subscriber, by a link in an email",
    "anonymous": "someone not logged in",
}

# Reading a case's data out of the register, not changing it: listed apart from its edits.
ACCESS_ACTIONS = frozenset(action for action in ACTION_LABELS if action.startswith("dossier."))

# What the case page says changed when a case is edited, by field.
_CASE_FIELDS = {
    "title": "title",
    "summary": "summary",
    "country": "country",
    "confidentiality": "confidentiality",
    "tags": "tags",
    "opened_on": "opened on",
    "closed_on": "closed on",
}


def action_label(action: str) -> str:
    """``Dossier downloaded`` for ``dossier.download``; an unknown code in words."""
    return ACTION_LABELS.get(action) or action.replace("_", " ").replace(".", ": ").capitalize()


def actor_text(actor: str, name: str | None = None) -> str:
    """``Ann Editor`` (a user's name, else their email), ``command line``, ``background worker``."""
    if name:
        return name
    return SYSTEM_ACTORS.get(actor, actor)


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [label for key, label in _CASE_FIELDS.items() if before.get(key) != after.get(key)]


def entry_text(
    action: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> str:
    """One history line: ``Status recorded: jailed``, ``Charge added: Treason``,
    ``Case edited: title, summary``."""
    label = action_label(action)
    after = after or {}
    detail = ""
    if action == "status_event.create":
        status = str(after.get("status") or "")
        try:
            detail = CustodyStatus(status).label
        except ValueError:
            detail = status
        if after.get("backfilled"):
            detail = f"{detail} (an earlier event, back-filled)"
    elif action in {"charge.create", "charge.update"}:
        detail = str(after.get("offence") or "")
    elif action == "case.update" and before is not None:
        detail = ", ".join(_changed(before, after))
    return f"{label}: {detail}" if detail else label
