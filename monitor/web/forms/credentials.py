"""Forms for one's own password: changing it, and setting it from a reset link."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from monitor.services.password_policy import MAX_LENGTH, MIN_LENGTH
from monitor.web.fields import Form
from monitor.web.forms.auth import REQUIRED

NEW_PASSWORD_HINT = _l(
    "At least %(min)s characters; any characters, spaces included. A few uncommon words "
    "make a strong password that is easy to remember. Common or guessable passwords are refused.",
    min=MIN_LENGTH,
)


class NewPasswordForm(Form):
    """A new password, typed twice."""

    new_password = PasswordField(
        _l("New password"), [InputRequired(REQUIRED), Length(max=MAX_LENGTH)]
    )
    repeat_password = PasswordField(
        _l("New password again"),
        [
            InputRequired(REQUIRED),
            EqualTo("new_password", message=_l("does not match the new password")),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    """The current password, and the new one twice."""

    current_password = PasswordField(
        _l("Current password"), [InputRequired(REQUIRED), Length(max=MAX_LENGTH)]
    )
