"""Who holds a claim and whether that process lives (services.claimants), and what a recovery
hands back of a dead claimant's dossiers and imports (services.recovery)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import select

from monitor import jobs
from monitor.extensions import db
from monitor.models import Dossier, Import, User
from monitor.services import claimants, recovery
from monitor.services.claimants import Claimant, Run
from tests.support.accounts import make_user
from tests.support.processes import claimant_process

# A worker's child process on another machine: only a census can tell whether it lives.
ELSEWHERE = Claimant("worker@elsewhere", "run1", 101, 5000, "another-boot/4026531836", True)


def test_this_process_is_a_live_claimant_and_its_label_reads_back() -> None:
    me = claimants.current()
    assert Claimant.parse(me.label()) == me
    assert me.machine is not None, "Linux: the boot id and pid namespace are readable"
    assert me.since is not None
    assert claimants.gone({me.label()}, None) == set()
    # A census none answers says nothing about a process that is not a worker's.
    assert claimants.gone({me.label()}, {}) == set()


def test_a_claimant_on_this_machine_is_gone_once_its_process_has_ended() -> None:
    with claimant_process() as (label, end):
        owner = Claimant.parse(label)
        assert owner is not None
        assert owner.machine == claimants.machine()
        assert claimants.gone({label}, None) == set()
        # The same pid started at another time is another process: its claimant is gone.
        assert owner.since is not None
        reused = replace(owner, since=owner.since - 1).label()
        assert claimants.gone({reused}, None) == {reused}
        end()
        assert claimants.gone({label}, None) == {label}


@pytest.mark.parametrize(
    ("census", "gone"),
    [
        ({"worker@elsewhere": [Run("run1", frozenset({100, 101}))]}, False),
        ({}, True),  # its node did not answer
        ({"worker@elsewhere": [Run("run2", frozenset({100, 101}))]}, True),  # started again
        ({"worker@elsewhere": [Run("run1", frozenset({100, 102}))]}, True),  # child replaced
        ({"worker@elsewhere": [Run("run1", frozenset())]}, False),  # no processes listed
        ({"worker@elsewhere": [Run(None, frozenset({100}))]}, False),  # answered, no token
        (
            {"worker@elsewhere": [Run("run2", frozenset({7})), Run("run1", frozenset({101}))]},
            False,  # one node name used by two workers: one of them is the claimant
        ),
        (None, False),  # no census to be trusted
    ],
)
def test_a_census_decides_for_a_claimant_elsewhere(
    census: claimants.Census | None, gone: bool
) -> None:
    label = ELSEWHERE.label()
    assert claimants.gone({label}, census) == ({label} if gone else set())


def test_silence_proves_nothing_about_claimants_a_census_cannot_hear() -> None:
    solo = replace(ELSEWHERE, answers=False).label()  # a solo pool: silent while it works
    cli = replace(ELSEWHERE, node=None, answers=False).label()  # not a worker at all
    assert claimants.gone({solo, cli, "not a label", ""}, {}) == set()


def test_the_live_process_here_outweighs_a_silent_census() -> None:
    me = claimants.current()
    as_worker = replace(me, node="worker@here", answers=True).label()
    assert claimants.gone({as_worker}, {}) == set()
    with claimant_process() as (label, end):
        owner = Claimant.parse(label)
        assert owner is not None
        dead_worker = replace(owner, node="worker@here", answers=True)
        end()
        heard = {"worker@here": [Run(dead_worker.run, frozenset({dead_worker.pid}))]}
        # The process is gone here, yet a census heard it: a contradiction keeps the claim.
        assert claimants.gone({dead_worker.label()}, heard) == set()
        assert claimants.gone({dead_worker.label()}, {}) == {dead_worker.label()}


def test_a_label_too_long_for_its_column_names_no_node() -> None:
    long = replace(ELSEWHERE, node="w@" + "h" * 300)
    parsed = Claimant.parse(long.label())
    assert parsed is not None
    assert len(long.label()) <= claimants.LABEL_LENGTH
    assert (parsed.node, parsed.answers, parsed.pid) == (None, False, ELSEWHERE.pid)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[jobs.QueuedTask]:
    """The tasks published after each commit (recorded, not sent)."""
    published: list[jobs.QueuedTask] = []

    def record(task: jobs.QueuedTask) -> bool:
        published.append(task)
        return True

    monkeypatch.setattr(jobs, "send_now", record)
    return published


def _dossier(requester: User, state: str, attempts: int, claimed_by: str | None) -> Dossier:
    row = Dossier(
        requested_by=requester,
        kind="case",
        scope={"case_id": "x"},
        state=state,
        progress=40,
        attempts=attempts,
        claimed_by=claimed_by,
    )
    db.session.add(row)
    return row


def _import(requester: User, state: str, claimed_by: str | None, name: str) -> Import:
    row = Import(
        requested_by=requester,
        filename=f"{name}.csv",
        content=b"x",
        sha256=hashlib.sha256(b"x").hexdigest(),
        rows=300,
        state=state,
        claimed_by=claimed_by,
    )
    db.session.add(row)
    return row


def test_a_dead_claimants_renders_and_imports_are_queued_again_and_no_others(
    app: Flask, sent: list[jobs.QueuedTask]
) -> None:
    live = claimants.label()
    editor = make_user("editor", "confidential")
    with claimant_process() as (dead, end):
        end()
        orphan = _dossier(editor, "rendering", 1, dead)
        last_try = _dossier(editor, "rendering", 3, dead)  # MAX_ATTEMPTS renders never finished
        rendering = _dossier(editor, "rendering", 1, live)
        unclaimed = _dossier(editor, "rendering", 1, None)  # claimed before claims had names
        lost = _import(editor, "running", dead, "lost")
        running = _import(editor, "running", live, "running")
        done = _import(editor, "done", dead, "done")
        waiting = _dossier(editor, "queued", 0, None)  # its message may have died with it too
        db.session.commit()

        held = recovery.holders()
        assert held == {dead, live}
        gone = claimants.gone(held, None)
        assert gone == {dead}
        released = recovery.release(gone, app.config["SETTINGS"])
        db.session.commit()

    assert released == recovery.Released(dossiers=1, dossiers_failed=1, imports=1, resent=1)
    db.session.expire_all()
    assert (orphan.state, orphan.progress) == ("queued", 0)
    assert last_try.state == "failed"
    assert last_try.error is not None
    assert "gave up after 3 attempts" in last_try.error
    assert [(d.state, d.progress) for d in (rendering, unclaimed)] == [("rendering", 40)] * 2
    assert (lost.state, lost.progress) == ("queued", 0)
    assert (running.state, done.state) == ("running", "done")
    assert sorted((task.name, task.args) for task in sent) == sorted(
        [
            (jobs.TaskName.DOSSIERS_RENDER, (orphan.public_id,)),
            (jobs.TaskName.DOSSIERS_RENDER, (waiting.public_id,)),
            (jobs.TaskName.IMPORTS_APPLY, (lost.public_id,)),
        ]
    )

    # A second recovery finds nothing more to hand back.
    sent.clear()
    assert recovery.holders() == {live}
    again = recovery.release(gone, app.config["SETTINGS"])
    assert (again.dossiers, again.dossiers_failed, again.imports) == (0, 0, 0)
    assert db.session.scalars(select(Dossier.state).where(Dossier.id == orphan.id)).one() == (
        "queued"
    )
