"""PDF dossiers as export jobs kept as rows (aleph's pattern): request, render, serve, expire.

A request validates the scope and audience, adds a ``queued`` row and asks for the render after
commit. :func:`produce` does the work for the worker: it claims the row (``queued`` →
``rendering``, one worker wins), loads the data in one read snapshot, reuses an earlier PDF whose
data and template are unchanged or renders a new one, and stores it with its SHA-256 — or
records why it failed. Beat runs :func:`expire` and :func:`requeue_stuck`. Like every service
these never commit; :func:`produce` takes the caller's ``checkpoint`` (a commit) so progress is
visible while it works.
"""

from __future__ import annotations

from monitor.services.dossiers.rendering import (
    Snapshot,
    claim,
    fail,
    produce,
    release,
    reusable,
    set_progress,
    store,
    take_snapshot,
)
from monitor.services.dossiers.requesting import (
    ACTIVE,
    FILTER_KEYS,
    MAX_ACTIVE_PER_USER,
    MAX_ATTEMPTS,
    DossierRequest,
    NotReady,
    TooManyActive,
    case_ref,
    download,
    filename,
    repr_digest,
    request_dossier,
)
from monitor.services.dossiers.sweeps import SweepResult, expire, requeue_stuck

__all__ = [
    "ACTIVE",
    "FILTER_KEYS",
    "MAX_ACTIVE_PER_USER",
    "MAX_ATTEMPTS",
    "DossierRequest",
    "NotReady",
    "Snapshot",
    "SweepResult",
    "TooManyActive",
    "case_ref",
    "claim",
    "download",
    "expire",
    "fail",
    "filename",
    "produce",
    "release",
    "repr_digest",
    "request_dossier",
    "requeue_stuck",
    "reusable",
    "set_progress",
    "store",
    "take_snapshot",
]
