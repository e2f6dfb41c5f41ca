"""Confirm it's you (``/account/confirm``): the password, and a second factor when the account has
one, before a sensitive change (``auth.recent_authentication_required`` sends users here).

The password and an app or recovery code go in a plain form (no JavaScript); a passkey, with the
password, through ``static/js/webauthn.js``. Refused attempts are limited per account, as the
login's second step is. On success the login gets a new session id and the user goes back to
the page they came from (a local path only).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from monitor.extensions import limiter
from monitor.models import User, UserSession
from monitor.services import reauthentication, second_factor
from monitor.services.second_factor import passkeys
from monitor.web import writes
from monitor.web.auth import current_login_session, set_login_token
from monitor.web.forms.security import ConfirmForm, ConfirmPasskeyForm
from monitor.web.helpers import actor, login_required_blueprint, safe_next
from monitor.web.security import (
    keep_challenge,
    refused_attempt,
    relying_party,
    second_factor_limit,
    take_challenge,
)

bp = login_required_blueprint("reauth", __name__, url_prefix="/account/confirm")

# Refused confirmations per account (whichever browser or address): a copied session cookie
# cannot guess the password or a code here any faster than at the login's second step.
_per_account = limiter.shared_limit(
    second_factor_limit,
    scope="reauthentication-account",
    key_func=lambda: "account:" + str(current_user.public_id),
    methods=["POST"],
    deduct_when=refused_attempt,
)


def _page(user: User, target: str, status: int = 200, **forms: Any) -> ResponseReturnValue:
    factors = second_factor.factors_of(user)
    rp = relying_party()
    options = (
        keep_challenge("confirm", passkeys.authentication_options(user, rp))
        if factors.passkeys and rp.usable
        else ""
    )
    form = forms.get("form") or ConfirmForm(formdata=None, next=target)
    context = {
        "factors": factors,
        "passkey_options": options,
        "form": form,
        "passkey_form": forms.get("passkey_form") or ConfirmPasskeyForm(formdata=None),
        "target": target,
        "error": forms.get("error"),
        "minutes": int(reauthentication.WINDOW.total_seconds() // 60),
    }
    return render_template("auth/confirm.html", **context), status


def _login() -> UserSession:
    row = current_login_session()
    if row is None:  # a logged-in request always has its session row
        raise RuntimeError("no server-side session for a logged-in user")
    return row


def _confirmed(token: str, target: str) -> ResponseReturnValue:
    set_login_token(token)
    flash(_("Thank you. For the next few minutes you can change your account's security."), "info")
    return redirect(target)


@bp.route("", methods=["GET", "POST"])
@_per_account
def confirm() -> ResponseReturnValue:
    """The password, and a code from the app or a recovery code (a plain form)."""
    user, row = actor(), _login()
    form = ConfirmForm()
    target = safe_next(form.next.data or request.args.get("next"))
    if request.method == "GET":
        return _page(user, target)
    if form.validate_on_submit():
        token = writes.commit(
            lambda: reauthentication.confirm_with_code(
                user, row, form.password.data or "", form.code.data or ""
            )
        ).value
        if token:
            return _confirmed(token, target)
        return _page(user, target, 401, form=form, error=reauthentication.REFUSED)
    return _page(user, target, 422, form=form)


@bp.post("/passkey")
@_per_account
def with_passkey() -> ResponseReturnValue:
    """The password and a passkey (webauthn.js posts the browser's answer here)."""
    user, row = actor(), _login()
    form = ConfirmPasskeyForm()
    target = safe_next(form.next.data)
    if form.validate_on_submit():
        challenge = take_challenge("confirm")
        token = writes.commit(
            lambda: reauthentication.confirm_with_passkey(
                user,
                row,
                form.password.data or "",
                rp=relying_party(),
                credential=form.credential.data,
                challenge=challenge,
            )
        ).value
        if token:
            return _confirmed(token, target)
        return _page(user, target, 401, error=reauthentication.REFUSED)
    return _page(user, target, 422)
