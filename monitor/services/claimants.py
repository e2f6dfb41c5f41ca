"""Who holds a claim, and whether that process still lives: fast recovery after a crash.

Every claim — an alert delivery's lease, a dossier ``rendering``, an import ``running`` — names
its claimant (:func:`label`): the Celery node, a token drawn anew each time the worker starts
(a restarted worker usually keeps its node name), the claiming process's pid and start time, and
the machine, meaning the processes that see the same pids (Linux boot id + pid namespace).

:func:`gone` decides which claimants are dead, from two kinds of evidence:

- **here**: a claimant on this machine is alive while its pid runs with the same start time
  (exact; the embedded broker's only evidence, as it cannot broadcast);
- **census**: the runs that answered a broadcast just now (``workers.recovery``). A claimant
  whose node did not answer, answered as another run (restarted) or without the claiming process
  among its pool processes is gone. Only claimants whose node answers while busy take part
  (prefork and threads pools; a solo pool answers nothing while it runs a task).

A claimant is gone when some evidence says so and none says it lives; with no evidence at all
(another machine and no census) its claim runs out as before. Wrongly declaring a live worker
dead would send its alerts twice, so every doubt keeps the claim.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Claim columns are String(255); a label that would not fit names no node (and so is never
# judged by a census, which could not find a truncated node name).
LABEL_LENGTH = 255
_NONE = "-"
_ANSWERS = "census"


@dataclass(frozen=True)
class Claimant:
    """One process that may hold claims, as recorded in them."""

    node: str | None  # Celery node name, e.g. ``celery@worker-3``; None outside a worker
    run: str  # drawn anew each time the worker (or this process) starts
    pid: int
    since: int | None  # the process's start time, in clock ticks after boot (Linux)
    machine: str | None  # boot id and pid namespace: who can look the pid up
    answers: bool  # its node answers a census even while it works

    def label(self) -> str:
        """The claimant as stored in a claim column."""
        text = " ".join(
            [
                self.node or _NONE,
                self.run,
                str(self.pid),
                _NONE if self.since is None else str(self.since),
                self.machine or _NONE,
                _ANSWERS if self.answers else _NONE,
            ]
        )
        if len(text) > LABEL_LENGTH and self.node is not None:
            # (When the machine is present it is a fixed 36 + 1 + 10 characters or so.)
            return Claimant(None, self.run, self.pid, self.since, self.machine, False).label()
        return text

    @classmethod
    def parse(cls, label: str | None) -> Claimant | None:
        """A stored label read back; None for anything else."""
        parts = (label or "").split(" ")
        if len(parts) != 6 or not parts[2].isdigit():
            return None
        node, run, pid, since, machine, answers = parts
        return cls(
            node=None if node == _NONE else node,
            run=run,
            pid=int(pid),
            since=int(since) if since.isdigit() else None,
            machine=None if machine == _NONE else machine,
            answers=answers == _ANSWERS,
        )


@dataclass
class _ThisProcess:
    node: str | None = None
    run: str = secrets.token_hex(6)
    answers: bool = False


_this = _ThisProcess()


def enroll(node: str, *, answers_census: bool) -> str:
    """Make this worker's claims carry its node; call once as the worker starts.

    Returns the new run token (prefork children inherit it with the node).
    """
    _this.node, _this.answers = node, answers_census
    _this.run = secrets.token_hex(6)
    return _this.run


def current() -> Claimant:
    """This process, as a claimant."""
    pid = os.getpid()
    return Claimant(_this.node, _this.run, pid, _started(pid), machine(), _this.answers)


def label() -> str:
    """This process's label, to store in a claim it takes."""
    return current().label()


def run() -> tuple[str | None, str]:
    """This process's node and run token, as a census reports it."""
    return _this.node, _this.run


_machine: list[str | None] = []


def machine() -> str | None:
    """Who can look this process's pids up: Linux boot id and pid namespace (None elsewhere)."""
    if not _machine:
        try:
            boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
            namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
        except OSError:
            _machine.append(None)
        else:
            digits = "".join(ch for ch in namespace if ch.isdigit())
            _machine.append(f"{boot}/{digits}" if boot and digits else None)
    return _machine[0]


def _started(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot); None if it is not running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) < 20 or fields[0] in {"Z", "X", "x"}:  # a zombie has finished its work
        return None
    return int(fields[19])


@dataclass(frozen=True)
class Run:
    """One worker start that answered a census: its token and its processes (pool children)."""

    run: str | None  # None: a worker that answered without a token (unknown version)
    pids: frozenset[int]


# Node name → the runs that answered under it (normally one; two if a name is used twice).
Census = Mapping[str, Sequence[Run]]


def gone(labels: Iterable[str], census: Census | None) -> set[str]:
    """The labels whose claimant is dead, by the evidence of this machine and of ``census``.

    ``census`` None: no census could be taken, or it cannot be trusted (the caller's own run
    did not answer).
    """
    here = machine()
    dead = set()
    for text in labels:
        owner = Claimant.parse(text)
        if owner is None:
            continue
        verdicts = [
            verdict
            for verdict in (_gone_here(owner, here), _gone_by_census(owner, census))
            if verdict is not None
        ]
        if verdicts and all(verdicts):
            dead.add(text)
    return dead


def _gone_here(owner: Claimant, here: str | None) -> bool | None:
    if here is None or owner.machine != here or owner.since is None:
        return None
    return _started(owner.pid) != owner.since


def _gone_by_census(owner: Claimant, census: Census | None) -> bool | None:
    if census is None or owner.node is None or not owner.answers:
        return None
    runs = census.get(owner.node, ())
    if any(answer.run is None for answer in runs):
        return None
    same = [answer for answer in runs if answer.run == owner.run]
    if not same:
        return True  # the node did not answer, or it was started again since
    pids = frozenset().union(*(answer.pids for answer in same))
    # Its node lives on but the claiming process is no longer among its pool's processes: a
    # child killed (hard time limit, out of memory) and replaced.
    return bool(pids) and owner.pid not in pids
