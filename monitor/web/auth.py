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
from monitor.services import users
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
            # Start from an empty session so nothing from before the login survives it.
            session.clear()
            session.permanent = True  # expires after MONITOR_SESSION_HOURS without a request
            login_user(user)
            return redirect(target)
        form.form_errors.append("Wrong email or password, or the account is deactivated.")
        return render_template("auth/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session (a POST with the CSRF token, so no page can log you out)."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect("/login")
