"""Second factors on the account security page, and the gate that sends users to it.

The security page (``/account/security``) adds and removes an authenticator app (TOTP, in plain
forms), passkeys (WebAuthn: ``static/js/webauthn.js`` runs the browser's side and posts the answer
in a form) and recovery codes. Every change needs a recent authentication (the login, or
"Confirm it's you": :mod:`monitor.web.reauth`). Under ``MONITOR_REQUIRE_2FA`` a user who must
enrol is sent here from everywhere else. The login's second step is
:mod:`monitor.web.second_step`."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from monitor import authz
from monitor.config import Settings
from monitor.models import User
from monitor.services import reauthentication, second_factor, user_sessions, users
from monitor.services.second_factor import enrolment, passkeys, totp
from monitor.web import writes
from monitor.web.auth import current_login_session, recent_authentication_required
from monitor.web.forms.security import NewPasskeyForm, TotpCodeForm
from monitor.web.helpers import actor, login_required_blueprint, shown_once

T = TypeVar("T")

bp = login_required_blueprint("security", __name__, url_prefix="/account/security")

# Second-factor attempts per account (and, separately, per address): a six-digit code has three
# right answers in a million, so 5 a minute and 30 an hour leave a guesser nowhere. Only refused
# attempts count. An app config key, so a test can tighten it.
DEFAULT_SECOND_FACTOR_LIMIT = "5 per minute; 30 per hour"
# Endpoints a user who must enrol may still reach (None: no such page, a 404 whoever asks), and
# blueprints (the API authenticates by token, never by the session).
OPEN_TO_UNENROLLED = frozenset({None, "static", "auth.logout", "auth.login"})
OPEN_BLUEPRINTS = frozenset({"security", "reauth", "second_step", "health", "api", "language"})


def settings_now() -> Settings:
    """This app's settings."""
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def relying_party() -> passkeys.RelyingParty:
    """Who passkeys are for: MONITOR_BASE_URL's host name and origin."""
    return passkeys.RelyingParty.for_base_url(settings_now().base_url)


def _factors_changed(user: User) -> None:
    """Called (inside the change's transaction) whenever a factor is added or removed.

    The services already audit the change itself; the user's other sessions end, so a session
    opened before the change (a stolen cookie, say) does not outlive it.
    """
    user_sessions.end_other_sessions(user, current_login_session(), reason="second factor changed")


def _change_factors(use_case: Callable[[], T], form: Any = None) -> writes.Outcome[T]:
    """Run a change to the current user's factors and :func:`_factors_changed`, committed once."""

    def run() -> T:
        value = use_case()
        _factors_changed(actor())
        return value

    return writes.commit(run, form)


# -- rate limits of second-factor attempts ---------------------------------------------------------


def second_factor_limit() -> str:
    """Refused attempts allowed (an app config key, so a test can tighten it)."""
    return str(current_app.config.get("SECOND_FACTOR_RATE_LIMIT", DEFAULT_SECOND_FACTOR_LIMIT))


def refused_attempt(response: Any) -> bool:
    """Whether a response refused a code or a proof (401, 422): only those count against the
    limits; a missing page or a lapsed login step costs nothing."""
    return int(getattr(response, "status_code", 200)) in {401, 422}


# -- WebAuthn challenges, kept in the (signed) session between options and answer -------------


def keep_challenge(purpose: str, ceremony: passkeys.Ceremony) -> str:
    """Remember the ceremony's challenge in the session; its options for the page."""
    encoded = base64.urlsafe_b64encode(ceremony.challenge).decode()
    until = time.time() + passkeys.TIMEOUT_MS / 1000
    session[f"webauthn_{purpose}"] = {"challenge": encoded, "until": until}
    return ceremony.options_json


def take_challenge(purpose: str) -> bytes:
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
    settings = settings_now()
    if settings.require_2fa == "none" or "_user_id" not in session:
        return None  # nobody held to a factor; or anonymous
    if (
        not current_user.is_authenticated
        or not second_factor.required_for(current_user, settings)
        # First their own password (monitor.web.account's gate), then a factor.
        or users.password_is_temporary(current_user)
    ):
        return None
    login = current_login_session()
    if login is not None and login.second_factor:
        return None  # logged in with a second factor
    if second_factor.must_enrol(current_user, settings):
        return redirect(url_for("security.index"))
    return None


# -- the account security page ------------------------------------------------------------------


def _page(status: int = 200, refused: str = "", **forms: Any) -> ResponseReturnValue:
    user = actor()
    settings = settings_now()
    rp = relying_party()
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
            keep_challenge("register", passkeys.registration_options(user, rp)) if rp.usable else ""
        ),
        "passkey_form": forms.get("passkey_form") or NewPasskeyForm(formdata=None),
        "refused": refused,
        "recently_confirmed": reauthentication.is_recent(current_login_session()),
    }
    return render_template("account/security.html", **context), status


def _recovery_codes_page(codes: list[str], why: str) -> ResponseReturnValue:
    return shown_once("account/security_recovery.html", codes=codes, why=why)


@bp.get("")
def index() -> ResponseReturnValue:
    """What the user has enrolled, and the forms to add or remove factors."""
    return _page()


@bp.post("/totp")
@recent_authentication_required(back="security.index")
def totp_begin() -> ResponseReturnValue:
    """Start setting up an authenticator app: a new secret, shown on the next page."""
    outcome = writes.commit(lambda: totp.begin(actor()))
    if not outcome.ok:
        flash(str(next(iter(outcome.errors.values()))), "error")
        return redirect(url_for("security.index"))
    return redirect(url_for("security.totp_confirm"))


@bp.route("/totp/confirm", methods=["GET", "POST"])
@recent_authentication_required()
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
            flash(_("Your authenticator app is set up."), "success")
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
        secret=totp.secret_of(user, pending),
        uri=uri,
        qr_svg=totp.qr_svg(uri),
    )
    return _shown_once_status(page, status)


def _shown_once_status(page: str, status: int) -> ResponseReturnValue:
    """A rendered page holding a secret (never cached; see :func:`shown_once`)."""
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/totp/remove")
@recent_authentication_required(back="security.index")
def totp_remove() -> ResponseReturnValue:
    """Remove the authenticator app."""
    done = _change_factors(lambda: enrolment.remove_totp(actor(), settings_now()))
    if not done.ok:
        return _refused(done.errors)
    flash(_("The authenticator app was removed."), "success")
    return redirect(url_for("security.index"))


def _refused(errors: dict[str, str]) -> ResponseReturnValue:
    """The security page again, saying why a change was refused."""
    return _page(422, refused="; ".join(errors.values()))


@bp.post("/passkeys")
@recent_authentication_required(back="security.index")
def passkey_add() -> ResponseReturnValue:
    """Keep the passkey the browser just created (the form is filled in by webauthn.js)."""
    form = NewPasskeyForm()
    if form.validate_on_submit():
        user = actor()
        challenge = take_challenge("register")
        added = _change_factors(
            lambda: enrolment.add_passkey(
                user, relying_party(), form.credential.data, challenge, form.name.data or ""
            ),
            form,
        )
        if added.ok:
            passkey, codes = added.value
            flash(_("Passkey “%(name)s” added.", name=passkey.name), "success")
            if codes:
                return _recovery_codes_page(codes, "first")
            return redirect(url_for("security.index"))
    return _page(422, passkey_form=form)


@bp.post("/passkeys/<public_id>/remove")
@recent_authentication_required(back="security.index")
def passkey_remove(public_id: str) -> ResponseReturnValue:
    """Remove one of your passkeys."""
    passkey = authz.get_passkey(public_id, current_user)
    done = _change_factors(lambda: enrolment.remove_passkey(actor(), passkey, settings_now()))
    if not done.ok:
        return _refused(done.errors)
    flash(_("Passkey “%(name)s” removed.", name=passkey.name), "success")
    return redirect(url_for("security.index"))


@bp.post("/recovery-codes")
@recent_authentication_required(back="security.index")
def recovery_codes() -> ResponseReturnValue:
    """Ten new recovery codes, shown once."""
    issued = writes.commit(lambda: enrolment.replace_recovery_codes(actor()))
    if not issued.ok:
        return _refused(issued.errors)
    return _recovery_codes_page(issued.value, "replaced")
