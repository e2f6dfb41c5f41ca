"""Import helpers: CSV files as a group would fill in the template, and the row counts an import
may change."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from monitor.extensions import db
from monitor.models import AuditEntry, Case, Charge, Membership, Person, Source, StatusEvent
from monitor.services.csv_format import header

HEADER = header(2)


def csv_bytes(rows: list[dict[str, str]], columns: list[str] = HEADER) -> bytes:
    """``rows`` as the bytes of a CSV file with ``columns``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode()


def mp(n: int, **overrides: str) -> dict[str, str]:
    """A CNRP MP row, as a group would fill in the template."""
    row = {
        "external_id": f"CNRP-{n:02d}",
        "name": f"Member {n}",
        "name_native": f"សមាជិក {n}",
        "aliases": f"M{n}; Member No. {n}",
        "organization": "CNRP",
        "role": "member of parliament",
        "country": "KH",
        "confidentiality": "public",
        "status": "fled",
        "status_date": "2017-10",
        "status_source": "CNRP MPs flee ‘dictator’",
        "status_source_url": "https://example.org/afp-cnrp",
        "charge_1_offence": "Incitement",
        "charge_1_legal_basis": "Criminal Code art. 495",
        "charge_1_max_sentence": "2 years",
        "charge_1_stage": "charged",
    }
    row.update(overrides)
    return row


def fingerprint() -> dict[str, int]:
    """Row counts of everything an import may write."""
    db.session.expire_all()
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Person, Case, Charge, StatusEvent, Membership, Source, AuditEntry)
    }
