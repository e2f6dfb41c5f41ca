"""The audit log: every write appends one entry, chained to the one before with HMAC-SHA-256.

Each entry's hash covers its content and the previous entry's hash, keyed with
``MONITOR_AUDIT_KEY``, which is kept out of the database: someone who can write to the database
but does not hold the key can edit an entry but cannot make the chain agree again, as they could
with a plain hash. :func:`verify` re-walks the chain. :func:`checkpoint` names its head (sequence
and hash) for the organization to record outside the server; ``verify(since=…)`` later proves
that nothing up to it was rewritten, which holds even against someone who has the key.
:func:`rekey` chains the log again under the configured key: once after upgrading from plain
SHA-256 chains, and to rotate the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import Integer, Row, bindparam, inspect, select

from monitor.extensions import Base, db
from monitor.models import AuditEntry, AuditHead, User
from monitor.models.base import utcnow
from monitor.presentation import history as history_wording
from monitor.services import Actor, actor_label, add_rows, column_rows

GENESIS = "0" * 64
REKEY_ACTION = "audit.rekey"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@cache
def _snapshot_keys(model: type[Base]) -> tuple[str, ...]:
    """The columns a snapshot of ``model`` holds: not ids, keys or derived search text."""
    skip = {"id", "search_text", "password_hash", "token_hash"}
    return tuple(
        column.key
        for column in inspect(model).column_attrs
        if column.key not in skip and not column.key.endswith("_id")
    )


def snapshot(entity: Base, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The entity's column values as JSON-ready data, for an entry's before / after."""
    return {
        key: _jsonable(getattr(entity, key))
        for key in _snapshot_keys(type(entity))
        if key not in exclude
    }


def snapshot_of(model: type[Base], values: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`snapshot` of a row written as ``values`` (a bulk insert's parameters): the same
    keys, a column missing from ``values`` as ``None``."""
    return {key: _jsonable(values.get(key)) for key in _snapshot_keys(model)}


class AuditChainError(Exception):
    """The chain does not hold together; the message names the first bad entry."""


_HASHED = ("seq", "actor", "action", "entity_type", "entity_id", "case_ref", "before", "after")


def _canonical(entry: AuditEntry | Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash covers; ``entry`` is a row or the values of one to insert."""
    fields = entry if isinstance(entry, Mapping) else {k: getattr(entry, k) for k in _FIELDS}
    payload = {key: fields[key] for key in _HASHED}
    payload["at"] = fields["at"].astimezone(dt.UTC).isoformat()
    payload["prev_hash"] = fields["prev_hash"]
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


_FIELDS = (*_HASHED, "at", "prev_hash")


@dataclass(frozen=True)
class Scheme:
    """How entries are hashed: HMAC-SHA-256 under a key, or (before keys) plain SHA-256."""

    key: bytes | None

    @property
    def key_id(self) -> str:
        """A fingerprint that names the key without revealing it; ``unkeyed`` for plain SHA-256."""
        if self.key is None:
            return "unkeyed"
        return hmac.new(self.key, b"case monitor audit key id", hashlib.sha256).hexdigest()[:16]

    @property
    def label(self) -> str:
        """How reports name the scheme."""
        return "plain SHA-256" if self.key is None else f"HMAC-SHA-256 under key {self.key_id}"

    def digest(self, entry: AuditEntry | Mapping[str, Any]) -> str:
        """The hash this entry (a row, or the values of one to insert) must carry."""
        if self.key is None:
            return hashlib.sha256(_canonical(entry)).hexdigest()
        return hmac.new(self.key, _canonical(entry), hashlib.sha256).hexdigest()


UNKEYED = Scheme(None)  # how chains were hashed before MONITOR_AUDIT_KEY; never accepted now


def keyed(key: str) -> Scheme:
    """The scheme of a key as configured (text)."""
    if not key:
        raise AuditChainError("no audit key: MONITOR_AUDIT_KEY is empty")
    return Scheme(key.encode())


def current_scheme() -> Scheme:
    """HMAC-SHA-256 under this app's ``MONITOR_AUDIT_KEY``."""
    # Read from the app's settings: record() is called by every service, which should not all
    # carry the key; the services run in an app context (request, task or command) anyway.
    return keyed(current_app.config["SETTINGS"].audit_key)


_HEAD_KEY = "monitor.audit.head"


def head_for_update() -> AuditHead:
    """The head row, locked for this transaction (created on the first write)."""
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
    scheme = current_scheme()
    head = head_for_update()
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
    entry.hash = scheme.digest(entry)
    head.seq, head.hash = entry.seq, entry.hash
    if head.key_id is None:  # the key the chain is begun under; only a re-key changes it
        head.key_id = scheme.key_id
    # Written at the next flush (the service's own, or the commit's), so the entries of one
    # operation go to the database together.
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class Planned:
    """An entry to append with :func:`record_many`: :func:`record`'s arguments but the actor."""

    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    case_ref: str | None = None


def record_planned(actor: Actor, planned: Planned) -> AuditEntry:
    """:func:`record` one planned entry."""
    return record(
        actor,
        planned.action,
        planned.entity_type,
        planned.entity_id,
        before=planned.before,
        after=planned.after,
        case_ref=planned.case_ref,
    )


def record_many(actor: Actor, planned: Sequence[Planned]) -> None:
    """Append entries as :func:`record` appends them one by one (the same sequence numbers,
    links and hashes), chained in one pass and written with one multi-row INSERT.

    For bulk writes (an import's rows): each entry still names one change. Mixes with
    :func:`record` in one transaction, both extending the head this transaction holds.
    """
    if not planned:
        return
    scheme = current_scheme()
    head = head_for_update()
    label = actor_label(actor)
    seq, tip = head.seq, head.hash
    rows = []
    for item in planned:
        seq += 1
        row = {
            "seq": seq,
            "at": utcnow(),
            "actor": label,
            "action": item.action,
            "entity_type": item.entity_type,
            "entity_id": item.entity_id,
            "case_ref": item.case_ref,
            "before": item.before,
            "after": item.after,
            "prev_hash": tip,
        }
        row["hash"] = tip = scheme.digest(row)
        rows.append(row)
    head.seq, head.hash = seq, tip
    if head.key_id is None:
        head.key_id = scheme.key_id
    db.session.flush()  # entries appended by record() before these go first
    add_rows(AuditEntry, rows)


_ANCHOR = re.compile(r"^\s*([0-9]{1,12}):([0-9a-f]{64})\s*$")


@dataclass(frozen=True)
class Anchor:
    """A point of the chain: an entry's sequence number and hash, written ``SEQ:HASH``."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read ``SEQ:HASH``; ValueError when it is not that."""
        match = _ANCHOR.match(text.lower())
        if not match or int(match[1]) < 1:
            raise ValueError("a checkpoint is SEQ:HASH, the sequence and the 64 hex digits")
        return cls(int(match[1]), match[2])

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def unkeyed_log() -> bool:
    """Whether the first entry is hashed with plain SHA-256: a log from before keyed hashing."""
    first = db.session.scalars(select(AuditEntry).where(AuditEntry.seq == 1)).first()
    return first is not None and UNKEYED.digest(first) == first.hash


def checkpoint() -> Anchor | None:
    """The chain's head as recorded (not verified here); None while the log is empty."""
    head = db.session.get(AuditHead, 1)
    return Anchor(head.seq, head.hash) if head and head.seq else None


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain; ``head`` is the checkpoint of what was verified."""

    ok: bool
    checked: int
    problem: str | None = None
    head: Anchor | None = None


def verify(since: Anchor | None = None) -> VerifyResult:
    """Walk the whole chain under the configured key; report the first entry edited, deleted,
    out of order or hashed without the key. With ``since``, also that the entry a checkpoint
    names still has the hash recorded then (so nothing up to it was rewritten)."""
    scheme = current_scheme()
    head = db.session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    walk = _Walk(scheme, head.key_id if head else None, since.seq if since else None)
    # Stream in batches (the log grows without bound) and close the server-side cursor even
    # when stopping at the first bad entry.
    entries = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    try:
        problem = walk.run(entries)
    finally:
        entries.close()
    if problem:
        return VerifyResult(False, walk.checked, problem)
    if head_seq != walk.checked or head_hash != walk.tip:
        return VerifyResult(
            False,
            walk.checked,
            f"entry #{walk.checked + 1} and later are missing: the chain head records "
            f"{head_seq} entries but {walk.checked} remain",
        )
    if since is not None and (problem := _since_problem(since, walk)):
        return VerifyResult(False, walk.checked, problem)
    return VerifyResult(True, walk.checked, head=Anchor(head_seq, head_hash) if head_seq else None)


def _since_problem(since: Anchor, walk: _Walk) -> str | None:
    if walk.anchored is None:
        return (
            f"the checkpoint names entry #{since.seq} but the log holds {walk.checked}: "
            "entries were deleted since the checkpoint"
        )
    if hmac.compare_digest(walk.anchored, since.hash):
        return None
    problem = (
        f"entry #{since.seq} no longer has the checkpoint's hash: the log up to it was "
        "rewritten since the checkpoint"
    )
    rekeyed = db.session.scalars(
        select(AuditEntry.seq)
        .where(AuditEntry.action == REKEY_ACTION, AuditEntry.seq > since.seq)
        .order_by(AuditEntry.seq)
    ).first()
    if rekeyed is not None:
        problem += (
            f", or chained again by the re-key at entry #{rekeyed} (checkpoints taken before a "
            "re-key no longer match; that entry records the head it replaced)"
        )
    return problem


class _Walk:
    """Walks entries in order, checking numbering, links and hashes."""

    def __init__(self, scheme: Scheme, recorded_key_id: str | None, anchor_seq: int | None):
        self.scheme = scheme
        self.recorded_key_id = recorded_key_id
        self.anchor_seq = anchor_seq
        self.checked = 0
        self.tip = GENESIS
        self.anchored: str | None = None  # the hash of the entry at anchor_seq, once seen

    def run(self, entries: Iterable[AuditEntry]) -> str | None:
        """The first problem, or None when every entry holds."""
        for entry in entries:
            expected_seq = self.checked + 1
            if entry.seq != expected_seq:
                return f"entry #{expected_seq} is missing (next found is #{entry.seq})"
            if entry.prev_hash != self.tip:
                return f"entry #{entry.seq} does not follow entry #{entry.seq - 1}"
            if not hmac.compare_digest(self.scheme.digest(entry), entry.hash):
                return self._unkeyed_or_altered(entry)
            if entry.seq == self.anchor_seq:
                self.anchored = entry.hash
            self.tip = entry.hash
            self.checked += 1
        return None

    def _unkeyed_or_altered(self, entry: AuditEntry) -> str:
        label = f"entry #{entry.seq} ({entry.action} {entry.entity_type} {entry.entity_id})"
        if UNKEYED.digest(entry) == entry.hash:
            if entry.seq == 1:
                return (
                    f"{label} is hashed without the audit key (plain SHA-256): a log written "
                    "before keyed hashing must be chained under MONITOR_AUDIT_KEY once, with "
                    "`monitor audit rekey --from-unkeyed`; if it was keyed before, someone "
                    "without the key rewrote it"
                )
            return (
                f"{label} was rewritten without the audit key: its hash is plain SHA-256, "
                "not HMAC-SHA-256 under MONITOR_AUDIT_KEY"
            )
        recorded = self.recorded_key_id
        if entry.seq == 1 and recorded and recorded != self.scheme.key_id:
            return (
                f"{label} does not match MONITOR_AUDIT_KEY: the log names key {recorded}, the "
                f"configured key is {self.scheme.key_id} (configure the log's key, or re-key "
                "with `monitor audit rekey --previous-key-file`)"
            )
        return f"{label} was altered: its content no longer matches its hash"


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


@dataclass(frozen=True)
class HistoryLine:
    """One entry of a case's history as a reader sees it."""

    at: dt.datetime
    by: str
    what: str


@dataclass(frozen=True)
class CaseHistory:
    """A case's history, newest first: its edits, and apart from them who took its data away
    (dossiers requested, made and downloaded)."""

    edits: list[HistoryLine]
    access: list[HistoryLine]

    def __bool__(self) -> bool:
        return bool(self.edits or self.access)


def case_history(case_ref: str, limit: int = 200) -> CaseHistory:
    """The case's audit entries in plain words, actors by name: one query, whatever its length."""
    edits: list[HistoryLine] = []
    access: list[HistoryLine] = []
    for row in column_rows(_CASE_HISTORY, {"case_ref": case_ref, "limit": limit}):
        line = HistoryLine(
            at=row.at,
            by=history_wording.actor_text(row.actor, row.name or row.email),
            what=history_wording.entry_text(row.action, row.before, row.after),
        )
        (access if row.action in history_wording.ACCESS_ACTIONS else edits).append(line)
    return CaseHistory(edits, access)


# Built once, like _HISTORY; a user's name rides along (an actor is logged by email).
_CASE_HISTORY = (
    select(
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.before,
        AuditEntry.after,
        User.name,
        User.email,
    )
    .outerjoin(User, User.email == AuditEntry.actor)
    .where(AuditEntry.case_ref == bindparam("case_ref"))
    .order_by(AuditEntry.seq.desc())
    .limit(bindparam("limit", type_=Integer))
)
