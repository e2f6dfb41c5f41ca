"""How many cases there are per confidentiality level, status and country (and per organization),
kept by database triggers so the dashboard and organization pages read a few rows instead of
counting every case.

The triggers (migration ``0015_case_counts``) run in the transaction that inserts, updates or
deletes a case or a membership, whichever code path does it (the services, an import's bulk
inserts), so the counts are always those of the committed rows. Each row keeps its
confidentiality level: a reader sums only the levels their clearance shows, so the counts stay
exact per clearance.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from monitor.extensions import Base


class CaseCount(Base):
    """Cases of one confidentiality level, custody status and country."""

    __tablename__ = "case_counts"

    confidentiality: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class OrganizationCaseCount(Base):
    """Distinct cases of an organization's members, of one confidentiality level and status."""

    __tablename__ = "organization_case_counts"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    confidentiality: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
