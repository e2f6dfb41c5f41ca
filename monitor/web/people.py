"""People: the list, a person's page with their cases and memberships, create and edit."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from monitor import authz
from monitor.authz import Action
from monitor.models import Membership, Person
from monitor.presentation.translation import bdi
from monitor.reads import reads_only
from monitor.services import pages
from monitor.services import people as people_service
from monitor.services.validation import page_number
from monitor.web import writes
from monitor.web.cases import organization_choices
from monitor.web.forms.people import MembershipForm, PersonForm, gender_label
from monitor.web.helpers import actor, invalid, login_required_blueprint

bp = login_required_blueprint("people", __name__)
PER_PAGE = 50


def naming(message: str, **names: str) -> Markup:
    """A translated message (``_("%(name)s added.")``) with each name put in ``<bdi>``, so a
    Latin name keeps its direction inside an Arabic sentence."""
    return escape(message) % {key: bdi(value) for key, value in names.items()}


@bp.get("/people")
@reads_only
def index() -> ResponseReturnValue:
    """People the user may see, searchable by name in either script or alias."""
    q = (request.args.get("q") or "").strip()
    refused: dict[str, str] = {}
    page = page_number(request.args.get("page"), refused)
    found = pages.people_list(current_user, q, page, PER_PAGE)
    if found.past_last:
        return redirect(url_for("people.index", q=q or None, page=found.pages))
    return render_template(
        "people/list.html",
        people=found.items,
        q=q,
        total=found.total,
        page=found.page,
        pages=found.pages,
        refused=refused,
    ), (422 if refused else 200)


@bp.route("/people/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Add a person."""
    authz.require(current_user, Action.WRITE)
    form = PersonForm()
    duplicates: list[people_service.LikelyDuplicate] = []

    def create() -> Person:
        try:
            return people_service.create_person(
                actor(), form.person_input(), unless_duplicate=not form.confirm_new_person.data
            )
        except people_service.PossibleDuplicate as exc:
            duplicates.extend(exc.candidates)  # listed on the form, with links, to choose from
            raise

    if form.validate_on_submit():
        created = writes.commit(create, form)
        if created.ok:
            person = created.value
            flash(naming(_("%(name)s added."), name=person.name), "success")
            return redirect(url_for("people.detail", public_id=person.public_id))
    if request.method == "POST":
        return invalid("people/form.html", form=form, person=None, duplicates=duplicates)
    return render_template("people/form.html", form=form, person=None, duplicates=[])


def _render_person(
    person: Person, membership_form: MembershipForm, *, failed: bool = False
) -> ResponseReturnValue:
    shown = pages.person_page(current_user, person)
    membership_form.organization.choices = organization_choices(_("— choose —"))
    page = render_template(
        "people/detail.html",
        person=person,
        gender=gender_label(person.gender),
        cases=shown.cases,
        memberships=shown.memberships,
        membership_form=membership_form,
    )
    return (page, 422) if failed else page


@bp.get("/people/<public_id>")
@reads_only
def detail(public_id: str) -> ResponseReturnValue:
    """A person: details, the cases the user may see, memberships."""
    person = authz.get_person(public_id, current_user)
    return _render_person(person, MembershipForm(formdata=None))


@bp.route("/people/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id: str) -> ResponseReturnValue:
    """Change a person's details."""
    person = authz.get_person(public_id, current_user, Action.WRITE)
    form = PersonForm(data=PersonForm.data_of(person))
    form.keep_recorded(person)
    if form.validate_on_submit():
        saved = writes.commit(
            lambda: people_service.update_person(actor(), person, form.person_input()), form
        )
        if saved.ok:
            flash(_("Details saved."), "success")
            return redirect(url_for("people.detail", public_id=person.public_id))
    if request.method == "POST":
        return invalid("people/form.html", form=form, person=person)
    return render_template("people/form.html", form=form, person=person)


def _add_membership(person: Person, form: MembershipForm) -> Membership:
    organization = people_service.find_organization(form.organization.data or "")
    return people_service.add_membership(
        actor(),
        person,
        organization,
        form.role.data,
        start=form.start.data,
        end=form.end.data,
        area=form.area.data,
    )


@bp.post("/people/<public_id>/memberships")
def add_membership(public_id: str) -> ResponseReturnValue:
    """Record that the person holds a role in an organization."""
    person = authz.get_person(public_id, current_user, Action.WRITE)
    form = MembershipForm()
    if form.validate():
        added = writes.commit(lambda: _add_membership(person, form), form)
        if added.ok:
            flash(
                naming(
                    _("Membership of %(organization)s added."),
                    organization=added.value.organization.label,
                ),
                "success",
            )
            return redirect(url_for("people.detail", public_id=person.public_id))
    return _render_person(person, form, failed=True)


@bp.post("/memberships/<public_id>/delete")
def delete_membership(public_id: str) -> ResponseReturnValue:
    """Remove a membership recorded in error."""
    membership = authz.get_membership(public_id, current_user)
    person_id = membership.person.public_id
    label = membership.organization.label
    writes.commit(lambda: people_service.remove_membership(actor(), membership))
    flash(naming(_("Membership of %(organization)s removed."), organization=label), "success")
    return redirect(url_for("people.detail", public_id=person_id))
