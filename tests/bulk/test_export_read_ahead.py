"""The CSV export reads its next batch ahead on PostgreSQL (a thread on a connection of its own):
batch by batch it writes the same bytes as in one batch, and a client that goes away mid-export
stops the reading thread and returns its connection."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from monitor.extensions import db
from monitor.services import exports
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
