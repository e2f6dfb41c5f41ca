"""SQLAlchemy models, one module per aggregate."""

from monitor.models.alerts import AlertDelivery, Subscription
from monitor.models.audit import AuditEntry, AuditHead
from monitor.models.cases import Case, Charge, Source, StatusEvent
from monitor.models.counts import CaseCount, OrganizationCaseCount
from monitor.models.dossiers import Dossier
from monitor.models.imports import Import
from monitor.models.people import (
    Membership,
    Organization,
    OrganizationIdentifier,
    Person,
    PersonIdentifier,
)
from monitor.models.second_factor import Passkey, RecoveryCode, TotpFactor
from monitor.models.users import ApiToken, KnownDevice, PasswordReset, User, UserSession

__all__ = [
    "AlertDelivery",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Case",
    "CaseCount",
    "Charge",
    "Dossier",
    "Import",
    "KnownDevice",
    "Membership",
    "Organization",
    "OrganizationCaseCount",
    "OrganizationIdentifier",
    "Passkey",
    "PasswordReset",
    "Person",
    "PersonIdentifier",
    "RecoveryCode",
    "Source",
    "StatusEvent",
    "Subscription",
    "TotpFactor",
    "User",
    "UserSession",
]
