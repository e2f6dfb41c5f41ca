"""Logging in and out, the login cookie, and setting a password from a reset link.

The login cookie is Flask's signed session cookie. Once logged in it holds the random id of a
server-side session (``services.user_sessions``) where Flask-Login keeps its user id, beside
the CSRF token and flashed messages; nothing else about the login. Flask-Login's
``user_loader`` (:func:`load_login`) turns that id back into the session row on each request,
so deleting the row logs the browser out, a copied cookie included.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from monitor.config import Settings
from monitor.extensions import limiter
from monitor.models import User, UserSession
from monitor.services import credentials, reauthentication, user_sessions, users
from monitor.services.second_factor import has_second_factor
from monitor.web import writes
from monitor.web.forms.auth import LoginForm
from monitor.web.forms.credentials import NEW_PASSWORD_HINT, NewPasswordForm
from monitor.web.helpers import invalid, safe_next

bp = Blueprint("auth", __name__)
View = TypeVar("View", bound=Callable[..., Any])

# Where Flask-Login keeps the id it hands its user_loader (flask_login.config.SESSION_KEYS).
LOGIN_KEY = "_user_id"
# A reset link's secret, moved out of the address bar into the cookie (see reset_link).
RESET_KEY = "reset_token"


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def load_login(session_id: str) -> User | None:
    """Flask-Login's ``user_loader``: the user of the live session this cookie names."""
    row = user_sessions.resume(session_id, _settings())
    if row is None:
        return None
    g.login_session = row
    return row.user


def current_login_session() -> UserSession | None:
    """The server-side session of this request's login (None when not logged in)."""
    if not current_user.is_authenticated:
        return None
    row: UserSession | None = g.get("login_session")
    return row


def finish_login(user: User, *, second_factor: str | None, target: str) -> ResponseReturnValue:
    """Every login step passed: open the server-side session, put its id in a fresh cookie and
    go to ``target`` (a path checked with ``safe_next``).

    ``second_factor`` is how the second step was passed: "totp", "webauthn", "recovery", or
    None when the account has none.
    """
    previous = current_login_session()  # a login over another in this browser replaces it

    def start() -> user_sessions.StartedSession:
        if previous is not None:
            user_sessions.end_session(
                previous.user, previous, reason="replaced by a new login in the same browser"
            )
        return user_sessions.start_session(
            user,
            second_factor=second_factor,
            address=request.remote_addr,
            user_agent=request.user_agent.string,
            settings=_settings(),
        )

    started = writes.commit(start).value
    # Start from an empty cookie so nothing from before the login survives it.
    session.clear()
    session.permanent = True  # the cookie expires after MONITOR_SESSION_HOURS without a request
    session[LOGIN_KEY] = started.token
    return redirect(target)


def set_login_token(token: str) -> None:
    """Put the login's (new) random session id in the cookie."""
    session[LOGIN_KEY] = token


def recent_authentication_required(back: str | None = None) -> Callable[[View], View]:
    """A view that changes how the account authenticates: it runs only when this login
    authenticated within ``reauthentication.WINDOW``; else the user is asked to confirm it is
    them ("Confirm it's you") and comes back: to this page for a GET, and for a form (whose
    data cannot follow a redirect) to the page of the endpoint ``back``, to submit it again."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if reauthentication.is_recent(current_login_session()):
                answer: ResponseReturnValue = view(*args, **kwargs)
                return answer
            return ask_to_confirm(back)

        return guarded  # type: ignore[return-value]

    return decorate


def ask_to_confirm(back: str | None = None) -> ResponseReturnValue:
    """Send the user to "Confirm it's you", to come back to this page (or ``back``'s) after."""
    if request.method == "GET" or back is None:
        target = request.full_path if request.query_string else request.path
    else:
        target = url_for(back)
        flash(_("Confirm it's you first, then do it again."), "info")
    return redirect(url_for("reauth.confirm", next=target))


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
        # Commits the failed attempt's audit entry, or a rehash when the parameters changed.
        checked = writes.commit(
            lambda: users.check_login(
                form.email.data, form.password.data, address=request.remote_addr
            )
        ).value
        user = checked.user
        if user is not None:
            from monitor.web.second_step import begin_second_step  # it imports this module

            if has_second_factor(user):
                return begin_second_step(user, target)  # logged in only after that step
            return finish_login(user, second_factor=None, target=target)
        form.form_errors.append(
            str(checked.refusal or _("Wrong email or password, or the account is deactivated."))
        )
        return render_template("auth/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session (a POST with the CSRF token, so no page can log you out)."""
    row = current_login_session()
    if row is not None:
        writes.commit(lambda: user_sessions.end_session(row.user, row))
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/reset/<token>")
def reset_link(token: str) -> ResponseReturnValue:
    """A reset link: its secret moves into the cookie, out of the address bar and history."""
    if credentials.reset_for(token) is None:
        page = render_template("auth/reset_invalid.html", message=credentials.INVALID_LINK)
        return page, 404
    session[RESET_KEY] = token
    return redirect(url_for("auth.reset_password"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SETTINGS"].login_rate_limit, methods=["POST"])
def reset_password() -> ResponseReturnValue:
    """Set a new password with the reset link opened in this browser; every session ends."""
    token = session.get(RESET_KEY)
    reset = credentials.reset_for(token)
    if reset is None:  # never opened here, used, expired or replaced since it was opened
        session.pop(RESET_KEY, None)
        flash(str(credentials.INVALID_LINK), "error")
        return redirect(url_for("auth.login"))
    form = NewPasswordForm()
    context = {"form": form, "account": reset.user, "hint": NEW_PASSWORD_HINT}
    if form.validate_on_submit():
        done = writes.commit(
            lambda: credentials.use_reset(token, form.new_password.data or ""), form
        )
        if done.ok:
            logout_user()
            session.clear()
            flash(_("Your new password is set. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    if request.method == "POST":
        return invalid("auth/reset.html", **context)
    return render_template("auth/reset.html", **context)
