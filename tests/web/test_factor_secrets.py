"""Authenticator app secrets are sealed at rest (AES-256-GCM under a key kept out of the
database): the column holds no base32 secret, logins with the app still work, a sealed secret
copied to another account does not open, a dedicated MONITOR_FACTOR_KEY set later takes over
without a new enrolment, and migration 0012 seals the secrets stored before it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask_migrate import downgrade, upgrade

from monitor.extensions import db, limiter
from monitor.models import User
from monitor.services.second_factor import recovery, sealing, totp
from tests.support.accounts import make_user
from tests.support.environment import PG_URL, Backend, make_app, psycopg_url
from tests.support.web import submit
from tests.web.test_second_factor import (
    SECOND_STEP,
    code_at,
    enrol_totp,
    log_out,
    logged_in_as,
    password_step,
)

PLAIN_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _cheap_recovery_code_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        recovery, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def stored_secret(user: User) -> str:
    """What the database's totp_factors.secret column holds for the user (raw SQL)."""
    with db.engine.connect() as connection:
        value = connection.execute(
            sa.text("SELECT secret FROM totp_factors WHERE user_id = :id"), {"id": user.id}
        ).scalar_one()
    return str(value)


def test_the_column_holds_no_base32_secret_and_the_app_still_logs_in(app: Flask) -> None:
    user, browser = logged_in_as(app)
    secret, _ = enrol_totp(browser)
    stored = stored_secret(user)
    assert secret not in stored
    assert secret.lower() not in stored.lower()
    assert stored.startswith("v1$")
    assert len(stored) <= 200
    log_out(browser)
    assert password_step(browser, user.email).location == SECOND_STEP
    logged_in = submit(browser, SECOND_STEP, {"code": code_at(secret, 1)})
    assert logged_in.status_code == 302
    assert browser.get("/cases").status_code == 200


def test_a_sealed_secret_copied_to_another_account_does_not_open(app: Flask) -> None:
    victim, victim_browser = logged_in_as(app)
    enrol_totp(victim_browser)
    attacker = make_user("viewer", "public", email="attacker@example.org")
    attacker_browser = app.test_client()
    assert password_step(attacker_browser, attacker.email).location == "/"
    attacker_secret, _ = enrol_totp(attacker_browser)
    # With write access to the table, the attacker's own sealed secret goes into the victim's
    # row: their app's codes must not open the victim's account.
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE totp_factors SET secret = :secret WHERE user_id = :id"),
            {"secret": stored_secret(attacker), "id": victim.id},
        )
    db.session.expire_all()
    factor = totp._factor(victim)
    assert factor is not None
    with pytest.raises(sealing.SealError):
        totp.secret_of(victim, factor)
    browser = app.test_client()
    assert password_step(browser, victim.email).location == SECOND_STEP
    assert submit(browser, SECOND_STEP, {"code": code_at(attacker_secret, 1)}).status_code == 401


def test_a_factor_key_set_later_opens_the_older_secrets_and_seals_them_again(
    app: Flask,
) -> None:
    user, browser = logged_in_as(app)
    secret, _ = enrol_totp(browser)
    log_out(browser)
    before = stored_secret(user)
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings, factor_key="k" * 48)
    assert password_step(browser, user.email).location == SECOND_STEP
    assert submit(browser, SECOND_STEP, {"code": code_at(secret, 1)}).status_code == 302
    after = stored_secret(user)
    assert sealing.sealed_by(after) != sealing.sealed_by(before)
    assert sealing.sealed_by(after) == sealing.FactorKey.derive("k" * 48).key_id


@contextmanager
def app_on(database_url: str, instance: Path, test_app: Flask) -> Iterator[Flask]:
    """Another testing app on ``database_url`` (its connections closed at the end)."""
    other = make_app(Backend("scratch", database_url, None), instance)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
        limiter.init_app(test_app)


def check_the_migration_seals_and_unseals(database_url: str, instance: Path, app: Flask) -> None:
    """Upgrade a database holding a plain secret across 0012, then downgrade it again."""
    with app_on(database_url, instance, app) as other, other.app_context():
        upgrade(revision="0008_claim_owner")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (public_id, email, name, password_hash, role, "
                    "clearance, active, created_at) VALUES ('u-sealed', 'old@example.org', "
                    "'Old', 'x', 'editor', 'public', true, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO totp_factors (user_id, secret, created_at, confirmed_at) "
                    "SELECT id, :secret, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM users"
                ),
                {"secret": PLAIN_SECRET},
            )
        upgrade()
        with db.engine.connect() as connection:
            sealed = connection.execute(sa.text("SELECT secret FROM totp_factors")).scalar_one()
        assert PLAIN_SECRET not in sealed
        assert sealing.open_sealed(sealed, "u-sealed", totp.sealing_keys()) == PLAIN_SECRET
        user = db.session.scalars(sa.select(User)).one()
        factor = totp._factor(user)
        assert factor is not None
        assert totp.verify(user, pyotp.TOTP(PLAIN_SECRET).now())
        db.session.rollback()
        downgrade(revision="0008_claim_owner")
        with db.engine.connect() as connection:
            plain = connection.execute(sa.text("SELECT secret FROM totp_factors")).scalar_one()
        assert plain == PLAIN_SECRET
        db.session.remove()


def test_migration_0012_seals_the_secrets_stored_before_it(app: Flask, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before-0012.sqlite'}"
    check_the_migration_seals_and_unseals(url, tmp_path / "scratch", app)


@pytest.mark.postgres
def test_migration_0012_seals_the_secrets_on_postgresql(
    backend: Backend, app: Flask, tmp_path: Path
) -> None:
    admin = sa.create_engine(psycopg_url(PG_URL), isolation_level="AUTOCOMMIT")
    scratch = f"{sa.engine.make_url(psycopg_url(PG_URL)).database}_sealing"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
    try:
        url = sa.engine.make_url(PG_URL).set(database=scratch).render_as_string(False)
        check_the_migration_seals_and_unseals(url, tmp_path / "scratch", app)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        admin.dispose()


def test_development_generates_a_factor_key_and_production_may_go_without(
    tmp_path: Path,
) -> None:
    from monitor.config import ConfigError, Settings

    dev = Settings.from_env({"MONITOR_ENV": "development", "MONITOR_INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "factor_key"
    assert key_file.read_text().strip() == dev.factor_key
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert dev.factor_key not in repr(dev)
    production = {
        "MONITOR_INSTANCE_PATH": str(tmp_path / "prod"),
        "MONITOR_SECRET_KEY": "s" * 40,
        "MONITOR_AUDIT_KEY": "a" * 40,
    }
    # Unset: the key is derived from the secret key (existing deployments keep working).
    assert Settings.from_env(production).factor_key == ""
    with pytest.raises(ConfigError, match="MONITOR_FACTOR_KEY must be at least 32"):
        Settings.from_env({**production, "MONITOR_FACTOR_KEY": "short"})
    assert Settings.from_env({**production, "MONITOR_FACTOR_KEY": "f" * 40}).factor_key == "f" * 40
