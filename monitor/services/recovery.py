"""Recovery after a crash: the claims of dead workers handed back and their work queued again.

A worker killed mid-task (SIGKILL, out of memory, a lost machine) leaves its claims behind:
leased alert deliveries, a dossier in ``rendering``, an import ``running``. Each claim names its
claimant (:mod:`monitor.services.claimants`); ``workers.recovery.recover`` — run when a worker
starts and by beat every minute — reads the claimants (:func:`holders`), asks which are dead
(:func:`claimants.gone`, with a census of the live workers), and calls :func:`release`, which
queues their work again after the caller's commit.

Exactly once still holds: a dead process writes nothing more, and each release is conditional
on the dead claimant still holding the claim. Alerts: every message a dead sender marked sent
stays sent; the one message it had in flight (accepted by the server, its "sent" mark not yet
written) is sent again, so a subscriber may get that one message twice — at most one per
sending process killed. Dossiers: the result is stored once (the attempt number fences it).
Imports: applying is one transaction, so the dead claimant wrote nothing; it is applied once.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor import jobs
from monitor.config import Settings
from monitor.services import alert_claims, alerts
from monitor.services.dossiers import sweeps as dossier_sweeps
from monitor.services.imports import jobs as import_jobs


@dataclass(frozen=True)
class Released:
    """What one recovery handed back, by kind of work, and what it sent again besides."""

    deliveries: int = 0
    digests: int = 0
    dossiers: int = 0
    dossiers_failed: int = 0
    imports: int = 0
    # Unclaimed work sent again: a dead worker may have taken its message without claiming it.
    resent: int = 0


def holders() -> set[str]:
    """Every claimant holding a claim right now: lease, render or import."""
    return alert_claims.holders() | dossier_sweeps.holders() | import_jobs.holders()


def release(gone: set[str], settings: Settings) -> Released:
    """Hand back the claims of the dead claimants ``gone``; their work is queued after commit.

    A worker killed mid-task may also have taken messages it had not yet acted on (prefetched,
    or just received): they are lost with it until the broker's visibility timeout. So once a
    dead claimant is found, the work waiting unclaimed is sent again too — deliveries due,
    dossiers and imports queued. A second message for the same work finds it claimed (or done)
    and does nothing.
    """
    if not gone:
        return Released()
    waiting = set(alert_claims.unclaimed_due(alerts.SWEEP_LIMIT))
    resent = len(waiting) + len(dossier_sweeps.resend_queued()) + len(import_jobs.resend_queued())
    deliveries = alert_claims.release_held_by(gone)
    alerts.queue_sends(sorted(waiting | set(deliveries.immediate)), settings)
    for subscription_id, cutoff in deliveries.digests.items():
        jobs.after_commit(jobs.TaskName.ALERTS_SEND_DIGEST, subscription_id, cutoff.isoformat())
    dossiers = dossier_sweeps.requeue_orphans(gone, settings)
    imported = import_jobs.requeue_orphans(gone)
    return Released(
        deliveries=len(deliveries.immediate),
        digests=len(deliveries.digests),
        dossiers=len(dossiers.requeued),
        dossiers_failed=len(dossiers.given_up),
        imports=len(imported),
        resent=resent,
    )
