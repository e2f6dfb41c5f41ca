"""PDF dossiers in the web UI: request (a POST button on the case, organization and list pages),
watch it render, download it, and the list of one's own dossiers.

Who may see a dossier: its requester and admins, and only while cleared for its audience
(:func:`monitor.authz.get_dossier`); anyone else gets the same 404 as for an unknown id.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from monitor import authz
from monitor.models.dossiers import DossierState
from monitor.presentation.translation import current_language
from monitor.services import dossiers, pages
from monitor.services.dossiers.covers import covers
from monitor.web import writes
from monitor.web.helpers import actor, login_required_blueprint, safe_next

bp = login_required_blueprint("dossiers", __name__)

# While the dossier is queued or rendering, static/js/progress.js fetches its page again this often
# and updates it in place (a live region says each new state once); without the script, the
# page's Refresh link does the same. No meta refresh: it reloads the page under a screen reader.
REFRESH_SECONDS = 2
LIST_LIMIT = 100


def _settings() -> Any:
    return current_app.config["SETTINGS"]


@bp.post("/dossiers")
def create() -> ResponseReturnValue:
    """Ask for a dossier of a case, an organization or the case list's current selection."""
    form = request.form
    data = dossiers.DossierRequest(
        kind=form.get("kind", ""),
        audience=form.get("audience", "public"),
        case_id=form.get("case_id") or None,
        organization_id=form.get("organization_id") or None,
        filters={key: form.get(key, "") for key in dossiers.FILTER_KEYS},
        # A "language" field on the request form, else the page's: the requester's language.
        language=form.get("language") or current_language(),
    )
    requested = writes.commit(lambda: dossiers.request_dossier(actor(), data, _settings()))
    if not requested.ok:
        for name, message in requested.errors.items():
            flash(
                _(
                    "No dossier was requested — %(field)s: %(message)s",
                    field=name.replace("_", " "),
                    message=message,
                ),
                "error",
            )
        return redirect(safe_next(form.get("next")))
    dossier = requested.value
    flash(_("Dossier requested. This page follows its progress."), "success")
    return redirect(url_for("dossiers.detail", public_id=dossier.public_id))


@bp.get("/dossiers")
def index() -> ResponseReturnValue:
    """Your dossiers, newest first."""
    mine = pages.own_dossiers(actor(), LIST_LIMIT)
    return render_template("dossiers/list.html", dossiers=mine, covers=covers(actor(), mine))


@bp.get("/dossiers/<public_id>")
def detail(public_id: str) -> ResponseReturnValue:
    """A dossier's progress (the page follows it until it is ready or failed)."""
    dossier = authz.get_dossier(public_id, current_user)
    active = dossier.state in dossiers.ACTIVE
    response = current_app.make_response(
        render_template(
            "dossiers/detail.html",
            dossier=dossier,
            covered=covers(actor(), [dossier])[dossier.public_id],
            refresh=REFRESH_SECONDS if active else None,
            ready=dossier.state == DossierState.READY.value,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/dossiers/<public_id>/pdf")
def download(public_id: str) -> ResponseReturnValue:
    """The PDF itself; permission is checked again and the download audited with its SHA-256."""
    dossier = authz.get_dossier(public_id, current_user)
    try:
        # The download is audited (with the PDF's SHA-256), hence a write.
        pdf = writes.commit(lambda: dossiers.download(actor(), dossier)).value
    except dossiers.NotReady:
        flash(_("This dossier has no PDF to download."), "warning")
        return redirect(url_for("dossiers.detail", public_id=dossier.public_id))
    response = send_file(
        BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=dossiers.filename(dossier),
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Repr-Digest"] = dossiers.repr_digest(dossier.sha256)
    return response
