"""Read-only pages query in autocommit mode, and a read-only view that writes is refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from monitor.extensions import db
from monitor.models import Case, Organization, Person, User
from monitor.reads import WriteInReadOnlyView, reads_only
from tests.support.accounts import client_for
from tests.support.web import submit


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether the driver connection holds an open transaction (psycopg or sqlite3)."""
    if hasattr(dbapi_connection, "info"):  # psycopg: IDLE means no transaction
        return dbapi_connection.info.transaction_status.name != "IDLE"
    return bool(dbapi_connection.in_transaction)


@contextmanager
def _transactions_seen() -> Iterator[list[tuple[str, bool, bool]]]:
    """(verb, autocommit, transaction left open) for every statement, just after it ran."""
    seen: list[tuple[str, bool, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        seen.append((statement.split(maxsplit=1)[0], autocommit, _in_transaction(dbapi)))

    event.listen(db.engine, "after_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "after_cursor_execute", record)


def test_register_pages_hold_no_transaction(app: Flask, demo: dict[str, str]) -> None:
    client = client_for(app, "viewer")
    person = db.session.scalars(select(Person.public_id).where(Person.name == "Kem Sokha")).one()
    org = db.session.scalars(select(Organization.public_id)).first()
    db.session.rollback()  # the test's own session holds no transaction into the requests
    pages = [
        "/",
        "/cases",
        "/cases?q=sokha",
        f"/cases/{demo['Kem Sokha']}",
        "/people",
        f"/people/{person}",
        "/organizations",
        f"/organizations/{org}",
    ]
    for page in pages:
        with _transactions_seen() as seen:
            response = client.get(page)
        assert response.status_code == 200, page
        assert seen, page
        # Each statement runs on an autocommit connection and leaves no transaction open: no
        # BEGIN went before it and no ROLLBACK has to follow the page.
        assert all(autocommit and not open_ for _, autocommit, open_ in seen), (page, seen)


def test_forms_still_write_in_one_transaction(app: Flask, demo: dict[str, str]) -> None:
    client = client_for(app, "editor")
    db.session.rollback()
    client.get("/cases")  # a read-only request first, on the same connection pool
    with _transactions_seen() as seen:
        response = submit(
            client,
            f"/cases/{demo['Mao Monyvann']}/status",
            {"status": "jailed", "occurred_on": "2026-11", "certainty": "confirmed"},
        )
    assert response.status_code == 302, response.get_data(as_text=True)
    writes = [open_ for verb, _, open_ in seen if verb in {"INSERT", "UPDATE"}]
    assert writes
    assert all(writes)  # every write inside the request's one transaction
    assert not any(autocommit for _, autocommit, _ in seen)
    db.session.expire_all()
    case = db.session.scalars(select(Case).where(Case.public_id == demo["Mao Monyvann"])).one()
    assert case.status == "jailed"


def test_a_read_only_view_that_writes_is_refused(app: Flask, demo: dict[str, str]) -> None:
    @reads_only
    def rename() -> str:
        user = db.session.scalars(select(User)).first()
        assert user is not None
        user.name = "changed by a GET"
        db.session.commit()
        return "done"

    app.add_url_rule("/test-rename", view_func=rename)
    client = client_for(app, "admin")
    db.session.rollback()
    with pytest.raises(WriteInReadOnlyView, match="rename is marked reads_only"):
        client.get("/test-rename")
    db.session.rollback()
    assert db.session.scalars(select(User.name).where(User.name == "changed by a GET")).all() == []
