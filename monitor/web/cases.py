"""The case list, opening a case, the case page and editing a case."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

import pycountry
from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from monitor import authz
from monitor.authz import Action
from monitor.extensions import db
from monitor.models import Case, Charge, Membership, Organization, Person, StatusEvent
from monitor.reads import reads_only
from monitor.services import ValidationError, audit, column_rows, queries
from monitor.services import cases as case_service
from monitor.services import people as people_service
from monitor.web.forms.cases import CaseForm, NewCaseForm
from monitor.web.helpers import actor, apply_errors, invalid, login_required_blueprint

bp = login_required_blueprint("cases", __name__)

CitingT = TypeVar("CitingT", StatusEvent, Charge)

SORT_LABELS = {
    "name": "Name (A–Z)",
    "-name": "Name (Z–A)",
    "since": "Status since (oldest first)",
    "-since": "Status since (newest first)",
    "status": "Custody status",
    "country": "Country",
    "-updated": "Recently updated",
}
# The person select is a convenience; a person's page links here with ?person=<id> for the rest.
PERSON_CHOICES_LIMIT = 500
NEW_PERSON_ERRORS = {
    "name": "person_name",
    "name_native": "person_name_native",
    "aliases": "person_aliases",
}


@cache
def _country_options() -> str:
    # ~250 options: rendered once per process instead of on every page view of the list.
    countries = sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1])
    return "".join(
        f'<option value="{escape(code)}">{escape(name)}</option>' for code, name in countries
    )


def country_options(selected: str | None) -> Markup:
    """``<option>`` elements for every ISO 3166-1 country by name, ``selected`` marked."""
    html = _country_options()
    if selected and len(selected) == 2 and selected.isalpha():
        code = selected.upper()
        html = html.replace(f'<option value="{code}">', f'<option value="{code}" selected>', 1)
    return Markup(html)  # noqa: S704 - built from escaped library data above


# Built once: the case list shows this select on every page view.
_ORGANIZATION_CHOICES = select(
    Organization.public_id, Organization.name, Organization.short_name
).order_by(Organization.name)


def organization_choices(blank: str) -> list[tuple[str, str]]:
    """Every organization as ``(public id, label)``, with a blank option first."""
    # Three columns, not ORM objects.
    orgs = column_rows(_ORGANIZATION_CHOICES)
    return [("", blank)] + [
        (public_id, f"{name} ({short_name})" if short_name else name)
        for public_id, name, short_name in orgs
    ]


def _case_url_prefix() -> str:
    """``/cases/`` as routed: each list row appends its quoted public id."""
    marker = "0"
    url = url_for("cases.detail", public_id=marker)
    return url[: -len(marker)]


# Past this many matches the list says "more than 10,000" instead of counting every row.
LIST_COUNT_LIMIT = 10_000


@bp.get("/cases")
@reads_only
def index() -> ResponseReturnValue:
    """Filtered, searched, sorted and paged list of the cases the user may see."""
    settings = current_app.config["SETTINGS"]
    filters = queries.CaseFilter.from_args(request.args, per_page=settings.page_size)
    page = queries.list_case_rows(current_user, filters, count_limit=LIST_COUNT_LIMIT)
    return render_template(
        "cases/list.html",
        filters=filters,
        page=page,
        # One url_for per page instead of one per row (each costs tens of microseconds).
        case_url_prefix=_case_url_prefix(),
        organizations=organization_choices("any organization"),
        country_options=country_options(filters.country),
        levels=current_user.level.levels_visible(),
        sorts=SORT_LABELS,
    )


def _visible_person(public_id: str) -> Person | None:
    return db.session.scalars(
        select(Person).where(Person.public_id == public_id, authz.person_visible(current_user))
    ).first()


def _person_choices(selected: str | None) -> list[tuple[str, str]]:
    people = list(
        db.session.scalars(queries.visible_people(current_user).limit(PERSON_CHOICES_LIMIT))
    )
    if selected and all(p.public_id != selected for p in people):
        extra = _visible_person(selected)
        if extra is not None:
            people.insert(0, extra)
    return [("", "— a new person (fill in below) —")] + [
        (p.public_id, f"{p.name} — {p.name_native}" if p.name_native else p.name) for p in people
    ]


def _open_case(form: NewCaseForm) -> Case:
    """Person (existing or new), case, first status and membership: one transaction."""
    if form.person.data:
        person = _visible_person(form.person.data)
        if person is None:
            raise ValidationError({"person": "choose a person from the list"})
    else:
        person = people_service.create_person(actor(), form.person_input())
    organization = None
    if form.organization.data:
        organization = db.session.scalars(
            select(Organization).where(Organization.public_id == form.organization.data)
        ).first()
        if organization is None:
            raise ValidationError({"organization": "choose an organization from the list"})
    case = case_service.create_case(actor(), person, form.case_input(), form.status_input())
    role = (form.role.data or "").strip() or "member"
    if organization is not None and not any(
        m.organization_id == organization.id and m.role == role for m in person.memberships
    ):
        people_service.add_membership(actor(), person, organization, role)
    return case


@bp.route("/cases/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Open a case for an existing person or one entered inline."""
    authz.require(current_user, Action.WRITE)
    form = NewCaseForm()
    form.limit_levels(current_user)
    if request.method == "GET" and request.args.get("person"):
        form.person.data = request.args["person"]
    form.person.choices = _person_choices(form.person.data)
    form.organization.choices = organization_choices("— none —")
    if form.validate_on_submit():
        try:
            case = _open_case(form)
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors, NEW_PERSON_ERRORS)
        else:
            db.session.commit()
            flash(f"Case opened for {case.person.name}.", "success")
            return redirect(url_for("cases.detail", public_id=case.public_id))
    if request.method == "POST":
        return invalid("cases/new.html", form=form)
    return render_template("cases/new.html", form=form)


def _with_sources(model: type[CitingT], *order: InstrumentedAttribute[Any]) -> Select[CitingT]:
    """A case's (``bindparam("case_id")``) events or charges in ``order``, each with its sources
    in the same query. Built once, at import: the case page runs both on every view."""
    return (
        select(model)
        .where(model.case_id == bindparam("case_id"))
        .options(joinedload(model.sources))
        .order_by(*order)
    )


# Joined eager loads: the case with its person and their memberships in one query, then one
# each for the timeline and the charges with their sources (a select-in load costs another
# round trip).
_CASE_PAGE = authz.CaseQuery(
    joinedload(Case.person).joinedload(Person.memberships).joinedload(Membership.organization)
)
_EVENTS = _with_sources(StatusEvent, StatusEvent.occurred_on, StatusEvent.id)
_CHARGES = _with_sources(Charge, Charge.id)


@bp.get("/cases/<public_id>")
@reads_only
def detail(public_id: str) -> ResponseReturnValue:
    """The case: person, status, timeline, charges, memberships and audit history."""
    case = authz.get_case(public_id, current_user, query=_CASE_PAGE)
    person = case.person
    events = db.session.scalars(_EVENTS, {"case_id": case.id}).unique().all()
    charges = db.session.scalars(_CHARGES, {"case_id": case.id}).unique().all()
    return render_template(
        "cases/detail.html",
        case=case,
        person=person,
        events=events,
        charges=charges,
        # Ordered by id (the relationship's order_by).
        memberships=person.memberships,
        history=audit.history(case.public_id),
    )


@bp.route("/cases/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id: str) -> ResponseReturnValue:
    """Change a case's title, country, summary, confidentiality, tags and dates."""
    case = authz.get_case(public_id, current_user, Action.WRITE)
    form = CaseForm(data=CaseForm.data_of(case))
    form.limit_levels(current_user)
    if form.validate_on_submit():
        try:
            case_service.update_case(actor(), case, form.case_input())
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("Case updated.", "success")
            return redirect(url_for("cases.detail", public_id=case.public_id))
    if request.method == "POST":
        return invalid("cases/edit.html", form=form, case=case)
    return render_template("cases/edit.html", form=form, case=case)
