"""Second factors: the account security page, the login's second step, and the enrolment gate.

The security page (``/account/security``) adds and removes an authenticator app (TOTP, in plain
forms), passkeys (WebAuthn: ``static/js/webauthn.js`` runs the browser's side and posts the answer
in a form) and recovery codes. After the password, a user with a factor is only *pending*: the
session holds their id for :data:`PENDING_SECONDS` and nothing else, and only the second step logs
them in (:func:`monitor.web.auth._complete_login`). Attempts are rate limited per account as well
as per address. Under ``MONITOR_REQUIRE_2FA`` a user who must enrol is sent to the security page
from everywhere else.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user

from monitor import authz
from monitor.config import Settings
from monitor.extensions import limiter
from monitor.models import User
from monitor.services import second_factor, users
from monitor.services.second_factor import enrolment, passkeys, recovery, totp
from monitor.web import writes
from monitor.web.auth import _complete_login
from monitor.web.forms.security import (
    NewPasskeyForm,
    PasskeyForm,
    ProofForm,
    RecoveryCodeForm,
    TotpCodeForm,
)
from monitor.web.helpers import actor, login_required_blueprint, safe_next, shown_once

T = TypeVar("T")

bp = login_required_blueprint("security", __name__, url_prefix="/account/security")
second_step_bp = Blueprint("second_step", __name__, url_prefix="/login/second-step")

# How long a password stays good for the second step.
PENDING_SECONDS = 300
PENDING_KEY = "pending_login"
# Second-factor attempts per account (and, separately, per address): a six-digit code has three
# right answers in a million, so 5 a minute and 30 an hour leave a guesser nowhere. Only refused
# attempts count. An app config key, so a test can tighten it.
DEFAULT_SECOND_FACTOR_LIMIT = "5 per minute; 30 per hour"
# Endpoints a user who must enrol may still reach (besides this module's own).
# (None: no such page, a 404 whoever asks.) The API authenticates by token, never by the session.
OPEN_TO_UNENROLLED = frozenset({None, "static", "auth.logout", "auth.login"})
OPEN_BLUEPRINTS = frozenset({"security", "second_step", "health", "api"})


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _relying_party() -> passkeys.RelyingParty:
    return passkeys.RelyingParty.for_base_url(_settings().base_url)


def _factors_changed(user: User) -> None:
    """Called (inside the change's transaction) whenever a factor is added or removed.

    The services already audit the change itself. This is where the user's other sessions are
    ended once sessions are server-side (``user_sessions.end_other_sessions(user, keep=…)``),
    so a session opened before the change does not outlive it.
    """


def _change_factors(use_case: Callable[[], T], form: Any = None) -> writes.Outcome[T]:
    """Run a change to the current user's factors and :func:`_factors_changed`, committed once."""

    def run() -> T:
        value = use_case()
        _factors_changed(actor())
        return value

    return writes.commit(run, form)


# -- rate limits of second-factor attempts ---------------------------------------------------------


def _account_key() -> str:
    """The rate limit key of a second-factor attempt: the pending account (else the address)."""
    pending = session.get(PENDING_KEY)
    if isinstance(pending, dict) and pending.get("user"):
        return "account:" + str(pending["user"]).partition(".")[0]
    return get_remote_address()


def _second_factor_limit() -> str:
    return str(current_app.config.get("SECOND_FACTOR_RATE_LIMIT", DEFAULT_SECOND_FACTOR_LIMIT))


def _refused(response: Any) -> bool:
    # A wrong code or proof (401, 422); a missing page or a lapsed login step costs nothing.
    return int(getattr(response, "status_code", 200)) in {401, 422}


_per_account = limiter.shared_limit(
    _second_factor_limit,
    scope="second-factor-account",
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_refused,
)
# Proving it is still you (password or app code) before a removal: limited per user, so a
# copied session cookie cannot guess the app's code or the password through these forms.
_per_user = limiter.shared_limit(
    _second_factor_limit,
    scope="identity-proof",
    key_func=lambda: "user:" + str(current_user.get_id()).partition(".")[0],
    methods=["POST"],
    deduct_when=_refused,
)
_per_address = limiter.shared_limit(
    _second_factor_limit,
    scope="second-factor-address",
    methods=["POST"],
    deduct_when=_refused,
)


# -- WebAuthn challenges, kept in the (signed) session between options and answer -------------


def _keep_challenge(purpose: str, ceremony: passkeys.Ceremony) -> str:
    encoded = base64.urlsafe_b64encode(ceremony.challenge).decode()
    until = time.time() + passkeys.TIMEOUT_MS / 1000
    session[f"webauthn_{purpose}"] = {"challenge": encoded, "until": until}
    return ceremony.options_json


def _take_challenge(purpose: str) -> bytes:
    """The challenge of the last ceremony for ``purpose``, used up (empty when expired)."""
    kept = session.pop(f"webauthn_{purpose}", None)
    if not isinstance(kept, dict) or kept.get("until", 0) < time.time():
        return b""
    return base64.urlsafe_b64decode(str(kept.get("challenge", "")))


# -- the enrolment gate -------------------------------------------------------------------------


@bp.before_app_request
def _enrolment_gate() -> ResponseReturnValue | None:
    """Send a user MONITOR_REQUIRE_2FA holds to a second factor, and who has none, to enrol."""
    if request.endpoint in OPEN_TO_UNENROLLED or request.blueprint in OPEN_BLUEPRINTS:
        return None
    settings = _settings()
    if settings.require_2fa == "none" or "_user_id" not in session or session.get("second_factor"):
        return None  # nobody held to a factor; anonymous; or logged in with a second factor
    if not current_user.is_authenticated or not second_factor.required_for(current_user, settings):
        return None
    if second_factor.must_enrol(current_user, settings):
        return redirect(url_for("security.index"))
    return None


# -- the account security page ------------------------------------------------------------------


def _page(status: int = 200, **forms: Any) -> ResponseReturnValue:
    user = actor()
    settings = _settings()
    rp = _relying_party()
    factors = second_factor.factors_of(user)
    context = {
        "factors": factors,
        "required": second_factor.required_for(user, settings),
        "must_enrol": second_factor.must_enrol(user, settings),
        "demo_exempt": second_factor.demo_exempt(user, settings),
        "demo_admin_email": second_factor.DEMO_ADMIN_EMAIL,
        "require_setting": settings.require_2fa,
        "rp": rp,
        "passkey_options": (
            _keep_challenge("register", passkeys.registration_options(user, rp))
            if rp.usable
            else ""
        ),
        "passkey_form": forms.get("passkey_form") or NewPasskeyForm(formdata=None),
        "proof_form": forms.get("proof_form") or ProofForm(formdata=None),
        "proof_target": forms.get("proof_target"),
    }
    return render_template("account/security.html", **context), status


def _recovery_codes_page(codes: list[str], why: str) -> ResponseReturnValue:
    return shown_once("account/security_recovery.html", codes=codes, why=why)


@bp.get("")
def index() -> ResponseReturnValue:
    """What the user has enrolled, and the forms to add or remove factors."""
    return _page()


@bp.post("/totp")
def totp_begin() -> ResponseReturnValue:
    """Start setting up an authenticator app: a new secret, shown on the next page."""
    outcome = writes.commit(lambda: totp.begin(actor()))
    if not outcome.ok:
        flash(next(iter(outcome.errors.values())), "error")
        return redirect(url_for("security.index"))
    return redirect(url_for("security.totp_confirm"))


@bp.route("/totp/confirm", methods=["GET", "POST"])
def totp_confirm() -> ResponseReturnValue:
    """The QR code, the secret as text and its ``otpauth://`` URI; the first code confirms it."""
    user = actor()
    pending = totp.pending(user)
    if pending is None:
        return redirect(url_for("security.index"))
    form = TotpCodeForm()
    status = 200
    if form.validate_on_submit():
        confirmed = _change_factors(lambda: enrolment.confirm_totp(user, form.code.data), form)
        if confirmed.ok:
            flash("Your authenticator app is set up.", "success")
            if confirmed.value:
                return _recovery_codes_page(confirmed.value, "first")
            return redirect(url_for("security.index"))
        status = 422
    elif request.method == "POST":
        status = 422
    uri = totp.uri(user, pending)
    page = render_template(
        "account/security_totp.html",
        form=form,
        secret=pending.secret,
        uri=uri,
        qr_svg=totp.qr_svg(uri),
    )
    return shown_once_status(page, status)


def shown_once_status(page: str, status: int) -> ResponseReturnValue:
    """A rendered page holding a secret (never cached; see :func:`shown_once`)."""
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/totp/remove")
@_per_user
def totp_remove() -> ResponseReturnValue:
    """Remove the authenticator app (password or a current code required)."""
    form = ProofForm()
    if form.validate_on_submit():
        done = _change_factors(
            lambda: enrolment.remove_totp(actor(), form.proof.data, _settings()), form
        )
        if done.ok:
            flash("The authenticator app was removed.", "success")
            return redirect(url_for("security.index"))
    return _page(422, proof_form=form, proof_target="totp")


@bp.post("/passkeys")
def passkey_add() -> ResponseReturnValue:
    """Keep the passkey the browser just created (the form is filled in by webauthn.js)."""
    form = NewPasskeyForm()
    if form.validate_on_submit():
        user = actor()
        challenge = _take_challenge("register")
        added = _change_factors(
            lambda: enrolment.add_passkey(
                user, _relying_party(), form.credential.data, challenge, form.name.data or ""
            ),
            form,
        )
        if added.ok:
            passkey, codes = added.value
            flash(f"Passkey “{passkey.name}” added.", "success")
            if codes:
                return _recovery_codes_page(codes, "first")
            return redirect(url_for("security.index"))
    return _page(422, passkey_form=form)


@bp.post("/passkeys/<public_id>/remove")
@_per_user
def passkey_remove(public_id: str) -> ResponseReturnValue:
    """Remove one of your passkeys (password or a current code required)."""
    passkey = authz.get_passkey(public_id, current_user)
    form = ProofForm()
    if form.validate_on_submit():
        done = _change_factors(
            lambda: enrolment.remove_passkey(actor(), passkey, form.proof.data, _settings()),
            form,
        )
        if done.ok:
            flash(f"Passkey “{passkey.name}” removed.", "success")
            return redirect(url_for("security.index"))
    return _page(422, proof_form=form, proof_target=passkey.public_id)


@bp.post("/recovery-codes")
@_per_user
def recovery_codes() -> ResponseReturnValue:
    """Ten new recovery codes, shown once (password or a current code required)."""
    form = ProofForm()
    if form.validate_on_submit():
        issued = writes.commit(
            lambda: enrolment.replace_recovery_codes(actor(), form.proof.data), form
        )
        if issued.ok:
            return _recovery_codes_page(issued.value, "replaced")
    return _page(422, proof_form=form, proof_target="recovery")


# -- the login's second step ----------------------------------------------------------------------


def begin_second_step(user: User, target: str) -> ResponseReturnValue:
    """After the right password of a user with a factor: remember them briefly, ask for it."""
    session.clear()  # nothing from before the login survives it
    session[PENDING_KEY] = {
        "user": user.get_id(),  # its stamp dies with a password change
        "until": time.time() + PENDING_SECONDS,
        "next": target,
    }
    return redirect(url_for("second_step.form"))


def _pending() -> tuple[User, str] | None:
    """The user whose password was right a moment ago, and where they were going."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or float(pending.get("until", 0)) < time.time():
        return None
    user = users.user_for_session(str(pending.get("user", "")))
    return (user, safe_next(str(pending.get("next", "")))) if user is not None else None


def _no_pending() -> ResponseReturnValue:
    session.pop(PENDING_KEY, None)
    if current_user.is_authenticated:
        return redirect("/")
    flash("Please log in again: the second step waits five minutes at most.", "info")
    return redirect(url_for("auth.login"))


def _second_step_page(user: User, status: int, **forms: Any) -> ResponseReturnValue:
    factors = second_factor.factors_of(user)
    rp = _relying_party()
    options = (
        _keep_challenge("login", passkeys.authentication_options(user, rp))
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
    _complete_login(user, factor)
    return redirect(target)


@second_step_bp.route("", methods=["GET", "POST"])
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
        totp_form.code.errors = ["That code is wrong or was already used; wait for the next."]
    return _second_step_page(user, 401, totp_form=totp_form)


@second_step_bp.post("/recovery")
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
            flash("You used a recovery code: each works once. Check your second factors.", "info")
            return _log_in(user, "recovery", target)
        recovery_form.recovery_code.errors = ["That recovery code is wrong or was already used."]
    return _second_step_page(user, 401, recovery_form=recovery_form)


@second_step_bp.post("/passkey")
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
        challenge = _take_challenge("login")
        credential = passkey_form.credential.data
        if (
            challenge
            and writes.commit(
                lambda: passkeys.verify(user, _relying_party(), credential, challenge)
            ).value
        ):
            return _log_in(user, "webauthn", target)
    return _second_step_page(
        user, 401, passkey_form=passkey_form, error="The passkey was not accepted; try again."
    )
