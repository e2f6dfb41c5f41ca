"""The CSV export reads its next batch ahead on PostgreSQL (a thread on a connection of its own):
batch by batch it writes the same bytes as in one batch, and a client that goes away mid-export
stops the reading thread and returns its connection."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.domain import Sentence, SentenceKind
from monitor.extensions import db
from monitor.models import Case
from monitor.services import charges, exports
from monitor.services.seed import seed_synthetic
from tests.support.accounts import make_user


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "export-read-ahead" and t.is_alive()]


@pytest.mark.usefixtures("demo")
def test_small_batches_read_ahead_write_the_same_bytes(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_synthetic(30, seed=5)
    db.session.commit()
    admin, viewer = make_user("admin", "confidential"), make_user("viewer", "public")
    whole = {user: "".join(exports.cases_csv(user)) for user in (admin, viewer)}
    monkeypatch.setattr(exports, "CSV_BATCH", 4)
    for user in (admin, viewer):
        assert "".join(exports.cases_csv(user)) == whole[user]
    assert whole[admin].count("\n") > whole[viewer].count("\n") > 9
    assert _readers() == []


@pytest.mark.usefixtures("demo")
def test_a_client_that_goes_away_stops_the_reader(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_synthetic(30, seed=5)
    db.session.commit()
    monkeypatch.setattr(exports, "CSV_BATCH", 2)
    stream = exports.cases_csv(make_user("admin", "confidential"))
    assert next(stream).startswith("\ufeff")  # the header
    assert next(stream).count("\n") == 2  # the first batch; the reader is ahead
    ahead = db.engine.dialect.name == "postgresql"  # SQLite reads in turn, on the session's
    assert len(_readers()) == (1 if ahead else 0)
    checked_out = db.engine.pool.checkedout()  # type: ignore[attr-defined]
    stream.close()  # as Werkzeug does when the client disconnects
    assert _readers() == []
    returned = checked_out - db.engine.pool.checkedout()  # type: ignore[attr-defined]
    assert returned == (1 if ahead else 0)


@pytest.mark.usefixtures("demo")
def test_the_fast_readings_write_what_the_general_ones_do(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone who sees everything gets the charges read as a range of the charges' index, and
    on PostgreSQL every batch comes as the driver's tuples: the bytes are those of the charges
    read through the cases and of rows read through SQLAlchemy."""
    seed_synthetic(30, seed=7)
    for n, case in enumerate(db.session.scalars(select(Case).order_by(Case.id))):
        for k in range(n % 3):  # none, one or two charges: every batch end has some
            offence = f"Offence {n}-{k}"
            term = Sentence(SentenceKind.TERM, 12 * (k + 1))
            charges.add_charge("test", case, charges.ChargeInput(offence, term))
    db.session.commit()
    admin = make_user("admin", "confidential")
    monkeypatch.setattr(exports, "CSV_BATCH", 3)  # many batches: each range's ends count
    fast = "".join(exports.cases_csv(admin))
    assert fast.count("Offence ") > 30
    monkeypatch.setattr(exports, "_unconditional", lambda conditions: False)
    assert "".join(exports.cases_csv(admin)) == fast
    monkeypatch.setattr(
        exports,
        "_driver_rows",
        lambda connection, statement: connection.execute(statement).all(),
    )
    assert "".join(exports.cases_csv(admin)) == fast
