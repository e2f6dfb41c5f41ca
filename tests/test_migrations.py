"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from monitor.extensions import db


def test_migrations_match_the_models(app: Flask) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    # The trigram indexes are PostgreSQL-only and deliberately absent from the models.
    trigram = {"ix_people_search_text_trgm", "ix_charges_offence_trgm"}
    differences = [d for d in differences if not (d[0] == "remove_index" and d[1].name in trigram)]
    assert differences == []
