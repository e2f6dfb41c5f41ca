"""The `monitor` console script, run as a user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from monitor.extensions import db
from monitor.models import Case, User
from monitor.services import users
from tests.support.processes import app_env

MONITOR = str(Path(sys.executable).parent / "monitor")


def _run(app: Flask, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = app_env(app)
    result = subprocess.run(
        [MONITOR, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    db.session.expire_all()
    return result


def test_create_user_token_and_demo_from_the_command_line(app: Flask) -> None:
    created = _run(
        app, "create-user", "Ed@Example.org", "--role", "editor", "--clearance", "restricted"
    )
    assert created.returncode == 0, created.stderr
    assert "created editor ed@example.org (clearance restricted)" in created.stdout
    password = created.stdout.split("password: ")[1].strip()
    ed = users.authenticate("ed@example.org", password)
    assert ed is not None
    # Bootstrapping: the operator's password is permanent (an admin's on the web is temporary).
    assert ed.password_temporary_until is None

    typed = _run(
        app,
        "create-user",
        "viewer@example.org",
        "--password-stdin",
        stdin="a long typed password\n",
    )
    assert typed.returncode == 0, typed.stderr
    assert "password:" not in typed.stdout
    assert users.authenticate("viewer@example.org", "a long typed password") is not None

    duplicate = _run(app, "create-user", "ed@example.org")
    assert duplicate.returncode == 1
    assert "email" in duplicate.stderr

    token = _run(app, "create-token", "ed@example.org")
    assert token.returncode == 0, token.stderr
    holder = users.user_for_token(token.stdout.strip())
    assert holder is not None
    assert holder.email == "ed@example.org"

    assert _run(app, "seed-demo").returncode == 0
    again = _run(app, "seed-demo")
    assert again.returncode == 1
    assert "already loaded" in again.stderr
    assert db.session.scalar(select(func.count()).select_from(Case)) == 3
    assert db.session.scalar(select(func.count()).select_from(User)) == 2

    verify = _run(app, "audit", "verify")
    assert verify.returncode == 0
    assert "audit log intact" in verify.stdout


def test_seed_synthetic_names_are_clearly_synthetic(app: Flask) -> None:
    result = _run(app, "seed-synthetic", "--cases", "120")
    assert result.returncode == 0, result.stderr
    cases = db.session.scalars(select(Case)).all()
    assert len(cases) == 120
    assert all(c.person.name.startswith("Synthetic ") for c in cases)
    assert all(len(c.events) == 1 and c.events[0].status == c.status for c in cases[:10])


def test_audit_checkpoint_and_verify_since_it_from_the_command_line(app: Flask) -> None:
    assert _run(app, "seed-demo").returncode == 0
    checkpoint = _run(app, "audit", "checkpoint")
    assert checkpoint.returncode == 0, checkpoint.stderr
    anchor = checkpoint.stdout.strip()
    seq, _, digest = anchor.partition(":")
    assert int(seq) > 0
    assert len(digest) == 64
    assert f"monitor audit verify --since-checkpoint {anchor}" in checkpoint.stderr
    assert _run(app, "create-user", "late@example.org").returncode == 0
    verify = _run(app, "audit", "verify", "--since-checkpoint", anchor)
    assert verify.returncode == 0, verify.stderr
    assert f"unchanged since checkpoint {anchor}" in verify.stdout
    wrong = _run(app, "audit", "verify", "--since-checkpoint", f"{seq}:{'0' * 64}")
    assert wrong.returncode == 1
    assert f"entry #{seq} no longer has the checkpoint's hash" in wrong.stderr


def test_production_commands_need_the_audit_key(app: Flask) -> None:
    env = app_env(app)
    del env["MONITOR_AUDIT_KEY"]
    result = subprocess.run(
        [MONITOR, "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "MONITOR_AUDIT_KEY is required" in result.stderr
