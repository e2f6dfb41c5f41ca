"""Forms for user administration and API tokens."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from monitor.domain import Confidentiality, Role
from monitor.models import User
from monitor.presentation.wording import LEVEL_LABELS
from monitor.services.users import UserInput
from monitor.web.fields import Form, Select
from monitor.web.forms.auth import REQUIRED

ROLE_CHOICES = [
    ("viewer", _l("viewer (reads)")),
    ("editor", _l("editor (reads and writes)")),
    ("admin", _l("admin (also manages users)")),
]


class UserForm(Form):
    """An account's email, name, role and clearance."""

    email = EmailField(_l("Email"), [InputRequired(REQUIRED), Length(max=320)])
    name = StringField(_l("Name"), [Length(max=200)])
    role = Select(_l("Role"), choices=ROLE_CHOICES, default=Role.VIEWER.value)
    clearance = Select(
        _l("Clearance (highest confidentiality level they may see)"),
        choices=[(level.value, label) for level, label in LEVEL_LABELS.items()],
        default=Confidentiality.PUBLIC.value,
    )

    def user_input(self, active: bool = True) -> UserInput:
        """The service input."""
        return UserInput(
            email=self.email.data or "",
            role=self.role.data,
            clearance=self.clearance.data,
            name=self.name.data or "",
            active=active,
        )


class NewUserForm(UserForm):
    """A new account; the password is generated unless typed."""

    password = PasswordField(_l("Password (leave empty to generate one)"), [Length(max=1000)])


class EditUserForm(UserForm):
    """An existing account, which can be deactivated."""

    active = BooleanField(_l("Active (may log in and use API tokens)"))

    @classmethod
    def data_of(cls, user: User) -> dict[str, Any]:
        """Initial values."""
        return {
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "clearance": user.clearance,
            "active": user.active,
        }


class PasswordForm(Form):
    """Reset a user's password."""

    new_password = PasswordField(
        _l("New password (leave empty to generate one)"), [Length(max=1000)]
    )


class TokenForm(Form):
    """A new API token."""

    name = StringField(_l("What the token is for"), [Length(max=100)])


class OwnNameForm(Form):
    """Your own name, on the account page."""

    name = StringField(_l("Your name"), [Length(max=200)])
