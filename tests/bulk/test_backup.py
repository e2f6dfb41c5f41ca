"""`monitor backup` and `monitor restore`: a full round trip into a second, empty database."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from monitor import create_app
from monitor.domain import PartialDate
from monitor.extensions import Base, db
from monitor.models import Case, Dossier, Import, Organization, User
from monitor.models.alerts import SubscriptionScope
from monitor.models.base import utcnow
from monitor.services import subscriptions, users
from monitor.services.backup import (
    DERIVED_TABLES,
    LOCKED_PASSWORD_PREFIX,
    NO_PDF_REASON,
    backup_tables,
)
from monitor.services.cases import StatusInput, record_status
from tests.support.accounts import PASSWORD, make_user
from tests.support.environment import PG_URL, Backend

Tables = dict[str, list[dict[str, Any]]]


def _invoke(app: Flask, *args: str) -> tuple[int, str]:
    """Run a `monitor` command against ``app`` (its context pushed, so its database is used)."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def _dump(app: Flask) -> Tables:
    """Every row of every table, in primary key order: the derived count tables too, which a
    restore does not read but must rebuild."""
    derived = [Base.metadata.tables[name] for name in sorted(DERIVED_TABLES)]
    with app.app_context():
        return {
            table.name: [
                dict(row._mapping)
                for row in db.session.execute(select(table).order_by(*table.primary_key.columns))
                # a count that fell back to 0 is the same as no row
                if table not in derived or row._mapping["cases"]
            ]
            for table in backup_tables() + derived
        }


def _is_empty(app: Flask) -> bool:
    return not any(_dump(app).values())


@pytest.fixture
def register(app: Flask, demo: dict[str, str]) -> dict[str, str]:
    """The demo plus an editor with an API token, a follow, status changes, dossiers, an import."""
    editor = make_user("editor", "confidential", "editor@example.org")
    _, token = users.create_token("test", editor, "laptop")
    kem_sokha = db.session.scalars(select(Case).where(Case.public_id == demo["Kem Sokha"])).one()
    for status, on in [("jailed", "2024-03-02"), ("house_arrest", "2024-06"), ("fled", "2023")]:
        record_status(
            editor,
            kem_sokha,
            StatusInput(status=status, occurred_on=PartialDate.parse(on), location="Phnom Penh"),
        )
    subscriptions.follow(editor, SubscriptionScope.CASE, kem_sokha)
    party = db.session.scalars(select(Organization)).first()
    subscriptions.create_confirmed(
        editor,
        subscriptions.SubscriptionInput(
            email="watcher@example.org", scope="organization", organization=party, mode="daily"
        ),
    )
    pdf = b"%PDF-1.7 not really a PDF\n"
    now = utcnow()
    db.session.add_all(
        [
            Dossier(
                requested_by=editor,
                kind="case",
                scope={"case_id": kem_sokha.public_id},
                title="Kem Sokha",
                state="ready",
                progress=100,
                pdf=pdf,
                sha256=hashlib.sha256(pdf).hexdigest(),
                pages=1,
                size=len(pdf),
                finished_at=now,
                expires_at=now + dt.timedelta(hours=72),
                attempts=1,
            ),
            Dossier(requested_by=editor, kind="selection", scope={"filters": {}}, title="All"),
            # Arbitrary bytes (not UTF-8) must come back exactly.
            Import(
                requested_by=editor,
                filename="cases.csv",
                content=b"name,status\r\n\xffKem Sokha,jailed\x00\n",
                sha256="0" * 64,
                rows=1,
                errors=[{"row": 1, "column": "status", "message": "ok"}],
                summary={"create": 1},
            ),
        ]
    )
    db.session.commit()
    return {"token": token}


@pytest.fixture
def empty_app(app: Flask, backend: Backend, tmp_path: Path) -> Iterator[Flask]:
    """A second app on its own new database, migrated by `monitor init-db` and nothing else."""
    name = f"test_restore_{secrets.token_hex(4)}"
    server = None
    if backend.name == "postgresql":
        server_url = sa.make_url(PG_URL).set(drivername="postgresql+psycopg")
        url = server_url.set(database=name).render_as_string(hide_password=False)
        server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    else:
        url = f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    try:
        second = create_app(
            dataclasses.replace(
                app.config["SETTINGS"],
                database_url=url,
                instance_path=tmp_path / "restore-instance",
            )
        )
        code, output = _invoke(second, "init-db")
        assert code == 0, output
        yield second
        with second.app_context():
            db.engine.dispose()
    finally:
        if server is not None:
            with server.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            server.dispose()


def _backup(app: Flask, path: Path, *flags: str) -> str:
    code, output = _invoke(app, "backup", str(path), *flags)
    assert code == 0, output
    return output


# Without secrets compressed, with secrets plain: both file kinds are read back.
@pytest.mark.parametrize("with_secrets", [False, True])
def test_restore_into_an_empty_database_gives_back_every_row(
    app: Flask, register: dict[str, str], empty_app: Flask, tmp_path: Path, with_secrets: bool
) -> None:
    original = _dump(app)
    assert all(original[name] for name in ("users", "api_tokens", "subscriptions", "imports"))
    path = tmp_path / ("register.jsonl" if with_secrets else "register.jsonl.gz")
    output = _backup(app, path, *(["--with-secrets"] if with_secrets else []))
    assert f"cases: {len(original['cases'])}" in output
    assert path.stat().st_mode & 0o777 == 0o600
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    assert ("$argon2" in text) is with_secrets
    assert (original["api_tokens"][0]["token_hash"] in text) is with_secrets
    assert "%PDF" not in text

    code, output = _invoke(empty_app, "restore", str(path))
    assert code == 0, output
    restored = _dump(empty_app)

    expected = copy.deepcopy(original)
    for dossier in expected["dossiers"]:
        dossier["pdf"] = None
        if dossier["state"] == "ready":
            dossier.update(state="failed", error=NO_PDF_REASON)
    assert "ready dossiers restored as failed: 1;" in output
    if not with_secrets:
        for user in expected["users"]:
            del user["password_hash"]
        for user in restored["users"]:
            assert user.pop("password_hash").startswith(LOCKED_PASSWORD_PREFIX)
        expected["api_tokens"] = []
        assert "api_tokens not restored: 1;" in output
        assert f"users without a password: {len(original['users'])};" in output
    assert restored == expected

    assert _invoke(empty_app, "audit", "verify") == (
        0,
        f"audit log intact: {len(original['audit_entries'])} entries\n",
    )
    with empty_app.app_context():
        can_log_in = users.authenticate("editor@example.org", PASSWORD) is not None
        token_works = users.user_for_token(register["token"]) is not None
        assert (can_log_in, token_works) == (with_secrets, with_secrets)
        # New rows take ids after the restored ones (PostgreSQL's sequences were moved on).
        make_user("viewer", "public", "new.viewer@example.org")
        assert db.session.scalars(select(User.email).order_by(User.id.desc())).first() == (
            "new.viewer@example.org"
        )
    code, output = _invoke(empty_app, "audit", "verify")
    assert code == 0, output
    # The new user, and the refused login of a locked account (auth.login_failed).
    added = 1 if with_secrets else 2
    assert f"{len(original['audit_entries']) + added} entries" in output


def test_restore_into_a_database_with_rows_is_refused_and_changes_nothing(
    app: Flask, register: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "register.jsonl"
    _backup(app, path)
    before = _dump(app)
    code, output = _invoke(app, "restore", str(path))
    assert code == 1
    assert "nothing restored: the database is not empty" in output
    assert _dump(app) == before


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _cut_mid_line(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _drop_the_end(path: Path) -> None:
    path.write_text("".join(_lines(path)[:-1]))


def _repeat_a_user(path: Path) -> None:
    # The second copy breaks the unique email after earlier tables were already inserted.
    lines = _lines(path)
    at = lines.index(next(line for line in lines if line.startswith('{"table":"users"'))) + 1
    path.write_text("".join([*lines[: at + 1], lines[at], *lines[at + 1 :]]))


def _garble_a_time(path: Path) -> None:
    lines = _lines(path)
    first_entry = json.loads(lines[2])  # the first row of the first table, the audit log
    first_entry[json.loads(lines[1])["columns"].index("at")] = "yesterday"
    path.write_text("".join([*lines[:2], json.dumps(first_entry) + "\n", *lines[3:]]))


def _other_revision(path: Path) -> None:
    lines = _lines(path)
    header = json.loads(lines[0])
    header["alembic_revision"] = "0001_register"
    path.write_text("".join([json.dumps(header) + "\n", *lines[1:]]))


def _not_a_backup(path: Path) -> None:
    path.write_text("name,status\nKem Sokha,jailed\n")


def _cut_gzip(path: Path) -> None:
    data = gzip.compress(path.read_bytes())
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_cut_mid_line, "truncated"),
        (_drop_the_end, "truncated"),
        (_cut_gzip, "cannot read the file"),
        (_repeat_a_user, "table users"),
        (_garble_a_time, "line 3 (audit_entries): Invalid isoformat string"),
        (_other_revision, "schema revision 0001_register"),
        (_not_a_backup, "not a case monitor backup"),
    ],
)
@pytest.mark.usefixtures("register")
def test_a_damaged_or_foreign_file_is_refused_and_leaves_the_database_empty(
    app: Flask,
    empty_app: Flask,
    tmp_path: Path,
    damage: Callable[[Path], None],
    problem: str,
) -> None:
    path = tmp_path / "register.jsonl"
    _backup(app, path)
    damage(path)
    code, output = _invoke(empty_app, "restore", str(path))
    assert code == 1
    assert "nothing restored" in output
    assert problem in output
    assert _is_empty(empty_app)
