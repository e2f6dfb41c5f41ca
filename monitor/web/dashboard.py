"""The dashboard: where everyone is, by status, country and organization, and what changed."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from monitor import authz
from monitor.presentation import status_chart
from monitor.reads import reads_only
from monitor.services import audit, queries
from monitor.web.helpers import login_required_blueprint

bp = login_required_blueprint("dashboard", __name__)


@bp.get("/")
@reads_only
def index() -> ResponseReturnValue:
    """Counts by custody status overall, per country, per organization; latest changes."""
    counts = queries.status_counts(current_user)
    return render_template(
        "dashboard.html",
        counts=counts,
        chart=status_chart(counts, _("Cases by custody status")),
        by_country=queries.counts_by_country(current_user),
        by_organization=[
            (org, org_counts)
            for org, org_counts in queries.counts_by_organization(current_user)
            if org_counts.total
        ],
        latest=queries.latest_changes(current_user, 10),
        # Admins see the audit chain's head, to record outside the server.
        checkpoint=audit.checkpoint() if authz.can(current_user, authz.Action.ADMIN) else None,
    )
