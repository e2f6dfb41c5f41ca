"""Recording a custody status change, with its source."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from monitor import authz
from monitor.authz import Action
from monitor.models import Source
from monitor.presentation import status_label
from monitor.services import cases as case_service
from monitor.services import sources
from monitor.web import writes
from monitor.web.citing import chosen_source, source_choices
from monitor.web.forms.cases import StatusForm
from monitor.web.helpers import actor, invalid, login_required_blueprint

bp = login_required_blueprint("events", __name__)


def _cited(form: StatusForm) -> list[Source]:
    existing = chosen_source(current_user, form.source.data)
    if existing is not None:
        return [existing]
    if form.describes_new_source():
        return [sources.create_source(actor(), form.source_input(), prefix="source_")]
    return []


@bp.route("/cases/<public_id>/status", methods=["GET", "POST"])
def record(public_id: str) -> ResponseReturnValue:
    """Record a status change; a back-filled older event joins the timeline only."""
    case = authz.get_case(public_id, current_user, Action.WRITE)
    form = StatusForm()
    form.source.choices = source_choices(current_user, form.source.data)
    if form.validate_on_submit():
        recorded = writes.commit(
            lambda: case_service.record_status(actor(), case, form.status_input(_cited(form))),
            form,
        )
        if recorded.ok:
            event = recorded.value.event
            if recorded.value.became_current:
                now = status_label(event.custody_status.value)
                flash(
                    _("Recorded: %(name)s, now %(status)s.", name=case.person.name, status=now),
                    "success",
                )
            else:
                flash(
                    _(
                        "Recorded on the timeline. It is older than the latest event, so the "
                        "current status is unchanged."
                    ),
                    "info",
                )
            return redirect(url_for("cases.detail", public_id=case.public_id))
    if request.method == "POST":
        return invalid("cases/status.html", form=form, case=case)
    return render_template("cases/status.html", form=form, case=case)
