"""The login's second step: after the right password, a code, a passkey or a recovery code.

A user with a factor is only *pending* after the password: the session holds their id (with the
password's stamp) for :data:`PENDING_SECONDS` and nothing else, so every other page still sends
them to log in. Only this step logs them in, through :func:`monitor.web.auth.finish_login`.
Attempts are rate limited per account (whatever the address) and per address.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from monitor.extensions import limiter
from monitor.models import User
from monitor.services import second_factor, users
from monitor.services.second_factor import passkeys, recovery, totp
from monitor.web import writes
from monitor.web.auth import finish_login
from monitor.web.forms.security import PasskeyForm, RecoveryCodeForm, TotpCodeForm
from monitor.web.helpers import safe_next
from monitor.web.security import (
    keep_challenge,
    refused_attempt,
    relying_party,
    second_factor_limit,
    take_challenge,
)

bp = Blueprint("second_step", __name__, url_prefix="/login/second-step")

# How long a password stays good for the second step.
PENDING_SECONDS = 300
PENDING_KEY = "pending_login"


def _account_key() -> str:
    """The rate limit key of a second-factor attempt: the pending account (else the address)."""
    pending = session.get(PENDING_KEY)
    if isinstance(pending, dict) and pending.get("user"):
        return "account:" + str(pending["user"]).partition(".")[0]
    return get_remote_address()


_per_account = limiter.shared_limit(
    second_factor_limit,
    scope="second-factor-account",
    key_func=_account_key,
    methods=["POST"],
    deduct_when=refused_attempt,
)
_per_address = limiter.shared_limit(
    second_factor_limit,
    scope="second-factor-address",
    methods=["POST"],
    deduct_when=refused_attempt,
)


def begin_second_step(user: User, target: str) -> ResponseReturnValue:
    """After the right password of a user with a factor: remember them briefly, ask for it."""
    session.clear()  # nothing from before the login survives it
    session[PENDING_KEY] = {
        # The account and a stamp that a password change (or reset) meanwhile voids.
        "user": f"{user.public_id}:{users.pending_login_stamp(user)}",
        "until": time.time() + PENDING_SECONDS,
        "next": target,
    }
    return redirect(url_for("second_step.form"))


def _pending() -> tuple[User, str] | None:
    """The user whose password was right a moment ago, and where they were going."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or float(pending.get("until", 0)) < time.time():
        return None
    user = users.user_for_pending_login(str(pending.get("user", "")))
    return (user, safe_next(str(pending.get("next", "")))) if user is not None else None


def _no_pending() -> ResponseReturnValue:
    session.pop(PENDING_KEY, None)
    if current_user.is_authenticated:
        return redirect("/")
    flash(_("Please log in again: the second step waits five minutes at most."), "info")
    return redirect(url_for("auth.login"))


def _second_step_page(user: User, status: int, **forms: Any) -> ResponseReturnValue:
    factors = second_factor.factors_of(user)
    rp = relying_party()
    options = (
        keep_challenge("login", passkeys.authentication_options(user, rp))
        if factors.passkeys and rp.usable
        else ""
    )
    context = {
        "factors": factors,
        "passkey_options": options,
        "totp_form": forms.get("totp_form") or TotpCodeForm(formdata=None),
        "recovery_form": forms.get("recovery_form") or RecoveryCodeForm(formdata=None),
        "passkey_form": forms.get("passkey_form") or PasskeyForm(formdata=None),
        "error": forms.get("error"),
    }
    return render_template("auth/second_step.html", **context), status


def _log_in(user: User, factor: str, target: str) -> ResponseReturnValue:
    return finish_login(user, second_factor=factor, target=target)


@bp.route("", methods=["GET", "POST"])
@_per_account
@_per_address
def form() -> ResponseReturnValue:
    """The second step: a code from the app (a plain form), a passkey or a recovery code."""
    pending = _pending()
    if pending is None:
        return _no_pending()
    user, target = pending
    totp_form = TotpCodeForm()
    if request.method == "GET":
        return _second_step_page(user, 200)
    if totp_form.validate_on_submit():
        if writes.commit(lambda: totp.verify(user, totp_form.code.data)).value:
            return _log_in(user, "totp", target)
        totp_form.code.errors = [_("That code is wrong or was already used; wait for the next.")]
    return _second_step_page(user, 401, totp_form=totp_form)


@bp.post("/recovery")
@_per_account
@_per_address
def with_recovery_code() -> ResponseReturnValue:
    """The second step with one of the recovery codes (each works once)."""
    pending = _pending()
    if pending is None:
        return _no_pending()
    user, target = pending
    recovery_form = RecoveryCodeForm()
    if recovery_form.validate_on_submit():
        if writes.commit(lambda: recovery.use(user, recovery_form.recovery_code.data)).value:
            flash(
                _("You used a recovery code: each works once. Check your second factors."), "info"
            )
            return _log_in(user, "recovery", target)
        recovery_form.recovery_code.errors = [_("That recovery code is wrong or was already used.")]
    return _second_step_page(user, 401, recovery_form=recovery_form)


@bp.post("/passkey")
@_per_account
@_per_address
def with_passkey() -> ResponseReturnValue:
    """The second step with a passkey (webauthn.js posts the browser's answer here)."""
    pending = _pending()
    if pending is None:
        return _no_pending()
    user, target = pending
    passkey_form = PasskeyForm()
    if passkey_form.validate_on_submit():
        challenge = take_challenge("login")
        credential = passkey_form.credential.data
        if (
            challenge
            and writes.commit(
                lambda: passkeys.verify(user, relying_party(), credential, challenge)
            ).value
        ):
            return _log_in(user, "webauthn", target)
    return _second_step_page(
        user, 401, passkey_form=passkey_form, error=_("The passkey was not accepted; try again.")
    )
