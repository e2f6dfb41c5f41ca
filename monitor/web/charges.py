"""Adding and editing a case's charges."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from monitor import authz
from monitor.authz import Action
from monitor.models import Case, Charge, Source
from monitor.services import charges as charge_service
from monitor.web import writes
from monitor.web.citing import chosen_source, source_choices
from monitor.web.forms.charges import SENTENCE_ERRORS, ChargeForm
from monitor.web.helpers import actor, invalid, login_required_blueprint

bp = login_required_blueprint("charges", __name__)


def _render(form: ChargeForm, case: Case, *, editing: bool, failed: bool) -> ResponseReturnValue:
    context = {"form": form, "case": case, "editing": editing}
    if failed:
        return invalid("charges/form.html", **context)
    return render_template("charges/form.html", **context)


def _add(case: Case, form: ChargeForm) -> Charge:
    cited = chosen_source(current_user, form.source.data)
    return charge_service.add_charge(actor(), case, form.charge_input([cited] if cited else []))


def _update(charge: Charge, form: ChargeForm) -> Charge:
    cited: list[Source] = list(charge.sources)  # editing keeps what is already cited
    extra = chosen_source(current_user, form.source.data)
    if extra is not None and extra not in cited:
        cited.append(extra)
    return charge_service.update_charge(actor(), charge, form.charge_input(cited))


@bp.route("/cases/<public_id>/charges/new", methods=["GET", "POST"])
def new(public_id: str) -> ResponseReturnValue:
    """Add a charge to a case."""
    case = authz.get_case(public_id, current_user, Action.WRITE)
    form = ChargeForm()
    form.source.choices = source_choices(current_user, form.source.data)
    if form.validate_on_submit():
        added = writes.commit(lambda: _add(case, form), form, SENTENCE_ERRORS)
        if added.ok:
            flash(_("Charge added: %(offence)s.", offence=added.value.offence), "success")
            return redirect(url_for("cases.detail", public_id=case.public_id))
    return _render(form, case, editing=False, failed=request.method == "POST")


@bp.route("/charges/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id: str) -> ResponseReturnValue:
    """Change a charge: a new legal stage, a sentence, a corrected article."""
    charge = authz.get_charge(public_id, current_user, Action.WRITE)
    case = charge.case
    form = ChargeForm(data=ChargeForm.data_of(charge))
    form.source.choices = source_choices(current_user, form.source.data)
    if (
        form.validate_on_submit()
        and writes.commit(lambda: _update(charge, form), form, SENTENCE_ERRORS).ok
    ):
        flash(_("Charge updated."), "success")
        return redirect(url_for("cases.detail", public_id=case.public_id))
    return _render(form, case, editing=True, failed=request.method == "POST")
