"""Chaining the audit log again under the configured key: the upgrade from plain SHA-256 chains,
and key rotation.

Why a command rather than a migration: it needs ``MONITOR_AUDIT_KEY``, which a schema migration
should not depend on, and it must refuse a log that does not verify under its old scheme (re-keying
a tampered log would launder the tampering), a refusal someone has to read. The log is re-chained,
not left half in the old scheme, so verifying has one rule and never accepts an unkeyed hash;
the re-key itself is an entry of the new chain recording the head it replaced.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from monitor.extensions import db
from monitor.models import AuditEntry
from monitor.services import Actor
from monitor.services.audit import (
    GENESIS,
    REKEY_ACTION,
    UNKEYED,
    Anchor,
    AuditChainError,
    Scheme,
    current_scheme,
    head_for_update,
    keyed,
    record,
)

BATCH = 1000


@dataclass(frozen=True)
class RekeyResult:
    """What a re-key found and did."""

    entries: int
    found: dict[str, int]  # entries per scheme they were hashed with, by the scheme's label
    replaced: Anchor | None  # the head before
    head: Anchor | None  # the head after, the re-key's own entry included
    changed: bool


def rekey(
    actor: Actor, *, previous_key: str | None = None, from_unkeyed: bool = False
) -> RekeyResult:
    """Check every entry under the schemes allowed, then chain them all under the configured key
    and append an ``audit.rekey`` entry; flushes, never commits (all or nothing).

    An entry may be hashed with plain SHA-256 (only ``from_unkeyed``), with ``previous_key``, or
    with the configured key, in that order along the chain (entries written after the key was
    changed, before this ran, are under the new one). Anything else raises
    :class:`AuditChainError` naming the first entry that holds under none, and nothing changes.
    """
    current = current_scheme()
    allowed = [UNKEYED] if from_unkeyed else []
    if previous_key:
        allowed.append(keyed(previous_key))
    allowed.append(current)
    head = head_for_update()
    walk = _Rechain(allowed, current)
    last = 0
    while batch := list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(BATCH)
        )
    ):
        for entry in batch:
            walk.step(entry)
        last = batch[-1].seq
        db.session.flush()
        for entry in batch:  # keeps memory flat on a long log
            db.session.expunge(entry)
    count = walk.expected_seq - 1
    if (head.seq, head.hash) != (count, walk.old_tip):
        raise AuditChainError(
            f"entry #{count + 1} and later are missing: the chain head records {head.seq} "
            f"entries but {count} remain; nothing was re-keyed"
        )
    replaced = Anchor(head.seq, head.hash) if count else None
    found = {scheme.label: n for scheme, n in walk.found.items()}
    if set(walk.found) <= {current}:
        return RekeyResult(count, found, replaced, replaced, changed=False)
    head.seq, head.hash, head.key_id = count, walk.new_tip, current.key_id
    entry = record(
        actor,
        REKEY_ACTION,
        "audit_log",
        "chain",
        before={"schemes": found, "head": str(replaced) if replaced else None},
        after={"scheme": current.label, "key_id": current.key_id, "entries": count},
    )
    db.session.flush()
    return RekeyResult(count, found, replaced, Anchor(entry.seq, entry.hash), changed=True)


class _Rechain:
    """Checks each entry against the old chain and rewrites its link and hash under the key."""

    def __init__(self, allowed: list[Scheme], current: Scheme) -> None:
        self.allowed = allowed
        self.current = current
        self.floor = 0  # schemes only move forward along the chain
        self.expected_seq = 1
        self.old_tip = GENESIS
        self.new_tip = GENESIS
        self.found: Counter[Scheme] = Counter()

    def step(self, entry: AuditEntry) -> None:
        label = f"entry #{entry.seq} ({entry.action} {entry.entity_type} {entry.entity_id})"
        if entry.seq != self.expected_seq:
            raise AuditChainError(
                f"entry #{self.expected_seq} is missing (next found is #{entry.seq}); "
                "nothing was re-keyed"
            )
        if entry.prev_hash != self.old_tip:
            raise AuditChainError(
                f"entry #{entry.seq} does not follow entry #{entry.seq - 1}; nothing was re-keyed"
            )
        for index in range(self.floor, len(self.allowed)):
            if self.allowed[index].digest(entry) == entry.hash:
                self.floor = index
                break
        else:
            tried = ", ".join(s.label for s in self.allowed[self.floor :])
            raise AuditChainError(
                f"{label} holds under none of {tried}: it was altered, or it is under a key not "
                "given; nothing was re-keyed"
            )
        self.found[self.allowed[self.floor]] += 1
        self.old_tip = entry.hash
        entry.prev_hash = self.new_tip
        entry.hash = self.current.digest(entry)
        self.new_tip = entry.hash
        self.expected_seq += 1
