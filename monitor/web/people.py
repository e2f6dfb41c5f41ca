"""People: the list, a person's page with their cases and memberships, create and edit."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from monitor import authz
from monitor.authz import Action
from monitor.extensions import db
from monitor.models import Case, Membership, Organization, Person
from monitor.reads import reads_only
from monitor.services import ValidationError, queries
from monitor.services import people as people_service
from monitor.web.cases import organization_choices
from monitor.web.forms.people import MembershipForm, PersonForm
from monitor.web.helpers import actor, apply_errors, invalid, login_required_blueprint

bp = login_required_blueprint("people", __name__)
PER_PAGE = 50


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/people")
@reads_only
def index() -> ResponseReturnValue:
    """People the user may see, searchable by name in either script or alias."""
    q = (request.args.get("q") or "").strip()
    page = _page_number()
    query = queries.visible_people(current_user, q or None)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    people = db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    pages = max(1, -(-(total or 0) // PER_PAGE))
    return render_template(
        "people/list.html", people=people, q=q, total=total or 0, page=page, pages=pages
    )


@bp.route("/people/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Add a person."""
    authz.require(current_user, Action.WRITE)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            person = people_service.create_person(actor(), form.person_input())
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"{person.name} added.", "success")
            return redirect(url_for("people.detail", public_id=person.public_id))
    if request.method == "POST":
        return invalid("people/form.html", form=form, person=None)
    return render_template("people/form.html", form=form, person=None)


def _render_person(
    person: Person, membership_form: MembershipForm, *, failed: bool = False
) -> ResponseReturnValue:
    cases = db.session.scalars(
        authz.visible_cases(current_user).where(Case.person_id == person.id).order_by(Case.id)
    ).all()
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.person_id == person.id)
        .options(joinedload(Membership.organization))
        .order_by(Membership.id)
    ).all()
    membership_form.organization.choices = organization_choices("— choose —")
    page = render_template(
        "people/detail.html",
        person=person,
        cases=cases,
        memberships=memberships,
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
    if form.validate_on_submit():
        try:
            people_service.update_person(actor(), person, form.person_input())
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("Details saved.", "success")
            return redirect(url_for("people.detail", public_id=person.public_id))
    if request.method == "POST":
        return invalid("people/form.html", form=form, person=person)
    return render_template("people/form.html", form=form, person=person)


@bp.post("/people/<public_id>/memberships")
def add_membership(public_id: str) -> ResponseReturnValue:
    """Record that the person holds a role in an organization."""
    person = authz.get_person(public_id, current_user, Action.WRITE)
    form = MembershipForm()
    if form.validate():
        try:
            organization = db.session.scalars(
                select(Organization).where(Organization.public_id == form.organization.data)
            ).first()
            if organization is None:
                raise ValidationError({"organization": "choose an organization from the list"})
            people_service.add_membership(
                actor(),
                person,
                organization,
                form.role.data,
                start=form.start.data,
                end=form.end.data,
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"Membership of {organization.label} added.", "success")
            return redirect(url_for("people.detail", public_id=person.public_id))
    return _render_person(person, form, failed=True)


@bp.post("/memberships/<public_id>/delete")
def delete_membership(public_id: str) -> ResponseReturnValue:
    """Remove a membership recorded in error."""
    membership = authz.get_membership(public_id, current_user)
    person_id = membership.person.public_id
    label = membership.organization.label
    people_service.remove_membership(actor(), membership)
    db.session.commit()
    flash(f"Membership of {label} removed.", "success")
    return redirect(url_for("people.detail", public_id=person_id))
