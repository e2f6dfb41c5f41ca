"""Template helpers: vocabulary labels, country names, permission checks."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from monitor import authz
from monitor.domain import (
    Certainty,
    Confidentiality,
    CustodyStatus,
    LegalStage,
    OrganizationKind,
    SentenceKind,
)
from monitor.services.validation import country_name


def template_globals() -> dict[str, Any]:
    """Names every template can use."""
    return {
        "CustodyStatus": CustodyStatus,
        "Confidentiality": Confidentiality,
        "LegalStage": LegalStage,
        "SentenceKind": SentenceKind,
        "Certainty": Certainty,
        "OrganizationKind": OrganizationKind,
        "country_name": country_name,
        "can_write": authz.can(current_user, authz.Action.WRITE),
        "can_admin": authz.can(current_user, authz.Action.ADMIN),
    }
