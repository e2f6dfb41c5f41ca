"""The login form."""

from __future__ import annotations

from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from monitor.web.fields import Form


class LoginForm(Form):
    """Email and password."""

    email = StringField("Email", [InputRequired(), Length(max=320)])
    password = PasswordField("Password", [InputRequired(), Length(max=1000)])
    next = HiddenField()
