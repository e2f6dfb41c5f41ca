"""User administration (admins only): accounts, roles, clearances, passwords, tokens."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from monitor import authz
from monitor.authz import Action
from monitor.config import Settings
from monitor.mail.transport import MailError, mailer_for
from monitor.services import credentials, user_sessions, users
from monitor.services.second_factor import reset as factor_reset
from monitor.web import writes
from monitor.web.forms.users import EditUserForm, NewUserForm, PasswordForm
from monitor.web.helpers import actor, invalid, login_required_blueprint, shown_once

bp = login_required_blueprint("admin", __name__, url_prefix="/admin")


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@bp.before_request
def _admins_only() -> None:
    authz.require(current_user, Action.ADMIN)


@bp.get("/users")
def users_index() -> ResponseReturnValue:
    """Every account."""
    accounts = users.all_users()
    return render_template("admin/users.html", accounts=accounts)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> ResponseReturnValue:
    """Create an account; a generated password is shown once on the next page. Either way
    the password is temporary: at their first login they must choose their own."""
    form = NewUserForm()
    if form.validate_on_submit():
        password = form.password.data or users.generate_password()
        hours = _settings().temporary_password_hours
        created = writes.commit(
            lambda: users.create_user(actor(), form.user_input(), password, temporary_hours=hours),
            form,
        )
        if created.ok:
            return shown_once(
                "admin/password_shown.html",
                account=created.value,
                password=None if form.password.data else password,
                created=True,
            )
    if request.method == "POST":
        return invalid("admin/new_user.html", form=form)
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/<public_id>", methods=["GET", "POST"])
def user_detail(public_id: str) -> ResponseReturnValue:
    """Edit an account or reset its password (temporary, as a new account's); revoke its API
    tokens."""
    account = authz.get_user(public_id, current_user)
    form = EditUserForm(data=EditUserForm.data_of(account))
    password_form = PasswordForm()
    action = request.form.get("action")
    if request.method == "POST" and action == "reset_password" and password_form.validate():
        password = password_form.new_password.data or users.generate_password()
        hours = _settings().temporary_password_hours
        reset = writes.commit(
            lambda: users.set_password(actor(), account, password, temporary_hours=hours),
            password_form,
            {"password": "new_password"},
        )
        if reset.ok:
            return shown_once(
                "admin/password_shown.html",
                account=account,
                password=None if password_form.new_password.data else password,
                created=False,
            )
    elif request.method == "POST" and action != "reset_password" and form.validate():
        saved = writes.commit(
            lambda: users.update_user(actor(), account, form.user_input(active=form.active.data)),
            form,
        )
        if saved.ok:
            flash(_("Account %(email)s saved.", email=account.email), "success")
            return redirect(url_for("admin.user_detail", public_id=account.public_id))
    context = {"account": account, "form": form, "password_form": password_form}
    if request.method == "POST":
        return invalid("admin/user.html", **context)
    return render_template("admin/user.html", **context)


@bp.post("/users/<public_id>/end-sessions")
def end_sessions(public_id: str) -> ResponseReturnValue:
    """Log an account out everywhere at once (a lost phone, a stolen laptop), as
    ``monitor sessions revoke EMAIL`` does; audited as ``session.revoke``."""
    account = authz.get_user(public_id, current_user)
    ended = writes.commit(
        lambda: user_sessions.end_all_sessions(account, reason="ended by an admin", actor=actor())
    )
    count = ended.value if ended.ok else 0
    flash(
        ngettext(
            "%(num)s session of %(email)s ended.",
            "%(num)s sessions of %(email)s ended.",
            count,
            email=account.email,
        ),
        "success",
    )
    return redirect(url_for("admin.user_detail", public_id=account.public_id))


@bp.post("/users/<public_id>/reset-link")
def reset_link(public_id: str) -> ResponseReturnValue:
    """Issue a one-time reset link (an hour, single use) and email it to the account's owner;
    without an SMTP server, or when the email cannot go, show it here once instead."""
    account = authz.get_user(public_id, current_user)
    settings: Settings = current_app.config["SETTINGS"]
    issued = writes.commit(lambda: credentials.issue_reset(actor(), account, settings))
    if not issued.ok:
        flash(_("No reset link: %(why)s", why="; ".join(issued.errors.values())), "error")
        return redirect(url_for("admin.user_detail", public_id=account.public_id))
    failure = None
    if settings.smtp_url:
        # Sent from this request: the link's secret exists nowhere else (never in the broker).
        mailer = mailer_for(settings.smtp_url, settings.instance_path, settings.smtp_timeout)
        try:
            credentials.email_reset_link(issued.value, mailer, settings)
        except MailError as exc:
            failure = str(exc)
        else:
            flash(
                _(
                    "A reset link was emailed to %(email)s: it works once, for an hour.",
                    email=account.email,
                ),
                "success",
            )
            return redirect(url_for("admin.user_detail", public_id=account.public_id))
    return shown_once(
        "admin/reset_link.html", account=account, issued=issued.value, failure=failure
    )


@bp.post("/users/<public_id>/remove-second-factors")
def remove_second_factors(public_id: str) -> ResponseReturnValue:
    """For a user who lost their phone or key and their recovery codes: delete their second
    factors and end their sessions, so that they enrol again at their next login (never one's
    own account); they are emailed. Audited as ``second_factor.reset``."""
    account = authz.get_user(public_id, current_user)
    back = redirect(url_for("admin.user_detail", public_id=account.public_id))
    if request.form.get("confirm") != "yes":
        flash(_("Nothing was removed: tick the box to confirm you checked who is asking."), "error")
        return back
    done = writes.commit(lambda: factor_reset.remove_all_factors(actor(), account))
    if not done.ok:
        why = "; ".join(done.errors.values())
        flash(_("Nothing was removed: their second factors %(why)s", why=why))
        return back
    flash(
        _(
            "The second factors of %(email)s were removed and their sessions ended; they "
            "were emailed, and set up a second factor again at their next login.",
            email=account.email,
        ),
        "success",
    )
    return back
