"""Forms for user administration and API tokens."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from monitor.domain import Confidentiality, Role
from monitor.models import User
from monitor.services.users import UserInput
from monitor.web.fields import Form, Select, vocabulary_choices

ROLE_CHOICES = [
    ("viewer", "viewer (reads)"),
    ("editor", "editor (reads and writes)"),
    ("admin", "admin (also manages users)"),
]


class UserForm(Form):
    """An account's email, name, role and clearance."""

    email = EmailField("Email", [InputRequired(), Length(max=320)])
    name = StringField("Name", [Length(max=200)])
    role = Select("Role", choices=ROLE_CHOICES, default=Role.VIEWER.value)
    clearance = Select(
        "Clearance (highest confidentiality level they may see)",
        choices=vocabulary_choices(list(Confidentiality)),
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

    password = PasswordField("Password (leave empty to generate one)", [Length(max=1000)])


class EditUserForm(UserForm):
    """An existing account, which can be deactivated."""

    active = BooleanField("Active (may log in and use API tokens)")

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

    new_password = PasswordField("New password (leave empty to generate one)", [Length(max=1000)])


class TokenForm(Form):
    """A new API token."""

    name = StringField("What the token is for", [Length(max=100)])


class OwnNameForm(Form):
    """Your own name, on the account page."""

    name = StringField("Your name", [Length(max=200)])
