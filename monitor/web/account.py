"""A user's own account: the overview (name, email and a summary of the rest), login sessions
(list, end), password, API tokens; and the gate that keeps a user whose password an admin chose
(a temporary password, ASVS 6.4.1) on the password page until they choose their own."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, logout_user

from monitor import authz
from monitor.extensions import limiter
from monitor.models import ApiToken
from monitor.presentation.devices import browser_label
from monitor.services import (
    credentials,
    profile,
    reauthentication,
    second_factor,
    user_sessions,
    users,
)
from monitor.web import writes
from monitor.web.auth import (
    LOGIN_KEY,
    ask_to_confirm,
    current_login_session,
    recent_authentication_required,
)
from monitor.web.forms.credentials import NEW_PASSWORD_HINT, ChangePasswordForm
from monitor.web.forms.users import OwnNameForm, TokenForm
from monitor.web.helpers import actor, invalid, login_required_blueprint, shown_once

bp = login_required_blueprint("account", __name__, url_prefix="/account")

# What a login with a temporary password still reaches besides the password page: no such page
# (None: a 404 whoever asks), static files, logging in and out and reset links (auth), "Confirm
# it's you" (the password page may ask for it), the second login step (not yet a login), the
# health check and the API (it authenticates by token, never by the session).
NOT_GATED_ENDPOINTS = frozenset({None, "static"})
NOT_GATED_BLUEPRINTS = frozenset({"auth", "reauth", "second_step", "health", "api"})


@bp.before_app_request
def _temporary_password_gate() -> ResponseReturnValue | None:
    """A user whose password an admin chose may do nothing but choose their own; once that
    password has expired, their login ends (registered before the second-factor enrolment
    gate, which waits until the password is their own)."""
    if request.endpoint in NOT_GATED_ENDPOINTS or request.blueprint in NOT_GATED_BLUEPRINTS:
        return None
    if LOGIN_KEY not in session or not current_user.is_authenticated:
        return None  # anonymous: no query for the user
    user = actor()
    if not users.password_is_temporary(user):
        return None
    if users.temporary_password_expired(user):
        row = current_login_session()
        if row is not None:
            writes.commit(
                lambda: user_sessions.end_session(user, row, reason="temporary password expired")
            )
        logout_user()
        session.clear()
        flash(str(users.TEMPORARY_PASSWORD_EXPIRED), "error")
        return redirect(url_for("auth.login"))
    if request.endpoint == "account.password":
        return None
    return redirect(url_for("account.password"))


@bp.route("", methods=["GET", "POST"])
def overview() -> ResponseReturnValue:
    """Your name (which you may change), email, role and clearance, and where your password,
    second factors, API tokens and sessions are managed."""
    user = actor()
    form = OwnNameForm(data={"name": user.name})
    if form.validate_on_submit():
        renamed = writes.commit(lambda: profile.rename_self(user, form.name.data or ""), form)
        if renamed.ok:
            flash(_("Your name is saved."), "success")
            return redirect(url_for("account.overview"))
    context = {
        "form": form,
        "factors": second_factor.factors_of(user),
        "token_count": sum(1 for t in users.own_tokens(user) if t.revoked_at is None),
        "session_count": len(user_sessions.own_sessions(user, current_app.config["SETTINGS"])),
    }
    if request.method == "POST":
        return invalid("account/overview.html", **context)
    return render_template("account/overview.html", **context)


@bp.get("/sessions")
def sessions() -> ResponseReturnValue:
    """Your live logins: when, where, which browser, which second factor; end any of them."""
    rows = user_sessions.own_sessions(actor(), current_app.config["SETTINGS"])
    current = current_login_session()
    return render_template(
        "account/sessions.html",
        rows=rows,
        current_id=current.id if current else None,
        browser_label=browser_label,
    )


@bp.post("/sessions/<public_id>/end")
def end_session(public_id: str) -> ResponseReturnValue:
    """End one of your sessions; ending this one logs you out."""
    row = user_sessions.own_session(actor(), public_id)
    this_one = row is current_login_session()
    if not this_one and not reauthentication.is_recent(current_login_session()):
        return ask_to_confirm(back="account.sessions")  # ending one's own is logging out
    writes.commit(
        lambda: user_sessions.end_session(actor(), row, reason="ended from the sessions page")
    )
    if this_one:
        logout_user()
        session.clear()
        flash(_("You ended this session: you are logged out."), "info")
        return redirect(url_for("auth.login"))
    flash(
        _("The session from %(browser)s was ended.", browser=browser_label(row.user_agent)),
        "success",
    )
    return redirect(url_for("account.sessions"))


@bp.post("/sessions/end-others")
@recent_authentication_required(back="account.sessions")
def end_other_sessions() -> ResponseReturnValue:
    """Log out every other session of yours (a lost phone, a shared computer)."""
    keep = current_login_session()
    ended = writes.commit(
        lambda: user_sessions.end_other_sessions(actor(), keep, reason="logged out other sessions")
    ).value
    flash(
        ngettext("%(num)s other session ended.", "%(num)s other sessions ended.", ended), "success"
    )
    return redirect(url_for("account.sessions"))


@bp.route("/password", methods=["GET", "POST"])
@recent_authentication_required()
@limiter.limit(lambda: current_app.config["SETTINGS"].login_rate_limit, methods=["POST"])
def password() -> ResponseReturnValue:
    """Change your own password (the current one is asked); your other sessions end. A
    temporary password (an admin chose it) is replaced here, and then the rest opens."""
    form = ChangePasswordForm()
    temporary_until = actor().password_temporary_until
    context = {"form": form, "hint": NEW_PASSWORD_HINT, "temporary_until": temporary_until}
    if form.validate_on_submit():
        keep = current_login_session()
        changed = writes.commit(
            lambda: credentials.change_own_password(
                actor(), form.current_password.data or "", form.new_password.data or "", keep
            ),
            form,
        )
        if changed.ok:
            ended = changed.value
            said = _("Your password is changed.")
            if ended:
                others = ngettext(
                    "%(num)s other session ended.", "%(num)s other sessions ended.", ended
                )
                said = f"{said} {others}"
            flash(said, "success")
            if temporary_until is not None:
                return redirect("/")  # the register opens (or the next gate takes over)
            return redirect(url_for("account.password"))
    if request.method == "POST":
        return invalid("account/password.html", **context)
    return render_template("account/password.html", **context)


def _own_tokens() -> list[ApiToken]:
    return users.own_tokens(actor())


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> ResponseReturnValue:
    """List your tokens; create one (its plain text is shown on this page once)."""
    form = TokenForm()
    if form.validate_on_submit():
        created = writes.commit(
            lambda: users.create_token(actor(), actor(), form.name.data or ""), form
        )
        if created.ok:
            token, plain = created.value
            return shown_once(
                "account/tokens.html",
                form=TokenForm(formdata=None),
                tokens=_own_tokens(),
                new_token=token,
                plain=plain,
            )
    if request.method == "POST":
        return invalid("account/tokens.html", form=form, tokens=_own_tokens(), new_token=None)
    return render_template("account/tokens.html", form=form, tokens=_own_tokens(), new_token=None)


@bp.post("/tokens/<public_id>/revoke")
def revoke(public_id: str) -> ResponseReturnValue:
    """Revoke one of your tokens (admins: anyone's) at once."""
    token = authz.get_token(public_id, current_user)
    writes.commit(lambda: users.revoke_token(actor(), token))
    flash(_("Token %(prefix)s… revoked.", prefix=token.prefix), "success")
    if token.user_id != current_user.id:
        return redirect(url_for("admin.user_detail", public_id=token.user.public_id))
    return redirect(url_for("account.tokens"))
