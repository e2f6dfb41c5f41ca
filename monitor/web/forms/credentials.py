"""Forms for one's own password: changing it, and setting it from a reset link."""

from __future__ import annotations

from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from monitor.services.password_policy import MAX_LENGTH, MIN_LENGTH
from monitor.web.fields import Form

NEW_PASSWORD_HINT = (
    f"At least {MIN_LENGTH} characters; any characters, spaces included. A few uncommon words "
    "make a strong password that is easy to remember. Common or guessable passwords are refused."
)


class NewPasswordForm(Form):
    """A new password, typed twice."""

    new_password = PasswordField("New password", [InputRequired(), Length(max=MAX_LENGTH)])
    repeat_password = PasswordField(
        "New password again",
        [InputRequired(), EqualTo("new_password", message="does not match the new password")],
    )


class ChangePasswordForm(NewPasswordForm):
    """The current password, and the new one twice."""

    current_password = PasswordField("Current password", [InputRequired(), Length(max=MAX_LENGTH)])
