"""Organizations: the list, an organization's members and their status, create and edit."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from monitor import authz
from monitor.authz import Action
from monitor.domain import StatusCounts
from monitor.models import Organization
from monitor.presentation import STATUS_ORDER, status_chart
from monitor.presentation.translation import format_number
from monitor.presentation.wording import (
    ORGANIZATION_KIND_LABELS,
    STATUS_LABELS,
    comma_list,
    vocabulary_text,
)
from monitor.reads import reads_only
from monitor.services import people as people_service
from monitor.services import queries
from monitor.services.validation import page_number
from monitor.web import writes
from monitor.web.forms.people import OrganizationForm
from monitor.web.helpers import actor, invalid, login_required_blueprint
from monitor.web.people import naming

bp = login_required_blueprint("organizations", __name__)
# An organization may have tens of thousands of members: its page lists them a page at a time.
MEMBERS_PER_PAGE = 50


def summary_line(org: Organization, counts: StatusCounts, members: int) -> str:
    """``55 seats · 55 members known · 3 cases: 1 jailed, 1 fled, 1 at liberty`` (zero counts
    left out) in the page's language: members and cases apart, since a member needs no case."""
    parts = []
    if org.seats is not None:
        parts.append(
            ngettext("%(count)s seat", "%(count)s seats", org.seats, count=format_number(org.seats))
        )
    parts.append(
        ngettext(
            "%(count)s member known",
            "%(count)s members known",
            members,
            count=format_number(members),
        )
    )
    statuses = [
        _(
            "%(count)s %(status)s",
            count=format_number(counts.counts[s.value]),
            status=STATUS_LABELS[s],
        )
        for s in STATUS_ORDER
        if counts.counts.get(s.value)
    ]
    cases = ngettext(
        "%(count)s case", "%(count)s cases", counts.total, count=format_number(counts.total)
    )
    parts.append(
        _("%(cases)s: %(statuses)s", cases=cases, statuses=comma_list(statuses))
        if statuses
        else cases
    )
    return " · ".join(parts)


def kind_label(org: Organization) -> str:
    """The organization's kind in the page's language (``political party``, ``parti politique``)."""
    return vocabulary_text(ORGANIZATION_KIND_LABELS, org.kind) or ""


@bp.get("/organizations")
@reads_only
def index() -> ResponseReturnValue:
    """Every organization with the custody status of its members' visible cases."""
    rows = queries.counts_by_organization(current_user)
    members = people_service.member_counts(current_user)
    return render_template(
        "organizations/list.html",
        rows=[
            (org, kind_label(org), summary_line(org, counts, members.get(org.id, 0)))
            for org, counts in rows
        ],
    )


@bp.route("/organizations/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Add an organization."""
    authz.require(current_user, Action.WRITE)
    form = OrganizationForm()
    if form.validate_on_submit():
        created = writes.commit(
            lambda: people_service.create_organization(actor(), form.organization_input()), form
        )
        if created.ok:
            org = created.value
            flash(naming(_("%(name)s added."), name=org.name), "success")
            return redirect(url_for("organizations.detail", public_id=org.public_id))
    if request.method == "POST":
        return invalid("organizations/form.html", form=form, org=None)
    return render_template("organizations/form.html", form=form, org=None)


@bp.get("/organizations/<public_id>")
@reads_only
def detail(public_id: str) -> ResponseReturnValue:
    """A page of members (by name) with role and the current status of their visible cases;
    the summary and chart count every member's visible cases."""
    org = authz.get_organization(public_id, current_user)
    errors: dict[str, str] = {}
    page = page_number(request.args.get("page"), errors)
    if errors:
        page = 1
    members = queries.organization_members_page(current_user, org, page, MEMBERS_PER_PAGE)
    if page > 1 and not members.rows:
        # Past the last page: the last page (as the case list does).
        last = queries.organization_member_pages(current_user, org, MEMBERS_PER_PAGE)
        return redirect(url_for("organizations.detail", public_id=public_id, page=last))
    counts = queries.organization_status_counts(current_user, org)
    return render_template(
        "organizations/detail.html",
        org=org,
        kind=kind_label(org),
        members=members.rows,
        page=members.page,
        more=members.more,
        summary=summary_line(
            org, counts, people_service.member_counts(current_user, org).get(org.id, 0)
        ),
        chart=status_chart(
            counts, _("Cases of %(organization)s members by custody status", organization=org.label)
        ),
    )


@bp.route("/organizations/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id: str) -> ResponseReturnValue:
    """Change an organization's details."""
    org = authz.get_organization(public_id, current_user, Action.WRITE)
    form = OrganizationForm(data=OrganizationForm.data_of(org))
    if (
        form.validate_on_submit()
        and writes.commit(
            lambda: people_service.update_organization(actor(), org, form.organization_input()),
            form,
        ).ok
    ):
        flash(_("Details saved."), "success")
        return redirect(url_for("organizations.detail", public_id=org.public_id))
    if request.method == "POST":
        return invalid("organizations/form.html", form=form, org=org)
    return render_template("organizations/form.html", form=form, org=org)
