"""Logging in and out."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from monitor.extensions import limiter
from monitor.models import User
from monitor.services import users
from monitor.services.second_factor import has_second_factor
from monitor.web import writes
from monitor.web.forms.auth import LoginForm
from monitor.web.helpers import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SETTINGS"].login_rate_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    """Show the login form; on success go to the (validated) ``next`` page."""
    form = LoginForm()
    target = safe_next(form.next.data or request.args.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target)
        form.next.data = target if target != "/" else ""
    if form.validate_on_submit():
        # It records the last login time, and a rehash when the parameters changed.
        user = writes.commit(lambda: users.authenticate(form.email.data, form.password.data)).value
        if user is not None:
            from monitor.web.second_step import begin_second_step  # it imports this module

            if has_second_factor(user):
                return begin_second_step(user, target)  # logged in only after that step
            _complete_login(user, None)
            return redirect(target)
        form.form_errors.append("Wrong email or password, or the account is deactivated.")
        return render_template("auth/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _complete_login(user: User, second_factor: str | None) -> None:
    """Log the user in: the one place a login session starts, after the password and, when
    the user has one, the second factor (``totp``, ``webauthn``, ``recovery``; ``None``)."""
    # Start from an empty session so nothing from before the login survives it.
    session.clear()
    session.permanent = True  # expires after MONITOR_SESSION_HOURS without a request
    login_user(user)
    session["second_factor"] = second_factor


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session (a POST with the CSRF token, so no page can log you out)."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect("/login")
