"""Alerts on the web: subscribing (public, double opt-in), unsubscribing, following, the logs.

Two blueprints: ``subscribe`` is open to anyone (the subscribe page and the links in emails);
``alerts`` needs a login (follow buttons, your alerts, delivery logs, subscribers, the mailbox).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from monitor import authz
from monitor.authz import Action
from monitor.config import Settings
from monitor.domain import Confidentiality
from monitor.extensions import csrf, limiter
from monitor.mail import mailbox
from monitor.mail.transport import mail_directory
from monitor.models import Case, Organization, Subscription
from monitor.models.alerts import SubscriptionMode, SubscriptionScope
from monitor.presentation.translation import current_language, language
from monitor.services import alerts, pages, subscriptions
from monitor.services.validation import page_number
from monitor.web import writes
from monitor.web.content_policy import MAILBOX_MESSAGE_POLICY
from monitor.web.fields import country_choices
from monitor.web.forms.alerts import (
    FOLLOW_MODE_LABELS,
    ConfirmForm,
    FollowForm,
    SubscribeForm,
)
from monitor.web.helpers import actor, invalid, login_required_blueprint, safe_next

public_bp = Blueprint("subscribe", __name__, url_prefix="/alerts")
bp = login_required_blueprint("alerts", __name__)

DEFAULT_SUBSCRIBE_LIMIT = "10 per hour"
SUBSCRIBERS_PER_PAGE = 100


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _subscribe_limit() -> str:
    # Each request sends an email to an address anyone can type: limit it per client address.
    return str(current_app.config.get("ALERTS_SUBSCRIBE_RATE_LIMIT", DEFAULT_SUBSCRIBE_LIMIT))


@public_bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(_subscribe_limit, methods=["POST"])
def form() -> ResponseReturnValue:
    """Ask for alerts about every public case, a country or an organization's members."""
    form = SubscribeForm()
    organizations = subscriptions.public_organizations()
    form.country.choices = country_choices(_("— choose —"))
    form.organization.choices = [("", _("— choose —"))] + [
        (o.public_id, f"{o.name} ({o.label})" if o.short_name else o.name) for o in organizations
    ]
    # Each language named in itself, marked as such for screen readers.
    form.language.choices = [
        SelectChoice(code, language(code).name, render_kw={"lang": code})
        for code in _settings().languages
    ]
    if not form.language.data:
        form.language.data = current_language()
    if form.validate_on_submit():
        requested = writes.commit(
            lambda: subscriptions.request_subscription(
                subscriptions.SubscriptionInput(
                    email=form.email.data or "",
                    name=form.name.data or "",
                    organization_name=form.organization_name.data,
                    scope=form.scope.data,
                    country=form.country.data,
                    organization=subscriptions.public_organization(form.organization.data or ""),
                    mode=form.mode.data,
                    language=form.language.data or _settings().languages[0],
                ),
                _settings().secret_key,
            ),
            form,
            {"scope_id": _scope_field(form.scope.data)},
        )
        if requested.ok:
            # The same answer whether or not the address had subscribed before.
            return render_template("alerts/subscribe_sent.html", email=form.email.data)
    if request.method == "POST":
        return invalid("alerts/subscribe.html", form=form)
    return render_template("alerts/subscribe.html", form=form)


def _scope_field(scope: str | None) -> str:
    return "organization" if scope == SubscriptionScope.ORGANIZATION.value else "country"


def _public_scope(subscription: Subscription) -> str:
    """The scope as shown to whoever holds a link: a non-public case is not named."""
    case = subscription.scope_case
    if case is not None and case.level is not Confidentiality.PUBLIC:
        return str(_("one case"))
    return subscriptions.describe_scope(subscription)


@public_bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> ResponseReturnValue:
    """The link in the confirmation email: a button completes the double opt-in."""
    subscription = subscriptions.by_confirm_token(token)
    if subscription is None or subscription.unsubscribed_at is not None:
        abort(404)
    form = ConfirmForm()
    if subscription.confirmed_at is None and form.validate_on_submit():
        writes.commit(lambda: subscriptions.confirm(subscription))
    return render_template(
        "alerts/confirm.html",
        form=form,
        subscription=subscription,
        scope=_public_scope(subscription),
    )


@public_bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    """The link in every email: one button to stop the alerts."""
    subscription = subscriptions.by_unsubscribe_token(token)
    if subscription is None:
        abort(404)
    return render_template(
        "alerts/unsubscribe.html", subscription=subscription, scope=_public_scope(subscription)
    )


@public_bp.post("/unsubscribe/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    """One-click unsubscribe (RFC 8058): mail clients POST here without a session or CSRF token.

    The unguessable token in the URL is the proof; the request changes nothing but this one
    subscription, so it is safe to exempt from CSRF protection.
    """
    subscription = subscriptions.by_unsubscribe_token(token)
    if subscription is None:
        abort(404)
    writes.commit(lambda: subscriptions.unsubscribe(subscriptions.SUBSCRIBER_ACTOR, subscription))
    return render_template(
        "alerts/unsubscribe.html", subscription=subscription, scope=_public_scope(subscription)
    )


csrf.exempt(unsubscribe)


def _follow_target(scope: str, target: str) -> tuple[SubscriptionScope, Case | Organization | None]:
    """What a follow button names; 404 for a case or organization the user may not see."""
    kind = SubscriptionScope(scope)
    if kind is SubscriptionScope.CASE:
        return kind, authz.get_case(target, current_user)
    if kind is SubscriptionScope.ORGANIZATION:
        return kind, authz.get_organization(target, current_user)
    return kind, None


def _back(form: FollowForm) -> ResponseReturnValue:
    return redirect(safe_next(form.next.data or url_for("alerts.index")))


_FOLLOWABLE = {
    SubscriptionScope.ALL.value,
    SubscriptionScope.ORGANIZATION.value,
    SubscriptionScope.CASE.value,
}


@bp.post("/alerts/follow")
def follow() -> ResponseReturnValue:
    """Follow a case, an organization's members or every case you may see; following it
    again with the other mode switches between immediate emails and a daily digest."""
    form = FollowForm()
    if not form.validate_on_submit() or form.scope.data not in _FOLLOWABLE:
        flash(_("Choose a case or an organization to follow."), "error")
        return _back(form)
    scope, target = _follow_target(form.scope.data, form.target.data or "")
    before = subscriptions.follow_mode(actor(), scope, target)
    followed = writes.commit(
        lambda: subscriptions.follow(
            actor(), scope, target, form.mode.data, language=current_language()
        )
    )
    if not followed.ok:
        flash(_("Not followed: %(why)s.", why="; ".join(followed.errors.values())), "error")
        return _back(form)
    chosen = SubscriptionMode(form.mode.data)  # the service refused any other value
    mode = FOLLOW_MODE_LABELS[chosen.value]
    if before is None:
        flash(
            _(
                "You follow %(what)s (%(mode)s): alerts go to %(email)s.",
                what=_followed(scope, target),
                mode=mode,
                email=current_user.email,
            ),
            "success",
        )
    elif before is not chosen:
        flash(
            _(
                "Alerts about %(what)s now come as %(mode)s.",
                what=_followed(scope, target),
                mode=mode,
            ),
            "success",
        )
    return _back(form)


@bp.post("/alerts/unfollow")
def unfollow() -> ResponseReturnValue:
    """Stop following."""
    form = FollowForm()
    if not form.validate_on_submit() or form.scope.data not in _FOLLOWABLE:
        flash(_("Choose a case or an organization to stop following."), "error")
        return _back(form)
    scope, target = _follow_target(form.scope.data, form.target.data or "")
    if writes.commit(lambda: subscriptions.unfollow(actor(), scope, target)).value:
        flash(_("You no longer follow %(what)s.", what=_followed(scope, target)), "info")
    return _back(form)


def _followed(scope: SubscriptionScope, target: Case | Organization | None) -> str:
    if isinstance(target, Case):
        return str(_("%(name)s's case", name=target.person.name))
    if isinstance(target, Organization):
        return str(_("the members of %(organization)s", organization=target.label))
    return str(_("every case you are cleared to see"))


@bp.get("/alerts")
def index() -> ResponseReturnValue:
    """What you follow, and where alerts are kept."""
    mine = pages.own_subscriptions(actor())
    return render_template(
        "alerts/index.html",
        subscriptions=mine,
        describe=subscriptions.describe_scope,
        follow_form=FollowForm(),
        following_all=subscriptions.following(actor(), SubscriptionScope.ALL, None),
        smtp=_settings().smtp_url is not None,
    )


@bp.get("/cases/<case_id>/events/<event_id>/deliveries")
def deliveries(case_id: str, event_id: str) -> ResponseReturnValue:
    """The delivery log of one status event: every recipient, state, attempts, last error."""
    case = authz.get_case(case_id, current_user, Action.WRITE)
    event = authz.get_event(case, event_id)
    rows = alerts.deliveries_of(event)
    return render_template(
        "alerts/deliveries.html",
        case=case,
        event=event,
        deliveries=rows,
        counts=Counter(d.state for d in rows),
        describe=subscriptions.describe_scope,
        resend_form=ConfirmForm(),
    )


@bp.post("/alerts/deliveries/<delivery_id>/resend")
def resend(delivery_id: str) -> ResponseReturnValue:
    """Send a failed delivery again."""
    delivery = authz.get_delivery(delivery_id, current_user, Action.WRITE)
    event = delivery.status_event
    if not ConfirmForm().validate_on_submit():
        abort(400)
    resent = writes.commit(lambda: alerts.resend(actor(), delivery, _settings()))
    if resent.ok:
        flash(_("Queued to be sent again."), "success")
    else:
        errors = resent.errors
        why = errors.get("state", "; ".join(errors.values()))
        flash(_("Not sent again: %(why)s.", why=why), "error")
    return redirect(
        url_for("alerts.deliveries", case_id=event.case.public_id, event_id=event.public_id)
    )


@bp.get("/alerts/subscribers")
def subscribers() -> ResponseReturnValue:
    """Every active subscription (admins)."""
    authz.require(current_user, Action.ADMIN)
    refused: dict[str, str] = {}
    page = page_number(request.args.get("page"), refused)
    shown = pages.subscribers(actor(), page, SUBSCRIBERS_PER_PAGE)
    if shown.past_last:
        return redirect(url_for("alerts.subscribers", page=shown.pages))
    return render_template(
        "alerts/subscribers.html",
        rows=shown.items,
        total=shown.total,
        page=shown.page,
        pages=shown.pages,
        describe=subscriptions.describe_scope,
        refused=refused,
    ), (422 if refused else 200)


def _may_read(summary: mailbox.StoredMessage, levels: dict[str, set[str]]) -> bool:
    """A kept alert is shown only to someone cleared for every case it tells about."""
    if summary.kind == "confirm":
        return True
    told = levels.get(summary.message_id)
    return bool(told) and told is not None and told <= set(authz.visible_levels(current_user))


@bp.get("/alerts/mailbox")
def mailbox_index() -> ResponseReturnValue:
    """The emails kept as files when no SMTP server is configured (editors and admins)."""
    authz.require(current_user, Action.WRITE)
    settings = _settings()
    kept = mailbox.list_messages(mail_directory(settings.instance_path))
    levels = alerts.levels_by_message([m.message_id for m in kept])
    return render_template(
        "alerts/mailbox.html",
        messages=[m for m in kept if _may_read(m, levels)],
        smtp=settings.smtp_url,
    )


@bp.get("/alerts/mailbox/<name>")
def mailbox_message(name: str) -> ResponseReturnValue:
    """One kept email, its HTML part as its recipient would see it and its text part."""
    authz.require(current_user, Action.WRITE)
    opened = mailbox.open_message(mail_directory(_settings().instance_path), name)
    if opened is None:
        abort(404)
    levels = alerts.levels_by_message([opened.summary.message_id])
    if not _may_read(opened.summary, levels):
        abort(404)
    response = current_app.make_response(
        render_template(
            "alerts/message.html",
            message=opened,
            framed=mailbox.framed_html(opened.html) if opened.html is not None else None,
        )
    )
    response.headers["Content-Security-Policy"] = MAILBOX_MESSAGE_POLICY
    return response


def _alert_counts(case: Case) -> dict[int, Counter[str]]:
    return alerts.counts_by_event(case) if authz.can(current_user, Action.WRITE) else {}


def _following(scope: str, target: Case | Organization | None) -> bool:
    if not current_user.is_authenticated:
        return False
    return subscriptions.following(actor(), SubscriptionScope(scope), target)


def _follow_mode(scope: str, target: Case | Organization | None) -> str | None:
    if not current_user.is_authenticated:
        return None
    mode = subscriptions.follow_mode(actor(), SubscriptionScope(scope), target)
    return mode.value if mode else None


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    """``alert_counts(case)``, ``following(scope, target)`` and ``follow_mode(scope, target)``
    (with ``follow_modes``, its wording) for the case and organization pages
    (``templates/alerts/_follow.html``)."""
    return {
        "alert_counts": _alert_counts,
        "following": _following,
        "follow_mode": _follow_mode,
        "follow_modes": FOLLOW_MODE_LABELS,
    }
