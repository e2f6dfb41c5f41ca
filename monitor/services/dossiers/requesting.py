"""Asking for a dossier and downloading it: validation, the queued row, the audited download."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from monitor import authz, jobs
from monitor.config import Settings
from monitor.domain import Confidentiality
from monitor.extensions import db
from monitor.models import Dossier, User
from monitor.models.dossiers import DossierKind, DossierState
from monitor.presentation.translation import gettext, ngettext, using_language
from monitor.services import ValidationError, audit, queries
from monitor.services.cases import find_case
from monitor.services.dossiers import scope
from monitor.services.people import find_organization

# A render that fails this many times (a worker killed mid-render each time) is given up.
MAX_ATTEMPTS = 3
# Dossiers one person may have waiting or rendering at once; the rest wait their turn.
MAX_ACTIVE_PER_USER = 5
ACTIVE = (DossierState.QUEUED.value, DossierState.RENDERING.value)
# The case list's filters a selection dossier keeps (paging is not part of a selection).
FILTER_KEYS = ("status", "country", "organization", "confidentiality", "offence", "q", "sort")


class NotReady(Exception):
    """The dossier has no PDF to serve (yet, or ever: it failed)."""


class TooManyActive(ValidationError):
    """A valid request from someone who already has :data:`MAX_ACTIVE_PER_USER` dossiers being
    prepared: nothing is wrong with it, it has to wait (the API answers 429, not 422)."""


@dataclass
class DossierRequest:
    """What a button or the API asks for."""

    kind: str
    audience: str = Confidentiality.PUBLIC.value
    case_id: str | None = None
    organization_id: str | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    # The language the PDF is written in; None: the requester's (else the register's first).
    language: str | None = None


def _audience(user: User, value: str, errors: dict[str, str]) -> Confidentiality | None:
    try:
        level = Confidentiality(value)
    except ValueError:
        errors["audience"] = "must be one of: public, restricted, confidential"
        return None
    if level.value not in authz.visible_levels(user):
        errors["audience"] = f"{level.value} is above your clearance ({user.clearance})"
        return None
    return level


def _case_scope(user: User, data: DossierRequest, level: Confidentiality | None) -> Any:
    case = find_case(user, data.case_id or "", "case_id")  # missing or hidden: the same answer
    if level is not None and case.confidentiality not in level.levels_visible():
        raise ValidationError(
            {"audience": f"this case is {case.confidentiality}: choose that audience or higher"}
        )
    name = case.person.name
    return (
        {"case_id": case.public_id},
        lambda: gettext("%(name)s — case dossier", name=name),
        case.public_id,
    )


def _organization_scope(data: DossierRequest) -> Any:
    org = find_organization(data.organization_id or "", "organization_id")
    label = org.label
    return (
        {"organization_id": org.public_id},
        lambda: gettext("%(name)s — organization dossier", name=label),
        None,
    )


def _selection_scope(
    user: User, data: DossierRequest, level: Confidentiality | None, settings: Settings
) -> Any:
    raw = {k: data.filters.get(k) for k in FILTER_KEYS if data.filters.get(k) not in (None, "")}
    chosen = queries.CaseFilter.from_args(raw)
    if chosen.errors:
        raise ValidationError({f"filters.{k}": v for k, v in chosen.errors.items()})
    if level is None:
        return None, lambda: "", None
    n = scope.count_selection(user, chosen, authz.audience_levels(user, level))
    if n == 0:
        raise ValidationError({"filters": "no case matches these filters at this audience"})
    if n > settings.dossier_max_cases:
        raise ValidationError(
            {"filters": f"{n} cases match; a dossier holds at most {settings.dossier_max_cases}"}
        )
    kept = chosen.as_args(page=None)
    return (
        {"filters": kept},
        lambda: ngettext(
            "Selection of %(num)s case — dossier", "Selection of %(num)s cases — dossier", n
        ),
        None,
    )


def request_dossier(user: User, data: DossierRequest, settings: Settings) -> Dossier:
    """Validate the request, add a queued dossier and queue its render after commit."""
    authz.require(user, authz.Action.READ)
    errors: dict[str, str] = {}
    level = _audience(user, data.audience, errors)
    language = data.language or user.language or settings.languages[0]
    if language not in settings.languages:
        errors["language"] = "must be one of: " + ", ".join(settings.languages)
    result: Any = None
    try:
        kind = DossierKind(data.kind)
    except ValueError:
        errors["kind"] = "must be one of: case, organization, selection"
    else:
        try:
            if kind is DossierKind.CASE:
                result = _case_scope(user, data, level)
            elif kind is DossierKind.ORGANIZATION:
                result = _organization_scope(data)
            else:
                result = _selection_scope(user, data, level, settings)
        except ValidationError as exc:
            errors.update(exc.errors)
    active = db.session.scalar(
        select(func.count())
        .select_from(Dossier)
        .where(Dossier.requested_by_id == user.id, Dossier.state.in_(ACTIVE))
    )
    if (active or 0) >= MAX_ACTIVE_PER_USER:
        errors["dossier"] = (
            f"you have {active} dossiers being prepared; wait for one to finish first"
        )
    if set(errors) == {"dossier"}:
        raise TooManyActive(errors)
    if errors:
        raise ValidationError(errors)
    assert level is not None  # noqa: S101 - an invalid audience raised above
    scope_data, title_in, case_ref = result
    # Titled in the dossier's language, as the worker's PDF will be, not the page's.
    with using_language(language):
        title = title_in()
    dossier = Dossier(
        requested_by=user,
        kind=kind.value,
        scope=scope_data,
        title=title,
        audience=level.value,
        language=language,
        state=DossierState.QUEUED.value,
        progress=0,
    )
    db.session.add(dossier)
    db.session.flush()
    audit.record(
        user,
        "dossier.request",
        "dossier",
        dossier.public_id,
        after={
            "kind": kind.value,
            "scope": scope_data,
            "audience": level.value,
            "language": language,
        },
        case_ref=case_ref,
    )
    jobs.after_commit(jobs.TaskName.DOSSIERS_RENDER, dossier.public_id)
    return dossier


def case_ref(dossier: Dossier) -> str | None:
    """The case a one-case dossier belongs to, for the case page's audit history."""
    if dossier.kind == DossierKind.CASE.value:
        return str(dossier.scope.get("case_id") or "") or None
    return None


def filename(dossier: Dossier) -> str:
    """``dossier-cnrp-organization-dossier-<id>.pdf`` (ASCII only, safe in any header)."""
    slug = re.sub(r"[^a-z0-9]+", "-", dossier.title.lower()).strip("-")[:60]
    return f"dossier-{slug + '-' if slug else ''}{dossier.public_id}.pdf"


def repr_digest(sha256: str | None) -> str:
    """The PDF's SHA-256 as an RFC 9530 ``Repr-Digest`` header value."""
    return "sha-256=:" + base64.b64encode(bytes.fromhex(sha256 or "")).decode() + ":"


def download(user: User, dossier: Dossier) -> bytes:
    """The PDF of a ready dossier (permission already checked); audited with its SHA-256."""
    if dossier.state != DossierState.READY.value or dossier.pdf is None:
        raise NotReady(dossier.state)
    audit.record(
        user,
        "dossier.download",
        "dossier",
        dossier.public_id,
        after={"sha256": dossier.sha256, "size": dossier.size, "audience": dossier.audience},
        case_ref=case_ref(dossier),
    )
    return dossier.pdf
