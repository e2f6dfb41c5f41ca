"""The audit log: every write appends one hash-chained entry; ``verify`` re-walks the chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Row, bindparam, inspect, select

from monitor.extensions import Base, db
from monitor.models import AuditEntry, AuditHead
from monitor.models.base import utcnow
from monitor.services import Actor, actor_label, column_rows

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def snapshot(entity: Base, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The entity's column values as JSON-ready data, for an entry's before / after."""
    skip = {"id", "search_text", "password_hash", "token_hash", *exclude}
    mapper = inspect(type(entity))
    return {
        column.key: _jsonable(getattr(entity, column.key))
        for column in mapper.column_attrs
        if column.key not in skip and not column.key.endswith("_id")
    }


def _digest(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "case_ref": entry.case_ref,
        "before": entry.before,
        "after": entry.after,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_HEAD_KEY = "monitor.audit.head"


def _head_for_update() -> AuditHead:
    # Locking the single head row serialises appends on PostgreSQL, so the chain stays linear
    # when two requests write at once; SQLite serialises writers anyway. Within one transaction
    # the row stays locked and loaded, so later appends (an import makes thousands) reuse it;
    # a commit or rollback expires it, and the next transaction locks it again.
    cached = db.session.info.get(_HEAD_KEY)
    if cached is not None and cached in db.session and "seq" not in inspect(cached).unloaded:
        return cached  # type: ignore[no-any-return]
    head = db.session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    db.session.info[_HEAD_KEY] = head
    return head


def record(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    case_ref: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain and flush it."""
    head = _head_for_update()
    entry = AuditEntry(
        seq=head.seq + 1,
        at=utcnow(),
        actor=actor_label(actor),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        case_ref=case_ref,
        before=before,
        after=after,
        prev_hash=head.hash,
    )
    entry.hash = _digest(entry)
    head.seq, head.hash = entry.seq, entry.hash
    # Written at the next flush (the service's own, or the commit's), so the entries of one
    # operation go to the database together.
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain."""

    ok: bool
    checked: int
    problem: str | None = None


def verify() -> VerifyResult:
    """Walk the whole chain; report the first entry edited, deleted or out of order."""
    # Stream in batches (the log grows without bound) and close the server-side cursor even
    # when stopping at the first bad entry.
    entries = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    try:
        checked, problem, tip = _walk(entries)
    finally:
        entries.close()
    if problem:
        return VerifyResult(False, checked, problem)
    head = db.session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != tip:
        return VerifyResult(
            False,
            checked,
            f"entry #{checked + 1} and later are missing: the chain head records "
            f"{head_seq} entries but {checked} remain",
        )
    return VerifyResult(True, checked)


def _walk(entries: Iterable[AuditEntry]) -> tuple[int, str | None, str]:
    expected_prev = GENESIS
    checked = 0
    for entry in entries:
        expected_seq = checked + 1
        if entry.seq != expected_seq:
            return checked, f"entry #{expected_seq} is missing (next found is #{entry.seq})", ""
        if entry.prev_hash != expected_prev:
            return checked, f"entry #{entry.seq} does not follow entry #{entry.seq - 1}", ""
        if _digest(entry) != entry.hash:
            return (
                checked,
                f"entry #{entry.seq} ({entry.action} {entry.entity_type} {entry.entity_id}) "
                "was altered: its content no longer matches its hash",
                "",
            )
        expected_prev = entry.hash
        checked += 1
    return checked, None, expected_prev


def history(case_ref: str, limit: int = 200) -> Sequence[Row[*tuple[Any, ...]]]:
    """The audit entries that belong to one case, newest first, as rows of ``at``, ``actor``,
    ``action`` and ``case_ref`` (what the case page lists, without each entry's snapshots)."""
    return column_rows(_HISTORY, {"case_ref": case_ref, "limit": limit})


# Built once: every case page reads it (see column_rows).
_HISTORY = (
    select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.case_ref)
    .where(AuditEntry.case_ref == bindparam("case_ref"))
    .order_by(AuditEntry.seq.desc())
    .limit(bindparam("limit", type_=Integer))
)
