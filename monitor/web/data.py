"""Bulk data in the web UI: exports (CSV, JSON, Popolo), the import template, and CSV imports
with a preview step: upload → every problem by row and column, or what will change → confirm.

Exports show what the user is cleared for; imports are for editors and admins, and an import is
visible only to the user who made it (:func:`monitor.authz.get_import`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.utils import secure_filename

from monitor import authz
from monitor.authz import Action
from monitor.models.base import utcnow
from monitor.models.imports import ImportState
from monitor.presentation.translation import format_number
from monitor.presentation.wording import status_label
from monitor.services import ValidationError, csv_format, exports, imports, popolo
from monitor.services.imports import matching
from monitor.web import writes
from monitor.web.helpers import actor, login_required_blueprint

bp = login_required_blueprint("data", __name__)

REFRESH_SECONDS = 2
PREVIEW_ROWS = 200

# What the preview calls a row's action.
ACTION_LABELS = {
    "create": _l("create"),
    "update": _l("update"),
    "unchanged": _l("unchanged"),
}
CHANGE_LABELS = {
    "person": _l("person"),
    "membership": _l("membership"),
    "membership dates or area": _l("membership dates or area"),
    "case": _l("case"),
}

# What a Popolo import adds to a matched person, by field.
FIELD_LABELS = {
    "name_native": _l("name in the original script"),
    "name_native_lang": _l("its language"),
    "aliases": _l("aliases"),
    "gender": _l("gender"),
    "birth_date": _l("birth date"),
    "death_date": _l("death date"),
    "identifiers": _l("identifiers"),
    "links": _l("links"),
}


@bp.app_template_filter("field_text")
def field_text(name: str) -> str:
    """A person's field a Popolo import completes, in the page's language."""
    return str(FIELD_LABELS.get(name, name.replace("_", " ")))


@bp.app_template_filter("reason_text")
def reason_text(reasons: str) -> str:
    """Why someone matched (``same name``), in the page's language."""
    return matching.reason_text(reasons)


@bp.app_template_filter("change_text")
def change_text(change: str) -> str:
    """A change a row makes (``status jailed on 2017-09``), in the page's language."""
    if change in CHANGE_LABELS:
        return str(CHANGE_LABELS[change])
    for prefix, template in (
        ("new charge ", _l("new charge %(offence)s")),
        ("charge ", _l("charge %(offence)s")),
    ):
        if change.startswith(prefix):
            return str(template) % {"offence": change.removeprefix(prefix)}
    if change.startswith("status ") and " on " in change:
        status, _on, date = change.removeprefix("status ").rpartition(" on ")
        said: str = _(
            "status %(status)s on %(date)s", status=status_label(status) or status, date=date
        )
        return said
    return change


def _download(body: Iterator[str] | str, content_type: str, name: str) -> Response:
    response = Response(
        stream_with_context(body) if not isinstance(body, str) else body,
        content_type=content_type,
    )
    stem, _, extension = name.rpartition(".")
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    # The stem may hold an organization's name: only safe ASCII goes into the header.
    filename = secure_filename(f"{stem}-{stamp}.{extension}")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _vocabulary_words(vocabulary: type[StrEnum]) -> list[tuple[str, str]]:
    """A listed column's values as the Data page lists them: the label in the page's language
    and the code."""
    return [(csv_format.screen_label(member), member.value) for member in vocabulary]


# A column's code inside a description ("needs status_source"): a word joined by underscores.
_COLUMN_CODE = re.compile(r"\b([a-z]+(?:_[a-z0-9]+)+)\b")


@bp.app_template_filter("column_codes")
def _column_codes(text: object) -> Markup:
    """``text`` escaped, each column code in it marked up as ``<code>``: the same word in every
    language, which a reader types as shown."""
    pieces = _COLUMN_CODE.split(str(text))  # text, code, text, …, text
    return Markup("").join(
        Markup("<code>{}</code>").format(piece) if odd else escape(piece)
        for odd, piece in ((n % 2 == 1, piece) for n, piece in enumerate(pieces))
    )


@bp.get("/data")
def index() -> ResponseReturnValue:
    """Exports for everyone; the import form and one's own imports for editors."""
    can_import = authz.can(current_user, Action.WRITE)
    mine = imports.own_imports(actor()) if can_import else []
    settings = current_app.config["SETTINGS"]
    return render_template(
        "data/index.html",
        can_import=can_import,
        imports=mine,
        settings=settings,
        columns=csv_format.COLUMNS,
        state_labels=imports.IMPORT_STATE_LABELS,
        vocabulary_words=_vocabulary_words,
    )


@bp.get("/data/cases.csv")
def cases_csv() -> ResponseReturnValue:
    """Every case the user may see (or one organization's members), in the import's columns."""
    organization = None
    if request.args.get("organization"):
        organization = authz.get_organization(request.args["organization"], current_user)
    name = f"cases-{organization.short_name or organization.public_id}" if organization else "cases"
    body = exports.cases_csv(actor(), organization)
    return _download(body, "text/csv; charset=utf-8", f"{name}.csv")


@bp.get("/data/cases.json")
def cases_json() -> ResponseReturnValue:
    """Everything about the cases the user may see, as JSON."""
    return _download(exports.cases_json(actor()), "application/json", "cases.json")


@bp.get("/data/popolo.json")
def popolo_json() -> ResponseReturnValue:
    """People, organizations and memberships in the Popolo standard."""
    document = json.dumps(popolo.popolo_export(actor()), ensure_ascii=False, indent=1)
    return _download(document, "application/json", "popolo.json")


@bp.get("/data/template.csv")
def template() -> ResponseReturnValue:
    """The import template: every column and one example row."""
    return _download(exports.template_csv(), "text/csv; charset=utf-8", "import-template.csv")


@bp.post("/data/imports")
def upload() -> ResponseReturnValue:
    """Check an uploaded CSV file and show the preview (nothing is written yet)."""
    authz.require(current_user, Action.WRITE)
    settings = current_app.config["SETTINGS"]
    too_large = _(
        "The file is larger than the limit of %(limit)s bytes.",
        limit=format_number(settings.import_max_bytes),
    )
    upload = request.files.get("file")  # monitor._upload_limit refuses a larger body with 413
    if upload is None or not upload.filename:
        return _index_with_error(_("Choose a CSV file to upload."), 422)
    try:
        data = upload.read(settings.import_max_bytes + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file: release it now
    filename = upload.filename
    try:
        record, _report = writes.commit(
            lambda: imports.stage(actor(), filename, data, settings)
        ).value
    except imports.FileTooLarge:
        return _index_with_error(too_large, 413)
    return redirect(url_for("data.detail", public_id=record.public_id))


@bp.post("/data/imports/popolo")
def upload_popolo() -> ResponseReturnValue:
    """Check an uploaded Popolo file and show the preview: matched people, probable matches
    to decide, new people (nothing is written yet)."""
    authz.require(current_user, Action.WRITE)
    settings = current_app.config["SETTINGS"]
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index_with_error(_("Choose a Popolo JSON file to upload."), 422)
    try:
        data = upload.read(settings.import_max_bytes + 1)
    finally:
        upload.close()
    filename = upload.filename
    try:
        record, _report = writes.commit(
            lambda: imports.stage_popolo(actor(), filename, data, settings)
        ).value
    except imports.FileTooLarge:
        return _index_with_error(
            _(
                "The file is larger than the limit of %(limit)s bytes.",
                limit=format_number(settings.import_max_bytes),
            ),
            413,
        )
    return redirect(url_for("data.detail", public_id=record.public_id))


def _decisions() -> dict[str, str]:
    """The probable matches decided on the preview: ``decision.<person id>`` radios."""
    return {
        name.removeprefix("decision."): value
        for name, value in request.form.items()
        if name.startswith("decision.") and value
    }


def _index_with_error(message: str, status: int) -> ResponseReturnValue:
    flash(message, "error")
    return index(), status  # type: ignore[return-value]


@bp.get("/data/imports/<public_id>")
def detail(public_id: str) -> ResponseReturnValue:
    """An import's problems, its preview, its progress or its outcome."""
    record = authz.get_import(public_id, current_user)
    if imports.is_popolo(record.content):
        return _popolo_detail(record)
    return _csv_detail(record)


def _csv_detail(
    record: Any, errors: dict[str, str] | None = None, decided: dict[str, str] | None = None
) -> ResponseReturnValue:
    preview = None
    probable: list[imports.Row] = []
    if record.state == ImportState.PREVIEWED.value:
        # The first rows only: the whole file was checked on upload, and is again on confirmation
        # (the whole file when it has probable matches to decide, so each can be decided here).
        whole = bool(record.summary.get("probable"))
        report = imports.check(
            record.content,
            actor(),
            current_app.config["SETTINGS"],
            first=None if whole else PREVIEW_ROWS,
            language=imports.import_language(record),
        )
        preview = report.rows[:PREVIEW_ROWS]
        probable = report.probable()
    active = record.state in {ImportState.QUEUED.value, ImportState.RUNNING.value}
    response = current_app.make_response(
        (
            render_template(
                "data/import.html",
                record=record,
                preview=preview,
                probable=probable,
                errors=errors or {},
                decided=decided or {},
                preview_limit=PREVIEW_ROWS,
                state_labels=imports.IMPORT_STATE_LABELS,
                action_labels=ACTION_LABELS,
                refresh=REFRESH_SECONDS if active else None,
            ),
            422 if errors else 200,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _popolo_detail(
    record: Any, errors: dict[str, str] | None = None, decided: dict[str, str] | None = None
) -> ResponseReturnValue:
    report = None
    if record.state == ImportState.PREVIEWED.value:
        report = imports.check_popolo(record.content, actor(), current_app.config["SETTINGS"])
    active = record.state in {ImportState.QUEUED.value, ImportState.RUNNING.value}
    response = current_app.make_response(
        (
            render_template(
                "data/popolo_import.html",
                record=record,
                report=report,
                state_labels=imports.IMPORT_STATE_LABELS,
                errors=errors or {},
                decided=decided or {},
                refresh=REFRESH_SECONDS if active else None,
            ),
            422 if errors else 200,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/data/imports/<public_id>/confirm")
def confirm(public_id: str) -> ResponseReturnValue:
    """Apply a previewed import: now when small, else by a worker (the page shows progress)."""
    record = authz.get_import(public_id, current_user)
    problems: list[dict[str, Any]] = []
    decisions: dict[str, str] | None = None
    if imports.is_popolo(record.content) and record.state == ImportState.PREVIEWED.value:
        decisions = _decisions()
        settings = current_app.config["SETTINGS"]
        errors = imports.popolo_decision_errors(actor(), record, decisions, settings)
        if errors:
            flash(_("Decide each probable match first: nothing was imported."), "error")
            return _popolo_detail(record, errors, decisions)
    elif record.state == ImportState.PREVIEWED.value:
        decisions = _decisions()
        settings = current_app.config["SETTINGS"]
        errors = imports.decision_errors_for(actor(), record, decisions, settings)
        if errors:
            flash(_("Decide each probable match first: nothing was imported."), "error")
            return _csv_detail(record, errors, decisions)

    def confirm_import() -> None:
        try:
            imports.confirm(actor(), record, current_app.config["SETTINGS"], decisions)
        except ValidationError:
            problems.extend(record.errors)  # the problems found, kept past the rollback
            raise

    confirmed = writes.commit(confirm_import)
    if not confirmed.ok:
        if "import" in confirmed.errors:  # confirmed already: a double click, another tab
            flash(_("This import %(state)s.", state=confirmed.errors["import"]), "warning")
        else:
            # Worded as the worker words it (str of the ValidationError) unless it is the file's.
            reason = confirmed.errors.get("file") or "; ".join(
                f"{field}: {message}" for field, message in confirmed.errors.items()
            )
            imports.fail(public_id, reason, problems)
            flash(_("Nothing was imported: the file no longer checks out."), "error")
        return redirect(url_for("data.detail", public_id=public_id))
    if record.state == ImportState.DONE.value:
        flash(_("Imported."), "success")
    else:
        flash(_("The import is queued; this page follows its progress."), "success")
    return redirect(url_for("data.detail", public_id=public_id))
