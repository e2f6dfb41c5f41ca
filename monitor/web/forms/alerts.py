"""Forms for alerts: the public subscribe page and the follow buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, StringField
from wtforms.validators import InputRequired, Length

from monitor.models.alerts import SubscriptionMode, SubscriptionScope
from monitor.web.fields import Form, LooseSelectField, Select
from monitor.web.forms.auth import REQUIRED

MODE_CHOICES = [
    (SubscriptionMode.IMMEDIATE.value, _l("at once, one email per change")),
    (SubscriptionMode.DAILY.value, _l("once a day, one digest email")),
]
# How the follow control names a mode: "You follow this case · immediate emails".
FOLLOW_MODE_LABELS = {
    SubscriptionMode.IMMEDIATE.value: _l("immediate emails"),
    SubscriptionMode.DAILY.value: _l("daily digest"),
}
PUBLIC_SCOPE_CHOICES = [
    (SubscriptionScope.ALL.value, _l("every public case")),
    (SubscriptionScope.COUNTRY.value, _l("cases in one country")),
    (SubscriptionScope.ORGANIZATION.value, _l("members of one organization")),
]


class SubscribeForm(Form):
    """Anyone may ask for alerts; nothing is sent until they confirm from the email."""

    email = EmailField(_l("Your email address"), [InputRequired(REQUIRED), Length(max=320)])
    name = StringField(_l("Your name (optional)"), [Length(max=200)])
    organization_name = StringField(_l("Your organization (optional)"), [Length(max=200)])
    scope = Select(_l("Tell me about"), choices=PUBLIC_SCOPE_CHOICES)
    country = LooseSelectField(_l("Country"))
    organization = LooseSelectField(_l("Organization"))
    mode = Select(_l("How often"), choices=MODE_CHOICES)
    # Choices: MONITOR_LANGUAGES, each named in itself (set by the view).
    language = Select(_l("Language of the emails"), choices=[])


class FollowForm(Form):
    """The follow, switch-mode and unfollow buttons on case and organization pages."""

    scope = HiddenField()
    target = HiddenField()
    next = HiddenField()
    # Checked by the service (an unfollow button sends none).
    mode = Select(
        _l("Email me"),
        choices=MODE_CHOICES,
        validate_choice=False,
        default=SubscriptionMode.IMMEDIATE.value,
    )


class ConfirmForm(Form):
    """The button that completes the double opt-in (a link alone could be followed by a bot)."""
