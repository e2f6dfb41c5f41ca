"""The login form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from monitor.web.fields import Form

# WTForms' own catalogs lack some of the register's languages (Khmer): say it ourselves.
REQUIRED = _l("This field is required.")


class LoginForm(Form):
    """Email and password."""

    email = StringField(_l("Email"), [InputRequired(REQUIRED), Length(max=320)])
    password = PasswordField(_l("Password"), [InputRequired(REQUIRED), Length(max=1000)])
    next = HiddenField()
