"""The case list, opening a case, the case page and editing a case."""

from __future__ import annotations

from functools import cache

import pycountry
from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from monitor import authz
from monitor.authz import Action
from monitor.models import Case
from monitor.presentation import country_name
from monitor.presentation.headline import stale_title
from monitor.presentation.translation import current_language, using_language
from monitor.reads import reads_only
from monitor.services import cases as case_service
from monitor.services import pages, queries
from monitor.services import people as people_service
from monitor.web import writes
from monitor.web.forms.cases import CaseForm, NewCaseForm
from monitor.web.helpers import actor, invalid, login_required_blueprint

bp = login_required_blueprint("cases", __name__)

SORT_LABELS = {
    "name": _l("Name (A–Z)"),
    "-name": _l("Name (Z–A)"),
    "since": _l("Status since (oldest first)"),
    "-since": _l("Status since (newest first)"),
    "status": _l("Custody status"),
    "country": _l("Country"),
    "-updated": _l("Recently updated"),
}
# The person select is a convenience; a person's page links here with ?person=<id> for the rest.
PERSON_CHOICES_LIMIT = 500
# The open-case service names a new person's fields ``person.<field>``; the form's differ.
NEW_CASE_FIELDS = {
    "person.name": "person_name",
    "person.name_native": "person_name_native",
    "person.aliases": "person_aliases",
}


@cache
def _country_options(language: str) -> str:
    # ~250 options: rendered once per process and language instead of on every page view.
    with using_language(language):
        named = [(c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries]
    countries = sorted(named, key=lambda c: c[1].casefold())
    return "".join(
        f'<option value="{escape(code)}">{escape(name)}</option>' for code, name in countries
    )


def country_options(selected: str | None) -> Markup:
    """``<option>`` elements for every ISO 3166-1 country by its name in the page's language,
    ``selected`` marked."""
    html = _country_options(current_language())
    if selected and len(selected) == 2 and selected.isalpha():
        code = selected.upper()
        html = html.replace(f'<option value="{code}">', f'<option value="{code}" selected>', 1)
    return Markup(html)  # noqa: S704 - built from escaped library data above


def organization_choices(blank: str) -> list[tuple[str, str]]:
    """Every organization as ``(public id, label)``, with a blank option first."""
    return [("", blank)] + [
        (public_id, f"{name} ({short_name})" if short_name else name)
        for public_id, name, short_name in pages.organization_names()
    ]


def _case_url_prefix() -> str:
    """``/cases/`` as routed: each list row appends its quoted public id."""
    marker = "0"
    url = url_for("cases.detail", public_id=marker)
    return url[: -len(marker)]


# Filters the count rows keep (status, country, level, organization) are counted exactly from
# them. The others (an offence, a name) are counted case by case: past this many matches the
# list says "more than 1,000" rather than reading a third of a million rows for a number.
LIST_COUNT_LIMIT = 1_000
# Pages up to this one are linked by number (read by offset); further pages by keyset, after
# the last case shown (their cost does not grow with their depth).
OFFSET_PAGES = 20


@bp.get("/cases")
@reads_only
def index() -> ResponseReturnValue:
    """Filtered, searched, sorted and paged list of the cases the user may see."""
    settings = current_app.config["SETTINGS"]
    filters = queries.CaseFilter.from_args(request.args, per_page=settings.page_size)
    page = queries.list_case_rows(current_user, filters, count_limit=LIST_COUNT_LIMIT)
    if filters.cursor and not page.items:
        # After (or before) a case that is gone or hidden, or past the end: the first page.
        return redirect(url_for("cases.index", **filters.as_args(page=None)))
    if filters.page > 1 and not page.items:
        # Past the last page (a stale link, an edited address): the last page instead.
        last = page.pages if page.pages > 1 else None
        return redirect(url_for("cases.index", **filters.as_args(page=last)))
    # Refused arguments are named on the page, which lists the cases without them: a 422.
    status = 422 if filters.errors else 200
    return render_template(
        "cases/list.html",
        filters=filters,
        page=page,
        # One url_for per page instead of one per row (each costs tens of microseconds).
        case_url_prefix=_case_url_prefix(),
        organizations=organization_choices(_("any organization")),
        country_options=country_options(filters.country),
        levels=current_user.level.levels_visible(),
        sorts=SORT_LABELS,
        offset_pages=OFFSET_PAGES,
    ), status


def _person_choices(selected: str | None) -> list[tuple[str, str]]:
    people = pages.people_to_choose(current_user, PERSON_CHOICES_LIMIT, selected)
    return [("", _("— a new person (fill in below) —"))] + [
        (p.public_id, f"{p.name} — {p.name_native}" if p.name_native else p.name) for p in people
    ]


def _open_case(
    form: NewCaseForm, duplicates: list[people_service.LikelyDuplicate] | None = None
) -> Case:
    """The form's choices looked up, then the one open-case use case; a new person who may be
    someone registered is refused (listed in ``duplicates``) unless the form confirms them."""
    try:
        return _opened(form)
    except people_service.PossibleDuplicate as exc:
        if duplicates is not None:
            duplicates.extend(exc.candidates)
        raise


def _opened(form: NewCaseForm) -> Case:
    user = actor()
    person = None
    if form.person.data:
        person = people_service.find_person(user, form.person.data)
    organization = None
    if form.organization.data:
        organization = people_service.find_organization(form.organization.data)
    return case_service.open_case(
        user,
        case_service.Opening(
            case=form.case_input(),
            status=form.status_input(),
            person=person,
            new_person=None if person is not None else form.person_input(),
            organization=organization,
            role=form.role.data,
            unless_duplicate=not form.confirm_new_person.data,
        ),
    )


def _use_registered_person(form: NewCaseForm) -> None:
    """The choice a duplicate warning offers: a registered person instead of the one typed, or
    ``new`` (someone new after all)."""
    chosen = request.form.get("use_person") if request.method == "POST" else None
    if chosen == "new":
        form.confirm_new_person.data = True
    elif chosen:
        form.person.data = chosen
        form.person_name.data = form.person_name_native.data = ""
        form.person_aliases.data = []


@bp.route("/cases/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Open a case for an existing person or one entered inline."""
    authz.require(current_user, Action.WRITE)
    form = NewCaseForm()
    form.limit_levels(current_user)
    if request.method == "GET" and request.args.get("person"):
        form.person.data = request.args["person"]
    _use_registered_person(form)
    form.person.choices = _person_choices(form.person.data)
    form.organization.choices = organization_choices(_("— none —"))
    duplicates: list[people_service.LikelyDuplicate] = []
    if form.validate_on_submit():
        opened = writes.commit(lambda: _open_case(form, duplicates), form, NEW_CASE_FIELDS)
        if opened.ok:
            case = opened.value
            flash(_("Case opened for %(name)s.", name=case.person.name), "success")
            return redirect(url_for("cases.detail", public_id=case.public_id))
    if request.method == "POST":
        return invalid("cases/new.html", form=form, duplicates=duplicates)
    return render_template("cases/new.html", form=form, duplicates=duplicates)


@bp.get("/cases/<public_id>")
@reads_only
def detail(public_id: str) -> ResponseReturnValue:
    """The case: person, status, timeline, charges, memberships and audit history."""
    page = pages.case_page(current_user, public_id)
    return render_template(
        "cases/detail.html",
        case=page.case,
        person=page.person,
        events=page.events,
        charges=page.charges,
        memberships=page.memberships,
        history=page.history,
        stale=stale_title(page.case.title, page.case.status),
    )


@bp.route("/cases/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id: str) -> ResponseReturnValue:
    """Change a case's title, country, summary, confidentiality, tags and dates."""
    case = authz.get_case(public_id, current_user, Action.WRITE)
    form = CaseForm(data=CaseForm.data_of(case))
    form.limit_levels(current_user)
    if form.validate_on_submit():
        updated = writes.commit(
            lambda: case_service.update_case(actor(), case, form.case_input()), form
        )
        if updated.ok:
            flash(_("Case updated."), "success")
            return redirect(url_for("cases.detail", public_id=case.public_id))
    # Warned about the title as typed: the status itself is changed by recording an event.
    stale = stale_title(form.title.data, case.status)
    if request.method == "POST":
        return invalid("cases/edit.html", form=form, case=case, stale=stale)
    return render_template("cases/edit.html", form=form, case=case, stale=stale)
