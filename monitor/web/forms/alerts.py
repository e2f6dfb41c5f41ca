"""Forms for alerts: the public subscribe page and the follow buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, StringField
from wtforms.validators import InputRequired, Length

from monitor.models.alerts import SubscriptionMode, SubscriptionScope
from monitor.web.fields import Form, LooseSelectField, Select

MODE_CHOICES = [
    (SubscriptionMode.IMMEDIATE.value, "at once, one email per change"),
    (SubscriptionMode.DAILY.value, "once a day, one digest email"),
]
# How the follow control names a mode: "You follow this case · immediate emails".
FOLLOW_MODE_LABELS = {
    SubscriptionMode.IMMEDIATE.value: "immediate emails",
    SubscriptionMode.DAILY.value: "daily digest",
}
PUBLIC_SCOPE_CHOICES = [
    (SubscriptionScope.ALL.value, "every public case"),
    (SubscriptionScope.COUNTRY.value, "cases in one country"),
    (SubscriptionScope.ORGANIZATION.value, "members of one organization"),
]


class SubscribeForm(Form):
    """Anyone may ask for alerts; nothing is sent until they confirm from the email."""

    email = EmailField("Your email address", [InputRequired(), Length(max=320)])
    name = StringField("Your name (optional)", [Length(max=200)])
    organization_name = StringField("Your organization (optional)", [Length(max=200)])
    scope = Select("Tell me about", choices=PUBLIC_SCOPE_CHOICES)
    country = LooseSelectField("Country")
    organization = LooseSelectField("Organization")
    mode = Select("How often", choices=MODE_CHOICES)
    # Choices: MONITOR_LANGUAGES, each named in itself (set by the view).
    language = Select(_l("Language of the emails"), choices=[])


class FollowForm(Form):
    """The follow, switch-mode and unfollow buttons on case and organization pages."""

    scope = HiddenField()
    target = HiddenField()
    next = HiddenField()
    # Checked by the service (an unfollow button sends none).
    mode = Select(
        "Email me",
        choices=MODE_CHOICES,
        validate_choice=False,
        default=SubscriptionMode.IMMEDIATE.value,
    )


class ConfirmForm(Form):
    """The button that completes the double opt-in (a link alone could be followed by a bot)."""
