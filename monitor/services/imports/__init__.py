"""CSV imports: check a whole file, report every problem by row and column, then apply it whole.

:func:`check` reads a file and the register without writing anything and returns either the
problems (row, column, message) or a plan: for each row, a new case, the changes to an existing
one, or nothing. :func:`apply` writes a checked plan through the same services a form uses (so
every change is audited and a status change alerts subscribers exactly as a manual one does);
the caller commits once, so an import goes in whole or not at all. :func:`stage` and
:func:`confirm` keep the file as an :class:`~monitor.models.Import` row between the preview and
the confirmation, and hand large files to a worker.

The parts, in the order a file goes through them:

- :mod:`.reading`: decode the file, number its records, check its header;
- :mod:`.checking`: check the rows and match them to existing cases, into a :class:`Report`
  (:mod:`.report`), using :mod:`.changes` to say what each row would change;
- :mod:`.applying`: write a clean report through the services, and fingerprint its plan;
- :mod:`.jobs`: the import kept as a row: stage, confirm, lock, run, claim, fail, progress,
  and the sweep that re-queues lost ones.

The file format is described in :mod:`monitor.services.csv_format`. A Popolo file
(EveryPolitician's ``ep-popolo-v1.0.json``) goes through :mod:`.popolo_reading`,
:mod:`.popolo_checking` and :mod:`.popolo_applying` instead, kept and confirmed the same way;
:mod:`.matching` decides, for both formats, who in the register each incoming person is.
"""

from __future__ import annotations

from monitor.services.imports.applying import apply, plan_digest
from monitor.services.imports.applying import decision_errors as csv_decision_errors
from monitor.services.imports.applying import same_person_problems as csv_same_person_problems
from monitor.services.imports.checking import check
from monitor.services.imports.jobs import (
    IMPORT_LOCK_KEY,
    IMPORT_STATE_LABELS,
    claim,
    confirm,
    decision_errors_for,
    fail,
    import_language,
    is_popolo,
    lock_register,
    own_imports,
    popolo_decision_errors,
    progress_writer,
    requeue_stale,
    run,
    stage,
    stage_popolo,
)
from monitor.services.imports.matching import KEEP_APART, accept_matches
from monitor.services.imports.matching import STATUS_LABELS as MATCH_LABELS
from monitor.services.imports.popolo_applying import (
    apply_popolo,
    decision_errors,
    same_person_problems,
)
from monitor.services.imports.popolo_checking import PopoloReport, check_popolo
from monitor.services.imports.reading import FileTooLarge
from monitor.services.imports.report import MAX_REPORTED_PROBLEMS, ChargeRow, Problem, Report, Row

__all__ = [
    "IMPORT_LOCK_KEY",
    "IMPORT_STATE_LABELS",
    "KEEP_APART",
    "MATCH_LABELS",
    "MAX_REPORTED_PROBLEMS",
    "ChargeRow",
    "FileTooLarge",
    "PopoloReport",
    "Problem",
    "Report",
    "Row",
    "accept_matches",
    "apply",
    "apply_popolo",
    "check",
    "check_popolo",
    "claim",
    "confirm",
    "csv_decision_errors",
    "csv_same_person_problems",
    "decision_errors",
    "decision_errors_for",
    "fail",
    "import_language",
    "is_popolo",
    "lock_register",
    "own_imports",
    "plan_digest",
    "popolo_decision_errors",
    "progress_writer",
    "requeue_stale",
    "run",
    "same_person_problems",
    "stage",
    "stage_popolo",
]
