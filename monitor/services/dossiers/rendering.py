"""The worker's side: claim a queued dossier, snapshot its data, reuse or render, store or fail."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from monitor import authz
from monitor.config import Settings
from monitor.domain import Confidentiality
from monitor.extensions import db
from monitor.models import Dossier
from monitor.models.base import utcnow
from monitor.models.dossiers import DossierKind, DossierState
from monitor.pdf import DossierContent, assemble, content_key
from monitor.presentation.translation import using_language
from monitor.services import Actor, Checkpoint, audit, claimants, commit_now
from monitor.services.dossiers import scope
from monitor.services.dossiers.requesting import ACTIVE, case_ref
from monitor.services.dossiers.scope import ContentError

if TYPE_CHECKING:
    from monitor.pdf.render import RenderedPdf


@dataclass(frozen=True)
class Snapshot:
    """A dossier's data as read at one moment, and the key that identifies its document."""

    content: DossierContent
    taken_at: dt.datetime
    key: str


def claim(public_id: str) -> Dossier | None:
    """Move a queued dossier to ``rendering``; None when another worker has it or it is done."""
    claimed = db.session.execute(
        update(Dossier)
        .where(Dossier.public_id == public_id, Dossier.state == DossierState.QUEUED.value)
        .values(
            state=DossierState.RENDERING.value,
            progress=5,
            started_at=utcnow(),
            attempts=Dossier.attempts + 1,
            error=None,
            claimed_by=claimants.label(),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    return db.session.scalars(select(Dossier).where(Dossier.public_id == public_id)).one()


def _begin_snapshot() -> None:
    # On PostgreSQL every query of the load sees the same committed state; SQLite (the embedded
    # default, one writer at a time) has no such level and reads as it goes.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def take_snapshot(public_id: str, settings: Settings) -> Snapshot:
    """Load a dossier's data in one read snapshot; call it first in a fresh transaction."""
    _begin_snapshot()
    dossier = db.session.scalars(select(Dossier).where(Dossier.public_id == public_id)).one()
    requester = dossier.requested_by
    audience = Confidentiality(dossier.audience)
    if not requester.active or audience.value not in authz.visible_levels(requester):
        raise ContentError("the requester is no longer cleared for this audience")
    taken_at = utcnow()
    by = settings.organization_name  # never the requester (see DossierContent.issued_by)
    spec = dossier.scope or {}
    # Labels and dates are worded as the content is read: in the dossier's language.
    with using_language(dossier.language):
        if dossier.kind == DossierKind.CASE.value:
            content = scope.load_case(requester, str(spec.get("case_id")), audience, by)
        elif dossier.kind == DossierKind.ORGANIZATION.value:
            org_id = str(spec.get("organization_id"))
            content = scope.load_organization(
                requester, org_id, audience, by, settings.dossier_max_cases
            )
        else:
            filters = dict(spec.get("filters") or {})
            content = scope.load_selection(
                requester, filters, audience, by, settings.dossier_max_cases
            )
    content = replace(content, page_size=settings.dossier_page_size, language=dossier.language)
    return Snapshot(content, taken_at, content_key(content))


def set_progress(public_id: str, progress: int) -> None:
    """Record how far a render has come (only while it is still rendering)."""
    db.session.execute(
        update(Dossier)
        .where(Dossier.public_id == public_id, Dossier.state == DossierState.RENDERING.value)
        .values(progress=progress)
        .execution_options(synchronize_session=False)
    )


def reusable(key: str, public_id: str) -> Dossier | None:
    """A ready, unexpired dossier rendered from the same data and template, if any."""
    return db.session.scalars(
        select(Dossier)
        .where(
            Dossier.content_key == key,
            Dossier.state == DossierState.READY.value,
            Dossier.public_id != public_id,
            Dossier.expires_at > utcnow(),
        )
        .order_by(Dossier.finished_at.desc())
        .limit(1)
    ).first()


def store(
    public_id: str,
    attempt: int,
    *,
    pdf: bytes,
    sha256: str,
    pages: int,
    snapshot: Snapshot,
    settings: Settings,
    reused_from: str | None = None,
) -> bool:
    """Keep the PDF and mark the dossier ready; False if a sweep has re-queued it meanwhile."""
    now = utcnow()
    stored = db.session.execute(
        update(Dossier)
        # The attempt number fences off a render the stuck sweep already gave up on.
        .where(
            Dossier.public_id == public_id,
            Dossier.state == DossierState.RENDERING.value,
            Dossier.attempts == attempt,
        )
        .values(
            state=DossierState.READY.value,
            progress=100,
            title=snapshot.content.title[:300],
            pdf=pdf,
            sha256=sha256,
            pages=pages,
            size=len(pdf),
            content_key=snapshot.key,
            snapshot_at=snapshot.taken_at,
            finished_at=now,
            expires_at=now + dt.timedelta(hours=settings.dossier_ttl_hours),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(stored, "rowcount", 0) != 1:
        return False
    dossier = db.session.scalars(select(Dossier).where(Dossier.public_id == public_id)).one()
    audit.record(
        "worker",
        "dossier.ready",
        "dossier",
        public_id,
        after={"sha256": sha256, "pages": pages, "size": len(pdf), "reused_from": reused_from},
        case_ref=case_ref(dossier),
    )
    return True


def release(public_id: str) -> None:
    """Put a dossier this worker could not finish back in the queue (for a retry)."""
    db.session.execute(
        update(Dossier)
        .where(Dossier.public_id == public_id, Dossier.state == DossierState.RENDERING.value)
        .values(state=DossierState.QUEUED.value, progress=0)
        .execution_options(synchronize_session=False)
    )


def fail(public_id: str, reason: str, settings: Settings, actor: Actor = "worker") -> None:
    """Mark an unfinished dossier failed with a reason the requester can read."""
    now = utcnow()
    db.session.execute(
        update(Dossier)
        .where(Dossier.public_id == public_id, Dossier.state.in_(ACTIVE))
        .values(
            state=DossierState.FAILED.value,
            error=reason[:1000],
            finished_at=now,
            expires_at=now + dt.timedelta(hours=settings.dossier_ttl_hours),
        )
        .execution_options(synchronize_session=False)
    )
    audit.record(actor, "dossier.fail", "dossier", public_id, after={"error": reason[:1000]})


def _renderer() -> Callable[[str], RenderedPdf]:
    try:
        from monitor.pdf.render import render
    except OSError as exc:  # WeasyPrint could not load Pango and its friends
        raise ContentError(
            "the PDF renderer cannot start on this machine: install libpango-1.0-0 and "
            f"libpangoft2-1.0-0 (make system-deps) ({exc})"
        ) from exc
    return render


def produce(
    public_id: str, settings: Settings, checkpoint: Callable[[], None] | None = None
) -> str:
    """Render one queued dossier from start to finish; returns its state, or ``skipped``.

    ``checkpoint`` commits (by default at :attr:`Checkpoint.DOSSIER_PROGRESS`), so each step's
    progress is visible to the page polling it, and the read snapshot ends before the long
    render starts.
    """
    if checkpoint is None:
        checkpoint = functools.partial(commit_now, Checkpoint.DOSSIER_PROGRESS)
    dossier = claim(public_id)
    # Read before the commit: touching the expired row afterwards would start the next
    # transaction before the snapshot could choose its isolation level.
    attempt = dossier.attempts if dossier is not None else 0
    checkpoint()
    if dossier is None:
        return "skipped"
    try:
        render = _renderer()
        snapshot = take_snapshot(public_id, settings)
        checkpoint()  # ends the read snapshot; rendering holds no transaction open
        earlier = reusable(snapshot.key, public_id)
        if earlier is not None and earlier.pdf is not None and earlier.sha256:
            done = store(
                public_id,
                attempt,
                pdf=earlier.pdf,
                sha256=earlier.sha256,
                pages=earlier.pages or 0,
                # The reused PDF states its own snapshot time; the data has not changed since.
                snapshot=Snapshot(
                    snapshot.content, earlier.snapshot_at or snapshot.taken_at, snapshot.key
                ),
                settings=settings,
                reused_from=earlier.public_id,
            )
        else:
            html = assemble(snapshot.content, snapshot_at=snapshot.taken_at, generated_at=utcnow())
            set_progress(public_id, 40)  # data read, HTML built: WeasyPrint's turn
            checkpoint()
            pdf = render(html)
            done = store(
                public_id,
                attempt,
                pdf=pdf.data,
                sha256=pdf.sha256,
                pages=pdf.pages,
                snapshot=snapshot,
                settings=settings,
            )
        checkpoint()
    except ContentError as exc:
        db.session.rollback()
        fail(public_id, str(exc), settings)
        checkpoint()
        return DossierState.FAILED.value
    return DossierState.READY.value if done else "superseded"
