"""Forms of the account security page and of the login's second step."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from monitor.web.fields import Form
from monitor.web.forms.auth import REQUIRED


class TotpCodeForm(Form):
    """A six-digit code from the authenticator app."""

    code = StringField(
        _l("Code from your authenticator app"), [InputRequired(REQUIRED), Length(max=20)]
    )


class RecoveryCodeForm(Form):
    """One of the user's recovery codes."""

    recovery_code = StringField(_l("Recovery code"), [InputRequired(REQUIRED), Length(max=40)])


class PasskeyForm(Form):
    """The browser's answer to a WebAuthn ceremony (filled in by webauthn.js)."""

    credential = HiddenField(validators=[InputRequired(), Length(max=20_000)])


class NewPasskeyForm(PasskeyForm):
    """A passkey to register, with a name to tell it apart."""

    name = StringField(_l("Name of the key"), [Length(max=100)], default="Passkey")


class ConfirmForm(Form):
    """Confirm it's you: the password, and (with a second factor) an app or recovery code."""

    password = PasswordField(_l("Your password"), [InputRequired(REQUIRED), Length(max=1000)])
    code = StringField(_l("Code from your authenticator app, or a recovery code"), [Length(max=40)])
    next = HiddenField()


class ConfirmPasskeyForm(PasskeyForm):
    """Confirm it's you with the password and a passkey (filled in by webauthn.js)."""

    password = PasswordField(_l("Your password"), [InputRequired(REQUIRED), Length(max=1000)])
    next = HiddenField()
