"""SQLAlchemy models, one module per aggregate."""

from monitor.models.audit import AuditEntry, AuditHead
from monitor.models.cases import Case, Charge, Source, StatusEvent
from monitor.models.people import Membership, Organization, Person
from monitor.models.users import ApiToken, User

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Case",
    "Charge",
    "Membership",
    "Organization",
    "Person",
    "Source",
    "StatusEvent",
    "User",
]
