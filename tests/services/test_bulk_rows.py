"""Rows written in bulk (``add_rows``: COPY on PostgreSQL, an INSERT on SQLite) hold what the ORM
would write: the model's defaults for the columns left out (a new public id for each row), JSON
and times as given, in the session's transaction (a rollback takes them back)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import func, select

from monitor.extensions import db
from monitor.models import AuditEntry, Case, Charge
from monitor.services import add_rows, insert_rows


def test_bulk_rows_take_the_models_defaults(app: Flask, demo: dict[str, str]) -> None:
    case_id = db.session.scalars(select(Case.id).where(Case.public_id == demo["Kem Sokha"])).one()
    before = db.session.scalar(select(func.count()).select_from(Charge))
    add_rows(Charge, [{"case_id": case_id, "offence": f"Bulk offence {n}"} for n in range(3)])
    charges = db.session.scalars(
        select(Charge).where(Charge.offence.like("Bulk offence %")).order_by(Charge.offence)
    ).all()
    assert [c.offence for c in charges] == ["Bulk offence 0", "Bulk offence 1", "Bulk offence 2"]
    assert len({c.public_id for c in charges}) == 3
    assert all(len(c.public_id) > 8 for c in charges)
    assert {(c.stage, c.max_sentence_kind, c.in_absentia) for c in charges} == {
        ("charged", "unknown", False)
    }
    assert all(c.created_at is not None for c in charges)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Charge)) == before


def test_bulk_rows_keep_json_and_times_as_given(app: Flask) -> None:
    at = dt.datetime(2026, 12, 5, 23, 4, 48, 906493, tzinfo=dt.UTC)
    after = {"name": "Kem Sokha", "aliases": ["កឹម សុខា"], "note": 'quote " and \\ and \t'}
    add_rows(
        AuditEntry,
        [
            {
                "seq": 900_000 + n,
                "at": at,
                "actor": "test",
                "action": "person.create",
                "entity_type": "person",
                "entity_id": f"P{n}",
                "case_ref": None,
                "before": None,
                "after": after,
                "prev_hash": "0" * 64,
                "hash": f"{n:064d}",
            }
            for n in range(2)
        ],
    )
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.seq >= 900_000).order_by(AuditEntry.seq)
    ).all()
    assert [(e.entity_id, e.at, e.before, e.after) for e in entries] == [
        ("P0", at, None, after),
        ("P1", at, None, after),
    ]
    db.session.rollback()


def test_bulk_rows_with_ids_come_back_in_the_rows_order(app: Flask, demo: dict[str, str]) -> None:
    case_id = db.session.scalars(select(Case.id).where(Case.public_id == demo["Kem Sokha"])).one()
    rows = [{"case_id": case_id, "offence": f"Numbered {n}"} for n in (2, 0, 1)]
    ids = insert_rows(Charge, rows)
    assert len(set(ids)) == 3
    offences = {
        row.id: row.offence
        for row in db.session.execute(select(Charge.id, Charge.offence).where(Charge.id.in_(ids)))
    }
    assert [offences[i] for i in ids] == ["Numbered 2", "Numbered 0", "Numbered 1"]
    # The table's own sequence goes on after them: the next charge gets a new id.
    (later,) = insert_rows(Charge, [{"case_id": case_id, "offence": "Later"}])
    assert later > max(ids)
    db.session.rollback()
