"""Beat sweeps: delete expired dossiers, re-queue stuck renders, re-send lost queue messages.

A render whose worker is known to be dead (:mod:`monitor.services.claimants`) is re-queued at
once by :func:`requeue_orphans`; :func:`requeue_stuck` catches the rest once it has run twice its
time limit.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from monitor import jobs
from monitor.config import Settings
from monitor.extensions import db
from monitor.models import Dossier
from monitor.models.base import utcnow
from monitor.models.dossiers import DossierKind, DossierState
from monitor.services import audit
from monitor.services.dossiers.rendering import fail
from monitor.services.dossiers.requesting import MAX_ATTEMPTS

log = logging.getLogger(__name__)


def expire(now: dt.datetime | None = None) -> int:
    """Delete dossiers past their expiry (ready or failed); each deletion is audited."""
    now = now or utcnow()
    gone = db.session.execute(
        select(Dossier.id, Dossier.public_id, Dossier.sha256, Dossier.kind, Dossier.scope).where(
            Dossier.expires_at.isnot(None), Dossier.expires_at <= now
        )
    ).all()
    for row in gone:
        ref = str(row.scope.get("case_id")) if row.kind == DossierKind.CASE.value else None
        audit.record(
            "beat",
            "dossier.expire",
            "dossier",
            row.public_id,
            after={"sha256": row.sha256},
            case_ref=ref,
        )
    if gone:
        db.session.execute(
            delete(Dossier)
            .where(Dossier.id.in_([row.id for row in gone]))
            .execution_options(synchronize_session=False)
        )
    return len(gone)


@dataclass(frozen=True)
class SweepResult:
    """What :func:`requeue_stuck` did."""

    requeued: list[str]
    given_up: list[str]
    resent: list[str]


def holders() -> set[str]:
    """The claimants rendering a dossier right now."""
    rendering = Dossier.state == DossierState.RENDERING.value
    held = select(Dossier.claimed_by).where(rendering).distinct()
    return {holder for holder in db.session.scalars(held) if holder}


def resend_queued() -> list[str]:
    """Send every queued dossier's render again (a dead worker may have taken the message).

    The claim lets one worker render it; a duplicate message finds nothing to do.
    """
    queued = db.session.scalars(
        select(Dossier.public_id).where(Dossier.state == DossierState.QUEUED.value)
    ).all()
    for public_id in queued:
        jobs.after_commit(jobs.TaskName.DOSSIERS_RENDER, public_id)
    return list(queued)


def requeue_orphans(gone: set[str], settings: Settings) -> SweepResult:
    """Queue again at once the renders whose claimant is dead (fail them after the last try).

    Each is moved back only if that claimant still holds it, so a render another sweep has
    re-queued and a live worker has claimed since is left alone.
    """
    rows = db.session.execute(
        select(Dossier.public_id, Dossier.attempts, Dossier.claimed_by).where(
            Dossier.state == DossierState.RENDERING.value,
            Dossier.claimed_by.in_(sorted(gone)),
        )
    ).all()
    requeued, given_up = [], []
    for public_id, attempts, holder in rows:
        if attempts >= MAX_ATTEMPTS:
            reason = f"gave up after {attempts} attempts: the render never finished"
            fail(public_id, reason, settings, actor="beat")
            given_up.append(public_id)
            continue
        moved = db.session.execute(
            update(Dossier)
            .where(
                Dossier.public_id == public_id,
                Dossier.state == DossierState.RENDERING.value,
                Dossier.claimed_by == holder,
            )
            .values(state=DossierState.QUEUED.value, progress=0)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) == 1:
            jobs.after_commit(jobs.TaskName.DOSSIERS_RENDER, public_id)
            requeued.append(public_id)
    if requeued or given_up:
        log.warning("dossiers of dead workers re-queued %s, given up %s", requeued, given_up)
    return SweepResult(requeued, given_up, [])


def requeue_stuck(settings: Settings, now: dt.datetime | None = None) -> SweepResult:
    """Re-queue renders stuck in ``rendering`` and re-send queued ones the broker may have lost.

    A render is stuck once it has run twice its time limit (its worker died or was killed);
    after :data:`MAX_ATTEMPTS` it is failed instead. A dossier still queued after a few minutes
    is sent again: the claim lets only one worker take it, so a duplicate message is harmless.
    """
    now = now or utcnow()
    stale = now - dt.timedelta(seconds=2 * settings.dossier_render_seconds)
    stuck = db.session.scalars(
        select(Dossier).where(
            Dossier.state == DossierState.RENDERING.value, Dossier.started_at < stale
        )
    ).all()
    requeued, given_up = [], []
    for dossier in stuck:
        if dossier.attempts >= MAX_ATTEMPTS:
            reason = f"gave up after {dossier.attempts} attempts: the render never finished"
            fail(dossier.public_id, reason, settings, actor="beat")
            given_up.append(dossier.public_id)
            continue
        dossier.state, dossier.progress = DossierState.QUEUED.value, 0
        jobs.after_commit(jobs.TaskName.DOSSIERS_RENDER, dossier.public_id)
        requeued.append(dossier.public_id)
    waiting = now - dt.timedelta(minutes=2)
    lost = db.session.scalars(
        select(Dossier.public_id).where(
            Dossier.state == DossierState.QUEUED.value,
            Dossier.created_at < waiting,
            Dossier.public_id.notin_(requeued) if requeued else Dossier.id.isnot(None),
        )
    ).all()
    for public_id in lost:
        jobs.after_commit(jobs.TaskName.DOSSIERS_RENDER, public_id)
    db.session.flush()
    if requeued or given_up:
        log.warning("dossiers re-queued %s, given up %s", requeued, given_up)
    return SweepResult(requeued, given_up, list(lost))
