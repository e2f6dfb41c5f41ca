"""The audit log is append-only and hash-chained; `monitor audit verify` catches tampering."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, select, update

from monitor.cli import COMMANDS
from monitor.extensions import db
from monitor.models import AuditEntry
from monitor.services import audit, seed


def _verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert COMMANDS  # the command group is registered on the app
    return result.exit_code, result.output


def test_every_write_of_the_demo_is_audited_in_order(app: Flask) -> None:
    seed.seed_demo("editor@example.org")
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    actions = [e.action for e in entries]
    assert actions[:2] == ["source.create", "organization.create"]
    assert actions.count("case.create") == 3
    assert actions.count("status_event.create") == 3
    assert actions[-1] == "charge.create"
    assert all(e.actor == "editor@example.org" for e in entries)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert all(entries[i].prev_hash == entries[i - 1].hash for i in range(1, len(entries)))
    code, output = _verify(app)
    assert code == 0
    assert f"audit log intact: {len(entries)} entries" in output


def test_editing_an_entry_in_the_database_is_detected(app: Flask) -> None:
    seed.seed_demo("cli")
    db.session.commit()
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(actor="mallory"))
    db.session.commit()
    code, output = _verify(app)
    assert code == 1
    assert "entry #5" in output
    assert "altered" in output


def test_editing_an_entry_and_its_hash_breaks_the_next_link(app: Flask) -> None:
    seed.seed_demo("cli")
    db.session.commit()
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(hash="f" * 64))
    db.session.commit()
    code, output = _verify(app)
    assert code == 1
    assert "entry #3" in output


def test_deleting_an_entry_in_the_middle_is_detected(app: Flask) -> None:
    seed.seed_demo("cli")
    db.session.commit()
    db.session.execute(delete(AuditEntry).where(AuditEntry.seq == 7))
    db.session.commit()
    code, output = _verify(app)
    assert code == 1
    assert "entry #7 is missing" in output


def test_deleting_the_newest_entries_is_detected(app: Flask) -> None:
    seed.seed_demo("cli")
    db.session.commit()
    last = db.session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    assert last is not None
    db.session.execute(delete(AuditEntry).where(AuditEntry.seq >= last - 1))
    db.session.commit()
    code, output = _verify(app)
    assert code == 1
    assert f"entry #{last - 1} and later are missing" in output


def test_case_history_lists_only_that_case_newest_first(app: Flask, demo: dict[str, str]) -> None:
    kem = demo["Kem Sokha"]
    entries = audit.history(kem)
    assert [e.action for e in entries] == ["charge.create", "status_event.create", "case.create"]
    assert all(e.case_ref == kem for e in entries)
    # The same query again, for another case, reuses the compiled statement (a cache hit):
    # its rows still answer to their column names.
    mu = demo["Mu Sochua"]
    rows = audit.history(mu)
    assert [(r.action, r.case_ref) for r in rows] == [
        ("status_event.create", mu),
        ("case.create", mu),
    ]
    assert [r._mapping["actor"] for r in rows] == [r.actor for r in rows]
