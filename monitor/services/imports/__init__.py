"""CSV imports (being split into a package: for now the one module moved as it was)."""

from __future__ import annotations

from monitor.services.imports.checking import (
    APPLY_TASK,
    IMPORT_LOCK_KEY,
    MAX_REPORTED_PROBLEMS,
    ChargeRow,
    FileTooLarge,
    Problem,
    Report,
    Row,
    apply,
    check,
    claim,
    confirm,
    fail,
    lock_register,
    own_imports,
    plan_digest,
    progress_writer,
    requeue_stale,
    run,
    stage,
)

__all__ = [
    "APPLY_TASK",
    "IMPORT_LOCK_KEY",
    "MAX_REPORTED_PROBLEMS",
    "ChargeRow",
    "FileTooLarge",
    "Problem",
    "Report",
    "Row",
    "apply",
    "check",
    "claim",
    "confirm",
    "fail",
    "lock_register",
    "own_imports",
    "plan_digest",
    "progress_writer",
    "requeue_stale",
    "run",
    "stage",
]
