"""The audit chain is keyed (HMAC-SHA-256 under MONITOR_AUDIT_KEY) and anchored by checkpoints.

The attacker here has write access to the database and the code, but not the key: they edit an
entry and recompute every later hash, as a script did against the plain SHA-256 chain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, select, update

from monitor.extensions import db
from monitor.models import AuditEntry, AuditHead
from monitor.services import audit, seed
from tests.support.accounts import client_for, make_user

OTHER_KEY = "another-audit-key-that-is-also-long-enough-42"


def _cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", *args])
    db.session.expire_all()
    return result.exit_code, result.output  # stdout and stderr, as a terminal shows them


def _payload(entry: AuditEntry, prev_hash: str) -> bytes:
    """What an entry's hash covers, written out as the attacker reads it in the source."""
    return json.dumps(
        {
            "seq": entry.seq,
            "at": entry.at.astimezone(dt.UTC).isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": entry.entity_id,
            "case_ref": entry.case_ref,
            "before": entry.before,
            "after": entry.after,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _recompute(start: int, key: bytes | None = None) -> None:
    """Rewrite the hashes from entry ``start`` on, and the head: plain SHA-256 without a key,
    HMAC-SHA-256 with one."""
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    prev = entries[start - 2].hash if start > 1 else "0" * 64
    for entry in entries[start - 1 :]:
        payload = _payload(entry, prev)
        digest = (
            hmac.new(key, payload, hashlib.sha256).hexdigest()
            if key
            else hashlib.sha256(payload).hexdigest()
        )
        db.session.execute(
            update(AuditEntry).where(AuditEntry.id == entry.id).values(prev_hash=prev, hash=digest)
        )
        prev = digest
    db.session.execute(update(AuditHead).values(seq=entries[-1].seq, hash=prev))
    db.session.commit()


def _tamper(seq: int, actor: str = "mallory") -> None:
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(actor=actor))
    db.session.commit()


@pytest.fixture
def logged(app: Flask) -> int:
    """The demo's writes in the log; the number of entries."""
    seed.seed_demo("editor@example.org")
    db.session.commit()
    return db.session.scalar(select(AuditHead.seq)) or 0


@pytest.fixture
def other_key(app: Flask) -> Iterator[None]:
    """The app configured with another MONITOR_AUDIT_KEY for the duration of the block."""
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings, audit_key=OTHER_KEY)
    yield
    app.config["SETTINGS"] = settings


def test_entries_are_hmac_sha256_under_the_configured_key(app: Flask, logged: int) -> None:
    key = app.config["SETTINGS"].audit_key.encode()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    for entry in entries:
        expected = hmac.new(key, _payload(entry, entry.prev_hash), hashlib.sha256).hexdigest()
        assert entry.hash == expected
        assert entry.hash != hashlib.sha256(_payload(entry, entry.prev_hash)).hexdigest()
    head = db.session.get(AuditHead, 1)
    assert head is not None
    assert head.key_id == audit.current_scheme().key_id
    assert key.decode() not in (head.key_id or "")
    assert _cli(app, "verify") == (0, f"audit log intact: {logged} entries\n")


def test_a_chain_recomputed_without_the_key_fails_at_the_edited_entry(
    app: Flask, logged: int
) -> None:
    _tamper(5)
    _recompute(5)  # every hash from #5 on agrees again, as plain SHA-256 did after an edit
    code, output = _cli(app, "verify")
    assert code == 1
    assert "audit log broken after 4 good entries" in output
    assert "entry #5 (" in output
    assert "rewritten without the audit key" in output


def test_a_chain_recomputed_under_a_guessed_key_fails_at_the_edited_entry(
    app: Flask, logged: int
) -> None:
    _tamper(7)
    _recompute(7, key=b"a guess at the key")
    code, output = _cli(app, "verify")
    assert code == 1
    assert "entry #7 (" in output
    assert "was altered" in output


def test_a_log_verified_with_another_key_names_the_mismatch(
    app: Flask, logged: int, other_key: None
) -> None:
    code, output = _cli(app, "verify")
    assert code == 1
    assert "entry #1" in output
    assert "does not match MONITOR_AUDIT_KEY" in output


def test_checkpoint_prints_the_head_and_proves_nothing_before_it_changed(
    app: Flask, logged: int
) -> None:
    code, output = _cli(app, "checkpoint")
    assert code == 0, output
    line = output.splitlines()[0]
    head = db.session.get(AuditHead, 1)
    assert head is not None
    assert line == f"{logged}:{head.hash}"
    assert f"monitor audit verify --since-checkpoint {line}" in output
    # The log grows after the checkpoint; the checkpoint still holds.
    make_user("viewer", "public", "later@example.org")
    assert (db.session.scalar(select(AuditHead.seq)) or 0) > logged
    code, output = _cli(app, "verify", "--since-checkpoint", line)
    assert code == 0, output
    assert f"unchanged since checkpoint {line}" in output
    # Someone holding the key rewrites an entry before the checkpoint: the chain verifies
    # again, the checkpoint does not.
    _tamper(3)
    _recompute(3, key=app.config["SETTINGS"].audit_key.encode())
    assert _cli(app, "verify")[0] == 0
    code, output = _cli(app, "verify", "--since-checkpoint", line)
    assert code == 1
    assert f"entry #{logged} no longer has the checkpoint's hash" in output


def test_a_checkpoint_beyond_the_log_reveals_deleted_entries(app: Flask, logged: int) -> None:
    _, output = _cli(app, "checkpoint")
    line = output.splitlines()[0]
    # The newest entries deleted and the head moved back, so the chain itself is consistent.
    db.session.execute(delete(AuditEntry).where(AuditEntry.seq > logged - 3))
    _recompute(logged - 3, key=app.config["SETTINGS"].audit_key.encode())
    assert _cli(app, "verify")[0] == 0
    code, output = _cli(app, "verify", "--since-checkpoint", line)
    assert code == 1
    assert f"the checkpoint names entry #{logged} but the log holds {logged - 3}" in output


@pytest.mark.parametrize("bad", ["12", "x:" + "0" * 64, "3:abc", "0:" + "0" * 64])
def test_a_malformed_checkpoint_is_a_usage_error(app: Flask, logged: int, bad: str) -> None:
    code, output = _cli(app, "verify", "--since-checkpoint", bad)
    assert code == 2
    assert "SEQ:HASH" in output


def test_checkpoint_of_a_broken_log_is_refused(app: Flask, logged: int) -> None:
    _tamper(2)
    code, output = _cli(app, "checkpoint")
    assert code == 1
    assert "entry #2" in output
    assert not re.search(r"[0-9]+:[0-9a-f]{64}", output)  # no checkpoint of a broken chain


def _legacy_log() -> None:
    """The log as an older version left it: plain SHA-256 hashes, no key named on the head."""
    _recompute(1)
    db.session.execute(update(AuditHead).values(key_id=None))
    db.session.commit()


def test_a_log_from_before_keys_is_rekeyed_once_with_a_recorded_event(
    app: Flask, logged: int
) -> None:
    _legacy_log()
    old_head = db.session.get(AuditHead, 1)
    assert old_head is not None
    old = f"{old_head.seq}:{old_head.hash}"
    code, output = _cli(app, "verify")
    assert code == 1
    assert "monitor audit rekey --from-unkeyed" in output
    # Without the flag, plain SHA-256 entries are refused: a rewrite is never laundered.
    code, output = _cli(app, "rekey")
    assert code == 1
    assert "entry #1" in output
    assert "nothing was re-keyed" in output

    code, output = _cli(app, "rekey", "--from-unkeyed")
    assert code == 0, output
    assert f"{logged} entries were under plain SHA-256" in output
    assert f"the head was {old}" in output
    code, output = _cli(app, "verify")
    assert (code, output) == (0, f"audit log intact: {logged + 1} entries\n")
    event = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert event is not None
    assert (event.action, event.actor, event.seq) == ("audit.rekey", "cli", logged + 1)
    assert event.before == {"schemes": {"plain SHA-256": logged}, "head": old}
    assert event.after is not None
    assert event.after["key_id"] == audit.current_scheme().key_id
    # A second run has nothing to do.
    assert _cli(app, "rekey", "--from-unkeyed") == (
        0,
        f"audit log already chained under this key: {logged + 1} entries\n",
    )


def test_a_tampered_legacy_log_is_not_rekeyed(app: Flask, logged: int) -> None:
    _legacy_log()
    _tamper(6)
    before = db.session.scalars(select(AuditEntry.hash).order_by(AuditEntry.seq)).all()
    code, output = _cli(app, "rekey", "--from-unkeyed")
    assert code == 1
    assert "entry #6 (" in output
    assert "nothing was re-keyed" in output
    assert db.session.scalars(select(AuditEntry.hash).order_by(AuditEntry.seq)).all() == before


def test_rotating_the_key_rechains_under_the_new_one(
    app: Flask, logged: int, tmp_path: Path
) -> None:
    old_key = tmp_path / "old_audit_key"
    old_key.write_text(app.config["SETTINGS"].audit_key + "\n")
    _, output = _cli(app, "checkpoint")
    before_rotation = output.splitlines()[0]
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings, audit_key=OTHER_KEY)
    try:
        # Written under the new key after it was configured, before the re-key ran.
        make_user("viewer", "public", "rotated@example.org")
        code, output = _cli(app, "verify")
        assert code == 1
        assert "entry #1" in output
        assert "does not match MONITOR_AUDIT_KEY" in output
        assert _cli(app, "rekey")[0] == 1  # the old key is needed to check the old entries
        code, output = _cli(app, "rekey", "--previous-key-file", str(old_key))
        assert code == 0, output
        code, output = _cli(app, "verify")
        assert code == 0, output
        # A checkpoint taken before the rotation no longer matches, and says why.
        code, output = _cli(app, "verify", "--since-checkpoint", before_rotation)
        assert code == 1
        assert "re-key at entry #" in output
    finally:
        app.config["SETTINGS"] = settings
    # The old key no longer verifies the log.
    assert _cli(app, "verify")[0] == 1


def test_rekey_refuses_a_log_whose_newest_entries_were_deleted(app: Flask, logged: int) -> None:
    db.session.execute(delete(AuditEntry).where(AuditEntry.seq == logged))
    db.session.commit()
    code, output = _cli(app, "rekey")
    assert code == 1
    assert f"entry #{logged} and later are missing" in output


def test_the_dashboard_shows_admins_the_checkpoint_the_command_prints(
    app: Flask, logged: int
) -> None:
    admin = client_for(app, "admin", "public")
    others = [client_for(app, role, "confidential") for role in ("editor", "viewer")]
    _, output = _cli(app, "checkpoint")  # after the accounts were made (they are audited)
    line = output.splitlines()[0]
    admin_page = admin.get("/").get_data(as_text=True)
    assert f'<code class="secret-value" id="checkpoint">{line}</code>' in admin_page
    for other in others:
        page = other.get("/").get_data(as_text=True)
        assert "checkpoint" not in page
        assert line.split(":")[1] not in page


def test_make_run_rekeys_a_development_log_from_before_keys(app: Flask, logged: int) -> None:
    _legacy_log()
    result = app.test_cli_runner().invoke(args=["dev-setup"])
    db.session.expire_all()
    assert result.exit_code == 0, result.output
    assert "chained the audit log under instance/audit_key" in result.output
    assert _cli(app, "verify")[0] == 0
    again = app.test_cli_runner().invoke(args=["dev-setup"])
    assert "chained the audit log" not in again.output


def test_entries_written_after_the_upgrade_before_the_rekey_are_kept(
    app: Flask, logged: int
) -> None:
    _legacy_log()
    make_user("viewer", "public", "meanwhile@example.org")  # keyed, on top of the plain ones
    total = db.session.scalar(select(AuditHead.seq)) or 0
    assert total > logged
    code, output = _cli(app, "rekey", "--from-unkeyed")
    assert code == 0, output
    assert f"{logged} entries were under plain SHA-256" in output
    key_id = audit.current_scheme().key_id
    assert f"{total - logged} entries were under HMAC-SHA-256 under key {key_id}" in output
    assert _cli(app, "verify") == (0, f"audit log intact: {total + 1} entries\n")


def test_plain_entries_after_keyed_ones_are_refused_by_rekey(app: Flask, logged: int) -> None:
    _tamper(9)
    _recompute(9)  # the attacker's rewrite: plain SHA-256 after keyed entries
    code, output = _cli(app, "rekey", "--from-unkeyed")
    assert code == 1
    assert "entry #9 (" in output
    assert "holds under none of" in output
