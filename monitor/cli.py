"""``monitor …`` commands (also ``flask --app monitor …``)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from monitor import authz
from monitor.extensions import db
from monitor.models import User
from monitor.presentation.translation import gettext as _
from monitor.presentation.translation import using_language
from monitor.services import ValidationError, audit, seed, user_sessions, users
from monitor.services.backup import (
    BackupError,
    RestoreResult,
    open_for_reading,
    open_for_writing,
    restore_backup,
    write_backup,
)
from monitor.services.second_factor import reset as factor_reset

CLI_ACTOR = "cli"


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the schema or upgrade it to the latest migration."""
    upgrade()
    click.echo("database schema is up to date")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo is already loaded.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the CNRP demo data from the AFP article."""
    if seed.demo_loaded():
        if if_empty:
            click.echo("demo data already loaded")
            return
        _fail("demo data already loaded")
    seed.seed_demo(CLI_ACTOR)
    db.session.commit()
    click.echo("loaded the CNRP demo: 1 organization, 3 people, 3 cases, 1 charge, 1 source")


@click.command("seed-synthetic")
@click.option("--cases", "count", type=click.IntRange(1, 10_000_000), required=True)
@click.option("--seed", "rng_seed", type=int, default=1, show_default=True)
@with_appcontext
def seed_synthetic(count: int, rng_seed: int) -> None:
    """Insert N clearly synthetic cases for scale tests."""
    done = seed.seed_synthetic(count, rng_seed)
    db.session.commit()
    click.echo(f"inserted {done} synthetic cases")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "editor", "viewer"]), default="viewer")
@click.option(
    "--clearance", type=click.Choice(["public", "restricted", "confidential"]), default="public"
)
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--if-missing", is_flag=True, help="Do nothing when the account exists.")
@with_appcontext
def create_user(
    *, email: str, role: str, clearance: str, name: str, password_stdin: bool, if_missing: bool
) -> None:
    """Create an account; prints a generated password unless --password-stdin is given.

    The password is permanent, unlike one an admin sets on the web (temporary): this command
    bootstraps, and the operator running it is the one who will use it or hand it over.
    """
    if if_missing and db.session.scalars(select(User).where(User.email == email.lower())).first():
        click.echo(f"user {email} already exists")
        return
    password = sys.stdin.readline().rstrip("\n") if password_stdin else users.generate_password()
    try:
        user = users.create_user(
            CLI_ACTOR,
            users.UserInput(email=email, role=role, clearance=clearance, name=name),
            password,
            temporary_hours=None,  # permanent: the operator chose it (see the docstring)
        )
    except ValidationError as exc:
        _fail(str(exc))
        return
    db.session.commit()
    click.echo(f"created {role} {user.email} (clearance {clearance})")
    if not password_stdin:
        click.echo(f"password: {password}")


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="cli")
@with_appcontext
def create_token(email: str, name: str) -> None:
    """Issue an API token for a user and print it (shown once)."""
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        _fail(f"no user {email}")
        return
    _, plain = users.create_token(CLI_ACTOR, user, name)
    db.session.commit()
    click.echo(plain)


@click.group("audit")
def audit_group() -> None:
    """The audit log, chained with HMAC-SHA-256 under MONITOR_AUDIT_KEY."""


def _anchor(ctx: click.Context, param: click.Parameter, value: str | None) -> audit.Anchor | None:
    if value is None:
        return None
    try:
        return audit.Anchor.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@audit_group.command("verify")
@click.option(
    "--since-checkpoint",
    "since",
    metavar="SEQ:HASH",
    callback=_anchor,
    help="Also prove that nothing up to this checkpoint (from `monitor audit checkpoint`) "
    "was rewritten: the entry at SEQ must still have HASH.",
)
@with_appcontext
def audit_verify(since: audit.Anchor | None) -> None:
    """Re-walk the chain; exit 1 and name the first bad entry if anything was edited or deleted."""
    result = _verified(since)
    click.echo(f"audit log intact: {result.checked} entries")
    if since is not None:
        click.echo(f"unchanged since checkpoint {since}")


def _verified(since: audit.Anchor | None = None) -> audit.VerifyResult:
    try:
        result = audit.verify(since)
    except audit.AuditChainError as exc:
        _fail(str(exc))
        raise  # not reached: _fail exits
    if not result.ok:
        _fail(f"audit log broken after {result.checked} good entries: {result.problem}")
    return result


@audit_group.command("checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Verify the chain and print its head as SEQ:HASH, to record outside the server."""
    result = _verified()
    if result.head is None:
        _fail("the audit log is empty: nothing to anchor yet")
        return
    click.echo(str(result.head))
    click.echo(
        f"entry #{result.head.seq} of a verified chain; keep this line outside the server "
        "(print, email, notary). Later, prove the log was not rewritten up to it with:\n"
        f"  monitor audit verify --since-checkpoint {result.head}",
        err=True,
    )


@audit_group.command("rekey")
@click.option(
    "--from-unkeyed",
    is_flag=True,
    help="Accept entries hashed with plain SHA-256 (a log written before keyed hashing); "
    "once, when upgrading.",
)
@click.option(
    "--previous-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding the key the log was chained with until now (rotation).",
)
@with_appcontext
def audit_rekey(from_unkeyed: bool, previous_key_file: Path | None) -> None:
    """Check the whole log under its old scheme, then chain it again under MONITOR_AUDIT_KEY.

    Refuses, changing nothing, if any entry does not hold under the old scheme. The re-key is
    recorded as an entry; checkpoints taken before it no longer match: take a new one.
    """
    from monitor.services.audit_rekey import rekey

    previous = previous_key_file.read_text().strip() if previous_key_file else None
    try:
        result = rekey(CLI_ACTOR, previous_key=previous, from_unkeyed=from_unkeyed)
    except audit.AuditChainError as exc:
        db.session.rollback()
        _fail(str(exc))
        return
    if not result.changed:
        click.echo(f"audit log already chained under this key: {result.entries} entries")
        return
    db.session.commit()
    for label, count in result.found.items():
        click.echo(f"{count} entries were under {label}")
    click.echo(f"re-keyed {result.entries} entries; the head was {result.replaced}")
    click.echo(f"new checkpoint (record it): {result.head}")


@click.group("sessions")
def sessions_group() -> None:
    """Users' login sessions."""


@sessions_group.command("revoke")
@click.argument("email")
@with_appcontext
def sessions_revoke(email: str) -> None:
    """Log a user out everywhere at once (their password and API tokens stay as they are)."""
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        _fail(f"no user {email}")
        return
    ended = user_sessions.end_all_sessions(
        user, reason="revoked from the command line", actor=CLI_ACTOR
    )
    db.session.commit()
    click.echo(f"ended {ended} session{'s' * (ended != 1)} of {user.email}")


@sessions_group.command("revoke-all")
@click.option("--yes", is_flag=True, help="Do it without asking.")
@with_appcontext
def sessions_revoke_all(yes: bool) -> None:
    """Log every user out everywhere (a stolen database or a compromised server)."""
    if not yes:
        click.confirm("Log every user out of every session?", abort=True)
    ended = user_sessions.end_everyones_sessions(CLI_ACTOR, reason="revoked from the command line")
    db.session.commit()
    click.echo(f"ended {ended} session{'s' * (ended != 1)} of every account")


@click.group("second-factor")
def second_factor_group() -> None:
    """Users' second factors."""


@second_factor_group.command("reset")
@click.argument("email")
@with_appcontext
def second_factor_reset(email: str) -> None:
    """Remove a user's authenticator app, passkeys and recovery codes and end their sessions
    (they lost them all): they set up a second factor again at their next login."""
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        _fail(f"no user {email}")
        return
    removed = factor_reset.remove_all_factors(CLI_ACTOR, user)
    db.session.commit()
    click.echo(
        f"removed {removed['authenticator_apps']} authenticator app(s), {removed['passkeys']} "
        f"passkey(s) and {removed['recovery_codes']} recovery code(s) of {user.email}; ended "
        f"{removed['sessions_ended']} session(s). They set up a second factor at their next login."
    )


@click.command("dev-setup")
@click.option("--admin-email", default="admin@example.org", show_default=True)
@with_appcontext
def dev_setup(admin_email: str) -> None:
    """For `make run`: schema, demo data once, and an admin whose password is printed."""
    upgrade()
    if audit.unkeyed_log():
        # A development log from before keyed hashing: chain it under instance/audit_key, as
        # an operator does once with `monitor audit rekey --from-unkeyed`.
        from monitor.services.audit_rekey import rekey

        try:
            rekey(CLI_ACTOR, from_unkeyed=True)
        except audit.AuditChainError as exc:
            db.session.rollback()
            click.echo(f"warning: the audit log was not re-keyed: {exc}", err=True)
        else:
            db.session.commit()
            click.echo("chained the audit log under instance/audit_key (HMAC-SHA-256)")
    if not seed.demo_loaded():
        seed.seed_demo(CLI_ACTOR)
        click.echo("loaded the CNRP demo data")
    instance = Path(current_app.instance_path)
    password_file = instance / "admin-password"
    admin = db.session.scalars(select(User).where(User.email == admin_email)).first()
    if admin is None:
        password = users.generate_password()
        users.create_user(
            CLI_ACTOR,
            users.UserInput(
                email=admin_email, role="admin", clearance="confidential", name="Administrator"
            ),
            password,
        )
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    db.session.commit()
    shown = password_file.read_text().strip() if password_file.exists() else "(changed since)"
    base_url = current_app.config["SETTINGS"].base_url
    click.echo(f"log in at {base_url} as {admin_email} with password: {shown}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--with-secrets", is_flag=True, help="Include password and API token hashes (keep it safe)."
)
@with_appcontext
def backup_command(file: Path, with_secrets: bool) -> None:
    """Write every table to FILE as JSON lines (gzip-compressed when FILE ends in .gz)."""
    try:
        with open_for_writing(file) as stream:
            counts = write_backup(stream, with_secrets=with_secrets)
    except (BackupError, OSError) as exc:
        _fail(f"no backup written: {exc}")
        return
    for table, count in counts.items():
        click.echo(f"{table}: {count}")
    click.echo(f"wrote {sum(counts.values())} rows of {len(counts)} tables to {file}")
    if not with_secrets:
        click.echo("left out password and API token hashes (--with-secrets keeps them)")
    click.echo("left out dossier PDFs (restored dossiers must be requested again)")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Load a backup into an empty database prepared with `monitor init-db`; all or nothing."""
    try:
        with open_for_reading(file) as stream:
            result = restore_backup(stream)
        db.session.commit()
    except (BackupError, OSError, SQLAlchemyError) as exc:
        db.session.rollback()
        _fail(f"nothing restored: {exc}")
        return
    _report_restore(result, file)


def _report_restore(result: RestoreResult, file: Path) -> None:
    for table, count in result.restored.items():
        click.echo(f"{table}: {count}")
    click.echo(f"restored {sum(result.restored.values())} rows from {file}")
    for table, count in result.skipped.items():
        click.echo(f"{table} not restored: {count}; the backup left out their secrets")
    if result.skipped.get("api_tokens"):
        click.echo("  issue new API tokens with `monitor create-token EMAIL`")
    if result.locked_accounts:
        click.echo(
            f"users without a password: {result.locked_accounts}; they cannot log in until an "
            "admin sets one (Admin > Users; `monitor create-user` makes a first admin)"
        )
    if result.dossiers_without_pdf:
        click.echo(
            f"ready dossiers restored as failed: {result.dossiers_without_pdf}; backups keep no "
            "PDFs, request them again"
        )


def _importing_user(email: str | None) -> User | None:
    """The account ``--user EMAIL`` names, which must be active and allowed to write (else exit)."""
    if not email:
        return None
    actor = db.session.scalars(select(User).where(User.email == email.lower())).first()
    if actor is None:
        _fail(f"no account {email}")
    elif not (actor.active and authz.can(actor, authz.Action.WRITE)):
        _fail(f"{email} may not write to the register (role {actor.role})")
    return actor


@click.command("import-csv")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file and say what would change.")
@click.option(
    "--user",
    "email",
    default=None,
    help="Import as this account (its clearance applies); default: the command line, cleared "
    "for everything.",
)
@click.option(
    "--decisions",
    "decisions_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A JSON file {"<row key>": "<register person id>" or "new"} deciding the probable '
    'matches (the key: "row 5" for the file\'s row 5).',
)
@click.option(
    "--accept-matches",
    is_flag=True,
    help="Take each probable match's likeliest register person (instead of a decisions file).",
)
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="The language of the file's labels (détenu, ជាប់ពន្ធនាគារ) and of the problems reported: "
    "en, fr, km or ar.",
)
@with_appcontext
def import_csv(  # noqa: PLR0917 - click passes one parameter per option
    path: Path,
    dry_run: bool,
    email: str | None,
    decisions_path: Path | None,
    accept_matches: bool,
    language: str,
) -> None:
    """Import cases from a CSV file (the template's columns): all rows or none, matching the
    people already in the register."""
    _check_language(language)
    if decisions_path and accept_matches:
        _fail("give either --decisions or --accept-matches, not both")
    with using_language(language):
        _import_csv(path, dry_run, email, decisions_path, accept_matches, language)


def _check_language(language: str) -> None:
    """Stop unless ``--language`` is one the register speaks."""
    if language not in current_app.config["SETTINGS"].languages:
        _fail(f"--language: one of {', '.join(current_app.config['SETTINGS'].languages)}")


def _import_csv(  # noqa: PLR0917 - the command's options, passed on
    path: Path,
    dry_run: bool,
    email: str | None,
    decisions_path: Path | None,
    accept_matches: bool,
    language: str,
) -> None:
    """The import-csv command, its messages worded in ``language`` (in force)."""
    from monitor.services import imports

    actor = _importing_user(email)
    data = path.read_bytes()
    if not dry_run:
        imports.lock_register()  # checked and applied with no other import in between
    try:
        report = imports.check(data, actor, current_app.config["SETTINGS"], language=language)
    except imports.FileTooLarge as exc:
        _fail(_("nothing imported: %(error)s", error=exc.message()))
        return
    for problem in report.problems[: imports.MAX_REPORTED_PROBLEMS]:
        click.echo(f"{path.name}: {problem}", err=True)
    if not report.ok:
        _fail(_("nothing imported: %(count)s problem(s)", count=len(report.problems)))
    for warning in report.warnings:
        click.echo(_("%(file)s: warning: %(warning)s", file=path.name, warning=warning), err=True)
    _echo_row_matches(report)
    summary = report.summary()
    if dry_run and decisions_path:
        _same_person(
            path, imports.csv_same_person_problems(report, _read_decisions(decisions_path))
        )
    if dry_run:
        counts = _(
            "%(rows)s rows: %(create)s new, %(update)s to update, %(unchanged)s unchanged",
            rows=summary["rows"],
            create=summary["create"],
            update=summary["update"],
            unchanged=summary["unchanged"],
        )
        if "probable" in summary:
            counts = _(
                "%(counts)s, %(probable)s probable matches to decide",
                counts=counts,
                probable=summary["probable"],
            )
        click.echo(_("%(counts)s (dry run: nothing written)", counts=counts))
        return
    decisions = _chosen_decisions(report, decisions_path, accept_matches)
    try:
        result = imports.apply(
            actor or CLI_ACTOR,
            report,
            sha256=hashlib.sha256(data).hexdigest(),
            decisions=decisions,
        )
    except ValidationError as exc:
        db.session.rollback()
        _refused_decisions(path, exc)
        _fail(_("nothing imported: %(error)s", error=exc))
        return
    db.session.commit()
    click.echo(
        _(
            "%(rows)s rows: %(create)s new, %(update)s updated, %(unchanged)s unchanged, "
            "%(events)s status events recorded",
            rows=result["rows"],
            create=result["create"],
            update=result["update"],
            unchanged=result["unchanged"],
            events=result["status_events"],
        )
    )


def _popolo_problem(path: Path, where: str, message: str) -> str:
    return f"{path.name}: {where}: {message}"


def reason_text(reasons: str) -> str:
    """Why a row or person matched, in the language in force (``same name``, ``identifier``)."""
    from monitor.services.imports.matching import reason_text as worded

    return worded(reasons)


def _echo_matches(report: Any) -> None:
    """Say who is matched and who is probably someone in the register."""
    for plan in report.people:
        match = plan.match
        if match.status == "matched" and match.person is not None:
            click.echo(
                _(
                    "matched: %(where)s is %(name)s (%(id)s, %(reason)s)",
                    where=plan.source.where,
                    name=match.person.name,
                    id=match.person.public_id,
                    reason=reason_text(match.reason),
                )
            )
        elif match.status == "probable":
            offered = "; ".join(c.describe() for c in match.candidates)
            click.echo(
                _(
                    "probably the same person — confirm or keep apart: %(where)s [%(key)s] "
                    "may be %(offered)s",
                    where=plan.source.where,
                    key=plan.source.key,
                    offered=offered,
                )
            )


def _same_person(path: Path, problems: list[Any]) -> None:
    """Stop a dry run whose decisions make two rows (or people of the file) one register
    person, naming both."""
    for problem in problems:
        click.echo(f"{path.name}: {problem}", err=True)
    if problems:
        _fail(_("nothing imported: %(count)s problem(s) with the decisions", count=len(problems)))


def _refused_decisions(path: Path, exc: ValidationError) -> None:
    """Stop, naming each undecided or wrongly decided probable match, if that is the refusal."""
    decided = [f for f in exc.errors if f.startswith("decisions.")]
    for field in decided:
        click.echo(f"{path.name}: {field}: {exc.errors[field]}", err=True)
    if decided:
        _fail(_("nothing imported (decide them with --decisions FILE or --accept-matches)"))


def _chosen_decisions(report: Any, path: Path | None, accept: bool) -> dict[str, str]:
    """The decisions file read, or each probable match's likeliest person (--accept-matches)."""
    from monitor.services import imports

    if path:
        return _read_decisions(path)
    return imports.accept_matches(report.matches()) if accept else {}


def _echo_row_matches(report: Any) -> None:
    """Say which rows are matched to people already registered and which are probably someone
    registered (to decide); the others add someone new (counted as new)."""
    for row in report.rows:
        match = row.match
        if match is None:
            continue
        name = row.get("name")
        if match.status == "matched" and match.person is not None:
            click.echo(
                _(
                    "matched: row %(row)s %(name)s is %(registered)s (%(id)s, %(reason)s)",
                    row=row.line,
                    name=name,
                    registered=match.person.name,
                    id=match.person.public_id,
                    reason=reason_text(match.reason),
                )
            )
        elif match.status == "probable":
            offered = "; ".join(c.describe() for c in match.candidates)
            click.echo(
                _(
                    "probably the same person — confirm or keep apart: row %(row)s %(name)s "
                    "[%(key)s] may be %(offered)s",
                    row=row.line,
                    name=name,
                    key=match.key,
                    offered=offered,
                )
            )


def _read_decisions(path: Path) -> dict[str, str]:
    """A decisions file: ``{"<person id of the file>": "<register person id>" or "new"}``."""
    import json

    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        _fail(f"{path.name} is not a JSON object of decisions: {exc}")
    if not isinstance(loaded, dict):
        _fail(f"{path.name} is not a JSON object of decisions")
    return {str(k): v for k, v in loaded.items()}


@click.command("import-popolo")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file and say what would change.")
@click.option(
    "--decisions",
    "decisions_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A JSON file {"<person id of the file>": "<register person id>" or "new"} deciding '
    "the probable matches.",
)
@click.option(
    "--accept-matches",
    is_flag=True,
    help="Take each probable match's likeliest register person (instead of a decisions file).",
)
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="The language of the problems and the summary reported: en, fr, km or ar.",
)
@with_appcontext
def import_popolo(
    path: Path, dry_run: bool, decisions_path: Path | None, accept_matches: bool, language: str
) -> None:
    """Import people, parties and seats from a Popolo file (EveryPolitician's
    ep-popolo-v1.0.json): all or nothing, matching people already in the register."""
    _check_language(language)
    if decisions_path and accept_matches:
        _fail("give either --decisions or --accept-matches, not both")
    with using_language(language):
        _import_popolo(path, dry_run, decisions_path, accept_matches)


def _import_popolo(
    path: Path, dry_run: bool, decisions_path: Path | None, accept_matches: bool
) -> None:
    """The import-popolo command, its messages worded in the language in force."""
    from monitor.services import imports

    data = path.read_bytes()
    if not dry_run:
        imports.lock_register()  # checked and applied with no other import in between
    try:
        report = imports.check_popolo(data, CLI_ACTOR, current_app.config["SETTINGS"])
    except imports.FileTooLarge as exc:
        _fail(_("nothing imported: %(error)s", error=exc.message()))
        return
    for problem in report.problems[: imports.MAX_REPORTED_PROBLEMS]:
        click.echo(_popolo_problem(path, problem.column, problem.message), err=True)
    if not report.ok:
        _fail(_("nothing imported: %(count)s problem(s)", count=len(report.problems)))
    _echo_matches(report)
    decisions: dict[str, str] = {}
    if decisions_path:
        decisions = _read_decisions(decisions_path)
    elif accept_matches:
        decisions = imports.accept_matches(report.matches())
    summary = report.summary()
    counts = _(
        "%(rows)s people: %(create)s new, %(matched)s matched (%(update)s to complete), "
        "%(decide)s probable; %(organizations)s new organizations, %(memberships)s new "
        "memberships",
        rows=summary["rows"],
        create=summary["create"],
        matched=summary["matched"],
        update=summary["update"],
        decide=summary["decide"],
        organizations=summary["organizations"],
        memberships=summary["memberships"],
    )
    if dry_run:
        _same_person(path, imports.same_person_problems(report, decisions))
        click.echo(_("%(counts)s (dry run: nothing written)", counts=counts))
        return
    try:
        result = imports.apply_popolo(
            CLI_ACTOR, report, decisions, sha256=hashlib.sha256(data).hexdigest()
        )
    except ValidationError as exc:
        db.session.rollback()
        for field, message in exc.errors.items():
            click.echo(f"{path.name}: {field}: {message}", err=True)
        _fail(
            _("nothing imported (decide them with --decisions FILE or --accept-matches)")
            if any(f.startswith("decisions.") for f in exc.errors)
            else _("nothing imported")
        )
        return
    db.session.commit()
    click.echo(
        _(
            "%(rows)s people: %(create)s new, %(update)s completed, %(unchanged)s unchanged; "
            "%(organizations)s new organizations, %(memberships)s new memberships",
            rows=result["rows"],
            create=result["create"],
            update=result["update"],
            unchanged=result["unchanged"],
            organizations=result["organizations"],
            memberships=result["memberships"],
        )
    )


COMMANDS = [
    dev_setup,
    init_db,
    seed_demo,
    seed_synthetic,
    create_user,
    create_token,
    audit_group,
    sessions_group,
    second_factor_group,
    backup_command,
    restore_command,
    import_csv,
    import_popolo,
]


def register(app: Flask) -> None:
    """Attach the commands to ``flask --app monitor``."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from monitor import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, add_default_commands=True, help="case monitor")
